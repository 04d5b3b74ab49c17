-- Erased people (sales.person.erase; docs/architecture.md, "Personal
-- data"): when, by whom and why, which is all an export of them shows
-- afterwards. Holds no personal data. A person listed here is never
-- filled in again by other services' person events.
CREATE TABLE person_erasure (
    id        uuid        PRIMARY KEY,
    erased_at timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL,
    reason    text        NOT NULL DEFAULT ''
);
