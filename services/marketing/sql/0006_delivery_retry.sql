-- Email delivery retries: a transient failure (a 4xx reply, no connection,
-- a timeout) leaves the delivery pending (status 0) until next_attempt_at,
-- with attempts counted; a permanent one (a 5xx reply) or too many
-- attempts makes it failed (status 2).
ALTER TABLE delivery
    ADD COLUMN attempts        int NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz;
