-- The merge's cost at scale (issue 15's follow-up). A merge runs holding the
-- merge guard exclusively, so every batch of the service waits behind it;
-- its re-pointing found the dropped record's rows by sequential scans where
-- no index leads with the customer: send (only the partial send_customer),
-- segment_member (keyed by segment first) and conversion, and the alias
-- loop compared person's id as text. Now each probes by key: send and
-- segment_member through their parents (every send's campaign exists,
-- 0025_send_campaign_kept.sql; every member's segment, by its foreign key),
-- so one primary-key probe a campaign or segment, whatever the number of
-- recipients, and no new index on the send decision's path;
-- conversion (written once an attributed order) gets an index by customer;
-- an alias id in uuid's text form probes person's key. crm_alias_repoint
-- (common/) is unchanged: R_merge.sql writes its two statements out.
--
-- The function itself is in R_merge.sql.

CREATE INDEX conversion_customer ON conversion (customer_id);
