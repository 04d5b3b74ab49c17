/* handlers.c: analytics' commands and consumers.
 *
 * The consumers hand every event of every source, as JSON, to the fold in
 * the database (an_apply, sql/0002_apply.sql) and publish the derived
 * events it returns, in the same transaction. The commands check their
 * query and run one report function each; reports are JSON documents
 * (AnalyticsReportReply.json, docs/analytics.md). */
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
#include "crm/v1/signals.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define S_NOT_FOUND CRM__V1__STATUS_CODE__STATUS_CODE_NOT_FOUND
#define S_INTERNAL CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL

static analytics_t *s_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

static void s_nomem(crm_work_t *w)
{
    crm_work_fail(w, S_INTERNAL, NULL, "out of memory", NULL, NULL);
}

static const char *s_val(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* ---- consumers ------------------------------------------------------------------ */

/* Publishes the derived events an_apply returned, then ends the work. */
static void s_applied(crm_work_t *w, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *member = PQgetvalue(res, i, 2), *payload = PQgetvalue(res, i, 3);
        Crm__V1__Event ev = CRM__V1__EVENT__INIT;
        ev.type = PQgetvalue(res, i, 0);
        ev.subject = PQgetvalue(res, i, 1);
        if (!strcmp(member, "health_changed")) {
            ev.payload_case = CRM__V1__EVENT__PAYLOAD_HEALTH_CHANGED;
            ev.health_changed = crm_work_record(w, &crm__v1__health_changed__descriptor, payload);
            if (!ev.health_changed) {
                s_nomem(w);
                return;
            }
        } else if (!strcmp(member, "churn_risk_raised")) {
            ev.payload_case = CRM__V1__EVENT__PAYLOAD_CHURN_RISK_RAISED;
            ev.churn_risk_raised =
                crm_work_record(w, &crm__v1__churn_risk_raised__descriptor, payload);
            if (!ev.churn_risk_raised) {
                s_nomem(w);
                return;
            }
        } else {
            crm_work_fail(w, S_INTERNAL, NULL, "unknown derived event", member, NULL);
            return;
        }
        if (crm_work_emit(w, &ev) < 0) {
            crm_work_fail(w, S_INTERNAL, NULL, "could not publish a derived event", ev.type, NULL);
            return;
        }
    }
    crm_work_ok(w, NULL);
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
        s_nomem(w);
        return;
    }
    an_store_apply(w, ev->source, ev->sequence, copy, s_ctx(w)->churn_threshold, s_applied);
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

typedef struct {
    const char *not_found; /* message when the report is NULL; NULL = never */
    const char *id;
} s_report_t;

static void s_report_done(crm_work_t *w, PGresult *res)
{
    s_report_t *st = crm_work_data(w);
    const char *json = PQntuples(res) == 1 ? s_val(res, 0, 0) : NULL;
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

static s_report_t *s_state(crm_work_t *w, const char *not_found, const char *id)
{
    s_report_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        s_nomem(w);
        return NULL;
    }
    st->not_found = not_found;
    st->id = id;
    crm_work_set_data(w, st);
    return st;
}

static int s_customer(crm_work_t *w, const Crm__V1__AnalyticsQuery *q)
{
    an_err_t e;
    if (an_check_customer_id(q->customer_id, &e) < 0) {
        crm_work_fail(w, S_INVALID, e.field, e.message, NULL, e.hint);
        return -1;
    }
    return s_state(w, "customer not found", q->customer_id) ? 0 : -1;
}

static void s_customer_show(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || s_customer(w, q) < 0)
        return;
    analytics_t *ctx = s_ctx(w);
    an_store_customer_show(w, q->customer_id, q->as_of_us, at, ctx->cost_per_ticket,
                           ctx->cost_per_hour, s_report_done);
}

static void s_customer_timeline(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || s_customer(w, q) < 0)
        return;
    an_store_customer_timeline(w, q->customer_id, q->as_of_us ? q->as_of_us : at, s_report_done);
}

static void s_report_kpis(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL))
        return;
    analytics_t *ctx = s_ctx(w);
    an_store_report_kpis(w, at, ctx->cost_per_ticket, ctx->cost_per_hour, s_report_done);
}

static void s_report_health(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL))
        return;
    an_store_report_health(w, at, s_report_done);
}

static void s_report_potential(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL))
        return;
    an_store_report_potential(w, at, s_ctx(w)->potential_ltv, s_report_done);
}

static void s_report_pipeline(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL))
        return;
    an_store_report_pipeline(w, s_report_done);
}

static void s_report_forecast(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL))
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
    if (!s_state(w, NULL, NULL))
        return;
    an_store_report_weekly(w, start, q->rep, s_report_done);
}

static void s_report_campaigns(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL))
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
    if (s_query(w, &q, &at) < 0 || !s_state(w, NULL, NULL))
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
        s_nomem(w);
        return;
    }
    for (int i = 0; i < n; i++) {
        Crm__V1__SourceProgress *s = crm_work_alloc(w, sizeof *s);
        if (!s) {
            s_nomem(w);
            return;
        }
        crm__v1__source_progress__init(s);
        s->consumer = crm_work_strdup(w, PQgetvalue(res, i, 0));
        s->source = crm_work_strdup(w, PQgetvalue(res, i, 1));
        if (!s->consumer || !s->source) {
            s_nomem(w);
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
        s_nomem(w);
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
