/* bench_latency.c: command-to-event latency at a fixed rate.
 *
 * Sends "probe.record" (count 1) at --rate commands per second, open loop:
 * command i leaves at start + i/rate whatever the replies do, spread over
 * --dealers DEALER sockets with many in flight. Its label carries i and the
 * send time (CLOCK_MONOTONIC, ns); a SUB on the bus gets the event the
 * command caused and the difference is the latency a consumer on the bus
 * sees: framing, batching, commit, relay and the bus hop. Everything runs on
 * one machine and one clock. The reply's round trip is measured too.
 *
 * One thread, one poll loop: ZMQ_FD of every socket in ppoll (microsecond
 * timeouts keep the pacing even), each socket drained until EAGAIN on every
 * pass, which is what the edge-triggered ZMQ_FD requires.
 *
 * Usage: crm-bench-latency --endpoint tcp://127.0.0.1:P --bus tcp://127.0.0.1:Q
 *          [--source probe] [--rate 5000] [--seconds 10] [--warmup 1] [--dealers 8]
 * Prints one JSON object on stdout. */
#include "bench_util.h"

#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "crm/v1/event.pb-c.h"
#include "crm/v1/rpc.pb-c.h"
#include "crm/v1/testing.pb-c.h"

#define S_PROG "bench-latency"
#define S_MAX_DEALERS 64

typedef struct {
    size_t total, warm; /* commands to send; the first `warm` are not measured */
    int64_t *sent_ns;
    double *rtt_ms, *event_ms; /* NAN until seen */
    size_t replies, events, failed, duplicates, unknown;
    /* Refusals of the bounded queue (issue 15's overload figure): UNAVAILABLE,
     * and of those the ones that carry a retry hint. */
    /* per command: 1 answered UNAVAILABLE, 2 with a retry hint, 3 another error */
    unsigned char *refused;
    char first_error[160];
    int synced; /* a message of the source came through the bus */
} s_state_t;

static int s_send_command(void *dealer, size_t i, const char *label_buf)
{
    char key[CRM_UUID_LEN + 1];
    crm_uuid_new(key);
    Crm__V1__ProbeRecordRequest body = CRM__V1__PROBE_RECORD_REQUEST__INIT;
    body.count = 1;
    body.label = (char *)label_buf;
    uint8_t bbuf[256];
    size_t blen = crm__v1__probe_record_request__get_packed_size(&body);
    if (blen > sizeof bbuf)
        return -1;
    crm__v1__probe_record_request__pack(&body, bbuf);
    Crm__V1__CommandRequest rq = CRM__V1__COMMAND_REQUEST__INIT;
    rq.command = "probe.record";
    rq.idempotency_key = key;
    rq.correlation_id = key;
    rq.actor = "bench";
    rq.body.data = bbuf;
    rq.body.len = blen;
    rq.request_id = (uint64_t)i + 1;
    uint8_t buf[512];
    size_t n = crm__v1__command_request__get_packed_size(&rq);
    if (n > sizeof buf)
        return -1;
    crm__v1__command_request__pack(&rq, buf);
    return zmq_send(dealer, buf, n, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

static void s_on_reply(s_state_t *st, const void *data, size_t len, int64_t now)
{
    Crm__V1__CommandReply *rep = crm__v1__command_reply__unpack(NULL, len, data);
    if (!rep) {
        st->unknown++;
        return;
    }
    uint64_t id = rep->request_id;
    if (id == 0 || id > st->total || !isnan(st->rtt_ms[id - 1])) {
        st->unknown++;
    } else {
        size_t i = (size_t)(id - 1);
        st->rtt_ms[i] = (double)(now - st->sent_ns[i]) / 1e6;
        st->replies++;
        if (rep->status && rep->status->code == CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE) {
            st->refused[i] = rep->status->retry_after_ms > 0 ? 2 : 1;
        } else if (rep->status && rep->status->code != 0) {
            st->refused[i] = 3;
        }
        if (rep->status && rep->status->code != 0) {
            st->failed++;
            if (!st->first_error[0])
                snprintf(st->first_error, sizeof st->first_error, "%s",
                         rep->status->message ? rep->status->message : "error");
        }
    }
    crm__v1__command_reply__free_unpacked(rep, NULL);
}

static void s_on_event(s_state_t *st, const char *topic, size_t tlen, const void *data, size_t len,
                       int64_t now)
{
    st->synced = 1;
    if (tlen >= 4 && !memcmp(topic + tlen - 4, "._hb", 4))
        return;
    Crm__V1__Event *ev = crm__v1__event__unpack(NULL, len, data);
    if (!ev) {
        st->unknown++;
        return;
    }
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PROBE_RECORDED && ev->probe_recorded->label) {
        /* label: "<i>/<send time ns>" */
        char *end = NULL;
        unsigned long long i = strtoull(ev->probe_recorded->label, &end, 10);
        long long sent = end && *end == '/' ? strtoll(end + 1, NULL, 10) : 0;
        if (sent > 0 && i < st->total) {
            if (isnan(st->event_ms[i])) {
                st->event_ms[i] = (double)(now - sent) / 1e6;
                st->events++;
            } else {
                st->duplicates++;
            }
        } else {
            st->unknown++; /* another producer's probe */
        }
    }
    crm__v1__event__free_unpacked(ev, NULL);
}

/* Drains a socket until EAGAIN; returns messages taken. */
static int s_drain(void *sock, int is_sub, s_state_t *st)
{
    int taken = 0;
    zmq_msg_t a, b;
    for (;;) {
        zmq_msg_init(&a);
        if (zmq_msg_recv(&a, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&a);
            break;
        }
        int64_t now = bench_mono_ns();
        taken++;
        if (is_sub && zmq_msg_more(&a)) {
            zmq_msg_init(&b);
            zmq_msg_recv(&b, sock, 0);
            if (!zmq_msg_more(&b))
                s_on_event(st, zmq_msg_data(&a), zmq_msg_size(&a), zmq_msg_data(&b),
                           zmq_msg_size(&b), now);
            while (zmq_msg_more(&b)) {
                zmq_msg_close(&b);
                zmq_msg_init(&b);
                zmq_msg_recv(&b, sock, 0);
            }
            zmq_msg_close(&b);
        } else if (!is_sub && !zmq_msg_more(&a)) {
            s_on_reply(st, zmq_msg_data(&a), zmq_msg_size(&a), now);
        } else {
            int more = zmq_msg_more(&a);
            while (more) {
                zmq_msg_init(&b);
                zmq_msg_recv(&b, sock, 0);
                more = zmq_msg_more(&b);
                zmq_msg_close(&b);
            }
            st->unknown++;
        }
        zmq_msg_close(&a);
    }
    return taken;
}

static int s_readable(void *sock)
{
    int ev = 0;
    size_t len = sizeof ev;
    return zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) == 0 && (ev & ZMQ_POLLIN);
}

/* Collects the non-NaN values of v[from..to) into a new sorted array. */
static double *s_collect(const double *v, size_t from, size_t to, size_t *n_p)
{
    double *out = malloc((to > from ? to - from : 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = from; out && i < to; i++)
        if (!isnan(v[i]))
            out[n++] = v[i];
    bench_sort(out, n);
    *n_p = n;
    return out;
}

static void s_print_dist(const char *name, const double *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    printf("\"%s\":{\"count\":%zu,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
           "\"p999\":%.3f,\"max\":%.3f}",
           name, n, n ? sum / (double)n : 0, bench_percentile(v, n, 50), bench_percentile(v, n, 90),
           bench_percentile(v, n, 99), bench_percentile(v, n, 99.9), n ? v[n - 1] : 0.0);
}

int main(int argc, char **argv)
{
    const char *endpoint = bench_opt(argc, argv, "--endpoint", NULL);
    const char *bus = bench_opt(argc, argv, "--bus", NULL);
    if (!endpoint || !bus) {
        fprintf(stderr,
                "usage: %s --endpoint <service ROUTER> --bus <bus XPUB> [--source NAME]"
                " [--rate N] [--seconds S] [--warmup S] [--dealers N]\n",
                argv[0]);
        return 2;
    }
    const char *source = bench_opt(argc, argv, "--source", "probe");
    long long rate = bench_opt_ll(argc, argv, "--rate", 5000);
    long long seconds = bench_opt_ll(argc, argv, "--seconds", 10);
    long long warmup = bench_opt_ll(argc, argv, "--warmup", 1);
    int nd = (int)bench_opt_ll(argc, argv, "--dealers", 8);
    if (rate < 1 || rate > 1000000 || seconds < 1 || warmup < 0 || nd < 1 || nd > S_MAX_DEALERS) {
        fprintf(stderr, "%s: --rate 1..1000000, --seconds >= 1, --dealers 1..%d\n", argv[0],
                S_MAX_DEALERS);
        return 2;
    }
    s_state_t st;
    memset(&st, 0, sizeof st);
    st.warm = (size_t)(rate * warmup);
    st.total = st.warm + (size_t)(rate * seconds);
    st.sent_ns = calloc(st.total, sizeof *st.sent_ns);
    st.rtt_ms = malloc(st.total * sizeof *st.rtt_ms);
    st.event_ms = malloc(st.total * sizeof *st.event_ms);
    st.refused = calloc(st.total, 1);
    if (!st.sent_ns || !st.rtt_ms || !st.event_ms || !st.refused)
        return 1;
    for (size_t i = 0; i < st.total; i++)
        st.rtt_ms[i] = st.event_ms[i] = NAN;

    void *zctx = zmq_ctx_new();
    int zero = 0;
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof zero);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "crm.%s.", source);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    bench_curve_client(sub, "bus");
    if (zmq_connect(sub, bus) != 0) {
        bench_log(S_PROG, "could not connect to %s: %s", bus, zmq_strerror(errno));
        return 1;
    }
    void *dealers[S_MAX_DEALERS];
    struct pollfd pfd[S_MAX_DEALERS + 1];
    for (int d = 0; d < nd; d++) {
        dealers[d] = zmq_socket(zctx, ZMQ_DEALER);
        zmq_setsockopt(dealers[d], ZMQ_LINGER, &zero, sizeof zero);
        bench_curve_client(dealers[d], source);
        if (zmq_connect(dealers[d], endpoint) != 0) {
            bench_log(S_PROG, "could not connect to %s: %s", endpoint, zmq_strerror(errno));
            return 1;
        }
    }
    for (int d = 0; d <= nd; d++) {
        size_t len = sizeof pfd[d].fd;
        zmq_getsockopt(d < nd ? dealers[d] : sub, ZMQ_FD, &pfd[d].fd, &len);
        pfd[d].events = POLLIN;
    }

    /* The subscription must reach the producer (through the bus) before the
     * first command: wait for any message of the source, e.g. a heartbeat. */
    int64_t t0 = bench_mono_ns();
    while (!st.synced) {
        if (bench_mono_ns() - t0 > 15000000000LL) {
            bench_log(S_PROG, "no message of %s on the bus within 15 s (heartbeat expected)",
                      source);
            return 1;
        }
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 100);
        s_drain(sub, 1, &st);
    }
    bench_log(S_PROG,
              "subscribed after %.0f ms; %lld cmds/s for %lld s (+%lld s warm-up) on %d "
              "DEALERs",
              (double)(bench_mono_ns() - t0) / 1e6, rate, seconds, warmup, nd);

    const double interval_ns = 1e9 / (double)rate;
    int64_t start = bench_mono_ns(), drain_deadline = 0;
    size_t next = 0;
    int64_t max_lag_ns = 0;
    size_t send_errors = 0, late = 0;
    char label[64];
    for (;;) {
        int64_t now = bench_mono_ns();
        while (next < st.total && start + (int64_t)((double)next * interval_ns) <= now) {
            int64_t due = start + (int64_t)((double)next * interval_ns);
            int64_t t = bench_mono_ns();
            snprintf(label, sizeof label, "%zu/%" PRId64, next, t);
            st.sent_ns[next] = t;
            if (s_send_command(dealers[next % (size_t)nd], next, label) < 0)
                send_errors++;
            if (t - due > max_lag_ns)
                max_lag_ns = t - due;
            if (t - due > 1000000)
                late++; /* latency counts from the real send: many late sends would hide queueing */
            next++;
            now = t;
        }
        for (int d = 0; d < nd; d++)
            s_drain(dealers[d], 0, &st);
        s_drain(sub, 1, &st);
        if (next == st.total) {
            if (!drain_deadline) {
                drain_deadline = bench_mono_ns() + 10000000000LL;
                bench_log(S_PROG, "all sent; waiting for the last replies and events");
            }
            if ((st.replies == st.total && st.events == st.total) ||
                bench_mono_ns() > drain_deadline)
                break;
        }
        int busy = s_readable(sub);
        for (int d = 0; d < nd && !busy; d++)
            busy = s_readable(dealers[d]);
        if (busy)
            continue;
        int64_t wait_ns = 10000000; /* at most 10 ms: a safety net, not the pacing */
        if (next < st.total) {
            int64_t due = start + (int64_t)((double)next * interval_ns) - bench_mono_ns();
            if (due < wait_ns)
                wait_ns = due > 0 ? due : 0;
        }
        struct timespec ts = {.tv_sec = wait_ns / 1000000000, .tv_nsec = wait_ns % 1000000000};
        if (wait_ns > 0)
            ppoll(pfd, (nfds_t)nd + 1, &ts, NULL);
    }

    size_t n_ev = 0, n_rtt = 0;
    double *ev = s_collect(st.event_ms, st.warm, st.total, &n_ev);
    double *rtt = s_collect(st.rtt_ms, st.warm, st.total, &n_rtt);
    size_t measured = st.total - st.warm;
    double send_secs =
        measured > 1 ? (double)(st.sent_ns[st.total - 1] - st.sent_ns[st.warm]) / 1e9 : 0;
    double achieved = send_secs > 0 ? (double)(measured - 1) / send_secs : 0;
    /* A command refused (UNAVAILABLE under load, or an error) has no event
     * by design: only an accepted or unanswered one is missing its event. */
    size_t missing = 0;
    for (size_t i = st.warm; i < st.total; i++)
        missing += !st.refused[i] && isnan(st.event_ms[i]);
    bench_log(S_PROG, "sent %zu at %.0f/s; events %zu p50 %.2f ms p99 %.2f ms; replies %zu",
              measured, achieved, n_ev, bench_percentile(ev, n_ev, 50),
              bench_percentile(ev, n_ev, 99), n_rtt);
    printf("{\"rate_per_s\":%lld,\"achieved_rate_per_s\":%.0f,\"seconds\":%lld,\"warmup_s\":%lld,"
           "\"dealers\":%d,\"measured_commands\":%zu,\"events_missing\":%zu,"
           "\"replies_missing\":%zu,\"failed\":%zu,\"duplicate_events\":%zu,"
           "\"send_errors\":%zu,\"max_send_lag_ms\":%.3f,\"sends_late_over_1ms\":%zu,",
           rate, achieved, seconds, warmup, nd, measured, missing, measured - n_rtt, st.failed,
           st.duplicates, send_errors, (double)max_lag_ns / 1e6, late);
    s_print_dist("command_to_event_ms", ev, n_ev);
    printf(",");
    s_print_dist("command_rtt_ms", rtt, n_rtt);
    /* The round trips of the commands accepted, apart from the refusals
     * (answered at once, they would hide a slow accepted one) and errors. */
    for (size_t i = st.warm; i < st.total; i++)
        if (st.refused[i])
            st.rtt_ms[i] = NAN;
    size_t n_acc = 0;
    double *acc = s_collect(st.rtt_ms, st.warm, st.total, &n_acc);
    size_t unavailable = 0, hinted = 0, other = 0;
    for (size_t i = st.warm; i < st.total; i++) {
        unavailable += st.refused[i] == 1 || st.refused[i] == 2;
        hinted += st.refused[i] == 2;
        other += st.refused[i] == 3;
    }
    printf(",\"unavailable\":%zu,\"unavailable_with_retry_hint\":%zu,\"failed_other\":%zu,",
           unavailable, hinted, other);
    s_print_dist("accepted_rtt_ms", acc, n_acc);
    free(acc);
    if (st.first_error[0]) {
        printf(",\"first_error\":");
        bench_json_string(stdout, st.first_error);
    }
    printf("}\n");
    free(ev);
    free(rtt);
    free(st.sent_ns);
    free(st.rtt_ms);
    free(st.event_ms);
    free(st.refused);
    for (int d = 0; d < nd; d++)
        zmq_close(dealers[d]);
    zmq_close(sub);
    zmq_ctx_term(zctx);
    return n_ev > 0 ? 0 : 1;
}
