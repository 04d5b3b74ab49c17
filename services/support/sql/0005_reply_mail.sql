-- An agent's public reply goes to the customer by mail (issue 20). The
-- whole message (headers with the threading Message-ID, In-Reply-To and
-- References, and the text) is written in the reply's transaction, so a
-- reply acknowledged is never lost; a pump sends the unsent ones through
-- SUPPORT_SMTP_URL and records the outcome (reply_mail.c).
CREATE TABLE reply_mail (
    id          uuid    PRIMARY KEY,
    ticket_id   uuid    NOT NULL REFERENCES ticket (id),
    message_id  text    NOT NULL UNIQUE,
    to_addr     text    NOT NULL,
    raw         text    NOT NULL,
    created_us  bigint  NOT NULL,
    sent_us     bigint  NOT NULL DEFAULT 0,
    attempts    integer NOT NULL DEFAULT 0,
    next_try_us bigint  NOT NULL DEFAULT 0,
    last_error  text    NOT NULL DEFAULT ''
);
CREATE INDEX reply_mail_ticket ON reply_mail (ticket_id, created_us);
CREATE INDEX reply_mail_unsent ON reply_mail (next_try_us) WHERE sent_us = 0;
