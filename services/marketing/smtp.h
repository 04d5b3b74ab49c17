/* smtp.h: the email channel adapter: one message to an SMTP relay with
 * libcurl. Blocking: call it only on a thread-pool thread (uv_work_t),
 * never on the event loop. curl_global_init must have run before. */
#ifndef MKT_SMTP_H
#define MKT_SMTP_H

#include <stddef.h>

/* Longest a transaction may take, connection included. */
#define MKT_SMTP_TIMEOUT_S 10

/* Failures of mkt_smtp_send. */
#define MKT_SMTP_TRANSIENT (-1) /* a 4xx reply, or none: try again later */
#define MKT_SMTP_PERMANENT (-2) /* a 5xx reply: the address bounced */

/* Sends msg[0..len) (a whole message with CRLF line ends, built by
 * mail.c) from `from` to `to` (the envelope) through the relay at `url`
 * ("smtp://host:port"). Returns 0, or MKT_SMTP_TRANSIENT or
 * MKT_SMTP_PERMANENT with the reason in err. */
int mkt_smtp_send(const char *url, const char *from, const char *to, const char *msg, size_t len,
                  char *err, size_t errlen);

#endif
