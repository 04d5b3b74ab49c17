/* mail.h: reading an email a customer sent to the help desk.
 *
 * A mail server hands support the message as received (RFC 5322, with MIME
 * parts: RFC 2045-2047) through support.email.receive; this module, pure
 * and unit-tested (tests/unit/support/test_mail.c), finds what a ticket
 * needs in it: the sender's address and name, the subject, the ticket it
 * answers ("[ticket:<id>]" in the subject, as agents' mails carry it, else
 * the "<ticket.<id>.…@…>" Message-ID of an agent's reply named by
 * In-Reply-To or References) and
 * the text the customer wrote (the first text/plain part, decoded from
 * quoted-printable or base64 and from US-ASCII, UTF-8 or ISO-8859-1 into
 * UTF-8, without the quoted lines of the mail it answers).
 *
 * Limits: no HTML-only mails (they are refused: there is no text to show
 * agents), no other charsets, at most SUPPORT_MAIL_DEPTH nested multiparts.
 * Errors use the common crm_err_t (crm/check.h) with field "raw". */
#ifndef SUPPORT_MAIL_H
#define SUPPORT_MAIL_H

#include "rules.h"

#include <stddef.h>

#define SUPPORT_MAIL_DEPTH 4

typedef struct {
    char from[SUPPORT_EMAIL_LEN + 1]; /* the address as written (not normalised) */
    char name[SUPPORT_NAME_MAX + 1];  /* the display name, decoded; may be "" */
    char subject[SUPPORT_NAME_MAX + 1];
    char ticket_id[37]; /* from "[ticket:<uuid>]" in the subject, lower case; "" if none */
    char *body;         /* the customer's text, UTF-8, trimmed; in the caller's buffer */
} support_mail_t;

/* Parses raw[0..len). `buf` (at least 2 * len + 1 bytes, owned by the
 * caller) holds the decoded text that out->body points into. Returns 0, or
 * -1 with e filled (INVALID_ARGUMENT: no From address, no text part, an
 * unsupported charset or encoding, a malformed MIME structure). A subject
 * or name longer than its field is cut at a character boundary; the body
 * is not cut (the caller checks its length). */
int support_mail_parse(const char *raw, size_t len, char *buf, support_mail_t *out, crm_err_t *e);

#endif
