/* crm/mime.h: email messages built and read with GMime (RFC 5322, MIME
 * RFC 2045-2047, RFC 2369 and RFC 8058 list headers).
 *
 * Marketing builds its campaign mail with crm_mime_build (on a thread-pool
 * thread: the functions are pure CPU work on objects of their own, and
 * GMime is initialised once, on first use, under pthread_once); support
 * builds its agents' replies with it (threaded with In-Reply-To and
 * References) and reads the mail customers send with crm_mime_parse.
 * Neither does any I/O.
 * Library crm_mime (GMime and GLib), apart from crm_common so that the
 * services that do not handle mail do not link them. */
#ifndef CRM_MIME_H
#define CRM_MIME_H

#include <stddef.h>
#include <stdint.h>

/* ---- building ------------------------------------------------------------ */

typedef struct {
    const char *from;             /* sender address (required) */
    const char *from_name;        /* display name, UTF-8; NULL or "" for none */
    const char *to;               /* recipient address (required) */
    const char *to_name;          /* display name, UTF-8; NULL or "" for none */
    const char *subject;          /* UTF-8; RFC 2047-encoded when not ASCII */
    const char *text;             /* the text/plain part, UTF-8 (required) */
    const char *html;             /* the text/html part, UTF-8; NULL: text only */
    const char *message_id;       /* "local@domain", without the angle brackets (required) */
    int64_t date_us;              /* the Date header, microseconds since the epoch */
    const char *unsubscribe_url;  /* https URL of RFC 8058 one-click unsubscribe, or NULL */
    const char *unsubscribe_mail; /* "mailto:..." URL, or NULL */
    /* Threading (RFC 5322 section 3.6.4): the message answered, and the
     * thread's messages separated by spaces, each a message id without
     * angle brackets; NULL or "" for none. */
    const char *in_reply_to;
    const char *references;
} crm_mime_mail_t;

/* The message as it goes on the wire: CRLF line ends; bodies in UTF-8,
 * quoted-printable or base64 (7-bit clean); multipart/alternative when
 * there is an HTML part; List-Unsubscribe with the URLs given, and
 * List-Unsubscribe-Post: List-Unsubscribe=One-Click when there is an https
 * one. CR and LF in any header field become spaces, and an address with
 * CR, LF, '<', '>' or ',' is refused, so no field can add a header; so
 * is a message id (Message-ID, In-Reply-To, References) with CR, LF, '<',
 * '>' or a space inside.
 * Returns the message (caller frees with free()) and its length in *len,
 * or NULL with the reason in err. */
char *crm_mime_build(const crm_mime_mail_t *m, size_t *len, char *err, size_t errlen);

/* ---- reading ------------------------------------------------------------- */

typedef struct {
    char *from;       /* the sender's address as written */
    char *from_name;  /* display name, decoded to UTF-8; "" if none */
    char *subject;    /* decoded to UTF-8; "" if none */
    char *message_id; /* without angle brackets; "" if none */
    /* The In-Reply-To and References headers as written; "" if none. */
    char *in_reply_to;
    char *references;
    /* The text: the first text/plain part, else the first text/html part
     * reduced to text, converted to UTF-8 from its charset (any iconv
     * knows); then one line "[attachment: NAME, N bytes]" per attachment. */
    char *text;
    int from_html; /* 1 when text came from an HTML part */
    size_t n_attachments;
} crm_mime_in_t;

/* Reads raw[0..len). Returns 0, or -1 with the reason in err: not a
 * message, no From address, no text or HTML part, a charset iconv does not
 * know, text that is not valid in its charset. The strings of *out are
 * owned by it: crm_mime_in_clear frees them (also after a failure). */
int crm_mime_parse(const char *raw, size_t len, crm_mime_in_t *out, char *err, size_t errlen);
void crm_mime_in_clear(crm_mime_in_t *m);

/* HTML reduced to text: tags dropped (script and style with their
 * content), <br>, <p>, <div>, <li>, <tr> and headings as line breaks,
 * character references decoded, runs of blank lines and spaces
 * collapsed. Caller frees; NULL when out of memory. */
char *crm_mime_html_to_text(const char *html);

#endif
