/* proxy.h: crm-bus's forwarding loop, with the checks a plain zmq_proxy
 * cannot make. */
#ifndef CRM_BUS_PROXY_H
#define CRM_BUS_PROXY_H

#include <crm/zap.h>

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
    int64_t subs_too_long; /* subscriptions (or unsubscriptions) malformed or over max_topic */
    int64_t subs_over_cap; /* new topics over max_subscriptions, not passed upstream */
    int64_t subscriptions; /* distinct topics subscribed upstream now */
    int64_t unauthorised;  /* sender not a service principal still in the directory,
                              or publishing as another source */
} crm_bus_stats_t;

/* Forwards publishers' messages from `xsub` to `xpub` and subscriptions the
 * other way, and answers ZAP requests, on the calling thread until
 * "TERMINATE" arrives on `control`. "RELOAD" rereads the directory, and when
 * keys were revoked binds `xpub` at `xpub_endpoint` (the endpoint as bound,
 * not port 0) afresh so every subscriber passes the handshake again. With
 * `zap`, a publication passes only when its sender is a service principal
 * still in the directory whose name is the event's source (topic
 * "crm.<name>."); `zap` NULL (plaintext mode) skips that check. Returns 0,
 * or -1 when polling fails. `stats` is updated as it goes (read it from this
 * thread only), and after each pass of the loop handed to `publish` (when
 * not NULL) with `arg`, the ZAP handler and whether the bus is forwarding. */
typedef void (*crm_bus_publish_fn)(void *arg, const crm_bus_stats_t *stats, const crm_zap_t *zap,
                                   int ready);
int crm_bus_proxy_run(void *xsub, void *xpub, void *control, const crm_bus_limits_t *limits,
                      crm_bus_stats_t *stats, crm_zap_t *zap, const char *xpub_endpoint,
                      crm_bus_publish_fn publish, void *arg);

#endif
