-- crm_person_email_sync (0011) for the common case, a new person with one
-- email (every sales.person.register with an email, every ticket's new
-- requester, most peers' person events): one VALUES row instead of
-- unnest(), DISTINCT and a filter over a one-element array. The trigger
-- runs once a person row, inside the set-based inserts of sales and
-- support, and was their costliest part (issue 15, eleventh session:
-- backend CPU of a new person with its ticket 142 against 121 us, four
-- rounds each; bench/README, "Issue 15: register's tail and ticket.open").
-- Same rows as before: an '[erased]' or NULL email adds none, a row
-- already there is left alone. Every other case (an update, a delete, a
-- person with several or no emails) is 0011's code unchanged.
CREATE OR REPLACE FUNCTION crm_person_email_sync() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    one_email text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF cardinality(NEW.emails) = 1 THEN
            one_email := NEW.emails[array_lower(NEW.emails, 1)];
            IF one_email <> '[erased]' THEN
                INSERT INTO person_email (email, person_id) VALUES (one_email, NEW.id)
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END IF;
    END IF;
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
