/* report.c: `crmctl report kpis|health|potential|pipeline|forecast|
 * weekly-activity|campaigns|data-quality`, one analytics.report.* command
 * each, printed as tables (or the JSON document with -o json). */
#include "analytics.h"

#include "jalali.h"
#include "request.h"
#include "values.h"

#include <crm/util.h>

#include <stdio.h>
#include <string.h>

const crmctl_opt_t crmctl_report_opts[] = {
    {"at", 0, "TIME", "evaluation time of time-dependent figures (default now)", 0},
    {"week", 0, "YYYY-Www", "weekly-activity: the ISO week (default this week)", 0},
    {"rep", 0, "NAME", "weekly-activity: one rep only", 0},
    {"campaign", 0, "ID", "campaigns: one campaign only", 0},
    {"from", 0, "DATE", "trends: the first period's date (default a year before --to)", 0},
    {"to", 0, "DATE", "trends: the end, not included (default --at)", 0},
    {"period", 0, "PERIOD", "trends: week, month (default), quarter or year", 0},
    {NULL, 0, NULL, NULL, 0},
};

#define N(a) (sizeof(a) / sizeof *(a))

static void s_kpis(const json_t *doc)
{
    static const an_col_t c[] = {{"CUSTOMER", "customer_id"},
                                 {"NAME", "name"},
                                 {"LTV", "ltv"},
                                 {"CAC", "cac"},
                                 {"SUPPORT COST", "cost_to_support_minor"},
                                 {"HEALTH", "health"},
                                 {"CHURN RISK", "churn_risk"}};
    an_print_rows(json_object_get(doc, "customers"), c, N(c));
}

static void s_health(const json_t *doc)
{
    static const an_col_t c[] = {{"CUSTOMER", "customer_id"},
                                 {"NAME", "name"},
                                 {"SCORE", "health"},
                                 {"CHURN RISK", "churn_risk"},
                                 {"WHY", "health_reasons"}};
    an_print_rows(json_object_get(doc, "customers"), c, N(c));
}

static void s_potential(const json_t *doc)
{
    static const an_col_t c[] = {
        {"CUSTOMER", "customer_id"}, {"NAME", "name"}, {"LTV", "ltv"}, {"REASONS", "reasons"}};
    an_print_rows(json_object_get(doc, "customers"), c, N(c));
}

static void s_pipeline(const json_t *doc)
{
    static const an_col_t c[] = {{"PIPELINE", "pipeline"},   {"STAGE", "stage"},
                                 {"CUR", "currency"},        {"DEALS", "deals"},
                                 {"AMOUNT", "amount_minor"}, {"WEIGHTED", "weighted_minor"}};
    static const an_col_t f[] = {{"won", "won"},
                                 {"lost", "lost"},
                                 {"win rate", "win_rate_bp"},
                                 {"avg days to close", "avg_days_to_close"}};
    static const an_col_t l[] = {{"LOST REASON", "reason"}, {"DEALS", "deals"}};
    an_print_rows(json_object_get(doc, "stages"), c, N(c));
    printf("\n");
    an_print_fields(doc, f, N(f));
    printf("\n");
    an_print_rows(json_object_get(doc, "lost_reasons"), l, N(l));
}

static void s_forecast(const json_t *doc)
{
    static const an_col_t c[] = {{"MONTH", "month"},
                                 {"CUR", "currency"},
                                 {"DEALS", "deals"},
                                 {"AMOUNT", "amount_minor"},
                                 {"WEIGHTED", "weighted_minor"}};
    static const an_col_t r[] = {{"RENEWALS IN", "month"},
                                 {"CUR", "currency"},
                                 {"SUBSCRIPTIONS", "renewals"},
                                 {"AMOUNT", "amount_minor"}};
    an_print_rows(json_object_get(doc, "months"), c, N(c));
    const json_t *ren = json_object_get(doc, "renewals");
    if (json_array_size(ren) > 0) {
        printf("\nsubscription renewals, twelve months from %s\n",
               json_string_value(json_object_get(doc, "renewals_from")));
        an_print_rows(ren, r, N(r));
    }
}

static void s_weekly(const json_t *doc)
{
    static const an_col_t c[] = {{"REP", "rep"},
                                 {"CALLS", "calls"},
                                 {"MEETINGS", "meetings"},
                                 {"EMAILS", "emails"},
                                 {"TASKS DONE", "tasks_done"},
                                 {"OTHER", "other_done"},
                                 {"ADVANCED", "deals_advanced"},
                                 {"WON", "deals_won"},
                                 {"LOST", "deals_lost"}};
    static const an_col_t nx[] = {
        {"DUE", "due_at_us"}, {"KIND", "kind"}, {"SUBJECT", "subject"}, {"CUSTOMER", "customer"}};
    char buf[64];
    const json_t *ws = json_object_get(doc, "week_start_us");
    int64_t ws_us = json_integer_value(ws);
    static const char *const days[] = {"Thursday", "Friday",  "Saturday", "Sunday",
                                       "Monday",   "Tuesday", "Wednesday"};
    int64_t day = ws_us / (86400LL * 1000000LL) - (ws_us % (86400LL * 1000000LL) < 0);
    printf("week starting %s (%s)\n", an_cell("week_start_us", ws, buf, sizeof buf),
           days[((day % 7) + 7) % 7]);
    const json_t *reps = json_object_get(doc, "reps");
    an_print_rows(reps, c, N(c));
    size_t i;
    const json_t *r;
    json_array_foreach(reps, i, r)
    {
        printf("\nnext week for %s\n", json_string_value(json_object_get(r, "rep")));
        an_print_rows(json_object_get(r, "next_week"), nx, N(nx));
    }
}

static void s_campaigns(const json_t *doc)
{
    static const an_col_t c[] = {{"CAMPAIGN", "name"},
                                 {"STATUS", "status"},
                                 {"RECIPIENTS", "recipients"},
                                 {"SENT", "sent"},
                                 {"SUPPRESSED", "suppressed"},
                                 {"DEFERRED", "deferred"},
                                 {"RESPONDERS", "responders"},
                                 {"CONVERSIONS", "conversions"},
                                 {"REVENUE", "revenue_minor"},
                                 {"COST", "cost_minor"},
                                 {"ROI", "roi_bp"},
                                 {"WON", "customers_won"},
                                 {"COST/WON", "acquisition_cost_per_customer_minor"},
                                 {"RESPONSES", "responses"}};
    an_print_rows(json_object_get(doc, "campaigns"), c, N(c));
}

static void s_data_quality(const json_t *doc)
{
    static const an_col_t c[] = {
        {"KIND", "kind"}, {"RECORD", "record_id"}, {"TEAM", "team"}, {"DETAIL", "detail"}};
    an_print_rows(json_object_get(doc, "findings"), c, N(c));
}

static void s_trends(const json_t *doc)
{
    static const an_col_t c[] = {
        {"PERIOD", "period"},     {"CUSTOMERS", "customers"},    {"NEW", "new_customers"},
        {"ORDERS", "orders"},     {"REVENUE", "revenue"},        {"ACTIVE", "active"},
        {"RETAINED", "retained"}, {"RETENTION", "retention_bp"}, {"CHURN", "churn_rate_bp"}};
    an_print_rows(json_object_get(doc, "periods"), c, N(c));
}

static void s_channels(const json_t *doc)
{
    static const an_col_t c[] = {{"CHANNEL", "channel"},
                                 {"CUSTOMERS", "customers"},
                                 {"AVG LTV", "avg_ltv"},
                                 {"AVG CAC", "avg_cac"}};
    an_print_rows(json_object_get(doc, "channels"), c, N(c));
}

typedef struct {
    const char *name; /* the word after "report" */
    const char *command;
    void (*print)(const json_t *doc);
} s_report_t;

static const s_report_t s_reports[] = {
    {"kpis", "analytics.report.kpis", s_kpis},
    {"health", "analytics.report.health", s_health},
    {"potential", "analytics.report.potential", s_potential},
    {"pipeline", "analytics.report.pipeline", s_pipeline},
    {"forecast", "analytics.report.forecast", s_forecast},
    {"weekly-activity", "analytics.report.weekly_activity", s_weekly},
    {"campaigns", "analytics.report.campaigns", s_campaigns},
    {"data-quality", "analytics.report.data_quality", s_data_quality},
    {"trends", "analytics.report.trends", s_trends},
    {"channels", "analytics.report.channels", s_channels},
    {NULL, NULL, NULL},
};

static int s_run(crmctl_t *ctl, const crmctl_args_t *args, const char *which)
{
    const s_report_t *r = s_reports;
    while (r->name && strcmp(r->name, which))
        r++;
    Crm__V1__AnalyticsQuery q = CRM__V1__ANALYTICS_QUERY__INIT;
    int rc = an_opt_at(ctl, args, &q);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const char *week = crmctl_arg(args, "week"), *rep = crmctl_arg(args, "rep"),
               *campaign = crmctl_arg(args, "campaign");
    if ((week || rep) && strcmp(r->name, "weekly-activity"))
        return crmctl_usage_error(ctl, "--week and --rep apply to weekly-activity only");
    if (campaign && strcmp(r->name, "campaigns"))
        return crmctl_usage_error(ctl, "--campaign applies to campaigns only");
    q.week = (char *)(week ? week : "");
    q.rep = (char *)(rep ? rep : "");
    q.campaign_id = (char *)(campaign ? campaign : "");
    const char *from = crmctl_arg(args, "from"), *to = crmctl_arg(args, "to"),
               *period = crmctl_arg(args, "period");
    const char *why = NULL;
    if ((from || to || period) && strcmp(r->name, "trends"))
        return crmctl_usage_error(ctl, "--from, --to and --period apply to trends only");
    if (from && val_time_parse(from, crm_now_us(), 0, &q.from_us, &why) < 0)
        return crmctl_usage_error(ctl, "invalid --from \"%s\": %s", from, why);
    if (to && val_time_parse(to, crm_now_us(), 0, &q.to_us, &why) < 0)
        return crmctl_usage_error(ctl, "invalid --to \"%s\": %s", to, why);
    q.period = (char *)(period ? period : "");
    /* fa_IR: the weekly report's week runs Saturday to Friday, the one
     * containing --at (or now), unless an ISO week is asked for. */
    if (!strcmp(r->name, "weekly-activity") && !week && crmctl_locale_jalali())
        q.week_start_us = crmctl_saturday_week_start(q.at_us ? q.at_us : crm_now_us());
    json_t *doc = NULL;
    if ((rc = an_report(ctl, r->command, &q, &doc)) != CRMCTL_EXIT_OK)
        return rc;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return an_print_json(doc);
    if (!strcmp(r->name, "pipeline"))
        req_pipeline_names(ctl, json_object_get(doc, "stages"));
    r->print(doc);
    json_decref(doc);
    return CRMCTL_EXIT_OK;
}

#define S_VERB(fn, name)                                                                           \
    int crmctl_report_##fn(crmctl_t *ctl, const crmctl_args_t *args)                               \
    {                                                                                              \
        return s_run(ctl, args, name);                                                             \
    }
S_VERB(kpis, "kpis")
S_VERB(health, "health")
S_VERB(potential, "potential")
S_VERB(pipeline, "pipeline")
S_VERB(forecast, "forecast")
S_VERB(weekly_activity, "weekly-activity")
S_VERB(campaigns, "campaigns")
S_VERB(data_quality, "data-quality")
S_VERB(trends, "trends")
S_VERB(channels, "channels")
