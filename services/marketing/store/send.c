/* store/send.c: the SQL of sending: due campaigns and follow-ups, the
 * candidates of the send scan, its decisions, and the delivery pump's
 * claims and outcomes. */
#include "store_int.h"

#include <crm/params.h>

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

/* The send scans' advisory lock: a key of its own (analytics and the merge
 * guard use 74061516). */
#define MKT_SEND_TURN_KEY "1835758707"

int mkt_store_send_turn(crm_work_t *w, int first, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    if (!first)
        return crm_params_run(
            &p, "SELECT false FROM pg_advisory_xact_lock_shared(" MKT_SEND_TURN_KEY ")", 0, cb);
    return crm_params_run(&p,
                          "SELECT t.alone, CASE WHEN t.alone"
                          " THEN pg_advisory_xact_lock(" MKT_SEND_TURN_KEY ")::text"
                          " ELSE pg_advisory_xact_lock_shared(" MKT_SEND_TURN_KEY ")::text END"
                          " FROM (SELECT EXISTS (SELECT 1 FROM campaign"
                          "  WHERE status = 3 AND throttle_per_minute > 0) AS alone) t",
                          0, cb);
}

int mkt_store_send_candidates(crm_work_t *w, int limit, int cap, int cap_days, unsigned opt_in,
                              const char *lo, const char *hi, int throttled, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    crm_params_i64(&p, cap_days);
    crm_params_i64(&p, cap);
    crm_params_i64(&p, (int64_t)opt_in);
    crm_params_str(&p, lo);
    crm_params_str(&p, hi);
    crm_params_bool(&p, throttled);
    /* Set-based over the batch: what belongs to a campaign (its templates,
     * offer, throttle allowance, whether any of its channels needs consent,
     * whether it excludes segments) is computed once per campaign in `c`;
     * the batch's recipients are taken once (`r`); the consent ledger and
     * the frequency cap's count are one grouped read each over the batch's
     * customers, and only when they can matter (a channel that needs
     * consent; a cap). The rest are lookups by primary key.
     * Prepared once per connection: parsing and planning this text cost
     * about 4 us of the server's CPU per decision at every batch (issue
     * 15, eleventh session). After five custom plans PostgreSQL keeps a
     * generic one: the range bounds and allowances come from `c` at run
     * time either way, the reads by customer are probes, and the cap's
     * count stays behind a one-time filter on $3. */
    return crm_params_run_named(
        &p, "mkt_send_candidates",
        "WITH c AS MATERIALIZED (SELECT c.id, c.channels, c.name, c.owner,"
        " " MKT_SQL_OFFER_TEXT " AS offer,"
        " (SELECT jsonb_object_agg(t.channel::text, jsonb_build_object('subject', t.subject,"
        "   'body', t.body)) FROM message_template t WHERE t.campaign_id = c.id)::text AS "
        "templates,"
        " EXISTS (SELECT 1 FROM unnest(c.channels) ch WHERE ch BETWEEN 1 AND 5"
        "  AND ($4::int >> ch) & 1 = 1) AS consent,"
        " 1 = ANY (c.channels) AS email,"
        " EXISTS (SELECT 1 FROM campaign_exclusion x WHERE x.campaign_id = c.id) AS excludes,"
        " CASE WHEN c.throttle_per_minute = 0 THEN $1::int"
        "  ELSE greatest(0, c.throttle_per_minute - (SELECT count(*) FROM delivery v"
        "   WHERE v.campaign_id = c.id AND v.created_at > now() - interval '1 minute'))"
        "  END AS allow,"
        /* The customers this scan decides for the campaign: its range, or
         * all of them for a throttled campaign (mkt_store_send_turn). */
        " CASE WHEN c.throttle_per_minute = 0 THEN $5::uuid"
        "  ELSE '00000000-0000-0000-0000-000000000000' END AS lo,"
        " CASE WHEN c.throttle_per_minute = 0 THEN $6::uuid"
        "  ELSE 'ffffffff-ffff-ffff-ffff-ffffffffffff' END AS hi"
        " FROM campaign c WHERE c.status = 3 AND ($7::bool OR c.throttle_per_minute = 0)),"
        /* Per running campaign, the recipients needing a decision (never
         * decided: send_queue; or deferred and due), at most what its
         * throttle still allows this minute: both read from indexes that
         * hold only those, so a scan costs its batch, not the campaign's
         * size. Only the customers of this scan's range: a range of the
         * queue's key, so the scans over other ranges read none of each
         * other's entries. */
        " r AS MATERIALIZED (SELECT c.id AS campaign_id, q.customer_id FROM c"
        "  CROSS JOIN LATERAL (SELECT q.customer_id FROM ("
        "   (SELECT r0.customer_id FROM send_queue r0 WHERE r0.campaign_id = c.id"
        "    AND r0.customer_id BETWEEN c.lo AND c.hi"
        "    ORDER BY r0.customer_id LIMIT least(c.allow, $1::int))"
        "   UNION"
        "   (SELECT s.customer_id FROM send s"
        "    WHERE s.campaign_id = c.id AND s.status = 3 AND s.due_at <= now()"
        "    AND s.customer_id BETWEEN c.lo AND c.hi"
        "    ORDER BY s.customer_id LIMIT least(c.allow, $1::int))) q"
        "  ORDER BY q.customer_id LIMIT least(c.allow, $1::int)) q"
        "  ORDER BY c.id, q.customer_id LIMIT $1::int),"
        /* The purposes each customer consents to now: the latest ledger
         * entry of each is a grant (sql/0015_consent.sql). */
        " k AS (SELECT k1.customer_id, array_agg(k1.purpose ORDER BY k1.purpose) AS purposes"
        "  FROM (SELECT DISTINCT ON (k0.customer_id, k0.purpose) k0.customer_id, k0.purpose,"
        "   k0.granted FROM consent k0 WHERE k0.customer_id IN (SELECT r.customer_id FROM r"
        "    JOIN c ON c.id = r.campaign_id WHERE c.consent)"
        "   ORDER BY k0.customer_id, k0.purpose, k0.at DESC, k0.seq DESC) k1"
        "  WHERE k1.granted GROUP BY k1.customer_id),"
        /* The frequency cap's count: messages to the customer, any campaign. */
        " f AS (SELECT v.customer_id, count(*) AS n, min(v.created_at) AS oldest FROM delivery v"
        "  WHERE $3::int > 0 AND v.customer_id IN (SELECT r.customer_id FROM r)"
        "   AND v.created_at > now() - $2::int * interval '1 day' GROUP BY v.customer_id)"
        " SELECT c.id::text, r.customer_id::text, c.channels::text,"
        " CASE WHEN p.customer_id IS NULL THEN NULL ELSE " MKT_SQL_PREF "::text END,"
        " CASE WHEN COALESCE(p.time_zone, '') <> '' THEN"
        "  round((extract(epoch FROM now() AT TIME ZONE p.time_zone)"
        "   - extract(epoch FROM now() AT TIME ZONE 'UTC')) / 60)::int"
        "  ELSE COALESCE(p.utc_offset_minutes, 0) END,"
        " COALESCE(pe.name, ''), COALESCE(pe.email, ''), c.name, c.owner, c.offer, c.templates,"
        " CASE WHEN c.excludes THEN (SELECT x.segment_id::text FROM campaign_exclusion x"
        "  JOIN segment_member m ON m.segment_id = x.segment_id"
        "   AND m.customer_id = r.customer_id"
        "  WHERE x.campaign_id = c.id ORDER BY x.segment_id LIMIT 1) END,"
        " COALESCE(f.n, 0), mkt_us(f.oldest + $2::int * interval '1 day'),"
        " COALESCE(pe.phone, ''), COALESCE(pe.fax, ''), COALESCE(pe.address, ''),"
        /* Only email bounces. */
        " c.email AND EXISTS (SELECT 1 FROM address_state z WHERE z.address = pe.email"
        "  AND z.undeliverable),"
        " COALESCE(k.purposes, '{}')::text"
        " FROM r JOIN c ON c.id = r.campaign_id"
        " LEFT JOIN preference p ON p.customer_id = r.customer_id"
        " LEFT JOIN person pe ON pe.id = r.customer_id"
        " LEFT JOIN f ON f.customer_id = r.customer_id"
        " LEFT JOIN k ON k.customer_id = r.customer_id"
        " ORDER BY r.campaign_id, r.customer_id",
        0, cb);
}

int mkt_store_send_record(crm_work_t *w, const mkt_decided_t *d, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    for (int c = 0; c < MKT_DECIDED_COLS; c++)
        crm_params_textv(&p, d->v[c], d->n);
    /* The decisions come as one array per column: array_in and unnest
     * read them for about 11 us less of the server's CPU per decision
     * than jsonb_to_recordset over an array of objects (a quarter of the
     * statement), and crm-marketing builds them without jansson (issue
     * 15, seventh session). Prepared once per connection, as the
     * candidates are: every part of the plan is a probe by key whatever
     * the arrays' length (the OFFSET 0 and the correlated lookups below). */
    return crm_params_run_named(
        &p, "mkt_send_record",
        "WITH x AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[],"
        "  $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[])"
        "  WITH ORDINALITY AS x(campaign_id, customer_id, status, channel, reason, reason_code,"
        "  due_us, address, subject, body, n)),"
        /* A person merged away since the candidates were read: the send
         * and delivery go to the survivor (sql/0023_send_scan.sql), as the
         * crm_alias trigger would write them; the recipient row is looked
         * up by the id that was read (a merge re-pointed or removed it).
         * A probe of crm_alias' key per row: as a join, the planner read
         * and hashed every alias at every batch (with 20,000 aliases; at
         * 100,000 it probed). */
        " d AS (SELECT x.campaign_id, COALESCE((SELECT a.survivor_id::uuid FROM crm_alias a"
        "   WHERE a.dropped_id = x.customer_id::text), x.customer_id) AS customer_id,"
        "  x.customer_id AS read_id, x.status, x.channel, x.reason, x.reason_code, x.due_us,"
        "  x.address, x.subject, x.body, x.n FROM x),"
        /* Off the scan's queue (a deferral comes back through send):
         * a delete, no new tuple (sql/0024_send_queue_table.sql). Each
         * row is found by a probe of the queue's key (the subquery kept
         * apart by OFFSET 0) and deleted by its tid, in the statement's
         * snapshot: a row a concurrent merge re-pointed is left alone, as
         * with the join before. As a join, the planner read and hashed
         * the whole queue at every batch with 10,000 and 100,000 queued
         * (at 1,000,000 it probed): at 100,000, 66 against 31 ms of CPU
         * for the statement per 1,000 decisions (issue 15, ninth
         * session). */
        " q AS (DELETE FROM send_queue r WHERE r.ctid = ANY (ARRAY(SELECT l.t FROM d"
        "  CROSS JOIN LATERAL (SELECT r1.ctid AS t FROM send_queue r1"
        "   WHERE r1.campaign_id = d.campaign_id AND r1.customer_id = d.read_id OFFSET 0) l))"
        "  RETURNING r.campaign_id, r.customer_id),"
        /* A recipient this statement took off the queue, under its own id,
         * has no send for the campaign (sql/0026_merge_decided_once.sql:
         * the merge keeps it so, and only this statement writes sends of
         * queued recipients), so its send is a plain INSERT: ON CONFLICT's
         * speculative insertion wrote about 49 WAL bytes more a decision
         * (its confirm record) and cost 2 to 4 us of CPU (issue 15,
         * eleventh and twelfth sessions). A deferral that came due, and a
         * recipient merged or re-pointed since the candidates were read,
         * may meet a send: those keep the ON CONFLICT. */
        " s AS (INSERT INTO send (campaign_id, customer_id, status, channel, reason,"
        "  reason_code, due_at)"
        "  SELECT d.campaign_id, d.customer_id, d.status, d.channel, d.reason, d.reason_code,"
        "   CASE WHEN d.status = 3 THEN mkt_ts(d.due_us) END FROM d JOIN q"
        "   ON q.campaign_id = d.campaign_id AND q.customer_id = d.read_id"
        "  WHERE d.customer_id = d.read_id RETURNING 1),"
        " u AS (INSERT INTO send AS t (campaign_id, customer_id, status, channel, reason,"
        "  reason_code, due_at)"
        "  SELECT campaign_id, customer_id, status, channel, reason, reason_code,"
        "   CASE WHEN status = 3 THEN mkt_ts(due_us) END FROM d"
        "  WHERE NOT EXISTS (SELECT 1 FROM q WHERE q.campaign_id = d.campaign_id"
        "   AND q.customer_id = d.read_id AND d.customer_id = d.read_id)"
        "  ON CONFLICT (campaign_id, customer_id) DO UPDATE SET status = EXCLUDED.status,"
        "   channel = EXCLUDED.channel, reason = EXCLUDED.reason,"
        "   reason_code = EXCLUDED.reason_code, due_at = EXCLUDED.due_at,"
        "   decided_at = now() RETURNING 1),"
        /* A delivery's id: one random uuid per statement, hashed with the
         * (campaign, customer) pair that is unique in it (send's key), so
         * ids stay unpredictable and unique without a gen_random_uuid() per
         * row, measured at about 5 us each. In front of the hash's 64 bits,
         * the statement's clock in milliseconds and the row's place in it:
         * ids grow from one batch to the next, so the primary key takes
         * them at its right edge (fast path, fuller pages, fewer splits)
         * instead of on a random leaf each, whose first change after every
         * checkpoint writes a whole page to the WAL in a large table. */
        " g AS (SELECT gen_random_uuid()::text AS seed,"
        "  lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') AS ms),"
        " v AS (INSERT INTO delivery (id, campaign_id, customer_id, channel, address, subject,"
        "  body, status)"
        "  SELECT (g.ms || lpad(to_hex(d.n % 65536), 4, '0')"
        "   || left(md5(g.seed || d.campaign_id::text || d.customer_id::text), 16))::uuid,"
        "   campaign_id,"
        "   customer_id, channel, address, subject, body,"
        "   CASE WHEN channel = 1 THEN 0 ELSE 3 END FROM d, g WHERE status = 1 RETURNING 1)"
        /* Whether every campaign of the batch exists: once per campaign
         * instead of a foreign key check per send and per delivery; a
         * campaign is never deleted (sql/0025_send_campaign_kept.sql). */
        " SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM u), (SELECT count(*) FROM v),"
        "  (SELECT count(*) FROM q),"
        "  NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT campaign_id FROM x) u"
        "   WHERE NOT EXISTS (SELECT 1 FROM campaign c WHERE c.id = u.campaign_id))",
        1, cb);
}

int mkt_store_delivery_pending(crm_work_t *w, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    return crm_params_run(&p,
                          "SELECT d.id::text, d.address, d.subject, d.body,"
                          " d.campaign_id::text, d.customer_id::text,"
                          " COALESCE((SELECT p.name FROM person p WHERE p.id = d.customer_id),"
                          " '') FROM delivery d WHERE d.status = 0"
                          " AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())"
                          " ORDER BY d.created_at, d.id LIMIT $1::int",
                          0, cb);
}

int mkt_store_delivery_outcome(crm_work_t *w, const char *outcomes_json, int max_attempts,
                               int64_t retry_ms, int soft_bounces, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, outcomes_json);
    crm_params_i64(&p, max_attempts);
    crm_params_i64(&p, retry_ms);
    crm_params_i64(&p, soft_bounces);
    /* Status 4 (transient) stays pending until the backoff has passed,
     * unless the attempts are used up (then failed, not bounced). A bounce
     * (2) is recorded as a BOUNCED response (7) of the recipient. Rows:
     * kind ('delivery' for each final outcome, 'bounce' for each response
     * added), campaign id, customer id, channel, status, error or note. */
    return crm_params_run(
        &p,
        "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status int,"
        "  error text, message_id text)),"
        " u AS (UPDATE delivery d SET"
        "  status = CASE WHEN x.status <> 4 THEN x.status"
        "   WHEN d.attempts + 1 >= $2::int THEN 2 ELSE 0 END,"
        "  attempts = d.attempts + 1,"
        "  next_attempt_at = CASE WHEN x.status = 4 THEN now() + $3::bigint"
        "   * power(2, least(d.attempts, 6)) * interval '1 millisecond' END,"
        "  error = CASE WHEN x.status = 4 AND d.attempts + 1 >= $2::int"
        "   THEN 'gave up after ' || (d.attempts + 1) || ' attempts: ' || x.error"
        "   ELSE x.error END, updated_at = now(),"
        "  message_id = COALESCE(NULLIF(x.message_id, ''), d.message_id)"
        "  FROM x WHERE d.id = x.id AND d.status = 0"
        "  RETURNING d.campaign_id, d.customer_id, d.channel, d.status, d.error, d.address,"
        "   x.status AS outcome),"
        /* The address's state from this batch's final outcomes: a bounce
         * (outcome 2) or the soft_bounces-th give-up in a row marks it
         * undeliverable; a delivery resets the count. */
        " g AS (SELECT lower(address) AS address, min(channel) AS channel,"
        "   bool_or(outcome = 2) AS hard, count(*) FILTER (WHERE outcome = 4) AS soft,"
        "   bool_or(status = 1) AS ok, max(error) AS error"
        "  FROM u WHERE status <> 0 AND address <> '' GROUP BY 1),"
        " a AS (INSERT INTO address_state AS t (address, channel, undeliverable, soft_bounces,"
        "   last_error)"
        "  SELECT address, channel, hard OR soft >= $4::int, CASE WHEN ok THEN 0 ELSE soft END,"
        "   COALESCE(CASE WHEN hard OR soft > 0 THEN left(error, 200) END, '') FROM g"
        "  ON CONFLICT (address) DO UPDATE SET"
        "   soft_bounces = CASE WHEN EXCLUDED.soft_bounces = 0 AND EXCLUDED.last_error = ''"
        "    THEN 0 ELSE t.soft_bounces + EXCLUDED.soft_bounces END,"
        "   undeliverable = t.undeliverable OR EXCLUDED.undeliverable"
        "    OR t.soft_bounces + EXCLUDED.soft_bounces >= $4::int,"
        "   last_error = CASE WHEN EXCLUDED.last_error = '' THEN t.last_error"
        "    ELSE EXCLUDED.last_error END, updated_at = now()"
        "  RETURNING 1),"
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

int mkt_store_delivery_confirm(crm_work_t *w, const Crm__V1__ConfirmDeliveryRequest *rq,
                               crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, rq->delivery_id);
    crm_params_str(&p, rq->campaign_id);
    crm_params_str(&p, rq->customer_id);
    crm_params_i64(&p, rq->channel);
    crm_params_i64(&p, rq->outcome);
    crm_params_str(&p, rq->reason);
    /* Locked, so that two confirmations at once record one outcome. */
    return crm_params_run(
        &p,
        "WITH d AS (SELECT id, campaign_id, customer_id, channel, status, error FROM delivery"
        "  WHERE ($1 <> '' AND id = NULLIF($1, '')::uuid)"
        "   OR ($1 = '' AND campaign_id = NULLIF($2, '')::uuid"
        "    AND customer_id = NULLIF($3, '')::uuid AND channel = $4::int)"
        "  ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE),"
        " u AS (UPDATE delivery v SET status = CASE WHEN $5::int = 1 THEN 1 ELSE 2 END,"
        "  error = btrim($6), updated_at = now()"
        "  FROM d WHERE v.id = d.id AND d.status = 3 AND d.channel <> 1"
        "  RETURNING v.id, v.status, v.error),"
        " n AS (SELECT (ARRAY['', 'email', 'sms', 'phone', 'fax', 'mail', 'social',"
        "  'meeting'])[d.channel + 1] AS name FROM d),"
        " b AS (INSERT INTO response (id, campaign_id, customer_id, response, channel, note)"
        "  SELECT gen_random_uuid(), d.campaign_id, d.customer_id, 7, n.name, left(u.error, 200)"
        "  FROM d JOIN u ON u.id = d.id CROSS JOIN n WHERE $5::int = 3 RETURNING 1)"
        " SELECT d.id::text, d.campaign_id::text, d.customer_id::text, d.channel,"
        "  COALESCE(u.status, d.status), COALESCE(u.error, d.error), u.id IS NOT NULL, n.name,"
        "  (SELECT count(*) FROM b)"
        " FROM d LEFT JOIN u ON u.id = d.id CROSS JOIN n",
        1, cb);
}
