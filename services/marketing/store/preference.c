/* store/preference.c: the SQL of contact preferences and consent (opt-outs,
 * contact window, time zone). */
#include "store_int.h"

#include "rules.h"

#include <crm/params.h>

int mkt_store_pref_get(crm_work_t *w, const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    /* Row: the preferences (NULL when none were set), then the person's
     * addresses with their delivery state. */
    return crm_params_run(
        &p,
        "SELECT (SELECT " MKT_SQL_PREF " FROM preference p WHERE p.customer_id = $1::uuid),"
        " (SELECT jsonb_build_object('addresses', COALESCE(jsonb_agg(jsonb_build_object("
        "   'channel', a.channel, 'address',"
        "   a.address, 'undeliverable', COALESCE(z.undeliverable, false), 'soft_bounces',"
        "   COALESCE(z.soft_bounces, 0), 'last_error', COALESCE(z.last_error, ''),"
        "   'updated_at_us', mkt_us(z.updated_at)) ORDER BY a.channel), '[]'))"
        "  FROM person pe CROSS JOIN LATERAL (VALUES (1, pe.email), (2, pe.phone), (4, pe.fax),"
        "   (5, pe.address)) a(channel, address)"
        "  LEFT JOIN address_state z ON z.address = a.address"
        "  WHERE pe.id = $1::uuid AND a.address <> '')",
        0, cb);
}

int mkt_store_zone_known(crm_work_t *w, const char *zone, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, zone);
    return crm_params_run(&p, "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)", 0,
                          cb);
}

int mkt_store_pref_put(crm_work_t *w, const Crm__V1__SetPreferencesRequest *rq, int fields,
                       crm_work_cb cb)
{
    const Crm__V1__ContactPreferences *q = rq->preferences;
    crm_params_t p = CRM_PARAMS(w);
    int out[MKT_LIST_MAX], in[MKT_LIST_MAX];
    size_t n_out = 0, n_in = 0;
    for (size_t i = 0; i < q->n_opted_out && n_out < MKT_LIST_MAX; i++)
        out[n_out++] = (int)q->opted_out[i];
    for (size_t i = 0; i < rq->n_opted_in && n_in < MKT_LIST_MAX; i++)
        in[n_in++] = (int)rq->opted_in[i];
    crm_params_str(&p, q->customer_id);
    crm_params_i64(&p, q->preferred_channel);
    crm_params_i64(&p, q->window_start_minute);
    crm_params_i64(&p, q->window_end_minute);
    crm_params_str(&p, q->time_zone);
    crm_params_i64(&p, q->utc_offset_minutes);
    crm_params_json(&p, mkt_store_ints(out, n_out));
    crm_params_bool(&p, q->consent && q->consent->given);
    crm_params_str(&p, q->consent ? q->consent->source : "");
    crm_params_i64(&p, q->consent ? q->consent->at_us : 0);
    crm_params_i64(&p, fields);
    crm_params_json(&p, mkt_store_ints(in, n_in));
    /* Only the fields the request sets ($11, MKT_PREF_* bits) change; a new
     * row takes the defaults for the others. Opt-outs are added to the
     * stored ones and only opted_in ($12) removes any. */
    return crm_params_run(
        &p,
        "WITH f AS (SELECT $11::int AS b,"
        "  ARRAY(SELECT jsonb_array_elements_text($7::jsonb)::int) AS o,"
        "  ARRAY(SELECT jsonb_array_elements_text($12::jsonb)::int) AS i),"
        " p AS (INSERT INTO preference AS t (customer_id, preferred_channel,"
        " window_start_minute, window_end_minute, time_zone, utc_offset_minutes,"
        " opted_out, consent_given, consent_source, consent_at)"
        " SELECT $1::uuid, CASE WHEN b & 1 <> 0 THEN $2::int ELSE 0 END,"
        "  CASE WHEN b & 2 <> 0 THEN $3::int ELSE 0 END,"
        "  CASE WHEN b & 2 <> 0 THEN $4::int ELSE 0 END,"
        "  CASE WHEN b & 4 <> 0 THEN btrim($5) ELSE '' END,"
        "  CASE WHEN b & 8 <> 0 THEN $6::int ELSE 0 END,"
        "  ARRAY(SELECT DISTINCT u FROM unnest(f.o) u WHERE u <> ALL (f.i) ORDER BY 1),"
        "  b & 16 <> 0 AND $8::boolean, CASE WHEN b & 16 <> 0 THEN btrim($9) ELSE '' END,"
        "  CASE WHEN b & 16 <> 0 AND $8::boolean"
        "   THEN COALESCE(mkt_ts(NULLIF($10::bigint, 0)), now()) END"
        " FROM f"
        " ON CONFLICT (customer_id) DO UPDATE SET"
        "  preferred_channel = CASE WHEN $11::int & 1 <> 0 THEN EXCLUDED.preferred_channel"
        "   ELSE t.preferred_channel END,"
        "  window_start_minute = CASE WHEN $11::int & 2 <> 0 THEN EXCLUDED.window_start_minute"
        "   ELSE t.window_start_minute END,"
        "  window_end_minute = CASE WHEN $11::int & 2 <> 0 THEN EXCLUDED.window_end_minute"
        "   ELSE t.window_end_minute END,"
        "  time_zone = CASE WHEN $11::int & 4 <> 0 THEN EXCLUDED.time_zone ELSE t.time_zone END,"
        "  utc_offset_minutes = CASE WHEN $11::int & 8 <> 0 THEN EXCLUDED.utc_offset_minutes"
        "   ELSE t.utc_offset_minutes END,"
        "  opted_out = ARRAY(SELECT DISTINCT u FROM unnest(t.opted_out || EXCLUDED.opted_out) u"
        "   WHERE u <> ALL (ARRAY(SELECT jsonb_array_elements_text($12::jsonb)::int))"
        "   ORDER BY 1),"
        "  consent_given = CASE WHEN $11::int & 16 <> 0 THEN EXCLUDED.consent_given"
        "   ELSE t.consent_given END,"
        "  consent_source = CASE WHEN $11::int & 16 <> 0 THEN EXCLUDED.consent_source"
        "   ELSE t.consent_source END,"
        "  consent_at = CASE WHEN $11::int & 16 <> 0 THEN EXCLUDED.consent_at"
        "   ELSE t.consent_at END,"
        "  updated_at = now()"
        " RETURNING *)"
        " SELECT " MKT_SQL_PREF " FROM p",
        1, cb);
}

int mkt_store_pref_opt_out(crm_work_t *w, const char *customer_id, const int *channels, size_t n,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    crm_params_json(&p, mkt_store_ints(channels, n));
    /* changed: whether any channel was not opted out before (the old row
     * is read in the statement's snapshot). */
    return crm_params_run(
        &p,
        "WITH ad AS (SELECT ARRAY(SELECT jsonb_array_elements_text($2::jsonb)::int)"
        "   AS v),"
        " old AS (SELECT opted_out FROM preference WHERE customer_id = $1::uuid),"
        " p AS (INSERT INTO preference AS t (customer_id, opted_out)"
        "  SELECT $1::uuid, ARRAY(SELECT DISTINCT u FROM unnest(ad.v) u ORDER BY u)"
        "  FROM ad"
        "  ON CONFLICT (customer_id) DO UPDATE SET opted_out = ARRAY(SELECT DISTINCT u"
        "   FROM unnest(t.opted_out || EXCLUDED.opted_out) u ORDER BY u),"
        "   updated_at = now()"
        "  RETURNING *)"
        " SELECT " MKT_SQL_PREF ", NOT COALESCE((SELECT old.opted_out @> ad.v FROM old),"
        "  false) FROM p, ad",
        1, cb);
}
