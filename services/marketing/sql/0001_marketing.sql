-- Marketing: campaigns with their recipients, expense ledger, responses
-- and attributed conversions; contact preferences; people met through
-- other services. Enumerations are stored as the numbers of their crm.v1
-- enums (marketing.proto, signals.proto); "not given" strings are ''.

CREATE FUNCTION mkt_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE FUNCTION mkt_ts(us bigint) RETURNS timestamptz
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;

-- People: upserted by id from sales' and support's person events, and
-- registered here (identity rule) when a response names an unknown email.
CREATE TABLE person (
    id            uuid        PRIMARY KEY,
    name          text        NOT NULL DEFAULT '',
    email         text        NOT NULL DEFAULT '',
    registered_by text        NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_email ON person (email) WHERE email <> '';

CREATE TABLE campaign (
    id                      uuid        PRIMARY KEY,
    name                    text        NOT NULL CHECK (name <> ''),
    objective               text        NOT NULL DEFAULT '',
    channels                int[]       NOT NULL,
    start_date              date,
    end_date                date,
    status                  int         NOT NULL,
    owner                   text        NOT NULL DEFAULT '',
    offers                  jsonb       NOT NULL DEFAULT '[]',
    budget_minor            bigint      NOT NULL CHECK (budget_minor >= 0),
    currency                text        NOT NULL,
    overspend_policy        int         NOT NULL,
    attribution_window_days int         NOT NULL CHECK (attribution_window_days > 0),
    start_at                timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_page ON campaign (created_at, id);

-- Who a campaign reaches; reached_at starts the attribution window.
CREATE TABLE campaign_recipient (
    campaign_id uuid        NOT NULL REFERENCES campaign,
    customer_id uuid        NOT NULL,
    reached_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE INDEX campaign_recipient_customer ON campaign_recipient (customer_id);

-- The expense ledger; spending is always the sum of it.
CREATE TABLE expense (
    id           uuid        PRIMARY KEY,
    campaign_id  uuid        NOT NULL REFERENCES campaign,
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    category     text        NOT NULL DEFAULT '',
    date         date,
    note         text        NOT NULL DEFAULT '',
    flagged      boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX expense_campaign ON expense (campaign_id, created_at, id);

CREATE TABLE response (
    id            uuid        PRIMARY KEY,
    campaign_id   uuid        NOT NULL REFERENCES campaign,
    customer_id   uuid        NOT NULL,
    response      int         NOT NULL,
    channel       text        NOT NULL DEFAULT '',
    revenue_minor bigint      NOT NULL DEFAULT 0,
    currency      text        NOT NULL DEFAULT '',
    note          text        NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX response_campaign ON response (campaign_id, response);
CREATE INDEX response_customer ON response (customer_id, recorded_at);

-- Orders from sales attributed to the campaign that last reached the
-- customer within its window; one campaign per order.
CREATE TABLE conversion (
    order_id      uuid        PRIMARY KEY,
    campaign_id   uuid        NOT NULL REFERENCES campaign,
    customer_id   uuid        NOT NULL,
    revenue_minor bigint      NOT NULL,
    currency      text        NOT NULL,
    ordered_at    timestamptz NOT NULL
);
CREATE INDEX conversion_campaign ON conversion (campaign_id);

CREATE TABLE preference (
    customer_id         uuid        PRIMARY KEY,
    preferred_channel   int         NOT NULL DEFAULT 0,
    window_start_minute int         NOT NULL DEFAULT 0,
    window_end_minute   int         NOT NULL DEFAULT 0,
    time_zone           text        NOT NULL DEFAULT '',
    utc_offset_minutes  int         NOT NULL DEFAULT 0,
    opted_out           int[]       NOT NULL DEFAULT '{}',
    consent_given       boolean     NOT NULL DEFAULT false,
    consent_source      text        NOT NULL DEFAULT '',
    consent_at          timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
