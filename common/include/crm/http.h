/* crm/http.h: a small HTTP/1.1 server on a libuv loop for operator endpoints
 * (/livez, /readyz, /metrics). Parsing is done by llhttp; this module owns
 * the sockets, keeps connections bounded and never blocks the loop.
 *
 * It is not a general web server: GET/HEAD only, bodies of requests are
 * ignored (and capped), responses are produced synchronously by a callback. */
#ifndef CRM_HTTP_H
#define CRM_HTTP_H

#include <stddef.h>
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

#endif
