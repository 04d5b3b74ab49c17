/* bench_util.c: helpers shared by the benchmark programs (see bench_util.h). */
#include "bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <zmq.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *bench_opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

long long bench_opt_ll(int argc, char **argv, const char *name, long long def)
{
    const char *s = bench_opt(argc, argv, name, NULL);
    if (!s)
        return def;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || end == s) {
        fprintf(stderr, "%s: option %s wants an integer, got \"%s\"\n", argv[0], name, s);
        exit(2);
    }
    return v;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

void bench_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, s_cmp_double);
}

double bench_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

int bench_http_get(int port, const char *path, char *buf, size_t len)
{
    if (len == 0)
        return -1;
    buf[0] = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    char rq[512];
    int n = snprintf(rq, sizeof rq,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (n <= 0 || (size_t)n >= sizeof rq || write(fd, rq, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t at = 0;
    for (;;) {
        ssize_t r = read(fd, buf + at, len - 1 - at);
        if (r <= 0)
            break;
        at += (size_t)r;
        if (at == len - 1)
            break;
    }
    buf[at] = 0;
    close(fd);
    return (int)at;
}

double bench_metric(const char *text, const char *name)
{
    size_t nl = strlen(name);
    double sum = 0;
    int found = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (!strncmp(line, name, nl) && (line[nl] == '{' || line[nl] == ' ')) {
            const char *sp = NULL;
            for (const char *p = line; p < (eol ? eol : line + strlen(line)); p++)
                if (*p == ' ')
                    sp = p;
            if (sp) {
                sum += strtod(sp + 1, NULL);
                found = 1;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return found ? sum : -1;
}

void bench_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void bench_log(const char *prog, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%s] %s\n", prog, msg);
}

static crm_creds_t *s_creds;

const crm_creds_t *bench_creds(void)
{
    if (!s_creds) {
        char err[1024];
        s_creds = crm_creds_from_env(err, sizeof err);
        if (!s_creds) {
            fprintf(stderr, "bench: %s\n", err);
            exit(2);
        }
    }
    return s_creds;
}

void bench_curve_client(void *sock, const char *server)
{
    char err[512];
    if (crm_creds_client(bench_creds(), sock, server, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        exit(2);
    }
}

void bench_curve_server(void *sock)
{
    const crm_creds_t *c = bench_creds();
    if (crm_creds_plaintext(c))
        return;
    crm_keypair_t kp;
    char err[512];
    const char *path = getenv("CRM_KEY_FILE");
    int one = 1;
    if (!path || crm_keypair_read(path, 1, &kp, err, sizeof err) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp.secret_key, CRM_KEY_Z85_LEN) != 0) {
        fprintf(stderr, "bench: could not make a CURVE server (CRM_KEY_FILE)\n");
        exit(2);
    }
}
