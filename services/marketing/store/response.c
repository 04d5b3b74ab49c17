/* store/response.c: the SQL of campaign responses. */
#include "store_int.h"

#include <crm/params.h>

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
    return crm_params_run(
        &p,
        "WITH rc AS (INSERT INTO campaign_recipient (campaign_id, customer_id)"
        " VALUES ($2::uuid, $3::uuid) ON CONFLICT DO NOTHING)"
        " INSERT INTO response (id, campaign_id, customer_id, response, channel,"
        " revenue_minor, currency, note) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::int,"
        " $5, $6::bigint, upper(btrim($7)), btrim($8)) RETURNING id::text",
        1, cb);
}
