/* bench_commands.c: durable commands per second through a service.
 *
 * --clients clients, each with its own DEALER (crm_client_t, its own CURVE
 * session), send commands back to back, a fresh idempotency key each, and
 * wait for every reply before the next: one command in flight per client.
 * One thread drives them all, polling the DEALERs' ZMQ_FDs, so the program
 * spends its CPU on the requests and replies rather than on waking 32
 * threads in turn: on the 2-core machine it shares the cores with the
 * service it measures (bench/README, "Issue 15: where the probe's CPU goes").
 * --command chooses the command: "probe.record" (the
 * default, against crm-probe) or "sales.person.register" (against the real
 * crm-sales: a new person with a name, a unique email and a phone each time,
 * so every command validates, looks the email up, inserts the person and
 * its contact rows and emits crm.sales.person.registered.v1), "sales.order.create" (an order
 * of one item) or "sales.activity.log" (a call logged), both for a person each client
 * registers first, or "support.ticket.open" (against the real crm-support: a ticket from
 * a new requester email each time, so support registers the requester with the ticket).
 * A reply with status ok means the
 * command's row, event and idempotency record are committed, so the figure
 * is acknowledged durable commands per second, the whole path included:
 * framing, batching, PostgreSQL and the reply. Each reply is matched to its
 * request by request_id and counted by its status.
 *
 * With --rate R the clients together offer R commands/s, each sending on its own
 * schedule (R / clients per second) instead of back to back; a command's latency counts
 * from when it was due, so a client held up does not hide the wait. A client sends each
 * command when it is due even while earlier ones wait for their replies (up to
 * S_MAX_FLIGHT in flight), as crm-bench-latency does: with one in flight, a reply later
 * than the client's interval delayed every following command of that client until it
 * had caught up, back to back, and each of those counted the debt (bench/README,
 * "Issue 15: backbone latency, bb19 (tenth session)").
 *
 * With --metrics-port the service's /metrics is read at the start and the
 * end of the measured window, to report how the service batched the load
 * (mean commands per transaction) and its own receive-to-reply latency.
 *
 * Usage: crm-bench-commands --endpoint tcp://127.0.0.1:P [--clients 32]
 *          [--seconds 10] [--warmup 1] [--count 1] [--metrics-port N]
 *          [--rate R] [--command probe.record|sales.person.register|
 *          sales.order.create|sales.activity.log|support.ticket.open]
 * Prints one JSON object on stdout. */
#include "bench_util.h"

#include <crm/client.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

#include "crm/v1/sales.pb-c.h"
#include "crm/v1/support.pb-c.h"
#include "crm/v1/testing.pb-c.h"

#define S_PROG "bench-commands"
#define S_TIMEOUT_NS (10 * 1000000000LL) /* per attempt, as crm_client_call's 10 s */
#define S_ATTEMPTS 3
#define S_MAX_FLIGHT 32 /* commands in flight per client with --rate */

typedef struct {
    const char *endpoint;
    const char *server; /* its name in the directory of principals */
    const char *command;
    int count;
    double rate; /* commands/s offered by all clients together; 0: back to back */
    int n_clients;
    /* Distinguishes the emails of one run from those of an earlier run
     * against the same database. */
    long long run_tag;
    int person, order, activity, ticket; /* which --command */
    int64_t t_start, t_end;              /* the measured window (bench_mono_ns) */
} s_shared_t;

/* A command in flight: a retry sends the same bytes with the same key. */
typedef struct {
    int used, attempt;
    char key[CRM_UUID_LEN + 1];
    uint64_t request_id;
    int64_t t0;        /* when it was due (with --rate) or first sent */
    int64_t started;   /* when it was first sent */
    int64_t sent_at;   /* this attempt */
    int64_t resend_at; /* > 0: sent again then (the service was busy) */
    uint8_t *buf;      /* the packed body */
    size_t len, cap;
} s_flight_t;

typedef struct {
    s_shared_t *sh;
    int id;
    crm_client_t *cl;
    /* the command's body, its strings in the arrays below */
    char label[32], name[64], email[96], phone[32], person_id[40];
    char *emails[1], *phones[1];
    Crm__V1__ProbeRecordRequest rq;
    Crm__V1__Person p;
    Crm__V1__RegisterPersonRequest prq;
    Crm__V1__OrderItem item;
    Crm__V1__OrderItem *items[1];
    Crm__V1__Order o;
    Crm__V1__CreateOrderRequest orq;
    Crm__V1__Activity a;
    Crm__V1__LogActivityRequest arq;
    Crm__V1__Ticket t;
    Crm__V1__OpenTicketRequest trq;
    const ProtobufCMessage *body;
    int dead; /* could not register the person its orders or activities are for */
    long long n_sent;
    /* the commands in flight: one back to back, up to S_MAX_FLIGHT with --rate */
    s_flight_t fl[S_MAX_FLIGHT];
    int n_flight, max_flight;
    int64_t next_at; /* when the next command is due */
    /* results of the measured window */
    int64_t ok, failed, timeouts;
    int64_t late_sends, max_lag; /* with --rate: sent over 1 ms after due; the most late */
    double *lat_ms;
    size_t n_lat, cap_lat;
    char first_error[160];
} s_client_t;

static void s_lat_add(s_client_t *c, double ms)
{
    if (c->n_lat == c->cap_lat) {
        size_t cap = c->cap_lat ? c->cap_lat * 2 : 4096;
        double *p = realloc(c->lat_ms, cap * sizeof *p);
        if (!p)
            return;
        c->lat_ms = p;
        c->cap_lat = cap;
    }
    c->lat_ms[c->n_lat++] = ms;
}

static void s_error(s_client_t *c, const char *what)
{
    if (!c->first_error[0])
        snprintf(c->first_error, sizeof c->first_error, "%s", what);
}

/* Builds the client's command bodies; for orders and activities it first
 * registers the person they are for (a blocking call, before the run). */
static int s_client_init(s_client_t *c)
{
    s_shared_t *sh = c->sh;
    crm_client_set_actor(c->cl, "bench");
    snprintf(c->label, sizeof c->label, "bench-%d", c->id);
    c->rq = (Crm__V1__ProbeRecordRequest)CRM__V1__PROBE_RECORD_REQUEST__INIT;
    c->rq.count = sh->count;
    c->rq.label = c->label;
    c->emails[0] = c->email;
    c->phones[0] = c->phone;
    c->p = (Crm__V1__Person)CRM__V1__PERSON__INIT;
    c->p.name = c->name;
    c->p.emails = c->emails;
    c->p.n_emails = 1;
    c->p.phones = c->phones;
    c->p.n_phones = 1;
    c->p.country = "DE";
    c->p.owner = "bench";
    c->prq = (Crm__V1__RegisterPersonRequest)CRM__V1__REGISTER_PERSON_REQUEST__INIT;
    c->prq.person = &c->p;
    c->body = sh->person ? &c->prq.base : &c->rq.base;
    if (sh->order || sh->activity) {
        /* The person the orders or activities are for. */
        snprintf(c->name, sizeof c->name, "Bench Buyer %d", c->id);
        snprintf(c->email, sizeof c->email, "b%lld.%d@bench.example", sh->run_tag, c->id);
        snprintf(c->phone, sizeof c->phone, "+49%03d000000000", c->id % 1000);
        Crm__V1__CommandReply *rep = NULL;
        Crm__V1__PersonReply *pr = NULL;
        if (crm_client_call(c->cl, "sales.person.register", &c->prq.base, NULL, 10000, 3, &rep) ==
                0 &&
            rep->status && rep->status->code == 0 && rep->body.len &&
            (pr = crm__v1__person_reply__unpack(NULL, rep->body.len, rep->body.data)) && pr->person)
            snprintf(c->person_id, sizeof c->person_id, "%s", pr->person->id);
        if (pr)
            crm__v1__person_reply__free_unpacked(pr, NULL);
        if (rep)
            crm__v1__command_reply__free_unpacked(rep, NULL);
        if (!c->person_id[0]) {
            s_error(c, "could not register the person");
            c->dead = 1;
            return -1;
        }
    }
    c->item = (Crm__V1__OrderItem)CRM__V1__ORDER_ITEM__INIT;
    c->item.product_code = "SKU-1";
    c->item.name = "Widget";
    c->item.quantity = 1;
    c->item.unit_price_minor = 1250;
    c->items[0] = &c->item;
    c->o = (Crm__V1__Order)CRM__V1__ORDER__INIT;
    c->o.person_id = c->person_id;
    c->o.items = c->items;
    c->o.n_items = 1;
    c->o.currency = "EUR";
    c->orq = (Crm__V1__CreateOrderRequest)CRM__V1__CREATE_ORDER_REQUEST__INIT;
    c->orq.order = &c->o;
    c->a = (Crm__V1__Activity)CRM__V1__ACTIVITY__INIT;
    c->a.kind = CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_CALL;
    c->a.subject = "Called about the renewal";
    c->a.person_id = c->person_id;
    c->arq = (Crm__V1__LogActivityRequest)CRM__V1__LOG_ACTIVITY_REQUEST__INIT;
    c->arq.activity = &c->a;
    if (sh->order)
        c->body = &c->orq.base;
    else if (sh->activity)
        c->body = &c->arq.base;
    c->t = (Crm__V1__Ticket)CRM__V1__TICKET__INIT;
    c->t.subject = "The invoice is wrong";
    c->t.requester_email = c->email;
    c->t.requester_name = c->name;
    c->trq = (Crm__V1__OpenTicketRequest)CRM__V1__OPEN_TICKET_REQUEST__INIT;
    c->trq.ticket = &c->t;
    if (sh->ticket)
        c->body = &c->trq.base;
    return 0;
}

/* Sends a command in flight (again, with the same key, on a retry). */
static void s_send(s_client_t *c, s_flight_t *f, int64_t now)
{
    if (crm_client_send(c->cl, c->sh->command, f->buf, f->len, f->key, &f->request_id) < 0)
        f->request_id = 0; /* not sent: its timeout sends it again */
    f->sent_at = now;
    f->resend_at = 0;
}

/* Starts the client's next command in a free slot; -1 if none is free. */
static int s_start(s_client_t *c, int64_t now)
{
    s_shared_t *sh = c->sh;
    s_flight_t *f = NULL;
    for (int i = 0; i < c->max_flight && !f; i++)
        if (!c->fl[i].used)
            f = &c->fl[i];
    if (!f)
        return -1;
    if (sh->person || sh->ticket) {
        c->n_sent++;
        snprintf(c->name, sizeof c->name, "Bench Person %d-%lld", c->id, c->n_sent);
        snprintf(c->email, sizeof c->email, "p%lld.%d.%lld@bench.example", sh->run_tag, c->id,
                 c->n_sent);
        snprintf(c->phone, sizeof c->phone, "+49%03d%09lld", c->id % 1000, c->n_sent % 1000000000);
    }
    size_t n = protobuf_c_message_get_packed_size(c->body);
    if (n > f->cap) {
        uint8_t *p = realloc(f->buf, n);
        if (!p) {
            s_error(c, "out of memory");
            return -1;
        }
        f->buf = p;
        f->cap = n;
    }
    f->len = protobuf_c_message_pack(c->body, f->buf);
    crm_uuid_new(f->key);
    f->used = 1;
    f->attempt = 0;
    f->t0 = sh->rate > 0 ? c->next_at : now;
    f->started = now;
    c->n_flight++;
    s_send(c, f, now);
    return 0;
}

/* The command's outcome: counted when it was sent and answered inside the
 * measured window (with --rate, one sent late still counts its wait from
 * when it was due). */
static void s_done(s_client_t *c, s_flight_t *f, int64_t now, int timed_out,
                   const Crm__V1__CommandReply *rep)
{
    s_shared_t *sh = c->sh;
    int code = rep && rep->status ? (int)rep->status->code : 0;
    if (f->started >= sh->t_start && now <= sh->t_end) {
        int64_t lag = f->started - f->t0;
        c->late_sends += lag > 1000000;
        c->max_lag = lag > c->max_lag ? lag : c->max_lag;
        if (timed_out)
            c->timeouts++;
        else if (code != 0)
            c->failed++;
        else {
            c->ok++;
            s_lat_add(c, (double)(now - f->t0) / 1e6);
        }
    }
    if (timed_out)
        s_error(c, "no reply (timeout)");
    else if (code != 0)
        s_error(c, rep->status->message && *rep->status->message ? rep->status->message
                                                                 : crm_status_name(code));
    f->used = 0;
    c->n_flight--;
}

/* "Service overloaded": resend with the same key after the hint and a
 * jittered backoff, as crm_client_call does (it was never queued). */
static int s_busy_retry(s_flight_t *f, int64_t now, const Crm__V1__CommandReply *rep)
{
    if (!crm_client_busy(rep) || f->attempt + 1 >= S_ATTEMPTS)
        return 0;
    f->resend_at = now + crm_client_retry_ms(f->attempt, rep->status->retry_after_ms) * 1000000;
    f->attempt++;
    f->request_id = 0; /* a late reply to the refused attempt is stale */
    return 1;
}

/* The command in flight a reply answers: by its request_id, or the oldest
 * sent for a reply without one (a request the service could not read). */
static s_flight_t *s_match(s_client_t *c, uint64_t request_id)
{
    s_flight_t *found = NULL;
    for (int i = 0; i < c->max_flight; i++) {
        s_flight_t *f = &c->fl[i];
        if (!f->used || !f->request_id)
            continue;
        if (request_id && f->request_id == request_id)
            return f;
        if (!request_id && (!found || f->sent_at < found->sent_at))
            found = f;
    }
    return found;
}

/* Takes every reply waiting on the client's socket; back to back, each
 * completed command is followed at once by the next. Receives until the
 * socket is empty, which re-arms its ZMQ_FD (crm_client_recv). */
static void s_drain(s_client_t *c)
{
    s_shared_t *sh = c->sh;
    Crm__V1__CommandReply *rep;
    int got;
    while ((got = crm_client_recv(c->cl, &rep)) > 0) {
        int64_t now = bench_mono_ns();
        s_flight_t *f = s_match(c, rep->request_id);
        if (f && !s_busy_retry(f, now, rep)) {
            s_done(c, f, now, 0, rep);
            if (sh->rate <= 0 && now < sh->t_end) {
                c->next_at = now;
                s_start(c, now);
            }
        }
        crm__v1__command_reply__free_unpacked(rep, NULL); /* or stale */
    }
    if (got < 0 && got != -EINTR)
        s_error(c, "receive failed");
}

/* The measured window's /metrics scrapes, on their own thread so that the
 * clients' thread never waits on HTTP. */
typedef struct {
    int port;
    int64_t t_start, t_end;
    char *m0, *m1;
} s_scrape_t;

static void s_sleep_until(int64_t t)
{
    for (int64_t now; (now = bench_mono_ns()) < t;) {
        struct timespec ts = {.tv_sec = (t - now) / 1000000000, .tv_nsec = (t - now) % 1000000000};
        nanosleep(&ts, NULL);
    }
}

static char *s_get_metrics(int port)
{
    size_t cap = 1 << 18;
    char *buf = malloc(cap);
    if (buf && bench_http_get(port, "/metrics", buf, cap) <= 0) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static void *s_scrape_run(void *arg)
{
    s_scrape_t *s = arg;
    s_sleep_until(s->t_start);
    s->m0 = s_get_metrics(s->port);
    s_sleep_until(s->t_end);
    s->m1 = s_get_metrics(s->port);
    return NULL;
}

/* The counters of /metrics that the report needs. */
typedef struct {
    int ok;
    double commands, batches, lat_sum, lat_count, published;
} s_metrics_t;

static s_metrics_t s_metrics(const char *buf)
{
    s_metrics_t m = {0};
    if (!buf)
        return m;
    m.commands = bench_metric(buf, "crm_commands_total");
    m.batches = bench_metric(buf, "crm_batches_total");
    m.lat_sum = bench_metric(buf, "crm_command_latency_seconds_sum");
    m.lat_count = bench_metric(buf, "crm_command_latency_seconds_count");
    m.published = bench_metric(buf, "crm_events_published_total");
    m.ok = m.commands >= 0 && m.batches >= 0;
    return m;
}

int main(int argc, char **argv)
{
    const char *endpoint = bench_opt(argc, argv, "--endpoint", NULL);
    if (!endpoint) {
        fprintf(stderr,
                "usage: %s --endpoint <service ROUTER> [--clients N] [--seconds S] [--warmup S]"
                " [--count ROWS] [--metrics-port PORT]"
                " [--rate CMDS_PER_S] [--command probe.record|sales.person.register|"
                "sales.order.create|sales.activity.log|support.ticket.open]\n",
                argv[0]);
        return 2;
    }
    int n = (int)bench_opt_ll(argc, argv, "--clients", 32);
    long long seconds = bench_opt_ll(argc, argv, "--seconds", 10);
    long long warmup = bench_opt_ll(argc, argv, "--warmup", 1);
    int metrics_port = (int)bench_opt_ll(argc, argv, "--metrics-port", 0);
    s_shared_t sh;
    sh.endpoint = endpoint;
    sh.server = bench_opt(argc, argv, "--server", "probe");
    bench_creds();
    sh.count = (int)bench_opt_ll(argc, argv, "--count", 1);
    sh.command = bench_opt(argc, argv, "--command", "probe.record");
    sh.run_tag = (long long)time(NULL);
    sh.n_clients = n;
    sh.rate = strtod(bench_opt(argc, argv, "--rate", "0"), NULL);
    if (strcmp(sh.command, "probe.record") && strcmp(sh.command, "sales.person.register") &&
        strcmp(sh.command, "sales.order.create") && strcmp(sh.command, "sales.activity.log") &&
        strcmp(sh.command, "support.ticket.open")) {
        fprintf(stderr,
                "%s: --command is probe.record, sales.person.register, sales.order.create,"
                " sales.activity.log or support.ticket.open\n",
                argv[0]);
        return 2;
    }
    if (sh.rate < 0) {
        fprintf(stderr, "%s: --rate is commands per second, >= 0\n", argv[0]);
        return 2;
    }
    if (n < 1 || n > 4096 || seconds < 1 || warmup < 0) {
        fprintf(stderr, "%s: --clients 1..4096, --seconds >= 1, --warmup >= 0\n", argv[0]);
        return 2;
    }
    sh.person = !strcmp(sh.command, "sales.person.register");
    sh.order = !strcmp(sh.command, "sales.order.create");
    sh.activity = !strcmp(sh.command, "sales.activity.log");
    sh.ticket = !strcmp(sh.command, "support.ticket.open");
    void *zctx = zmq_ctx_new();
    s_client_t *cs = calloc((size_t)n, sizeof *cs);
    struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
    if (!zctx || !cs || !pfd)
        return 1;
    for (int i = 0; i < n; i++) {
        s_client_t *c = &cs[i];
        c->sh = &sh;
        c->id = i;
        c->cl = crm_client_new(zctx, sh.endpoint, bench_creds(), sh.server);
        size_t len = sizeof pfd[i].fd;
        if (!c->cl || zmq_getsockopt(crm_client_socket(c->cl), ZMQ_FD, &pfd[i].fd, &len) != 0) {
            bench_log(S_PROG, "could not connect client %d", i);
            return 1;
        }
        pfd[i].events = POLLIN;
    }
    int ready = 0;
    for (int i = 0; i < n; i++)
        ready += s_client_init(&cs[i]) == 0;
    bench_log(S_PROG, "%d clients on %s; warm-up %lld s, then %lld s measured", n, endpoint, warmup,
              seconds);
    /* With a rate: client i's k-th command is due at begin + (i / n + k) * gap. */
    int64_t gap = sh.rate > 0 ? (int64_t)(1e9 * n / sh.rate) : 0;
    int64_t begin = bench_mono_ns();
    sh.t_start = begin + warmup * 1000000000LL;
    sh.t_end = sh.t_start + seconds * 1000000000LL;
    s_scrape_t scr = {metrics_port, sh.t_start, sh.t_end, NULL, NULL};
    pthread_t scr_th;
    int scraping = metrics_port > 0 && pthread_create(&scr_th, NULL, s_scrape_run, &scr) == 0;
    for (int i = 0; i < n; i++) {
        cs[i].next_at = begin + (gap ? gap * i / n : 0);
        cs[i].max_flight = gap ? S_MAX_FLIGHT : 1;
    }
    /* The client's own CPU (every thread: the loop, libzmq's I/O thread)
     * over the measured window, per command: the client must not be
     * what limits the figure (bench/README, "Issue 15: backbone (ninth
     * session)"). */
    struct rusage ru0 = {0}, ru1 = {0};
    int ru_started = 0;
    for (int64_t now = begin; ready && now < sh.t_end; now = bench_mono_ns()) {
        if (!ru_started && now >= sh.t_start)
            ru_started = getrusage(RUSAGE_SELF, &ru0) == 0;
        /* Start what is due, send again what was refused, give up on
         * what took too long; then wait for the first reply or the next
         * due time. A send may take the edge of a reply already queued, so
         * each client sent on is drained before the wait. */
        int64_t wake = sh.t_end;
        for (int i = 0; i < n; i++) {
            s_client_t *c = &cs[i];
            if (c->dead)
                continue;
            int sent = 0;
            for (int k = 0; k < c->max_flight; k++) {
                s_flight_t *f = &c->fl[k];
                if (!f->used)
                    continue;
                if (now - f->sent_at >= S_TIMEOUT_NS) {
                    if (++f->attempt < S_ATTEMPTS) {
                        s_send(c, f, now);
                        sent = 1;
                    } else {
                        s_done(c, f, now, 1, NULL);
                        if (!gap)
                            c->next_at = now;
                    }
                } else if (f->resend_at && now >= f->resend_at) {
                    s_send(c, f, now);
                    sent = 1;
                }
            }
            /* Back to back: the next once the last is answered. With a
             * rate: every command that is due, whatever is in flight. */
            while (c->n_flight < c->max_flight && now >= c->next_at && s_start(c, now) == 0) {
                c->next_at += gap;
                sent = 1;
                if (!gap)
                    break;
            }
            if (sent)
                s_drain(c);
            for (int k = 0; k < c->max_flight; k++) {
                const s_flight_t *f = &c->fl[k];
                if (!f->used)
                    continue;
                int64_t t = f->resend_at ? f->resend_at : f->sent_at + S_TIMEOUT_NS;
                wake = t < wake ? t : wake;
            }
            if (c->n_flight < c->max_flight && c->next_at < wake)
                wake = c->next_at;
        }
        now = bench_mono_ns();
        if (wake > now) {
            int64_t d = wake - now;
            struct timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};
            if (ppoll(pfd, (nfds_t)n, &ts, NULL) < 0 && errno != EINTR)
                break;
        } else {
            for (int i = 0; i < n; i++)
                pfd[i].revents = POLLIN; /* behind schedule: look at every socket */
        }
        for (int i = 0; i < n; i++)
            if (pfd[i].revents)
                s_drain(&cs[i]);
    }
    if (ru_started && getrusage(RUSAGE_SELF, &ru1) != 0)
        ru_started = 0;
    int64_t start = sh.t_start, end = sh.t_end;
    if (scraping)
        pthread_join(scr_th, NULL);
    s_metrics_t m0 = s_metrics(scr.m0), m1 = s_metrics(scr.m1);
    free(scr.m0);
    free(scr.m1);
    for (int i = 0; i < n; i++)
        crm_client_destroy(&cs[i].cl);
    free(pfd);

    int64_t ok = 0, failed = 0, timeouts = 0, late_sends = 0, max_lag = 0;
    size_t n_lat = 0;
    const char *error = NULL;
    for (int i = 0; i < n; i++) {
        ok += cs[i].ok;
        failed += cs[i].failed;
        timeouts += cs[i].timeouts;
        late_sends += cs[i].late_sends;
        max_lag = cs[i].max_lag > max_lag ? cs[i].max_lag : max_lag;
        n_lat += cs[i].n_lat;
        if (!error && cs[i].first_error[0])
            error = cs[i].first_error;
    }
    double *lat = malloc((n_lat ? n_lat : 1) * sizeof *lat);
    size_t at = 0;
    for (int i = 0; lat && i < n; i++) {
        memcpy(lat + at, cs[i].lat_ms, cs[i].n_lat * sizeof *lat);
        at += cs[i].n_lat;
    }
    bench_sort(lat, at);
    double secs = (double)(end - start) / 1e9;
    double rate = (double)ok / secs;
    bench_log(S_PROG,
              "%" PRId64 " acknowledged in %.2f s: %.0f cmds/s (failed %" PRId64
              ", timeouts %" PRId64 ")",
              ok, secs, rate, failed, timeouts);

    printf("{\"command\":");
    bench_json_string(stdout, sh.command);
    if (sh.rate > 0)
        printf(",\"offered_per_s\":%.0f", sh.rate);
    printf(",\"clients\":%d,\"rows_per_command\":%d,\"seconds\":%.3f,\"acknowledged\":%" PRId64
           ",\"failed\":%" PRId64 ",\"timeouts\":%" PRId64 ",\"cmds_per_s\":%.0f"
           ",\"client_rtt_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
           n, sh.count, secs, ok, failed, timeouts, rate, bench_percentile(lat, at, 50),
           bench_percentile(lat, at, 99), at ? lat[at - 1] : 0.0);
    if (sh.rate > 0)
        printf(",\"sends_late_over_1ms\":%" PRId64 ",\"max_send_lag_ms\":%.3f", late_sends,
               (double)max_lag / 1e6);
    if (ru_started && ok > 0) {
        double us = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e6 +
                    (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
                    (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e6 +
                    (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
        printf(",\"client_cpu_us_per_command\":%.1f", us / (double)ok);
    }
    if (error) {
        printf(",\"first_error\":");
        bench_json_string(stdout, error);
    }
    if (m0.ok && m1.ok) {
        double cmds = m1.commands - m0.commands, batches = m1.batches - m0.batches;
        double lc = m1.lat_count - m0.lat_count;
        printf(",\"service\":{\"commands\":%.0f,\"transactions\":%.0f,"
               "\"mean_commands_per_transaction\":%.2f,\"transactions_per_s\":%.0f,"
               "\"mean_receive_to_reply_ms\":%.3f,\"events_published\":%.0f}",
               cmds, batches, batches > 0 ? cmds / batches : 0, batches / secs,
               lc > 0 ? (m1.lat_sum - m0.lat_sum) / lc * 1e3 : 0, m1.published - m0.published);
    }
    printf("}\n");
    for (int i = 0; i < n; i++) {
        free(cs[i].lat_ms);
        for (int k = 0; k < S_MAX_FLIGHT; k++)
            free(cs[i].fl[k].buf);
    }
    free(cs);
    free(lat);
    zmq_ctx_term(zctx);
    return ok > 0 ? 0 : 1;
}
