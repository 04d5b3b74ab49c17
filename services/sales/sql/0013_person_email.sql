-- The person lookup by email at a cost that does not grow with the table
-- (issue 15). Until now every lookup searched person.emails through a GIN
-- index: each new person's emails went to the index's pending list, which
-- lookups read whole and the inserting backend flushed now and then, and
-- with "ORDER BY created_at LIMIT 1" the planner could walk every person
-- instead. person_email holds one row per (normalised email, person): a
-- btree probe finds the people of an email, whatever the table's size.
--
-- An email normally names one person (register answers the known person,
-- update refuses an email another person has), but a peer's person event
-- applies last-writer-wins without that check, so two people may share an
-- email; the key is therefore the pair, and a lookup takes the oldest
-- person of the email, as before.
CREATE TABLE person_email (
    email     text NOT NULL,
    person_id uuid NOT NULL,
    PRIMARY KEY (email, person_id)
);

-- Kept by the person row itself, so every path that writes emails keeps it
-- true without code of its own: register and a peer's events (INSERT),
-- update and merge (UPDATE of emails), merge's dropped record (DELETE),
-- erasure (its emails become '[erased]', which is no one's email: those
-- rows go, none is added). An email the erasure scrub rewrote in this
-- table and in person.emails alike stays consistent in either order: the
-- row of the old value is deleted only if it still exists, and the new
-- value's row is added only if missing.
CREATE FUNCTION sales_person_email_sync() RETURNS trigger
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

CREATE TRIGGER person_email_insert AFTER INSERT ON person
    FOR EACH ROW WHEN (cardinality(NEW.emails) > 0)
    EXECUTE FUNCTION sales_person_email_sync();
CREATE TRIGGER person_email_update AFTER UPDATE OF emails, id ON person
    FOR EACH ROW WHEN (OLD.emails IS DISTINCT FROM NEW.emails OR OLD.id <> NEW.id)
    EXECUTE FUNCTION sales_person_email_sync();
CREATE TRIGGER person_email_delete AFTER DELETE ON person
    FOR EACH ROW WHEN (cardinality(OLD.emails) > 0)
    EXECUTE FUNCTION sales_person_email_sync();

INSERT INTO person_email (email, person_id)
SELECT DISTINCT e, p.id FROM person p, unnest(p.emails) e WHERE e <> '[erased]'
ON CONFLICT DO NOTHING;

-- Nothing searches person.emails any more (store/person.c,
-- SALES_PERSON_BY_EMAIL): the GIN index only cost every insert.
DROP INDEX person_emails;

-- The versions after a change (0001_sales.sql), as PL/pgSQL: a LANGUAGE
-- sql function with a subquery cannot be inlined, so it was planned again
-- in every statement that stamped a person (every registration); PL/pgSQL
-- keeps its plan for the session.
CREATE OR REPLACE FUNCTION sales_fv_stamp(fv jsonb, changed text[], t bigint, src text)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    RETURN COALESCE(fv, '{}'::jsonb) || COALESCE(
        (SELECT jsonb_object_agg(f, jsonb_build_array(t, src))
           FROM unnest(changed) AS f
          WHERE sales_fv_newer(fv, f, t, src)), '{}'::jsonb);
END
$$;
