/* mail.c: the parts of a received email a ticket needs (mail.h).
 *
 * GMime reads the message (crm/mime.h: the MIME structure, transfer
 * encodings, RFC 2047 words and every charset iconv knows); this file
 * takes from it what a ticket needs: the sender, the subject and its
 * ticket reference, and the customer's text without the mail it quotes. */
#include "mail.h"

#include <crm/mime.h>
#include <crm/util.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/rpc.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT

static int s_bad(crm_err_t *e, const char *message, const char *hint, const char *detail)
{
    return crm_err_set(e, S_INVALID, "raw", message, hint, "%s", detail ? detail : "");
}

/* s into out (cap bytes), cut at a UTF-8 character boundary. */
static void s_copy(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = 0;
}

/* Removes the quoted mail from text (lines starting with '>', and the
 * "On ... wrote:" line that introduces them) and the signature (from a
 * line "-- "); trims. Works in place; returns the new start. */
static char *s_unquote(char *text)
{
    char *o = text, *line = text;
    while (*line) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        int quoted = line[0] == '>';
        if ((n == 3 || n == 4) && !strncmp(line, "-- ", 3) && (n == 3 || line[3] == '\n'))
            break;
        if (!quoted && n > 7) {
            /* "... wrote:" followed, after blank lines, by a quote. */
            size_t k = n - (nl ? 1 : 0);
            const char *next = line + n;
            while (*next == '\n')
                next++;
            if (k >= 6 && !strncmp(line + k - 6, "wrote:", 6) && *next == '>')
                quoted = 1;
        }
        if (!quoted) {
            memmove(o, line, n);
            o += n;
        }
        line += n;
    }
    *o = 0;
    const char *t;
    size_t n = crm_trim(text, &t);
    memmove(text, t, n);
    text[n] = 0;
    return text;
}

/* "[ticket:<uuid>]" anywhere in the subject. */
static void s_ticket_ref(const char *subject, char id[37])
{
    id[0] = 0;
    for (const char *p = subject; (p = strchr(p, '[')); p++) {
        if (strncasecmp(p + 1, "ticket:", 7) || strlen(p) < 45 || p[44] != ']')
            continue;
        char cand[37];
        for (int i = 0; i < 36; i++)
            cand[i] = (char)tolower((unsigned char)p[8 + i]);
        cand[36] = 0;
        if (crm_uuid_valid(cand)) {
            memcpy(id, cand, sizeof cand);
            return;
        }
    }
}

/* "<ticket.<uuid>." in an In-Reply-To or References header: the
 * Message-ID support gave an agent's reply (reply_mail.c), so that an
 * answer reaches its ticket even when the customer's mail program dropped
 * the tag from the subject. */
static void s_thread_ref(const char *v, char id[37])
{
    for (const char *p = v; !id[0] && (p = strstr(p, "<ticket.")); p++) {
        if (strlen(p) < 8 + 36 + 1 || p[8 + 36] != '.')
            continue;
        char cand[37];
        for (int i = 0; i < 36; i++)
            cand[i] = (char)tolower((unsigned char)p[8 + i]);
        cand[36] = 0;
        if (crm_uuid_valid(cand))
            memcpy(id, cand, sizeof cand);
    }
}

int support_mail_parse(const char *raw, size_t len, char *buf, size_t cap, support_mail_t *out,
                       crm_err_t *e)
{
    crm_mime_in_t m;
    char err[160];
    memset(out, 0, sizeof *out);
    if (!raw || !len)
        return s_bad(e, "email is empty", "give the message as received, headers and body", NULL);
    if (crm_mime_parse(raw, len, &m, err, sizeof err) < 0) {
        const char *hint = strstr(err, "sender") ? "the From header names the customer"
                           : strstr(err, "charset")
                               ? "send the message in UTF-8 or a charset iconv knows"
                               : "send the message with a text/plain or text/html part";
        /* err is the message; a charset's name follows a colon. */
        char *colon = strchr(err, ':');
        if (colon)
            *colon = 0;
        s_bad(e, err, hint, colon ? colon + 2 : NULL);
        crm_mime_in_clear(&m);
        return -1;
    }
    int rc = 0;
    if (strlen(m.from) >= sizeof out->from) {
        rc = s_bad(e, "email has no sender address", "the From header names the customer", NULL);
        goto done;
    }
    s_copy(out->from, sizeof out->from, m.from);
    s_copy(out->name, sizeof out->name, m.from_name);
    s_copy(out->subject, sizeof out->subject, m.subject);
    s_ticket_ref(out->subject, out->ticket_id);
    if (!out->ticket_id[0])
        s_thread_ref(m.in_reply_to, out->ticket_id);
    if (!out->ticket_id[0])
        s_thread_ref(m.references, out->ticket_id);
    if (strlen(m.text) >= cap) {
        rc = s_bad(e, "email text is too long", "send a shorter message", NULL);
        goto done;
    }
    memcpy(buf, m.text, strlen(m.text) + 1);
    out->body = s_unquote(buf);
done:
    crm_mime_in_clear(&m);
    return rc;
}
