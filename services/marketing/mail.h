/* mail.h: one campaign email as it goes to the relay (issue 13, 16).
 *
 * From the rendered subject and text of a delivery: a Message-ID made of
 * the delivery's id (so a retry sends the same one, and replies and
 * bounces name the delivery), Date, a text part and an HTML part made from
 * it (multipart/alternative), List-Unsubscribe with the mailto address and,
 * with tracking on, the one-click https URL of RFC 8058. With tracking on
 * (a key and CRM_TRACK_BASE_URL), the HTML part's links go through
 * BASE/t/c/{token}, it carries the open pixel BASE/t/o/{token}, and the
 * unsubscribe URL is BASE/t/u/{token}, each token signed for this
 * recipient and message (track.h). Pure CPU work: called on a pool
 * thread. */
#ifndef MKT_MAIL_H
#define MKT_MAIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *from;           /* MARKETING_MAIL_FROM */
    const char *from_name;      /* MARKETING_MAIL_FROM_NAME ("" = none) */
    const char *unsubscribe_to; /* MARKETING_UNSUBSCRIBE_MAILTO address ("" = from) */
    const uint8_t *key;         /* the tracking key; NULL: tracking off */
    size_t keylen;
    const char *base_url; /* CRM_TRACK_BASE_URL, no trailing slash; "": tracking off */
    int64_t token_ttl_s;  /* MARKETING_TRACK_DAYS in seconds */
} mkt_mail_conf_t;

typedef struct {
    const char *delivery_id, *campaign_id, *customer_id;
    const char *address, *subject, *body;
    const char *name; /* the recipient's display name ("" = none) */
} mkt_mail_in_t;

/* The message (caller frees) and its length in *len, its Message-ID
 * (without brackets) in message_id (at least 300 bytes); NULL with the
 * reason in err. now_us: the Date and the tokens' expiry count from it. */
char *mkt_mail_compose(const mkt_mail_conf_t *c, const mkt_mail_in_t *m, int64_t now_us,
                       char *message_id, size_t *len, char *err, size_t errlen);

/* The HTML part made of text: escaped, line breaks kept, each http(s)
 * URL a link (through the click URL when tracking is on), and the open
 * pixel. Caller frees; NULL when out of memory. Exposed for unit tests. */
char *mkt_mail_html(const mkt_mail_conf_t *c, const mkt_mail_in_t *m, int64_t expires_s);

#endif
