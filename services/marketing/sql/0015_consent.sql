-- The consent ledger: per person and purpose (marketing.proto,
-- ConsentPurpose), every grant and withdrawal with its time, source, proof
-- and the principal that recorded it. Append-only: a withdrawal is a new
-- row, and triggers refuse UPDATE, DELETE and TRUNCATE (which the
-- runtime role is granted on every table), so no statement of the
-- service can rewrite the history a regulator may ask for. The latest row
-- of a purpose (at, then seq) is its state; the send scan reads it under
-- the channel policy (MARKETING_CHANNEL_POLICY).
CREATE TABLE consent (
    seq         bigserial   PRIMARY KEY,
    id          uuid        NOT NULL UNIQUE,
    customer_id uuid        NOT NULL,
    purpose     int         NOT NULL CHECK (purpose BETWEEN 1 AND 6),
    granted     boolean     NOT NULL,
    source      int         NOT NULL CHECK (source BETWEEN 1 AND 4),
    proof       text        NOT NULL DEFAULT '',
    recorded_by text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_customer ON consent (customer_id, purpose, at DESC, seq DESC);

CREATE FUNCTION mkt_consent_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- The one rewrite allowed: an erasure (common/sql/0005_erase.sql,
    -- crm_erase_scrub) blanks the person's strings in the proof; the
    -- entries themselves, their purposes and times, stay.
    IF TG_OP = 'UPDATE' AND current_setting('crm.erasing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the consent ledger is append-only: record a withdrawal instead';
END $$;
CREATE TRIGGER consent_append_only BEFORE UPDATE OR DELETE ON consent
    FOR EACH ROW EXECUTE FUNCTION mkt_consent_append_only();
CREATE TRIGGER consent_no_truncate BEFORE TRUNCATE ON consent
    FOR EACH STATEMENT EXECUTE FUNCTION mkt_consent_append_only();

-- The purposes a person currently consents to.
CREATE VIEW consent_granted AS
    SELECT customer_id, array_agg(purpose ORDER BY purpose) AS purposes
      FROM (SELECT DISTINCT ON (customer_id, purpose) customer_id, purpose, granted
              FROM consent ORDER BY customer_id, purpose, at DESC, seq DESC) latest
     WHERE granted
     GROUP BY customer_id;

-- The single consent flag preference.set kept before the ledger was for
-- email (the only channel marketing delivered itself): carried over as an
-- email marketing grant, imported, its source text as the proof.
INSERT INTO consent (id, customer_id, purpose, granted, source, proof, recorded_by, at)
SELECT gen_random_uuid(), customer_id, 1, true, 2,
       'preference consent before the ledger: ' || consent_source, 'migration 0015',
       COALESCE(consent_at, updated_at)
  FROM preference WHERE consent_given;
