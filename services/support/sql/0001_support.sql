-- Support: people it knows, tickets with their conversation and SLA clock,
-- SLA policies and the business calendar. Enumerations are stored as the
-- numbers of their crm.v1 enums (support.proto); strings "not given" are
-- '' as in protobuf; instants are bigint microseconds since the Unix epoch
-- (the handlers compute SLA instants in C, rules.c, and store them as is).

CREATE FUNCTION support_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

-- People: the ones support registered itself and the ones other services
-- registered (upserted by id from their person events).
CREATE TABLE person (
    id            uuid   PRIMARY KEY,
    name          text   NOT NULL DEFAULT '',
    emails        text[] NOT NULL DEFAULT '{}',
    registered_by text   NOT NULL,
    -- Contact preferences from marketing (lower-case crm.v1.Channel names).
    do_not_contact    text[] NOT NULL DEFAULT '{}',
    preferred_channel text   NOT NULL DEFAULT '',
    created_us    bigint NOT NULL,
    updated_us    bigint NOT NULL
);
CREATE INDEX person_emails ON person USING gin (emails);

CREATE TABLE ticket (
    id                  uuid     PRIMARY KEY,
    customer_id         uuid     NOT NULL REFERENCES person (id),
    requester_email     text     NOT NULL DEFAULT '',
    requester_name      text     NOT NULL DEFAULT '',
    channel             smallint NOT NULL,
    type                smallint NOT NULL,
    priority            smallint NOT NULL,
    status              smallint NOT NULL,
    assignee            text     NOT NULL DEFAULT '',
    team                text     NOT NULL DEFAULT '',
    tags                text[]   NOT NULL DEFAULT '{}',
    subject             text     NOT NULL,
    description         text     NOT NULL DEFAULT '',
    resolution_category text     NOT NULL DEFAULT '',
    resolution_text     text     NOT NULL DEFAULT '',
    rating              smallint NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    rating_comment      text     NOT NULL DEFAULT '',
    rated_us            bigint   NOT NULL DEFAULT 0,
    fr_target_min       integer  NOT NULL,
    res_target_min      integer  NOT NULL,
    fr_due_us           bigint   NOT NULL DEFAULT 0,
    res_due_us          bigint   NOT NULL DEFAULT 0,
    fr_risk_us          bigint   NOT NULL DEFAULT 0,
    res_risk_us         bigint   NOT NULL DEFAULT 0,
    first_responded_us  bigint   NOT NULL DEFAULT 0,
    resolved_us         bigint   NOT NULL DEFAULT 0,
    paused_us           bigint   NOT NULL DEFAULT 0,
    fr_remaining_us     bigint   NOT NULL DEFAULT 0,
    res_remaining_us    bigint   NOT NULL DEFAULT 0,
    fr_at_risk          boolean  NOT NULL DEFAULT false,
    fr_breached         boolean  NOT NULL DEFAULT false,
    res_at_risk         boolean  NOT NULL DEFAULT false,
    res_breached        boolean  NOT NULL DEFAULT false,
    created_us          bigint   NOT NULL,
    updated_us          bigint   NOT NULL,
    -- The earliest SLA instant still to be raised: not raised yet, not
    -- met before it, and not after the clock stopped (NULL: none). The
    -- scan looks only at tickets whose sla_next_us has passed.
    sla_next_us         bigint GENERATED ALWAYS AS (LEAST(
        CASE WHEN NOT fr_at_risk AND fr_risk_us > 0
              AND (first_responded_us = 0 OR first_responded_us > fr_risk_us)
              AND (paused_us = 0 OR paused_us > fr_risk_us) THEN fr_risk_us END,
        CASE WHEN NOT fr_breached AND fr_due_us > 0
              AND (first_responded_us = 0 OR first_responded_us > fr_due_us)
              AND (paused_us = 0 OR paused_us > fr_due_us) THEN fr_due_us END,
        CASE WHEN NOT res_at_risk AND res_risk_us > 0
              AND (paused_us = 0 OR paused_us > res_risk_us) THEN res_risk_us END,
        CASE WHEN NOT res_breached AND res_due_us > 0
              AND (paused_us = 0 OR paused_us > res_due_us) THEN res_due_us END)) STORED
);
CREATE INDEX ticket_customer ON ticket (customer_id);
CREATE INDEX ticket_page ON ticket (created_us, id);
CREATE INDEX ticket_sla_next ON ticket (sla_next_us) WHERE sla_next_us IS NOT NULL;

CREATE TABLE ticket_message (
    id         uuid     PRIMARY KEY,
    ticket_id  uuid     NOT NULL REFERENCES ticket (id),
    kind       smallint NOT NULL,
    author     text     NOT NULL DEFAULT '',
    body       text     NOT NULL,
    created_us bigint   NOT NULL
);
CREATE INDEX ticket_message_ticket ON ticket_message (ticket_id, created_us);

-- Targets in business minutes, one policy per priority (1 low .. 4 urgent).
CREATE TABLE sla_policy (
    priority               smallint PRIMARY KEY CHECK (priority BETWEEN 1 AND 4),
    first_response_minutes integer  NOT NULL CHECK (first_response_minutes > 0),
    resolution_minutes     integer  NOT NULL CHECK (resolution_minutes > 0)
);
INSERT INTO sla_policy VALUES
    (1, 960, 4800),  -- low: 2 and 10 business days of 8 h
    (2, 480, 2400),  -- normal: 1 and 5 days
    (3, 240, 960),   -- high: 4 h and 2 days
    (4, 60, 240);    -- urgent: 1 h and 4 h

-- The business calendar, one row, as a BusinessCalendar JSON object.
CREATE TABLE sla_calendar (
    id  smallint PRIMARY KEY CHECK (id = 1),
    doc jsonb    NOT NULL
);
INSERT INTO sla_calendar VALUES (1, '{"utc_offset_minutes": 0, "holidays": [], "hours": [
    {"weekday": 1, "open_minute": 540, "close_minute": 1020},
    {"weekday": 2, "open_minute": 540, "close_minute": 1020},
    {"weekday": 3, "open_minute": 540, "close_minute": 1020},
    {"weekday": 4, "open_minute": 540, "close_minute": 1020},
    {"weekday": 5, "open_minute": 540, "close_minute": 1020}]}');
