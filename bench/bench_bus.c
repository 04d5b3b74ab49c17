/* bench_bus.c: messages per second through an XSUB/XPUB proxy.
 *
 * One PUB connected to the proxy's XSUB side sends [topic][payload] as fast
 * as it may; one SUB connected to the XPUB side counts what arrives. The
 * same program measures crm-bus and the raw libzmq proxy (crm-bench-proxy),
 * so the two figures differ only by the proxy.
 *
 * Drops would distort the figure (a PUB and an XPUB drop silently at their
 * high-water mark), so the publisher runs on credit: it never has more than
 * --window messages between its send and the subscriber's receipt, and the
 * window is kept below every HWM on the path. The payload carries a
 * sequence number, so any loss or reordering still shows as gaps.
 *
 * crm-bus passes on only crm.v1.Event messages whose type is the topic and
 * names the source, so the payload is one, written by hand: field 1 (id)
 * holds the 9-byte header, then source, type, and subject as padding up to
 * --size. The subscriber finds the header at S_OFFSET.
 *
 * Usage: crm-bench-bus --pub tcp://127.0.0.1:P --sub tcp://127.0.0.1:Q
 *          [--count 2000000] [--seconds 10] [--size 200] [--window 50000]
 *          [--topic crm.sales.deal.won.v1] [--name crm-bus]
 * Prints one JSON object on stdout. */
#include "bench_util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_PROG "bench-bus"
#define S_KIND_WARMUP 'W'
#define S_KIND_MEASURED 'M'
#define S_HEADER 9 /* 8 bytes of sequence, 1 byte of kind */
#define S_OFFSET 2 /* after the id field's tag and length */

static size_t s_varint(uint8_t *out, size_t v)
{
    size_t n = 0;
    do {
        out[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

static size_t s_field(uint8_t *out, uint8_t tag, const void *data, size_t len)
{
    size_t n = 0;
    out[n++] = tag;
    n += s_varint(out + n, len);
    memcpy(out + n, data, len);
    return n + len;
}

/* The event envelope of about `size` bytes (more if the topic needs it);
 * the header is written at S_OFFSET afterwards. Returns its length. */
static size_t s_envelope(uint8_t *buf, size_t size, const char *topic)
{
    const char *src = topic + 4, *dot = strchr(src, '.');
    size_t sl = dot && !strncmp(topic, "crm.", 4) ? (size_t)(dot - src) : 0;
    uint8_t hdr[S_HEADER] = {0};
    size_t n = s_field(buf, 0x0a, hdr, S_HEADER);      /* id */
    n += s_field(buf + n, 0x12, src, sl);              /* source */
    n += s_field(buf + n, 0x1a, topic, strlen(topic)); /* type */
    /* subject: the rest, its length prefix taking 1 to 3 bytes */
    size_t pad = size > n + 4 ? size - n - 4 : 0;
    buf[n++] = 0x22;
    n += s_varint(buf + n, pad);
    memset(buf + n, 'x', pad);
    return n + pad;
}

typedef struct {
    void *zctx;
    const char *sub_endpoint;
    const char *topic;
    const char *server; /* the proxy's name in the directory (its public key) */
    uint64_t count;
    size_t size;
    /* publisher -> subscriber */
    atomic_int pub_done;
    /* subscriber -> publisher */
    atomic_int warm;           /* a warm-up message arrived: the path is up */
    atomic_uint_fast64_t next; /* highest sequence received + 1: the credit */
    atomic_int sub_failed;
    /* subscriber results, read after join */
    uint64_t received, gaps, reordered, malformed;
    int64_t first_ns, last_ns;
} s_run_t;

static void s_sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void *s_subscriber(void *arg)
{
    s_run_t *r = arg;
    void *sub = zmq_socket(r->zctx, ZMQ_SUB);
    int zero = 0;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero); /* bounded by the window */
    zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, r->topic, strlen(r->topic));
    bench_curve_client(sub, r->server);
    if (zmq_connect(sub, r->sub_endpoint) != 0) {
        bench_log(S_PROG, "could not connect to %s: %s", r->sub_endpoint, zmq_strerror(errno));
        atomic_store(&r->sub_failed, 1);
        zmq_close(sub);
        return NULL;
    }
    uint64_t expected = 0;
    int64_t idle_since = bench_mono_ns();
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    for (;;) {
        if (zmq_msg_recv(&topic, sub, ZMQ_DONTWAIT) < 0) {
            if (errno != EAGAIN && errno != EINTR)
                break;
            int64_t now = bench_mono_ns();
            /* Done when the publisher is and nothing came for a second. */
            if (atomic_load(&r->pub_done) && now - idle_since > 1000000000LL)
                break;
            zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
            zmq_poll(&it, 1, 100);
            continue;
        }
        if (!zmq_msg_more(&topic)) {
            r->malformed++;
            continue;
        }
        zmq_msg_recv(&body, sub, 0);
        int64_t now = bench_mono_ns();
        idle_since = now;
        int more = zmq_msg_more(&body);
        while (more) { /* not ours: drain the extra frames */
            zmq_msg_recv(&body, sub, 0);
            more = zmq_msg_more(&body);
            r->malformed++;
        }
        if (zmq_msg_size(&body) < S_OFFSET + S_HEADER) {
            r->malformed++;
            continue;
        }
        const uint8_t *p = (const uint8_t *)zmq_msg_data(&body) + S_OFFSET;
        uint64_t seq;
        memcpy(&seq, p, sizeof seq);
        if (p[8] == S_KIND_WARMUP) {
            atomic_store(&r->warm, 1);
            continue;
        }
        if (p[8] != S_KIND_MEASURED) {
            r->malformed++;
            continue;
        }
        if (r->received == 0)
            r->first_ns = now;
        r->last_ns = now;
        r->received++;
        if (seq > expected)
            r->gaps += seq - expected;
        else if (seq < expected)
            r->reordered++;
        if (seq >= expected) {
            expected = seq + 1;
            atomic_store_explicit(&r->next, expected, memory_order_release);
        }
        if (seq + 1 == r->count)
            break;
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    zmq_close(sub);
    return NULL;
}

static int s_send(void *pub, const char *topic, uint8_t *buf, size_t size)
{
    if (zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE) < 0)
        return -1;
    return zmq_send(pub, buf, size, 0) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *pub_ep = bench_opt(argc, argv, "--pub", NULL);
    const char *sub_ep = bench_opt(argc, argv, "--sub", NULL);
    if (!pub_ep || !sub_ep) {
        fprintf(stderr,
                "usage: %s --pub <xsub endpoint> --sub <xpub endpoint> [--count N]"
                " [--seconds S] [--size BYTES] [--window N] [--topic T] [--name NAME]\n",
                argv[0]);
        return 2;
    }
    s_run_t r;
    memset(&r, 0, sizeof r);
    r.count = (uint64_t)bench_opt_ll(argc, argv, "--count", 2000000);
    long long seconds = bench_opt_ll(argc, argv, "--seconds", 10);
    long long size = bench_opt_ll(argc, argv, "--size", 200);
    long long window = bench_opt_ll(argc, argv, "--window", 50000);
    int io_threads = (int)bench_opt_ll(argc, argv, "--io-threads", 1);
    const char *name = bench_opt(argc, argv, "--name", "proxy");
    r.topic = bench_opt(argc, argv, "--topic", "crm.sales.deal.won.v1");
    r.server = bench_opt(argc, argv, "--server", "bus");
    bench_creds();
    r.sub_endpoint = sub_ep;
    if (size < S_HEADER || size > 1 << 20 || r.count < 2 || seconds < 1 || window < 0) {
        fprintf(stderr, "%s: --size must be %d..1048576, --count >= 2, --seconds >= 1\n", argv[0],
                S_HEADER);
        return 2;
    }
    r.size = (size_t)size;
    atomic_init(&r.pub_done, 0);
    atomic_init(&r.warm, 0);
    atomic_init(&r.next, 0);
    atomic_init(&r.sub_failed, 0);

    r.zctx = zmq_ctx_new();
    zmq_ctx_set(r.zctx, ZMQ_IO_THREADS, io_threads);
    void *pub = zmq_socket(r.zctx, ZMQ_PUB);
    int zero = 0;
    zmq_setsockopt(pub, ZMQ_SNDHWM, &zero, sizeof zero); /* bounded by the window */
    zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof zero);
    bench_curve_client(pub, r.server);
    if (zmq_connect(pub, pub_ep) != 0) {
        bench_log(S_PROG, "could not connect to %s: %s", pub_ep, zmq_strerror(errno));
        return 1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, s_subscriber, &r) != 0)
        return 1;

    uint8_t *buf = malloc(r.size + strlen(r.topic) + 64);
    if (!buf)
        return 1;
    r.size = s_envelope(buf, r.size, r.topic);
    uint8_t *hdr = buf + S_OFFSET;

    /* Warm-up: the subscription must have reached the publisher through the
     * proxy before counting starts; resend until one message made it. */
    int64_t t0 = bench_mono_ns();
    hdr[8] = S_KIND_WARMUP;
    while (!atomic_load(&r.warm) && !atomic_load(&r.sub_failed)) {
        if (bench_mono_ns() - t0 > 10000000000LL) {
            bench_log(S_PROG, "%s: no message came through in 10 s", name);
            atomic_store(&r.pub_done, 1);
            pthread_join(th, NULL);
            return 1;
        }
        s_send(pub, r.topic, buf, r.size);
        s_sleep_us(10000);
    }
    bench_log(S_PROG, "%s: path is up after %.0f ms; sending %" PRIu64 " x %zu bytes", name,
              (double)(bench_mono_ns() - t0) / 1e6, r.count, r.size);

    hdr[8] = S_KIND_MEASURED;
    int64_t start = bench_mono_ns(), deadline = start + seconds * 1000000000LL;
    int64_t credit_waits = 0;
    uint64_t sent = 0;
    int stalled = 0;
    for (uint64_t seq = 0; seq < r.count; seq++) {
        if (window > 0 &&
            seq - atomic_load_explicit(&r.next, memory_order_acquire) >= (uint64_t)window) {
            credit_waits++;
            int64_t wait_from = bench_mono_ns();
            while (seq - atomic_load_explicit(&r.next, memory_order_acquire) >= (uint64_t)window) {
                if (bench_mono_ns() - wait_from > 2000000000LL) {
                    stalled = 1; /* messages were lost: the credit never came back */
                    break;
                }
                s_sleep_us(20);
            }
            if (stalled)
                break;
        }
        if ((seq & 1023) == 0 && bench_mono_ns() > deadline)
            break;
        memcpy(hdr, &seq, sizeof seq);
        if (s_send(pub, r.topic, buf, r.size) < 0) {
            bench_log(S_PROG, "send failed: %s", zmq_strerror(errno));
            break;
        }
        sent++;
    }
    int64_t send_end = bench_mono_ns();
    atomic_store(&r.pub_done, 1);
    pthread_join(th, NULL);

    int zmaj, zmin, zpat;
    zmq_version(&zmaj, &zmin, &zpat);
    double secs = r.received > 1 ? (double)(r.last_ns - r.first_ns) / 1e9 : 0;
    double rate = secs > 0 ? (double)(r.received - 1) / secs : 0;
    double send_secs = (double)(send_end - start) / 1e9;
    bench_log(S_PROG, "%s: received %" PRIu64 "/%" PRIu64 " in %.2f s: %.0f msgs/s, gaps %" PRIu64,
              name, r.received, sent, secs, rate, r.gaps);
    printf("{\"proxy\":\"%s\",\"event_bytes\":%zu,\"topic\":\"%s\",\"sent\":%" PRIu64
           ",\"received\":%" PRIu64 ",\"drops\":%" PRIu64 ",\"gaps\":%" PRIu64
           ",\"reordered\":%" PRIu64 ",\"malformed\":%" PRIu64
           ",\"seconds\":%.3f,\"msgs_per_s\":%.0f,\"payload_mb_per_s\":%.1f"
           ",\"send_seconds\":%.3f,\"window\":%lld,\"credit_waits\":%" PRId64
           ",\"stalled\":%s,\"libzmq\":\"%d.%d.%d\"}\n",
           name, r.size, r.topic, sent, r.received, sent - r.received, r.gaps, r.reordered,
           r.malformed, secs, rate, rate * (double)r.size / 1e6, send_secs, window, credit_waits,
           stalled ? "true" : "false", zmaj, zmin, zpat);
    free(buf);
    zmq_close(pub);
    zmq_ctx_term(r.zctx);
    return r.received > 0 ? 0 : 1;
}
