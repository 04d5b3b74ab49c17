-- Support signals for segments: support's tickets as its events describe
-- them (consumer marketing.support). A ticket is open while its status
-- (crm.v1.TicketStatus) is not RESOLVED (5) or CLOSED (6); type is a
-- crm.v1.TicketType (5 = COMPLAINT); rating is the ticket's current
-- satisfaction rating (1-5), NULL when it has none.
CREATE TABLE ticket (
    id          uuid        PRIMARY KEY,
    customer_id uuid        NOT NULL,
    type        int         NOT NULL DEFAULT 0,
    status      int         NOT NULL DEFAULT 1,
    tags        text[]      NOT NULL DEFAULT '{}',
    rating      int,
    rated_at    timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_customer ON ticket (customer_id);
