/* store/order.c: the SQL of sales' orders as marketing keeps them: purchase
 * history for segments, and attribution of the revenue to a campaign. */
#include "store_int.h"

#include <crm/params.h>

#include <jansson.h>

int mkt_store_attribute(crm_work_t *w, const char *order_id, const char *customer_id,
                        int64_t total_minor, const char *currency, int64_t ordered_at_us,
                        crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, order_id);
    crm_params_str(&p, customer_id);
    crm_params_i64(&p, total_minor);
    crm_params_str(&p, currency);
    crm_params_i64(&p, ordered_at_us);
    /* A campaign touched the buyer when it sent them a message (a SENT
     * decision) or when they responded to it (not a bounce or an
     * unsubscribe); the window starts at that touch, never at targeting.
     * Drafts and cancelled campaigns earn nothing. The conversion goes to
     * the last touch; conversion_share keeps the order's revenue under
     * each model (1 last touch, 2 first touch, 3 linear: equal shares
     * among the campaigns that touched, the remainder's minor units one
     * each to the earliest), written only with the conversion. */
    return crm_params_run(
        &p,
        "WITH t AS (SELECT s.campaign_id, s.decided_at AS at FROM send s"
        "  WHERE s.customer_id = $2::uuid AND s.status = 1"
        " UNION ALL SELECT r.campaign_id, r.recorded_at FROM response r"
        "  WHERE r.customer_id = $2::uuid AND r.response NOT IN (6, 7)),"
        " k AS (SELECT t.campaign_id, t.at, c.currency FROM t JOIN campaign c"
        "  ON c.id = t.campaign_id"
        "  WHERE c.currency = upper($4) AND c.status NOT IN (1, 6)"
        "   AND t.at <= mkt_ts($5::bigint)"
        "   AND mkt_ts($5::bigint) <= t.at + c.attribution_window_days * interval '1 day'),"
        " e AS (SELECT campaign_id, min(at) AS at FROM k GROUP BY campaign_id),"
        " lin AS (SELECT campaign_id, $3::bigint / count(*) OVER ()"
        "  + CASE WHEN row_number() OVER (ORDER BY at, campaign_id)"
        "   <= $3::bigint % count(*) OVER () THEN 1 ELSE 0 END AS revenue FROM e),"
        " ins AS (INSERT INTO conversion (order_id, campaign_id, customer_id, revenue_minor,"
        "  currency, ordered_at)"
        "  SELECT $1::uuid, campaign_id, $2::uuid, $3::bigint, currency, mkt_ts($5::bigint)"
        "  FROM k ORDER BY at DESC, campaign_id LIMIT 1"
        "  ON CONFLICT (order_id) DO NOTHING RETURNING campaign_id),"
        " sh AS (INSERT INTO conversion_share (order_id, campaign_id, model, revenue_minor)"
        "  SELECT $1::uuid, campaign_id, 1, $3::bigint FROM ins"
        "  UNION ALL (SELECT $1::uuid, campaign_id, 2, $3::bigint FROM k"
        "   WHERE EXISTS (SELECT 1 FROM ins) ORDER BY at, campaign_id LIMIT 1)"
        "  UNION ALL SELECT $1::uuid, campaign_id, 3, revenue FROM lin"
        "   WHERE EXISTS (SELECT 1 FROM ins) AND revenue <> 0"
        "  ON CONFLICT DO NOTHING)"
        " SELECT campaign_id::text FROM ins",
        1, cb);
}

int mkt_store_purchase_insert(crm_work_t *w, const Crm__V1__Order *o, int64_t ordered_at_us,
                              crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    json_t *codes = json_array();
    for (size_t i = 0; codes && i < o->n_items; i++)
        if (o->items[i]->product_code && *o->items[i]->product_code)
            json_array_append_new(codes, json_string(o->items[i]->product_code));
    crm_params_str(&p, o->id);
    crm_params_str(&p, o->person_id);
    crm_params_json(&p, codes);
    crm_params_i64(&p, o->total_minor);
    crm_params_str(&p, o->currency);
    crm_params_i64(&p, ordered_at_us);
    return crm_params_run(
        &p,
        "INSERT INTO purchase (order_id, customer_id, product_codes, total_minor,"
        " currency, ordered_at) VALUES ($1::uuid, $2::uuid,"
        " ARRAY(SELECT DISTINCT jsonb_array_elements_text($3::jsonb)), $4::bigint,"
        " upper($5), mkt_ts($6::bigint)) ON CONFLICT (order_id) DO NOTHING",
        1, cb);
}
