/* sender.h: HTTP POSTs with libcurl's multi interface, driven by the
 * service's libuv loop (curl_multi_socket_action on uv_poll_t and one
 * uv_timer_t): many requests at once and not one blocking call, since the
 * loop also serves commands, consumers and the database.
 *
 * Name resolution is libcurl's threaded resolver (Debian's libcurl is
 * built with it), so even that never blocks the loop. */
#ifndef WEBHOOKS_SENDER_H
#define WEBHOOKS_SENDER_H

#include <stddef.h>
#include <uv.h>

typedef struct wh_sender wh_sender_t;

/* The outcome of one POST: the HTTP status (0 when no answer came) and,
 * when the transfer itself failed (refused, timeout), libcurl's reason. */
typedef void (*wh_sent_fn)(void *arg, long http_status, const char *error);

/* A sender on `loop`; each request gives up after timeout_ms. Caller owns
 * the result (wh_sender_close); NULL on ENOMEM or when libcurl could not
 * start. curl_global_init must have run. */
wh_sender_t *wh_sender_new(uv_loop_t *loop, long timeout_ms);

/* POSTs `body` (borrowed until `cb` runs) to `url` with the extra header
 * lines `headers` (n of them, "Name: value", copied). `cb` runs once, on
 * the loop, from a later callback, unless the sender is closed first (then
 * never: the caller forgets its requests). Returns 0 or -ENOMEM / -EINVAL
 * (then `cb` never runs). */
int wh_sender_post(wh_sender_t *self, const char *url, const char *const *headers, size_t n,
                   const char *body, size_t body_len, wh_sent_fn cb, void *arg);

/* Requests in flight. */
size_t wh_sender_active(const wh_sender_t *self);

/* Drops every request (their callbacks never run) and frees the sender
 * once its handles are closed, after the loop's next pass. NULLs *self_p. */
void wh_sender_close(wh_sender_t **self_p);

#endif
