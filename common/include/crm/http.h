/* crm/http.h: a small HTTP/1.1 server on a libuv loop for operator endpoints
 * (/livez, /readyz, /metrics). Parsing is done by llhttp; this module owns
 * the sockets, keeps connections bounded and never blocks the loop.
 *
 * The operator endpoint (crm_http_new) is not a general web server: GET/HEAD
 * only, bodies of requests are ignored (and capped), responses are produced
 * synchronously by a callback. The application mode (crm_http_new_app, for
 * the HTTP/JSON gateway crm-api) takes every method, keeps the request's
 * headers and body (bounded), and lets the answer come later from another
 * callback, or as a stream (Server-Sent Events). */
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
    uint64_t too_large;        /* answered 413: request over the size limit */
    uint64_t bad_requests;     /* answered 400/414: not HTTP/1.1 the parser takes */
    size_t open;               /* connections open now */
} crm_http_stats_t;

/* Replaces the limits (defaults until called); zero fields keep their
 * default. Applies to connections accepted and timers armed from now on.
 * Returns 0 or -EINVAL. */
int crm_http_set_limits(crm_http_t *self, const crm_http_limits_t *limits);

/* ---- application mode ---------------------------------------------------- */

/* One request of an application-mode server. It lives until the
 * application answers it with crm_http_req_respond or ends its stream with
 * crm_http_req_stream_end, even when the connection has gone meanwhile
 * (then the answer is dropped). While one request is outstanding no
 * further request of the same connection is read. */
typedef struct crm_http_req crm_http_req_t;

/* Called once per complete request on the loop thread; answers now or
 * later. */
typedef void (*crm_http_app_fn)(crm_http_req_t *req, void *arg);

/* As crm_http_new, in application mode: request bodies up to `max_body`
 * bytes are kept (a larger one is answered 413 with an
 * application/problem+json body and the connection is closed). */
crm_http_t *crm_http_new_app(uv_loop_t *loop, const char *host, int port, crm_http_app_fn fn,
                             void *arg, size_t max_body, char *err, size_t errlen);

/* "GET", "POST"...; the path without the query; the query without '?'
 * ("" when none); valid while the request lives. */
const char *crm_http_req_method(const crm_http_req_t *req);
const char *crm_http_req_path(const crm_http_req_t *req);
const char *crm_http_req_query(const crm_http_req_t *req);
/* The value of header `name` (case-insensitive; the first if repeated), or
 * NULL. */
const char *crm_http_req_header(const crm_http_req_t *req, const char *name);
/* The body (NUL-terminated for convenience) and its length. */
const char *crm_http_req_body(const crm_http_req_t *req, size_t *len);
/* The peer's address as text ("" when unknown). */
const char *crm_http_req_peer(const crm_http_req_t *req);
/* 1 while the connection is open. */
int crm_http_req_alive(const crm_http_req_t *req);

/* Called at most once, when the connection closes before the request was
 * answered or its stream ended; the application must still answer or end
 * it (which then only frees it). */
void crm_http_req_on_close(crm_http_req_t *req, void (*fn)(crm_http_req_t *req, void *arg),
                           void *arg);

/* Answers and frees the request; NULLs *req_p. `headers` (may be NULL) are
 * extra header lines, each ending in CRLF. */
void crm_http_req_respond(crm_http_req_t **req_p, int status, const char *type, const char *headers,
                          const char *body, size_t len);

/* Starts a streamed answer: the head without Content-Length, then the body
 * until crm_http_req_stream_end closes the connection. Returns 0 or a
 * negative error (the connection is gone). */
int crm_http_req_stream_start(crm_http_req_t *req, int status, const char *type,
                              const char *headers);
/* Queues `len` bytes of the stream. Returns 0, -ECONNRESET when the
 * connection is gone, or -ENOBUFS when the client reads too slowly (more
 * than a megabyte waits); then end the stream. */
int crm_http_req_stream_write(crm_http_req_t *req, const char *data, size_t len);
/* Ends the stream (the connection closes after what is queued) and frees
 * the request; NULLs *req_p. */
void crm_http_req_stream_end(crm_http_req_t **req_p);

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
