/* webhook.c: `crmctl webhook create|list|show|update|enable|disable|delete|
 * deliveries|retry`, over webhooks.subscription.* and webhooks.delivery.*
 * of crm-webhooks (webhooks.proto). Tables for the request engine
 * (request.h), as the support verbs. */
#define REQ_PROTO_FILE "webhooks.proto"
#include "request.h"

#include "crm/v1/webhooks.pb-c.h"

#include <stdio.h>

#define WEBHOOK_SERVICE "webhooks"

#define WEBHOOK_CREATE(X)                                                                          \
    X("types", "PREFIX", "event type prefixes to send, comma-separated or repeated (required)", 1, \
      "event_types", REQ_LIST, REQ_REQUIRED)                                                       \
    X("secret", "whsec_...", "the signing secret (default: a new random one, printed once)", 0,    \
      "secret", REQ_STR, 0)                                                                        \
    X("description", "TEXT", "what the subscription is for", 0, "description", REQ_STR, 0)         \
    REQ_WRITE(X)
#define WEBHOOK_UPDATE(X)                                                                          \
    X("types", "PREFIX", "replace the event type prefixes", 1, "event_types", REQ_LIST, 0)         \
    X("url", "URL", "a new URL", 0, "url", REQ_STR, 0)                                             \
    X("description", "TEXT", "a new description", 0, "description", REQ_STR, 0)                    \
    REQ_WRITE(X)
#define WEBHOOK_ID(X) REQ_WRITE(X)
#define WEBHOOK_SHOW(X) REQ_COMMON(X)
#define WEBHOOK_LIST(X) REQ_PAGING(X)
#define WEBHOOK_DELIVERIES(X)                                                                      \
    X("subscription", "ID", "only this subscription's deliveries", 0, "subscription_id", REQ_STR,  \
      0)                                                                                           \
    X("status", "STATUS", "pending, failed or delivered", 0, "status", REQ_ENUM, 0)                \
    REQ_PAGING(X)
#define WEBHOOK_RETRY(X)                                                                           \
    X("subscription", "ID", "every failed delivery of this subscription instead of one", 0,        \
      "subscription_id", REQ_STR, 0)                                                               \
    REQ_WRITE(X)

REQ_OPTIONS(webhook_create, WEBHOOK_CREATE);
REQ_OPTIONS(webhook_update, WEBHOOK_UPDATE);
REQ_OPTIONS(webhook_enable, WEBHOOK_ID);
REQ_OPTIONS(webhook_disable, WEBHOOK_ID);
REQ_OPTIONS(webhook_delete, WEBHOOK_ID);
REQ_OPTIONS(webhook_show, WEBHOOK_SHOW);
REQ_OPTIONS(webhook_list, WEBHOOK_LIST);
REQ_OPTIONS(webhook_deliveries, WEBHOOK_DELIVERIES);
REQ_OPTIONS(webhook_retry, WEBHOOK_RETRY);

static const req_col_t s_sub_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"URL", "url", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"TYPES", "event_types", REQ_V_JOIN, REQ_IN_BOTH, NULL},
    {"ENABLED", "enabled", REQ_V_BOOL, REQ_IN_BOTH, NULL},
    {"UNDELIVERED", "undelivered", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"FAILING SINCE", "failing_since_us", REQ_V_DATETIME, REQ_IN_BOTH, NULL},
    {"DISABLED BECAUSE", "disabled_reason", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DESCRIPTION", "description", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    /* Only in the reply to create: the one time it is shown. */
    {"SECRET", "secret", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_delivery_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"SUBSCRIPTION", "subscription_id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"EVENT", "event_type", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"SOURCE", "source", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"SEQ", "sequence", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__webhook_delivery_status__descriptor},
    {"ATTEMPTS", "attempts", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"HTTP", "last_http_status", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NEXT ATTEMPT", "next_attempt_at_us", REQ_V_DATETIME, REQ_IN_BOTH, NULL},
    {"LAST ERROR", "last_error", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const char *const s_url_arg[] = {"url", NULL};

static int s_enable(const crmctl_t *ctl, json_t *request)
{
    (void)ctl;
    return req_set(request, "enabled", json_true()) < 0 ? CRMCTL_EXIT_USAGE : 0;
}

static int s_disable(const crmctl_t *ctl, json_t *request)
{
    (void)ctl;
    return req_set(request, "enabled", json_false()) < 0 ? CRMCTL_EXIT_USAGE : 0;
}

static int s_print_deleted(const req_verb_t *verb, const json_t *reply)
{
    (void)verb;
    int64_t n = 0;
    req_i64(json_object_get(reply, "deliveries_dropped"), &n);
    printf("subscription %s deleted with %lld deliveries\n", req_str(reply, "id"), (long long)n);
    return CRMCTL_EXIT_OK;
}

static int s_print_retried(const req_verb_t *verb, const json_t *reply)
{
    (void)verb;
    int64_t n = 0;
    req_i64(json_object_get(reply, "retried"), &n);
    printf("%lld failed deliveries due now\n", (long long)n);
    return CRMCTL_EXIT_OK;
}

static int s_retry_check(const crmctl_t *ctl, json_t *request)
{
    (void)ctl;
    if (!req_present(json_object_get(request, "id")) &&
        !req_present(json_object_get(request, "subscription_id"))) {
        fprintf(stderr, "crmctl: give a delivery ID or --subscription ID\n");
        return CRMCTL_EXIT_USAGE;
    }
    return 0;
}

#define S_VERB(cmd, rq, rp)                                                                        \
    .service = WEBHOOK_SERVICE, .proto = "webhooks.proto", .command = cmd,                         \
    .request = &crm__v1__##rq##__descriptor, .reply = &crm__v1__##rp##__descriptor

static const req_verb_t s_webhook_create = {
    S_VERB("webhooks.subscription.create", create_webhook_subscription_request,
           webhook_subscription_reply),
    .fields = s_webhook_create_fields,
    .positional = s_url_arg,
    .min_positional = 1,
    .noun = "subscription",
    .entity = "subscription",
    .view = s_sub_view,
    .done = "created",
};

static const req_verb_t s_webhook_update = {
    S_VERB("webhooks.subscription.update", update_webhook_subscription_request,
           webhook_subscription_reply),
    .fields = s_webhook_update_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "subscription",
    .entity = "subscription",
    .view = s_sub_view,
    .done = "updated",
};

static const req_verb_t s_webhook_enable = {
    S_VERB("webhooks.subscription.update", update_webhook_subscription_request,
           webhook_subscription_reply),
    .fields = s_webhook_enable_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "subscription",
    .entity = "subscription",
    .view = s_sub_view,
    .done = "enabled",
    .check = s_enable,
};

static const req_verb_t s_webhook_disable = {
    S_VERB("webhooks.subscription.update", update_webhook_subscription_request,
           webhook_subscription_reply),
    .fields = s_webhook_disable_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "subscription",
    .entity = "subscription",
    .view = s_sub_view,
    .done = "disabled",
    .check = s_disable,
};

static const req_verb_t s_webhook_delete = {
    S_VERB("webhooks.subscription.delete", webhook_subscription_id_request,
           delete_webhook_subscription_reply),
    .fields = s_webhook_delete_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "subscription",
    .print = s_print_deleted,
};

static const req_verb_t s_webhook_show = {
    S_VERB("webhooks.subscription.get", webhook_subscription_id_request,
           webhook_subscription_reply),
    .fields = s_webhook_show_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "subscription",
    .entity = "subscription",
    .view = s_sub_view,
};

static const req_verb_t s_webhook_list = {
    S_VERB("webhooks.subscription.list", list_webhook_subscriptions_request,
           list_webhook_subscriptions_reply),
    .fields = s_webhook_list_fields,
    .items = "subscriptions",
    .noun = "subscription",
    .view = s_sub_view,
};

static const req_verb_t s_webhook_deliveries = {
    S_VERB("webhooks.delivery.list", list_webhook_deliveries_request,
           list_webhook_deliveries_reply),
    .fields = s_webhook_deliveries_fields,
    .items = "deliveries",
    .noun = "delivery",
    .plural = "deliveries",
    .view = s_delivery_view,
};

static const req_verb_t s_webhook_retry = {
    S_VERB("webhooks.delivery.retry", retry_webhook_delivery_request, retry_webhook_delivery_reply),
    .fields = s_webhook_retry_fields,
    .positional = req_id_arg,
    .min_positional = 0,
    .noun = "delivery",
    .print = s_print_retried,
    .check = s_retry_check,
};

#define WEBHOOK_HANDLER(name)                                                                      \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args)                                    \
    {                                                                                              \
        return crmctl_request_run(ctl, args, &s_##name);                                           \
    }
CRMCTL_WEBHOOK_VERBS(WEBHOOK_HANDLER)
