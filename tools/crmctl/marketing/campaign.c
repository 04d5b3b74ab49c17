/* campaign.c: `crmctl campaign create|show|list|offer|budget|expense|
 * target|message|preview|schedule|launch|pause|resume|cancel|results|
 * compare|exclude|delivery confirm`, over marketing.campaign.*,
 * marketing.expense.record, marketing.message.* and
 * marketing.delivery.confirm: the campaign process from creation to ROI.
 *
 * Every verb is a table for the request engine (request.h, marketing.h). The
 * readable output of results and compare shows ratios in per cent
 * (the reply carries basis points) and "-" where a figure is undefined
 * (nothing to divide by). */
#include "marketing.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const s_campaign_arg[] = {"campaign_id", NULL};
static const char *const s_expense_arg[] = {"expense.campaign_id", NULL};
static const char *const s_template_arg[] = {"template.campaign_id", NULL};
static const char *const s_ids_arg[] = {"ids", NULL};

#define CAMPAIGN_CREATE(X)                                                                         \
    X("name", "NAME", "the campaign's name (required)", 0, "campaign.name", REQ_STR, REQ_REQUIRED) \
    X("channel", "CHANNEL",                                                                        \
      "email, sms, phone, fax, mail, social or meeting (repeatable; required)", 1,                 \
      "campaign.channels", REQ_ENUMS, REQ_REQUIRED)                                                \
    X("objective", "TEXT", "what the campaign is for", 0, "campaign.objective", REQ_STR, 0)        \
    X("owner", "OWNER", "staff member responsible", 0, "campaign.owner", REQ_STR, 0)               \
    X("start-date", "DATE", "first day (YYYY-MM-DD)", 0, "campaign.start_date", REQ_DATE, 0)       \
    X("end-date", "DATE", "last day (YYYY-MM-DD)", 0, "campaign.end_date", REQ_DATE, 0)            \
    X("budget", "AMOUNT", "budget (1234.50)", 0, "campaign.budget_minor", REQ_MONEY, 0)            \
    X("currency", "CODE", "ISO 4217 currency of the budget (required)", 0, "campaign.currency",    \
      REQ_STR, REQ_REQUIRED)                                                                       \
    X("overspend", "POLICY", "refuse (the default) or flag expenses past the budget", 0,           \
      "campaign.overspend_policy", REQ_ENUM, 0)                                                    \
    X("attribution-days", "N", "orders within N days of contact count as revenue (default 30)", 0, \
      "campaign.attribution_window_days", REQ_CUSTOM, 0)                                           \
    X("throttle", "N", "send at most N messages per minute (default: no limit)", 0,                \
      "campaign.throttle_per_minute", REQ_CUSTOM, 0)                                               \
    X("follows", "ID", "a later step of this campaign: reaches who it sent to", 0,                 \
      "campaign.follows_campaign_id", REQ_STR, 0)                                                  \
    X("delay", "DURATION", "with --follows: how long after (90s, 30m, 2h, 3d)", 0,                 \
      "campaign.follow_delay_seconds", REQ_CUSTOM, 0)                                              \
    X("non-responders", NULL, "with --follows: only who did not respond to it", 0,                 \
      "campaign.only_non_responders", REQ_FLAG, 0)                                                 \
    REQ_WRITE(X)
#define CAMPAIGN_ID(X) REQ_COMMON(X)
#define CAMPAIGN_ACTION(X) REQ_WRITE(X)
#define CAMPAIGN_LIST(X)                                                                           \
    X("status", "STATUS",                                                                          \
      "only campaigns in this status: draft, scheduled, running, paused, completed or"             \
      " cancelled",                                                                                \
      0, "status", REQ_ENUM, 0)                                                                    \
    REQ_COMMON(X)
#define CAMPAIGN_OFFER(X)                                                                          \
    X("product", "CODE", "product code", 0, "offer.product_code", REQ_STR, 0)                      \
    X("discount", "PERCENT", "discount, 0-100", 0, "offer.discount_percent", REQ_PERCENT, 0)       \
    X("text", "TEXT", "offer text, as {{offer}} shows it in messages", 0, "offer.text", REQ_STR,   \
      0)                                                                                           \
    REQ_WRITE(X)
#define CAMPAIGN_BUDGET(X)                                                                         \
    X("amount", "AMOUNT", "the new budget (required; 1234.50)", 0, "budget_minor", REQ_MONEY, 0)   \
    X("currency", "CODE", "currency, when the campaign has none yet", 0, "currency", REQ_STR, 0)   \
    X("overspend", "POLICY", "refuse or flag expenses past the budget", 0, "overspend_policy",     \
      REQ_ENUM, 0)                                                                                 \
    REQ_WRITE(X)
#define CAMPAIGN_EXPENSE(X)                                                                        \
    X("amount", "AMOUNT", "what was spent (required; more than 0)", 0, "expense.amount_minor",     \
      REQ_MONEY, 0)                                                                                \
    X("category", "CATEGORY", "ads, print, agency, ...", 0, "expense.category", REQ_STR, 0)        \
    X("date", "DATE", "when it was spent (default: today)", 0, "expense.date", REQ_DATE, 0)        \
    X("note", "TEXT", "a note", 0, "expense.note", REQ_STR, 0)                                     \
    REQ_WRITE(X)
#define CAMPAIGN_TARGET(X)                                                                         \
    X("customer", "ID", "a customer to reach (repeatable)", 1, "customer_ids", REQ_LIST, 0)        \
    X("segment", "ID", "every current member of this segment", 0, "segment_id", REQ_STR, 0)        \
    X("always-on", NULL, "with --segment: also whoever enters it while the campaign runs", 0,      \
      "always_on", REQ_FLAG, 0)                                                                    \
    REQ_WRITE(X)
#define CAMPAIGN_EXCLUDE(X)                                                                        \
    X("segment", "ID", "the segment whose members are not contacted (required)", 0, "segment_id",  \
      REQ_STR, REQ_REQUIRED)                                                                       \
    REQ_WRITE(X)
#define CAMPAIGN_MESSAGE(X)                                                                        \
    X("channel", "CHANNEL", "the channel of this message (required)", 0, "template.channel",       \
      REQ_ENUM, REQ_REQUIRED)                                                                      \
    X("subject", "TEXT", "subject line", 0, "template.subject", REQ_STR, 0)                        \
    X("body", "TEXT", "the message; {{name}}, {{email}}, {{offer}}, {{owner}}, {{campaign}}", 0,   \
      "template.body", REQ_STR, REQ_REQUIRED)                                                      \
    REQ_WRITE(X)
#define CAMPAIGN_PREVIEW(X)                                                                        \
    X("channel", "CHANNEL", "the message of this channel (required)", 0, "channel", REQ_ENUM,      \
      REQ_REQUIRED)                                                                                \
    X("customer", "ID", "as this customer would receive it (required)", 0, "customer_id", REQ_STR, \
      REQ_REQUIRED)                                                                                \
    REQ_COMMON(X)
#define CAMPAIGN_SCHEDULE(X)                                                                       \
    X("at", "TIME", "when it starts: RFC 3339 or +2h, +1d (required; in the future)", 0,           \
      "start_at_us", REQ_TIME_US, REQ_REQUIRED)                                                    \
    REQ_WRITE(X)

REQ_OPTIONS(campaign_create, CAMPAIGN_CREATE);
REQ_OPTIONS(campaign_show, CAMPAIGN_ID);
REQ_OPTIONS(campaign_list, CAMPAIGN_LIST);
REQ_OPTIONS(campaign_offer, CAMPAIGN_OFFER);
REQ_OPTIONS(campaign_budget, CAMPAIGN_BUDGET);
REQ_OPTIONS(campaign_expense, CAMPAIGN_EXPENSE);
REQ_OPTIONS(campaign_target, CAMPAIGN_TARGET);
REQ_OPTIONS(campaign_exclude, CAMPAIGN_EXCLUDE);
REQ_OPTIONS(campaign_message, CAMPAIGN_MESSAGE);
REQ_OPTIONS(campaign_preview, CAMPAIGN_PREVIEW);
REQ_OPTIONS(campaign_schedule, CAMPAIGN_SCHEDULE);
REQ_OPTIONS(campaign_launch, CAMPAIGN_ACTION);
REQ_OPTIONS(campaign_pause, CAMPAIGN_ACTION);
REQ_OPTIONS(campaign_resume, CAMPAIGN_ACTION);
REQ_OPTIONS(campaign_cancel, CAMPAIGN_ACTION);
REQ_OPTIONS(campaign_complete, CAMPAIGN_ACTION);
REQ_OPTIONS(campaign_results, CAMPAIGN_ID);
REQ_OPTIONS(campaign_compare, CAMPAIGN_ID);
#define CAMPAIGN_EXPENSE_VOID(X)                                                                   \
    X("reason", "TEXT", "why the expense is voided (required)", 0, "reason", REQ_STR,              \
      REQ_REQUIRED)                                                                                \
    REQ_WRITE(X)
REQ_OPTIONS(campaign_expense_void, CAMPAIGN_EXPENSE_VOID);

static const req_col_t s_campaign_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__campaign_status__descriptor},
    {"OBJECTIVE", "objective", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CHANNELS", "channels", REQ_V_ENUMS, REQ_IN_RECORD, &crm__v1__channel__descriptor},
    {"OWNER", "owner", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"START DATE", "start_date", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"END DATE", "end_date", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"BUDGET", "budget_minor", REQ_V_MONEY, REQ_IN_BOTH, NULL},
    {"OVERSPEND", "overspend_policy", REQ_V_ENUM, REQ_IN_RECORD,
     &crm__v1__overspend_policy__descriptor},
    {"ATTRIBUTION DAYS", "attribution_window_days", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"THROTTLE PER MINUTE", "throttle_per_minute", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"FOLLOWS", "follows_campaign_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"FOLLOW DELAY (S)", "follow_delay_seconds", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"NON-RESPONDERS ONLY", "only_non_responders", REQ_V_BOOL, REQ_IN_RECORD, NULL},
    {"OFFERS", "offers", REQ_V_COUNT, REQ_IN_RECORD, NULL},
    {"EXCLUDES SEGMENTS", "exclude_segment_ids", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {"ALWAYS-ON SEGMENT", "always_on_segment_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"STARTS", "start_at_us", REQ_V_DATETIME, REQ_IN_BOTH, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_budget_view[] = {
    {"BUDGET", "budget_minor", REQ_V_MONEY, REQ_IN_RECORD, NULL},
    {"SPENT", "spent_minor", REQ_V_MONEY, REQ_IN_RECORD, NULL},
    {"REMAINING", "remaining_minor", REQ_V_MONEY, REQ_IN_RECORD, NULL},
    {"OVERSPENT", "overspent", REQ_V_BOOL, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_offer_view[] = {
    {"PRODUCT", "product_code", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"DISCOUNT %", "discount_percent", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"TEXT", "text", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_expense_view[] = {
    {"EXPENSE", "id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"AMOUNT", "amount_minor", REQ_V_DECIMAL, REQ_IN_RECORD, NULL},
    {"CATEGORY", "category", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DATE", "date", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"NOTE", "note", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"FLAGGED", "flagged", REQ_V_BOOL, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* The result figures; ratios come from s_percent as text. */
static const req_col_t s_results_view[] = {
    {"CAMPAIGN", "campaign_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__campaign_status__descriptor},
    {"RECIPIENTS", "recipients", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"SENT", "sent", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"DELIVERED", "delivered", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DELIVERY FAILED", "delivery_failed", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"SUPPRESSED", "suppressed", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DEFERRED", "deferred", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"RESPONDERS", "responders", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"RESPONSE RATE", "response_rate", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"UNSOLICITED RESPONSES", "unsolicited_responses", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CONVERSIONS", "conversions", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"REVENUE", "revenue_minor", REQ_V_MONEY, REQ_IN_BOTH, NULL},
    {"COST", "cost_minor", REQ_V_MONEY, REQ_IN_BOTH, NULL},
    {"ROI", "roi", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"COST PER RESPONSE", "cost_per_response", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"COST PER CONVERSION", "cost_per_conversion", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* Attribution models side by side (CampaignResults.attribution). */
static const req_col_t s_attribution_view[] = {
    {"CAMPAIGN", "campaign", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"MODEL", "model", REQ_V_ENUM, REQ_IN_TABLE, &crm__v1__attribution_model__descriptor},
    {"CONVERSIONS", "conversions", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"REVENUE", "revenue_minor", REQ_V_MONEY, REQ_IN_TABLE, NULL},
    {"ROI", "roi", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_reason_count_view[] = {
    {"REASON", "reason", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"COUNT", "count", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_response_count_view[] = {
    {"RESPONSE", "response", REQ_V_ENUM, REQ_IN_TABLE, &crm__v1__response_type__descriptor},
    {"COUNT", "count", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* ---- readable output -------------------------------------------------------- */

/* A 64-bit integer of obj (pbjson writes them as strings). */
static int64_t s_i64(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    long long n = 0;
    if (json_is_string(v))
        sscanf(json_string_value(v), "%lld", &n);
    return n;
}

/* Adds `key` to obj: the basis points at `bp` as "12.34%", or "-" when the
 * flag `defined` is false. */
static void s_percent(json_t *obj, const char *key, const char *bp, const char *defined)
{
    char buf[48];
    int64_t v = s_i64(obj, bp);
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (!json_is_true(json_object_get(obj, defined)))
        snprintf(buf, sizeof buf, "-");
    else
        snprintf(buf, sizeof buf, "%s%" PRIu64 ".%02" PRIu64 "%%", v < 0 ? "-" : "", a / 100,
                 a % 100);
    json_object_set_new(obj, key, json_string(buf));
}

/* Adds `key` to obj: the minor units at `minor` as money, or "-". */
static void s_money_or_dash(json_t *obj, const char *key, const char *minor, const char *defined)
{
    char buf[48], out[64];
    if (!json_is_true(json_object_get(obj, defined)))
        snprintf(out, sizeof out, "-");
    else
        snprintf(out, sizeof out, "%s %s",
                 val_money_format_in(s_i64(obj, minor),
                                     val_currency_digits(req_str(obj, "currency")), buf,
                                     sizeof buf),
                 req_str(obj, "currency"));
    json_object_set_new(obj, key, json_string(out));
}

/* The attribution rows of results r, each with its campaign's name,
 * currency and ROI as text, appended to rows. */
static void s_attribution_rows(json_t *r, json_t *rows)
{
    json_t *a = json_object_get(r, "attribution");
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *row = json_deep_copy(json_array_get(a, i));
        if (!row)
            continue;
        json_object_set_new(row, "campaign", json_string(req_str(r, "name")));
        json_object_set_new(row, "currency", json_string(req_str(r, "currency")));
        s_percent(row, "roi", "roi_bp", "roi_defined");
        json_array_append_new(rows, row);
    }
}

static void s_results_text(json_t *r)
{
    s_percent(r, "response_rate", "response_rate_bp", "response_rate_defined");
    s_percent(r, "roi", "roi_bp", "roi_defined");
    s_money_or_dash(r, "cost_per_response", "cost_per_response_minor", "cost_per_response_defined");
    s_money_or_dash(r, "cost_per_conversion", "cost_per_conversion_minor",
                    "cost_per_conversion_defined");
}

/* A campaign reply: the campaign, its offers and its budget. */
static int s_print_campaign(const req_verb_t *verb, const json_t *reply)
{
    const json_t *c = json_object_get(reply, "campaign");
    if (verb->done)
        printf("campaign %s %s\n", req_str(c, "id"), verb->done);
    req_print_record(c, s_campaign_view);
    json_t *b = json_object_get(reply, "budget");
    if (b)
        req_print_record(b, s_budget_view);
    if (json_array_size(json_object_get(c, "offers"))) {
        printf("\noffers:\n");
        req_print_table(json_object_get(c, "offers"), s_offer_view);
    }
    return CRMCTL_EXIT_OK;
}

static int s_print_expense(const req_verb_t *verb, const json_t *reply)
{
    const json_t *x = json_object_get(reply, "expense");
    if (*req_str(x, "voids_expense_id"))
        printf("expense %s voided by %s\n", req_str(x, "voids_expense_id"), req_str(x, "id"));
    else
        printf("expense %s recorded%s\n", req_str(x, "id"),
               json_is_true(json_object_get(x, "flagged")) ? " (flagged: past the budget)" : "");
    req_print_record(x, s_expense_view);
    req_print_record(json_object_get(reply, "budget"), s_budget_view);
    return CRMCTL_EXIT_OK;
}

static int s_print_target(const req_verb_t *verb, const json_t *reply)
{
    printf("%" PRId64 " recipients added; %" PRId64 " in all\n", s_i64(reply, "added"),
           s_i64(reply, "recipients"));
    return CRMCTL_EXIT_OK;
}

static int s_print_message(const req_verb_t *verb, const json_t *reply)
{
    const json_t *t = json_object_get(reply, "template");
    if (!t)
        t = reply;
    if (*req_str(t, "subject"))
        printf("Subject: %s\n\n", req_str(t, "subject"));
    printf("%s\n", req_str(t, "body"));
    return CRMCTL_EXIT_OK;
}

static int s_print_results(const req_verb_t *verb, const json_t *reply)
{
    json_t *r = json_object_get(reply, "results");
    s_results_text(r);
    req_print_record(r, s_results_view);
    req_print_record(json_object_get(r, "budget"), s_budget_view);
    json_t *rows = json_array();
    s_attribution_rows(r, rows);
    if (json_array_size(rows)) {
        printf("\nattribution models:\n");
        req_print_table(rows, s_attribution_view);
    }
    json_decref(rows);
    if (json_array_size(json_object_get(r, "responses"))) {
        printf("\nresponses:\n");
        req_print_table(json_object_get(r, "responses"), s_response_count_view);
    }
    if (json_array_size(json_object_get(r, "suppressed_by_reason"))) {
        printf("\nsuppressed by reason:\n");
        req_print_table(json_object_get(r, "suppressed_by_reason"), s_reason_count_view);
    }
    if (json_array_size(json_object_get(r, "deferred_by_reason"))) {
        printf("\ndeferred by reason:\n");
        req_print_table(json_object_get(r, "deferred_by_reason"), s_reason_count_view);
    }
    return CRMCTL_EXIT_OK;
}

static int s_print_compare(const req_verb_t *verb, const json_t *reply)
{
    json_t *all = json_object_get(reply, "results");
    json_t *rows = json_array();
    for (size_t i = 0; i < json_array_size(all); i++) {
        s_results_text(json_array_get(all, i));
        s_attribution_rows(json_array_get(all, i), rows);
    }
    req_print_table(all, s_results_view);
    if (json_array_size(rows)) {
        printf("\nattribution models (last touch is the default):\n");
        req_print_table(rows, s_attribution_view);
    }
    json_decref(rows);
    return CRMCTL_EXIT_OK;
}

/* ---- checks ----------------------------------------------------------------- */

static int s_check_offer(const crmctl_t *ctl, json_t *request)
{
    if (!*req_str(request, "offer.product_code") && !*req_str(request, "offer.text"))
        return crmctl_usage_error(ctl, "give --product or --text (or both)");
    return CRMCTL_EXIT_OK;
}

static int s_check_budget(const crmctl_t *ctl, json_t *request)
{
    if (!json_object_get(request, "budget_minor"))
        return crmctl_usage_error(ctl, "--amount is required");
    return CRMCTL_EXIT_OK;
}

static int s_check_target(const crmctl_t *ctl, json_t *request)
{
    if (!json_array_size(json_object_get(request, "customer_ids")) &&
        !*req_str(request, "segment_id"))
        return crmctl_usage_error(ctl, "give --customer or --segment");
    if (json_is_true(json_object_get(request, "always_on")) && !*req_str(request, "segment_id"))
        return crmctl_usage_error(ctl, "--always-on needs --segment");
    return CRMCTL_EXIT_OK;
}

static int s_check_compare(const crmctl_t *ctl, json_t *request)
{
    if (json_array_size(json_object_get(request, "ids")) < 2)
        return crmctl_usage_error(ctl, "give at least two campaign IDs");
    return CRMCTL_EXIT_OK;
}

/* --amount is checked here rather than as required: "required" cannot
 * tell 0 from nothing, and 0 deserves its own word. */
static int s_check_expense(const crmctl_t *ctl, json_t *request)
{
    const json_t *amount = req_get(request, "expense.amount_minor");
    if (!amount)
        return crmctl_usage_error(ctl, "--amount is required");
    if (json_is_integer(amount) && json_integer_value(amount) == 0)
        return crmctl_usage_error(ctl,
                                  "invalid value \"0\" for --amount: an expense is more than 0");
    return CRMCTL_EXIT_OK;
}

/* ---- verbs ------------------------------------------------------------------- */

const req_verb_t mkt_campaign_create = {
    MKT_VERB("marketing.campaign.create", &crm__v1__create_campaign_request__descriptor,
             &crm__v1__campaign_reply__descriptor, s_campaign_create_fields),
    .noun = "campaign",
    .done = "created",
    .print = s_print_campaign,
};

const req_verb_t mkt_campaign_show = {
    MKT_VERB("marketing.campaign.show", &crm__v1__show_campaign_request__descriptor,
             &crm__v1__campaign_reply__descriptor, s_campaign_show_fields),
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "campaign",
    .print = s_print_campaign,
};

const req_verb_t mkt_campaign_list = {
    MKT_VERB("marketing.campaign.list", &crm__v1__list_campaigns_request__descriptor,
             &crm__v1__list_campaigns_reply__descriptor, s_campaign_list_fields),
    .items = "campaigns",
    .noun = "campaign",
    .view = s_campaign_view,
};

const req_verb_t mkt_campaign_offer = {
    MKT_VERB("marketing.campaign.offer", &crm__v1__add_offer_request__descriptor,
             &crm__v1__campaign_reply__descriptor, s_campaign_offer_fields),
    .positional = s_campaign_arg,
    .min_positional = 1,
    .noun = "campaign",
    .done = "updated",
    .print = s_print_campaign,
    .check = s_check_offer,
};

const req_verb_t mkt_campaign_budget = {
    MKT_VERB("marketing.campaign.budget", &crm__v1__set_budget_request__descriptor,
             &crm__v1__campaign_reply__descriptor, s_campaign_budget_fields),
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "campaign",
    .done = "updated",
    .print = s_print_campaign,
    .check = s_check_budget,
};

const req_verb_t mkt_campaign_expense = {
    MKT_VERB("marketing.expense.record", &crm__v1__record_expense_request__descriptor,
             &crm__v1__expense_reply__descriptor, s_campaign_expense_fields),
    .positional = s_expense_arg,
    .min_positional = 1,
    .noun = "expense",
    .print = s_print_expense,
    .check = s_check_expense,
};

const req_verb_t mkt_campaign_target = {
    MKT_VERB("marketing.campaign.target", &crm__v1__target_campaign_request__descriptor,
             &crm__v1__target_campaign_reply__descriptor, s_campaign_target_fields),
    .positional = s_campaign_arg,
    .min_positional = 1,
    .noun = "campaign",
    .print = s_print_target,
    .check = s_check_target,
};

const req_verb_t mkt_campaign_exclude = {
    MKT_VERB("marketing.campaign.exclude", &crm__v1__exclude_segment_request__descriptor,
             &crm__v1__campaign_reply__descriptor, s_campaign_exclude_fields),
    .positional = s_campaign_arg,
    .min_positional = 1,
    .noun = "campaign",
    .done = "updated",
    .print = s_print_campaign,
};

const req_verb_t mkt_campaign_message = {
    MKT_VERB("marketing.message.set", &crm__v1__set_message_request__descriptor,
             &crm__v1__message_reply__descriptor, s_campaign_message_fields),
    .positional = s_template_arg,
    .min_positional = 1,
    .noun = "message",
    .print = s_print_message,
};

const req_verb_t mkt_campaign_preview = {
    MKT_VERB("marketing.message.preview", &crm__v1__preview_message_request__descriptor,
             &crm__v1__preview_message_reply__descriptor, s_campaign_preview_fields),
    .positional = s_campaign_arg,
    .min_positional = 1,
    .noun = "message",
    .print = s_print_message,
};

const req_verb_t mkt_campaign_schedule = {
    MKT_VERB("marketing.campaign.schedule", &crm__v1__schedule_campaign_request__descriptor,
             &crm__v1__campaign_reply__descriptor, s_campaign_schedule_fields),
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "campaign",
    .done = "scheduled",
    .print = s_print_campaign,
};

#define S_ACTION(name, verb_, done_)                                                               \
    const req_verb_t mkt_campaign_##name = {                                                       \
        MKT_VERB("marketing.campaign." verb_, &crm__v1__campaign_action_request__descriptor,       \
                 &crm__v1__campaign_reply__descriptor, s_campaign_##name##_fields),                \
        .positional = req_id_arg,                                                                  \
        .min_positional = 1,                                                                       \
        .noun = "campaign",                                                                        \
        .done = done_,                                                                             \
        .print = s_print_campaign,                                                                 \
    }

S_ACTION(launch, "launch", "launched");
S_ACTION(pause, "pause", "paused");
S_ACTION(resume, "resume", "resumed");
S_ACTION(cancel, "cancel", "cancelled");
S_ACTION(complete, "complete", "completed");

const req_verb_t mkt_campaign_results = {
    MKT_VERB("marketing.campaign.results", &crm__v1__campaign_results_request__descriptor,
             &crm__v1__campaign_results_reply__descriptor, s_campaign_results_fields),
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "results",
    .print = s_print_results,
};

const req_verb_t mkt_campaign_compare = {
    MKT_VERB("marketing.campaign.compare", &crm__v1__compare_campaigns_request__descriptor,
             &crm__v1__compare_campaigns_reply__descriptor, s_campaign_compare_fields),
    .positional = s_ids_arg,
    .noun = "results",
    .print = s_print_compare,
    .check = s_check_compare,
};

MKT_VERB_HANDLER(campaign_create)
MKT_VERB_HANDLER(campaign_show)
MKT_VERB_HANDLER(campaign_list)
MKT_VERB_HANDLER(campaign_offer)
MKT_VERB_HANDLER(campaign_budget)
MKT_VERB_HANDLER(campaign_expense)
MKT_VERB_HANDLER(campaign_target)
MKT_VERB_HANDLER(campaign_exclude)
MKT_VERB_HANDLER(campaign_message)
MKT_VERB_HANDLER(campaign_preview)
MKT_VERB_HANDLER(campaign_schedule)
MKT_VERB_HANDLER(campaign_launch)
MKT_VERB_HANDLER(campaign_pause)
MKT_VERB_HANDLER(campaign_resume)
MKT_VERB_HANDLER(campaign_cancel)
MKT_VERB_HANDLER(campaign_complete)
MKT_VERB_HANDLER(campaign_results)
MKT_VERB_HANDLER(campaign_compare)

const req_verb_t mkt_campaign_expense_void = {
    MKT_VERB("marketing.expense.void", &crm__v1__void_expense_request__descriptor,
             &crm__v1__expense_reply__descriptor, s_campaign_expense_void_fields),
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "expense",
    .print = s_print_expense,
};
MKT_VERB_HANDLER(campaign_expense_void)

/* A gateway's confirmation: the message by --delivery, or by --campaign,
 * --customer and --channel. */
#define CAMPAIGN_DELIVERY_CONFIRM(X)                                                               \
    X("delivery", "ID", "the delivery (or --campaign, --customer and --channel)", 0,               \
      "delivery_id", REQ_STR, 0)                                                                   \
    X("campaign", "ID", "the campaign that sent the message", 0, "campaign_id", REQ_STR, 0)        \
    X("customer", "ID", "the recipient", 0, "customer_id", REQ_STR, 0)                             \
    X("channel", "CHANNEL", "sms, phone, fax or mail", 0, "channel", REQ_ENUM, 0)                  \
    X("outcome", "OUTCOME", "delivered, failed or bounced (required)", 0, "outcome", REQ_ENUM,     \
      REQ_REQUIRED)                                                                                \
    X("reason", "TEXT", "the gateway's error (required unless delivered)", 0, "reason", REQ_STR,   \
      0)                                                                                           \
    REQ_WRITE(X)
REQ_OPTIONS(campaign_delivery_confirm, CAMPAIGN_DELIVERY_CONFIRM);

static int s_print_confirm(const req_verb_t *verb, const json_t *reply)
{
    printf("delivery %s %s%s\n", req_str(reply, "delivery_id"),
           json_is_true(json_object_get(reply, "delivered")) ? "delivered" : "failed",
           json_is_true(json_object_get(reply, "already_confirmed"))
               ? " (already confirmed: nothing changed)"
               : "");
    if (*req_str(reply, "error"))
        printf("error: %s\n", req_str(reply, "error"));
    return CRMCTL_EXIT_OK;
}

const req_verb_t mkt_campaign_delivery_confirm = {
    MKT_VERB("marketing.delivery.confirm", &crm__v1__confirm_delivery_request__descriptor,
             &crm__v1__confirm_delivery_reply__descriptor, s_campaign_delivery_confirm_fields),
    .noun = "delivery",
    .print = s_print_confirm,
};
MKT_VERB_HANDLER(campaign_delivery_confirm)
