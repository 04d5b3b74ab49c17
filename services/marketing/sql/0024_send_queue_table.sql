-- The send scan's queue as its own narrow table (issue 15: decisions at
-- the database's speed). Since 0009 a decision set campaign_recipient's
-- `decided` flag: an UPDATE that cannot be HOT (the partial index of the
-- undecided depends on the flag), so every decision wrote a new recipient
-- tuple and two index entries. A decision now deletes its row from
-- send_queue instead, which only marks the tuple deleted: measured on the
-- recording statement, about 6 us of PostgreSQL CPU less per decision.
--
-- A row here is a recipient that was never decided; a deferred one comes
-- back through send (send_deferred), as before. The foreign key keeps the
-- queue a subset of the recipients through a merge: re-pointing a
-- recipient to the survivor moves its queue row (ON UPDATE CASCADE), and
-- the dropped twin of a survivor's recipient takes its queue row with it
-- (ON DELETE CASCADE), so a survivor decided before is not decided again.
CREATE TABLE send_queue (
    campaign_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    PRIMARY KEY (campaign_id, customer_id),
    FOREIGN KEY (campaign_id, customer_id) REFERENCES campaign_recipient
        ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO send_queue (campaign_id, customer_id)
    SELECT campaign_id, customer_id FROM campaign_recipient WHERE NOT decided;

-- Every recipient starts undecided, whoever adds it (a target command, a
-- segment, an always-on campaign, a follow-up step): one statement-level
-- insert of the statement's new rows, as the column's default did.
CREATE FUNCTION mkt_send_enqueue() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO send_queue (campaign_id, customer_id)
        SELECT campaign_id, customer_id FROM added;
    RETURN NULL;
END
$$;
CREATE TRIGGER send_enqueue AFTER INSERT ON campaign_recipient
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION mkt_send_enqueue();

DROP INDEX campaign_recipient_undecided;
ALTER TABLE campaign_recipient DROP COLUMN decided;
