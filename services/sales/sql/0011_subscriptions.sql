-- Subscriptions (issue 20: "what plan are they on"): a customer's plan,
-- its amount per period in an ISO 4217 currency, when it started and when
-- it next renews. renewal_task_id is the scheduled task that reminds the
-- owner of the next renewal (SALES_RENEWAL_NOTICE_DAYS before it); it is
-- closed when the subscription renews, moves its renewal date or ends.
CREATE TABLE subscription (
    id              uuid        PRIMARY KEY,
    person_id       uuid        NOT NULL REFERENCES person (id),
    plan            text        NOT NULL CHECK (plan <> ''),
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    period          smallint    NOT NULL CHECK (period IN (1, 2)),
    start_date      date        NOT NULL,
    renewal_date    date        NOT NULL,
    status          smallint    NOT NULL DEFAULT 1,
    owner           text        NOT NULL DEFAULT '',
    cancel_reason   text        NOT NULL DEFAULT '',
    cancelled_at    timestamptz,
    renewal_task_id uuid        REFERENCES activity (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (renewal_date > start_date)
);
CREATE INDEX subscription_person ON subscription (person_id);
CREATE INDEX subscription_page ON subscription (created_at, id);
