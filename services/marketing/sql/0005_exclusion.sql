-- Segments a campaign excludes: a recipient who is a member of one of them
-- when the send scan decides is suppressed (reason "excluded_segment").
CREATE TABLE campaign_exclusion (
    campaign_id uuid        NOT NULL REFERENCES campaign,
    segment_id  uuid        NOT NULL REFERENCES segment ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, segment_id)
);
