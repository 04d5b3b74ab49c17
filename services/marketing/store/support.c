/* store/support.c: the SQL of support's tickets and feedback as marketing keeps
 * them, for segment rules (open complaint, low rating, tags). */
#include "store_int.h"

#include <crm/params.h>

int mkt_store_ticket_put(crm_work_t *w, const char *id, const char *customer_id, int type,
                         int status, char *const *tags, size_t n_tags, int rating,
                         int64_t rated_at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, customer_id);
    crm_params_i64(&p, type);
    crm_params_i64(&p, status);
    if (tags)
        crm_params_json(&p, mkt_store_strings(tags, n_tags));
    else
        crm_params_opt(&p, NULL);
    crm_params_opt_i64(&p, rating);
    crm_params_opt_i64(&p, rated_at_us);
    /* NULL tags (an event that does not carry them) keep the stored ones;
     * a rating without an instant is rated now. */
    return crm_params_run(
        &p,
        "INSERT INTO ticket AS t (id, customer_id, type, status, tags, rating, rated_at)"
        " VALUES ($1::uuid, $2::uuid, $3::int, $4::int,"
        "  COALESCE(ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), '{}'), $6::int,"
        "  CASE WHEN $6::int IS NOT NULL THEN COALESCE(mkt_ts($7::bigint), now()) END)"
        " ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id,"
        "  type = CASE WHEN EXCLUDED.type <> 0 THEN EXCLUDED.type ELSE t.type END,"
        "  status = EXCLUDED.status,"
        "  tags = CASE WHEN $5::jsonb IS NULL THEN t.tags ELSE EXCLUDED.tags END,"
        "  rating = COALESCE(EXCLUDED.rating, t.rating),"
        "  rated_at = COALESCE(EXCLUDED.rated_at, t.rated_at), updated_at = now()",
        1, cb);
}

int mkt_store_ticket_tag(crm_work_t *w, const char *id, const char *customer_id, int type,
                         char *const *tags, size_t n_tags, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, customer_id);
    crm_params_i64(&p, type);
    crm_params_json(&p, mkt_store_strings(tags, n_tags));
    return crm_params_run(
        &p,
        "INSERT INTO ticket AS t (id, customer_id, type, tags)"
        " VALUES ($1::uuid, $2::uuid, $3::int,"
        "  ARRAY(SELECT DISTINCT jsonb_array_elements_text($4::jsonb)))"
        " ON CONFLICT (id) DO UPDATE SET"
        "  tags = ARRAY(SELECT DISTINCT u FROM unnest(t.tags || EXCLUDED.tags) u ORDER BY u),"
        "  type = CASE WHEN EXCLUDED.type <> 0 THEN EXCLUDED.type ELSE t.type END,"
        "  updated_at = now()",
        1, cb);
}
