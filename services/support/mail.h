/* mail.h: reading an email a customer sent to the help desk.
 *
 * A mail server hands support the message as received (RFC 5322, with MIME
 * parts: RFC 2045-2047) through support.email.receive; this module, pure
 * and unit-tested (tests/unit/support/test_mail.c), finds what a ticket
 * needs in it: the sender's address and name, the subject, the ticket it
 * answers ("[ticket:<id>]" in the subject, as agents' mails carry it, else
 * the "<ticket.<id>.…@…>" Message-ID of an agent's reply named by
 * In-Reply-To or References) and the text the customer wrote (the first
 * text/plain part, else the first text/html part reduced to text; decoded
 * from its transfer encoding and from any charset iconv knows into UTF-8,
 * by GMime through crm/mime.h; each attachment noted by name and size;
 * without the quoted lines of the mail it answers). Errors use the common
 * crm_err_t (crm/check.h) with field "raw". */
#ifndef SUPPORT_MAIL_H
#define SUPPORT_MAIL_H

#include "rules.h"

#include <stddef.h>

typedef struct {
    char from[SUPPORT_EMAIL_LEN + 1]; /* the address as written (not normalised) */
    char name[SUPPORT_NAME_MAX + 1];  /* the display name, decoded; may be "" */
    char subject[SUPPORT_NAME_MAX + 1];
    char ticket_id[37]; /* from "[ticket:<uuid>]" in the subject, lower case; "" if none */
    char *body;         /* the customer's text, UTF-8, trimmed; in the caller's buffer */
} support_mail_t;

/* Parses raw[0..len). `buf` (cap bytes, owned by the caller) holds the
 * decoded text that out->body points into. Returns 0, or -1 with e filled
 * (INVALID_ARGUMENT: no From address, no text or HTML part, a charset
 * iconv does not know, text not valid in its charset, text of cap bytes or
 * more). A subject or name longer than its field is cut at a character
 * boundary; the body is not cut (the caller checks its length). */
int support_mail_parse(const char *raw, size_t len, char *buf, size_t cap, support_mail_t *out,
                       crm_err_t *e);

#endif
