/* crm/client.h: a blocking command client for tools and tests (crmctl,
 * benchmarks, integration tests). Not for use on an event loop.
 *
 * Each call has a deadline and a retry budget: a lost request or reply is
 * retried with the same idempotency key, so the command is applied at most
 * once, and the call never hangs. Stale replies of earlier attempts are
 * recognised by request_id and dropped. */
#ifndef CRM_CLIENT_H
#define CRM_CLIENT_H

#include <crm/creds.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "crm/v1/rpc.pb-c.h"

typedef struct crm_client crm_client_t;

/* Connects a DEALER to `endpoint` over CURVE, as the holder of `creds`'
 * keypair, accepting only the server the directory calls `server` ("sales").
 * `creds` is borrowed and must outlive the client. Returns NULL on failure
 * (crm_creds_client says why a server is unknown). Caller owns the client.
 * `zctx` may be NULL (the client then owns its own context). */
crm_client_t *crm_client_new(void *zctx, const char *endpoint, const crm_creds_t *creds,
                             const char *server);
void crm_client_destroy(crm_client_t **self_p);

/* Sends `command` with `body` (may be NULL) and waits for the reply.
 * `idempotency_key` NULL = a fresh UUID. `timeout_ms` is per attempt;
 * `attempts` >= 1. On return *reply_p (caller frees with
 * crm__v1__command_reply__free_unpacked) holds the reply; when no reply came
 * the function returns -ETIMEDOUT and *reply_p is NULL. Returns 0 when a
 * reply arrived, whatever its status; -EINTR if a signal interrupted the
 * wait. A reply UNAVAILABLE with Status.retry_after_ms (the service's
 * queue was full: the command was never queued) uses up an attempt: the
 * call waits the hint plus an exponential backoff with full jitter and
 * sends the command again with the same idempotency key; the last
 * attempt's reply is returned as it is. */
int crm_client_call(crm_client_t *self, const char *command, const ProtobufCMessage *body,
                    const char *idempotency_key, int timeout_ms, int attempts,
                    Crm__V1__CommandReply **reply_p);

/* The same with a pre-serialised body. */
int crm_client_call_raw(crm_client_t *self, const char *command, const uint8_t *body, size_t len,
                        const char *idempotency_key, int timeout_ms, int attempts,
                        Crm__V1__CommandReply **reply_p);

/* For a program that keeps many clients' requests in flight on one thread
 * (crm-bench-commands): the client's DEALER, to poll its ZMQ_FD; a send
 * that does not wait; and a receive that does not wait. */
void *crm_client_socket(crm_client_t *self);

/* Sends `command` once without waiting (ZMQ_DONTWAIT); `idempotency_key`
 * NULL = a fresh UUID. Sets *request_id, which the reply carries. Returns 0
 * or -errno. */
int crm_client_send(crm_client_t *self, const char *command, const uint8_t *body, size_t len,
                    const char *idempotency_key, uint64_t *request_id);

/* Takes one reply if one is there (ZMQ_DONTWAIT), whatever its request_id
 * (the caller matches it): 1 with *reply_p set (caller frees), 0 when none
 * is waiting, -errno on error. Frames that are not a reply are dropped.
 * Receive until it returns 0 before waiting on the socket's ZMQ_FD again:
 * that receive is what re-arms the descriptor. */
int crm_client_recv(crm_client_t *self, Crm__V1__CommandReply **reply_p);

/* 1 if rep is "service overloaded" (UNAVAILABLE with a retry hint: it was
 * never queued, so sending it again with the same key is safe), else 0. */
int crm_client_busy(const Crm__V1__CommandReply *rep);

/* Milliseconds to wait before attempt `attempt` + 1 after such a reply:
 * the service's hint plus exponential backoff with full jitter (a random
 * wait in [0, 20 ms * 2^attempt], at most 2 s), so clients refused together
 * do not come back together. What crm_client_call sleeps; for a client
 * with its own loop. */
int64_t crm_client_retry_ms(int attempt, uint32_t hint_ms);

/* Sets the request's actor field (default: $USER or "crmctl"). Services
 * ignore it and record the principal of the key the connection
 * authenticated with; it is kept for wire compatibility. */
void crm_client_set_actor(crm_client_t *self, const char *actor);

/* A readable name of a status code ("not_found"). */
const char *crm_status_name(int code);

#endif
