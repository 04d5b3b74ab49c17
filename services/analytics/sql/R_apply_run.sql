-- The fold of a consumer's run of events at once (handlers/fold.c), set-based
-- where the order of the run's events does not change the result (issue 15),
-- with the effects R_apply.sql's an_apply would have on each event in turn;
-- replaced whole whenever it changes (a repeatable migration: crm/migrate.h).
-- docs/analytics.md explains it; tests/integration/test_analytics_fold_runs.py
-- checks it against an_apply one event at a time.

-- What the health of customers was computed from, as an_health_inputs
-- gives it for each (cid, at_t), for many at once (a run's, an_apply_run):
-- one grouped statement per table instead of seven subqueries per event.
-- q_*: who, at which instant, for the event at run place q_i. l_*: the
-- rows the run's events insert that are visible already but must not count
-- for an earlier event of the same customer (the event at run place l_i of
-- customer l_cid inserted the order l_order, or the campaign response
-- (l_src, l_seq)): the inputs are those right after the event at q_i, as
-- if the run were applied one event at a time.
CREATE OR REPLACE FUNCTION an_health_inputs_run(q_i int[], q_cid text[], q_at timestamptz[],
                                                l_i int[], l_cid text[], l_order text[],
                                                l_src text[], l_seq bigint[])
    RETURNS TABLE (hi_i int, hi_inputs jsonb)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN QUERY
    WITH q AS (SELECT * FROM unnest(q_i, q_cid, q_at) AS u(i, cid, at_t)),
    -- The run's customers, each with the rows the run inserted for them
    -- (l: each order and campaign response once) and where: one grouping
    -- of q and l, not a join. Matched against l per pair of an event and
    -- a row, the planner's nested loop (it takes the arrays for ten rows)
    -- compared every event with every row left out, a run's square (250
    -- by 125 in a run of 250; issue 15, tenth session); a row is looked up
    -- here among its own customer's few (array_position).
    c AS (SELECT u.cid,
                 array_agg(u.order_id) FILTER (WHERE u.order_id IS NOT NULL) AS lo_id,
                 array_agg(u.i) FILTER (WHERE u.order_id IS NOT NULL) AS lo_i,
                 array_agg(u.src || '/' || u.seq) FILTER (WHERE u.seq IS NOT NULL) AS lr_key,
                 array_agg(u.i) FILTER (WHERE u.seq IS NOT NULL) AS lr_i
            FROM (SELECT q.cid, NULL::int AS i, NULL::text AS order_id, NULL::text AS src,
                         NULL::bigint AS seq, true AS asked
                    FROM q
                  UNION ALL
                  SELECT l.cid, l.i, l.order_id, l.src, l.seq, false
                    FROM unnest(l_i, l_cid, l_order, l_src, l_seq) AS l(i, cid, order_id, src, seq)) u
           GROUP BY u.cid
          HAVING bool_or(u.asked)),
    -- Each table's rows of the run's customers, read once per customer
    -- through its index on the customer (OFFSET 0: a subquery of its own
    -- per customer, which the planner does not turn into a join with a
    -- scan of the whole table, as it did for a generic plan made when the
    -- tables were small: each run then read all orders; issue 15, ninth
    -- session), then matched with each of the customer's events
    -- (MATERIALIZED: or the planner probes once per event); an order or a
    -- response with the run's place that inserted it (l_at), if any.
    so AS MATERIALIZED (SELECT c.cid, s.*, c.lo_i[array_position(c.lo_id, s.id)] AS l_at
             FROM c CROSS JOIN LATERAL (
               SELECT s.id, s.ordered_at, s.cancelled_at FROM sale_order s
                WHERE s.customer_id = c.cid OFFSET 0) s),
    sa AS MATERIALIZED (SELECT c.cid, a.* FROM c CROSS JOIN LATERAL (
               SELECT a.completed_at FROM activity a
                WHERE a.customer_id = c.cid AND a.status = 'done' AND a.kind <> 'note' OFFSET 0) a),
    sr AS MATERIALIZED (SELECT c.cid, r.at, c.lr_i[array_position(c.lr_key, r.source || '/' || r.seq)]
                               AS l_at
             FROM c CROSS JOIN LATERAL (
               SELECT r.source, r.seq, r.at FROM campaign_response r
                WHERE r.customer_id = c.cid AND r.response NOT IN ('bounced', 'unsubscribed')
               OFFSET 0) r),
    st AS MATERIALIZED (SELECT c.cid, t.* FROM c CROSS JOIN LATERAL (
               SELECT t.type, t.status, t.opened_at, t.rating FROM ticket t
                WHERE t.customer_id = c.cid OFFSET 0) t),
    sb AS MATERIALIZED (SELECT c.cid, b.* FROM c CROSS JOIN LATERAL (
               SELECT b.at FROM sla_breach b WHERE b.customer_id = c.cid OFFSET 0) b),
    o AS (SELECT q.i, count(*) AS n, min(s.ordered_at) AS first_o, max(s.ordered_at) AS last_o
            FROM q JOIN so s ON s.cid = q.cid AND s.ordered_at <= q.at_t
                  AND (s.cancelled_at IS NULL OR s.cancelled_at > q.at_t)
                  AND NOT COALESCE(s.l_at > q.i, false)
           GROUP BY q.i),
    ac AS (SELECT q.i, count(*) AS n
             FROM q JOIN sa a ON a.cid = q.cid
                   AND a.completed_at > q.at_t - interval '90 days' AND a.completed_at <= q.at_t
            GROUP BY q.i),
    re AS (SELECT q.i, count(*) AS n
             FROM q JOIN sr r ON r.cid = q.cid
                   AND r.at > q.at_t - interval '90 days' AND r.at <= q.at_t
                   AND NOT COALESCE(r.l_at > q.i, false)
            GROUP BY q.i),
    tk AS (SELECT q.i,
                  count(*) FILTER (WHERE t.type = 'complaint' AND t.status NOT IN ('resolved', 'closed')
                                     AND t.opened_at <= q.at_t) AS complaints,
                  count(*) FILTER (WHERE t.rating > 0) AS ratings,
                  COALESCE(sum(t.rating) FILTER (WHERE t.rating > 0), 0) AS rating_sum
             FROM q JOIN st t ON t.cid = q.cid
            GROUP BY q.i),
    br AS (SELECT q.i, count(*) AS n
             FROM q JOIN sb b ON b.cid = q.cid
                   AND b.at > q.at_t - interval '90 days' AND b.at <= q.at_t
            GROUP BY q.i)
    SELECT q.i, jsonb_build_object(
        'orders', COALESCE(o.n, 0),
        'since_tenths', COALESCE(round(extract(epoch FROM q.at_t - o.last_o) / 8640)::bigint, 0),
        'cadence_tenths', CASE WHEN o.n >= 2
            THEN round(extract(epoch FROM o.last_o - o.first_o) / 8640 / (o.n - 1))::bigint
            ELSE 0 END,
        'engagement', COALESCE(ac.n, 0) + COALESCE(re.n, 0),
        'open_complaints', COALESCE(tk.complaints, 0),
        'ratings', COALESCE(tk.ratings, 0),
        'rating_sum', COALESCE(tk.rating_sum, 0),
        'breaches', COALESCE(br.n, 0))
      FROM q LEFT JOIN o ON o.i = q.i LEFT JOIN ac ON ac.i = q.i LEFT JOIN re ON re.i = q.i
      LEFT JOIN tk ON tk.i = q.i LEFT JOIN br ON br.i = q.i;
END
$$;

-- The payload (p) and record (x) of the run's event at place i (1-based)
-- whose payload's member is `member`, as an_decode_member gives them (x:
-- the record its branch reads, NULL where it reads none). A run's later
-- statements take them from the run by place: carried as arrays beside
-- the narrow ones they were copied into every statement of the run (issue
-- 15, ninth session). Single expressions, inlined where they are used.
CREATE OR REPLACE FUNCTION an_run_p(evs jsonb, i int, member text)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT evs -> (i - 1) -> 'e' -> member $$;

CREATE OR REPLACE FUNCTION an_run_x(evs jsonb, i int, member text)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT evs -> (i - 1) -> 'e' -> member -> CASE member
        WHEN 'person_registered' THEN 'person' WHEN 'person_updated' THEN 'person'
        WHEN 'deal_created' THEN 'deal' WHEN 'deal_stage_changed' THEN 'deal'
        WHEN 'deal_won' THEN 'deal' WHEN 'deal_lost' THEN 'deal'
        WHEN 'order_placed' THEN 'order'
        WHEN 'order_refunded' THEN 'refund' WHEN 'order_cancelled' THEN 'refund'
        WHEN 'activity_scheduled' THEN 'activity' WHEN 'activity_completed' THEN 'activity'
        WHEN 'activity_due' THEN 'activity' WHEN 'note_added' THEN 'activity'
        WHEN 'preferences_changed' THEN 'preferences'
        WHEN 'ticket_assigned' THEN 'ticket' WHEN 'ticket_replied' THEN 'ticket'
        WHEN 'ticket_note_added' THEN 'ticket' WHEN 'ticket_status_changed' THEN 'ticket'
        WHEN 'ticket_resolved' THEN 'ticket' WHEN 'ticket_reopened' THEN 'ticket'
        WHEN 'ticket_closed' THEN 'ticket' WHEN 'ticket_rated' THEN 'ticket'
        WHEN 'ticket_priority_changed' THEN 'ticket' WHEN 'sla_at_risk' THEN 'ticket'
        WHEN 'sla_breached' THEN 'ticket'
        WHEN 'subscription_created' THEN 'subscription'
        WHEN 'subscription_changed' THEN 'subscription'
        WHEN 'subscription_renewed' THEN 'subscription'
        WHEN 'subscription_cancelled' THEN 'subscription' END
    $$;

-- A run of a consumer's events (handlers/fold.c), with the effects of
-- an_apply on each in their order, set-based where the order allows it.
-- evs: [{"s": source, "q": sequence, "e": Event JSON, "m": the member of its
-- payload (optional)}, ...].
--
-- 1. One statement decodes the run and does its order-free part: the event
--    log rows (a row there already: applied before, as in an_apply), the
--    customers' first_seen (the least instant wins in any order; this
--    locks the customers' rows, in their order), the instant of each
--    customer's latest event in the run up to this one and whether each
--    may publish; and it sorts the events (below). 1b: then, with the
--    locks held, the stored health and the latest instant before the run.
-- 2. Per projection table one statement over the run's events whose effect
--    does not depend on the order they take among the others' (the run's
--    repeats of a key folded in order: the first insert wins where the
--    projection inserts only (sale_order, campaign_recipient), the last
--    values where it overwrites them (campaign, campaign_send)): campaigns,
--    send decisions, recipients and responses always; orders unless one is
--    cancelled in the run; a ticket's opening and a person's profile when
--    it is the run's only event about that ticket, or person.
-- 3. The other events, in their order, each with an_project.
-- 4. The health inputs of each event about a customer right after it. A
--    customer whose events later in the run only add orders or campaign
--    responses (or nothing an_health_inputs reads) gets them from one
--    grouped statement at the end (an_health_inputs_run), which leaves out
--    the rows those later events inserted. A customer with a later event
--    that changes an activity, a ticket, an SLA breach or an order's
--    cancellation is "complex": their events all go to step 3 and each is
--    counted right after it. If an activity, ticket or cancelled order of
--    the run belongs to another customer than the event's (or two of the
--    run's), one customer's event changes another's inputs: then every
--    event goes to step 3 and is counted right after it, as before.
--
-- One row per event about a customer, as an_apply's, with the event's place
-- in the run (1-based), in the run's order; the stored score and churn
-- state are those before the run: the caller carries a customer's new
-- health from an earlier row of the run to a later one, and stores the last
-- (an_health_put_run). A health that is not published and is followed in
-- the run by another unpublished one of the same customer is not returned:
-- only the last is stored, and nobody reads the ones between (a rebuild's
-- replay).
CREATE OR REPLACE FUNCTION an_apply_run(evs jsonb)
    RETURNS TABLE (run_i int, run_customer text, run_at_us bigint, run_inputs jsonb,
                   run_old_score int, run_old_high boolean, run_publish boolean)
    LANGUAGE plpgsql
    AS $$
DECLARE
    r record;
    -- the run's applied events, in its order (step 1)
    -- (not the events, their payloads nor records: a later statement takes
    -- those from evs by place, an_run_p and an_run_x)
    v_i int[]; v_src text[]; v_seq bigint[]; v_member text[]; v_cid text[]; v_occ timestamptz[];
    v_at timestamptz[]; v_publish boolean[];
    v_old_score int[]; v_old_high boolean[];
    v_set boolean[];  -- projected by step 2
    v_mode int[];     -- health: 0 none, 1 counted right after the event, 2 at the end
    v_order text[];   -- the new order the event inserts (its first in the run)
    v_fresh text[];   -- the customers inserted with their profile (step 1)
    -- the rows left out of earlier events' inputs (an_health_inputs_run)
    l_i int[]; l_cid text[]; l_order text[]; l_src text[]; l_seq bigint[];
    -- inputs counted in step 3
    o_i int[] := '{}'; o_in jsonb[] := '{}';
    v_in jsonb;
    v_merge boolean;  -- the run holds a merge
BEGIN
    v_merge := EXISTS (SELECT 1 FROM jsonb_array_elements(evs) AS a(x)
                        WHERE a.x -> 'e' ? 'person_merged');
    PERFORM an_merge_guard(v_merge);
    -- A merge in the run changes whom the events after it are about (the
    -- alias it adds), which the one-statement decoding below would not
    -- see: such a run is applied event by event, as an_apply would.
    IF v_merge THEN
        FOR r IN SELECT a.i, a.x ->> 's' AS src, (a.x ->> 'q')::bigint AS seqn, a.x -> 'e' AS ev
                   FROM jsonb_array_elements(evs) WITH ORDINALITY AS a(x, i) ORDER BY a.i
        LOOP
            FOR run_customer, run_at_us, run_inputs, run_old_score, run_old_high, run_publish IN
                SELECT * FROM an_apply(r.src, r.seqn, r.ev)
            LOOP
                run_i := r.i;
                RETURN NEXT;
            END LOOP;
        END LOOP;
        RETURN;
    END IF;

    -- 1.
    -- (the member as the consumer named it, "m", when the event has it;
    -- the aliases by a join: an_decode would look each up by a query)
    WITH e AS (SELECT a.i::int AS i, a.x ->> 's' AS src, (a.x ->> 'q')::bigint AS seqn,
                      a.x -> 'e' AS ev, a.x ->> 'm' AS m
                 FROM jsonb_array_elements(evs) WITH ORDINALITY AS a(x, i)),
    em AS (SELECT e.i, e.src, e.seqn, e.ev,
                  COALESCE(CASE WHEN e.ev ? e.m THEN e.m END,
                           (SELECT k FROM jsonb_object_keys(e.ev) AS j(k)  -- an_member(e.ev)
                             WHERE k NOT IN ('id', 'source', 'type', 'subject', 'time_us',
                                             'sequence', 'epoch', 'correlation_id',
                                             'causation_id', 'actor')
                             LIMIT 1)) AS member
             FROM e),
    d AS (SELECT em.*, dd.p, dd.x, COALESCE(al.survivor_id, dd.cid) AS cid, dd.occurred,
                 dd.summary
            FROM em CROSS JOIN LATERAL an_decode_member(em.src, em.ev, em.member) dd
            LEFT JOIN crm_alias al ON al.dropped_id = dd.cid
           WHERE em.member IS NOT NULL),
    ins AS (INSERT INTO customer_event (source, seq, type, customer_id, occurred_at, summary,
                                        payload, actor)
            SELECT d.src, d.seqn, d.ev ->> 'type', d.cid, d.occurred, d.summary, d.ev,
                   COALESCE(d.ev ->> 'actor', '')
              FROM d ORDER BY d.i
            ON CONFLICT (source, seq) DO NOTHING
            RETURNING source, seq),
    -- (an event twice in a run is applied once, as an_apply would)
    -- What each event is keyed by: the order, ticket and activity it
    -- changes; whether it changes what an_health_inputs reads in a way
    -- that cannot be left out afterwards ("hard"). Only these narrow
    -- columns go through the windows below: the event, its payload and
    -- record (a kilobyte or more an event) join the result at the end.
    -- Copied through every sort and window of the run they were most of
    -- this statement's CPU (issue 15, ninth session).
    a AS (SELECT DISTINCT ON (d.src, d.seqn) d.i, d.src, d.seqn, d.member, d.cid, d.occurred,
                 CASE WHEN d.member = 'order_placed' THEN d.x ->> 'id'
                      WHEN d.member IN ('order_refunded', 'order_cancelled') THEN d.x ->> 'order_id' END
                     AS okey,
                 CASE WHEN d.member = 'ticket_opened' THEN d.p ->> 'ticket_id'
                      WHEN d.member IN ('ticket_assigned', 'ticket_replied', 'ticket_note_added',
                                        'ticket_status_changed', 'ticket_resolved', 'ticket_reopened',
                                        'ticket_closed', 'ticket_rated', 'ticket_priority_changed',
                                        'sla_at_risk', 'sla_breached') THEN d.x ->> 'id' END AS tkey,
                 CASE WHEN d.member IN ('activity_scheduled', 'activity_completed', 'activity_due',
                                        'note_added') THEN d.x ->> 'id' END AS akey
            FROM d
            JOIN ins ON ins.source = d.src AND ins.seq = d.seqn
           ORDER BY d.src, d.seqn, d.i),
    k AS (SELECT a.*,
                 a.cid <> '' AND a.member NOT IN ('churn_risk_raised', 'health_changed',
                                                  'data_quality_issue_found') AS scored,
                 a.member IN ('activity_scheduled', 'activity_completed', 'activity_due', 'note_added',
                              'order_cancelled', 'ticket_opened', 'ticket_assigned', 'ticket_replied',
                              'ticket_note_added', 'ticket_status_changed', 'ticket_resolved',
                              'ticket_reopened', 'ticket_closed', 'ticket_rated',
                              'ticket_priority_changed', 'sla_at_risk', 'sla_breached') AS hard
            FROM a),
    -- The one record an event changes, whichever kind (an event has at
    -- most one of the three keys): one partition for the windows below
    -- instead of one per kind, each a sort of the run.
    kk AS (SELECT k.*, COALESCE('t' || k.tkey, 'a' || k.akey, 'o' || k.okey) AS rkey FROM k),
    h AS (SELECT k.*,
                 max(k.occurred) OVER (PARTITION BY k.cid ORDER BY k.i) AS at_h,
                 k.seqn > COALESCE(u.seq, 0) AS publish,
                 COALESCE(bool_or(k.hard) OVER (PARTITION BY k.cid ORDER BY k.i
                                                ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), false)
                     AS hard_after,
                 count(*) FILTER (WHERE k.member IN ('person_registered', 'person_updated'))
                     OVER (PARTITION BY k.cid) AS persons,
                 -- (for a ticket's events: the events about that ticket)
                 count(*) OVER (PARTITION BY k.rkey) AS ticket_events,
                 -- (for an order's: whether one cancels it)
                 bool_or(k.member = 'order_cancelled') OVER (PARTITION BY k.rkey) AS cancelled,
                 row_number() OVER (PARTITION BY k.member, k.okey ORDER BY k.i) AS order_nth,
                 k.member = 'order_placed' AND EXISTS (SELECT 1 FROM sale_order s WHERE s.id = k.okey)
                     AS order_known,
                 -- an event about another customer's ticket, activity or
                 -- order (before the run, or in it)
                 CASE WHEN k.tkey IS NOT NULL THEN
                          min(k.cid) OVER (PARTITION BY k.rkey) <> max(k.cid) OVER (PARTITION BY k.rkey)
                          OR EXISTS (SELECT 1 FROM ticket t WHERE t.id = k.tkey AND t.customer_id <> k.cid)
                      WHEN k.akey IS NOT NULL THEN
                          min(k.cid) OVER (PARTITION BY k.rkey) <> max(k.cid) OVER (PARTITION BY k.rkey)
                          OR EXISTS (SELECT 1 FROM activity t WHERE t.id = k.akey AND t.customer_id <> k.cid)
                      WHEN k.member = 'order_cancelled' THEN
                          min(k.cid) OVER (PARTITION BY k.rkey) <> max(k.cid) OVER (PARTITION BY k.rkey)
                          OR EXISTS (SELECT 1 FROM sale_order t WHERE t.id = k.okey AND t.customer_id <> k.cid)
                      ELSE false END AS crossing
            FROM kk k LEFT JOIN an_replay_until u ON u.source = k.src),
    z AS (SELECT h.*,
                 bool_or(h.scored AND h.hard_after) OVER (PARTITION BY h.cid) AS complex,
                 lead(h.publish) OVER (PARTITION BY h.cid, h.scored ORDER BY h.i) AS next_publish,
                 COALESCE(bool_or(h.crossing) OVER (), false) AS crossed
            FROM h),
    y AS (SELECT z.*,
                 NOT z.crossed AND CASE
                     WHEN z.member IN ('send_decided', 'campaign_response_recorded', 'campaign_targeted',
                                       'campaign_created', 'campaign_scheduled',
                                       'campaign_status_changed', 'campaign_updated') THEN true
                     WHEN z.member = 'order_placed' THEN NOT z.cancelled
                     WHEN z.member = 'ticket_opened' THEN z.ticket_events = 1 AND NOT z.complex
                     WHEN z.member IN ('person_registered', 'person_updated') THEN z.persons = 1
                     ELSE false END AS set_based,
                 CASE WHEN NOT z.scored
                           OR (NOT z.publish AND z.next_publish IS NOT NULL AND NOT z.next_publish) THEN 0
                      WHEN z.crossed OR z.complex THEN 1 ELSE 2 END AS mode,
                 CASE WHEN z.member = 'order_placed' AND z.order_nth = 1 AND NOT z.order_known
                      THEN z.okey END AS new_order
            FROM z),
    -- The run's customers, each with the least instant of its events and
    -- the profile from the run's one person event that step 2 projects,
    -- if any (pf_i: its place; t_us as a column, see step 2). One
    -- grouping: the customers joined with the profiles were a nested loop
    -- (the planner takes a CTE for a row or ten), a run's square of
    -- comparisons (issue 15, tenth session).
    g AS MATERIALIZED (
           SELECT g.cid, g.first_seen, g.pf_i, g.src, an_run_x(evs, g.pf_i, g.member) AS x,
                  an_us(g.occurred) AS t_us
             FROM (SELECT y.cid, min(y.occurred) AS first_seen, min(y.i) FILTER (WHERE y.pf) AS pf_i,
                          min(y.src) FILTER (WHERE y.pf) AS src,
                          min(y.member) FILTER (WHERE y.pf) AS member,
                          min(y.occurred) FILTER (WHERE y.pf) AS occurred
                     FROM (SELECT y.*, y.set_based AND y.member IN ('person_registered',
                                                                     'person_updated') AS pf
                             FROM y) y
                    WHERE y.cid <> ''
                    GROUP BY y.cid) g),
    -- (in the customers' order: the row locks of two consumers' runs
    -- about the same customers are taken in one order, see step 1b)
    -- A customer new to the fold whose profile step 2 would write is
    -- inserted with it: step 2's update of a row with the defaults (every
    -- an_fv_newer of the empty fv is true). Written once, not inserted
    -- narrow and rewritten wide in step 2, a new row version that seldom
    -- fits its page (issue 15, ninth session). One that exists (or that
    -- a concurrent run inserted first) takes the other branch: it is not
    -- returned, or known is set false there and returned, so step 2
    -- updates it as before (it sets known); `known` returned true for a
    -- customer with a profile (pf_i) marks the profiles written here.
    cust AS (INSERT INTO customer AS c (id, first_seen, known, registered_by, name, emails, phones,
                                        organization_id, kind, country, industry, owner, fv,
                                        contributions)
             SELECT pf.cid, pf.first_seen, pf.pf_i IS NOT NULL,
                    COALESCE(pf.x ->> 'registered_by', pf.src, ''),
                    CASE WHEN COALESCE(pf.x ->> 'name', '') <> '' THEN pf.x ->> 'name' ELSE '' END,
                    CASE WHEN jsonb_array_length(COALESCE(pf.x -> 'emails', '[]')) > 0
                         THEN ARRAY(SELECT jsonb_array_elements_text(pf.x -> 'emails')) ELSE '{}' END,
                    CASE WHEN jsonb_array_length(COALESCE(pf.x -> 'phones', '[]')) > 0
                         THEN ARRAY(SELECT jsonb_array_elements_text(pf.x -> 'phones')) ELSE '{}' END,
                    CASE WHEN COALESCE(pf.x ->> 'organization_id', '') <> ''
                         THEN pf.x ->> 'organization_id' ELSE '' END,
                    CASE WHEN pf.x ? 'kind' THEN an_enum(pf.x ->> 'kind', 'PERSON_KIND_') ELSE '' END,
                    CASE WHEN COALESCE(pf.x ->> 'country', '') <> '' THEN pf.x ->> 'country' ELSE '' END,
                    CASE WHEN COALESCE(pf.x ->> 'industry', '') <> '' THEN pf.x ->> 'industry' ELSE '' END,
                    CASE WHEN COALESCE(pf.x ->> 'owner', '') <> '' THEN pf.x ->> 'owner' ELSE '' END,
                    '{}'::jsonb || jsonb_strip_nulls(jsonb_build_object(
                        'name', CASE WHEN (pf.x ? 'name') AND pf.x ->> 'name' <> ''
                                          AND pf.x -> 'name' <> '[]'::jsonb
                                     THEN jsonb_build_array(pf.t_us, pf.src) END,
                        'emails', CASE WHEN (pf.x ? 'emails') AND pf.x ->> 'emails' <> ''
                                            AND pf.x -> 'emails' <> '[]'::jsonb
                                       THEN jsonb_build_array(pf.t_us, pf.src) END,
                        'phones', CASE WHEN (pf.x ? 'phones') AND pf.x ->> 'phones' <> ''
                                            AND pf.x -> 'phones' <> '[]'::jsonb
                                       THEN jsonb_build_array(pf.t_us, pf.src) END,
                        'organization_id', CASE WHEN (pf.x ? 'organization_id')
                                                     AND pf.x ->> 'organization_id' <> ''
                                                     AND pf.x -> 'organization_id' <> '[]'::jsonb
                                                THEN jsonb_build_array(pf.t_us, pf.src) END,
                        'kind', CASE WHEN (pf.x ? 'kind') AND pf.x ->> 'kind' <> ''
                                          AND pf.x -> 'kind' <> '[]'::jsonb
                                     THEN jsonb_build_array(pf.t_us, pf.src) END,
                        'country', CASE WHEN (pf.x ? 'country') AND pf.x ->> 'country' <> ''
                                             AND pf.x -> 'country' <> '[]'::jsonb
                                        THEN jsonb_build_array(pf.t_us, pf.src) END,
                        'industry', CASE WHEN (pf.x ? 'industry') AND pf.x ->> 'industry' <> ''
                                              AND pf.x -> 'industry' <> '[]'::jsonb
                                         THEN jsonb_build_array(pf.t_us, pf.src) END,
                        'owner', CASE WHEN (pf.x ? 'owner') AND pf.x ->> 'owner' <> ''
                                           AND pf.x -> 'owner' <> '[]'::jsonb
                                      THEN jsonb_build_array(pf.t_us, pf.src) END)),
                    CASE WHEN pf.pf_i IS NULL THEN '{}'::jsonb
                         ELSE jsonb_set('{}'::jsonb, ARRAY[pf.src], '{}'::jsonb || pf.x) END
               FROM g pf
              ORDER BY pf.cid
             -- (only a first_seen that moves back is written: the row is
             -- locked either way (ON CONFLICT locks the rows the WHERE
             -- leaves), and a customer met again, most of a catch-up's, was
             -- rewritten whole, a new version of a wide row, for nothing
             -- (issue 15, tenth session); a row left is not returned, so
             -- not fresh, as one whose known is set false here)
             ON CONFLICT (id) DO UPDATE SET first_seen = EXCLUDED.first_seen,
                 known = CASE WHEN EXCLUDED.known THEN false ELSE c.known END
                 WHERE c.first_seen > EXCLUDED.first_seen
             RETURNING c.id, c.known)
    -- (the rows sorted once: an aggregate's own ORDER BY sorts its input
    -- again for each of the fourteen, on PostgreSQL 15 half of this
    -- statement's CPU; one aggregation step feeds every aggregate the same
    -- row at a time, so the arrays stay parallel)
    SELECT array_agg(y.i), array_agg(y.src), array_agg(y.seqn), array_agg(y.member),
           array_agg(y.cid),
           array_agg(y.occurred), array_agg(y.at_h), array_agg(y.publish), array_agg(y.set_based),
           array_agg(y.mode), array_agg(y.new_order),
           -- (IN in an aggregate's filter: a hashed subplan, not a join)
           COALESCE(array_agg(y.cid) FILTER (WHERE y.set_based
                                              AND y.member IN ('person_registered', 'person_updated')
                                              AND y.cid IN (SELECT cust.id FROM cust WHERE cust.known)),
                    '{}')
      INTO v_i, v_src, v_seq, v_member, v_cid, v_occ, v_at, v_publish,
           v_set, v_mode, v_order, v_fresh
      FROM (SELECT * FROM y ORDER BY y.i) y;
    IF v_i IS NULL THEN
        RETURN; -- nothing new to apply
    END IF;

    -- 1b. The run now holds the row locks of its customers (step 1's
    -- upsert). Another source's consumer that applied events about one of
    -- them has committed by now, but step 1 read with a snapshot taken
    -- before it waited for that lock: the stored health and each
    -- customer's latest instant before the run are read here, in a
    -- statement of their own, or the later of two concurrent runs would
    -- store its score over the other's without publishing the change (and
    -- score at an instant that leaves the other's events out). Events the
    -- run itself logged do not count as before it.
    SELECT array_agg(greatest(pr.at, u.at_run) ORDER BY u.i), array_agg(pr.score ORDER BY u.i),
           array_agg(pr.churn_high ORDER BY u.i)
      INTO v_at, v_old_score, v_old_high
      FROM unnest(v_i, v_cid, v_at) AS u(i, cid, at_run)
      -- (once per customer of the run, not per event; a merge is no
      -- activity of the customer's, as in an_apply; through
      -- customer_event's index per customer, not a scan of the log, nor a
      -- join the planner would make a nested loop of, misjudging unnest)
      LEFT JOIN (
          SELECT c.cid, l.at, hh.score, hh.churn_high
            FROM (SELECT DISTINCT x.cid FROM unnest(v_cid) AS x(cid) WHERE x.cid <> '') c
           -- (each the latest event first, backwards through the index,
           -- the run's own skipped: not a bitmap scan of all the
           -- customer's events, whose every rescan also asked the kernel
           -- for the log's size, an lseek per customer and run)
           CROSS JOIN LATERAL (
               SELECT COALESCE(
                   (SELECT ce.occurred_at FROM customer_event ce
                     WHERE ce.customer_id = c.cid AND ce.type <> 'crm.sales.person.merged.v1'
                       AND (ce.source, ce.seq) NOT IN (SELECT * FROM unnest(v_src, v_seq))
                     ORDER BY ce.occurred_at DESC LIMIT 1),
                   (SELECT ce.occurred_at FROM customer_event ce
                     WHERE ce.customer_id = c.cid
                       AND (ce.source, ce.seq) NOT IN (SELECT * FROM unnest(v_src, v_seq))
                     ORDER BY ce.occurred_at DESC LIMIT 1)) AS at) l
            -- (the stored health by its key per customer, OFFSET 0: as a
            -- join, the plan kept for the session hashed a scan of the whole
            -- table, made when it was small)
            LEFT JOIN LATERAL (SELECT h.score, h.churn_high FROM health h
                                WHERE h.customer_id = c.cid OFFSET 0) hh ON true) pr
        ON pr.cid = u.cid;

    -- Left out of an earlier event's inputs: what a later one inserted.
    -- (Here and below, a statement that has nothing to do in this run is
    -- not run at all: each costs its executor's start and end however few
    -- its rows, the larger part of a short run's cost; the tests are
    -- plain array expressions, evaluated without a query.)
    IF v_member && ARRAY['order_placed', 'campaign_response_recorded'] THEN
    SELECT array_agg(u.i), array_agg(u.cid), array_agg(u.new_order), array_agg(u.src),
           array_agg(u.seqn)
      INTO l_i, l_cid, l_order, l_src, l_seq
      FROM (SELECT u.i, u.cid, u.new_order,
                   CASE WHEN u.member = 'campaign_response_recorded' THEN u.src END AS src,
                   CASE WHEN u.member = 'campaign_response_recorded' THEN u.seqn END AS seqn
              FROM unnest(v_i, v_cid, v_order, v_member, v_src, v_seq)
                   AS u(i, cid, new_order, member, src, seqn)
             WHERE u.cid <> '' AND (u.new_order IS NOT NULL
                                    OR u.member = 'campaign_response_recorded')) u;
    END IF;

    -- 2. (each statement as an_project's branch for that event)
    -- (t_us as a column: an_fv_newer is inlined only when its arguments
    -- are plain values; the arrays as an_text_array makes them, inline: it
    -- is a function with a query of its own per call)
    IF v_member && ARRAY['person_registered', 'person_updated']
       AND (SELECT count(*) FROM unnest(v_member, v_set) AS u(member, set_based)
             WHERE u.set_based AND u.member IN ('person_registered', 'person_updated'))
           > cardinality(v_fresh) THEN
    WITH s AS MATERIALIZED (
             SELECT u.*, an_run_x(evs, u.i, u.member) AS x, an_us(u.occurred) AS t_us
               FROM unnest(v_i, v_src, v_member, v_cid, v_occ, v_set)
                    AS u(i, src, member, cid, occurred, set_based)
              WHERE u.set_based AND u.member IN ('person_registered', 'person_updated')
                AND u.cid <> ALL (v_fresh))
    UPDATE customer c SET
        known = true,
        registered_by = CASE WHEN c.registered_by = '' THEN COALESCE(s.x ->> 'registered_by', s.src)
                             ELSE c.registered_by END,
        name = CASE WHEN COALESCE(s.x ->> 'name', '') <> ''
                         AND an_fv_newer(c.fv, 'name', s.t_us, s.src)
                    THEN s.x ->> 'name' ELSE c.name END,
        emails = CASE WHEN jsonb_array_length(COALESCE(s.x -> 'emails', '[]')) > 0
                       AND an_fv_newer(c.fv, 'emails', s.t_us, s.src)
                      THEN ARRAY(SELECT jsonb_array_elements_text(s.x -> 'emails')) ELSE c.emails END,
        phones = CASE WHEN jsonb_array_length(COALESCE(s.x -> 'phones', '[]')) > 0
                       AND an_fv_newer(c.fv, 'phones', s.t_us, s.src)
                      THEN ARRAY(SELECT jsonb_array_elements_text(s.x -> 'phones')) ELSE c.phones END,
        organization_id = CASE WHEN COALESCE(s.x ->> 'organization_id', '') <> ''
                                AND an_fv_newer(c.fv, 'organization_id', s.t_us, s.src)
                               THEN s.x ->> 'organization_id' ELSE c.organization_id END,
        kind = CASE WHEN s.x ? 'kind' AND an_fv_newer(c.fv, 'kind', s.t_us, s.src)
                    THEN an_enum(s.x ->> 'kind', 'PERSON_KIND_') ELSE c.kind END,
        country = CASE WHEN COALESCE(s.x ->> 'country', '') <> ''
                            AND an_fv_newer(c.fv, 'country', s.t_us, s.src)
                       THEN s.x ->> 'country' ELSE c.country END,
        industry = CASE WHEN COALESCE(s.x ->> 'industry', '') <> ''
                             AND an_fv_newer(c.fv, 'industry', s.t_us, s.src)
                        THEN s.x ->> 'industry' ELSE c.industry END,
        owner = CASE WHEN COALESCE(s.x ->> 'owner', '') <> ''
                          AND an_fv_newer(c.fv, 'owner', s.t_us, s.src)
                     THEN s.x ->> 'owner' ELSE c.owner END,
        -- (the fields' new versions as one expression, not a subquery per
        -- person: the same object as jsonb_object_agg over the fields that
        -- pass; jsonb_strip_nulls drops the others, no version is null)
        fv = c.fv || jsonb_strip_nulls(jsonb_build_object(
            'name', CASE WHEN an_fv_newer(c.fv, 'name', s.t_us, s.src) AND (s.x ? 'name')
                         AND s.x ->> 'name' <> '' AND s.x -> 'name' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END,
            'emails', CASE WHEN an_fv_newer(c.fv, 'emails', s.t_us, s.src) AND (s.x ? 'emails')
                         AND s.x ->> 'emails' <> '' AND s.x -> 'emails' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END,
            'phones', CASE WHEN an_fv_newer(c.fv, 'phones', s.t_us, s.src) AND (s.x ? 'phones')
                         AND s.x ->> 'phones' <> '' AND s.x -> 'phones' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END,
            'organization_id', CASE WHEN an_fv_newer(c.fv, 'organization_id', s.t_us, s.src)
                         AND (s.x ? 'organization_id') AND s.x ->> 'organization_id' <> ''
                         AND s.x -> 'organization_id' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END,
            'kind', CASE WHEN an_fv_newer(c.fv, 'kind', s.t_us, s.src) AND (s.x ? 'kind')
                         AND s.x ->> 'kind' <> '' AND s.x -> 'kind' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END,
            'country', CASE WHEN an_fv_newer(c.fv, 'country', s.t_us, s.src) AND (s.x ? 'country')
                         AND s.x ->> 'country' <> '' AND s.x -> 'country' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END,
            'industry', CASE WHEN an_fv_newer(c.fv, 'industry', s.t_us, s.src) AND (s.x ? 'industry')
                         AND s.x ->> 'industry' <> '' AND s.x -> 'industry' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END,
            'owner', CASE WHEN an_fv_newer(c.fv, 'owner', s.t_us, s.src) AND (s.x ? 'owner')
                         AND s.x ->> 'owner' <> '' AND s.x -> 'owner' <> '[]'::jsonb
                        THEN jsonb_build_array(s.t_us, s.src) END)),
        contributions = jsonb_set(c.contributions, ARRAY[s.src],
                                  COALESCE(c.contributions -> s.src, '{}') || s.x)
      FROM s
     WHERE c.id = s.cid;
    END IF;

    IF 'order_placed' = ANY(v_member) THEN
    INSERT INTO sale_order (id, customer_id, deal_id, total_minor, currency, ordered_at)
    SELECT DISTINCT ON (u.x ->> 'id') u.x ->> 'id', u.cid, COALESCE(u.x ->> 'deal_id', ''),
           COALESCE((u.x ->> 'total_minor')::bigint, 0), COALESCE(u.x ->> 'currency', ''), u.occurred
      FROM (SELECT u.*, an_run_x(evs, u.i, u.member) AS x
              FROM unnest(v_i, v_member, v_cid, v_occ, v_set) AS u(i, member, cid, occurred, set_based)
             WHERE u.set_based AND u.member = 'order_placed' OFFSET 0) u
     ORDER BY u.x ->> 'id', u.i
    ON CONFLICT (id) DO NOTHING;
    END IF;

    IF 'ticket_opened' = ANY(v_member) THEN
    INSERT INTO ticket AS t (id, customer_id, type, priority, status, subject, opened_at)
    SELECT u.p ->> 'ticket_id', u.cid, an_enum(u.p ->> 'type', 'TICKET_TYPE_'),
           COALESCE(u.p ->> 'priority', 'normal'), 'new', COALESCE(u.p ->> 'subject', ''), u.occurred
      FROM (SELECT u.*, an_run_p(evs, u.i, u.member) AS p
              FROM unnest(v_i, v_member, v_cid, v_occ, v_set) AS u(i, member, cid, occurred, set_based)
             WHERE u.set_based AND u.member = 'ticket_opened' OFFSET 0) u
    ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, priority = EXCLUDED.priority,
        opened_at = least(t.opened_at, EXCLUDED.opened_at);
    END IF;

    IF v_member && ARRAY['campaign_created', 'campaign_scheduled', 'campaign_status_changed',
                         'campaign_updated'] THEN
    INSERT INTO campaign (id, name, status, currency, budget_minor, owner, channels)
    SELECT DISTINCT ON (u.p -> 'campaign' ->> 'id') u.p -> 'campaign' ->> 'id',
           COALESCE(u.p -> 'campaign' ->> 'name', ''),
           an_enum(u.p -> 'campaign' ->> 'status', 'CAMPAIGN_STATUS_'),
           COALESCE(u.p -> 'campaign' ->> 'currency', ''),
           COALESCE((u.p -> 'campaign' ->> 'budget_minor')::bigint, 0),
           COALESCE(u.p -> 'campaign' ->> 'owner', ''),
           (SELECT COALESCE(array_agg(an_enum(ch, 'CHANNEL_')), '{}')
              FROM jsonb_array_elements_text(COALESCE(u.p -> 'campaign' -> 'channels', '[]')) ch)
      FROM (SELECT u.*, an_run_p(evs, u.i, u.member) AS p
              FROM unnest(v_i, v_member, v_set) AS u(i, member, set_based)
             WHERE u.set_based AND u.member IN ('campaign_created', 'campaign_scheduled',
                                                'campaign_status_changed', 'campaign_updated')
            OFFSET 0) u
     ORDER BY u.p -> 'campaign' ->> 'id', u.i DESC
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status,
        currency = EXCLUDED.currency, budget_minor = EXCLUDED.budget_minor, owner = EXCLUDED.owner,
        channels = EXCLUDED.channels;
    END IF;

    IF 'send_decided' = ANY(v_member) THEN
    INSERT INTO campaign_send AS s (campaign_id, customer_id, status, channel, decided_at)
    SELECT DISTINCT ON (u.p ->> 'campaign_id', u.cid) u.p ->> 'campaign_id', u.cid,
           an_enum(u.p ->> 'status', 'SEND_STATUS_'), an_enum(u.p ->> 'channel', 'CHANNEL_'), u.occurred
      FROM (SELECT u.*, an_run_p(evs, u.i, u.member) AS p
              FROM unnest(v_i, v_member, v_cid, v_occ, v_set) AS u(i, member, cid, occurred, set_based)
             WHERE u.set_based AND u.member = 'send_decided' OFFSET 0) u
     ORDER BY u.p ->> 'campaign_id', u.cid, u.i DESC
    ON CONFLICT (campaign_id, customer_id) DO UPDATE SET status = EXCLUDED.status,
        channel = EXCLUDED.channel, decided_at = EXCLUDED.decided_at;
    END IF;

    IF 'campaign_response_recorded' = ANY(v_member) THEN
    INSERT INTO campaign_response (source, seq, campaign_id, customer_id, response, channel,
                                   revenue_minor, currency, at, unsolicited, order_id)
    SELECT u.src, u.seqn, u.p ->> 'campaign_id', u.cid, an_enum(u.p ->> 'response', 'RESPONSE_TYPE_'),
           COALESCE(u.p ->> 'channel', ''), COALESCE((u.p ->> 'revenue_minor')::bigint, 0),
           upper(COALESCE(u.p ->> 'currency', '')), u.occurred,
           COALESCE((u.p ->> 'unsolicited')::boolean, false), COALESCE(u.p ->> 'order_id', '')
      FROM (SELECT u.*, an_run_p(evs, u.i, u.member) AS p
              FROM unnest(v_i, v_src, v_seq, v_member, v_cid, v_occ, v_set)
                   AS u(i, src, seqn, member, cid, occurred, set_based)
             WHERE u.set_based AND u.member = 'campaign_response_recorded' OFFSET 0) u
     ORDER BY u.i;
    END IF;

    -- Recipients: the first to reach one wins, whichever event it was.
    IF v_member && ARRAY['send_decided', 'campaign_response_recorded', 'campaign_targeted'] THEN
    INSERT INTO campaign_recipient (campaign_id, customer_id, reached_at)
    SELECT DISTINCT ON (rc.campaign_id, rc.customer_id) rc.campaign_id, rc.customer_id, rc.occurred
      FROM (SELECT u.i, 0::bigint AS o, u.p ->> 'campaign_id' AS campaign_id, u.cid AS customer_id,
                   u.occurred
              FROM (SELECT u.*, an_run_p(evs, u.i, u.member) AS p
                      FROM unnest(v_i, v_member, v_cid, v_occ, v_set)
                           AS u(i, member, cid, occurred, set_based)
                     WHERE u.set_based AND u.member IN ('send_decided', 'campaign_response_recorded')
                    OFFSET 0) u
             WHERE u.set_based AND (u.member = 'send_decided'
                                    OR (u.member = 'campaign_response_recorded' AND u.cid <> ''
                                        AND NOT COALESCE((u.p ->> 'unsolicited')::boolean, false)))
            UNION ALL
            SELECT u.i, tg.o, u.p ->> 'campaign_id', crm_alias_of(tg.t), u.occurred
              FROM (SELECT u.*, an_run_p(evs, u.i, u.member) AS p
                      FROM unnest(v_i, v_member, v_occ, v_set) AS u(i, member, occurred, set_based)
                     WHERE u.set_based AND u.member = 'campaign_targeted' OFFSET 0) u
             CROSS JOIN LATERAL jsonb_array_elements_text(COALESCE(u.p -> 'customer_ids', '[]'))
                   WITH ORDINALITY AS tg(t, o)
             WHERE u.set_based AND u.member = 'campaign_targeted') rc
     ORDER BY rc.campaign_id, rc.customer_id, rc.i, rc.o
    ON CONFLICT DO NOTHING;
    END IF;

    -- 3.
    IF false = ANY(v_set) OR 1 = ANY(v_mode) THEN
    FOR r IN SELECT u.*, evs -> (u.i - 1) -> 'e' AS ev, an_run_p(evs, u.i, u.member) AS p,
                    an_run_x(evs, u.i, u.member) AS x
               FROM unnest(v_i, v_src, v_seq, v_member, v_cid, v_occ, v_at, v_set, v_mode)
                    AS u(i, src, seqn, member, cid, occurred, at_h, set_based, mode)
              WHERE NOT u.set_based OR u.mode = 1
              ORDER BY u.i
    LOOP
        IF NOT r.set_based THEN
            PERFORM an_project(r.src, r.seqn, r.ev, r.member, r.p, r.x, r.cid, r.occurred);
        END IF;
        IF r.mode = 1 THEN
            SELECT hi.hi_inputs INTO v_in
              FROM an_health_inputs_run(ARRAY[r.i], ARRAY[r.cid], ARRAY[r.at_h],
                                        l_i, l_cid, l_order, l_src, l_seq) hi;
            o_i := o_i || r.i;
            o_in := o_in || v_in;
        END IF;
    END LOOP;
    END IF;

    -- 4.
    RETURN QUERY
    WITH s AS (SELECT * FROM unnest(v_i, v_cid, v_at, v_old_score, v_old_high, v_publish, v_mode)
                        AS u(i, cid, at_h, old_score, old_high, publish, mode)
                WHERE u.mode > 0),
    q AS (SELECT array_agg(s.i) AS i, array_agg(s.cid) AS cid, array_agg(s.at_h) AS at_h
            FROM s WHERE s.mode = 2),
    dq AS (SELECT hi.* FROM q CROSS JOIN LATERAL an_health_inputs_run(q.i, q.cid, q.at_h, l_i, l_cid,
                                                                       l_order, l_src, l_seq) hi),
    inl AS (SELECT * FROM unnest(o_i, o_in) AS u(i, inputs))
    SELECT s.i, s.cid, an_us(s.at_h), COALESCE(inl.inputs, dq.hi_inputs), s.old_score, s.old_high,
           s.publish
      FROM s LEFT JOIN inl ON inl.i = s.i LEFT JOIN dq ON dq.hi_i = s.i
     ORDER BY s.i;
END
$$;

-- Stores the health of a run's customers, the last one given per customer:
-- hs: [{"c": customer, "s": score, "r": reasons, "h": churn high, "t": at_us}, ...]
-- in the run's order (what an_health_put one at a time would leave).
CREATE OR REPLACE FUNCTION an_health_put_run(hs jsonb)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- (PL/pgSQL: its plan is kept for the session; a LANGUAGE sql function
    -- that cannot be inlined is parsed and planned again at every call)
    INSERT INTO health AS h (customer_id, score, churn_risk, reasons, churn_high, at)
    SELECT DISTINCT ON (a.x ->> 'c') a.x ->> 'c', (a.x ->> 's')::int, 100 - (a.x ->> 's')::int,
           a.x -> 'r', (a.x ->> 'h')::boolean, an_ts(a.x ->> 't')
      FROM jsonb_array_elements(hs) WITH ORDINALITY AS a(x, i)
     ORDER BY a.x ->> 'c', a.i DESC
    ON CONFLICT (customer_id) DO UPDATE SET score = EXCLUDED.score,
        churn_risk = EXCLUDED.churn_risk, reasons = EXCLUDED.reasons,
        churn_high = EXCLUDED.churn_high, at = EXCLUDED.at;
END
$$;
