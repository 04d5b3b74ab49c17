/* sla.c: `crmctl sla policy set|list` and `crmctl sla calendar set|show`,
 * over support.sla.*.
 *
 * Policies are targets in business minutes per priority; the calendar says
 * which hours are business hours (weekly hours, holidays, and the time zone
 * they are read in). Tables for the request engine (request.h), as in
 * ticket.c. */
#include "support.h"

#include <stdio.h>

#define SLA_POLICY_SET(X)                                                                          \
    X("priority", "PRIORITY", "low, normal, high or urgent (required)", 0, "policy.priority",      \
      REQ_ENUM, REQ_REQUIRED)                                                                      \
    X("first-response", "MINUTES", "first-response target in business minutes (required)", 0,      \
      "policy.first_response_minutes", REQ_CUSTOM, REQ_REQUIRED)                                   \
    X("resolution", "MINUTES", "resolution target in business minutes (required)", 0,              \
      "policy.resolution_minutes", REQ_CUSTOM, REQ_REQUIRED)                                       \
    REQ_WRITE(X)
#define SLA_POLICY_LIST(X) REQ_COMMON(X)
#define SLA_CALENDAR_SET(X)                                                                        \
    X("hours", "DAYS=HH:MM-HH:MM", "working hours, e.g. mon-fri=09:00-17:00 (required)", 1,        \
      "calendar.hours", REQ_CUSTOM, REQ_REQUIRED)                                                  \
    X("holiday", "DATE", "a day not worked, YYYY-MM-DD", 1, "calendar.holidays", REQ_LIST, 0)      \
    X("zone", "ZONE", "IANA time zone the hours are in (Europe/Berlin); follows daylight saving",  \
      0, "calendar.time_zone", REQ_STR, 0)                                                         \
    X("utc-offset", "+HH:MM", "a fixed offset from UTC instead of a zone (default +00:00)", 0,     \
      "calendar.utc_offset_minutes", REQ_CUSTOM, 0)                                                \
    REQ_WRITE(X)
#define SLA_CALENDAR_SHOW(X) REQ_COMMON(X)

REQ_OPTIONS(sla_policy_set, SLA_POLICY_SET);
REQ_OPTIONS(sla_policy_list, SLA_POLICY_LIST);
REQ_OPTIONS(sla_calendar_set, SLA_CALENDAR_SET);
REQ_OPTIONS(sla_calendar_show, SLA_CALENDAR_SHOW);

static const req_col_t s_policy_view[] = {
    {"PRIORITY", "priority", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__ticket_priority__descriptor},
    {"FIRST RESPONSE MIN", "first_response_minutes", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"RESOLUTION MIN", "resolution_minutes", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_calendar_view[] = {
    {"ZONE", "time_zone", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"UTC OFFSET MIN", "utc_offset_minutes", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"HOLIDAYS", "holidays", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* The calendar's settings, then one line per worked weekday. */
static int s_print_calendar(const req_verb_t *verb, const json_t *reply)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const json_t *cal = json_object_get(reply, "calendar");
    const json_t *hours = json_object_get(cal, "hours");
    if (verb->done)
        printf("calendar %s\n", verb->done);
    if (!*req_str(cal, "time_zone") &&
        !json_integer_value(json_object_get(cal, "utc_offset_minutes")))
        printf("zone:           UTC\n");
    req_print_record(cal, s_calendar_view);
    json_int_t moved = json_integer_value(json_object_get(reply, "tickets_rearmed"));
    if (verb->done)
        printf("%-15s %lld running tickets moved to it\n", "tickets:", (long long)moved);
    for (size_t i = 0; i < json_array_size(hours); i++) {
        const json_t *h = json_array_get(hours, i);
        json_int_t d = json_integer_value(json_object_get(h, "weekday"));
        json_int_t o = json_integer_value(json_object_get(h, "open_minute"));
        json_int_t c = json_integer_value(json_object_get(h, "close_minute"));
        printf("%-15s %02d:%02d-%02d:%02d\n", d >= 1 && d <= 7 ? days[d - 1] : "?", (int)(o / 60),
               (int)(o % 60), (int)(c / 60), (int)(c % 60));
    }
    return CRMCTL_EXIT_OK;
}

static const req_verb_t s_sla_policy_set = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.sla.policy.set",
    .request = &crm__v1__set_sla_policy_request__descriptor,
    .reply = &crm__v1__sla_policy_reply__descriptor,
    .fields = s_sla_policy_set_fields,
    .noun = "policy",
    .entity = "policy",
    .view = s_policy_view,
};

static const req_verb_t s_sla_policy_list = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.sla.policy.list",
    .request = &crm__v1__list_sla_policies_request__descriptor,
    .reply = &crm__v1__list_sla_policies_reply__descriptor,
    .fields = s_sla_policy_list_fields,
    .items = "policies",
    .noun = "policy",
    .view = s_policy_view,
};

static const req_verb_t s_sla_calendar_set = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.sla.calendar.set",
    .request = &crm__v1__set_business_calendar_request__descriptor,
    .reply = &crm__v1__business_calendar_reply__descriptor,
    .fields = s_sla_calendar_set_fields,
    .noun = "calendar",
    .done = "set",
    .print = s_print_calendar,
};

static const req_verb_t s_sla_calendar_show = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.sla.calendar.show",
    .request = &crm__v1__show_business_calendar_request__descriptor,
    .reply = &crm__v1__business_calendar_reply__descriptor,
    .fields = s_sla_calendar_show_fields,
    .noun = "calendar",
    .print = s_print_calendar,
};

#define SLA_HANDLER(name)                                                                          \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args)                                    \
    {                                                                                              \
        return crmctl_request_run(ctl, args, &s_##name);                                           \
    }
CRMCTL_SUPPORT_SLA_VERBS(SLA_HANDLER)
