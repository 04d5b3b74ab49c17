-- Where each channel reaches a person: a send on a channel the person has
-- no address for is suppressed no_address, never counted as sent.
ALTER TABLE person
    ADD COLUMN phone   text NOT NULL DEFAULT '',
    ADD COLUMN fax     text NOT NULL DEFAULT '',
    ADD COLUMN address text NOT NULL DEFAULT '';
