-- A merged person is decided once per campaign (issue 15's follow-up;
-- docs/architecture.md, "Merge"). A merge re-points the dropped record's
-- send decision to the survivor (crm_alias_repoint keeps the survivor's own
-- when both have one). Until now the survivor's own row in send_queue
-- stayed where only the dropped record had been decided, so the send scan
-- decided the survivor again for that campaign, and sent a second message
-- (once the campaign had a decision of either record). The rule, for both
-- orders alike: the first decision of either record stands for the merged
-- person; a deferred one comes back through send_deferred when due, as any
-- deferral. The consent ledger, the preference and the frequency cap's
-- count (deliveries, re-pointed) are merged as before; only a second
-- decision goes.
--
-- With it, a recipient in send_queue never has a send for its campaign
-- (the recording statement deletes the queue row in the statement that
-- writes the send; a merge keeps it so now), which the recording
-- statement's ON CONFLICT on send still needs for deferrals only.
--
-- The function itself is in R_merge.sql.

-- Survivors that a merge left queued beside a decision before this
-- migration: their campaign was decided for them already.
DELETE FROM send_queue q USING send s
 WHERE s.campaign_id = q.campaign_id AND s.customer_id = q.customer_id;
