-- Campaign mail (issue 13, 16): the Message-ID each email went out with
-- (made of the delivery id, so a retry sends the same one), for matching
-- replies and bounces; and the tracking tokens already used, by the
-- digest of their signed fields, so that each records its response once.
ALTER TABLE delivery ADD COLUMN message_id text;
CREATE UNIQUE INDEX delivery_message_id ON delivery (message_id) WHERE message_id IS NOT NULL;
CREATE TABLE track_use (
    digest      text        PRIMARY KEY,
    delivery_id uuid        NOT NULL,
    kind        int         NOT NULL,
    used_at     timestamptz NOT NULL DEFAULT now()
);
