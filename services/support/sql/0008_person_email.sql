-- The requester's lookup by email at a cost that does not grow with the
-- table (issue 15, seventh session), as sales has done since its 0013.
-- support.ticket.open found an unknown requester's person through the
-- GIN index on person.emails (0007 took its pending list away, so each
-- lookup was a probe of the index, but every insert still went through
-- GIN's entry tree). person_email holds one row per (email, person): a
-- btree probe finds the people of an email whatever the table's size, and
-- an insert is one btree entry per email.
--
-- Emails here are what the services sent (sales normalises them, and
-- support.ticket.open its requester's), matched exactly as `@>` did. The
-- key is the pair because a peer's events may give two people one email;
-- the lookup takes the oldest, as before.
CREATE TABLE person_email (
    email     text NOT NULL,
    person_id uuid NOT NULL,
    PRIMARY KEY (email, person_id)
);

-- Kept by the person row itself through the shared trigger function
-- (common 0011, as sales' triggers): a ticket's new requester and a peer's
-- person events, a merge and erasure keep it true without code of their own.
CREATE TRIGGER person_email_insert AFTER INSERT ON person
    FOR EACH ROW WHEN (cardinality(NEW.emails) > 0)
    EXECUTE FUNCTION crm_person_email_sync();
CREATE TRIGGER person_email_update AFTER UPDATE OF emails, id ON person
    FOR EACH ROW WHEN (OLD.emails IS DISTINCT FROM NEW.emails OR OLD.id <> NEW.id)
    EXECUTE FUNCTION crm_person_email_sync();
CREATE TRIGGER person_email_delete AFTER DELETE ON person
    FOR EACH ROW WHEN (cardinality(OLD.emails) > 0)
    EXECUTE FUNCTION crm_person_email_sync();

INSERT INTO person_email (email, person_id)
SELECT DISTINCT e, p.id FROM person p, unnest(p.emails) e WHERE e <> '[erased]'
ON CONFLICT DO NOTHING;

-- As in 0007, but for the lookup by email: the email's person ids from
-- person_email's key, then, only when there are some, the oldest of those
-- people (two statements, so that no generic plan can walk person in
-- created order instead; sales' 0015 found that trap).
CREATE OR REPLACE FUNCTION support_open_context(p_customer uuid, p_email text,
                                                p_priority smallint, OUT o_person text,
                                                OUT o_policy text, OUT o_calendar text,
                                                OUT o_zone_base integer,
                                                OUT o_zone_change_us text,
                                                OUT o_zone_change_off text)
    LANGUAGE plpgsql STABLE
    SET enable_seqscan = off
    AS $$
DECLARE
    ids uuid[];
    f uuid;
BEGIN
    IF p_customer IS NOT NULL THEN
        f := p_customer;
    ELSIF p_email IS NOT NULL THEN
        SELECT array_agg(e.person_id) INTO ids FROM person_email e WHERE e.email = p_email;
        IF ids IS NOT NULL THEN
            WITH c AS MATERIALIZED (SELECT p.id, p.created_us FROM person p WHERE p.id = ANY (ids))
            SELECT c.id INTO f FROM c ORDER BY c.created_us, c.id LIMIT 1;
        END IF;
    END IF;
    IF f IS NOT NULL THEN
        SELECT jsonb_build_object('id', p.id, 'name', p.name, 'emails', p.emails,
                   'registered_by', p.registered_by, 'created_at_us', p.created_us,
                   'updated_at_us', p.updated_us)::text
          INTO o_person FROM person p WHERE p.id = f;
    END IF;
    SELECT jsonb_build_object('priority', s.priority,
               'first_response_minutes', s.first_response_minutes,
               'resolution_minutes', s.resolution_minutes)::text
      INTO o_policy FROM sla_policy s WHERE s.priority = p_priority;
    SELECT c.doc::text, c.zone_base, c.zone_change_us::text, c.zone_change_off::text
      INTO o_calendar, o_zone_base, o_zone_change_us, o_zone_change_off
      FROM sla_calendar c WHERE c.id = 1;
END
$$;

-- Nothing searches person.emails through its index any more: the GIN
-- index only cost every insert.
DROP INDEX person_emails;
