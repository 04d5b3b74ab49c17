-- Follow-up tasks that sales makes of other services' signals (a complaint,
-- a churn risk), so that a second signal about the same customer for the
-- same owner within SALES_FOLLOWUP_COALESCE_HOURS is added to the open task
-- instead of making another one (issue 20: one complaint made two tasks).
CREATE TABLE followup_task (
    activity_id uuid        PRIMARY KEY REFERENCES activity (id),
    person_id   uuid        NOT NULL,
    owner       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX followup_task_person ON followup_task (person_id, owner, created_at);
