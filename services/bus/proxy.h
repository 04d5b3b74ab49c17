/* proxy.h: crm-bus's forwarding loop, with the checks a plain zmq_proxy
 * cannot make. */
#ifndef CRM_BUS_PROXY_H
#define CRM_BUS_PROXY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t max_topic;         /* longest subscription topic passed on */
    size_t max_subscriptions; /* distinct topics passed upstream at once */
} crm_bus_limits_t;

typedef struct {
    int64_t forwarded;     /* events and heartbeats passed on */
    int64_t refused;       /* wrong topic for the source, or not from its publisher */
    int64_t malformed;     /* not [topic][Event] or [topic][Heartbeat] */
    int64_t subs_refused;  /* subscriptions over a limit, not passed upstream */
    int64_t subscriptions; /* distinct topics subscribed upstream now */
} crm_bus_stats_t;

/* Forwards publishers' messages from `xsub` to `xpub` and subscriptions the
 * other way until "TERMINATE" arrives on `control`. Returns 0, or -1 when
 * polling fails. `stats` is updated as it goes (read it from this thread
 * only). */
int crm_bus_proxy_run(void *xsub, void *xpub, void *control, const crm_bus_limits_t *limits,
                      crm_bus_stats_t *stats);

#endif
