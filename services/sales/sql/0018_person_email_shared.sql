-- Sales' person triggers call the shared crm_person_email_sync() (common
-- 0011, the same body as 0013's own), which support uses too: one
-- definition of how person_email follows person.
CREATE OR REPLACE TRIGGER person_email_insert AFTER INSERT ON person
    FOR EACH ROW WHEN (cardinality(NEW.emails) > 0)
    EXECUTE FUNCTION crm_person_email_sync();
CREATE OR REPLACE TRIGGER person_email_update AFTER UPDATE OF emails, id ON person
    FOR EACH ROW WHEN (OLD.emails IS DISTINCT FROM NEW.emails OR OLD.id <> NEW.id)
    EXECUTE FUNCTION crm_person_email_sync();
CREATE OR REPLACE TRIGGER person_email_delete AFTER DELETE ON person
    FOR EACH ROW WHEN (cardinality(OLD.emails) > 0)
    EXECUTE FUNCTION crm_person_email_sync();

DROP FUNCTION sales_person_email_sync();
