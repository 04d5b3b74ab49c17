/* bench_nats.c: the NATS JetStream peer of the durable-commands and the
 * latency benchmarks (issue 15, "Peers, in the same run").
 *
 * A team that wants a durable event stream could pick JetStream instead of
 * our commands, outbox and bus, so its figures stand beside ours, measured
 * the same way against a nats-server the driver starts with file storage:
 *
 * - throughput: --publishers threads, each with its own connection (as each
 *   of our benchmark clients has its own DEALER), publish --size-byte
 *   events back to back with js_Publish, each waiting for JetStream's
 *   acknowledgement (the message is stored in the stream) before the next.
 *   Counted: acknowledgements in --seconds after --warmup.
 * - latency: one publisher sends at --rate per second, open loop
 *   (js_PublishAsync, acknowledgements handled on the library's thread),
 *   and a push consumer on another connection (ephemeral, no acks, as our
 *   bus subscriber acknowledges nothing) receives each message; the first
 *   bytes of each payload carry its index and send time (CLOCK_MONOTONIC,
 *   one machine, one clock), so publish-to-consumer is measured like our
 *   command-to-event.
 *
 * Whether JetStream flushed the message to disk before acknowledging
 * depends on the server (its `sync_interval` setting, where it has one):
 * the driver finds that out and says so; this program only measures.
 *
 * Usage: crm-bench-nats --url nats://127.0.0.1:P [--publishers 32]
 *          [--seconds 10] [--warmup 1] [--size 200] [--rate 5000]
 *          [--rate-seconds S] [--stream BENCH]
 * Prints one JSON object on stdout. */
#include "bench_util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PROG "bench-nats"
#define S_MAX_PUBLISHERS 1024
#define S_MAX_SIZE 65536

enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

typedef struct {
    const char *url;
    const char *subject;
    int size;
    atomic_int phase;
} s_shared_t;

typedef struct {
    s_shared_t *sh;
    pthread_t th;
    int64_t acked, failed;
    double *lat_ms;
    size_t n_lat, cap_lat;
    char first_error[160];
} s_publisher_t;

static void s_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void s_lat_add(s_publisher_t *p, double ms)
{
    if (p->n_lat == p->cap_lat) {
        size_t cap = p->cap_lat ? p->cap_lat * 2 : 4096;
        double *v = realloc(p->lat_ms, cap * sizeof *v);
        if (!v)
            return;
        p->lat_ms = v;
        p->cap_lat = cap;
    }
    p->lat_ms[p->n_lat++] = ms;
}

static void s_error(char *buf, size_t len, const char *what, natsStatus s, jsErrCode jerr)
{
    if (!buf[0])
        snprintf(buf, len, "%s: %s (JetStream error %d)", what, natsStatus_GetText(s), (int)jerr);
}

/* One publisher: its own connection and JetStream context, one
 * acknowledged publish after another. */
static void *s_publisher_run(void *arg)
{
    s_publisher_t *p = arg;
    s_shared_t *sh = p->sh;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s = natsConnection_ConnectTo(&nc, sh->url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&js, nc, NULL);
    if (s != NATS_OK) {
        s_error(p->first_error, sizeof p->first_error, "connect", s, 0);
        natsConnection_Destroy(nc);
        return NULL;
    }
    char *data = calloc(1, (size_t)sh->size);
    int phase;
    while (data && (phase = atomic_load(&sh->phase)) != PHASE_STOP) {
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        int64_t t0 = bench_mono_ns();
        s = js_Publish(&pa, js, sh->subject, data, sh->size, NULL, &jerr);
        int64_t t1 = bench_mono_ns();
        if (atomic_load(&sh->phase) == PHASE_MEASURE && phase == PHASE_MEASURE) {
            if (s == NATS_OK) {
                p->acked++;
                s_lat_add(p, (double)(t1 - t0) / 1e6);
            } else {
                p->failed++;
            }
        }
        if (s != NATS_OK)
            s_error(p->first_error, sizeof p->first_error, "js_Publish", s, jerr);
        jsPubAck_Destroy(pa);
    }
    free(data);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return NULL;
}

/* The latency run's state, shared with the library's threads. */
typedef struct {
    size_t total, warm;
    int64_t *sent_ns;
    double *event_ms; /* NAN until received */
    atomic_size_t received, acks, ack_errors, unknown;
} s_lat_t;

static void s_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    s_lat_t *st = closure;
    int64_t now = bench_mono_ns();
    const char *d = natsMsg_GetData(msg);
    uint64_t i = 0;
    if (natsMsg_GetDataLength(msg) >= (int)sizeof i)
        memcpy(&i, d, sizeof i);
    if (i < st->total && isnan(st->event_ms[i])) {
        st->event_ms[i] = (double)(now - st->sent_ns[i]) / 1e6;
        atomic_fetch_add(&st->received, 1);
    } else {
        atomic_fetch_add(&st->unknown, 1);
    }
    natsMsg_Destroy(msg);
}

static void s_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pa;
    s_lat_t *st = closure;
    if (pae)
        atomic_fetch_add(&st->ack_errors, 1);
    else
        atomic_fetch_add(&st->acks, 1);
    natsMsg_Destroy(msg);
}

static void s_print_dist(const char *name, double *v, size_t n)
{
    bench_sort(v, n);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    printf("\"%s\":{\"count\":%zu,\"mean\":%.3f,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}", name, n,
           n ? sum / (double)n : 0, bench_percentile(v, n, 50), bench_percentile(v, n, 99),
           n ? v[n - 1] : 0.0);
}

/* Acknowledged publishes per second with `n` publishers; prints the
 * "throughput" member. Returns 0 when any publish was acknowledged. */
static int s_throughput(s_shared_t *sh, int n, long long seconds, long long warmup)
{
    s_publisher_t *pubs = calloc((size_t)n, sizeof *pubs);
    if (!pubs)
        return -1;
    atomic_store(&sh->phase, PHASE_WARMUP);
    for (int i = 0; i < n; i++) {
        pubs[i].sh = sh;
        pthread_create(&pubs[i].th, NULL, s_publisher_run, &pubs[i]);
    }
    s_sleep_ms((long)(warmup * 1000));
    atomic_store(&sh->phase, PHASE_MEASURE);
    int64_t t0 = bench_mono_ns();
    s_sleep_ms((long)(seconds * 1000));
    atomic_store(&sh->phase, PHASE_STOP);
    double secs = (double)(bench_mono_ns() - t0) / 1e9;
    int64_t acked = 0, failed = 0;
    size_t n_lat = 0;
    const char *first_error = NULL;
    for (int i = 0; i < n; i++) {
        pthread_join(pubs[i].th, NULL);
        acked += pubs[i].acked;
        failed += pubs[i].failed;
        n_lat += pubs[i].n_lat;
        if (!first_error && pubs[i].first_error[0])
            first_error = pubs[i].first_error;
    }
    double *lat = malloc((n_lat ? n_lat : 1) * sizeof *lat);
    size_t k = 0;
    for (int i = 0; lat && i < n; i++) {
        memcpy(lat + k, pubs[i].lat_ms, pubs[i].n_lat * sizeof *lat);
        k += pubs[i].n_lat;
    }
    bench_log(S_PROG,
              "%d publishers: %" PRId64 " acknowledged in %.2f s: %.0f/s (failed %" PRId64 ")", n,
              acked, secs, (double)acked / secs, failed);
    printf("\"throughput\":{\"publishers\":%d,\"seconds\":%.3f,\"acknowledged\":%" PRId64
           ",\"failed\":%" PRId64 ",\"acked_per_s\":%.0f,",
           n, secs, acked, failed, (double)acked / secs);
    s_print_dist("publish_rtt_ms", lat, lat ? k : 0);
    if (first_error) {
        printf(",\"first_error\":");
        bench_json_string(stdout, first_error);
    }
    printf("}");
    for (int i = 0; i < n; i++)
        free(pubs[i].lat_ms);
    free(lat);
    free(pubs);
    return acked > 0 ? 0 : -1;
}

/* Publish-to-consumer latency at `rate` per second; prints the "latency"
 * member. Returns 0 when any message was received. */
static int s_latency(s_shared_t *sh, long long rate, long long seconds, long long warmup)
{
    s_lat_t st;
    memset(&st, 0, sizeof st);
    st.warm = (size_t)(rate * warmup);
    st.total = st.warm + (size_t)(rate * seconds);
    st.sent_ns = calloc(st.total, sizeof *st.sent_ns);
    st.event_ms = malloc(st.total * sizeof *st.event_ms);
    char *data = calloc(1, (size_t)sh->size);
    if (!st.sent_ns || !st.event_ms || !data)
        return -1;
    for (size_t i = 0; i < st.total; i++)
        st.event_ms[i] = NAN;

    natsConnection *pc = NULL, *cc = NULL;
    jsCtx *pjs = NULL, *cjs = NULL;
    natsSubscription *sub = NULL;
    jsOptions po;
    jsOptions_Init(&po);
    po.PublishAsync.MaxPending = 1000000;
    po.PublishAsync.AckHandler = s_on_ack;
    po.PublishAsync.AckHandlerClosure = &st;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.AckPolicy = js_AckNone;
    so.Config.DeliverPolicy = js_DeliverNew;
    jsErrCode jerr = 0;
    natsStatus s = natsConnection_ConnectTo(&pc, sh->url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&pjs, pc, &po);
    if (s == NATS_OK)
        s = natsConnection_ConnectTo(&cc, sh->url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&cjs, cc, NULL);
    if (s == NATS_OK)
        s = js_Subscribe(&sub, cjs, sh->subject, s_on_msg, &st, NULL, &so, &jerr);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(sub, -1, -1);
    if (s != NATS_OK) {
        bench_log(S_PROG, "could not set up the latency run: %s (JetStream error %d)",
                  natsStatus_GetText(s), (int)jerr);
        return -1;
    }
    bench_log(S_PROG, "%lld msgs/s for %lld s (+%lld s warm-up), publish to a push consumer", rate,
              seconds, warmup);
    const double interval_ns = 1e9 / (double)rate;
    size_t send_errors = 0;
    int64_t start = bench_mono_ns();
    for (size_t i = 0; i < st.total; i++) {
        int64_t due = start + (int64_t)((double)i * interval_ns);
        int64_t wait = due - bench_mono_ns();
        if (wait > 0) {
            struct timespec ts = {.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
            nanosleep(&ts, NULL);
        }
        uint64_t idx = i;
        memcpy(data, &idx, sizeof idx);
        st.sent_ns[i] = bench_mono_ns();
        if (js_PublishAsync(pjs, sh->subject, data, sh->size, NULL) != NATS_OK)
            send_errors++;
    }
    double send_secs = (double)(st.sent_ns[st.total - 1] - st.sent_ns[st.warm]) / 1e9;
    bench_log(S_PROG, "all sent; waiting for the last acknowledgements and deliveries");
    jsPubOptions done;
    jsPubOptions_Init(&done);
    done.MaxWait = 10000;
    js_PublishAsyncComplete(pjs, &done);
    int64_t deadline = bench_mono_ns() + 10000000000LL;
    while (atomic_load(&st.received) < st.total && bench_mono_ns() < deadline)
        s_sleep_ms(10);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);

    size_t measured = st.total - st.warm, n = 0;
    double *ev = malloc(measured * sizeof *ev);
    for (size_t i = st.warm; ev && i < st.total; i++)
        if (!isnan(st.event_ms[i]))
            ev[n++] = st.event_ms[i];
    double achieved = send_secs > 0 ? (double)(measured - 1) / send_secs : 0;
    printf("\"latency\":{\"rate_per_s\":%lld,\"achieved_rate_per_s\":%.0f,\"seconds\":%lld,"
           "\"measured\":%zu,\"missing\":%zu,\"acks\":%zu,\"ack_errors\":%zu,\"send_errors\":%zu,",
           rate, achieved, seconds, measured, measured - n, atomic_load(&st.acks),
           atomic_load(&st.ack_errors), send_errors);
    s_print_dist("publish_to_consumer_ms", ev, ev ? n : 0);
    printf("}");
    bench_log(S_PROG, "received %zu of %zu; p50 %.2f ms p99 %.2f ms", n, measured,
              bench_percentile(ev, n, 50), bench_percentile(ev, n, 99));
    free(ev);
    free(data);
    free(st.sent_ns);
    free(st.event_ms);
    jsCtx_Destroy(pjs);
    jsCtx_Destroy(cjs);
    natsConnection_Destroy(pc);
    natsConnection_Destroy(cc);
    return n > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *url = bench_opt(argc, argv, "--url", NULL);
    if (!url) {
        fprintf(stderr,
                "usage: %s --url nats://127.0.0.1:P [--publishers N] [--seconds S] [--warmup S]"
                " [--size BYTES] [--rate N] [--rate-seconds S] [--stream NAME]\n",
                argv[0]);
        return 2;
    }
    int publishers = (int)bench_opt_ll(argc, argv, "--publishers", 32);
    long long seconds = bench_opt_ll(argc, argv, "--seconds", 10);
    long long warmup = bench_opt_ll(argc, argv, "--warmup", 1);
    long long rate = bench_opt_ll(argc, argv, "--rate", 5000);
    long long rate_seconds = bench_opt_ll(argc, argv, "--rate-seconds", seconds);
    int size = (int)bench_opt_ll(argc, argv, "--size", 200);
    const char *stream = bench_opt(argc, argv, "--stream", "BENCH");
    if (publishers < 1 || publishers > S_MAX_PUBLISHERS || seconds < 1 || warmup < 0 || rate < 0 ||
        rate > 1000000 || rate_seconds < 1 || size < 16 || size > S_MAX_SIZE) {
        fprintf(stderr,
                "%s: --publishers 1..%d, --seconds >= 1, --rate 0..1000000 (0: no latency run),"
                " --size 16..%d\n",
                argv[0], S_MAX_PUBLISHERS, S_MAX_SIZE);
        return 2;
    }

    /* The stream, as a team would set it up for durable events: file
     * storage, one replica (one server), every message kept. */
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char subjects[128];
    snprintf(subjects, sizeof subjects, "bench.%s.>", stream);
    const char *subj_list[1] = {subjects};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream;
    cfg.Subjects = subj_list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = 1;
    natsStatus s = natsConnection_ConnectTo(&nc, url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&js, nc, NULL);
    if (s == NATS_OK)
        s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK) {
        bench_log(S_PROG, "could not create stream %s on %s: %s (JetStream error %d)", stream, url,
                  natsStatus_GetText(s), (int)jerr);
        return 1;
    }
    jsStreamInfo_Destroy(si);

    char subject[160];
    s_shared_t sh = {.url = url, .subject = subject, .size = size};
    atomic_init(&sh.phase, PHASE_WARMUP);
    printf("{\"url\":");
    bench_json_string(stdout, url);
    printf(",\"stream\":");
    bench_json_string(stdout, stream);
    printf(",\"storage\":\"file\",\"replicas\":1,\"size\":%d,\"nats_client\":", size);
    bench_json_string(stdout, nats_GetVersion());
    printf(",");
    snprintf(subject, sizeof subject, "bench.%s.throughput", stream);
    int rc = s_throughput(&sh, publishers, seconds, warmup);
    if (rate > 0) {
        printf(",");
        snprintf(subject, sizeof subject, "bench.%s.latency", stream);
        rc |= s_latency(&sh, rate, rate_seconds, warmup);
    }
    /* What the stream holds: every acknowledged message, the figure the
     * driver checks against the counts above. */
    s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
    if (s == NATS_OK && si) {
        printf(",\"messages_in_stream\":%" PRIu64 ",\"bytes_in_stream\":%" PRIu64, si->State.Msgs,
               si->State.Bytes);
        jsStreamInfo_Destroy(si);
    }
    printf("}\n");
    fflush(stdout);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return rc == 0 ? 0 : 1;
}
