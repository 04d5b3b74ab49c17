-- Multi-step campaigns: a campaign can follow another (a later step, e.g.
-- a reminder). Each recipient the earlier campaign SENT to becomes a
-- recipient of the follow-up once follow_delay_s has passed since that
-- decision, and, with follow_non_responders, only if they have not
-- responded to the earlier campaign (a bounce does not count).
ALTER TABLE campaign
    ADD COLUMN follows_campaign_id   uuid REFERENCES campaign,
    ADD COLUMN follow_delay_s        bigint  NOT NULL DEFAULT 0 CHECK (follow_delay_s >= 0),
    ADD COLUMN follow_non_responders boolean NOT NULL DEFAULT false;
CREATE INDEX campaign_follows ON campaign (follows_campaign_id)
    WHERE follows_campaign_id IS NOT NULL;
