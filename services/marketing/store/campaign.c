/* store/campaign.c: the SQL of the campaign itself: its row, status, offers,
 * exclusions and recipients. */
#include "store_int.h"

#include "rules.h"

#include <crm/params.h>

#include <jansson.h>

#define S_TEMPLATES "(SELECT count(*) FROM message_template t WHERE t.campaign_id = c.id)"

int mkt_store_campaign_insert(crm_work_t *w, const Crm__V1__Campaign *c, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    int ch[MKT_LIST_MAX];
    size_t n = 0;
    for (; n < c->n_channels && n < MKT_LIST_MAX; n++)
        ch[n] = (int)c->channels[n];
    json_t *offers = json_array();
    for (size_t i = 0; offers && i < c->n_offers; i++)
        json_array_append_new(offers, json_pack("{s:s, s:i, s:s}", "product_code",
                                                c->offers[i]->product_code, "discount_percent",
                                                (int)c->offers[i]->discount_percent, "text",
                                                c->offers[i]->text));
    crm_params_str(&p, c->id);
    crm_params_str(&p, c->name);
    crm_params_str(&p, c->objective);
    crm_params_json(&p, mkt_store_ints(ch, n));
    crm_params_opt(&p, c->start_date);
    crm_params_opt(&p, c->end_date);
    crm_params_str(&p, c->owner);
    crm_params_json(&p, offers);
    crm_params_i64(&p, c->budget_minor);
    crm_params_str(&p, c->currency);
    crm_params_i64(&p, c->overspend_policy ? c->overspend_policy
                                           : CRM__V1__OVERSPEND_POLICY__OVERSPEND_POLICY_REFUSE);
    crm_params_i64(&p,
                   c->attribution_window_days ? c->attribution_window_days : MKT_WINDOW_DEFAULT);
    crm_params_i64(&p, c->throttle_per_minute);
    crm_params_opt(&p, c->follows_campaign_id);
    crm_params_i64(&p, c->follow_delay_seconds);
    crm_params_bool(&p, c->only_non_responders);
    mkt_store_now(&p);
    return crm_params_run(
        &p,
        "WITH c AS (INSERT INTO campaign (id, name, objective, channels, start_date,"
        " end_date, status, owner, offers, budget_minor, currency, overspend_policy,"
        " attribution_window_days, throttle_per_minute, follows_campaign_id, follow_delay_s,"
        " follow_non_responders)"
        " SELECT $1::uuid, btrim($2), btrim($3),"
        "  ARRAY(SELECT jsonb_array_elements_text($4::jsonb)::int), $5::date, $6::date,"
        "  1, btrim($7), (SELECT COALESCE(jsonb_agg(jsonb_build_object("
        "   'product_code', btrim(o->>'product_code'), 'discount_percent',"
        "   (o->>'discount_percent')::int, 'text', btrim(o->>'text'))), '[]')"
        "   FROM jsonb_array_elements($8::jsonb) AS o),"
        "  $9::bigint, upper(btrim($10)), $11::int, $12::int, $13::int, $14::uuid,"
        "  $15::bigint, $16::boolean"
        " RETURNING *)"
        " SELECT " MKT_SQL_REPLY("$17") " FROM c",
        1, cb);
}

int mkt_store_campaign_get(crm_work_t *w, const char *id, int lock, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    mkt_store_now(&p);
    if (lock)
        return crm_params_run(
            &p,
            "SELECT " MKT_SQL_REPLY("$2") ", c.status, c.budget_minor, " MKT_SQL_SPENT(
                "$2") ","
                      " c.overspend_policy, c.currency, c.channels::text, " S_TEMPLATES
                      " FROM campaign c WHERE c.id = $1::uuid FOR UPDATE",
            1, cb);
    return crm_params_run(
        &p,
        "SELECT " MKT_SQL_REPLY("$2") ", c.status, c.budget_minor, " MKT_SQL_SPENT(
            "$2") ","
                  " c.overspend_policy, c.currency, c.channels::text, " S_TEMPLATES
                  " FROM campaign c WHERE c.id = $1::uuid",
        0, cb);
}

int mkt_store_campaign_list(crm_work_t *w, int status, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, status);
    crm_params_reach(&p, CRM_REC_CAMPAIGN, CRM_ACT_READ);
    return crm_params_run(&p,
                          "SELECT " MKT_SQL_CAMPAIGN
                          " FROM campaign c WHERE ($1::int = 0 OR c.status = $1::int)"
                          " AND ($2::text[] IS NULL OR c.owner = ANY($2::text[]))"
                          " ORDER BY c.created_at DESC, c.id DESC LIMIT 500",
                          0, cb);
}

int mkt_store_campaign_schedule(crm_work_t *w, const char *id, int64_t start_at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, start_at_us);
    mkt_store_now(&p);
    return crm_params_run(
        &p,
        "WITH c AS (UPDATE campaign SET status = 2, start_at = mkt_ts($2::bigint),"
        " updated_at = now() WHERE id = $1::uuid RETURNING *)"
        " SELECT " MKT_SQL_REPLY("$3") " FROM c",
        1, cb);
}

int mkt_store_campaign_status(crm_work_t *w, const char *id, int status, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, status);
    mkt_store_now(&p);
    return crm_params_run(&p,
                          "WITH c AS (UPDATE campaign SET status = $2::int, updated_at = now()"
                          " WHERE id = $1::uuid RETURNING *)"
                          " SELECT " MKT_SQL_REPLY("$3") " FROM c",
                          1, cb);
}

int mkt_store_campaign_offer_add(crm_work_t *w, const char *id, const Crm__V1__Offer *o,
                                 crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, o->product_code);
    crm_params_i64(&p, o->discount_percent);
    crm_params_str(&p, o->text);
    mkt_store_now(&p);
    return crm_params_run(
        &p,
        "WITH c AS (UPDATE campaign SET offers = offers || jsonb_build_array(jsonb_build_object("
        " 'product_code', btrim($2), 'discount_percent', $3::int, 'text', btrim($4))),"
        " updated_at = now() WHERE id = $1::uuid RETURNING *)"
        " SELECT " MKT_SQL_REPLY("$5") " FROM c",
        1, cb);
}

int mkt_store_campaign_exclude(crm_work_t *w, const char *campaign_id, const char *segment_id,
                               crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    crm_params_str(&p, segment_id);
    return crm_params_run(&p,
                          "WITH x AS (INSERT INTO campaign_exclusion (campaign_id, segment_id)"
                          " VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING RETURNING 1)"
                          " UPDATE campaign SET updated_at = now() WHERE id = $1::uuid"
                          " AND EXISTS (SELECT 1 FROM x)",
                          1, cb);
}

int mkt_store_campaign_launch(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    mkt_store_now(&p);
    return crm_params_run(&p,
                          "WITH c AS (UPDATE campaign SET status = 3, start_at = now(),"
                          " updated_at = now() WHERE id = $1::uuid RETURNING *)"
                          " SELECT " MKT_SQL_REPLY("$2") " FROM c",
                          1, cb);
}

int mkt_store_unknown_people(crm_work_t *w, char *const *ids, size_t n, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_json(&p, mkt_store_strings(ids, n));
    return crm_params_run(&p,
                          "SELECT q.ord - 1, q.v FROM jsonb_array_elements_text($1::jsonb)"
                          " WITH ORDINALITY AS q(v, ord)"
                          " WHERE NOT EXISTS (SELECT 1 FROM person WHERE id = q.v::uuid)"
                          " ORDER BY q.ord LIMIT 1",
                          0, cb);
}

int mkt_store_target(crm_work_t *w, const char *campaign_id, char *const *ids, size_t n,
                     crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    crm_params_json(&p, mkt_store_strings(ids, n));
    return crm_params_run(&p,
                          "WITH ins AS (INSERT INTO campaign_recipient (campaign_id, customer_id)"
                          " SELECT $1::uuid, v::uuid FROM jsonb_array_elements_text($2::jsonb) AS v"
                          " ON CONFLICT DO NOTHING RETURNING customer_id)"
                          " SELECT (SELECT count(*) FROM ins),"
                          " (SELECT count(*) FROM ins) + (SELECT count(*) FROM campaign_recipient"
                          "  WHERE campaign_id = $1::uuid), " MKT_SQL_TARGETED,
                          1, cb);
}
