-- The follow-up task sales made of each data-quality finding analytics
-- published (crm.analytics.data_quality.issue_found.v1, consumer
-- sales.quality). A finding is known by (kind, record id), not by its event
-- id: analytics publishes a finding once, but should it ever publish the
-- same one again (a rebuild, a lost ledger) this key keeps it to one task.
-- No foreign key to activity: the row is written in the transaction that
-- inserts the task, and the task may be deleted by an operator later
-- without the finding coming back.
CREATE TABLE dq_task (
    kind        text        NOT NULL,
    record_id   uuid        NOT NULL,
    activity_id uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, record_id)
);
