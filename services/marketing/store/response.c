/* store/response.c: the SQL of campaign responses. Recording one never
 * enrols the customer (that would mail them): a response from someone who
 * is not a recipient is kept as unsolicited. */
#include "store_int.h"

#include <crm/params.h>

int mkt_store_order_of(crm_work_t *w, const char *order_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, order_id);
    return crm_params_run(&p, "SELECT customer_id::text FROM purchase WHERE order_id = $1::uuid", 0,
                          cb);
}

int mkt_store_response_insert(crm_work_t *w, const char *id, const char *customer_id,
                              const Crm__V1__CampaignResponseRecorded *r, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, r->campaign_id);
    crm_params_str(&p, customer_id);
    crm_params_i64(&p, r->response);
    crm_params_str(&p, r->channel);
    crm_params_i64(&p, r->revenue_minor);
    crm_params_str(&p, r->currency);
    crm_params_str(&p, r->note);
    crm_params_str(&p, r->order_id);
    return crm_params_run(
        &p,
        "INSERT INTO response (id, campaign_id, customer_id, response, channel,"
        " revenue_minor, currency, note, order_id, unsolicited) VALUES ($1::uuid, $2::uuid,"
        " $3::uuid, $4::int, $5, $6::bigint, upper(btrim($7)), btrim($8),"
        " NULLIF($9, '')::uuid,"
        " NOT EXISTS (SELECT 1 FROM campaign_recipient WHERE campaign_id = $2::uuid"
        "  AND customer_id = $3::uuid)) RETURNING id::text, unsolicited",
        1, cb);
}

int mkt_store_track_use(crm_work_t *w, const char *digest, const char *delivery_id, int kind,
                        crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, digest);
    crm_params_str(&p, delivery_id);
    crm_params_i64(&p, kind);
    return crm_params_run(&p,
                          "INSERT INTO track_use (digest, delivery_id, kind) VALUES ($1,"
                          " $2::uuid, $3::int) ON CONFLICT (digest) DO NOTHING RETURNING 1",
                          1, cb);
}
