-- Sales: people and organisations, leads, pipelines and deals, orders and
-- activities. Enumerations are stored as the numbers of their crm.v1 enums
-- (sales.proto); strings that are "not given" are '' rather than NULL, as
-- in protobuf; ids are UUIDs.

-- Microseconds since the Unix epoch <-> timestamptz, exactly.
CREATE FUNCTION sales_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE FUNCTION sales_ts(us bigint) RETURNS timestamptz
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;

-- A LIKE pattern matching values that contain q (wildcards in q escaped).
CREATE FUNCTION sales_contains(q text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%' $$;

-- Per-field last-writer-wins versions of a person's profile:
-- field_versions = {"name": [time_us, "source"], ...}. A change stamped
-- (t, src) applies to a field when the field has no version yet or
-- (t, src) is greater than its version: time first, then the source name
-- (byte order), so that every service orders concurrent changes alike.
CREATE FUNCTION sales_fv_newer(fv jsonb, field text, t bigint, src text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT fv -> field IS NULL
        OR t > (fv -> field ->> 0)::bigint
        OR (t = (fv -> field ->> 0)::bigint AND src COLLATE "C" > (fv -> field ->> 1) COLLATE "C")
    $$;
-- Whether a change that sets `changed` applies to `field`.
CREATE FUNCTION sales_fv_wins(fv jsonb, field text, changed text[], t bigint, src text)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT field = ANY(changed) AND sales_fv_newer(fv, field, t, src) $$;
-- The versions after a change: the fields it won are stamped (t, src).
CREATE FUNCTION sales_fv_stamp(fv jsonb, changed text[], t bigint, src text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT COALESCE(fv, '{}'::jsonb) || COALESCE(
        (SELECT jsonb_object_agg(f, jsonb_build_array(t, src))
           FROM unnest(changed) AS f
          WHERE sales_fv_newer(fv, f, t, src)), '{}'::jsonb)
    $$;

CREATE TABLE organization (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CHECK (name <> ''),
    domain     text        NOT NULL DEFAULT '',
    industry   text        NOT NULL DEFAULT '',
    country    text        NOT NULL DEFAULT '',
    owner      text        NOT NULL DEFAULT '',
    tags       text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Conversion finds an organisation by name, case-insensitively.
CREATE UNIQUE INDEX organization_name ON organization (lower(name));
CREATE INDEX organization_page ON organization (created_at, id);

-- People, whoever registered them first. organization_id has no foreign
-- key: other services may name organisations sales has not seen.
CREATE TABLE person (
    id              uuid        PRIMARY KEY,
    kind            smallint    NOT NULL DEFAULT 2,
    name            text        NOT NULL DEFAULT '',
    emails          text[]      NOT NULL DEFAULT '{}',
    phones          text[]      NOT NULL DEFAULT '{}',
    organization_id uuid,
    title           text        NOT NULL DEFAULT '',
    address         text        NOT NULL DEFAULT '',
    country         text        NOT NULL DEFAULT '',
    industry        text        NOT NULL DEFAULT '',
    tags            text[]      NOT NULL DEFAULT '{}',
    owner           text        NOT NULL DEFAULT '',
    custom_fields   jsonb       NOT NULL DEFAULT '[]',
    registered_by   text        NOT NULL,
    field_versions  jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_emails ON person USING gin (emails);
CREATE INDEX person_tags ON person USING gin (tags);
CREATE INDEX person_organization ON person (organization_id);
CREATE INDEX person_page ON person (created_at, id);

CREATE TABLE pipeline (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CHECK (name <> ''),
    is_default boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipeline_name ON pipeline (lower(name));
CREATE UNIQUE INDEX pipeline_one_default ON pipeline (is_default) WHERE is_default;

CREATE TABLE pipeline_stage (
    pipeline_id uuid     NOT NULL REFERENCES pipeline (id),
    position    integer  NOT NULL,
    name        text     NOT NULL CHECK (name <> ''),
    probability smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
    PRIMARY KEY (pipeline_id, position)
);
CREATE UNIQUE INDEX pipeline_stage_name ON pipeline_stage (pipeline_id, lower(name));

CREATE TABLE deal (
    id                  uuid        PRIMARY KEY,
    title               text        NOT NULL,
    person_id           uuid        REFERENCES person (id),
    organization_id     uuid        REFERENCES organization (id),
    pipeline_id         uuid        NOT NULL REFERENCES pipeline (id),
    stage               text        NOT NULL,
    amount_minor        bigint      NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
    currency            text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    probability         smallint    NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close_date date,
    owner               text        NOT NULL DEFAULT '',
    next_step           text        NOT NULL DEFAULT '',
    status              smallint    NOT NULL DEFAULT 1,
    lost_reason         text        NOT NULL DEFAULT '',
    closed_at           timestamptz,
    lead_id             uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deal_person ON deal (person_id, status);
CREATE INDEX deal_page ON deal (created_at, id);

-- Every stage a deal entered, oldest first (from_stage '' = created).
CREATE TABLE deal_stage_history (
    id         bigserial   PRIMARY KEY,
    deal_id    uuid        NOT NULL REFERENCES deal (id),
    from_stage text        NOT NULL,
    to_stage   text        NOT NULL,
    probability smallint   NOT NULL,
    actor      text        NOT NULL DEFAULT '',
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history (deal_id, id);

-- person_id is the customer the lead is about when known (from a campaign
-- response, a person with the lead's email, or conversion). No foreign key:
-- a campaign response may name a customer sales has not seen yet.
CREATE TABLE lead (
    id                uuid        PRIMARY KEY,
    name              text        NOT NULL DEFAULT '',
    email             text        NOT NULL DEFAULT '',
    phone             text        NOT NULL DEFAULT '',
    company           text        NOT NULL DEFAULT '',
    source            smallint    NOT NULL,
    campaign_id       text        NOT NULL DEFAULT '',
    status            smallint    NOT NULL DEFAULT 1,
    owner             text        NOT NULL DEFAULT '',
    notes             text        NOT NULL DEFAULT '',
    qualification     text        NOT NULL DEFAULT '',
    disqualify_reason text        NOT NULL DEFAULT '',
    person_id         uuid,
    organization_id   uuid        REFERENCES organization (id),
    deal_id           uuid        REFERENCES deal (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (name <> '' OR email <> '')
);
CREATE INDEX lead_page ON lead (created_at, id);
-- The intent consumer's "is there an open lead for this email and campaign".
CREATE INDEX lead_open ON lead (campaign_id, email) WHERE status IN (1, 2);

CREATE TABLE sales_order (
    id              uuid        PRIMARY KEY,
    person_id       uuid        NOT NULL REFERENCES person (id),
    organization_id uuid        REFERENCES organization (id),
    deal_id         uuid        REFERENCES deal (id),
    total_minor     bigint      NOT NULL CHECK (total_minor >= 0),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    ordered_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sales_order_person ON sales_order (person_id);
CREATE INDEX sales_order_page ON sales_order (created_at, id);

CREATE TABLE order_item (
    order_id         uuid     NOT NULL REFERENCES sales_order (id),
    position         integer  NOT NULL,
    product_code     text     NOT NULL DEFAULT '',
    name             text     NOT NULL DEFAULT '',
    quantity         integer  NOT NULL CHECK (quantity > 0),
    unit_price_minor bigint   NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, position)
);

CREATE TABLE activity (
    id                 uuid        PRIMARY KEY,
    kind               smallint    NOT NULL,
    subject            text        NOT NULL DEFAULT '',
    body               text        NOT NULL DEFAULT '',
    person_id          uuid        NOT NULL REFERENCES person (id),
    deal_id            uuid        REFERENCES deal (id),
    owner              text        NOT NULL DEFAULT '',
    status             smallint    NOT NULL,
    due_at             timestamptz,
    completed_at       timestamptz,
    outcome            text        NOT NULL DEFAULT '',
    next_action        text        NOT NULL DEFAULT '',
    next_action_due    timestamptz,
    due_notified       boolean     NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 1 OR due_at IS NOT NULL)
);
CREATE INDEX activity_page ON activity (created_at, id);
CREATE INDEX activity_person ON activity (person_id);
-- The due scan: scheduled activities not yet announced, by due time.
CREATE INDEX activity_due ON activity (due_at) WHERE status = 1 AND NOT due_notified;

-- The default pipeline every installation starts with.
WITH p AS (
    INSERT INTO pipeline (id, name, is_default) VALUES (gen_random_uuid(), 'Sales', true)
    RETURNING id
)
INSERT INTO pipeline_stage (pipeline_id, position, name, probability)
SELECT p.id, s.position, s.name, s.probability
  FROM p, (VALUES (1, 'Qualification', 10), (2, 'Needs analysis', 25), (3, 'Proposal', 50),
                  (4, 'Negotiation', 75)) AS s (position, name, probability);
