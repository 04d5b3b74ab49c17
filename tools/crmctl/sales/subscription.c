/* subscription.c: `crmctl subscription add|list|show|change|renew|cancel`,
 * over sales.subscription.*: what plan a customer is on, what it costs a
 * month or a year, and when it renews. */
#include "sales.h"

#define SUBSCRIPTION_ADD(X)                                                                        \
    X("person", "ID", "the customer (required)", 0, "subscription.person_id", REQ_STR,             \
      REQ_REQUIRED)                                                                                \
    X("plan", "NAME", "the product or plan (required)", 0, "subscription.plan", REQ_STR,           \
      REQ_REQUIRED)                                                                                \
    X("amount", "AMOUNT", "the amount per period, e.g. 49.00 (required)", 0,                       \
      "subscription.amount_minor", REQ_MONEY, REQ_REQUIRED)                                        \
    X("currency", "CODE", "ISO 4217 currency of the amount (default: the service's)", 0,           \
      "subscription.currency", REQ_STR, 0)                                                         \
    X("period", "PERIOD", "month (default) or year", 0, "subscription.period", REQ_ENUM, 0)        \
    X("start", "DATE", "when it started, YYYY-MM-DD (default: today)", 0,                          \
      "subscription.start_date", REQ_DATE, 0)                                                      \
    X("renewal", "DATE", "when it next renews (default: one period after the start)", 0,           \
      "subscription.renewal_date", REQ_DATE, 0)                                                    \
    REQ_WRITE(X)
#define SUBSCRIPTION_LIST(X)                                                                       \
    X("person", "ID", "only subscriptions of this person", 0, "person_id", REQ_STR, 0)             \
    X("status", "STATUS", "active or cancelled", 0, "status", REQ_ENUM, 0)                         \
    REQ_PAGING(X)
#define SUBSCRIPTION_SHOW(X) REQ_COMMON(X)
#define SUBSCRIPTION_CHANGE(X)                                                                     \
    X("plan", "NAME", "the new plan", 0, "subscription.plan", REQ_STR, 0)                          \
    X("amount", "AMOUNT", "the new amount per period", 0, "subscription.amount_minor", REQ_MONEY,  \
      0)                                                                                           \
    X("currency", "CODE", "the new currency (and how --amount is read)", 0,                        \
      "subscription.currency", REQ_STR, 0)                                                         \
    X("period", "PERIOD", "month or year", 0, "subscription.period", REQ_ENUM, 0)                  \
    X("renewal", "DATE", "the new renewal date", 0, "subscription.renewal_date", REQ_DATE, 0)      \
    REQ_WRITE(X)
#define SUBSCRIPTION_RENEW(X) REQ_WRITE(X)
#define SUBSCRIPTION_CANCEL(X)                                                                     \
    X("reason", "TEXT", "why", 0, "reason", REQ_STR, 0)                                            \
    REQ_WRITE(X)

REQ_OPTIONS(subscription_add, SUBSCRIPTION_ADD);
REQ_OPTIONS(subscription_list, SUBSCRIPTION_LIST);
REQ_OPTIONS(subscription_show, SUBSCRIPTION_SHOW);
REQ_OPTIONS(subscription_change, SUBSCRIPTION_CHANGE);
REQ_OPTIONS(subscription_renew, SUBSCRIPTION_RENEW);
REQ_OPTIONS(subscription_cancel, SUBSCRIPTION_CANCEL);

static const req_col_t s_subscription_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"PERSON", "person_id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"PLAN", "plan", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"AMOUNT", "amount_minor", REQ_V_MONEY, REQ_IN_BOTH, NULL},
    {"PER", "period", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__subscription_period__descriptor},
    {"START", "start_date", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"RENEWS", "renewal_date", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__subscription_status__descriptor},
    {"OWNER", "owner", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"RENEWAL TASK", "renewal_task_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CANCEL REASON", "cancel_reason", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CANCELLED", "cancelled_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"UPDATED", "updated_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

#define SUBSCRIPTION_ON_ID(cmd, req, fields, done)                                                 \
    REQ_ON_ID("sales.subscription." cmd, &crm__v1__##req##__descriptor,                            \
              &crm__v1__subscription_reply__descriptor, fields, "subscription",                    \
              s_subscription_view, done)

const req_verb_t sales_subscription_add = {
    .command = "sales.subscription.create",
    .request = &crm__v1__create_subscription_request__descriptor,
    .reply = &crm__v1__subscription_reply__descriptor,
    .fields = s_subscription_add_fields,
    .noun = "subscription",
    .entity = "subscription",
    .view = s_subscription_view,
    .done = "recorded",
};

const req_verb_t sales_subscription_list = {
    .command = "sales.subscription.list",
    .request = &crm__v1__list_subscriptions_request__descriptor,
    .reply = &crm__v1__list_subscriptions_reply__descriptor,
    .fields = s_subscription_list_fields,
    .items = "subscriptions",
    .noun = "subscription",
    .view = s_subscription_view,
};

const req_verb_t sales_subscription_show = {
    SUBSCRIPTION_ON_ID("show", show_subscription_request, s_subscription_show_fields, NULL)};
/* The options given form the update mask. */
const req_verb_t sales_subscription_change = {
    SUBSCRIPTION_ON_ID("change", change_subscription_request, s_subscription_change_fields,
                       "changed"),
    .update_mask = "subscription",
};
const req_verb_t sales_subscription_renew = {SUBSCRIPTION_ON_ID(
    "renew", renew_subscription_request, s_subscription_renew_fields, "renewed")};
const req_verb_t sales_subscription_cancel = {SUBSCRIPTION_ON_ID(
    "cancel", cancel_subscription_request, s_subscription_cancel_fields, "cancelled")};

SALES_VERB_HANDLER(subscription_add)
SALES_VERB_HANDLER(subscription_list)
SALES_VERB_HANDLER(subscription_show)
SALES_VERB_HANDLER(subscription_change)
SALES_VERB_HANDLER(subscription_renew)
SALES_VERB_HANDLER(subscription_cancel)
