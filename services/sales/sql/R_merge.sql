-- sales_merge_person (0010) with its alias check by person's key. Each
-- alias id was compared with `id::text = a`, which no index serves: a
-- sequential scan of person per alias id, inside the merge, which holds
-- the merge guard exclusively (every batch of the service waits behind
-- it), on the table a million-contact import fills. Marketing's merge had
-- the same check (its 0027, issue 15, eleventh session). The rest of the
-- function is 0010's, unchanged.
-- A repeatable migration (common/src/migrate.c): the function is replaced
-- whole whenever this text changes, instead of a numbered copy.
CREATE OR REPLACE FUNCTION sales_merge_person(keep_id uuid, drop_id uuid, alias_ids text[], who text,
                                   why text) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    d person%ROWTYPE; n bigint := 0; k bigint; a text;
BEGIN
    SELECT * INTO d FROM person WHERE id = drop_id;
    FOREACH a IN ARRAY COALESCE(alias_ids, '{}') LOOP
        -- an id the rule derives that is a third person's stays theirs;
        -- by person's key: only uuid's own text form can equal id::text,
        -- and a cast of anything else would fail (no order of AND's sides
        -- is promised, hence the IF)
        IF a <> drop_id::text AND a ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            CONTINUE WHEN EXISTS (SELECT 1 FROM person WHERE id = a::uuid);
        END IF;
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
