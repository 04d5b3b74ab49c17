-- sales.person.register as one call whose plans PostgreSQL keeps (issue
-- 15). A statement log of the 32-client benchmark showed that parsing and
-- planning the registration's two statements (the lookup, and the insert
-- with its seventeen parameters and the field versions) cost PostgreSQL
-- about twice what executing them did: an unnamed statement is planned
-- anew at every call, and the backbone prepares none. PL/pgSQL keeps the
-- plan of each statement inside it for the session, so a registration is
-- now one short statement (store/person.c) and planned work only once.

-- A person as the JSON record the store reads (store/records.h,
-- SALES_PERSON_J: keep the two alike).
CREATE FUNCTION sales_person_j(p person) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('id', p.id, 'kind', p.kind, 'name', p.name, 'emails', p.emails,
        'phones', p.phones, 'organization_id', p.organization_id, 'title', p.title,
        'address', p.address, 'country', p.country, 'industry', p.industry, 'tags', p.tags,
        'owner', p.owner, 'custom_fields', p.custom_fields,
        'created_at_us', sales_us(p.created_at), 'updated_at_us', sales_us(p.updated_at),
        'registered_by', p.registered_by, 'fax', p.fax)
    $$;

-- Registers a person (the caller derived p_id from the first email, or
-- made a random one) unless a person has one of its emails or its
-- organisation does not exist. o_found: the oldest person with one of the
-- emails (JSON), then nothing else is done; o_org_ok: whether the
-- organisation exists (p_org NULL counts as existing); o_person: the person
-- inserted, or the one that had p_id already (then o_created is false).
-- The fields p_changed are stamped (p_t, p_src); registered_by = p_src.
CREATE FUNCTION sales_person_register(
    p_id uuid, p_kind smallint, p_name text, p_emails text[], p_phones text[], p_org uuid,
    p_title text, p_address text, p_country text, p_industry text, p_tags text[], p_owner text,
    p_custom_fields jsonb, p_changed text[], p_t bigint, p_src text, p_fax text,
    OUT o_found text, OUT o_org_ok boolean, OUT o_person text, OUT o_created boolean)
    LANGUAGE plpgsql
    AS $$
DECLARE
    f uuid;
BEGIN
    IF cardinality(p_emails) > 0 THEN
        -- The email's rows first: a generic plan that does not know how few
        -- they are would rather walk person in created_at order and probe
        -- person_email for each, which for a new email reads every person.
        WITH m AS MATERIALIZED (SELECT person_id FROM person_email WHERE email = ANY (p_emails))
        SELECT p.id INTO f FROM m JOIN person p ON p.id = m.person_id
         ORDER BY p.created_at, p.id LIMIT 1;
        IF f IS NOT NULL THEN
            SELECT sales_person_j(p)::text INTO o_found FROM person p WHERE p.id = f;
            RETURN;
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
            sales_fv_stamp('{}', p_changed, p_t, p_src), p_fax)
    ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
    RETURNING sales_person_j(p)::text, (p.xmax = 0) INTO o_person, o_created;
END
$$;

-- sales.order.create likewise (store/order.c): the checks of the records
-- the order names, the order and its items, with the plans kept. Its
-- statement log showed parse and plan at half of an order's backend time.
-- o_person_ok, o_org_ok, o_deal_ok: whether they exist (NULL org or deal
-- counts as existing); o_order: the order as store/records.h's
-- SALES_ORDER_J builds it (keep them alike), NULL when one did not exist
-- and nothing was inserted.
CREATE FUNCTION sales_order_create(
    p_id uuid, p_person uuid, p_org uuid, p_deal uuid, p_total bigint, p_currency text,
    p_ordered_at_us bigint, p_items jsonb,
    OUT o_person_ok boolean, OUT o_org_ok boolean, OUT o_deal_ok boolean, OUT o_order text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    r sales_order%ROWTYPE;
BEGIN
    -- a merged id names its survivor (crm_alias)
    o_person_ok := EXISTS (SELECT 1 FROM person WHERE id = crm_alias_of(p_person::text)::uuid);
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

-- sales.activity.log with its person (store/activity.c) likewise: the
-- person and deal checks and the insert. The parameters are
-- sales_store_activity_insert's; o_activity is the activity as
-- store/records.h's SALES_ACTIVITY_J builds it (keep them alike), NULL
-- when the person or the deal did not exist and nothing was inserted.
CREATE FUNCTION sales_activity_log(
    p_id uuid, p_kind smallint, p_subject text, p_body text, p_person uuid, p_deal uuid,
    p_owner text, p_status smallint, p_due_at_us bigint, p_due_in_us bigint, p_outcome text,
    p_next_action text, p_next_action_due_us bigint, p_override_reason text,
    OUT o_person_ok boolean, OUT o_deal_ok boolean, OUT o_activity text)
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- a merged id names its survivor (crm_alias)
    o_person_ok := EXISTS (SELECT 1 FROM person WHERE id = crm_alias_of(p_person::text)::uuid);
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
