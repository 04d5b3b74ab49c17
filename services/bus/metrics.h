/* metrics.h: crm-bus's /livez, /readyz and /metrics.
 *
 * The proxy runs its own zmq_poll loop on the main thread (proxy.c), and the
 * HTTP endpoint (crm/http.h) needs a libuv loop; so the endpoint gets a
 * thread of its own with its own loop. The two share nothing but the
 * figures below: the proxy stores them after each pass of its loop, the
 * endpoint reads them at each scrape, both with relaxed atomics (each
 * figure has one writer, and a scrape needs no consistency across them).
 * No ZeroMQ socket crosses to the HTTP thread. */
#ifndef CRM_BUS_METRICS_H
#define CRM_BUS_METRICS_H

#include "proxy.h"

#include <crm/http.h>
#include <crm/zap.h>

typedef struct crm_bus_metrics crm_bus_metrics_t;

/* Listens on host:port (0 = any) and serves from a new thread. Returns NULL
 * with a message in err. Caller owns the result; stop it with
 * crm_bus_metrics_stop. */
crm_bus_metrics_t *crm_bus_metrics_start(const char *host, int port,
                                         const crm_http_limits_t *limits, char *err, size_t errlen);

/* The port as bound. */
int crm_bus_metrics_port(const crm_bus_metrics_t *self);

/* A crm_bus_publish_fn, called on the proxy's thread with `self` (a
 * crm_bus_metrics_t): stores the current figures (and the ZAP handler's
 * refusal counts; `zap` is NULL in plaintext mode) for the next scrape, and
 * whether the bus is ready (both sides bound and forwarding). */
void crm_bus_metrics_publish(void *self, const crm_bus_stats_t *stats, const crm_zap_t *zap,
                             int ready);

/* Stops the endpoint, joins its thread and frees it; NULLs *self_p. */
void crm_bus_metrics_stop(crm_bus_metrics_t **self_p);

#endif
