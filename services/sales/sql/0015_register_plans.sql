-- sales.person.register at the cost of its insert (issue 15, sixth
-- session). pg_stat_statements and track_functions on a registration loop
-- showed where 0014's function spent about 1.4 ms of backend time:
--
-- * The email lookup, 0.75 to 0.84 ms and 874 buffers a call. PL/pgSQL
--   keeps a generic plan, made without the emails' values; planned while
--   person held a few hundred rows (or before its statistics caught up
--   with the load), it walked person_page in created_at order probing the
--   materialised emails for each person, which for a new email reads every
--   person. MATERIALIZED stopped the planner from pushing the lookup into
--   person, not from putting person outside. Now the lookup is two
--   statements that have no such choice: the email's person ids from
--   person_email's key, then, only when there are some, the oldest of
--   those people. The function plans with enable_seqscan off so that a
--   plan made while a table was small (or its statistics stale, as after
--   a load) never scans a table that has grown since: every statement in
--   it is a probe of a key.
-- * sales_us(), 0.05 ms a call, twice in the person's JSON: declared
--   IMMUTABLE over extract(epoch FROM timestamptz), which is STABLE, so
--   PostgreSQL would not inline it and ran it as a SQL function each time.
--   Declared STABLE (what it is), it is inlined wherever it is used.
-- * sales_fv_stamp() of an empty object, 0.05 to 0.06 ms: a new person's
--   versions are every changed field stamped (t, src); built inline.
--
-- The person_email trigger (0.06 ms) and the crm_alias trigger (0.02 ms)
-- stay: every other path that writes people relies on them.
CREATE OR REPLACE FUNCTION sales_us(t timestamptz) RETURNS bigint
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

-- As in 0014 (the parameters and results are the same).
CREATE OR REPLACE FUNCTION sales_person_register(
    p_id uuid, p_kind smallint, p_name text, p_emails text[], p_phones text[], p_org uuid,
    p_title text, p_address text, p_country text, p_industry text, p_tags text[], p_owner text,
    p_custom_fields jsonb, p_changed text[], p_t bigint, p_src text, p_fax text,
    OUT o_found text, OUT o_org_ok boolean, OUT o_person text, OUT o_created boolean)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    AS $$
DECLARE
    ids uuid[];
    f uuid;
BEGIN
    IF cardinality(p_emails) > 0 THEN
        SELECT array_agg(e.person_id) INTO ids FROM person_email e WHERE e.email = ANY (p_emails);
        IF ids IS NOT NULL THEN
            -- the oldest person of the emails, ordered apart from the table
            WITH c AS MATERIALIZED (SELECT p.id, p.created_at FROM person p WHERE p.id = ANY (ids))
            SELECT c.id INTO f FROM c ORDER BY c.created_at, c.id LIMIT 1;
            IF f IS NOT NULL THEN
                SELECT sales_person_j(p)::text INTO o_found FROM person p WHERE p.id = f;
                RETURN;
            END IF;
        END IF;
    END IF;
    o_org_ok := p_org IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = p_org);
    IF NOT o_org_ok THEN
        RETURN;
    END IF;
    -- field_versions: sales_fv_stamp('{}', p_changed, p_t, p_src), which
    -- on an empty object stamps every changed field
    INSERT INTO person AS p (id, kind, name, emails, phones, organization_id, title, address,
                             country, industry, tags, owner, custom_fields, registered_by,
                             field_versions, fax)
    VALUES (p_id, p_kind, p_name, p_emails, p_phones, p_org, p_title, p_address, p_country,
            p_industry, p_tags, p_owner, p_custom_fields, p_src,
            COALESCE((SELECT jsonb_object_agg(c, jsonb_build_array(p_t, p_src))
                        FROM unnest(p_changed) AS c), '{}'), p_fax)
    ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
    RETURNING sales_person_j(p)::text, (p.xmax = 0) INTO o_person, o_created;
END
$$;

-- order.create and activity.log as in 0014, but for the person's check:
-- crm_alias_of() (common/sql/0006_alias.sql) is a LANGUAGE sql function
-- with a subquery, which PostgreSQL does not inline, and running it as a
-- SQL function cost 0.1 ms a call, a quarter of each command's backend
-- time; here it is written out as a statement whose plan is kept. Both
-- probe keys only, and plan with enable_seqscan off as register does.
CREATE OR REPLACE FUNCTION sales_order_create(
    p_id uuid, p_person uuid, p_org uuid, p_deal uuid, p_total bigint, p_currency text,
    p_ordered_at_us bigint, p_items jsonb,
    OUT o_person_ok boolean, OUT o_org_ok boolean, OUT o_deal_ok boolean, OUT o_order text)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    AS $$
DECLARE
    r sales_order%ROWTYPE;
    survivor text;
BEGIN
    -- a merged id names its survivor: crm_alias_of(), written out
    SELECT al.survivor_id INTO survivor FROM crm_alias al WHERE al.dropped_id = p_person::text;
    o_person_ok := EXISTS (SELECT 1 FROM person
                            WHERE id = COALESCE(survivor, p_person::text)::uuid);
    o_org_ok := p_org IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = p_org);
    o_deal_ok := p_deal IS NULL OR EXISTS (SELECT 1 FROM deal WHERE id = p_deal);
    IF NOT (o_person_ok AND o_org_ok AND o_deal_ok) THEN
        RETURN;
    END IF;
    INSERT INTO sales_order (id, person_id, organization_id, deal_id, total_minor, currency,
                             ordered_at)
    VALUES (p_id, p_person, p_org, p_deal, p_total, p_currency,
            COALESCE(sales_ts(p_ordered_at_us), now()))
    RETURNING * INTO r;
    INSERT INTO order_item (order_id, position, product_code, name, quantity, unit_price_minor)
    SELECT r.id, s.ord, s.x ->> 'product_code', s.x ->> 'name', (s.x ->> 'quantity')::int,
           (s.x ->> 'unit_price_minor')::bigint
      FROM jsonb_array_elements(p_items) WITH ORDINALITY AS s (x, ord);
    o_order := jsonb_build_object('id', r.id, 'person_id', r.person_id,
        'organization_id', r.organization_id, 'deal_id', r.deal_id, 'items', p_items,
        'total_minor', r.total_minor, 'currency', r.currency,
        'ordered_at_us', sales_us(r.ordered_at), 'refunded_minor', r.refunded_minor,
        'cancelled_at_us', sales_us(r.cancelled_at))::text;
END
$$;

CREATE OR REPLACE FUNCTION sales_activity_log(
    p_id uuid, p_kind smallint, p_subject text, p_body text, p_person uuid, p_deal uuid,
    p_owner text, p_status smallint, p_due_at_us bigint, p_due_in_us bigint, p_outcome text,
    p_next_action text, p_next_action_due_us bigint, p_override_reason text,
    OUT o_person_ok boolean, OUT o_deal_ok boolean, OUT o_activity text)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    AS $$
DECLARE
    survivor text;
BEGIN
    -- a merged id names its survivor: crm_alias_of(), written out
    SELECT al.survivor_id INTO survivor FROM crm_alias al WHERE al.dropped_id = p_person::text;
    o_person_ok := EXISTS (SELECT 1 FROM person
                            WHERE id = COALESCE(survivor, p_person::text)::uuid);
    o_deal_ok := p_deal IS NULL OR EXISTS (SELECT 1 FROM deal WHERE id = p_deal);
    IF NOT (o_person_ok AND o_deal_ok) THEN
        RETURN;
    END IF;
    INSERT INTO activity AS a (id, kind, subject, body, person_id, deal_id, owner, status, due_at,
                               completed_at, outcome, next_action, next_action_due,
                               override_reason)
    VALUES (p_id, p_kind, p_subject, p_body, p_person, p_deal, p_owner, p_status,
            CASE WHEN p_status = 1 THEN COALESCE(sales_ts(p_due_at_us),
                now() + p_due_in_us * interval '1 microsecond') END,
            CASE WHEN p_status = 2 THEN now() END,
            p_outcome, p_next_action, sales_ts(p_next_action_due_us), p_override_reason)
    RETURNING jsonb_build_object('id', a.id, 'kind', a.kind, 'subject', a.subject,
        'body', a.body, 'person_id', a.person_id, 'deal_id', a.deal_id, 'owner', a.owner,
        'status', a.status, 'due_at_us', sales_us(a.due_at),
        'completed_at_us', sales_us(a.completed_at), 'outcome', a.outcome,
        'next_action', a.next_action, 'next_action_due_us', sales_us(a.next_action_due),
        'created_at_us', sales_us(a.created_at), 'due_notified', a.due_notified,
        'override_reason', a.override_reason)::text INTO o_activity;
END
$$;

-- The tags' GIN index holds only the people who have tags: a person
-- without any (most registrations) cost every insert an entry in the
-- index's pending list, behind one lock on its metapage, and nothing ever
-- searched for "no tag". The list by tag (store/person.c) says
-- "tags <> '{}'" so that the planner may use this index.
DROP INDEX person_tags;
CREATE INDEX person_tags ON person USING gin (tags) WHERE tags <> '{}';
