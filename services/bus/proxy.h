/* proxy.h: crm-bus's XSUB/XPUB forwarding with a check on every
 * publication. */
#ifndef CRM_BUS_PROXY_H
#define CRM_BUS_PROXY_H

#include <crm/zap.h>

/* Forwards publications from `xsub` to `xpub` and subscriptions back, and
 * answers ZAP requests, on the calling thread until "TERMINATE" arrives on
 * `control`; "RELOAD" rereads the directory, and when keys were revoked
 * binds `xpub` at `xpub_endpoint` afresh so every subscriber passes the
 * handshake again. A publication is forwarded only when its sender is a
 * service principal still in the directory and its topic starts with
 * "crm.<that service>."; anything else is dropped and counted (reasons
 * "revoked" and "topic"). `zap` NULL (plaintext mode) forwards everything.
 * Returns 0, or -1 when polling failed. */
int crm_bus_proxy_run(void *xsub, void *xpub, void *control, crm_zap_t *zap,
                      const char *xpub_endpoint);

#endif
