/* crm/http.h: a small HTTP/1.1 server on a libuv loop for operator endpoints
 * (/livez, /readyz, /metrics). Parsing is done by llhttp; this module owns
 * the sockets, keeps connections bounded and never blocks the loop.
 *
 * It is not a general web server: GET/HEAD only, bodies of requests are
 * ignored (and capped), responses are produced synchronously by a callback. */
#ifndef CRM_HTTP_H
#define CRM_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct crm_http crm_http_t;

/* A response under construction. The handler sets status and appends body. */
typedef struct crm_http_response crm_http_response_t;

/* Called once per complete request on the loop thread. `path` is the request
 * target without the query string, NUL-terminated, valid during the call.
 * The handler must call crm_http_response_status() (default 200) and may
 * append to the body; the response is sent when the handler returns. */
typedef void (*crm_http_handler_fn)(const char *method, const char *path, crm_http_response_t *res,
                                    void *arg);

/* Listens on host:port (port 0 = ephemeral). Returns NULL on failure with a
 * message in err. Caller owns the server; destroy with crm_http_destroy. */
crm_http_t *crm_http_new(uv_loop_t *loop, const char *host, int port, crm_http_handler_fn handler,
                         void *arg, char *err, size_t errlen);

/* Limits that keep slow or hostile clients from taking the endpoint away
 * from health probes. When a new connection would cross a connection limit,
 * the oldest connection (of the same address for the per-address limit) is
 * closed to make room, so the newest client - a health probe that connects,
 * asks and goes - always gets in; a flood only pushes out its own older
 * connections. */
typedef struct {
    size_t max_conns;          /* open connections in total */
    size_t max_conns_per_addr; /* open connections from one IP address */
    uint32_t head_timeout_ms;  /* whole request (head and body) from its first
                                * byte, or from accept; not reset per byte */
    uint32_t idle_timeout_ms;  /* keep-alive wait for the next request */
} crm_http_limits_t;

#define CRM_HTTP_DEFAULT_MAX_CONNS 256
#define CRM_HTTP_DEFAULT_MAX_CONNS_PER_ADDR 32
#define CRM_HTTP_DEFAULT_HEAD_TIMEOUT_MS 5000
#define CRM_HTTP_DEFAULT_IDLE_TIMEOUT_MS 30000

/* Counts of limits crossed, since the server started. */
typedef struct {
    uint64_t evicted_total;    /* closed to make room under max_conns */
    uint64_t evicted_per_addr; /* closed to make room under max_conns_per_addr */
    uint64_t rejected;         /* refused: nothing could be closed to make room */
    uint64_t head_timeouts;    /* closed: request not complete within head_timeout_ms */
    uint64_t idle_timeouts;    /* closed: no new request within idle_timeout_ms */
    size_t open;               /* connections open now */
} crm_http_stats_t;

/* Replaces the limits (defaults until called); zero fields keep their
 * default. Applies to connections accepted and timers armed from now on.
 * Returns 0 or -EINVAL. */
int crm_http_set_limits(crm_http_t *self, const crm_http_limits_t *limits);

/* Fills *stats. */
void crm_http_stats(const crm_http_t *self, crm_http_stats_t *stats);

/* Appends the counters of crm_http_stats in Prometheus text format, each
 * labelled service="<service>". Returns 0 or -ENOMEM. */
int crm_http_metrics(const crm_http_t *self, const char *service, crm_http_response_t *res);

/* The port actually bound (useful after port 0). */
int crm_http_port(const crm_http_t *self);

/* Closes the listener and every connection; memory is released from close
 * callbacks, so the loop must run afterwards until it has no handles left.
 * NULLs *self_p. Safe on NULL. */
void crm_http_destroy(crm_http_t **self_p);

void crm_http_response_status(crm_http_response_t *res, int status);
/* Content-Type header; default "text/plain; charset=utf-8". The string must
 * outlive the handler call (use a literal). */
void crm_http_response_content_type(crm_http_response_t *res, const char *type);
/* Appends to the body; returns 0 or -ENOMEM. */
int crm_http_response_append(crm_http_response_t *res, const char *data, size_t len);
/* printf-style append; returns 0 or -ENOMEM. */
int crm_http_response_printf(crm_http_response_t *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* For a program's `healthcheck` command, not for a loop (it blocks, at
 * most about 3 s per step): sends GET /readyz to host:port (0.0.0.0 and ::
 * mean this machine) and returns 0 when it answers 200, or 1 with the
 * reason on stderr. */
int crm_http_healthcheck(const char *host, int port);

#endif
