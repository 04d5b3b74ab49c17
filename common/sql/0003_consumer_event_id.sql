-- The id of the event at each consumer position. Written with the position,
-- in the same transaction as its effects. When the consumer starts, it asks
-- the source again for the event at its position: a different id there means
-- the consumer applied an event the source never wrote (a forgery, or a
-- restore without a new epoch), and it stops applying that source until an
-- operator resolves the conflict (docs/operations.md).
ALTER TABLE crm_consumer_position ADD COLUMN event_id text;
