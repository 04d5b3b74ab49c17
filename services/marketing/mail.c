/* mail.c: a campaign email (mail.h): the tracking URLs and the HTML part
 * are made here; GMime (crm/mime.h) builds the message. */
#include "mail.h"
#include "track.h"

#include <crm/mime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_escape(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\r':
            break;
        case '\n':
            fputs("<br>\n", f);
            break;
        default:
            fputc(s[i], f);
        }
    }
}

static int s_tracking(const mkt_mail_conf_t *c)
{
    return c->key && c->base_url && *c->base_url;
}

/* BASE/t/{path}/{token} into out; -1 when it cannot be signed. */
static int s_track_url(const mkt_mail_conf_t *c, const mkt_mail_in_t *m, int kind, const char *url,
                       size_t ulen, int64_t expires_s, char *out, size_t cap)
{
    mkt_track_t t;
    char token[MKT_TRACK_TOKEN_MAX];
    memset(&t, 0, sizeof t);
    if (ulen > MKT_TRACK_URL_MAX)
        return -1;
    t.kind = kind;
    snprintf(t.campaign_id, sizeof t.campaign_id, "%s", m->campaign_id);
    snprintf(t.customer_id, sizeof t.customer_id, "%s", m->customer_id);
    snprintf(t.delivery_id, sizeof t.delivery_id, "%s", m->delivery_id);
    t.expires_s = expires_s;
    memcpy(t.url, url, ulen);
    t.url[ulen] = 0;
    if (mkt_track_sign(c->key, c->keylen, &t, token, sizeof token) < 0)
        return -1;
    const char *path = kind == MKT_TRACK_OPEN ? "o" : kind == MKT_TRACK_CLICK ? "c" : "u";
    int n = snprintf(out, cap, "%s/t/%s/%s", c->base_url, path, token);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Length of the URL at s ("http://" or "https://" up to white space or a
 * quote or bracket, without trailing punctuation); 0 if none starts there. */
static size_t s_url_len(const char *s)
{
    if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
        return 0;
    size_t n = strcspn(s, " \t\r\n<>\"'");
    while (n && strchr(".,;:!?)", s[n - 1]))
        n--;
    return n > 8 ? n : 0;
}

char *mkt_mail_html(const mkt_mail_conf_t *c, const mkt_mail_in_t *m, int64_t expires_s)
{
    char *out = NULL, link[MKT_TRACK_TOKEN_MAX + 512];
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n<p>", f);
    const char *s = m->body, *plain = s;
    while (*s) {
        size_t n = s_url_len(s);
        if (!n) {
            s++;
            continue;
        }
        s_escape(f, plain, (size_t)(s - plain));
        fputs("<a href=\"", f);
        if (s_tracking(c) &&
            s_track_url(c, m, MKT_TRACK_CLICK, s, n, expires_s, link, sizeof link) == 0)
            fputs(link, f);
        else
            s_escape(f, s, n);
        fputs("\">", f);
        s_escape(f, s, n);
        fputs("</a>", f);
        s += n;
        plain = s;
    }
    s_escape(f, plain, strlen(plain));
    fputs("</p>\n", f);
    if (s_tracking(c) &&
        s_track_url(c, m, MKT_TRACK_OPEN, "", 0, expires_s, link, sizeof link) == 0)
        fprintf(f, "<img src=\"%s\" width=\"1\" height=\"1\" alt=\"\">\n", link);
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

char *mkt_mail_compose(const mkt_mail_conf_t *c, const mkt_mail_in_t *m, int64_t now_us,
                       char *message_id, size_t *len, char *err, size_t errlen)
{
    const char *at = strrchr(c->from, '@');
    int64_t expires_s = now_us / 1000000 + c->token_ttl_s;
    char unsub[MKT_TRACK_TOKEN_MAX + 512], mailto[400];
    snprintf(message_id, 300, "%s@%s", m->delivery_id, at ? at + 1 : "crm.invalid");
    snprintf(mailto, sizeof mailto, "mailto:%s?subject=unsubscribe",
             c->unsubscribe_to && *c->unsubscribe_to ? c->unsubscribe_to : c->from);
    int tracked = s_tracking(c) && s_track_url(c, m, MKT_TRACK_UNSUBSCRIBE, "", 0, expires_s, unsub,
                                               sizeof unsub) == 0;
    char *html = mkt_mail_html(c, m, expires_s);
    if (!html) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    crm_mime_mail_t mm = {
        .from = c->from,
        .from_name = c->from_name,
        .to = m->address,
        .to_name = m->name,
        .subject = m->subject,
        .text = m->body,
        .html = html,
        .message_id = message_id,
        .date_us = now_us,
        .unsubscribe_url = tracked ? unsub : NULL,
        .unsubscribe_mail = mailto,
    };
    char *msg = crm_mime_build(&mm, len, err, errlen);
    free(html);
    return msg;
}
