/* store.c: every SQL statement of marketing, and nothing else.
 *
 * Values always travel as out-of-line text parameters; arrays as JSON
 * arrays (built with jansson) unpacked in SQL. Records are returned as one
 * jsonb object each, built by the S_*_J expressions below, whose keys are
 * the crm.v1 field names. */
#include "store.h"

#include "rules.h"

#include <crm/log.h>
#include <crm/params.h>

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "crm/v1/rpc.pb-c.h"

/* ---- records as JSON ------------------------------------------------------ */

#define S_CAMPAIGN_J                                                                               \
    "jsonb_build_object('id', c.id, 'name', c.name, 'objective', c.objective,"                     \
    " 'channels', to_jsonb(c.channels), 'start_date', COALESCE(c.start_date::text, ''),"           \
    " 'end_date', COALESCE(c.end_date::text, ''), 'status', c.status, 'owner', c.owner,"           \
    " 'offers', c.offers, 'budget_minor', c.budget_minor, 'currency', c.currency,"                 \
    " 'overspend_policy', c.overspend_policy,"                                                     \
    " 'attribution_window_days', c.attribution_window_days,"                                       \
    " 'start_at_us', mkt_us(c.start_at), 'created_at_us', mkt_us(c.created_at),"                   \
    " 'updated_at_us', mkt_us(c.updated_at), 'throttle_per_minute', c.throttle_per_minute,"        \
    " 'follows_campaign_id', COALESCE(c.follows_campaign_id::text, ''),"                           \
    " 'follow_delay_seconds', c.follow_delay_s, 'only_non_responders', c.follow_non_responders,"   \
    " 'exclude_segment_ids', (SELECT"                                                              \
    " COALESCE(jsonb_agg(x.segment_id ORDER BY x.segment_id), '[]') FROM campaign_exclusion x"     \
    " WHERE x.campaign_id = c.id))"

#define S_SPENT                                                                                    \
    "(SELECT COALESCE(sum(x.amount_minor), 0) FROM expense x WHERE x.campaign_id = c.id)"

/* The budget with `spent` (an SQL expression) spent. */
#define S_BUDGET_J(spent)                                                                          \
    "jsonb_build_object('budget_minor', c.budget_minor, 'spent_minor', " spent ","                 \
    " 'remaining_minor', c.budget_minor - " spent ", 'overspent', " spent " > c.budget_minor,"     \
    " 'currency', c.currency)"

#define S_REPLY_J                                                                                  \
    "jsonb_build_object('campaign', " S_CAMPAIGN_J ", 'budget', " S_BUDGET_J(S_SPENT) ")"

#define S_EXPENSE_J                                                                                \
    "jsonb_build_object('id', x.id, 'campaign_id', x.campaign_id,"                                 \
    " 'amount_minor', x.amount_minor, 'category', x.category,"                                     \
    " 'date', COALESCE(x.date::text, ''), 'note', x.note, 'flagged', x.flagged,"                   \
    " 'created_at_us', mkt_us(x.created_at))"

#define S_PREF_J                                                                                   \
    "jsonb_build_object('customer_id', p.customer_id, 'preferred_channel', p.preferred_channel,"   \
    " 'window_start_minute', p.window_start_minute, 'window_end_minute', p.window_end_minute,"     \
    " 'time_zone', p.time_zone, 'utc_offset_minutes', p.utc_offset_minutes,"                       \
    " 'opted_out', to_jsonb(p.opted_out), 'consent', jsonb_build_object('given',"                  \
    " p.consent_given, 'source', p.consent_source, 'at_us', mkt_us(p.consent_at)),"                \
    " 'updated_at_us', mkt_us(p.updated_at))"

#define S_TEMPLATES "(SELECT count(*) FROM message_template t WHERE t.campaign_id = c.id)"

/* ---- parameters ------------------------------------------------------------ */

static json_t *s_ints(const int *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *s_strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* ---- campaigns ---------------------------------------------------------------- */

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
    crm_params_json(&p, s_ints(ch, n));
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
        " SELECT " S_REPLY_J " FROM c",
        1, cb);
}

int mkt_store_campaign_get(crm_work_t *w, const char *id, int lock, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    if (lock)
        return crm_params_run(&p,
                              "SELECT " S_REPLY_J ", c.status, c.budget_minor, " S_SPENT ","
                              " c.overspend_policy, c.currency, c.channels::text, " S_TEMPLATES
                              " FROM campaign c WHERE c.id = $1::uuid FOR UPDATE",
                              1, cb);
    return crm_params_run(&p,
                          "SELECT " S_REPLY_J ", c.status, c.budget_minor, " S_SPENT ","
                          " c.overspend_policy, c.currency, c.channels::text, " S_TEMPLATES
                          " FROM campaign c WHERE c.id = $1::uuid",
                          0, cb);
}

int mkt_store_campaign_list(crm_work_t *w, int status, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, status);
    return crm_params_run(&p,
                          "SELECT " S_CAMPAIGN_J
                          " FROM campaign c WHERE $1::int = 0 OR c.status = $1::int"
                          " ORDER BY c.created_at DESC, c.id DESC LIMIT 500",
                          0, cb);
}

int mkt_store_campaign_schedule(crm_work_t *w, const char *id, int64_t start_at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, start_at_us);
    return crm_params_run(
        &p,
        "WITH c AS (UPDATE campaign SET status = 2, start_at = mkt_ts($2::bigint),"
        " updated_at = now() WHERE id = $1::uuid RETURNING *)"
        " SELECT " S_REPLY_J " FROM c",
        1, cb);
}

int mkt_store_campaign_status(crm_work_t *w, const char *id, int status, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, status);
    return crm_params_run(&p,
                          "WITH c AS (UPDATE campaign SET status = $2::int, updated_at = now()"
                          " WHERE id = $1::uuid RETURNING *)"
                          " SELECT " S_REPLY_J " FROM c",
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
    return crm_params_run(
        &p,
        "WITH c AS (UPDATE campaign SET offers = offers || jsonb_build_array(jsonb_build_object("
        " 'product_code', btrim($2), 'discount_percent', $3::int, 'text', btrim($4))),"
        " updated_at = now() WHERE id = $1::uuid RETURNING *)"
        " SELECT " S_REPLY_J " FROM c",
        1, cb);
}

int mkt_store_campaign_budget(crm_work_t *w, const char *id, int64_t budget_minor,
                              const char *currency, int policy, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, budget_minor);
    crm_params_str(&p, currency);
    crm_params_i64(&p, policy);
    return crm_params_run(
        &p,
        "WITH c AS (UPDATE campaign SET budget_minor = $2::bigint,"
        " currency = COALESCE(NULLIF($3, ''), currency),"
        " overspend_policy = CASE WHEN $4::int = 0 THEN overspend_policy ELSE $4::int END,"
        " updated_at = now() WHERE id = $1::uuid RETURNING *)"
        " SELECT " S_REPLY_J " FROM c",
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
    return crm_params_run(&p,
                          "WITH c AS (UPDATE campaign SET status = 3, start_at = now(),"
                          " updated_at = now() WHERE id = $1::uuid RETURNING *)"
                          " SELECT " S_REPLY_J " FROM c",
                          1, cb);
}

/* The customers a target statement added, as a CampaignTargeted record
 * (the statement's `ins` returns their ids). */
#define S_TARGETED_J                                                                               \
    "(SELECT jsonb_build_object('campaign_id', $1::text, 'customer_ids',"                          \
    " COALESCE(jsonb_agg(customer_id ORDER BY customer_id), '[]')) FROM ins)::text"

int mkt_store_target(crm_work_t *w, const char *campaign_id, char *const *ids, size_t n,
                     crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    crm_params_json(&p, s_strings(ids, n));
    return crm_params_run(&p,
                          "WITH ins AS (INSERT INTO campaign_recipient (campaign_id, customer_id)"
                          " SELECT $1::uuid, v::uuid FROM jsonb_array_elements_text($2::jsonb) AS v"
                          " ON CONFLICT DO NOTHING RETURNING customer_id)"
                          " SELECT (SELECT count(*) FROM ins),"
                          " (SELECT count(*) FROM ins) + (SELECT count(*) FROM campaign_recipient"
                          "  WHERE campaign_id = $1::uuid), " S_TARGETED_J,
                          1, cb);
}

/* ---- expenses ------------------------------------------------------------------ */

int mkt_store_expense_insert(crm_work_t *w, const Crm__V1__Expense *x, int flagged, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, x->id);
    crm_params_str(&p, x->campaign_id);
    crm_params_i64(&p, x->amount_minor);
    crm_params_str(&p, x->category);
    crm_params_opt(&p, x->date);
    crm_params_str(&p, x->note);
    crm_params_bool(&p, flagged);
    /* The statement's snapshot does not see the new row: add it. */
    return crm_params_run(
        &p,
        "WITH x AS (INSERT INTO expense (id, campaign_id, amount_minor, category, date,"
        " note, flagged) VALUES ($1::uuid, $2::uuid, $3::bigint, btrim($4),"
        " COALESCE($5::date, current_date), btrim($6), $7::boolean) RETURNING *)"
        " SELECT jsonb_build_object('expense', " S_EXPENSE_J ", 'budget', " S_BUDGET_J(
            "(" S_SPENT " + x.amount_minor)") ")"
                                              " FROM x JOIN campaign c ON c.id = x.campaign_id",
        1, cb);
}

int mkt_store_expense_list(crm_work_t *w, const char *campaign_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    return crm_params_run(
        &p,
        "SELECT jsonb_build_object('expenses', (SELECT COALESCE(jsonb_agg(" S_EXPENSE_J
        " ORDER BY x.created_at, x.id), '[]') FROM expense x"
        " WHERE x.campaign_id = c.id), 'budget', " S_BUDGET_J(
            S_SPENT) ")"
                     " FROM campaign c WHERE c.id = $1::uuid",
        0, cb);
}

/* ---- preferences ------------------------------------------------------------------ */

int mkt_store_pref_get(crm_work_t *w, const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    return crm_params_run(
        &p, "SELECT " S_PREF_J " FROM preference p WHERE p.customer_id = $1::uuid", 0, cb);
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
    crm_params_json(&p, s_ints(ch, n));
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
        " SELECT " S_PREF_J " FROM p",
        1, cb);
}

int mkt_store_pref_opt_out(crm_work_t *w, const char *customer_id, const int *channels, size_t n,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    crm_params_json(&p, s_ints(channels, n));
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
        " SELECT " S_PREF_J ", NOT COALESCE((SELECT old.opted_out @> ad.v FROM old),"
        "  false) FROM p, ad",
        1, cb);
}

/* ---- people ----------------------------------------------------------------------- */

int mkt_store_person_by_email(crm_work_t *w, const char *email, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, email);
    return crm_params_run(
        &p, "SELECT id::text FROM person WHERE email = $1 ORDER BY updated_at LIMIT 1", 0, cb);
}

int mkt_store_person_upsert(crm_work_t *w, const char *id, const char *name, const char *email,
                            const char *source, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, name);
    crm_params_str(&p, email);
    crm_params_str(&p, source);
    /* xmax = 0 only on a freshly inserted row. */
    return crm_params_run(
        &p,
        "INSERT INTO person AS t (id, name, email, registered_by)"
        " VALUES ($1::uuid, btrim($2), lower(btrim($3)), $4)"
        " ON CONFLICT (id) DO UPDATE SET"
        "  name = COALESCE(NULLIF(EXCLUDED.name, ''), t.name),"
        "  email = COALESCE(NULLIF(EXCLUDED.email, ''), t.email), updated_at = now()"
        " RETURNING xmax = 0",
        1, cb);
}

/* ---- responses and results ------------------------------------------------------------ */

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

/* A campaign's send decisions of one status, counted by reason code. */
#define S_BY_REASON(status)                                                                        \
    "(SELECT COALESCE(jsonb_agg(jsonb_build_object('reason', t.k, 'count', t.n)"                   \
    "  ORDER BY t.k), '[]') FROM (SELECT reason_code AS k, count(*) AS n"                          \
    "  FROM send WHERE campaign_id = c.id AND status = " #status " GROUP BY 1) t)"

int mkt_store_results(crm_work_t *w, char *const *ids, size_t n, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_json(&p, s_strings(ids, n));
    /* A converted response's revenue counts in the campaign's currency
     * only; conversions are always in it (mkt_store_attribute). */
    return crm_params_run(
        &p,
        "SELECT CASE WHEN c.id IS NULL THEN NULL ELSE jsonb_build_object("
        " 'campaign_id', c.id, 'name', c.name, 'status', c.status, 'currency', c.currency,"
        " 'recipients', (SELECT count(*) FROM campaign_recipient r WHERE r.campaign_id = c.id),"
        " 'responses', (SELECT COALESCE(jsonb_agg(jsonb_build_object('response', t.response,"
        "   'count', t.n) ORDER BY t.response), '[]') FROM (SELECT response, count(*) AS n"
        "   FROM response WHERE campaign_id = c.id GROUP BY response) t),"
        " 'responders', (SELECT count(DISTINCT customer_id) FROM response"
        "   WHERE campaign_id = c.id AND response <> 7),"
        " 'conversions', (SELECT count(*) FROM response WHERE campaign_id = c.id"
        "   AND response = 8) + (SELECT count(*) FROM conversion WHERE campaign_id = c.id),"
        " 'revenue_minor', (SELECT COALESCE(sum(revenue_minor), 0) FROM response"
        "   WHERE campaign_id = c.id AND response = 8"
        "   AND currency IN ('', c.currency))"
        "  + (SELECT COALESCE(sum(revenue_minor), 0) FROM conversion WHERE campaign_id = c.id),"
        " 'cost_minor', " S_SPENT ", 'budget', " S_BUDGET_J(
            S_SPENT) ","
                     " 'sent', (SELECT count(*) FROM send WHERE campaign_id = c.id AND status = 1),"
                     " 'suppressed', (SELECT count(*) FROM send WHERE campaign_id = c.id AND "
                     "status = 2),"
                     " 'deferred', (SELECT count(*) FROM send WHERE campaign_id = c.id AND status "
                     "= 3),"
                     " 'delivered', (SELECT count(*) FROM delivery WHERE campaign_id = c.id"
                     "   AND status IN (1, 3)),"
                     " 'delivery_failed', (SELECT count(*) FROM delivery WHERE campaign_id = c.id"
                     "   AND status = 2),"
                     " 'suppressed_by_reason', " S_BY_REASON(
                         2) ","
                            " 'deferred_by_reason', " S_BY_REASON(
                                3) ") END"
                                   " FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS "
                                   "q(id, ord)"
                                   " LEFT JOIN campaign c ON c.id = q.id::uuid ORDER BY q.ord",
        0, cb);
}

/* ---- sending -------------------------------------------------------------------------- */

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

#define S_OFFER_TEXT                                                                               \
    "COALESCE((SELECT CASE WHEN o->>'text' <> '' THEN o->>'text'"                                  \
    "   ELSE (o->>'discount_percent') || '% off ' || (o->>'product_code') END"                     \
    "   FROM jsonb_array_elements(c.offers) AS o LIMIT 1), '')"

int mkt_store_message_values(crm_work_t *w, const char *campaign_id, int channel,
                             const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    crm_params_i64(&p, channel);
    crm_params_str(&p, customer_id);
    return crm_params_run(
        &p,
        "SELECT t.subject, t.body, COALESCE(pe.name, ''), COALESCE(pe.email, ''), " S_OFFER_TEXT
        ", c.owner, c.name"
        " FROM campaign c JOIN message_template t ON t.campaign_id = c.id"
        "  AND t.channel = $2::int"
        " LEFT JOIN person pe ON pe.id = $3::uuid WHERE c.id = $1::uuid",
        0, cb);
}

int mkt_store_start_due(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p,
                          "UPDATE campaign SET status = 3, updated_at = now()"
                          " WHERE status = 2 AND start_at <= now() RETURNING id::text",
                          1, cb);
}

int mkt_store_followups_due(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(
        &p,
        "WITH ins AS (INSERT INTO campaign_recipient (campaign_id, customer_id)"
        " SELECT c.id, s.customer_id FROM campaign c"
        " JOIN send s ON s.campaign_id = c.follows_campaign_id AND s.status = 1"
        " WHERE c.status = 3 AND c.follows_campaign_id IS NOT NULL"
        "  AND s.decided_at + c.follow_delay_s * interval '1 second' <= now()"
        "  AND NOT (c.follow_non_responders AND EXISTS (SELECT 1 FROM response r"
        "   WHERE r.campaign_id = c.follows_campaign_id AND r.customer_id = s.customer_id"
        "   AND r.response <> 7))"
        " ON CONFLICT DO NOTHING RETURNING campaign_id, customer_id)"
        /* One CampaignTargeted record per campaign that gained recipients. */
        " SELECT jsonb_build_object('campaign_id', campaign_id::text, 'customer_ids',"
        "  jsonb_agg(customer_id::text ORDER BY customer_id))::text"
        " FROM ins GROUP BY campaign_id ORDER BY campaign_id",
        1, cb);
}

int mkt_store_send_candidates(crm_work_t *w, int limit, int cap_days, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    crm_params_i64(&p, cap_days);
    return crm_params_run(
        &p,
        "SELECT c.id::text, r.customer_id::text, c.channels::text,"
        " CASE WHEN p.customer_id IS NULL THEN NULL ELSE " S_PREF_J "::text END,"
        " CASE WHEN COALESCE(p.time_zone, '') <> '' THEN"
        "  round((extract(epoch FROM now() AT TIME ZONE p.time_zone)"
        "   - extract(epoch FROM now() AT TIME ZONE 'UTC')) / 60)::int"
        "  ELSE COALESCE(p.utc_offset_minutes, 0) END,"
        " COALESCE(pe.name, ''), COALESCE(pe.email, ''), c.name, c.owner,"
        " " S_OFFER_TEXT ","
        " (SELECT jsonb_object_agg(t.channel::text, jsonb_build_object('subject', t.subject,"
        "   'body', t.body)) FROM message_template t WHERE t.campaign_id = c.id)::text"
        ", (SELECT x.segment_id::text FROM campaign_exclusion x JOIN segment_member m"
        "   ON m.segment_id = x.segment_id AND m.customer_id = r.customer_id"
        "  WHERE x.campaign_id = c.id ORDER BY x.segment_id LIMIT 1),"
        " f.n, mkt_us(f.oldest + $2::int * interval '1 day')"
        /* Per running campaign, the recipients needing a decision (never
         * decided, or deferred and due), at most what its throttle still
         * allows this minute: both read from partial indexes, so a scan
         * costs its batch, not the campaign's size. */
        " FROM campaign c"
        " CROSS JOIN LATERAL (SELECT CASE WHEN c.throttle_per_minute = 0 THEN $1::int"
        "  ELSE greatest(0, c.throttle_per_minute - (SELECT count(*) FROM delivery v"
        "   WHERE v.campaign_id = c.id AND v.created_at > now() - interval '1 minute'))"
        "  END AS allow) a"
        " CROSS JOIN LATERAL (SELECT q.customer_id FROM ("
        "   (SELECT r0.customer_id FROM campaign_recipient r0"
        "    WHERE r0.campaign_id = c.id AND NOT r0.decided"
        "    ORDER BY r0.customer_id LIMIT least(a.allow, $1::int))"
        "   UNION"
        "   (SELECT s.customer_id FROM send s"
        "    WHERE s.campaign_id = c.id AND s.status = 3 AND s.due_at <= now()"
        "    ORDER BY s.customer_id LIMIT least(a.allow, $1::int))) q"
        "  ORDER BY q.customer_id LIMIT least(a.allow, $1::int)) r"
        " LEFT JOIN preference p ON p.customer_id = r.customer_id"
        " LEFT JOIN person pe ON pe.id = r.customer_id"
        /* The frequency cap's count: messages to the customer, any campaign. */
        " CROSS JOIN LATERAL (SELECT count(*) AS n, min(v.created_at) AS oldest FROM delivery v"
        "  WHERE v.customer_id = r.customer_id"
        "   AND v.created_at > now() - $2::int * interval '1 day') f"
        " WHERE c.status = 3"
        " ORDER BY c.id, r.customer_id LIMIT $1::int",
        0, cb);
}

int mkt_store_send_record(crm_work_t *w, const char *decisions_json, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, decisions_json);
    return crm_params_run(
        &p,
        "WITH d AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(campaign_id uuid,"
        "  customer_id uuid, status int, channel int, reason text, reason_code text,"
        "  due_us bigint, address text, subject text, body text)),"
        " s AS (INSERT INTO send AS t (campaign_id, customer_id, status, channel, reason,"
        "  reason_code, due_at)"
        "  SELECT campaign_id, customer_id, status, channel, reason, reason_code,"
        "   CASE WHEN status = 3 THEN mkt_ts(due_us) END FROM d"
        "  ON CONFLICT (campaign_id, customer_id) DO UPDATE SET status = EXCLUDED.status,"
        "   channel = EXCLUDED.channel, reason = EXCLUDED.reason,"
        "   reason_code = EXCLUDED.reason_code, due_at = EXCLUDED.due_at,"
        "   decided_at = now() RETURNING 1),"
        /* Off the scan's queue (a deferral comes back through send). */
        " q AS (UPDATE campaign_recipient r SET decided = true FROM d"
        "  WHERE r.campaign_id = d.campaign_id AND r.customer_id = d.customer_id"
        "   AND NOT r.decided RETURNING 1),"
        " v AS (INSERT INTO delivery (id, campaign_id, customer_id, channel, address, subject,"
        "  body, status)"
        "  SELECT gen_random_uuid(), campaign_id, customer_id, channel, address, subject, body,"
        "   CASE WHEN channel = 1 THEN 0 ELSE 3 END FROM d WHERE status = 1 RETURNING 1)"
        " SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM v), (SELECT count(*) FROM q)",
        1, cb);
}

int mkt_store_delivery_pending(crm_work_t *w, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    return crm_params_run(&p,
                          "SELECT id::text, address, subject, body FROM delivery WHERE status = 0"
                          " AND (next_attempt_at IS NULL OR next_attempt_at <= now())"
                          " ORDER BY created_at, id LIMIT $1::int",
                          0, cb);
}

int mkt_store_delivery_outcome(crm_work_t *w, const char *outcomes_json, int max_attempts,
                               int64_t retry_ms, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, outcomes_json);
    crm_params_i64(&p, max_attempts);
    crm_params_i64(&p, retry_ms);
    /* Status 4 (transient) stays pending until the backoff has passed,
     * unless the attempts are used up (then failed, not bounced). A bounce
     * (2) is recorded as a BOUNCED response (7) of the recipient. Rows:
     * kind ('delivery' for each final outcome, 'bounce' for each response
     * added), campaign id, customer id, channel, status, error or note. */
    return crm_params_run(
        &p,
        "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status int,"
        "  error text)),"
        " u AS (UPDATE delivery d SET"
        "  status = CASE WHEN x.status <> 4 THEN x.status"
        "   WHEN d.attempts + 1 >= $2::int THEN 2 ELSE 0 END,"
        "  attempts = d.attempts + 1,"
        "  next_attempt_at = CASE WHEN x.status = 4 THEN now() + $3::bigint"
        "   * power(2, least(d.attempts, 6)) * interval '1 millisecond' END,"
        "  error = CASE WHEN x.status = 4 AND d.attempts + 1 >= $2::int"
        "   THEN 'gave up after ' || (d.attempts + 1) || ' attempts: ' || x.error"
        "   ELSE x.error END, updated_at = now()"
        "  FROM x WHERE d.id = x.id AND d.status = 0"
        "  RETURNING d.campaign_id, d.customer_id, d.channel, d.status, d.error,"
        "   x.status AS outcome),"
        " b AS (INSERT INTO response (id, campaign_id, customer_id, response, channel, note)"
        "  SELECT gen_random_uuid(), campaign_id, customer_id, 7, 'email', left(error, 200)"
        "  FROM u WHERE outcome = 2 RETURNING campaign_id, customer_id, note)"
        /* One row per final outcome ('delivery'), then one per bounce. */
        " SELECT 'delivery', campaign_id::text, customer_id::text, channel, status, error"
        " FROM u WHERE status <> 0"
        " UNION ALL SELECT 'bounce', campaign_id::text, customer_id::text, NULL, NULL, note"
        " FROM b",
        1, cb);
}

/* ---- segments --------------------------------------------------------------------------- */

#define S_SEGMENT_J                                                                                \
    "jsonb_build_object('id', g.id, 'name', g.name, 'rules', g.rules,"                             \
    " 'created_at_us', mkt_us(g.created_at))"

/* The condition of one rule over person `pe`, with its operands: "v"
 * (value), "a" (amount) or "va"; $%1$d is the first operand's parameter
 * number and $%2$d the second's. Only numbers are formatted into SQL, and
 * every parameter pushed is referenced (PostgreSQL must infer its type). */
static const char *s_rule_sql(int kind, const char **operands)
{
    *operands = "v";
    switch (kind) {
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_PERSON_KIND:
        *operands = "a";
        return "pe.kind = $%1$d::int";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_COUNTRY:
        return "pe.country = upper(btrim($%1$d::text))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_INDUSTRY:
        return "lower(pe.industry) = lower(btrim($%1$d::text))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TAG:
        return "EXISTS (SELECT 1 FROM unnest(pe.tags) AS t"
               " WHERE lower(t) = lower(btrim($%1$d::text)))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_BOUGHT_PRODUCT:
        return "EXISTS (SELECT 1 FROM purchase o WHERE o.customer_id = pe.id"
               " AND btrim($%1$d::text) = ANY(o.product_codes))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TOTAL_SPENT_AT_LEAST:
        *operands = "va";
        return "(SELECT COALESCE(sum(o.total_minor), 0) FROM purchase o"
               " WHERE o.customer_id = pe.id AND o.currency = upper(btrim($%1$d::text)))"
               " >= $%2$d::bigint";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS:
        *operands = "a";
        return "EXISTS (SELECT 1 FROM purchase o WHERE o.customer_id = pe.id"
               " AND o.ordered_at >= now() - $%1$d::int * interval '1 day')";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN:
        return "EXISTS (SELECT 1 FROM response r WHERE r.customer_id = pe.id"
               " AND r.campaign_id = $%1$d::uuid AND r.response <> 7)";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_CONVERTED_IN_CAMPAIGN:
        return "(EXISTS (SELECT 1 FROM response r WHERE r.customer_id = pe.id"
               " AND r.campaign_id = $%1$d::uuid AND r.response = 8)"
               " OR EXISTS (SELECT 1 FROM conversion v WHERE v.customer_id = pe.id"
               " AND v.campaign_id = $%1$d::uuid))";
    /* Support signals (the ticket table, consumer marketing.support). The
     * kinds without operands still reference theirs, typed, as every
     * pushed parameter must be. */
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_TICKET:
        return "EXISTS (SELECT 1 FROM ticket k WHERE k.customer_id = pe.id"
               " AND k.status NOT IN (5, 6) AND $%1$d::text IS NOT NULL)";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT:
        return "EXISTS (SELECT 1 FROM ticket k WHERE k.customer_id = pe.id"
               " AND k.status NOT IN (5, 6) AND k.type = 5 AND $%1$d::text IS NOT NULL)";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LOW_SATISFACTION:
        *operands = "va";
        return "CASE WHEN btrim($%1$d::text) = 'any' THEN EXISTS (SELECT 1 FROM ticket k"
               " WHERE k.customer_id = pe.id AND k.rating <= $%2$d::int)"
               " ELSE COALESCE((SELECT k.rating FROM ticket k WHERE k.customer_id = pe.id"
               " AND k.rating IS NOT NULL ORDER BY k.rated_at DESC, k.id LIMIT 1)"
               " <= $%2$d::int, false) END";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_INTEREST_TAG:
        return "EXISTS (SELECT 1 FROM ticket k, unnest(k.tags) AS t WHERE k.customer_id = pe.id"
               " AND lower(t) = lower(btrim($%1$d::text)))";
    }
    return NULL;
}

/* "true AND (...) AND NOT (...)" for checked rules, their operands
 * appended to p. NULL when out of memory or a kind is unknown. */
static char *s_conditions(crm_params_t *p, Crm__V1__SegmentRule *const *rules, size_t n)
{
    char *sql = crm_work_strdup(p->w, "true");
    for (size_t i = 0; sql && i < n; i++) {
        const char *ops, *frag = s_rule_sql((int)rules[i]->kind, &ops);
        char cond[512];
        if (!frag)
            return NULL;
        int first = p->n + 1;
        for (const char *o = ops; *o; o++) {
            if (*o == 'v')
                crm_params_str(p, rules[i]->value);
            else
                crm_params_i64(p, rules[i]->amount);
        }
        snprintf(cond, sizeof cond, frag, first, first + 1);
        sql = crm_work_printf(p->w, "%s AND %s(%s)", sql, rules[i]->negate ? "NOT " : "", cond);
    }
    return sql;
}

static json_t *s_rules_json(Crm__V1__SegmentRule *const *rules, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:I, s:b}", "kind", (int)rules[i]->kind,
                                           "value", rules[i]->value, "amount",
                                           (json_int_t)rules[i]->amount, "negate",
                                           (int)rules[i]->negate));
    return a;
}

int mkt_store_segment_insert(crm_work_t *w, const Crm__V1__Segment *g, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, g->id);
    crm_params_str(&p, g->name);
    crm_params_json(&p, s_rules_json(g->rules, g->n_rules));
    return crm_params_run(&p,
                          "WITH g AS (INSERT INTO segment (id, name, rules)"
                          " VALUES ($1::uuid, btrim($2), $3::jsonb) RETURNING *)"
                          " SELECT " S_SEGMENT_J " FROM g",
                          1, cb);
}

int mkt_store_segment_get(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p, "SELECT " S_SEGMENT_J " FROM segment g WHERE g.id = $1::uuid", 0, cb);
}

int mkt_store_segment_list(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(
        &p, "SELECT " S_SEGMENT_J " FROM segment g ORDER BY g.created_at DESC, g.id LIMIT 500", 0,
        cb);
}

int mkt_store_segment_list_timed(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS);
    return crm_params_run(&p,
                          "SELECT " S_SEGMENT_J " FROM segment g"
                          " WHERE g.rules @> jsonb_build_array(jsonb_build_object('kind', $1::int))"
                          " ORDER BY g.created_at DESC, g.id LIMIT 500",
                          0, cb);
}

int mkt_store_segment_members(crm_work_t *w, Crm__V1__SegmentRule *const *rules, size_t n,
                              int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    char *cond = s_conditions(&p, rules, n);
    char *sql = cond ? crm_work_printf(w,
                                       "SELECT count(*) OVER (), pe.id::text FROM person pe"
                                       " WHERE %s ORDER BY pe.id LIMIT $1::int",
                                       cond)
                     : NULL;
    if (!sql)
        p.oom = 1;
    return crm_params_run(&p, sql, 0, cb);
}

int mkt_store_segment_stored(crm_work_t *w, const char *id, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, limit);
    return crm_params_run(&p,
                          "SELECT count(*) OVER (), customer_id::text FROM segment_member"
                          " WHERE segment_id = $1::uuid ORDER BY customer_id LIMIT $2::int",
                          0, cb);
}

int mkt_store_target_segment(crm_work_t *w, const char *campaign_id,
                             Crm__V1__SegmentRule *const *rules, size_t n, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    char *cond = s_conditions(&p, rules, n);
    char *sql = cond ? crm_work_printf(
                           w,
                           "WITH ins AS (INSERT INTO campaign_recipient (campaign_id,"
                           " customer_id) SELECT $1::uuid, pe.id FROM person pe WHERE %s"
                           " ON CONFLICT DO NOTHING RETURNING customer_id)"
                           " SELECT (SELECT count(*) FROM ins),"
                           " (SELECT count(*) FROM ins) + (SELECT count(*)"
                           "  FROM campaign_recipient WHERE campaign_id = $1::uuid), " S_TARGETED_J,
                           cond)
                     : NULL;
    if (!sql)
        p.oom = 1;
    return crm_params_run(&p, sql, 1, cb);
}

int mkt_store_segment_refresh(crm_work_t *w, const char *id, Crm__V1__SegmentRule *const *rules,
                              size_t n, const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_opt(&p, customer_id);
    char *cond = s_conditions(&p, rules, n);
    char *sql = cond ? crm_work_printf(
                           w,
                           "WITH cur AS (SELECT pe.id FROM person pe WHERE %s"
                           "  AND ($2::uuid IS NULL OR pe.id = $2::uuid)),"
                           " joined AS (INSERT INTO segment_member (segment_id, customer_id)"
                           "  SELECT $1::uuid, id FROM cur ON CONFLICT DO NOTHING"
                           "  RETURNING customer_id),"
                           " left_ AS (DELETE FROM segment_member m WHERE m.segment_id = $1::uuid"
                           "  AND ($2::uuid IS NULL OR m.customer_id = $2::uuid)"
                           "  AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.id = m.customer_id)"
                           "  RETURNING customer_id)"
                           " SELECT true, customer_id::text FROM joined"
                           " UNION ALL SELECT false, customer_id::text FROM left_"
                           " ORDER BY 2, 1",
                           cond)
                     : NULL;
    if (!sql)
        p.oom = 1;
    return crm_params_run(&p, sql, 1, cb);
}

int mkt_store_person_profile(crm_work_t *w, const Crm__V1__Person *pr, const char *email,
                             const char *source, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, pr->id);
    crm_params_str(&p, pr->name);
    crm_params_str(&p, email);
    crm_params_str(&p, source);
    crm_params_i64(&p, pr->kind);
    crm_params_str(&p, pr->country);
    crm_params_str(&p, pr->industry);
    crm_params_json(&p, s_strings(pr->tags, pr->n_tags));
    return crm_params_run(
        &p,
        "INSERT INTO person AS t (id, name, email, registered_by, kind, country, industry,"
        " tags)"
        " VALUES ($1::uuid, left(btrim($2), 200), lower(btrim($3)), $4, $5::int,"
        "  upper(btrim($6)), btrim($7),"
        "  ARRAY(SELECT jsonb_array_elements_text($8::jsonb)))"
        " ON CONFLICT (id) DO UPDATE SET"
        "  name = COALESCE(NULLIF(EXCLUDED.name, ''), t.name),"
        "  email = COALESCE(NULLIF(EXCLUDED.email, ''), t.email),"
        "  kind = CASE WHEN EXCLUDED.kind <> 0 THEN EXCLUDED.kind ELSE t.kind END,"
        "  country = EXCLUDED.country, industry = EXCLUDED.industry,"
        "  tags = EXCLUDED.tags, updated_at = now()",
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

/* ---- support signals ------------------------------------------------------------------ */

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
        crm_params_json(&p, s_strings(tags, n_tags));
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
    crm_params_json(&p, s_strings(tags, n_tags));
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
