/* store_int.h: what the files of store/ share, and nothing outside store/
 * includes (the public interface is store.h; the name follows sqlite's
 * btreeInt.h, and keeps "store.h" meaning the public header everywhere).
 *
 * Values always travel as out-of-line text parameters; arrays as JSON
 * arrays (built with jansson) unpacked in SQL. Records are returned as one
 * jsonb object each, built by the MKT_SQL_* expressions below (and the
 * S_*_J ones of a single file), whose keys are the crm.v1 field names. */
#ifndef MKT_STORE_INT_H
#define MKT_STORE_INT_H

#include "store.h"

#include <crm/util.h>

#include <jansson.h>
#include <stddef.h>

/* ---- records as JSON, used by more than one file -------------------------- */

#define MKT_SQL_CAMPAIGN                                                                           \
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
    " WHERE x.campaign_id = c.id),"                                                                \
    " 'always_on_segment_id', COALESCE(c.always_on_segment_id::text, ''))"

/* The service clock's day (UTC) from the parameter `now` (an SQL
 * parameter, "$2", bound to crm_now_us() with mkt_store_now: the test
 * clock moves it). */
#define MKT_SQL_TODAY(now) "(mkt_ts(" now "::bigint) AT TIME ZONE 'UTC')::date"

/* Whether expense x counts by the service clock's day: an expense counts
 * from its date, so a future-dated one is not spent yet. */
#define MKT_SQL_EXPENSE_DUE(now) "(x.date IS NULL OR x.date <= " MKT_SQL_TODAY(now) ")"

/* What campaign c has spent by now (see MKT_SQL_EXPENSE_DUE). */
#define MKT_SQL_SPENT(now)                                                                         \
    "(SELECT COALESCE(sum(x.amount_minor), 0) FROM expense x WHERE x.campaign_id = c.id"           \
    " AND " MKT_SQL_EXPENSE_DUE(now) ")"

/* The budget with `spent` (an SQL expression) spent. */
#define MKT_SQL_BUDGET(spent)                                                                      \
    "jsonb_build_object('budget_minor', c.budget_minor, 'spent_minor', " spent ","                 \
    " 'remaining_minor', c.budget_minor - " spent ", 'overspent', " spent " > c.budget_minor,"     \
    " 'currency', c.currency)"

#define MKT_SQL_REPLY(now)                                                                         \
    "jsonb_build_object('campaign', " MKT_SQL_CAMPAIGN                                             \
    ", 'budget', " MKT_SQL_BUDGET(MKT_SQL_SPENT(now)) ")"

#define MKT_SQL_PREF                                                                               \
    "jsonb_build_object('customer_id', p.customer_id, 'preferred_channel', p.preferred_channel,"   \
    " 'window_start_minute', p.window_start_minute, 'window_end_minute', p.window_end_minute,"     \
    " 'time_zone', p.time_zone, 'utc_offset_minutes', p.utc_offset_minutes,"                       \
    " 'opted_out', to_jsonb(p.opted_out), 'consent', jsonb_build_object('given',"                  \
    " p.consent_given, 'source', p.consent_source, 'at_us', mkt_us(p.consent_at)),"                \
    " 'updated_at_us', mkt_us(p.updated_at))"

/* The customers a target statement added, as a CampaignTargeted record
 * (the statement's `ins` returns their ids). */
#define MKT_SQL_TARGETED                                                                           \
    "(SELECT jsonb_build_object('campaign_id', $1::text, 'customer_ids',"                          \
    " COALESCE(jsonb_agg(customer_id ORDER BY customer_id), '[]')) FROM ins)::text"

#define MKT_SQL_OFFER_TEXT                                                                         \
    "COALESCE((SELECT CASE WHEN o->>'text' <> '' THEN o->>'text'"                                  \
    "   ELSE (o->>'discount_percent') || '% off ' || (o->>'product_code') END"                     \
    "   FROM jsonb_array_elements(c.offers) AS o LIMIT 1), '')"

/* ---- parameters (store/json.c) ---------------------------------------------- */

/* JSON arrays of the n values of v, for crm_params_json (which takes
 * them); NULL when out of memory. */
json_t *mkt_store_ints(const int *v, size_t n);
json_t *mkt_store_strings(char *const *v, size_t n);

/* ---- segment rules (store/segment.c) ----------------------------------------- */

/* The condition of one rule over person `pe`, with its operands: "v"
 * (value), "a" (amount) or "va"; $%1$d is the first operand's parameter
 * number and $%2$d the second's. Only numbers are formatted into SQL, and
 * every parameter pushed is referenced (PostgreSQL must infer its type).
 * NULL for a kind without SQL. Not static so that its unit test
 * (tests/unit/marketing/store/test_segment.c) can check every kind. */
const char *mkt_store_rule_sql(int kind, const char **operands);

/* Binds the service clock (crm_now_us, the test clock's when it is on) as
 * the next parameter, for MKT_SQL_TODAY and what uses it. */
#define mkt_store_now(p) crm_params_i64((p), crm_now_us())

#endif
