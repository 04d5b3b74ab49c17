-- People erased (crm.sales.person.erased.v1; docs/architecture.md,
-- "Personal data"): applied once, and never filled in again by later
-- person events. Holds no personal data.
CREATE TABLE person_erasure (
    id        uuid        PRIMARY KEY,
    erased_at timestamptz NOT NULL DEFAULT now()
);
