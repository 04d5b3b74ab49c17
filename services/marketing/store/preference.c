/* store/preference.c: the SQL of contact preferences and consent (opt-outs,
 * contact window, time zone). */
#include "store_int.h"

#include "rules.h"

#include <crm/params.h>

int mkt_store_pref_get(crm_work_t *w, const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    return crm_params_run(
        &p, "SELECT " MKT_SQL_PREF " FROM preference p WHERE p.customer_id = $1::uuid", 0, cb);
}

int mkt_store_zone_known(crm_work_t *w, const char *zone, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, zone);
    return crm_params_run(&p, "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)", 0,
                          cb);
}

int mkt_store_pref_put(crm_work_t *w, const Crm__V1__ContactPreferences *q, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    int ch[MKT_LIST_MAX];
    size_t n = 0;
    for (size_t i = 0; i < q->n_opted_out && n < MKT_LIST_MAX; i++) {
        size_t j = 0;
        while (j < n && ch[j] != (int)q->opted_out[i])
            j++;
        if (j == n)
            ch[n++] = (int)q->opted_out[i];
    }
    crm_params_str(&p, q->customer_id);
    crm_params_i64(&p, q->preferred_channel);
    crm_params_i64(&p, q->window_start_minute);
    crm_params_i64(&p, q->window_end_minute);
    crm_params_str(&p, q->time_zone);
    crm_params_i64(&p, q->utc_offset_minutes);
    crm_params_json(&p, mkt_store_ints(ch, n));
    crm_params_bool(&p, q->consent && q->consent->given);
    crm_params_str(&p, q->consent ? q->consent->source : "");
    crm_params_i64(&p, q->consent ? q->consent->at_us : 0);
    return crm_params_run(
        &p,
        "WITH p AS (INSERT INTO preference AS t (customer_id, preferred_channel,"
        " window_start_minute, window_end_minute, time_zone, utc_offset_minutes,"
        " opted_out, consent_given, consent_source, consent_at)"
        " VALUES ($1::uuid, $2::int, $3::int, $4::int, btrim($5), $6::int,"
        "  ARRAY(SELECT jsonb_array_elements_text($7::jsonb)::int ORDER BY 1),"
        "  $8::boolean, btrim($9),"
        "  CASE WHEN $8::boolean THEN COALESCE(mkt_ts(NULLIF($10::bigint, 0)), now())"
        "  END)"
        " ON CONFLICT (customer_id) DO UPDATE SET"
        "  preferred_channel = EXCLUDED.preferred_channel,"
        "  window_start_minute = EXCLUDED.window_start_minute,"
        "  window_end_minute = EXCLUDED.window_end_minute,"
        "  time_zone = EXCLUDED.time_zone, utc_offset_minutes = EXCLUDED.utc_offset_minutes,"
        "  opted_out = EXCLUDED.opted_out, consent_given = EXCLUDED.consent_given,"
        "  consent_source = EXCLUDED.consent_source, consent_at = EXCLUDED.consent_at,"
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
