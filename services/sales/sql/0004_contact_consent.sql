-- Marketing's consent ledger as sales needs it: per person and purpose
-- (crm.v1.ConsentPurpose), whether the latest entry is a grant or a
-- withdrawal, from marketing's consent.granted and consent.withdrawn
-- events. Scheduling a call, letter or email on a channel whose marketing
-- consent the person withdrew is refused like an opt-out, unless the
-- activity says why (override_reason).
CREATE TABLE contact_consent (
    person_id  uuid        NOT NULL,
    purpose    int         NOT NULL,
    granted    boolean     NOT NULL,
    at         timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, purpose)
);
