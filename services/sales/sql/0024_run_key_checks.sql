-- The organisation and deal checks of the order and activity runs (0021)
-- as probes of their keys whatever the statistics (issue 15, tenth
-- session), as 0023 does for the registration's. A generic plan made
-- while organization and deal looked small turned each `EXISTS (SELECT 1
-- ... WHERE id = x)` into a hash of every row of the table (a bitmap of all
-- of organization_page or deal_page), built once a run that names one,
-- and kept it until an autoanalyze replanned it. A scalar subquery has no
-- hashed form: `(SELECT true ... WHERE id = x) IS NOT NULL` says the same.
-- The functions are 0021's otherwise.
CREATE OR REPLACE FUNCTION sales_order_create_run(
    p_ids uuid[], p_persons uuid[], p_orgs text[], p_deals text[], p_totals bigint[],
    p_currencies text[], p_ordered_at_us bigint[], p_items jsonb)
    RETURNS TABLE (o_ord bigint, o_person_ok boolean, o_org_ok boolean, o_deal_ok boolean,
                   o_person_id text, o_org_id text, o_deal_id text, o_ordered_at_us bigint)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    SET plan_cache_mode = force_generic_plan
    AS $$
BEGIN
    -- p_items: one JSON array of items per element, in order
    RETURN QUERY
    WITH u AS MATERIALIZED (
        SELECT x.ord, x.id, x.person, NULLIF(x.org, '')::uuid AS org,
               NULLIF(x.deal, '')::uuid AS deal, x.total, x.currency, NULLIF(x.at, 0) AS at,
               EXISTS (SELECT 1 FROM person p
                        WHERE p.id = COALESCE((SELECT al.survivor_id FROM crm_alias al
                                                WHERE al.dropped_id = x.person::text),
                                              x.person::text)::uuid) AS person_ok,
               (x.org = '' OR (SELECT true FROM organization g
                                 WHERE g.id = NULLIF(x.org, '')::uuid) IS NOT NULL) AS org_ok,
               (x.deal = '' OR (SELECT true FROM deal d
                                  WHERE d.id = NULLIF(x.deal, '')::uuid) IS NOT NULL) AS deal_ok
          FROM unnest(p_ids, p_persons, p_orgs, p_deals, p_totals, p_currencies, p_ordered_at_us)
               WITH ORDINALITY AS x (id, person, org, deal, total, currency, at, ord)),
    i AS (
        INSERT INTO sales_order AS r (id, person_id, organization_id, deal_id, total_minor,
                                      currency, ordered_at)
        SELECT u.id, u.person, u.org, u.deal, u.total, u.currency,
               COALESCE(sales_ts(u.at), now())
          FROM u WHERE u.person_ok AND u.org_ok AND u.deal_ok ORDER BY u.ord
        RETURNING r.id, r.person_id, r.organization_id, r.deal_id, r.ordered_at),
    it AS (
        INSERT INTO order_item (order_id, position, product_code, name, quantity,
                                unit_price_minor)
        SELECT u.id, s.pos, s.x ->> 'product_code', s.x ->> 'name', (s.x ->> 'quantity')::int,
               (s.x ->> 'unit_price_minor')::bigint
          FROM u, jsonb_array_elements(p_items -> (u.ord::int - 1)) WITH ORDINALITY AS s (x, pos)
         WHERE u.person_ok AND u.org_ok AND u.deal_ok)
    SELECT u.ord, u.person_ok, u.org_ok, u.deal_ok, i.person_id::text, i.organization_id::text,
           i.deal_id::text, sales_us(i.ordered_at)
      FROM u LEFT JOIN i ON i.id = u.id
     ORDER BY u.ord;
END
$$;

-- sales.activity.log's run: activities logged as done (status 2) with
-- their person, as sales_activity_log() inserts them for p_status = 2 (no
-- due time, completed now, no override reason: the service refuses one
-- for a logged activity).
CREATE OR REPLACE FUNCTION sales_activity_log_run(
    p_ids uuid[], p_kinds smallint[], p_subjects text[], p_bodies text[], p_persons uuid[],
    p_deals text[], p_owners text[], p_outcomes text[], p_next_actions text[],
    p_next_action_due_us bigint[])
    RETURNS TABLE (o_ord bigint, o_person_ok boolean, o_deal_ok boolean, o_person_id text,
                   o_deal_id text, o_due_at_us bigint, o_completed_at_us bigint,
                   o_next_action_due_us bigint, o_created_at_us bigint)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    SET plan_cache_mode = force_generic_plan
    AS $$
BEGIN
    RETURN QUERY
    WITH u AS MATERIALIZED (
        SELECT x.*, NULLIF(x.deal_t, '')::uuid AS deal,
               EXISTS (SELECT 1 FROM person p
                        WHERE p.id = COALESCE((SELECT al.survivor_id FROM crm_alias al
                                                WHERE al.dropped_id = x.person::text),
                                              x.person::text)::uuid) AS person_ok,
               (x.deal_t = '' OR (SELECT true FROM deal d
                                    WHERE d.id = NULLIF(x.deal_t, '')::uuid) IS NOT NULL) AS deal_ok
          FROM unnest(p_ids, p_kinds, p_subjects, p_bodies, p_persons, p_deals, p_owners,
                      p_outcomes, p_next_actions, p_next_action_due_us)
               WITH ORDINALITY AS x (id, kind, subject, body, person, deal_t, owner, outcome,
                                     next_action, next_due, ord)),
    i AS (
        INSERT INTO activity AS a (id, kind, subject, body, person_id, deal_id, owner, status,
                                   due_at, completed_at, outcome, next_action, next_action_due,
                                   override_reason)
        SELECT u.id, u.kind, u.subject, u.body, u.person, u.deal, u.owner, 2::smallint, NULL,
               now(), u.outcome, u.next_action, sales_ts(NULLIF(u.next_due, 0)), ''
          FROM u WHERE u.person_ok AND u.deal_ok ORDER BY u.ord
        RETURNING a.id, a.person_id, a.deal_id, a.due_at, a.completed_at, a.next_action_due,
                  a.created_at)
    SELECT u.ord, u.person_ok, u.deal_ok, i.person_id::text, i.deal_id::text, sales_us(i.due_at),
           sales_us(i.completed_at), sales_us(i.next_action_due), sales_us(i.created_at)
      FROM u LEFT JOIN i ON i.id = u.id
     ORDER BY u.ord;
END
$$;
