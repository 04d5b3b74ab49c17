/* crm/zwatch.h: a ZeroMQ socket watched by a libuv loop.
 *
 * ZMQ_FD is edge-triggered and signals "something changed", not "a message
 * is here": on each edge the watcher lets the owner drain the socket with
 * ZMQ_DONTWAIT up to a batch cap, and if messages remain it re-arms itself
 * on the next loop pass (a uv_idle) rather than waiting for an edge that
 * will not come. The receive that finds the socket empty re-arms the edge
 * (libzmq processes the socket's commands in it), so no ZMQ_EVENTS check is
 * needed around the drain. After sending on the socket call crm_zwatch_kick():
 * a send can consume the edge of a pending inbound message. */
#ifndef CRM_ZWATCH_H
#define CRM_ZWATCH_H

#include <uv.h>

typedef struct crm_zwatch crm_zwatch_t;

/* Called on the loop thread when the socket may be readable. The callback
 * receives with ZMQ_DONTWAIT until a receive fails or it has taken `cap`
 * messages, and returns how many it took; if it took `cap`, the watcher
 * calls it again on the next pass. It must not stop early otherwise: the
 * failed receive is what re-arms ZMQ_FD. */
typedef int (*crm_zwatch_fn)(crm_zwatch_t *w, void *zsock, int cap, void *arg);

/* Does not own zsock. Returns NULL on failure. Caller owns the watcher. */
crm_zwatch_t *crm_zwatch_new(uv_loop_t *loop, void *zsock, int cap, crm_zwatch_fn fn, void *arg);

/* Calls the callback soon (on the next loop pass). */
void crm_zwatch_kick(crm_zwatch_t *self);

/* Stops watching; memory is released from close callbacks. Does not close
 * zsock. NULLs *self_p; safe on NULL. */
void crm_zwatch_destroy(crm_zwatch_t **self_p);

#endif
