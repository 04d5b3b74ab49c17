/* bench_util.h: the little the benchmark programs share: options, clocks,
 * percentiles, a Prometheus text scrape and progress lines on stderr.
 *
 * Benchmarks report figures; they never judge them. Every program prints
 * one JSON object on stdout and its progress on stderr, so bench/bench.py
 * can assemble the suite's single document. */
#ifndef CRM_BENCH_UTIL_H
#define CRM_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <crm/creds.h>

/* Monotonic clock in nanoseconds. */
int64_t bench_mono_ns(void);

/* Value of "--name value" in argv, or `def` when absent. */
const char *bench_opt(int argc, char **argv, const char *name, const char *def);
/* The same parsed as an integer; exits with a message when it is not one. */
long long bench_opt_ll(int argc, char **argv, const char *name, long long def);

/* Sorts `v` in place (ascending). */
void bench_sort(double *v, size_t n);
/* Nearest-rank percentile (0 < p <= 100) of a sorted array; 0 when n == 0. */
double bench_percentile(const double *sorted, size_t n, double p);

/* GET http://127.0.0.1:<port><path> into buf (NUL-terminated, headers
 * included). Returns the number of bytes read or -1. */
int bench_http_get(int port, const char *path, char *buf, size_t len);

/* Sum of every sample of metric `name` (all label sets) in a Prometheus
 * text exposition; -1 when the metric is absent. */
double bench_metric(const char *text, const char *name);

/* Writes `s` as a JSON string literal (quoted, escaped) to `f`. */
void bench_json_string(FILE *f, const char *s);

/* This program's credentials (crm/creds.h: CRM_KEY_FILE and
 * CRM_DIRECTORY_FILE), read on first use; exits with a message when they
 * cannot be read. Call it before starting threads. */
const crm_creds_t *bench_creds(void);
/* Makes `sock` a CURVE client of the service the directory calls `server`;
 * exits with a message when impossible. */
void bench_curve_client(void *sock, const char *server);
/* Makes `sock` a CURVE server with this program's keypair and no ZAP
 * handler: the raw libzmq baseline the bus is compared with. */
void bench_curve_server(void *sock);

/* A progress line on stderr, prefixed with the program's name. */
void bench_log(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
