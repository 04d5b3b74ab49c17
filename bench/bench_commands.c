/* bench_commands.c: durable commands per second through a service.
 *
 * --clients threads, each with its own DEALER (crm_client_t), send
 * commands back to back, a fresh idempotency key each, and wait for every
 * reply before the next. --command chooses the command: "probe.record" (the
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
 * framing, batching, PostgreSQL and the reply.
 *
 * With --rate R the clients together offer R commands/s, each sending on its own
 * schedule (R / clients per second) instead of back to back; a command's latency counts
 * from when it was due, so a client held up by a slow reply does not hide the wait.
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

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "crm/v1/sales.pb-c.h"
#include "crm/v1/support.pb-c.h"
#include "crm/v1/testing.pb-c.h"

#define S_PROG "bench-commands"

enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

typedef struct {
    void *zctx;
    const char *endpoint;
    const char *server; /* its name in the directory of principals */
    const char *command;
    int count;
    double rate; /* commands/s offered by all clients together; 0: back to back */
    int n_clients;
    /* Distinguishes the emails of one run from those of an earlier run
     * against the same database. */
    long long run_tag;
    atomic_int phase;
    atomic_int started;
} s_shared_t;

typedef struct {
    s_shared_t *sh;
    int id;
    pthread_t th;
    /* results of the measured window */
    int64_t ok, failed, timeouts;
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

static void *s_client_run(void *arg)
{
    s_client_t *c = arg;
    s_shared_t *sh = c->sh;
    crm_client_t *cl = crm_client_new(sh->zctx, sh->endpoint, bench_creds(), sh->server);
    atomic_fetch_add(&sh->started, 1);
    if (!cl) {
        snprintf(c->first_error, sizeof c->first_error, "could not connect");
        return NULL;
    }
    crm_client_set_actor(cl, "bench");
    char label[32];
    snprintf(label, sizeof label, "bench-%d", c->id);
    Crm__V1__ProbeRecordRequest rq = CRM__V1__PROBE_RECORD_REQUEST__INIT;
    rq.count = sh->count;
    rq.label = label;
    int person = !strcmp(sh->command, "sales.person.register");
    int order = !strcmp(sh->command, "sales.order.create");
    int activity = !strcmp(sh->command, "sales.activity.log");
    int ticket = !strcmp(sh->command, "support.ticket.open");
    char name[64], email[96], phone[32], person_id[40] = "";
    char *emails[1] = {email}, *phones[1] = {phone};
    Crm__V1__Person p = CRM__V1__PERSON__INIT;
    p.name = name;
    p.emails = emails;
    p.n_emails = 1;
    p.phones = phones;
    p.n_phones = 1;
    p.country = "DE";
    p.owner = "bench";
    Crm__V1__RegisterPersonRequest prq = CRM__V1__REGISTER_PERSON_REQUEST__INIT;
    prq.person = &p;
    const ProtobufCMessage *body = person ? &prq.base : &rq.base;
    if (order || activity) {
        /* The person the orders or activities are for. */
        snprintf(name, sizeof name, "Bench Buyer %d", c->id);
        snprintf(email, sizeof email, "b%lld.%d@bench.example", sh->run_tag, c->id);
        snprintf(phone, sizeof phone, "+49%03d000000000", c->id % 1000);
        Crm__V1__CommandReply *rep = NULL;
        Crm__V1__PersonReply *pr = NULL;
        if (crm_client_call(cl, "sales.person.register", &prq.base, NULL, 10000, 3, &rep) == 0 &&
            rep->status && rep->status->code == 0 && rep->body.len &&
            (pr = crm__v1__person_reply__unpack(NULL, rep->body.len, rep->body.data)) && pr->person)
            snprintf(person_id, sizeof person_id, "%s", pr->person->id);
        if (pr)
            crm__v1__person_reply__free_unpacked(pr, NULL);
        if (rep)
            crm__v1__command_reply__free_unpacked(rep, NULL);
        if (!person_id[0]) {
            snprintf(c->first_error, sizeof c->first_error, "could not register the person");
            crm_client_destroy(&cl);
            return NULL;
        }
    }
    Crm__V1__OrderItem item = CRM__V1__ORDER_ITEM__INIT;
    item.product_code = "SKU-1";
    item.name = "Widget";
    item.quantity = 1;
    item.unit_price_minor = 1250;
    Crm__V1__OrderItem *items[1] = {&item};
    Crm__V1__Order o = CRM__V1__ORDER__INIT;
    o.person_id = person_id;
    o.items = items;
    o.n_items = 1;
    o.currency = "EUR";
    Crm__V1__CreateOrderRequest orq = CRM__V1__CREATE_ORDER_REQUEST__INIT;
    orq.order = &o;
    Crm__V1__Activity a = CRM__V1__ACTIVITY__INIT;
    a.kind = CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_CALL;
    a.subject = "Called about the renewal";
    a.person_id = person_id;
    Crm__V1__LogActivityRequest arq = CRM__V1__LOG_ACTIVITY_REQUEST__INIT;
    arq.activity = &a;
    Crm__V1__Ticket t = CRM__V1__TICKET__INIT;
    t.subject = "The invoice is wrong";
    t.requester_email = email;
    t.requester_name = name;
    Crm__V1__OpenTicketRequest trq = CRM__V1__OPEN_TICKET_REQUEST__INIT;
    trq.ticket = &t;
    if (order)
        body = &orq.base;
    else if (activity)
        body = &arq.base;
    else if (ticket)
        body = &trq.base;
    long long n_sent = 0;
    int phase;
    /* With a rate: this client's k-th command is due at t_first + k * gap. */
    int64_t gap = sh->rate > 0 ? (int64_t)(1e9 * sh->n_clients / sh->rate) : 0;
    int64_t due = bench_mono_ns() + (gap ? gap * c->id / sh->n_clients : 0);
    while ((phase = atomic_load(&sh->phase)) != PHASE_STOP) {
        if (gap) {
            int64_t now = bench_mono_ns();
            if (due > now) {
                struct timespec ts = {.tv_sec = (due - now) / 1000000000,
                                      .tv_nsec = (due - now) % 1000000000};
                nanosleep(&ts, NULL);
                continue; /* the phase may have changed meanwhile */
            }
        }
        if (person || ticket) {
            n_sent++;
            snprintf(name, sizeof name, "Bench Person %d-%lld", c->id, n_sent);
            snprintf(email, sizeof email, "p%lld.%d.%lld@bench.example", sh->run_tag, c->id,
                     n_sent);
            snprintf(phone, sizeof phone, "+49%03d%09lld", c->id % 1000, n_sent % 1000000000);
        }
        Crm__V1__CommandReply *rep = NULL;
        int64_t t0 = gap ? due : bench_mono_ns();
        int rc = crm_client_call(cl, sh->command, body, NULL, 10000, 3, &rep);
        int64_t t1 = bench_mono_ns();
        due += gap;
        int code = rc == 0 && rep->status ? (int)rep->status->code : 0;
        /* Count what ended inside the window. */
        if (atomic_load(&sh->phase) == PHASE_MEASURE && phase == PHASE_MEASURE) {
            if (rc < 0)
                c->timeouts++;
            else if (code != 0)
                c->failed++;
            else {
                c->ok++;
                s_lat_add(c, (double)(t1 - t0) / 1e6);
            }
        }
        if ((rc < 0 || code != 0) && !c->first_error[0])
            snprintf(c->first_error, sizeof c->first_error, "%s",
                     rc < 0                                ? "no reply (timeout)"
                     : rep->status && rep->status->message ? rep->status->message
                                                           : crm_status_name(code));
        if (rep)
            crm__v1__command_reply__free_unpacked(rep, NULL);
    }
    crm_client_destroy(&cl);
    return NULL;
}

static void s_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The counters of /metrics that the report needs. */
typedef struct {
    int ok;
    double commands, batches, lat_sum, lat_count, published;
} s_metrics_t;

static s_metrics_t s_scrape(int port)
{
    s_metrics_t m = {0};
    if (port <= 0)
        return m;
    static char buf[1 << 18];
    if (bench_http_get(port, "/metrics", buf, sizeof buf) <= 0)
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
    atomic_init(&sh.phase, PHASE_WARMUP);
    atomic_init(&sh.started, 0);
    sh.zctx = zmq_ctx_new();
    s_client_t *cs = calloc((size_t)n, sizeof *cs);
    if (!cs)
        return 1;
    for (int i = 0; i < n; i++) {
        cs[i].sh = &sh;
        cs[i].id = i;
        if (pthread_create(&cs[i].th, NULL, s_client_run, &cs[i]) != 0) {
            bench_log(S_PROG, "could not start client thread %d", i);
            return 1;
        }
    }
    bench_log(S_PROG, "%d clients on %s; warm-up %lld s, then %lld s measured", n, endpoint, warmup,
              seconds);
    s_sleep_ms((long)warmup * 1000);
    s_metrics_t m0 = s_scrape(metrics_port);
    int64_t start = bench_mono_ns();
    atomic_store(&sh.phase, PHASE_MEASURE);
    s_sleep_ms((long)seconds * 1000);
    atomic_store(&sh.phase, PHASE_STOP);
    int64_t end = bench_mono_ns();
    s_metrics_t m1 = s_scrape(metrics_port);
    for (int i = 0; i < n; i++)
        pthread_join(cs[i].th, NULL);

    int64_t ok = 0, failed = 0, timeouts = 0;
    size_t n_lat = 0;
    const char *error = NULL;
    for (int i = 0; i < n; i++) {
        ok += cs[i].ok;
        failed += cs[i].failed;
        timeouts += cs[i].timeouts;
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
    for (int i = 0; i < n; i++)
        free(cs[i].lat_ms);
    free(cs);
    free(lat);
    zmq_ctx_term(sh.zctx);
    return ok > 0 ? 0 : 1;
}
