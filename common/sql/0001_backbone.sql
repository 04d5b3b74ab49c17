-- The event backbone's tables, in every service's database.

-- One row: the head of this service's stream. Writers lock it (FOR UPDATE)
-- for the length of their transaction, so sequence numbers are dense and
-- handed out in commit order, and a rolled-back transaction leaves no gap.
CREATE TABLE crm_stream (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    source          text    NOT NULL,
    epoch           uuid    NOT NULL,
    epoch_start_seq bigint  NOT NULL DEFAULT 0,
    head_seq        bigint  NOT NULL DEFAULT 0
);

-- Every epoch the stream has had; a new one starts after a restore.
CREATE TABLE crm_stream_epoch (
    epoch      uuid        PRIMARY KEY,
    start_seq  bigint      NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);

-- The transactional outbox: the serialised crm.v1.Event, written in the
-- same transaction as the change it describes. Retention deletes old rows.
CREATE TABLE crm_outbox (
    seq        bigint      PRIMARY KEY,
    type       text        NOT NULL,
    subject    text        NOT NULL DEFAULT '',
    event      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_outbox_created_at ON crm_outbox (created_at);

-- How far the relay has published; lags the head by at most a moment.
-- Kept apart from crm_stream so that it never waits on a writer's lock.
CREATE TABLE crm_relay (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    published_seq bigint  NOT NULL DEFAULT 0
);
INSERT INTO crm_relay DEFAULT VALUES;

-- Replies of applied commands, so a retried command is applied once.
CREATE TABLE crm_idempotency (
    key          text        PRIMARY KEY,
    command      text        NOT NULL,
    request_hash bigint      NOT NULL,
    reply        bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_idempotency_created_at ON crm_idempotency (created_at);

-- Each consumer's position per source, written in the same transaction as
-- the effects of the events up to it: that is what makes effects exactly once.
CREATE TABLE crm_consumer_position (
    consumer   text        NOT NULL,
    source     text        NOT NULL,
    epoch      uuid,
    seq        bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, source)
);

-- Events a consumer's handler rejected; listed and retried by operators.
CREATE TABLE crm_dead_letter (
    id        bigserial   PRIMARY KEY,
    consumer  text        NOT NULL,
    source    text        NOT NULL,
    seq       bigint      NOT NULL,
    type      text        NOT NULL,
    event     bytea       NOT NULL,
    error     text        NOT NULL,
    attempts  integer     NOT NULL DEFAULT 1,
    failed_at timestamptz NOT NULL DEFAULT now(),
    resolved  boolean     NOT NULL DEFAULT false,
    UNIQUE (consumer, source, seq)
);
