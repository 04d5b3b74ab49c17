/* store.c: the SQL of crm-webhooks (see store.h and sql/). */
#include "store.h"

#include <crm/params.h>

#define WH_SUB_J                                                                                   \
    "jsonb_build_object('id', s.id, 'url', s.url, 'event_types', s.event_types,"                   \
    " 'description', s.description, 'enabled', s.enabled, 'created_at_us', s.created_us,"          \
    " 'updated_at_us', s.updated_us, 'failing_since_us', s.failing_since_us,"                      \
    " 'disabled_reason', s.disabled_reason, 'undelivered', (SELECT count(*) FROM wh_delivery q"    \
    "   WHERE q.subscription_id = s.id AND q.status <> 3))"

#define WH_DELIVERY_J                                                                              \
    "jsonb_build_object('id', d.id, 'subscription_id', d.subscription_id,"                         \
    " 'event_id', d.event_id, 'event_type', d.event_type, 'source', d.source,"                     \
    " 'sequence', d.sequence, 'status', d.status, 'attempts', d.attempts,"                         \
    " 'created_at_us', d.created_us,"                                                              \
    " 'next_attempt_at_us', CASE WHEN d.status <> 3 THEN d.next_attempt_us END,"                   \
    " 'delivered_at_us', d.delivered_us, 'last_http_status', d.last_http_status,"                  \
    " 'last_error', d.last_error)"

int wh_store_enqueue(crm_work_t *w, const Crm__V1__Event *ev, const char *body, int64_t now_us,
                     crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, ev->id);
    crm_params_str(&p, ev->type);
    crm_params_str(&p, ev->source);
    crm_params_i64(&p, (int64_t)ev->sequence);
    crm_params_str(&p, body);
    crm_params_i64(&p, now_us);
    return crm_params_run(
        &p,
        "INSERT INTO wh_delivery (id, subscription_id, event_id, event_type, source, sequence,"
        " body, next_attempt_us, created_us)"
        " SELECT gen_random_uuid(), s.id, $1::text, $2::text, $3::text, $4::bigint, $5::text,"
        "  $6::bigint, $6::bigint FROM wh_subscription s"
        " WHERE s.enabled AND EXISTS (SELECT 1 FROM unnest(s.event_types) t"
        "   WHERE starts_with($2::text, t))"
        " ORDER BY s.id"
        " ON CONFLICT (subscription_id, event_id) DO NOTHING",
        1, cb);
}

int wh_store_sub_insert(crm_work_t *w, const char *id, const char *url, char *const *types,
                        size_t n_types, const char *secret, const char *description, int64_t now_us,
                        crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, url);
    crm_params_textv(&p, types, n_types);
    crm_params_str(&p, secret);
    crm_params_str(&p, description);
    crm_params_i64(&p, now_us);
    return crm_params_run(&p,
                          "WITH s AS (INSERT INTO wh_subscription (id, url, event_types, secret,"
                          " description, created_us, updated_us) VALUES ($1::uuid, $2::text,"
                          " $3::text[], $4::text, $5::text, $6::bigint, $6::bigint) RETURNING *)"
                          " SELECT " WH_SUB_J "::text FROM s",
                          1, cb);
}

int wh_store_sub_get(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p, "SELECT " WH_SUB_J "::text FROM wh_subscription s WHERE s.id = $1::uuid", 0, cb);
}

int wh_store_sub_list(crm_work_t *w, int64_t after_created_us, const char *after_id, int limit,
                      crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, after_created_us);
    crm_params_opt(&p, after_id);
    crm_params_i64(&p, limit);
    return crm_params_run(&p,
                          "SELECT " WH_SUB_J "::text, s.created_us, s.id::text"
                          " FROM wh_subscription s WHERE $2::uuid IS NULL"
                          "  OR (s.created_us, s.id) < ($1::bigint, $2::uuid)"
                          " ORDER BY s.created_us DESC, s.id DESC LIMIT $3::int",
                          0, cb);
}

int wh_store_sub_update(crm_work_t *w, const char *id, int enabled, const char *url,
                        char *const *types, size_t n_types, const char *description, int64_t now_us,
                        crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_add(&p, enabled < 0 ? NULL : enabled ? "true" : "false");
    crm_params_add(&p, url);
    if (n_types)
        crm_params_textv(&p, types, n_types);
    else
        crm_params_add(&p, NULL);
    crm_params_add(&p, description);
    crm_params_i64(&p, now_us);
    return crm_params_run(
        &p,
        "WITH s AS (UPDATE wh_subscription s SET"
        "  enabled = COALESCE($2::boolean, s.enabled),"
        "  disabled_reason = CASE WHEN $2::boolean IS NULL THEN s.disabled_reason ELSE '' END,"
        "  failing_since_us = CASE WHEN $2::boolean AND NOT s.enabled THEN NULL"
        "   ELSE s.failing_since_us END,"
        "  url = COALESCE($3::text, s.url), event_types = COALESCE($4::text[], s.event_types),"
        "  description = COALESCE($5::text, s.description), updated_us = $6::bigint"
        "  FROM (SELECT x.id, x.enabled AS was_enabled FROM wh_subscription x"
        "   WHERE x.id = $1::uuid) o WHERE s.id = o.id RETURNING s.*, o.was_enabled),"
        " d AS (UPDATE wh_delivery d SET next_attempt_us = $6::bigint FROM s"
        "  WHERE d.subscription_id = s.id AND s.enabled AND NOT s.was_enabled AND d.status = 2)"
        " SELECT " WH_SUB_J "::text FROM s",
        1, cb);
}

int wh_store_sub_delete(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p,
                          "WITH n AS (SELECT count(*) AS n FROM wh_delivery"
                          "  WHERE subscription_id = $1::uuid),"
                          " s AS (DELETE FROM wh_subscription WHERE id = $1::uuid RETURNING id)"
                          " SELECT s.id::text, n.n FROM s, n",
                          1, cb);
}

int wh_store_delivery_list(crm_work_t *w, const char *sub, int status, int64_t after, int limit,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, sub);
    crm_params_opt_i64(&p, status);
    crm_params_i64(&p, after);
    crm_params_i64(&p, limit);
    return crm_params_run(&p,
                          "SELECT " WH_DELIVERY_J "::text, d.seq FROM wh_delivery d"
                          " WHERE ($1::uuid IS NULL OR d.subscription_id = $1::uuid)"
                          "  AND ($2::smallint IS NULL OR d.status = $2::smallint)"
                          "  AND d.seq > $3::bigint ORDER BY d.seq LIMIT $4::int",
                          0, cb);
}

int wh_store_delivery_retry(crm_work_t *w, const char *id, const char *sub, int64_t now_us,
                            crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, id);
    crm_params_opt(&p, sub);
    crm_params_i64(&p, now_us);
    return crm_params_run(
        &p,
        "WITH s AS (SELECT s.id, s.enabled FROM wh_subscription s WHERE s.id = COALESCE($2::uuid,"
        "   (SELECT x.subscription_id FROM wh_delivery x WHERE x.id = $1::uuid))),"
        " t AS (SELECT d.seq FROM wh_delivery d, s WHERE d.subscription_id = s.id"
        "   AND d.status = 2 AND ($1::uuid IS NULL OR d.id = $1::uuid)),"
        " u AS (UPDATE wh_delivery d SET next_attempt_us = $3::bigint FROM t"
        "   WHERE d.seq = t.seq RETURNING 1)"
        " SELECT (SELECT enabled FROM s), (SELECT count(*) FROM u),"
        "  (SELECT status FROM wh_delivery WHERE id = $1::uuid)",
        1, cb);
}

int wh_store_settle(crm_work_t *w, const char *outcomes_json, int64_t now_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, outcomes_json);
    crm_params_i64(&p, now_us);
    return crm_params_run(
        &p,
        "WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (id uuid,"
        "   subscription uuid, ok boolean, http int, error text, next_us bigint)),"
        " d AS (UPDATE wh_delivery d SET status = CASE WHEN r.ok THEN 3 ELSE 2 END,"
        "   attempts = d.attempts + 1,"
        "   delivered_us = CASE WHEN r.ok THEN $2::bigint END,"
        "   next_attempt_us = CASE WHEN r.ok THEN d.next_attempt_us ELSE r.next_us END,"
        "   last_http_status = r.http, last_error = r.error"
        "   FROM r WHERE d.id = r.id AND d.status <> 3 RETURNING d.id)"
        " UPDATE wh_subscription s SET failing_since_us = CASE WHEN r.ok THEN NULL"
        "   ELSE COALESCE(s.failing_since_us, $2::bigint) END"
        " FROM r WHERE s.id = r.subscription",
        1, cb);
}

int wh_store_disable_failing(crm_work_t *w, int64_t now_us, int64_t after_us, const char *reason,
                             crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, now_us);
    crm_params_i64(&p, after_us);
    crm_params_str(&p, reason);
    return crm_params_run(&p,
                          "UPDATE wh_subscription SET enabled = false, disabled_reason = $3::text,"
                          " updated_us = $1::bigint WHERE enabled AND failing_since_us IS NOT NULL"
                          " AND failing_since_us <= $1::bigint - $2::bigint"
                          " RETURNING id::text, url, failing_since_us",
                          1, cb);
}

int wh_store_claim(crm_work_t *w, char *const *busy, size_t n_busy, int limit, int batch,
                   crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_textv(&p, busy, n_busy);
    crm_params_i64(&p, limit);
    crm_params_i64(&p, batch);
    return crm_params_run(&p,
                          "WITH h AS (SELECT s.id AS sub, s.url, s.secret, d.next_attempt_us"
                          "  FROM wh_subscription s CROSS JOIN LATERAL (SELECT q.next_attempt_us"
                          "   FROM wh_delivery q WHERE q.subscription_id = s.id AND q.status <> 3"
                          "   ORDER BY q.seq LIMIT 1) d"
                          "  WHERE s.enabled AND s.id::text <> ALL ($1::text[])"
                          "  ORDER BY d.next_attempt_us, s.id LIMIT $2::int)"
                          " SELECT d.id::text, h.sub::text, h.url, h.secret, d.event_id, d.body,"
                          "  d.attempts, h.next_attempt_us FROM h CROSS JOIN LATERAL (SELECT *"
                          "   FROM wh_delivery q WHERE q.subscription_id = h.sub AND q.status <> 3"
                          "   ORDER BY q.seq LIMIT $3::int) d"
                          " ORDER BY h.next_attempt_us, h.sub, d.seq",
                          0, cb);
}
