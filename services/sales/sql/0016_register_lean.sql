-- sales.person.register: less work per row (issue 15, seventh session).
-- pg_stat_statements and track_functions on a scratch cluster, 2,000
-- registrations of new emails (0015): 0.25 ms of execution a call, 0.13
-- of it the insert with its triggers; about 1,000 bytes of WAL.
--
-- * The new person's JSON, 0.02 to 0.03 ms a row (jsonb_build_object of
--   seventeen values, each typed at every call, then written out as text
--   for the service to parse back): everything in it but the instants
--   is what the service sent. A new person now returns only its creation
--   instant, and the service builds the reply and the event from the
--   values it sent (handlers/person.c); the JSON is built only for a
--   person that was there already (the email's, or the id's).
-- * person_organization held an entry for every person, most of them
--   NULL (a registration without an organisation): one btree insert, two
--   buffers and about 100 bytes of WAL a registration, for an index whose
--   only readers look for one organisation's people (store/org.c) and
--   therefore never for NULL. It now holds the people who have one.
DROP INDEX person_organization;
CREATE INDEX person_organization ON person (organization_id) WHERE organization_id IS NOT NULL;

-- As in 0015 but for the results: o_person is NULL when the person was
-- inserted (o_created) as sent, and o_now_us is its created_at (=
-- updated_at) in microseconds; when the id existed already, o_person is
-- that row's JSON and o_created false. The row's JSON comes back too when
-- the crm_alias trigger put the new row under another id (p_id a merged
-- person's, whose survivor is not there: no such path is known, but then
-- the row is not what was sent).
DROP FUNCTION sales_person_register(uuid, smallint, text, text[], text[], uuid, text, text, text,
                                    text, text[], text, jsonb, text[], bigint, text, text);
CREATE FUNCTION sales_person_register(
    p_id uuid, p_kind smallint, p_name text, p_emails text[], p_phones text[], p_org uuid,
    p_title text, p_address text, p_country text, p_industry text, p_tags text[], p_owner text,
    p_custom_fields jsonb, p_changed text[], p_t bigint, p_src text, p_fax text,
    OUT o_found text, OUT o_org_ok boolean, OUT o_person text, OUT o_created boolean,
    OUT o_now_us bigint)
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
    INSERT INTO person AS p (id, kind, name, emails, phones, organization_id, title, address,
                             country, industry, tags, owner, custom_fields, registered_by,
                             field_versions, fax)
    VALUES (p_id, p_kind, p_name, p_emails, p_phones, p_org, p_title, p_address, p_country,
            p_industry, p_tags, p_owner, p_custom_fields, p_src,
            COALESCE((SELECT jsonb_object_agg(c, jsonb_build_array(p_t, p_src))
                        FROM unnest(p_changed) AS c), '{}'), p_fax)
    ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
    RETURNING CASE WHEN p.xmax = 0 AND p.id = p_id THEN NULL ELSE sales_person_j(p)::text END,
              (p.xmax = 0), sales_us(p.created_at)
         INTO o_person, o_created, o_now_us;
END
$$;
