/* mail.c: the parts of a received email a ticket needs (mail.h).
 *
 * The message is read as spans of the raw text: the header block, the
 * body, and, for multipart bodies, each part between boundary lines. Only
 * the first text/plain part is decoded; everything else is skipped
 * unread. Scratch memory is malloc'd per call and freed before returning;
 * nothing is kept. */
#include "mail.h"

#include <crm/util.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/rpc.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define S_HEADER_MAX 2048

typedef struct {
    const char *p;
    size_t n;
} s_span_t;

static int s_bad(crm_err_t *e, const char *message, const char *hint, const char *detail)
{
    return crm_err_set(e, S_INVALID, "raw", message, hint, "%s", detail ? detail : "");
}

/* ---- header block --------------------------------------------------------- */

/* Splits s at its first empty line into the header block and the body (no
 * empty line: all header, no body). */
static void s_split(s_span_t s, s_span_t *head, s_span_t *body)
{
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] != '\n')
            continue;
        size_t j = i + 1;
        if (j < s.n && s.p[j] == '\r')
            j++;
        if (j < s.n && s.p[j] == '\n') {
            *head = (s_span_t){s.p, i};
            *body = (s_span_t){s.p + j + 1, s.n - j - 1};
            return;
        }
        if (j == s.n) {
            *head = (s_span_t){s.p, i};
            *body = (s_span_t){s.p + s.n, 0};
            return;
        }
    }
    *head = s;
    *body = (s_span_t){s.p + s.n, 0};
}

/* The value of header `name` in head, unfolded (line breaks of
 * continuation lines removed) and trimmed, into out; 1 if found. */
static int s_header(s_span_t head, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), i = 0;
    while (i < head.n) {
        size_t eol = i;
        while (eol < head.n && head.p[eol] != '\n')
            eol++;
        if (eol - i > nlen && head.p[i + nlen] == ':' && !strncasecmp(head.p + i, name, nlen)) {
            size_t o = 0, k = i + nlen + 1;
            for (;;) {
                for (; k < eol && o + 1 < cap; k++)
                    if (head.p[k] != '\r')
                        out[o++] = head.p[k];
                /* A continuation line starts with white space. */
                if (eol + 1 < head.n && (head.p[eol + 1] == ' ' || head.p[eol + 1] == '\t')) {
                    k = eol + 1;
                    eol = k;
                    while (eol < head.n && head.p[eol] != '\n')
                        eol++;
                    continue;
                }
                break;
            }
            out[o] = 0;
            const char *t;
            size_t n = crm_trim(out, &t);
            memmove(out, t, n);
            out[n] = 0;
            return 1;
        }
        i = eol + 1;
    }
    out[0] = 0;
    return 0;
}

/* ---- decoding ---------------------------------------------------------------- */

static int s_hex(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static int s_b64(int c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+'             ? 62
           : c == '/'             ? 63
                                  : -1;
}

/* Base64 into out (at least n bytes); white space is skipped, decoding
 * stops at '='. Returns the bytes written, or -1 on a foreign character. */
static long s_base64(const char *s, size_t n, char *out)
{
    unsigned acc = 0;
    int bits = 0;
    long o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '=')
            break;
        if (isspace(c))
            continue;
        int v = s_b64(c);
        if (v < 0)
            return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    return o;
}

/* Quoted-printable into out (at least n bytes); `q` is the encoded-word
 * form ('_' is a space, no soft line breaks). Returns the bytes written. */
static size_t s_qp(const char *s, size_t n, char *out, int q)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (q && s[i] == '_') {
            out[o++] = ' ';
        } else if (s[i] == '=' && i + 1 < n) {
            int h = s_hex(s[i + 1]), l = i + 2 < n ? s_hex(s[i + 2]) : -1;
            if (h >= 0 && l >= 0) {
                out[o++] = (char)(h << 4 | l);
                i += 2;
            } else if (s[i + 1] == '\n') {
                i += 1; /* soft line break */
            } else if (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n') {
                i += 2;
            } else {
                out[o++] = s[i]; /* not an escape: kept as written */
            }
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

/* 0 = US-ASCII or UTF-8, 1 = ISO-8859-1, -1 = a charset not supported. */
static int s_charset(const char *cs)
{
    static const char *const utf8[] = {"", "utf-8", "utf8", "us-ascii", "ascii", NULL};
    static const char *const latin1[] = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", NULL};
    for (int i = 0; utf8[i]; i++)
        if (!strcasecmp(cs, utf8[i]))
            return 0;
    for (int i = 0; latin1[i]; i++)
        if (!strcasecmp(cs, latin1[i]))
            return 1;
    return -1;
}

/* Appends s[0..n) in charset kind `cs` (s_charset) to out as UTF-8;
 * returns the bytes written (at most 2 n). */
static size_t s_to_utf8(int cs, const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (cs == 1 && c >= 0x80) {
            out[o++] = (char)(0xc0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

static int s_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        /* k: continuation bytes the lead byte announces. */
        size_t k = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : 9;
        if (k == 9 || (k == 1 && c < 0xc2) || (k && i + k >= n))
            return 0;
        for (size_t j = 1; j <= k; j++)
            if (((unsigned char)s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* Decodes RFC 2047 encoded words ("=?UTF-8?Q?caf=C3=A9?=") in a header
 * value into out (cap bytes), cutting at a character boundary; white space
 * between two encoded words is dropped. Words in a charset not supported
 * are kept as written. */
static void s_words(const char *in, char *out, size_t cap)
{
    size_t o = 0, n = strlen(in);
    int last_word = 0;
    char tmp[S_HEADER_MAX], conv[2 * S_HEADER_MAX];
    for (size_t i = 0; i < n && o + 1 < cap;) {
        const char *q1, *q2, *end;
        if (in[i] == '=' && in[i + 1] == '?' && (q1 = strchr(in + i + 2, '?')) && q1[1] &&
            q1[2] == '?' && (end = strstr(q1 + 3, "?=")) && (size_t)(end - in) < n) {
            char cs[41];
            snprintf(cs, sizeof cs, "%.*s", (int)(q1 - in - i - 2), in + i + 2);
            char *star = strchr(cs, '*'); /* RFC 2231 language suffix */
            if (star)
                *star = 0;
            int kind = s_charset(cs), enc = toupper((unsigned char)q1[1]);
            q2 = q1 + 3;
            size_t len = (size_t)(end - q2);
            long got = -1;
            if (kind >= 0 && len < sizeof tmp && (enc == 'Q' || enc == 'B'))
                got = enc == 'Q' ? (long)s_qp(q2, len, tmp, 1) : s_base64(q2, len, tmp);
            if (got >= 0) {
                /* Drop the white space since the previous word. */
                if (last_word)
                    while (o && (out[o - 1] == ' ' || out[o - 1] == '\t'))
                        o--;
                size_t c = s_to_utf8(kind, tmp, (size_t)got, conv);
                for (size_t k = 0; k < c && o + 1 < cap; k++)
                    out[o++] = conv[k];
                last_word = 1;
                i = (size_t)(end - in) + 2;
                continue;
            }
        }
        if (in[i] != ' ' && in[i] != '\t')
            last_word = 0;
        out[o++] = in[i++];
    }
    /* Never end inside a UTF-8 sequence. */
    while (o && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
        o--;
    if (o && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
        o--;
    out[o] = 0;
    if (!s_utf8_valid(out, o))
        for (size_t k = 0; k < o; k++)
            if ((unsigned char)out[k] >= 0x80)
                out[k] = '?';
}

/* ---- MIME structure ------------------------------------------------------------ */

typedef struct {
    char type[64];      /* lower case, "text/plain" when absent */
    char boundary[201]; /* multipart only */
    char charset[41];
} s_ctype_t;

/* Content-Type's type and the parameters we use. */
static void s_content_type(const char *v, s_ctype_t *ct)
{
    size_t i = 0, o = 0;
    memset(ct, 0, sizeof *ct);
    while (v[i] && v[i] != ';' && !isspace((unsigned char)v[i]) && o + 1 < sizeof ct->type)
        ct->type[o++] = (char)tolower((unsigned char)v[i++]);
    ct->type[o] = 0;
    if (!o)
        snprintf(ct->type, sizeof ct->type, "text/plain");
    for (const char *p = strchr(v, ';'); p; p = strchr(p + 1, ';')) {
        const char *k = p + 1;
        while (isspace((unsigned char)*k))
            k++;
        const char *eq = strchr(k, '=');
        if (!eq)
            break;
        char *dst = !strncasecmp(k, "boundary", 8) && eq == k + 8  ? ct->boundary
                    : !strncasecmp(k, "charset", 7) && eq == k + 7 ? ct->charset
                                                                   : NULL;
        size_t cap = dst == ct->boundary ? sizeof ct->boundary : sizeof ct->charset;
        if (!dst)
            continue;
        const char *s = eq + 1;
        size_t n = 0;
        if (*s == '"') {
            s++;
            while (s[n] && s[n] != '"')
                n++;
        } else {
            while (s[n] && s[n] != ';' && !isspace((unsigned char)s[n]))
                n++;
        }
        snprintf(dst, cap, "%.*s", (int)n, s);
    }
}

/* Whether the line at s (n bytes left) is "--boundary" (`close`: followed by
 * "--"), then only white space. */
static int s_delimiter(const char *s, size_t n, const char *b, int *close)
{
    size_t bl = strlen(b), i;
    if (n < bl + 2 || s[0] != '-' || s[1] != '-' || strncmp(s + 2, b, bl))
        return 0;
    i = bl + 2;
    *close = i + 1 < n && s[i] == '-' && s[i + 1] == '-';
    if (*close)
        i += 2;
    for (; i < n && s[i] != '\n'; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The decoded text of the first text/plain part of (head, body) into out
 * (at least 2 * body.n + 1 bytes) with *len: 0; 1 when there is none; -1
 * with e filled. */
static int s_find_text(s_span_t head, s_span_t body, int depth, char *out, size_t *len,
                       crm_err_t *e)
{
    char v[S_HEADER_MAX];
    s_ctype_t ct;
    s_header(head, "Content-Type", v, sizeof v);
    s_content_type(v, &ct);
    if (!strncmp(ct.type, "multipart/", 10)) {
        if (depth >= SUPPORT_MAIL_DEPTH)
            return s_bad(e, "email nests its parts too deeply", NULL, "more than 4 levels");
        if (!ct.boundary[0])
            return s_bad(e, "multipart email has no boundary", NULL, ct.type);
        const char *part = NULL;
        for (size_t i = 0; i < body.n;) {
            int close = 0;
            const char *line = body.p + i;
            if (s_delimiter(line, body.n - i, ct.boundary, &close)) {
                if (part) {
                    /* The part ends before the line break that precedes the
                     * delimiter. */
                    size_t n = (size_t)(line - part);
                    n -= n && part[n - 1] == '\n';
                    n -= n && part[n - 1] == '\r';
                    s_span_t ph, pb;
                    s_split((s_span_t){part, n}, &ph, &pb);
                    int rc = s_find_text(ph, pb, depth + 1, out, len, e);
                    if (rc <= 0)
                        return rc;
                }
                if (close)
                    return 1;
                const char *nl = memchr(line, '\n', body.n - i);
                if (!nl)
                    return 1;
                part = nl + 1;
                i = (size_t)(part - body.p);
                continue;
            }
            const char *nl = memchr(line, '\n', body.n - i);
            if (!nl)
                break;
            i = (size_t)(nl - body.p) + 1;
        }
        return 1; /* no closing delimiter: what was found so far is all */
    }
    if (strcmp(ct.type, "text/plain") != 0)
        return 1;
    int cs = s_charset(ct.charset);
    if (cs < 0)
        return crm_err_set(e, S_INVALID, "raw", "email charset is not supported",
                           "send the mail as UTF-8, US-ASCII or ISO-8859-1", "charset \"%s\"",
                           ct.charset);
    s_header(head, "Content-Transfer-Encoding", v, sizeof v);
    char *raw = malloc(body.n + 1);
    if (!raw)
        return crm_err_set(e, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL, "out of memory",
                           NULL, "%s", "");
    long n;
    if (!strcasecmp(v, "quoted-printable"))
        n = (long)s_qp(body.p, body.n, raw, 0);
    else if (!strcasecmp(v, "base64"))
        n = s_base64(body.p, body.n, raw);
    else if (!v[0] || !strcasecmp(v, "7bit") || !strcasecmp(v, "8bit") || !strcasecmp(v, "binary"))
        memcpy(raw, body.p, (size_t)(n = (long)body.n));
    else {
        free(raw);
        return crm_err_set(e, S_INVALID, "raw", "email transfer encoding is not supported", NULL,
                           "Content-Transfer-Encoding \"%.60s\"", v);
    }
    if (n < 0) {
        free(raw);
        return s_bad(e, "email text is not valid base64", NULL, NULL);
    }
    /* Line ends become "\n". */
    size_t o = 0, m = s_to_utf8(cs, raw, (size_t)n, out);
    for (size_t i = 0; i < m; i++)
        if (!(out[i] == '\r' && i + 1 < m && out[i + 1] == '\n'))
            out[o++] = out[i];
    out[o] = 0;
    free(raw);
    if (!s_utf8_valid(out, o))
        return s_bad(e, "email text is not valid in its charset",
                     "send the mail as UTF-8, US-ASCII or ISO-8859-1", ct.charset);
    *len = o;
    return 0;
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

/* "Name <addr>", "\"Name\" <addr>" or "addr" into out. */
static int s_from(const char *v, support_mail_t *out)
{
    const char *lt = strrchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    char name[S_HEADER_MAX];
    size_t n;
    if (lt && gt) {
        if ((size_t)(gt - lt - 1) >= sizeof out->from)
            return -1;
        memcpy(out->from, lt + 1, (size_t)(gt - lt - 1));
        out->from[gt - lt - 1] = 0;
        n = (size_t)(lt - v);
        while (n && isspace((unsigned char)v[n - 1]))
            n--;
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
            snprintf(name, sizeof name, "%.*s", (int)(n - 2), v + 1);
        else
            snprintf(name, sizeof name, "%.*s", (int)n, v);
        s_words(name, out->name, sizeof out->name);
    } else {
        /* An address longer than any address can be is no address. */
        if (strlen(v) >= sizeof out->from)
            return -1;
        memcpy(out->from, v, strlen(v) + 1);
    }
    const char *t;
    n = crm_trim(out->from, &t);
    memmove(out->from, t, n);
    out->from[n] = 0;
    return strchr(out->from, '@') ? 0 : -1;
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

int support_mail_parse(const char *raw, size_t len, char *buf, support_mail_t *out, crm_err_t *e)
{
    char v[S_HEADER_MAX];
    s_span_t head, body;
    memset(out, 0, sizeof *out);
    if (!raw || !len)
        return s_bad(e, "email is empty", "give the message as received, headers and body", NULL);
    s_split((s_span_t){raw, len}, &head, &body);
    if (!s_header(head, "From", v, sizeof v) || s_from(v, out) < 0)
        return s_bad(e, "email has no sender address", "the From header names the customer", v);
    s_header(head, "Subject", v, sizeof v);
    s_words(v, out->subject, sizeof out->subject);
    s_ticket_ref(out->subject, out->ticket_id);
    if (!out->ticket_id[0] && s_header(head, "In-Reply-To", v, sizeof v))
        s_thread_ref(v, out->ticket_id);
    if (!out->ticket_id[0] && s_header(head, "References", v, sizeof v))
        s_thread_ref(v, out->ticket_id);
    size_t n = 0;
    int rc = s_find_text(head, body, 0, buf, &n, e);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return s_bad(e, "email has no text part",
                     "send the message with a text/plain part (not only HTML)", NULL);
    out->body = s_unquote(buf);
    return 0;
}
