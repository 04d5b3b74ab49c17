/* store/message.c: the SQL of message templates (one per campaign and
 * channel) and of what a preview renders. */
#include "store_int.h"

#include <crm/params.h>

int mkt_store_message_put(crm_work_t *w, const Crm__V1__MessageTemplate *t, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, t->campaign_id);
    crm_params_i64(&p, t->channel);
    crm_params_str(&p, t->subject);
    crm_params_str(&p, t->body);
    return crm_params_run(
        &p,
        "INSERT INTO message_template AS t (campaign_id, channel, subject, body)"
        " VALUES ($1::uuid, $2::int, btrim($3), btrim($4))"
        " ON CONFLICT (campaign_id, channel) DO UPDATE SET subject = EXCLUDED.subject,"
        "  body = EXCLUDED.body, updated_at = now()"
        " RETURNING jsonb_build_object('campaign_id', t.campaign_id, 'channel', t.channel,"
        "  'subject', t.subject, 'body', t.body)",
        1, cb);
}

int mkt_store_message_values(crm_work_t *w, const char *campaign_id, int channel,
                             const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    crm_params_i64(&p, channel);
    crm_params_str(&p, customer_id);
    return crm_params_run(&p,
                          "SELECT t.subject, t.body, COALESCE(pe.name, ''), COALESCE(pe.email, "
                          "''), " MKT_SQL_OFFER_TEXT ", c.owner, c.name"
                          " FROM campaign c JOIN message_template t ON t.campaign_id = c.id"
                          "  AND t.channel = $2::int"
                          " LEFT JOIN person pe ON pe.id = $3::uuid WHERE c.id = $1::uuid",
                          0, cb);
}
