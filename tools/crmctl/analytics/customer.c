/* customer.c: `crmctl customer show ID [--as-of DATE]` and `crmctl customer
 * timeline ID`: the Customer 360 analytics keeps (analytics.customer.*). */
#include "analytics.h"

#include "values.h"

#include <crm/util.h>

#include <stdio.h>

const crmctl_opt_t crmctl_customer_show_opts[] = {
    {"as-of", 0, "DATE", "the profile and timeline as they stood then (a date means its end)", 0},
    {"at", 0, "TIME", "evaluation time for the key figures and KPIs (default now)", 0},
    {NULL, 0, NULL, NULL, 0},
};

const crmctl_opt_t crmctl_customer_timeline_opts[] = {
    {"as-of", 0, "DATE", "only events up to then (a date means its end)", 0},
    {NULL, 0, NULL, NULL, 0},
};

/* WHO: the principal that caused each entry (the event's actor), so a rep
 * sees who else talked to this customer. */
static const an_col_t s_timeline_cols[] = {
    {"WHEN", "at_us"}, {"SOURCE", "source"}, {"WHO", "actor"}, {"WHAT", "summary"}};
#define S_TIMELINE_NCOLS (sizeof s_timeline_cols / sizeof *s_timeline_cols)

static int s_query(crmctl_t *ctl, const crmctl_args_t *args, Crm__V1__AnalyticsQuery *q)
{
    q->customer_id = (char *)crmctl_positional(args, 0);
    if (!q->customer_id)
        return crmctl_usage_error(ctl, "a customer id is required");
    const char *as_of = crmctl_arg(args, "as-of");
    const char *why = NULL;
    if (as_of && val_time_parse(as_of, crm_now_us(), 1, &q->as_of_us, &why) < 0)
        return crmctl_usage_error(ctl, "invalid --as-of \"%s\": %s", as_of, why);
    return CRMCTL_EXIT_OK;
}

int crmctl_customer_show(crmctl_t *ctl, const crmctl_args_t *args)
{
    Crm__V1__AnalyticsQuery q = CRM__V1__ANALYTICS_QUERY__INIT;
    int rc = s_query(ctl, args, &q);
    if (rc == CRMCTL_EXIT_OK)
        rc = an_opt_at(ctl, args, &q);
    json_t *doc = NULL;
    if (rc != CRMCTL_EXIT_OK ||
        (rc = an_report(ctl, "analytics.customer.show", &q, &doc)) != CRMCTL_EXIT_OK)
        return rc;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return an_print_json(doc);
    static const an_col_t profile[] = {
        {"id", "id"},
        {"name", "name"},
        {"emails", "emails"},
        {"phones", "phones"},
        {"organisation", "organization"},
        {"kind", "kind"},
        {"country", "country"},
        {"owner", "owner"},
        {"registered by", "registered_by"},
        {"customer since", "first_seen_us"},
    };
    static const an_col_t figures[] = {
        {"orders", "orders"},
        {"revenue", "revenue_minor"},
        {"last order", "last_order_us"},
        {"activities done", "activities_done"},
        {"campaigns reached", "campaigns_reached"},
        {"campaign responses", "responses"},
        {"tickets", "tickets"},
    };
    static const an_col_t kpis[] = {
        {"lifetime value", "ltv"},
        {"cost to acquire", "cac"},
        {"cost to support", "cost_to_support_minor"},
        {"health", "health"},
        {"churn risk", "churn_risk"},
        {"health reasons", "health_reasons"},
    };
    static const an_col_t deals[] = {{"DEAL", "title"},          {"STAGE", "stage"},
                                     {"AMOUNT", "amount_minor"}, {"CUR", "currency"},
                                     {"OWNER", "owner"},         {"NEXT STEP", "next_step"}};
    static const an_col_t tickets[] = {{"TICKET", "subject"},
                                       {"TYPE", "type"},
                                       {"PRIORITY", "priority"},
                                       {"STATUS", "status"},
                                       {"OPENED", "opened_at_us"}};
    const json_t *as_of = json_object_get(doc, "as_of_us");
    if (json_is_integer(as_of)) {
        char buf[64];
        printf("as of %s\n", an_cell("as_of_us", as_of, buf, sizeof buf));
    }
    an_print_fields(json_object_get(doc, "profile"), profile, sizeof profile / sizeof *profile);
    an_print_fields(json_object_get(doc, "figures"), figures, sizeof figures / sizeof *figures);
    an_print_fields(json_object_get(doc, "kpis"), kpis, sizeof kpis / sizeof *kpis);
    printf("\nopen deals\n");
    an_print_rows(json_object_get(doc, "open_deals"), deals, sizeof deals / sizeof *deals);
    printf("\nopen tickets\n");
    an_print_rows(json_object_get(doc, "open_tickets"), tickets, sizeof tickets / sizeof *tickets);
    printf("\ntimeline\n");
    an_print_rows(json_object_get(doc, "timeline"), s_timeline_cols, S_TIMELINE_NCOLS);
    json_decref(doc);
    return CRMCTL_EXIT_OK;
}

int crmctl_customer_timeline(crmctl_t *ctl, const crmctl_args_t *args)
{
    Crm__V1__AnalyticsQuery q = CRM__V1__ANALYTICS_QUERY__INIT;
    int rc = s_query(ctl, args, &q);
    json_t *doc = NULL;
    if (rc != CRMCTL_EXIT_OK ||
        (rc = an_report(ctl, "analytics.customer.timeline", &q, &doc)) != CRMCTL_EXIT_OK)
        return rc;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return an_print_json(doc);
    an_print_rows(json_object_get(doc, "events"), s_timeline_cols, S_TIMELINE_NCOLS);
    json_decref(doc);
    return CRMCTL_EXIT_OK;
}
