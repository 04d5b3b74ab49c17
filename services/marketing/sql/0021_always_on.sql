-- Always-on campaigns: while running, whoever enters this segment becomes
-- a recipient in the transaction that changed the membership.
ALTER TABLE campaign ADD COLUMN always_on_segment_id uuid REFERENCES segment ON DELETE SET NULL;
CREATE INDEX campaign_always_on ON campaign (always_on_segment_id)
    WHERE always_on_segment_id IS NOT NULL;
