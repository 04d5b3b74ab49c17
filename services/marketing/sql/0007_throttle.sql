-- Throttle: at most this many recipients of the campaign decided per
-- minute (0 = no limit), counted against the deliveries it created in the
-- last minute.
ALTER TABLE campaign
    ADD COLUMN throttle_per_minute int NOT NULL DEFAULT 0 CHECK (throttle_per_minute >= 0);
CREATE INDEX delivery_customer ON delivery (customer_id, created_at);
