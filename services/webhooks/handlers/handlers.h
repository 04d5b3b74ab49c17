/* handlers/handlers.h: one function per command or consumed event, named
 * in commands.c. */
#ifndef WEBHOOKS_HANDLERS_H
#define WEBHOOKS_HANDLERS_H

#include "webhooks.h"

#include "crm/v1/webhooks.pb-c.h"

/* handlers/subscription.c */
void wh_subscription_create(crm_work_t *w);
void wh_subscription_get(crm_work_t *w);
void wh_subscription_list(crm_work_t *w);
void wh_subscription_update(crm_work_t *w);
void wh_subscription_delete(crm_work_t *w);

/* handlers/delivery.c */
void wh_delivery_list(crm_work_t *w);
void wh_delivery_retry(crm_work_t *w);
/* The consumers: every event of the four streams. */
void wh_apply(crm_work_t *w);

#endif
