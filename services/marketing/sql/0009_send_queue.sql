-- The send scan's queue. A recipient is `decided` once the scan recorded a
-- decision for it (a deferred one comes back through send_deferred), so a
-- scan reads the next undecided recipients of each running campaign from a
-- partial index, instead of numbering every undecided recipient of every
-- running campaign on each scan (which made a campaign's sending grow with
-- the square of its size).
ALTER TABLE campaign_recipient ADD COLUMN decided boolean NOT NULL DEFAULT false;
UPDATE campaign_recipient r SET decided = true
 WHERE EXISTS (SELECT 1 FROM send s
                WHERE s.campaign_id = r.campaign_id AND s.customer_id = r.customer_id);
CREATE INDEX campaign_recipient_undecided ON campaign_recipient (campaign_id, customer_id)
    WHERE NOT decided;
-- The throttle counts a campaign's deliveries of the last minute.
CREATE INDEX delivery_campaign_recent ON delivery (campaign_id, created_at);
