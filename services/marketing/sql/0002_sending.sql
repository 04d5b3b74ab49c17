-- Sending: a message template per campaign and channel, the contact-policy
-- decision per recipient, and the deliveries handed to channel adapters.

CREATE TABLE message_template (
    campaign_id uuid        NOT NULL REFERENCES campaign,
    channel     int         NOT NULL,
    subject     text        NOT NULL DEFAULT '',
    body        text        NOT NULL CHECK (body <> ''),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, channel)
);

-- The current decision per recipient (SendStatus): a DEFERRED one is
-- decided again once due_at has passed.
CREATE TABLE send (
    campaign_id uuid        NOT NULL REFERENCES campaign,
    customer_id uuid        NOT NULL,
    status      int         NOT NULL,
    channel     int         NOT NULL DEFAULT 0,
    reason      text        NOT NULL DEFAULT '',
    due_at      timestamptz,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE INDEX send_deferred ON send (due_at) WHERE status = 3;

-- One message per SENT decision. Email (channel 1) goes to the SMTP relay:
-- status 0 pending, 1 delivered, 2 failed. Other channels have no gateway
-- here: status 3 = recorded for staff or an external gateway to pick up.
CREATE TABLE delivery (
    id          uuid        PRIMARY KEY,
    campaign_id uuid        NOT NULL REFERENCES campaign,
    customer_id uuid        NOT NULL,
    channel     int         NOT NULL,
    address     text        NOT NULL DEFAULT '',
    subject     text        NOT NULL DEFAULT '',
    body        text        NOT NULL,
    status      int         NOT NULL,
    error       text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_pending ON delivery (created_at) WHERE status = 0;
CREATE INDEX delivery_campaign ON delivery (campaign_id);
