-- Merged people (sales.person.merge; docs/architecture.md, "Personal
-- data", "Merge"): when, by whom and why a record was merged into
-- another. Holds no personal data. The dropped id is in crm_alias too
-- (common/sql/0006_alias.sql), which is what later writes consult.
CREATE TABLE person_merge (
    dropped_id  uuid        PRIMARY KEY,
    survivor_id uuid        NOT NULL,
    merged_at   timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,
    reason      text        NOT NULL DEFAULT ''
);
CREATE INDEX person_merge_survivor ON person_merge (survivor_id);

-- Every column that names a person: a write naming a dropped id lands on
-- its survivor (a peer's late person event, an order or activity sent
-- with the old id).
SELECT crm_alias_attach('person', 'id');
SELECT crm_alias_attach('deal', 'person_id');
SELECT crm_alias_attach('lead', 'person_id');
SELECT crm_alias_attach('sales_order', 'person_id');
SELECT crm_alias_attach('activity', 'person_id');
SELECT crm_alias_attach('contact_opt_out', 'person_id');
SELECT crm_alias_attach('contact_consent', 'person_id');
SELECT crm_alias_attach('followup_task', 'person_id');

-- The merge of person `drop_id` into `keep_id`, whole, in the caller's
-- transaction; the caller has locked both rows and checked that both
-- exist, differ and are not erased. The survivor keeps its id and every
-- field it has set; an empty one (name, title, address, fax, country,
-- industry, owner, organisation) takes the dropped record's value;
-- emails, phones and tags are the union, the survivor's first (so its
-- primary email stays first); custom fields the survivor lacks (by key)
-- are added; it is a customer since the earlier of the two. Consent per
-- purpose: the later decision of the two wins; opt-outs: the union (the
-- stricter). Orders, deals, leads, activities and follow-up tasks are
-- re-pointed. `alias_ids` are the ids that resolve to the survivor from
-- now on (the dropped id and the ids the customer-id rule derives from its
-- emails). Returns the rows re-pointed.
CREATE FUNCTION sales_merge_person(keep_id uuid, drop_id uuid, alias_ids text[], who text,
                                   why text) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    d person%ROWTYPE; n bigint := 0; k bigint; a text;
BEGIN
    SELECT * INTO d FROM person WHERE id = drop_id;
    FOREACH a IN ARRAY COALESCE(alias_ids, '{}') LOOP
        -- an id the rule derives that is a third person's stays theirs
        CONTINUE WHEN a <> drop_id::text AND EXISTS (SELECT 1 FROM person WHERE id::text = a);
        PERFORM crm_alias_add(a, keep_id::text);
    END LOOP;
    INSERT INTO person_merge (dropped_id, survivor_id, actor, reason)
    VALUES (drop_id, keep_id, who, why);

    UPDATE deal SET person_id = keep_id WHERE person_id = drop_id;
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    UPDATE lead SET person_id = keep_id WHERE person_id = drop_id;
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    UPDATE sales_order SET person_id = keep_id WHERE person_id = drop_id;
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    UPDATE activity SET person_id = keep_id WHERE person_id = drop_id;
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    UPDATE followup_task SET person_id = keep_id WHERE person_id = drop_id;
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    INSERT INTO contact_consent AS c (person_id, purpose, granted, at, updated_at)
    SELECT keep_id, purpose, granted, at, updated_at FROM contact_consent WHERE person_id = drop_id
    ON CONFLICT (person_id, purpose) DO UPDATE SET granted = EXCLUDED.granted, at = EXCLUDED.at,
        updated_at = now()
    WHERE c.at < EXCLUDED.at;
    DELETE FROM contact_consent WHERE person_id = drop_id;
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    INSERT INTO contact_opt_out AS o (person_id, channels)
    SELECT keep_id, channels FROM contact_opt_out WHERE person_id = drop_id
    ON CONFLICT (person_id) DO UPDATE SET channels = ARRAY(SELECT DISTINCT x FROM unnest(o.channels
        || EXCLUDED.channels) x ORDER BY x), updated_at = now();
    DELETE FROM contact_opt_out WHERE person_id = drop_id;
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;

    DELETE FROM person WHERE id = drop_id;
    UPDATE person p SET
        name = CASE WHEN p.name <> '' THEN p.name ELSE d.name END,
        title = CASE WHEN p.title <> '' THEN p.title ELSE d.title END,
        address = CASE WHEN p.address <> '' THEN p.address ELSE d.address END,
        fax = CASE WHEN p.fax <> '' THEN p.fax ELSE d.fax END,
        country = CASE WHEN p.country <> '' THEN p.country ELSE d.country END,
        industry = CASE WHEN p.industry <> '' THEN p.industry ELSE d.industry END,
        owner = CASE WHEN p.owner <> '' THEN p.owner ELSE d.owner END,
        organization_id = COALESCE(p.organization_id, d.organization_id),
        emails = p.emails || ARRAY(SELECT e FROM unnest(d.emails) WITH ORDINALITY u(e, o)
                                    WHERE NOT e = ANY (p.emails) ORDER BY o),
        phones = p.phones || ARRAY(SELECT e FROM unnest(d.phones) WITH ORDINALITY u(e, o)
                                    WHERE NOT e = ANY (p.phones) ORDER BY o),
        tags = p.tags || ARRAY(SELECT e FROM unnest(d.tags) WITH ORDINALITY u(e, o)
                                WHERE NOT e = ANY (p.tags) ORDER BY o),
        custom_fields = p.custom_fields || COALESCE((SELECT jsonb_agg(f) FROM
            jsonb_array_elements(d.custom_fields) f WHERE NOT EXISTS (SELECT 1 FROM
            jsonb_array_elements(p.custom_fields) g WHERE g ->> 'key' = f ->> 'key')), '[]'),
        created_at = least(p.created_at, d.created_at),
        updated_at = now()
    WHERE p.id = keep_id;
    RETURN n;
END
$$;
