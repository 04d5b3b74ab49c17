/* handlers/report.c: the reports (kpis, health, potential, pipeline,
 * forecast, weekly activity, campaigns, data quality) and the engine every
 * report and customer view shares: check the query, run one report
 * function of the database, then fill in the health of each customer from
 * its inputs (rules.c) and sort. Reports are JSON documents
 * (AnalyticsReportReply.json, docs/analytics.md). */
#include "handlers.h"

#include "store.h"

#include <crm/db.h>
#include <crm/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *not_found; /* message when the report is NULL; NULL = never */
    const char *id;
    analytics_post_t post;
} s_report_t;

/* Replaces every "health_inputs" member in the document by the health it
 * gives (rules.c): health, churn_risk, health_reasons, and the inputs as
 * health_components. Returns 0 or -1 on ENOMEM. */
static int s_fill_health(json_t *node)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v)
        {
            if (s_fill_health(v) < 0)
                return -1;
        }
        return 0;
    }
    if (!json_is_object(node))
        return 0;
    json_t *in_j = json_object_get(node, "health_inputs");
    if (in_j) {
        an_health_in_t in;
        an_health_t h;
        analytics_health_inputs(in_j, &in);
        an_health_compute(&in, &h);
        json_t *reasons = analytics_health_reasons(&h);
        if (!reasons || json_object_set_new(node, "health_reasons", reasons) < 0 ||
            json_object_set_new(node, "health", json_integer(h.score)) < 0 ||
            json_object_set_new(node, "churn_risk", json_integer(h.churn_risk)) < 0 ||
            json_object_set(node, "health_components", in_j) < 0)
            return -1;
        json_object_del(node, "health_inputs");
    }
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v)
    {
        if (s_fill_health(v) < 0)
            return -1;
    }
    return 0;
}

static const char *s_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static int s_by_health(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int64_t hx = analytics_json_int(x, "health"), hy = analytics_json_int(y, "health");
    if (hx != hy)
        return hx < hy ? -1 : 1;
    int c = strcmp(s_str(x, "name"), s_str(y, "name"));
    return c ? c : strcmp(s_str(x, "customer_id"), s_str(y, "customer_id"));
}

static int s_by_potential(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    size_t rx = json_array_size(json_object_get(x, "reasons"));
    size_t ry = json_array_size(json_object_get(y, "reasons"));
    if (rx != ry)
        return rx > ry ? -1 : 1;
    /* Values in different currencies are never compared: each against its
     * own currency's threshold. */
    int64_t lx = analytics_json_int(x, "ltv_permille_of_threshold"),
            ly = analytics_json_int(y, "ltv_permille_of_threshold");
    if (lx != ly)
        return lx > ly ? -1 : 1;
    int c = strcmp(s_str(x, "name"), s_str(y, "name"));
    return c ? c : strcmp(s_str(x, "customer_id"), s_str(y, "customer_id"));
}

/* High sales potential: a health score of 70 or more is a reason; at least
 * two reasons list the customer (docs/analytics.md). Returns 1 to keep, 0 to
 * drop, -1 on ENOMEM. */
static int s_potential_keep(json_t *c)
{
    int64_t health = analytics_json_int(c, "health");
    json_t *reasons = json_object_get(c, "reasons");
    if (!json_is_array(reasons))
        return 0;
    if (health >= 70) {
        char buf[48];
        snprintf(buf, sizeof buf, "health score %lld", (long long)health);
        if (json_array_append_new(reasons, json_string(buf)) < 0)
            return -1;
    }
    return json_array_size(reasons) >= 2;
}

/* Sorts doc.customers with `cmp`, keeping only those `keep` accepts (NULL:
 * all). Returns 0 or -1 on ENOMEM. */
static int s_customers(json_t *doc, int (*cmp)(const void *, const void *), int (*keep)(json_t *c))
{
    json_t *arr = json_object_get(doc, "customers");
    size_t n = json_array_size(arr), k = 0;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    json_t *out = json_array();
    int rc = v && out ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *c = json_array_get(arr, i);
        int ok = keep ? keep(c) : 1;
        if (ok < 0)
            rc = -1;
        else if (ok)
            v[k++] = c;
    }
    if (rc == 0)
        qsort(v, k, sizeof *v, cmp);
    for (size_t i = 0; rc == 0 && i < k; i++)
        rc = json_array_append(out, v[i]);
    free(v);
    if (rc == 0 && json_object_set(doc, "customers", out) < 0)
        rc = -1;
    json_decref(out);
    return rc;
}

void analytics_report_done(crm_work_t *w, PGresult *res)
{
    s_report_t *st = crm_work_data(w);
    const char *json = PQntuples(res) == 1 ? crm_db_get_opt(res, 0, 0) : NULL;
    if (!json) {
        crm_work_fail(
            w, S_NOT_FOUND, "customer_id", st && st->not_found ? st->not_found : "no data",
            st && st->id ? crm_work_printf(w, "analytics has no event about customer %s", st->id)
                         : NULL,
            "check the id, or wait until the events about it have been applied");
        return;
    }
    Crm__V1__AnalyticsReportReply r = CRM__V1__ANALYTICS_REPORT_REPLY__INIT;
    r.json = (char *)json;
    if (st->post == ANALYTICS_POST_NONE) {
        crm_work_ok(w, &r.base);
        return;
    }
    json_error_t err;
    json_t *doc = json_loads(json, 0, &err);
    if (!doc) {
        crm_work_fail(w, S_INTERNAL, NULL, "report is not JSON", err.text, NULL);
        return;
    }
    int rc = s_fill_health(doc);
    if (rc == 0 && st->post == ANALYTICS_POST_WORST)
        rc = s_customers(doc, s_by_health, NULL);
    else if (rc == 0 && st->post == ANALYTICS_POST_POTENTIAL)
        rc = s_customers(doc, s_by_potential, s_potential_keep);
    char *text = rc == 0 ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    r.json = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!r.json) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_ok(w, &r.base);
}

/* Checks the fields every report shares; fills *at_us (0 = now). Returns 0
 * or fails the work and returns -1. */
int analytics_report_query(crm_work_t *w, const Crm__V1__AnalyticsQuery **q_out, int64_t *at_us)
{
    const Crm__V1__AnalyticsQuery *q = (const void *)crm_work_request(w);
    static const Crm__V1__AnalyticsQuery empty = CRM__V1__ANALYTICS_QUERY__INIT;
    if (!q)
        q = &empty;
    if (q->at_us < 0) {
        crm_work_fail(w, S_INVALID, "at_us", "at_us must not be negative",
                      crm_work_printf(w, "got %lld", (long long)q->at_us), "0 means now");
        return -1;
    }
    if (q->as_of_us < 0) {
        crm_work_fail(w, S_INVALID, "as_of_us", "as_of_us must not be negative",
                      crm_work_printf(w, "got %lld", (long long)q->as_of_us), "0 means today");
        return -1;
    }
    *at_us = q->at_us ? q->at_us : crm_now_us();
    *q_out = q;
    return 0;
}

int analytics_report_state(crm_work_t *w, const char *not_found, const char *id,
                           analytics_post_t post)
{
    s_report_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return -1;
    }
    st->not_found = not_found;
    st->id = id;
    st->post = post;
    crm_work_set_data(w, st);
    return 0;
}

void analytics_report_kpis(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_HEALTH) < 0)
        return;
    analytics_t *ctx = analytics_ctx(w);
    an_store_report_kpis(w, at, ctx->cost_per_ticket, ctx->cost_per_hour, analytics_report_done);
}

void analytics_report_health(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_WORST) < 0)
        return;
    an_store_report_health(w, at, analytics_report_done);
}

void analytics_report_potential(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_POTENTIAL) < 0)
        return;
    an_store_report_potential(w, at, analytics_ctx(w)->potential_ltv, analytics_report_done);
}

void analytics_report_pipeline(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_NONE) < 0)
        return;
    an_store_report_pipeline(w, analytics_report_done);
}

void analytics_report_forecast(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_NONE) < 0)
        return;
    an_store_report_forecast(w, at, analytics_report_done);
}

void analytics_report_weekly(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at, start;
    if (analytics_report_query(w, &q, &at) < 0)
        return;
    const char *why = NULL;
    if (q->week_start_us < 0 || (q->week_start_us && *q->week)) {
        crm_work_fail(w, S_INVALID, "week_start_us",
                      q->week_start_us < 0 ? "time is negative"
                                           : "week and week_start_us both given",
                      NULL, "give an ISO week or the instant the week starts, not both");
        return;
    }
    if (q->week_start_us) {
        /* A week of the reader's calendar (Saturday to Friday for fa_IR). */
        start = q->week_start_us;
    } else if (!*q->week) {
        start = an_week_start(at);
    } else if (an_iso_week_parse(q->week, &start, &why) < 0) {
        crm_work_fail(w, S_INVALID, "week", "invalid ISO week",
                      crm_work_printf(w, "\"%s\": %s", q->week, why),
                      "use YYYY-Www, e.g. 2026-W47");
        return;
    }
    if (strlen(q->rep) > 200) {
        crm_work_fail(w, S_INVALID, "rep", "rep is too long", NULL, "at most 200 bytes");
        return;
    }
    if (analytics_report_state(w, NULL, NULL, ANALYTICS_POST_NONE) < 0)
        return;
    an_store_report_weekly(w, start, q->rep, analytics_report_done);
}

void analytics_report_campaigns(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_NONE) < 0)
        return;
    if (strlen(q->campaign_id) > 200) {
        crm_work_fail(w, S_INVALID, "campaign_id", "campaign_id is too long", NULL,
                      "at most 200 bytes");
        return;
    }
    an_store_report_campaigns(w, q->campaign_id, analytics_report_done);
}

void analytics_report_data_quality(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_NONE) < 0)
        return;
    an_store_report_data_quality(w, at, analytics_report_done);
}

void analytics_report_trends(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0)
        return;
    static const char *const periods[] = {"week", "month", "quarter", "year"};
    static const int64_t lengths[] = {7, 28, 90, 365}; /* the shortest of each, in days */
    const char *period = *q->period ? NULL : "month";
    int64_t len = 28;
    for (size_t i = 0; !period && i < sizeof periods / sizeof *periods; i++)
        if (!strcmp(q->period, periods[i])) {
            period = periods[i];
            len = lengths[i];
        }
    if (!period) {
        crm_work_fail(w, S_INVALID, "period", "unknown period",
                      crm_work_printf(w, "got \"%.40s\"", q->period),
                      "use week, month, quarter or year");
        return;
    }
    if (q->from_us < 0 || q->to_us < 0) {
        crm_work_fail(w, S_INVALID, q->from_us < 0 ? "from_us" : "to_us", "time is negative", NULL,
                      "0 means the default");
        return;
    }
    int64_t to = q->to_us ? q->to_us : at;
    int64_t from = q->from_us ? q->from_us : to - 365LL * AN_US_PER_DAY;
    if (from >= to) {
        crm_work_fail(w, S_INVALID, "from_us", "period is empty", NULL,
                      "give a start before the end");
        return;
    }
    if ((to - from) / (len * AN_US_PER_DAY) > 600) {
        crm_work_fail(w, S_INVALID, "from_us", "too many periods", NULL,
                      "at most 600 periods; choose a longer period or a shorter span");
        return;
    }
    if (analytics_report_state(w, NULL, NULL, ANALYTICS_POST_NONE) < 0)
        return;
    an_store_report_trends(w, from, to, period, analytics_report_done);
}

void analytics_report_channels(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 ||
        analytics_report_state(w, NULL, NULL, ANALYTICS_POST_NONE) < 0)
        return;
    an_store_report_channels(w, at, analytics_report_done);
}
