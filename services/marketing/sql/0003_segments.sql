-- Segments: the person attributes and purchase history their rules read.

ALTER TABLE person
    ADD COLUMN kind     int    NOT NULL DEFAULT 0,
    ADD COLUMN country  text   NOT NULL DEFAULT '',
    ADD COLUMN industry text   NOT NULL DEFAULT '',
    ADD COLUMN tags     text[] NOT NULL DEFAULT '{}';

-- Orders from sales' order.placed events.
CREATE TABLE purchase (
    order_id      uuid        PRIMARY KEY,
    customer_id   uuid        NOT NULL,
    product_codes text[]      NOT NULL DEFAULT '{}',
    total_minor   bigint      NOT NULL,
    currency      text        NOT NULL,
    ordered_at    timestamptz NOT NULL
);
CREATE INDEX purchase_customer ON purchase (customer_id, ordered_at);

CREATE TABLE segment (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CHECK (name <> ''),
    rules      jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Members as last evaluated: the difference with the current matches is
-- what membership_changed events announce.
CREATE TABLE segment_member (
    segment_id  uuid        NOT NULL REFERENCES segment ON DELETE CASCADE,
    customer_id uuid        NOT NULL,
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (segment_id, customer_id)
);
