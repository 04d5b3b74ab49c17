-- The people of an email, kept by the person row itself (issue 15). A
-- service that finds people by email keeps `person_email (email text,
-- person_id uuid)` beside its `person (id uuid, emails text[])` and points
-- its person triggers here, so every path that writes emails keeps the
-- table true without code of its own: a register, a ticket's new requester
-- or a peer's person events (INSERT, or UPDATE through ON CONFLICT), an
-- update or a merge (UPDATE of emails or id), a merge's dropped record
-- (DELETE), and erasure (its emails become '[erased]', which is no one's
-- email: those rows go, none is added). An email the erasure scrub
-- rewrote in this table and in person.emails alike stays consistent in
-- either order: the row of the old value is deleted only if it still
-- exists, and the new value's row is added only if missing.
--
-- Sales (its 0013, then 0018) and support (its 0008) use it; the other
-- services have no such table and never call it (PL/pgSQL resolves the
-- names only when it runs).
CREATE FUNCTION crm_person_email_sync() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM person_email WHERE email = ANY (OLD.emails) AND person_id = OLD.id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM person_email
         WHERE email = ANY (OLD.emails) AND person_id = OLD.id
           AND (NEW.id <> OLD.id OR NOT email = ANY (NEW.emails));
    END IF;
    INSERT INTO person_email (email, person_id)
    SELECT DISTINCT e, NEW.id FROM unnest(NEW.emails) e WHERE e <> '[erased]'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
