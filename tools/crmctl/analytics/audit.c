/* audit.c: `crmctl audit --customer ID`: who did what to a customer and
 * when, across every service. It reads analytics' timeline of the customer
 * (analytics.customer.timeline), the one store that holds every source's
 * events about a customer together, each with the principal that caused it
 * (the envelope's `actor`). Asking each service instead would need a
 * customer index in every outbox and would lose what retention deleted;
 * analytics keeps the whole history (docs/architecture.md, "Audit"). */
#include "analytics.h"

#include "values.h"

#include <crm/util.h>

#include <stdio.h>
#include <string.h>

const crmctl_opt_t crmctl_audit_opts[] = {
    {"customer", 0, "ID", "the customer (person) id; required", 0},
    {"actor", 0, "NAME", "only what this principal did", 0},
    {"as-of", 0, "DATE", "only events up to then (a date means its end)", 0},
    {NULL, 0, NULL, NULL, 0},
};

/* One entry of the audit: the timeline row with names an auditor reads.
 * NULL when the row is filtered out or memory ran out. */
static json_t *s_entry(const json_t *row, const char *only)
{
    const json_t *actor = json_object_get(row, "actor");
    const char *who = json_is_string(actor) ? json_string_value(actor) : "";
    if (only && strcmp(only, who))
        return NULL;
    /* RFC 3339 to the microsecond, as CloudEvents' `time`: an audit orders
     * what happened within a minute too. */
    char when[64];
    const json_t *at = json_object_get(row, "at_us");
    return json_pack("{s:s, s:O?, s:O?, s:O?, s:s?, s:O?, s:O?}", "time",
                     crm_time_format((int64_t)json_integer_value(at), when, sizeof when), "service",
                     json_object_get(row, "source"), "sequence", json_object_get(row, "sequence"),
                     "type", json_object_get(row, "type"), "actor", *who ? who : NULL, "summary",
                     json_object_get(row, "summary"), "at_us", at);
}

int crmctl_audit(crmctl_t *ctl, const crmctl_args_t *args)
{
    Crm__V1__AnalyticsQuery q = CRM__V1__ANALYTICS_QUERY__INIT;
    q.customer_id = (char *)crmctl_arg(args, "customer");
    if (!q.customer_id || !*q.customer_id)
        return crmctl_usage_error(ctl, "--customer is required");
    const char *as_of = crmctl_arg(args, "as-of");
    const char *why = NULL;
    if (as_of && val_time_parse(as_of, crm_now_us(), 1, &q.as_of_us, &why) < 0)
        return crmctl_usage_error(ctl, "invalid --as-of \"%s\": %s", as_of, why);
    const char *only = crmctl_arg(args, "actor");
    json_t *doc = NULL;
    int rc = an_report(ctl, "analytics.customer.timeline", &q, &doc);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    json_t *entries = json_array();
    const json_t *events = json_object_get(doc, "events");
    size_t i;
    json_t *row;
    json_array_foreach(events, i, row)
    {
        json_t *e = s_entry(row, only);
        if (e && json_array_append_new(entries, e) < 0)
            break;
    }
    json_t *out = json_pack("{s:O?, s:o}", "customer_id", json_object_get(doc, "customer_id"),
                            "entries", entries);
    json_decref(doc);
    if (!out) {
        fprintf(stderr, "crmctl: out of memory\n");
        return CRMCTL_EXIT_FAILED;
    }
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return an_print_json(out);
    static const an_col_t cols[] = {{"WHEN", "time"},
                                    {"SERVICE", "service"},
                                    {"EVENT", "type"},
                                    {"ACTOR", "actor"},
                                    {"SUMMARY", "summary"}};
    an_print_rows(json_object_get(out, "entries"), cols, sizeof cols / sizeof *cols);
    json_decref(out);
    return CRMCTL_EXIT_OK;
}
