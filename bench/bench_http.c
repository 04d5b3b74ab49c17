/* bench_http.c: POST /v1/people per second through the HTTP/JSON gateway
 * (crm-api), to set beside sales.person.register over the native protocol
 * (bench_commands.c) with the same person shape: a name, a unique email,
 * a phone, a country and an owner.
 *
 * --clients threads, each with one keep-alive HTTP/1.1 connection, send a
 * request and read its whole answer before the next (like the native
 * clients, one request in flight each). A 201 means the person, its event
 * and the idempotency record are committed: the figure is acknowledged
 * durable commands per second through HTTP, JSON, the gateway and the
 * service.
 *
 * Usage: BENCH_API_TOKEN=T crm-bench-http --port P [--clients 32]
 *          [--seconds 10] [--warmup 1]
 * (the token comes from the environment so that it is not shown in
 * process lists and the suite's log)
 * Prints one JSON object on stdout. */
#include "bench_util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#define S_PROG "bench-http"

enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

typedef struct {
    int port;
    const char *token;
    long long run_tag;
    atomic_int phase;
} s_shared_t;

typedef struct {
    s_shared_t *sh;
    int id;
    pthread_t th;
    int64_t ok, failed, unavailable;
    double *lat_ms;
    size_t n_lat, cap_lat;
    char first_error[200];
} s_client_t;

static int s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int s_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one response; returns its status or -1. */
static int s_read_response(int fd, char *buf, size_t len)
{
    size_t have = 0;
    char *end = NULL;
    while (!(end = strstr(buf, "\r\n\r\n"))) {
        if (have + 1 >= len)
            return -1;
        ssize_t r = read(fd, buf + have, len - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
    }
    int status = atoi(buf + 9);
    const char *cl = strstr(buf, "Content-Length: ");
    size_t body = cl ? (size_t)atol(cl + 16) : 0;
    size_t head = (size_t)(end + 4 - buf);
    while (have < head + body) {
        char sink[4096];
        size_t want = head + body - have;
        ssize_t r = read(fd, sink, want < sizeof sink ? want : sizeof sink);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    return status;
}

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
    int fd = s_connect(sh->port);
    char req[1024], body[512], resp[16384];
    long long n_sent = 0;
    int phase;
    if (fd < 0) {
        snprintf(c->first_error, sizeof c->first_error, "could not connect");
        return NULL;
    }
    while ((phase = atomic_load(&sh->phase)) != PHASE_STOP) {
        n_sent++;
        int blen =
            snprintf(body, sizeof body,
                     "{\"name\":\"Http Person %d-%lld\",\"emails\":[\"h%lld.%d.%lld@bench."
                     "example\"],\"phones\":[\"+49%03d%09lld\"],\"country\":\"DE\","
                     "\"owner\":\"bench\"}",
                     c->id, n_sent, sh->run_tag, c->id, n_sent, c->id % 1000, n_sent % 1000000000);
        int rlen = snprintf(req, sizeof req,
                            "POST /v1/people HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                            "Content-Length: %d\r\n\r\n%s",
                            sh->token, blen, body);
        resp[0] = '\0';
        int64_t t0 = bench_mono_ns();
        int st =
            s_write_all(fd, req, (size_t)rlen) == 0 ? s_read_response(fd, resp, sizeof resp) : -1;
        int64_t t1 = bench_mono_ns();
        if (atomic_load(&sh->phase) == PHASE_MEASURE && phase == PHASE_MEASURE) {
            if (st == 201) {
                c->ok++;
                s_lat_add(c, (double)(t1 - t0) / 1e6);
            } else if (st == 503) {
                /* The service said it is busy (its queue bound or wait
                 * bound): an answer it owes under load, which wrote
                 * nothing; counted apart from failures, as the command
                 * bench counts UNAVAILABLE. */
                c->unavailable++;
            } else {
                c->failed++;
            }
        }
        if (st != 201 && st != 503 && !c->first_error[0])
            snprintf(c->first_error, sizeof c->first_error, "status %d: %.150s", st,
                     strstr(resp, "\r\n\r\n") ? strstr(resp, "\r\n\r\n") + 4 : "");
        if (st < 0) {
            close(fd);
            fd = s_connect(sh->port);
            if (fd < 0)
                break;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void s_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    s_shared_t sh;
    sh.port = (int)bench_opt_ll(argc, argv, "--port", 0);
    sh.token = getenv("BENCH_API_TOKEN");
    if (sh.port <= 0 || !sh.token || !*sh.token) {
        fprintf(stderr,
                "usage: BENCH_API_TOKEN=T %s --port P [--clients N] [--seconds S] [--warmup S]\n",
                argv[0]);
        return 2;
    }
    int n = (int)bench_opt_ll(argc, argv, "--clients", 32);
    long long seconds = bench_opt_ll(argc, argv, "--seconds", 10);
    long long warmup = bench_opt_ll(argc, argv, "--warmup", 1);
    sh.run_tag = (long long)time(NULL);
    atomic_init(&sh.phase, PHASE_WARMUP);
    s_client_t *cs = calloc((size_t)n, sizeof *cs);
    if (!cs)
        return 1;
    for (int i = 0; i < n; i++) {
        cs[i].sh = &sh;
        cs[i].id = i;
        pthread_create(&cs[i].th, NULL, s_client_run, &cs[i]);
    }
    s_sleep_ms(warmup * 1000);
    atomic_store(&sh.phase, PHASE_MEASURE);
    int64_t t0 = bench_mono_ns();
    s_sleep_ms(seconds * 1000);
    atomic_store(&sh.phase, PHASE_STOP);
    int64_t t1 = bench_mono_ns();
    int64_t ok = 0, failed = 0, unavailable = 0;
    size_t nl = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(cs[i].th, NULL);
        ok += cs[i].ok;
        failed += cs[i].failed;
        unavailable += cs[i].unavailable;
        nl += cs[i].n_lat;
    }
    double *all = malloc((nl ? nl : 1) * sizeof *all);
    size_t k = 0;
    const char *first_error = NULL;
    for (int i = 0; i < n; i++) {
        if (all)
            for (size_t j = 0; j < cs[i].n_lat; j++)
                all[k++] = cs[i].lat_ms[j];
        if (!first_error && cs[i].first_error[0])
            first_error = cs[i].first_error;
    }
    bench_sort(all, k);
    double secs = (double)(t1 - t0) / 1e9;
    printf("{\"clients\": %d, \"seconds\": %.2f, \"requests_per_s\": %.1f, \"ok\": %lld, "
           "\"failed\": %lld, \"unavailable\": %lld, "
           "\"rtt_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f}, \"first_error\": ",
           n, secs, (double)ok / secs, (long long)ok, (long long)failed, (long long)unavailable,
           bench_percentile(all, k, 50), bench_percentile(all, k, 99), k ? all[k - 1] : 0.0);
    if (first_error)
        bench_json_string(stdout, first_error);
    else
        printf("null");
    printf("}\n");
    bench_log(S_PROG, "%d clients: %.1f requests/s", n, (double)ok / secs);
    for (int i = 0; i < n; i++)
        free(cs[i].lat_ms);
    free(cs);
    free(all);
    return 0;
}
