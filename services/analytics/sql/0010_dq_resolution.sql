-- Duplicate findings resolved by staff (analytics.data_quality.resolve):
-- the pair (suspect, original) is never raised again, whether it was
-- merged or is two people after all. A decision, not a projection of the
-- log, so a rebuild keeps it (an_rebuild_reset does not empty it).
CREATE TABLE an_dq_resolution (
    record_id   text        NOT NULL,
    original_id text        NOT NULL,
    resolution  smallint    NOT NULL CHECK (resolution IN (1, 2)),
    actor       text        NOT NULL,
    note        text        NOT NULL DEFAULT '',
    resolved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (record_id, original_id)
);
