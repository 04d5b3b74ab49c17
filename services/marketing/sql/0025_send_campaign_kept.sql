-- The send scan's recording statement (store/send.c, mkt_store_send_record)
-- checked every send and delivery it wrote against campaign through a
-- foreign key: a row-level RI trigger that looks the campaign up and locks
-- it (KEY SHARE) once per row, 20,000 lookups per 10,000 decisions, about
-- a tenth of the statement (issue 15, seventh session). What the two keys
-- guaranteed is kept otherwise, for every writer:
--
-- - the referenced side: a campaign is never deleted and never changes its
--   id (the service does neither: a campaign is cancelled, status 6). The
--   triggers below make that a rule, as the consent ledger's do for its
--   rows (0015_consent.sql), so a campaign that existed when a send or a
--   delivery was written exists for as long as they do. That is also why
--   no row lock on the campaign is needed any more: the RI check's KEY
--   SHARE lock only kept a concurrent DELETE or key change from slipping in
--   before the referencing row committed, and neither can happen now;
-- - the referencing side: the recording statement checks each distinct
--   campaign of its batch (one lookup per campaign, not per row) and
--   crm-marketing fails the scan's work, so that nothing of it is kept,
--   when one is missing. The scan is the only statement that inserts into
--   send and delivery (0023_send_scan.sql); a merge re-points their
--   customer_id only, never campaign_id.
ALTER TABLE send DROP CONSTRAINT send_campaign_id_fkey;
ALTER TABLE delivery DROP CONSTRAINT delivery_campaign_id_fkey;

CREATE FUNCTION mkt_campaign_kept() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a campaign is never deleted and keeps its id: cancel it instead'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER campaign_kept BEFORE DELETE ON campaign
    FOR EACH ROW EXECUTE FUNCTION mkt_campaign_kept();
CREATE TRIGGER campaign_kept_id BEFORE UPDATE OF id ON campaign
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION mkt_campaign_kept();
CREATE TRIGGER campaign_no_truncate BEFORE TRUNCATE ON campaign
    FOR EACH STATEMENT EXECUTE FUNCTION mkt_campaign_kept();
