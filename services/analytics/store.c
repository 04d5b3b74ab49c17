/* store.c: every SQL statement of analytics, and nothing else. Values go
 * as out-of-line text parameters; instants as microseconds since the
 * epoch, turned into timestamptz by an_ts() in the database. */
#include "store.h"

#include <crm/params.h>

int an_store_apply(crm_work_t *w, const char *source, uint64_t seq, const char *event_json,
                   crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, source);
    crm_params_i64(&p, (int64_t)seq);
    crm_params_str(&p, event_json);
    return crm_params_run(&p,
                          "SELECT out_customer, out_at_us, out_inputs::text, out_old_score,"
                          " out_old_high, out_publish FROM an_apply($1, $2::bigint, $3::jsonb)",
                          1, cb);
}

/* The health goes out as the work's last write (crm_work_exec_last):
 * with the transaction's positions, outbox and COMMIT, one round trip. */
int an_store_health_put(crm_work_t *w, const char *customer_id, int score, const char *reasons_json,
                        int churn_high, int64_t at_us)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    crm_params_i64(&p, score);
    crm_params_str(&p, reasons_json);
    crm_params_bool(&p, churn_high);
    crm_params_i64(&p, at_us);
    if (p.oom) {
        crm_work_fail_nomem(w);
        return -1;
    }
    return crm_work_exec_last(
        w, "an_health_put", "SELECT an_health_put($1, $2::int, $3::jsonb, $4::boolean, $5::bigint)",
        p.n, p.v);
}

int an_store_apply_run(crm_work_t *w, const char *run_json, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, run_json);
    return crm_params_run_named(&p, "an_apply_run",
                                "SELECT run_i, run_customer, run_at_us, run_inputs::text,"
                                " run_old_score, run_old_high, run_publish"
                                " FROM an_apply_run($1::jsonb)",
                                1, cb);
}

int an_store_health_put_run(crm_work_t *w, const char *health_json)
{
    const char *v[1] = {health_json};
    return crm_work_exec_last(w, "an_health_put_run", "SELECT an_health_put_run($1::jsonb)", 1, v);
}

int an_store_customer_show(crm_work_t *w, const char *customer_id, int64_t as_of_us, int64_t at_us,
                           int64_t per_ticket, int64_t per_hour, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    crm_params_opt_i64(&p, as_of_us);
    crm_params_i64(&p, at_us);
    crm_params_i64(&p, per_ticket);
    crm_params_i64(&p, per_hour);
    return crm_params_run(&p,
                          "SELECT an_customer_show($1, an_ts($2), an_ts($3), $4::bigint,"
                          " $5::bigint)::text",
                          0, cb);
}

int an_store_customer_timeline(crm_work_t *w, const char *customer_id, int64_t at_us,
                               crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    crm_params_i64(&p, at_us);
    return crm_params_run(&p,
                          "SELECT CASE WHEN EXISTS (SELECT 1 FROM customer_event"
                          "  WHERE customer_id = $1 AND occurred_at <= an_ts($2))"
                          " THEN jsonb_build_object('customer_id', $1::text,"
                          "  'events', an_timeline($1, an_ts($2), 10000))::text END",
                          0, cb);
}

int an_store_report_kpis(crm_work_t *w, int64_t at_us, int64_t per_ticket, int64_t per_hour,
                         crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, at_us);
    crm_params_i64(&p, per_ticket);
    crm_params_i64(&p, per_hour);
    return crm_params_run(&p, "SELECT an_report_kpis(an_ts($1), $2::bigint, $3::bigint)::text", 0,
                          cb);
}

int an_store_report_health(crm_work_t *w, int64_t at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, at_us);
    return crm_params_run(&p, "SELECT an_report_health(an_ts($1))::text", 0, cb);
}

int an_store_report_potential(crm_work_t *w, int64_t at_us, const char *thresholds, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, at_us);
    crm_params_str(&p, thresholds);
    return crm_params_run(&p, "SELECT an_report_potential(an_ts($1), $2::jsonb)::text", 0, cb);
}

int an_store_report_pipeline(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    /* The deals of the owners the reader reaches (crm/access.h). */
    crm_params_reach(&p, CRM_REC_REPORT, CRM_ACT_READ);
    return crm_params_run(&p, "SELECT an_report_pipeline($1::text[])::text", 0, cb);
}

int an_store_report_forecast(crm_work_t *w, int64_t at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, at_us);
    return crm_params_run(&p, "SELECT an_report_forecast_at(an_ts($1::text))::text", 0, cb);
}

int an_store_report_weekly(crm_work_t *w, int64_t week_start_us, const char *rep, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, week_start_us);
    crm_params_str(&p, rep);
    /* Only the reps the reader reaches: a rep their own row, a manager
     * their team's (crm/access.h). */
    crm_params_reach(&p, CRM_REC_REPORT, CRM_ACT_READ);
    return crm_params_run(&p,
                          "SELECT CASE WHEN $3::text[] IS NULL THEN r ELSE jsonb_set(r, '{reps}',"
                          " COALESCE((SELECT jsonb_agg(e.x ORDER BY e.i)"
                          "  FROM jsonb_array_elements(r->'reps') WITH ORDINALITY e(x, i)"
                          "  WHERE e.x->>'rep' = ANY($3::text[])), '[]')) END::text"
                          " FROM an_report_weekly(an_ts($1), $2) r",
                          0, cb);
}

int an_store_report_campaigns(crm_work_t *w, const char *campaign_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    return crm_params_run(&p, "SELECT an_report_campaigns_by_reason($1)::text", 0, cb);
}

int an_store_report_data_quality(crm_work_t *w, int64_t at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, at_us);
    return crm_params_run(&p, "SELECT an_report_data_quality(an_ts($1))::text", 0, cb);
}

int an_store_dq_claim(crm_work_t *w, int64_t at_us, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, at_us);
    crm_params_i64(&p, limit);
    return crm_params_run(
        &p,
        /* A duplicate pair is published once, whichever of the two is the
         * suspect now (sql/0014_dq_pair.sql). */
        "WITH x AS (SELECT *, CASE WHEN kind = 'duplicate' THEN"
        "   substring(detail FROM 'duplicate of ([0-9a-f-]{36})') END AS original_id"
        "  FROM an_dq_findings(an_ts($1))),"
        " f AS (SELECT * FROM x"
        "  WHERE NOT an_rebuilding() AND NOT EXISTS (SELECT 1 FROM an_dq_emitted e"
        "   WHERE e.kind = x.kind AND e.record_id = x.record_id)"
        "  AND NOT EXISTS (SELECT 1 FROM an_dq_emitted e WHERE x.kind = 'duplicate'"
        "   AND e.kind = 'duplicate' AND e.record_id = x.original_id"
        "   AND e.original_id = x.record_id)"
        "  ORDER BY x.kind, x.record_id LIMIT $2::int),"
        " ins AS (INSERT INTO an_dq_emitted (kind, record_id, original_id)"
        "  SELECT kind, record_id, original_id FROM f"
        "  ON CONFLICT DO NOTHING RETURNING kind, record_id)"
        " SELECT f.kind, f.record_id, f.customer_id, f.team, f.detail"
        " FROM f JOIN ins USING (kind, record_id) ORDER BY f.kind, f.record_id",
        1, cb);
}

int an_store_rebuild(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p, "SELECT an_rebuild_reset()", 1, cb);
}

int an_store_positions(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p,
                          "SELECT consumer, source, seq FROM crm_consumer_position"
                          " WHERE consumer LIKE 'analytics.%' ORDER BY consumer, source",
                          0, cb);
}

int an_store_counts(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p,
                          "SELECT (SELECT count(*) FROM customer_event),"
                          " (SELECT count(*) FROM customer WHERE known), an_rebuilding(),"
                          " COALESCE((SELECT an_us(rebuilt_at) FROM an_rebuild), 0)",
                          0, cb);
}

int an_store_dq_resolve(crm_work_t *w, const char *record_id, const char *original_id,
                        int resolution, const char *note, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, record_id);
    crm_params_str(&p, original_id);
    crm_params_i64(&p, resolution);
    crm_params_str(&p, crm_work_principal(w));
    crm_params_str(&p, note);
    /* Resolving a pair again keeps the first decision (and says so). */
    return crm_params_run(
        &p,
        "WITH k AS (SELECT EXISTS (SELECT 1 FROM customer WHERE id = $1) AS r,"
        "  EXISTS (SELECT 1 FROM customer WHERE id = $2) AS o),"
        " ins AS (INSERT INTO an_dq_resolution (record_id, original_id, resolution, actor, note)"
        "  SELECT $1, $2, $3::smallint, $4, $5 FROM k WHERE k.r AND k.o"
        "  ON CONFLICT DO NOTHING RETURNING 1)"
        " SELECT k.r, k.o, EXISTS (SELECT 1 FROM ins) FROM k",
        1, cb);
}

int an_store_report_trends(crm_work_t *w, int64_t from_us, int64_t to_us, const char *period,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, from_us);
    crm_params_i64(&p, to_us);
    crm_params_str(&p, period);
    return crm_params_run(&p, "SELECT an_report_trends(an_ts($1), an_ts($2), $3::text)::text", 0,
                          cb);
}

int an_store_report_channels(crm_work_t *w, int64_t at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, at_us);
    return crm_params_run(&p, "SELECT an_report_channels(an_ts($1))::text", 0, cb);
}
