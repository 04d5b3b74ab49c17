/* sla.c: `crmctl sla policy set|list`, `crmctl sla calendar set|show` and
 * `crmctl sla figures` (support.report.figures),
 * over support.sla.*.
 *
 * Policies are targets in business minutes per priority; the calendar says
 * which hours are business hours (weekly hours, holidays, and the time zone
 * they are read in). Tables for the request engine (request.h), as in
 * ticket.c. */
#include "support.h"

#include <stdio.h>
#include <jansson.h>

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
#define SLA_FIGURES(X)                                                                             \
    X("from", "DATE", "start of the period (a date or date-time; default 30 days before --to)", 0, \
      "from_us", REQ_FROM_US, 0)                                                                   \
    X("to", "DATE", "end of the period, not included (default now)", 0, "to_us", REQ_FROM_US, 0)   \
    X("at", "TIME", "when the backlog is counted (default now)", 0, "at_us", REQ_TIME_US, 0)       \
    REQ_COMMON(X)

REQ_OPTIONS(sla_policy_set, SLA_POLICY_SET);
REQ_OPTIONS(sla_policy_list, SLA_POLICY_LIST);
REQ_OPTIONS(sla_calendar_set, SLA_CALENDAR_SET);
REQ_OPTIONS(sla_calendar_show, SLA_CALENDAR_SHOW);
REQ_OPTIONS(sla_figures, SLA_FIGURES);

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

/* ---- sla figures ------------------------------------------------------------ */

static const char *s_pct(const json_t *bp, char *buf, size_t len)
{
    if (!json_is_integer(bp))
        return "-";
    json_int_t v = json_integer_value(bp);
    snprintf(buf, len, "%lld.%02lld%%", (long long)(v / 100), (long long)(v % 100));
    return buf;
}

static const char *s_num(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v))
        snprintf(buf, len, "%.2f", json_number_value(v));
    else
        return "-";
    return buf;
}

static void s_sla_line(const char *label, const json_t *t)
{
    char pct[32];
    printf("%-22s %s met (%lld met, %lld breached, %lld pending)\n", label,
           s_pct(json_object_get(t, "compliance_bp"), pct, sizeof pct),
           (long long)json_integer_value(json_object_get(t, "met")),
           (long long)json_integer_value(json_object_get(t, "breached")),
           (long long)json_integer_value(json_object_get(t, "pending")));
}

/* "new 1, open 3" from [{key: "new", n: 1}, ...]. */
static void s_counts_line(const char *label, const json_t *rows, const char *key, const char *n)
{
    size_t i;
    const json_t *r;
    printf("%-22s ", label);
    json_array_foreach(rows, i, r)
    {
        printf("%s%s %lld", i ? ", " : "", json_string_value(json_object_get(r, key)),
               (long long)json_integer_value(json_object_get(r, n)));
    }
    printf("%s\n", json_array_size(rows) ? "" : "-");
}

static void s_people_table(const json_t *rows, const char *who_header, const char *who_key)
{
    const char *headers[] = {who_header, "OPENED", "OPEN NOW", "RESOLVED", "RATINGS", "CSAT", NULL};
    static const char *const keys[] = {"opened", "open_now", "resolved", "ratings", "csat_average"};
    if (!json_array_size(rows)) {
        printf("(none)\n");
        return;
    }
    crmctl_table_t *t = crmctl_table_new(headers);
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
    {
        char bufs[5][32];
        const char *cells[7] = {json_string_value(json_object_get(r, who_key))};
        for (int k = 0; k < 5; k++)
            cells[k + 1] = s_num(json_object_get(r, keys[k]), bufs[k], sizeof bufs[k]);
        cells[6] = NULL;
        if (t)
            crmctl_table_add(t, cells);
    }
    if (t)
        crmctl_table_print(t);
    crmctl_table_destroy(&t);
}

static int s_print_figures(const req_verb_t *verb, const json_t *reply)
{
    (void)verb;
    json_error_t err;
    json_t *doc = json_loads(json_string_value(json_object_get(reply, "json")), 0, &err);
    if (!doc) {
        crmctl_error(err.text, NULL, "support returned figures that are not JSON");
        return CRMCTL_EXIT_FAILED;
    }
    char a[64], b[64], c[64], pct[32];
    printf("period %s to %s, backlog at %s\n",
           val_time_format(json_integer_value(json_object_get(doc, "from_us")), a, sizeof a),
           val_time_format(json_integer_value(json_object_get(doc, "to_us")), b, sizeof b),
           val_time_format(json_integer_value(json_object_get(doc, "at_us")), c, sizeof c));
    printf("%-22s %s\n", "tickets opened", s_num(json_object_get(doc, "opened"), a, sizeof a));
    const json_t *csat = json_object_get(doc, "csat");
    printf("%-22s %s of 5 (%s ratings; %s rated 4 or 5)\n", "CSAT average",
           s_num(json_object_get(csat, "average"), a, sizeof a),
           s_num(json_object_get(csat, "ratings"), b, sizeof b),
           s_pct(json_object_get(csat, "satisfied_bp"), pct, sizeof pct));
    const json_t *dist = json_object_get(csat, "distribution");
    printf("%-22s", "ratings 1-5");
    for (int r = 1; r <= 5; r++) {
        char k[2] = {(char)('0' + r), 0};
        printf(" %d: %s%s", r, s_num(json_object_get(dist, k), a, sizeof a), r < 5 ? "," : "\n");
    }
    const json_t *sla = json_object_get(doc, "sla");
    s_sla_line("first response SLA", json_object_get(sla, "first_response"));
    s_sla_line("resolution SLA", json_object_get(sla, "resolution"));
    const json_t *bl = json_object_get(doc, "backlog");
    printf("%-22s %s\n", "backlog", s_num(json_object_get(bl, "total"), a, sizeof a));
    s_counts_line("backlog by status", json_object_get(bl, "by_status"), "status", "tickets");
    s_counts_line("backlog by age", json_object_get(bl, "by_age"), "age", "tickets");
    printf("\nagents\n");
    s_people_table(json_object_get(doc, "agents"), "AGENT", "agent");
    printf("\nteams\n");
    s_people_table(json_object_get(doc, "teams"), "TEAM", "team");
    json_decref(doc);
    return CRMCTL_EXIT_OK;
}

static const req_verb_t s_sla_figures = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.report.figures",
    .request = &crm__v1__support_figures_request__descriptor,
    .reply = &crm__v1__support_figures_reply__descriptor,
    .fields = s_sla_figures_fields,
    .noun = "figures",
    .print = s_print_figures,
};

#define SLA_HANDLER(name)                                                                          \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args)                                    \
    {                                                                                              \
        return crmctl_request_run(ctl, args, &s_##name);                                           \
    }
CRMCTL_SUPPORT_SLA_VERBS(SLA_HANDLER)
