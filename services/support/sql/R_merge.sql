-- support_merge_person (0006) with its alias check by person's key. Each
-- alias id was compared with `id::text = a`, which no index serves: a
-- sequential scan of person per alias id, inside the merge, which holds
-- the merge guard exclusively (every batch of the service waits behind
-- it), on the table every ticket's requester fills. Marketing's merge had
-- the same check (its 0027, issue 15, eleventh session); both call
-- common's crm_alias_add_ids (R_alias.sql) now. The rest of the function
-- is 0006's, unchanged.
-- A repeatable migration (common/src/migrate.c): the function is replaced
-- whole whenever this text changes, instead of a numbered copy.
CREATE OR REPLACE FUNCTION support_merge_person(keep_id uuid, drop_id uuid, alias_ids text[]) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    k text := keep_id::text; d text := drop_id::text; dp person%ROWTYPE;
BEGIN
    IF NOT crm_alias_add(d, k) THEN
        RETURN false;
    END IF;
    PERFORM crm_alias_add_ids(k, d, alias_ids, 'person');
    SELECT * INTO dp FROM person WHERE id = drop_id;
    IF NOT FOUND THEN
        RETURN true; -- support never knew the dropped record
    END IF;
    INSERT INTO person AS p (id, name, emails, registered_by, do_not_contact, preferred_channel,
                             created_us, updated_us)
    VALUES (keep_id, dp.name, dp.emails, dp.registered_by, dp.do_not_contact, dp.preferred_channel,
            dp.created_us, dp.updated_us)
    ON CONFLICT (id) DO UPDATE SET
        name = CASE WHEN p.name <> '' THEN p.name ELSE EXCLUDED.name END,
        emails = p.emails || ARRAY(SELECT e FROM unnest(EXCLUDED.emails) WITH ORDINALITY u(e, o)
                                    WHERE NOT e = ANY (p.emails) ORDER BY o),
        do_not_contact = ARRAY(SELECT DISTINCT x FROM unnest(p.do_not_contact
                                                              || EXCLUDED.do_not_contact) x ORDER BY x),
        preferred_channel = CASE WHEN p.preferred_channel <> '' THEN p.preferred_channel
                                 ELSE EXCLUDED.preferred_channel END,
        created_us = least(p.created_us, EXCLUDED.created_us);
    PERFORM crm_alias_repoint('ticket', 'customer_id', k, d);
    DELETE FROM person WHERE id = drop_id;
    RETURN true;
END
$$;
