-- Analytics: an event log of every customer event from every source, and
-- projections folded from it incrementally, in the transaction that
-- records the event. Events arrive as JSON (crm_pbjson_from_message: proto
-- field names, 64-bit integers as strings, enums by value name, fields at
-- their default value omitted). Reports are queries over these tables at
-- request time (store.c), so they are live by construction.
--
-- Two kinds of tables: projections, which analytics.rebuild truncates and
-- the consumers fill again by replaying every stream from sequence 1; and
-- ledgers of what analytics itself published (an_dq_emitted) or where the
-- last rebuild started (an_replay_until), which a rebuild keeps so that a
-- replay does not publish the same derived event twice.

CREATE FUNCTION an_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
-- NULL for 0 or absent (proto3 "not given").
CREATE FUNCTION an_ts(us text) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN us IS NULL OR us = '' OR us = '0' THEN NULL
                      ELSE 'epoch'::timestamptz + us::bigint * interval '1 microsecond' END $$;
-- An enum value name without its type prefix, lower case:
-- ('ACTIVITY_KIND_CALL', 'ACTIVITY_KIND_') -> 'call'.
CREATE FUNCTION an_enum(v text, prefix text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT lower(CASE WHEN v IS NULL THEN 'unspecified'
                            WHEN left(v, length(prefix)) = prefix THEN substr(v, length(prefix) + 1)
                            ELSE v END) $$;
-- Minor units as text with two decimals, for summaries: '12345' -> '123.45'.
CREATE FUNCTION an_money(minor text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_char(COALESCE(minor, '0')::numeric / 100, 'FM999999999999990.00') $$;
CREATE FUNCTION an_text_array(j jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(array_agg(x), '{}') FROM jsonb_array_elements_text(COALESCE(j, '[]')) x $$;

-- ---- the event log ----------------------------------------------------------
CREATE TABLE customer_event (
    source      text        NOT NULL,
    seq         bigint      NOT NULL,
    type        text        NOT NULL,
    customer_id text        NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL,
    summary     text        NOT NULL DEFAULT '',
    payload     jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, seq)
);
CREATE INDEX customer_event_customer ON customer_event (customer_id, occurred_at);

-- ---- projections --------------------------------------------------------------
-- The merged profile. `fv` holds per-field last-writer-wins versions
-- {"name": [time_us, "source"]}, as sales does, so that the merge does not
-- depend on the order in which the sources are applied; `contributions`
-- holds what each service said about the person last ({"sales": {...}}).
CREATE TABLE customer (
    id              text        PRIMARY KEY,
    name            text        NOT NULL DEFAULT '',
    emails          text[]      NOT NULL DEFAULT '{}',
    phones          text[]      NOT NULL DEFAULT '{}',
    organization_id text        NOT NULL DEFAULT '',
    kind            text        NOT NULL DEFAULT '',
    country         text        NOT NULL DEFAULT '',
    industry        text        NOT NULL DEFAULT '',
    owner           text        NOT NULL DEFAULT '',
    registered_by   text        NOT NULL DEFAULT '',
    known           boolean     NOT NULL DEFAULT false, -- a person event was seen
    first_seen      timestamptz NOT NULL,
    fv              jsonb       NOT NULL DEFAULT '{}',
    contributions   jsonb       NOT NULL DEFAULT '{}'
);
CREATE TABLE organization (
    id   text PRIMARY KEY,
    name text NOT NULL DEFAULT ''
);
CREATE TABLE deal (
    id             text        PRIMARY KEY,
    customer_id    text        NOT NULL DEFAULT '',
    title          text        NOT NULL DEFAULT '',
    owner          text        NOT NULL DEFAULT '',
    pipeline_id    text        NOT NULL DEFAULT '',
    stage          text        NOT NULL DEFAULT '',
    amount_minor   bigint      NOT NULL DEFAULT 0,
    currency       text        NOT NULL DEFAULT '',
    probability    int         NOT NULL DEFAULT 0,
    expected_close date,
    next_step      text        NOT NULL DEFAULT '',
    status         text        NOT NULL DEFAULT 'open',
    lost_reason    text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    closed_at      timestamptz
);
CREATE TABLE deal_move (
    source     text        NOT NULL,
    seq        bigint      NOT NULL,
    deal_id    text        NOT NULL,
    owner      text        NOT NULL DEFAULT '',
    from_stage text        NOT NULL DEFAULT '',
    to_stage   text        NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    PRIMARY KEY (source, seq)
);
CREATE TABLE sale_order (
    id          text        PRIMARY KEY,
    customer_id text        NOT NULL,
    deal_id     text        NOT NULL DEFAULT '',
    total_minor bigint      NOT NULL DEFAULT 0,
    currency    text        NOT NULL DEFAULT '',
    ordered_at  timestamptz NOT NULL
);
CREATE INDEX sale_order_customer ON sale_order (customer_id, ordered_at);
CREATE TABLE activity (
    id           text        PRIMARY KEY,
    customer_id  text        NOT NULL DEFAULT '',
    deal_id      text        NOT NULL DEFAULT '',
    kind         text        NOT NULL DEFAULT '',
    owner        text        NOT NULL DEFAULT '',
    status       text        NOT NULL DEFAULT 'scheduled',
    subject      text        NOT NULL DEFAULT '',
    due_at       timestamptz,
    completed_at timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE INDEX activity_customer ON activity (customer_id);
CREATE TABLE ticket (
    id                text        PRIMARY KEY,
    customer_id       text        NOT NULL DEFAULT '',
    type              text        NOT NULL DEFAULT '',
    priority          text        NOT NULL DEFAULT '',
    status            text        NOT NULL DEFAULT 'new',
    subject           text        NOT NULL DEFAULT '',
    opened_at         timestamptz NOT NULL,
    resolved_at       timestamptz,
    rating            int         NOT NULL DEFAULT 0,
    breaches          int         NOT NULL DEFAULT 0
);
CREATE INDEX ticket_customer ON ticket (customer_id);
CREATE TABLE sla_breach (
    ticket_id   text        NOT NULL,
    target      text        NOT NULL,
    customer_id text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, target)
);
CREATE TABLE campaign (
    id           text        PRIMARY KEY,
    name         text        NOT NULL DEFAULT '',
    status       text        NOT NULL DEFAULT 'draft',
    currency     text        NOT NULL DEFAULT '',
    budget_minor bigint      NOT NULL DEFAULT 0,
    owner        text        NOT NULL DEFAULT '',
    channels     text[]      NOT NULL DEFAULT '{}'
);
-- The latest send decision per recipient, as marketing's `send` table.
CREATE TABLE campaign_send (
    campaign_id text        NOT NULL,
    customer_id text        NOT NULL,
    status      text        NOT NULL,
    channel     text        NOT NULL DEFAULT '',
    decided_at  timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, customer_id)
);
-- Email delivery outcomes (delivery.recorded), one per SENT email.
CREATE TABLE campaign_delivery (
    campaign_id text        NOT NULL,
    customer_id text        NOT NULL,
    delivered   boolean     NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, customer_id)
);
-- Customers a campaign reached: targeted, a send decision or a response.
CREATE TABLE campaign_recipient (
    campaign_id text        NOT NULL,
    customer_id text        NOT NULL,
    reached_at  timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE TABLE campaign_response (
    source        text        NOT NULL,
    seq           bigint      NOT NULL,
    campaign_id   text        NOT NULL,
    customer_id   text        NOT NULL DEFAULT '',
    response      text        NOT NULL,
    channel       text        NOT NULL DEFAULT '',
    revenue_minor bigint      NOT NULL DEFAULT 0,
    currency      text        NOT NULL DEFAULT '',
    at            timestamptz NOT NULL,
    PRIMARY KEY (source, seq)
);
CREATE TABLE campaign_expense (
    id           text        PRIMARY KEY,
    campaign_id  text        NOT NULL,
    amount_minor bigint      NOT NULL,
    at           timestamptz NOT NULL
);
CREATE TABLE conversion (
    order_id      text        PRIMARY KEY,
    campaign_id   text        NOT NULL,
    customer_id   text        NOT NULL,
    revenue_minor bigint      NOT NULL,
    currency      text        NOT NULL DEFAULT '',
    at            timestamptz NOT NULL
);
CREATE TABLE preference (
    customer_id       text        PRIMARY KEY,
    preferred_channel text        NOT NULL DEFAULT '',
    opted_out         text[]      NOT NULL DEFAULT '{}',
    updated_at        timestamptz NOT NULL
);
CREATE TABLE segment_member (
    segment_id  text NOT NULL,
    customer_id text NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);
-- The last health score computed for a customer, and whether its churn
-- risk is above the threshold (a raise is published once per crossing).
CREATE TABLE health (
    customer_id text        PRIMARY KEY,
    score       int         NOT NULL,
    churn_risk  int         NOT NULL,
    reasons     jsonb       NOT NULL,
    churn_high  boolean     NOT NULL DEFAULT false,
    at          timestamptz NOT NULL
);

-- ---- ledgers a rebuild keeps -------------------------------------------------
-- Per source, the position the consumers had reached when the last rebuild
-- started: events up to it were applied (and their derived events
-- published) before, so their replay publishes nothing.
CREATE TABLE an_replay_until (
    source text   PRIMARY KEY,
    seq    bigint NOT NULL
);
CREATE TABLE an_rebuild (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    rebuilt_at timestamptz NOT NULL,
    dropped    bigint      NOT NULL
);
-- Every data-quality finding published, so that a rescan (or a rebuild)
-- does not publish it again.
CREATE TABLE an_dq_emitted (
    kind      text        NOT NULL,
    record_id text        NOT NULL,
    found_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, record_id)
);

-- Per-field last-writer-wins, as in sales (sales_fv_newer): a change
-- stamped (t, src) wins when the field has no version yet or (t, src) is
-- greater than its version, time first, then the source name.
CREATE FUNCTION an_fv_newer(fv jsonb, field text, t bigint, src text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT fv -> field IS NULL
        OR t > (fv -> field ->> 0)::bigint
        OR (t = (fv -> field ->> 0)::bigint AND src COLLATE "C" > (fv -> field ->> 1) COLLATE "C")
    $$;
