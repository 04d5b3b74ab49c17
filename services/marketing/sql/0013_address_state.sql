-- The state of each address marketing sends to. A hard bounce (a 5xx
-- reply), or MARKETING_SOFT_BOUNCES emails in a row given up after
-- transient failures, marks it undeliverable: later sends to it are
-- suppressed address_bounced. A delivered email resets the soft count.
CREATE TABLE address_state (
    address       text        PRIMARY KEY,
    channel       int         NOT NULL,
    undeliverable boolean     NOT NULL DEFAULT false,
    soft_bounces  int         NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now()
);
