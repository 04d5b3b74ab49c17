/* bridge.h: the NATS side of crm-bridge-nats.
 *
 * One connection to NATS, the JetStream stream the bridge keeps, and the
 * publish of one consumed event at a time per source. libnats does its I/O
 * and calls its acknowledgement handler on threads of its own; everything
 * here that touches a work runs on the service's loop, where completions
 * are brought back through a uv_async_t. Connecting and creating the
 * stream are blocking calls of libnats, so they run on libuv's thread pool.
 *
 * Subject rule: an event of type T (which starts with "crm.<source>.") is
 * published on subject T itself, so the subject is crm.<source>.<rest of
 * the type>; "crm.sales.>" selects one source and "crm.>" all of them. A
 * type that is not a valid NATS subject (an empty token, whitespace, '*'
 * or '>') is refused. */
#ifndef BRIDGE_NATS_BRIDGE_H
#define BRIDGE_NATS_BRIDGE_H

#include <crm/service.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct {
    const char *url;        /* nats://host:port[,nats://...] */
    const char *stream;     /* JetStream stream name, "CRM" */
    int replicas;           /* stream replicas (1 on one server) */
    int64_t max_age_s;      /* retention by age; 0 = unlimited */
    int64_t dup_window_s;   /* JetStream's duplicate window (Nats-Msg-Id) */
    int64_t ack_timeout_ms; /* wait for one acknowledgement before retrying */
    int64_t retry_ms;       /* pause before publishing again after an error */
    int cloudevents;        /* body: io.cloudevents.v1.CloudEvent, else crm.v1.Event */
} bridge_opts_t;

typedef struct bridge bridge_t;

/* Starts connecting and setting up the stream in the background. Strings in
 * `opts` are copied. Returns NULL on ENOMEM or a failed handle. At most one
 * bridge per process (libnats calls back into it from its threads). */
bridge_t *bridge_new(uv_loop_t *loop, const bridge_opts_t *opts);

/* Stops publishing and closes the connection (off the loop). Works still
 * waiting for an acknowledgement are left as they are: their positions are
 * not committed, so the next start publishes them again (deduplicated by
 * JetStream within its window). Sets *self_p to NULL. */
void bridge_destroy(bridge_t **self_p);

/* The consumer handler's half: publishes the work's event and suspends the
 * work until JetStream acknowledged it (then crm_work_ok) or, for an event
 * that can never be published (its type is no valid subject), fails it.
 * Errors of NATS itself (down, no stream, timeout) are retried every
 * retry_ms for as long as it takes: the position waits. */
void bridge_publish(bridge_t *b, crm_work_t *w);

/* The subject of an event of type `type` from `source` into out. Returns 0,
 * or -EINVAL when the type does not start with "crm.<source>." or is not a
 * valid NATS subject, or -ENOSPC. */
int bridge_subject(const char *type, const char *source, char *out, size_t len);

#endif
