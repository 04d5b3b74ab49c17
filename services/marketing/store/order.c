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
    return crm_params_run(
        &p,
        "INSERT INTO conversion (order_id, campaign_id, customer_id, revenue_minor,"
        " currency, ordered_at)"
        " SELECT $1::uuid, r.campaign_id, $2::uuid, $3::bigint, c.currency,"
        "  mkt_ts($5::bigint)"
        " FROM campaign_recipient r JOIN campaign c ON c.id = r.campaign_id"
        " WHERE r.customer_id = $2::uuid AND c.currency = upper($4)"
        "  AND r.reached_at <= mkt_ts($5::bigint)"
        "  AND mkt_ts($5::bigint) <= r.reached_at"
        "   + c.attribution_window_days * interval '1 day'"
        "  AND c.status <> 6"
        " ORDER BY r.reached_at DESC, r.campaign_id LIMIT 1"
        " ON CONFLICT (order_id) DO NOTHING RETURNING campaign_id::text",
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
