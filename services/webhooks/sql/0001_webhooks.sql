-- Webhooks: subscriptions and one delivery row per (subscription, event).
-- The consumers insert deliveries in the transaction that moves their
-- position, so an event is enqueued once, whatever crashes. Instants are
-- bigint microseconds since the Unix epoch, computed by the service (its
-- test clock included); status is the number of crm.v1.WebhookDeliveryStatus
-- (1 pending, 2 failed, 3 delivered).

CREATE TABLE wh_subscription (
    id               uuid    PRIMARY KEY,
    url              text    NOT NULL,
    event_types      text[]  NOT NULL,
    -- The signing secret as given ("whsec_..."): the service needs the key
    -- itself to sign, so it cannot keep a hash of it.
    secret           text    NOT NULL,
    description      text    NOT NULL DEFAULT '',
    enabled          boolean NOT NULL DEFAULT true,
    disabled_reason  text    NOT NULL DEFAULT '',
    -- When the current run of failed attempts began; NULL after a success.
    failing_since_us bigint,
    created_us       bigint  NOT NULL,
    updated_us       bigint  NOT NULL
);
CREATE INDEX wh_subscription_page ON wh_subscription (created_us DESC, id DESC);

CREATE TABLE wh_delivery (
    -- The order of the subscription's queue: the order the events were applied.
    seq              bigserial PRIMARY KEY,
    id               uuid      NOT NULL UNIQUE,
    subscription_id  uuid      NOT NULL REFERENCES wh_subscription ON DELETE CASCADE,
    event_id         text      NOT NULL,
    event_type       text      NOT NULL,
    source           text      NOT NULL,
    sequence         bigint    NOT NULL,
    -- The CloudEvents JSON as sent, rendered once so that every attempt
    -- sends the same bytes.
    body             text      NOT NULL,
    status           smallint  NOT NULL DEFAULT 1 CHECK (status IN (1, 2, 3)),
    attempts         integer   NOT NULL DEFAULT 0,
    next_attempt_us  bigint    NOT NULL,
    created_us       bigint    NOT NULL,
    delivered_us     bigint,
    last_http_status integer   NOT NULL DEFAULT 0,
    last_error       text      NOT NULL DEFAULT '',
    UNIQUE (subscription_id, event_id)
);
-- The head of each subscription's queue, and the delivered ones out of it.
CREATE INDEX wh_delivery_queue ON wh_delivery (subscription_id, seq) WHERE status <> 3;
CREATE INDEX wh_delivery_by_sub ON wh_delivery (subscription_id, seq);
