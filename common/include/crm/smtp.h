/* crm/smtp.h: one message to an SMTP relay with libcurl, for marketing's
 * campaign mail and support's replies to customers (both built with
 * crm/mime.h). Blocking: call it only on a thread-pool thread (uv_work_t),
 * never on the event loop. curl_global_init must have run before. Part of
 * library crm_mime. */
#ifndef CRM_SMTP_H
#define CRM_SMTP_H

#include <stddef.h>

/* Longest a transaction may take, connection included. */
#define CRM_SMTP_TIMEOUT_S 10

/* Failures of crm_smtp_send. */
#define CRM_SMTP_TRANSIENT (-1) /* a 4xx reply, or none: try again later */
#define CRM_SMTP_PERMANENT (-2) /* a 5xx reply: the address bounced */

/* Sends msg[0..len) (a whole message with CRLF line ends, built by
 * crm_mime_build) from `from` to `to` (the envelope) through the relay at `url`
 * ("smtp://host:port"). Returns 0, or CRM_SMTP_TRANSIENT or
 * CRM_SMTP_PERMANENT with the reason in err. */
int crm_smtp_send(const char *url, const char *from, const char *to, const char *msg, size_t len,
                  char *err, size_t errlen);

#endif
