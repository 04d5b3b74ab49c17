-- Who caused each event (the envelope's `actor`: a staff principal for a
-- command, the service itself for work a consumed event or a timer caused),
-- kept beside the serialised event so that an operator can ask the outbox
-- "who changed what" with SQL, without decoding protobuf. Rows written
-- before this column existed hold '' (their events carry no actor either).
ALTER TABLE crm_outbox ADD COLUMN actor text NOT NULL DEFAULT '';
