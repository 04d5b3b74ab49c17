/* preference.c: `crmctl preference set|show` (marketing.preference.*) and
 * `crmctl response record` (marketing.response.record).
 *
 * Contact preferences are owned by marketing; `preference set` changes only
 * the options it is given (the request names them in `fields`), adds
 * opt-outs and removes one only through --clear-opt-out, so
 * running it again never wipes an earlier opt-out. Consent has a ledger of
 * its own (consent.c). A response names the customer
 * by id, or by email (the service registers an unknown email under the
 * identity rule). */
#include "marketing.h"

#include <stdio.h>

static const char *const s_customer_arg[] = {"preferences.customer_id", NULL};
static const char *const s_show_arg[] = {"customer_id", NULL};

#define PREFERENCE_SET(X)                                                                          \
    X("preferred", "CHANNEL", "preferred channel: email, sms, phone, fax, mail, ...", 0,           \
      "preferences.preferred_channel", REQ_ENUM, 0)                                                \
    X("window", "HH:MM-HH:MM", "best contact time, local time (default: any time)", 0, NULL,       \
      REQ_CUSTOM, 0)                                                                               \
    X("time-zone", "ZONE", "IANA time zone of the window (Europe/Paris)", 0,                       \
      "preferences.time_zone", REQ_STR, 0)                                                         \
    X("utc-offset", "+HH:MM", "UTC offset of the window when no time zone is given", 0,            \
      "preferences.utc_offset_minutes", REQ_CUSTOM, 0)                                             \
    X("opt-out", "CHANNEL", "a channel the customer opted out of (repeatable)", 1,                 \
      "preferences.opted_out", REQ_ENUMS, 0)                                                       \
    X("clear-opt-out", "CHANNEL", "remove an opt-out: the customer opted back in (repeatable)", 1, \
      "opted_in", REQ_ENUMS, 0)                                                                    \
    REQ_WRITE(X)
#define PREFERENCE_SHOW(X) REQ_COMMON(X)
#define RESPONSE_RECORD(X)                                                                         \
    X("campaign", "ID", "the campaign (required)", 0, "response.campaign_id", REQ_STR,             \
      REQ_REQUIRED)                                                                                \
    X("type", "TYPE",                                                                              \
      "opened, clicked, replied, interested, demo-requested, unsubscribed, bounced or converted"   \
      " (required)",                                                                               \
      0, "response.response", REQ_ENUM, REQ_REQUIRED)                                              \
    X("customer", "ID", "the customer", 0, "response.customer_id", REQ_STR, 0)                     \
    X("email", "EMAIL", "the customer's email, instead of an ID", 0, "response.email", REQ_STR, 0) \
    X("name", "NAME", "the customer's name (for an email not known yet)", 0, "response.name",      \
      REQ_STR, 0)                                                                                  \
    X("channel", "CHANNEL", "the channel it came through (email, sms, ...)", 0,                    \
      "response.channel", REQ_STR, 0)                                                              \
    X("revenue", "AMOUNT", "revenue of a conversion (1234.50)", 0, "response.revenue_minor",       \
      REQ_MONEY, 0)                                                                                \
    X("currency", "CODE", "currency of the revenue", 0, "response.currency", REQ_STR, 0)           \
    X("order", "ID", "converted: the sales order it is (then counted once)", 0,                    \
      "response.order_id", REQ_STR, 0)                                                             \
    X("note", "TEXT", "a note", 0, "response.note", REQ_STR, 0)                                    \
    REQ_WRITE(X)

REQ_OPTIONS(preference_set, PREFERENCE_SET);
REQ_OPTIONS(preference_show, PREFERENCE_SHOW);
REQ_OPTIONS(response_record, RESPONSE_RECORD);

static const req_col_t s_pref_view[] = {
    {"CUSTOMER", "customer_id", REQ_V_PERSON, REQ_IN_RECORD, NULL},
    {"PREFERRED", "preferred_channel", REQ_V_ENUM, REQ_IN_RECORD, &crm__v1__channel__descriptor},
    {"WINDOW FROM", "window_start_minute", REQ_V_CLOCK, REQ_IN_RECORD, NULL},
    {"WINDOW TO", "window_end_minute", REQ_V_CLOCK, REQ_IN_RECORD, NULL},
    {"TIME ZONE", "time_zone", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"UTC OFFSET", "utc_offset_minutes", REQ_V_OFFSET, REQ_IN_RECORD, NULL},
    {"OPTED OUT", "opted_out", REQ_V_ENUMS, REQ_IN_RECORD, &crm__v1__channel__descriptor},
    {"CONSENT", "consent.given", REQ_V_BOOL, REQ_IN_RECORD, NULL},
    {"CONSENT SOURCE", "consent.source", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CONSENT AT", "consent.at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"UPDATED", "updated_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* preference show: each address of the person and whether it still takes
 * mail (bounces make one undeliverable). */
static const req_col_t s_address_view[] = {
    {"CHANNEL", "channel", REQ_V_ENUM, REQ_IN_TABLE, &crm__v1__channel__descriptor},
    {"ADDRESS", "address", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"UNDELIVERABLE", "undeliverable", REQ_V_BOOL, REQ_IN_TABLE, NULL},
    {"SOFT BOUNCES", "soft_bounces", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"LAST ERROR", "last_error", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_response_view[] = {
    {"CAMPAIGN", "campaign_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CUSTOMER", "customer_id", REQ_V_PERSON, REQ_IN_RECORD, NULL},
    {"RESPONSE", "response", REQ_V_ENUM, REQ_IN_RECORD, &crm__v1__response_type__descriptor},
    {"CHANNEL", "channel", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"REVENUE", "revenue_minor", REQ_V_MONEY, REQ_IN_RECORD, NULL},
    {"NOTE", "note", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static int s_print_response(const req_verb_t *verb, const json_t *reply)
{
    printf("response %s recorded%s\n", req_str(reply, "response_id"),
           json_is_true(json_object_get(reply, "person_registered")) ? " (person registered)" : "");
    req_print_record(json_object_get(reply, "response"), s_response_view);
    return CRMCTL_EXIT_OK;
}

/* The service sets what the request names: each preference option given
 * here, even one given its default value (--window 00:00-00:00 is "any
 * time again"). */
static int s_check_preference(const crmctl_t *ctl, json_t *request)
{
    static const char *const given[][2] = {
        {"preferences.preferred_channel", "preferred_channel"},
        {"preferences.window_start_minute", "window"},
        {"preferences.time_zone", "time_zone"},
        {"preferences.utc_offset_minutes", "utc_offset_minutes"},
    };
    json_t *fields = json_array();
    (void)ctl;
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (req_get(request, given[i][0]))
            json_array_append_new(fields, json_string(given[i][1]));
    return req_set(request, "fields", fields) < 0 ? CRMCTL_EXIT_USAGE : CRMCTL_EXIT_OK;
}

static int s_check_response(const crmctl_t *ctl, json_t *request)
{
    int by_id = *req_str(request, "response.customer_id") != 0;
    int by_email = *req_str(request, "response.email") != 0;
    if (by_id == by_email)
        return crmctl_usage_error(ctl, "give either --customer or --email");
    return CRMCTL_EXIT_OK;
}

const req_verb_t mkt_preference_set = {
    MKT_VERB("marketing.preference.set", &crm__v1__set_preferences_request__descriptor,
             &crm__v1__preferences_reply__descriptor, s_preference_set_fields),
    .positional = s_customer_arg,
    .min_positional = 1,
    .noun = "preferences",
    .entity = "preferences",
    .view = s_pref_view,
    .check = s_check_preference,
    .names = 1,
};

const req_verb_t mkt_preference_show = {
    MKT_VERB("marketing.preference.show", &crm__v1__show_preferences_request__descriptor,
             &crm__v1__preferences_reply__descriptor, s_preference_show_fields),
    .positional = s_show_arg,
    .min_positional = 1,
    .noun = "preferences",
    .entity = "preferences",
    .view = s_pref_view,
    .sub = "addresses",
    .sub_title = "addresses",
    .sub_view = s_address_view,
    .names = 1,
};

const req_verb_t mkt_response_record = {
    MKT_VERB("marketing.response.record", &crm__v1__record_response_request__descriptor,
             &crm__v1__response_reply__descriptor, s_response_record_fields),
    .noun = "response",
    .print = s_print_response,
    .check = s_check_response,
    .names = 1,
};

MKT_VERB_HANDLER(preference_set)
MKT_VERB_HANDLER(preference_show)
MKT_VERB_HANDLER(response_record)
