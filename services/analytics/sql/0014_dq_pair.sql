-- The other record of a published duplicate finding. Which record of a pair
-- is the suspect follows first_seen (R_data_quality.sql), and first_seen
-- moves earlier when an older event of another source arrives late; the
-- pair would then be published again with the roles swapped, making a
-- second task for the same two people. The scan publishes a pair once
-- (services/analytics/store.c, an_store_dq_claim).
ALTER TABLE an_dq_emitted ADD COLUMN original_id text;
