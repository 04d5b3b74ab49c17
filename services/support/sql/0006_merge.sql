-- Merged people (crm.sales.person.merged.v1; docs/architecture.md,
-- "Personal data", "Merge"). A ticket opened or a person event received
-- for a dropped id after the merge lands on the survivor (crm_alias,
-- common/sql/0006_alias.sql).
SELECT crm_alias_attach('person', 'id');
SELECT crm_alias_attach('ticket', 'customer_id');

-- Applies the merge of `drop_id` into `keep_id` once: false when it was
-- applied before. The dropped person's tickets name the survivor; the
-- survivor's copy keeps its name (the dropped one's when it has none),
-- both records' emails (the survivor's first) and contact preferences (the
-- union of both do-not-contact lists); it is known since the earlier of
-- the two. `alias_ids`: every id that names the survivor now.
CREATE FUNCTION support_merge_person(keep_id uuid, drop_id uuid, alias_ids text[]) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    k text := keep_id::text; d text := drop_id::text; a text; dp person%ROWTYPE;
BEGIN
    IF NOT crm_alias_add(d, k) THEN
        RETURN false;
    END IF;
    FOREACH a IN ARRAY COALESCE(alias_ids, '{}') LOOP
        CONTINUE WHEN a = d OR EXISTS (SELECT 1 FROM person WHERE id::text = a);
        PERFORM crm_alias_add(a, k);
    END LOOP;
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
