-- The hot commands' functions keep one plan per statement (issue 15,
-- eighth session). PL/pgSQL keeps a statement's plan in the plan cache,
-- which plans it anew for each call's values five times and then keeps a
-- generic plan only if that one's estimated cost is no higher than the
-- custom plans' mean. For the registration's email lookup (`email = ANY
-- (p_emails)`: a generic plan assumes an array of ten) and the
-- `p_org IS NULL OR EXISTS (...)` checks (a custom plan folds the NULL
-- away) it never is, so those statements were planned at every call:
-- pg_stat_statements (track = all, track_planning) counted 4,001 plans in
-- 4,000 registrations, 0.029 ms of planning a call, a sixth of the
-- function's time; order.create and activity.log planned their
-- organisation and deal checks likewise. Every statement of these
-- functions is a key probe or an insert, whose generic plan is the custom
-- one (and enable_seqscan = off keeps a plan made on a small table from
-- scanning it once grown, 0015), so they are told to keep it.
ALTER FUNCTION sales_order_create(uuid, uuid, uuid, uuid, bigint, text, bigint, jsonb)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION sales_activity_log(uuid, smallint, text, text, uuid, uuid, text, smallint, bigint,
                                  bigint, text, text, bigint, text)
    SET plan_cache_mode = force_generic_plan;

-- The registration as in 0016 but for two things: the plan cache mode
-- (above), and the new person's field versions written as JSON text and
-- read once, instead of a jsonb_object_agg() over unnest(p_changed): a
-- subquery with an aggregate, 0.024 to 0.028 ms a row against 0.013 to
-- 0.017 for the text (EXPLAIN ANALYZE of 20,000 rows each, alternated, on
-- the loaded machine). The two give the same jsonb (a repeated field:
-- the last wins in both). The field names are the service's column names
-- (rules.c, sales_person_field_name), never anything that needs escaping in JSON;
-- the source's name is escaped by to_json().
CREATE OR REPLACE FUNCTION sales_person_register(
    p_id uuid, p_kind smallint, p_name text, p_emails text[], p_phones text[], p_org uuid,
    p_title text, p_address text, p_country text, p_industry text, p_tags text[], p_owner text,
    p_custom_fields jsonb, p_changed text[], p_t bigint, p_src text, p_fax text,
    OUT o_found text, OUT o_org_ok boolean, OUT o_person text, OUT o_created boolean,
    OUT o_now_us bigint)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    SET plan_cache_mode = force_generic_plan
    AS $$
DECLARE
    ids uuid[];
    f uuid;
    -- each changed field's version, [p_t, p_src], as JSON text
    v text := '[' || COALESCE(p_t::text, 'null') || ', ' || COALESCE(to_json(p_src)::text, 'null')
              || ']';
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
    INSERT INTO person AS p (id, kind, name, emails, phones, organization_id, title, address,
                             country, industry, tags, owner, custom_fields, registered_by,
                             field_versions, fax)
    VALUES (p_id, p_kind, p_name, p_emails, p_phones, p_org, p_title, p_address, p_country,
            p_industry, p_tags, p_owner, p_custom_fields, p_src,
            CASE WHEN cardinality(p_changed) > 0
                 THEN ('{"' || array_to_string(p_changed, '": ' || v || ', "') || '": ' || v
                       || '}')::jsonb
                 ELSE '{}' END, p_fax)
    ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
    RETURNING CASE WHEN p.xmax = 0 AND p.id = p_id THEN NULL ELSE sales_person_j(p)::text END,
              (p.xmax = 0), sales_us(p.created_at)
         INTO o_person, o_created, o_now_us;
END
$$;
