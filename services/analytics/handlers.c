/* handlers.c: analytics' commands and consumers.
 *
 * The consumers hand every event of every source, as JSON, to the fold in
 * the database (an_apply, sql/R_apply.sql), score the health of the
 * customer it was about with the rules of rules.c, store it and publish
 * what changed (health_changed, churn_risk_raised), in the same
 * transaction. The commands check their query and run one report function
 * each; reports are JSON documents (AnalyticsReportReply.json,
 * docs/analytics.md), health filled in here from the inputs the database
 * returns. */
#include "analytics.h"

#include "rules.h"
#include "store.h"

#include <crm/db.h>
#include <crm/log.h>
#include <crm/pbjson.h>
#include <crm/util.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/analytics.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define S_NOT_FOUND CRM__V1__STATUS_CODE__STATUS_CODE_NOT_FOUND
#define S_INTERNAL CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL

static analytics_t *s_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

/* ---- health ------------------------------------------------------------------ */

static int64_t s_int(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Health inputs as an_health_inputs returns them (sql/0002_apply.sql). */
static void s_inputs(const json_t *o, an_health_in_t *in)
{
    in->orders = s_int(o, "orders");
    in->since_tenths = s_int(o, "since_tenths");
    in->cadence_tenths = s_int(o, "cadence_tenths");
    in->engagement = s_int(o, "engagement");
    in->open_complaints = s_int(o, "open_complaints");
    in->ratings = s_int(o, "ratings");
    in->rating_sum = s_int(o, "rating_sum");
    in->breaches = s_int(o, "breaches");
}

/* The reasons as a JSON array (a new reference, or NULL on ENOMEM). */
static json_t *s_reasons(const an_health_t *h)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < h->n_reasons; i++)
        if (json_array_append_new(a, json_string(h->reasons[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* ---- consumers ------------------------------------------------------------------ */

/* The health an applied event leads to, between the statements of one
 * event's work. */
typedef struct {
    char *customer;
    an_health_t h;
    int has_old, old_score, old_high, high, publish;
} s_fold_t;

static int s_emit_health(crm_work_t *w, s_fold_t *st)
{
    Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    ev.subject = st->customer;
    /* Both events carry the same reasons. */
    char *r[AN_HEALTH_REASONS];
    for (size_t i = 0; i < st->h.n_reasons; i++)
        r[i] = st->h.reasons[i];
    if (st->has_old && st->old_score != st->h.score) {
        Crm__V1__HealthChanged hc = CRM__V1__HEALTH_CHANGED__INIT;
        hc.customer_id = st->customer;
        hc.old_score = st->old_score;
        hc.new_score = st->h.score;
        hc.n_reasons = st->h.n_reasons;
        hc.reasons = r;
        ev.type = "crm.analytics.customer.health_changed.v1";
        ev.payload_case = CRM__V1__EVENT__PAYLOAD_HEALTH_CHANGED;
        ev.health_changed = &hc;
        if (crm_work_emit(w, &ev) < 0)
            return -1;
    }
    if (st->high && !st->old_high) {
        Crm__V1__ChurnRiskRaised cr = CRM__V1__CHURN_RISK_RAISED__INIT;
        cr.customer_id = st->customer;
        cr.score = st->h.churn_risk;
        cr.n_reasons = st->h.n_reasons;
        cr.reasons = r;
        ev.type = "crm.analytics.customer.churn_risk_raised.v1";
        ev.payload_case = CRM__V1__EVENT__PAYLOAD_CHURN_RISK_RAISED;
        ev.churn_risk_raised = &cr;
        if (crm_work_emit(w, &ev) < 0)
            return -1;
    }
    return 0;
}

/* The health is stored: publish what changed (unless a rebuild replays). */
static void s_health_stored(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_fold_t *st = crm_work_data(w);
    if (st->publish && s_emit_health(w, st) < 0) {
        crm_work_fail(w, S_INTERNAL, NULL, "could not publish a derived event", st->customer, NULL);
        return;
    }
    crm_work_ok(w, NULL);
}

/* The event is recorded and projected; compute the customer's health from
 * the inputs an_apply returned (rules.c) and store it. */
static void s_applied(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) == 0) {
        crm_work_ok(w, NULL); /* not about a customer */
        return;
    }
    s_fold_t *st = crm_work_alloc(w, sizeof *st);
    if (!st || !(st->customer = crm_work_strdup(w, PQgetvalue(res, 0, 0)))) {
        crm_work_fail_nomem(w);
        return;
    }
    int64_t at_us = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    json_error_t err;
    json_t *in_j = json_loads(PQgetvalue(res, 0, 2), 0, &err);
    if (!in_j) {
        crm_work_fail(w, S_INTERNAL, NULL, "health inputs are not JSON", err.text, NULL);
        return;
    }
    an_health_in_t in;
    s_inputs(in_j, &in);
    json_decref(in_j);
    an_health_compute(&in, &st->h);
    st->has_old = !PQgetisnull(res, 0, 3);
    st->old_score = st->has_old ? atoi(PQgetvalue(res, 0, 3)) : 0;
    st->old_high = !PQgetisnull(res, 0, 4) && PQgetvalue(res, 0, 4)[0] == 't';
    st->high = st->h.churn_risk >= s_ctx(w)->churn_threshold;
    st->publish = PQgetvalue(res, 0, 5)[0] == 't';
    json_t *reasons = s_reasons(&st->h);
    char *text = reasons ? json_dumps(reasons, JSON_COMPACT) : NULL;
    json_decref(reasons);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, st);
    an_store_health_put(w, st->customer, st->h.score, copy, st->high, at_us, s_health_stored);
}

static void s_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    json_t *j = crm_pbjson_from_message(&ev->base);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    an_store_apply(w, ev->source, ev->sequence, copy, s_applied);
}

/* ---- the data-quality scan ---------------------------------------------------------- */

static void s_dq_claimed(crm_work_t *w, PGresult *res)
{
    analytics_t *ctx = crm_work_data(w);
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        Crm__V1__DataQualityIssueFound f = CRM__V1__DATA_QUALITY_ISSUE_FOUND__INIT;
        f.kind = PQgetvalue(res, i, 0);
        f.record_id = PQgetvalue(res, i, 1);
        f.customer_id = PQgetvalue(res, i, 2);
        f.owning_team = PQgetvalue(res, i, 3);
        f.detail = PQgetvalue(res, i, 4);
        Crm__V1__Event ev = CRM__V1__EVENT__INIT;
        ev.type = "crm.analytics.data_quality.issue_found.v1";
        ev.subject = f.customer_id;
        ev.payload_case = CRM__V1__EVENT__PAYLOAD_DATA_QUALITY_ISSUE_FOUND;
        ev.data_quality_issue_found = &f;
        if (crm_work_emit(w, &ev) < 0) {
            crm_work_fail(w, S_INTERNAL, NULL, "could not publish a finding", f.kind, NULL);
            return;
        }
    }
    if (n > 0)
        crm_info("analytics.data_quality", "%d new finding(s) published", n);
    if (crm_work_request(w)) {
        Crm__V1__DataQualityScanReply r = CRM__V1__DATA_QUALITY_SCAN_REPLY__INIT;
        r.published = n;
        crm_work_ok(w, &r.base);
        return;
    }
    ctx->scan_full = n >= AN_DQ_BATCH;
    crm_work_ok(w, NULL);
}

void analytics_dq_scan(crm_work_t *w)
{
    an_store_dq_claim(w, crm_now_us(), AN_DQ_BATCH, s_dq_claimed);
}

/* analytics.data_quality.scan: the same scan, asked for by an operator. */
static void s_dq_scan_cmd(crm_work_t *w)
{
    crm_work_set_data(w, s_ctx(w));
    analytics_dq_scan(w);
}

/* ---- reports ---------------------------------------------------------------------- */

/* What a report needs done to the document the database returned. */
typedef enum {
    S_POST_NONE,      /* nothing: passed on as it is */
    S_POST_HEALTH,    /* health_inputs -> health, churn_risk, health_reasons */
    S_POST_WORST,     /* ... then customers by health, lowest first */
    S_POST_POTENTIAL, /* ... then the high-potential rule */
} s_post_t;

typedef struct {
    const char *not_found; /* message when the report is NULL; NULL = never */
    const char *id;
    s_post_t post;
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
        s_inputs(in_j, &in);
        an_health_compute(&in, &h);
        json_t *reasons = s_reasons(&h);
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
    int64_t hx = s_int(x, "health"), hy = s_int(y, "health");
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
    int64_t lx = s_int(x, "ltv_minor"), ly = s_int(y, "ltv_minor");
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
    int64_t health = s_int(c, "health");
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

static void s_report_done(crm_work_t *w, PGresult *res)
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
    if (st->post == S_POST_NONE) {
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
    if (rc == 0 && st->post == S_POST_WORST)
        rc = s_customers(doc, s_by_health, NULL);
    else if (rc == 0 && st->post == S_POST_POTENTIAL)
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
static int s_query(crm_work_t *w, const Crm__V1__AnalyticsQuery **q_out, int64_t *at_us)
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

static s_report_t *s_state(crm_work_t *w, const char *not_found, const char *id, s_post_t post)
{
    s_report_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    st->not_found = not_found;
    st->id = id;
    st->post = post;
    crm_work_set_data(w, st);
    return st;
}

static int s_customer(crm_work_t *w, const Crm__V1__AnalyticsQuery *q, s_post_t post)
{
    an_err_t e;
    if (an_check_customer_id(q->customer_id, &e) < 0) {
        crm_work_fail(w, S_INVALID, e.field, e.message, NULL, e.hint);
        return -1;
    }
    return s_state(w, "customer not found", q->customer_id, post) ? 0 : -1;
}

static void s_customer_show(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || s_customer(w, q, S_POST_HEALTH) < 0)
        return;
    analytics_t *ctx = s_ctx(w);
    an_store_customer_show(w, q->customer_id, q->as_of_us, at, ctx->cost_per_ticket,
                           ctx->cost_per_hour, s_report_done);
}

static void s_customer_timeline(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || s_customer(w, q, S_POST_NONE) < 0)
        return;
    an_store_customer_timeline(w, q->customer_id, q->as_of_us ? q->as_of_us : at, s_report_done);
}

static void s_report_kpis(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL, S_POST_HEALTH))
        return;
    analytics_t *ctx = s_ctx(w);
    an_store_report_kpis(w, at, ctx->cost_per_ticket, ctx->cost_per_hour, s_report_done);
}

static void s_report_health(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL, S_POST_WORST))
        return;
    an_store_report_health(w, at, s_report_done);
}

static void s_report_potential(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL, S_POST_POTENTIAL))
        return;
    an_store_report_potential(w, at, s_ctx(w)->potential_ltv, s_report_done);
}

static void s_report_pipeline(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL, S_POST_NONE))
        return;
    an_store_report_pipeline(w, s_report_done);
}

static void s_report_forecast(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL, S_POST_NONE))
        return;
    an_store_report_forecast(w, s_report_done);
}

static void s_report_weekly(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at, start;
    if (s_query(w, &q, &at) < 0)
        return;
    const char *why = NULL;
    if (!*q->week) {
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
    if (!s_state(w, NULL, NULL, S_POST_NONE))
        return;
    an_store_report_weekly(w, start, q->rep, s_report_done);
}

static void s_report_campaigns(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL, S_POST_NONE))
        return;
    if (strlen(q->campaign_id) > 200) {
        crm_work_fail(w, S_INVALID, "campaign_id", "campaign_id is too long", NULL,
                      "at most 200 bytes");
        return;
    }
    an_store_report_campaigns(w, q->campaign_id, s_report_done);
}

static void s_report_data_quality(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL, S_POST_NONE))
        return;
    an_store_report_data_quality(w, at, s_report_done);
}

/* ---- rebuild and status ------------------------------------------------------------ */

/* Runs after the rebuild committed (it is queued behind the rebuild's
 * batch): the consumers forget their in-memory positions and replay from
 * the ones the rebuild wrote. */
static void s_reload_done(crm_service_t *svc, int status, void *arg)
{
    (void)status;
    (void)arg;
    for (const crm_consumer_def_t *c = analytics_consumers; c->name; c++)
        crm_consumer_reload(svc, c->name);
    crm_info("analytics.rebuild", "consumers rewound; replaying every stream from the start");
}

static void s_reload_noop(crm_work_t *w)
{
    crm_work_ok(w, NULL);
}

static void s_rebuilt(crm_work_t *w, PGresult *res)
{
    Crm__V1__RebuildReply r = CRM__V1__REBUILD_REPLY__INIT;
    r.events_dropped = crm_db_get_int(res, 0, 0);
    if (crm_service_submit(crm_work_service(w), "analytics.rebuild.reload", s_reload_noop, NULL,
                           s_reload_done) < 0) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL,
                      "could not schedule the replay", NULL, "retry the command");
        return;
    }
    crm_info("analytics.rebuild", "projections dropped (%lld events)", (long long)r.events_dropped);
    crm_work_ok(w, &r.base);
}

static void s_rebuild(crm_work_t *w)
{
    an_store_rebuild(w, s_rebuilt);
}

typedef struct {
    Crm__V1__AnalyticsStatusReply r;
} s_status_t;

static void s_status_counts(crm_work_t *w, PGresult *res)
{
    s_status_t *st = crm_work_data(w);
    st->r.events = crm_db_get_int(res, 0, 0);
    st->r.customers = crm_db_get_int(res, 0, 1);
    st->r.rebuild_in_progress = PQgetvalue(res, 0, 2)[0] == 't';
    st->r.rebuilt_at_us = crm_db_get_int(res, 0, 3);
    crm_work_ok(w, &st->r.base);
}

static void s_status_positions(crm_work_t *w, PGresult *res)
{
    s_status_t *st = crm_work_data(w);
    int n = PQntuples(res);
    st->r.sources = crm_work_alloc(w, (size_t)(n ? n : 1) * sizeof *st->r.sources);
    if (!st->r.sources) {
        crm_work_fail_nomem(w);
        return;
    }
    for (int i = 0; i < n; i++) {
        Crm__V1__SourceProgress *s = crm_work_alloc(w, sizeof *s);
        if (!s) {
            crm_work_fail_nomem(w);
            return;
        }
        crm__v1__source_progress__init(s);
        s->consumer = crm_work_strdup(w, PQgetvalue(res, i, 0));
        s->source = crm_work_strdup(w, PQgetvalue(res, i, 1));
        if (!s->consumer || !s->source) {
            crm_work_fail_nomem(w);
            return;
        }
        s->applied = (uint64_t)crm_db_get_int(res, i, 2);
        uint64_t mem_applied = 0, head = 0;
        crm_consumer_progress(crm_work_service(w), s->consumer, s->source, &mem_applied, &head);
        s->head = head > s->applied ? head : s->applied;
        s->lag = s->head - s->applied;
        st->r.sources[st->r.n_sources++] = s;
    }
    an_store_counts(w, s_status_counts);
}

static void s_status(crm_work_t *w)
{
    s_status_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__analytics_status_reply__init(&st->r);
    crm_work_set_data(w, st);
    an_store_positions(w, s_status_positions);
}

/* ---- tables ------------------------------------------------------------------------ */

#define S_REPORT(name, fn)                                                                         \
    {                                                                                              \
        name, &crm__v1__analytics_query__descriptor, fn, 1                                         \
    }

const crm_command_def_t analytics_commands[] = {
    S_REPORT("analytics.customer.show", s_customer_show),
    S_REPORT("analytics.customer.timeline", s_customer_timeline),
    S_REPORT("analytics.report.kpis", s_report_kpis),
    S_REPORT("analytics.report.health", s_report_health),
    S_REPORT("analytics.report.potential", s_report_potential),
    S_REPORT("analytics.report.pipeline", s_report_pipeline),
    S_REPORT("analytics.report.forecast", s_report_forecast),
    S_REPORT("analytics.report.weekly_activity", s_report_weekly),
    S_REPORT("analytics.report.campaigns", s_report_campaigns),
    S_REPORT("analytics.report.data_quality", s_report_data_quality),
    {"analytics.data_quality.scan", &crm__v1__data_quality_scan_request__descriptor, s_dq_scan_cmd,
     0},
    {"analytics.rebuild", &crm__v1__rebuild_request__descriptor, s_rebuild, 0},
    {"analytics.status", &crm__v1__analytics_status_request__descriptor, s_status, 1},
    {NULL, NULL, NULL, 0},
};

/* Every topic of each source: one consumer per source, so that each keeps
 * its own position and a slow source does not hold the others back. */
static const char *const s_sales[] = {"crm.sales.", NULL};
static const char *const s_marketing[] = {"crm.marketing.", NULL};
static const char *const s_support[] = {"crm.support.", NULL};

const crm_consumer_def_t analytics_consumers[] = {
    {"analytics.sales", s_sales, s_apply},
    {"analytics.marketing", s_marketing, s_apply},
    {"analytics.support", s_support, s_apply},
    {NULL, NULL, NULL},
};
