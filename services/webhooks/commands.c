/* commands.c: the whole surface of crm-webhooks on one screen: every
 * command with its request message, whether it only reads and what it
 * touches (the "webhook" record type, which only admins hold), and the
 * consumers of the four streams. The handlers are in handlers/. */
#include "webhooks.h"

#include "handlers/handlers.h"

#define S_CMD(name, msg, fn, ro, act)                                                              \
    {                                                                                              \
        name, &crm__v1__##msg##__descriptor, fn, ro, CRM_REC_WEBHOOK, CRM_ACT_##act                \
    }

const crm_command_def_t webhooks_commands[] = {
    /* handlers/subscription.c */
    S_CMD("webhooks.subscription.create", create_webhook_subscription_request,
          wh_subscription_create, 0, CREATE),
    S_CMD("webhooks.subscription.get", webhook_subscription_id_request, wh_subscription_get, 1,
          READ),
    S_CMD("webhooks.subscription.list", list_webhook_subscriptions_request, wh_subscription_list, 1,
          READ),
    S_CMD("webhooks.subscription.update", update_webhook_subscription_request,
          wh_subscription_update, 0, EDIT),
    S_CMD("webhooks.subscription.delete", webhook_subscription_id_request, wh_subscription_delete,
          0, DELETE),
    /* handlers/delivery.c */
    S_CMD("webhooks.delivery.list", list_webhook_deliveries_request, wh_delivery_list, 1, READ),
    S_CMD("webhooks.delivery.retry", retry_webhook_delivery_request, wh_delivery_retry, 0, EDIT),
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};

/* handlers/delivery.c: every event of each source, one consumer per source
 * so that each keeps its own position. */
static const char *const s_sales[] = {"crm.sales.", NULL};
static const char *const s_marketing[] = {"crm.marketing.", NULL};
static const char *const s_support[] = {"crm.support.", NULL};
static const char *const s_analytics[] = {"crm.analytics.", NULL};

const crm_consumer_def_t webhooks_consumers[] = {
    {"webhooks.sales", s_sales, wh_apply},
    {"webhooks.marketing", s_marketing, wh_apply},
    {"webhooks.support", s_support, wh_apply},
    {"webhooks.analytics", s_analytics, wh_apply},
    {NULL, NULL, NULL},
};
