-- Marketing owns contact preferences; sales keeps the opt-outs it learns
-- from marketing's preferences.changed events, so that scheduling a call,
-- meeting, letter or email with a person who opted out of that channel is
-- refused. An activity scheduled anyway records why.
CREATE TABLE contact_opt_out (
    person_id  uuid        PRIMARY KEY,
    channels   int[]       NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE activity ADD COLUMN override_reason text NOT NULL DEFAULT '';
