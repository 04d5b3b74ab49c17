/* mime.c: email messages built and read with GMime (crm/mime.h). GMime
 * does the MIME structure, the transfer encodings, the RFC 2047 words and
 * the charset conversions (through iconv); this file only says what goes
 * where, and reduces an HTML part to text (GMime converts text to HTML,
 * not back). */
#include <crm/mime.h>

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_init(void)
{
    g_mime_init();
}

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- building ------------------------------------------------------------ */

/* s with CR and LF as spaces (a header value cannot start another header). */
static char *s_line(const char *s)
{
    char *o = g_strdup(s ? s : "");
    for (char *c = o; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    return o;
}

static int s_address_ok(const char *a)
{
    return a && *a && !strpbrk(a, "\r\n<>,\"") && strchr(a, '@');
}

static GMimeObject *s_text_part(const char *subtype, const char *text)
{
    GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
    /* Sets charset=utf-8 (or us-ascii); the encoding is chosen below. */
    g_mime_text_part_set_text(p, text);
    return GMIME_OBJECT(p);
}

/* Whether s is empty or message ids without brackets (one, or several
 * separated by spaces when `many`). */
static int s_ids_ok(const char *s, int many)
{
    if (!s || !*s)
        return 1;
    if (strpbrk(s, "\r\n<>\t"))
        return 0;
    return many || !strchr(s, ' ');
}

/* A header of message ids in angle brackets, one a line, set raw (GMime
 * would fold a long id into RFC 2047 words, which no client reads here). */
static void s_raw_ids(GMimeMessage *msg, const char *name, const char *ids)
{
    if (!ids || !*ids)
        return;
    GString *v = g_string_new(NULL);
    for (const char *p = ids; *p;) {
        size_t n = strcspn(p, " ");
        if (n)
            g_string_append_printf(v, "%s<%.*s>", v->len ? "\n " : " ", (int)n, p);
        p += n;
        p += *p == ' ';
    }
    g_string_append_c(v, '\n');
    g_mime_object_set_header(GMIME_OBJECT(msg), name, "-", NULL);
    GMimeHeader *h =
        g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(msg)), name);
    g_mime_header_set_raw_value(h, v->str);
    g_string_free(v, TRUE);
}

char *crm_mime_build(const crm_mime_mail_t *m, size_t *len, char *err, size_t errlen)
{
    pthread_once(&s_once, s_init);
    if (!s_address_ok(m->from) || !s_address_ok(m->to)) {
        s_fail(err, errlen, "sender or recipient is not a plain address");
        return NULL;
    }
    if (!m->text || !m->message_id || !*m->message_id || strpbrk(m->message_id, "\r\n<> ")) {
        s_fail(err, errlen, "message has no text or no valid Message-ID");
        return NULL;
    }
    if (!s_ids_ok(m->in_reply_to, 0) || !s_ids_ok(m->references, 1)) {
        s_fail(err, errlen, "In-Reply-To or References holds an invalid message id");
        return NULL;
    }
    GMimeMessage *msg = g_mime_message_new(TRUE);
    char *from_name = s_line(m->from_name), *to_name = s_line(m->to_name);
    char *subject = s_line(m->subject);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, from_name, m->from);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, to_name, m->to);
    g_mime_message_set_subject(msg, subject, "utf-8");
    g_mime_message_set_message_id(msg, m->message_id);
    GDateTime *date = g_date_time_new_from_unix_utc(m->date_us / 1000000);
    g_mime_message_set_date(msg, date);
    g_date_time_unref(date);
    g_free(from_name);
    g_free(to_name);
    g_free(subject);

    /* RFC 2369: each URL in angle brackets; RFC 8058: the POST header
     * only with an https URL, which a mail client then calls itself. */
    GString *lu = g_string_new(NULL);
    int one_click = 0;
    if (m->unsubscribe_url && *m->unsubscribe_url) {
        char *u = s_line(m->unsubscribe_url);
        g_string_append_printf(lu, " <%s>", u);
        one_click = strncmp(u, "https://", 8) == 0;
        g_free(u);
    }
    if (m->unsubscribe_mail && *m->unsubscribe_mail) {
        char *u = s_line(m->unsubscribe_mail);
        g_string_append_printf(lu, "%s <%s>", lu->len ? ",\n" : "", u);
        g_free(u);
    }
    if (lu->len) {
        /* Set raw, one URL a line: GMime would fold a long token into
         * RFC 2047 words, which no client reads in this header. */
        g_string_append_c(lu, '\n');
        g_mime_object_set_header(GMIME_OBJECT(msg), "List-Unsubscribe", "-", NULL);
        GMimeHeader *h = g_mime_header_list_get_header(
            g_mime_object_get_header_list(GMIME_OBJECT(msg)), "List-Unsubscribe");
        g_mime_header_set_raw_value(h, lu->str);
    }
    s_raw_ids(msg, "In-Reply-To", m->in_reply_to);
    s_raw_ids(msg, "References", m->references);
    if (one_click)
        g_mime_object_set_header(GMIME_OBJECT(msg), "List-Unsubscribe-Post",
                                 "List-Unsubscribe=One-Click", NULL);
    g_string_free(lu, TRUE);

    /* A text ends with a line break, as a file of lines does. */
    size_t tl = strlen(m->text);
    char *text_nl = g_strconcat(m->text, tl && m->text[tl - 1] == '\n' ? "" : "\n", NULL);
    GMimeObject *body = s_text_part("plain", text_nl);
    g_free(text_nl);
    if (m->html && *m->html) {
        GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
        g_mime_multipart_add(alt, body);
        g_object_unref(body);
        GMimeObject *html = s_text_part("html", m->html);
        g_mime_multipart_add(alt, html);
        g_object_unref(html);
        body = GMIME_OBJECT(alt);
    }
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);
    /* Quoted-printable or base64, whichever is shorter, for any 8-bit
     * part: the relay need not speak 8BITMIME. */
    g_mime_object_encode(GMIME_OBJECT(msg), GMIME_ENCODING_CONSTRAINT_7BIT);

    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    char *text = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    char *out = text ? strdup(text) : NULL;
    g_free(text);
    if (!out) {
        s_fail(err, errlen, "out of memory");
        return NULL;
    }
    *len = strlen(out);
    return out;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct {
    GMimeTextPart *plain, *html;
    GString *attachments;
    size_t n_attachments;
} s_walk_t;

static void s_visit(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    s_walk_t *w = data;
    (void)parent;
    if (!GMIME_IS_PART(part))
        return;
    GMimePart *p = GMIME_PART(part);
    if (g_mime_part_is_attachment(p) || !GMIME_IS_TEXT_PART(part)) {
        if (GMIME_IS_MULTIPART(part) || GMIME_IS_MESSAGE_PART(part))
            return;
        /* Noted by name and decoded size. */
        const char *name = g_mime_part_get_filename(p);
        GMimeStream *null = g_mime_stream_null_new();
        GMimeDataWrapper *content = g_mime_part_get_content(p);
        if (content)
            g_mime_data_wrapper_write_to_stream(content, null);
        size_t size = (size_t)GMIME_STREAM_NULL(null)->written;
        g_object_unref(null);
        char *clean = s_line(name && *name ? name : "unnamed");
        g_string_append_printf(w->attachments, "\n[attachment: %s, %zu bytes]", clean, size);
        g_free(clean);
        w->n_attachments++;
        return;
    }
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    if (!w->plain && g_mime_content_type_is_type(ct, "text", "plain"))
        w->plain = GMIME_TEXT_PART(part);
    else if (!w->html && g_mime_content_type_is_type(ct, "text", "html"))
        w->html = GMIME_TEXT_PART(part);
}

static char *s_dup(const char *s)
{
    return strdup(s ? s : "");
}

/* A charset iconv knows (none given means US-ASCII). */
static int s_charset_known(GMimeTextPart *p)
{
    const char *cs = g_mime_text_part_get_charset(p);
    if (!cs || !*cs)
        return 1;
    GIConv cd = g_mime_iconv_open("UTF-8", cs);
    if (cd == (GIConv)-1)
        return 0;
    g_mime_iconv_close(cd);
    return 1;
}

/* 1 when a part labelled UTF-8 holds bytes that are not UTF-8 (GMime
 * would drop them silently: the customer's text would be lost unseen). */
static int s_bad_utf8(GMimeTextPart *p)
{
    const char *cs = g_mime_text_part_get_charset(p);
    if (!cs || (g_ascii_strcasecmp(cs, "utf-8") && g_ascii_strcasecmp(cs, "utf8")))
        return 0;
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(p));
    if (!content)
        return 0;
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(content, mem);
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    int bad = !g_utf8_validate((const char *)bytes->data, (gssize)bytes->len, NULL);
    g_object_unref(mem);
    return bad;
}

int crm_mime_parse(const char *raw, size_t len, crm_mime_in_t *out, char *err, size_t errlen)
{
    pthread_once(&s_once, s_init);
    memset(out, 0, sizeof *out);
    if (!raw || !len)
        return s_fail(err, errlen, "email is empty");
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    if (!msg)
        return s_fail(err, errlen, "email is not a message");
    int rc = -1;
    s_walk_t w = {NULL, NULL, g_string_new(NULL), 0};
    InternetAddressList *from = g_mime_message_get_from(msg);
    InternetAddress *ia = from && internet_address_list_length(from) > 0
                              ? internet_address_list_get_address(from, 0)
                              : NULL;
    const char *addr = ia && INTERNET_ADDRESS_IS_MAILBOX(ia)
                           ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
                           : NULL;
    if (!addr || !strchr(addr, '@')) {
        s_fail(err, errlen, "email has no sender address");
        goto done;
    }
    const char *name = internet_address_get_name(ia);
    out->from = s_dup(addr);
    out->from_name = s_line(name);
    char *subject = s_line(g_mime_message_get_subject(msg));
    out->subject = s_dup(subject);
    g_free(subject);
    out->message_id = s_dup(g_mime_message_get_message_id(msg));
    out->in_reply_to = s_dup(g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"));
    out->references = s_dup(g_mime_object_get_header(GMIME_OBJECT(msg), "References"));
    if (!out->from || !out->from_name || !out->subject || !out->message_id || !out->in_reply_to ||
        !out->references) {
        s_fail(err, errlen, "out of memory");
        goto done;
    }
    g_mime_message_foreach(msg, s_visit, &w);
    /* A single-part message is its own body part. */
    GMimeObject *top = g_mime_message_get_mime_part(msg);
    if (top && !GMIME_IS_MULTIPART(top) && !w.plain && !w.html && !w.n_attachments)
        s_visit(NULL, top, &w);
    GMimeTextPart *tp = w.plain ? w.plain : w.html;
    if (!tp) {
        s_fail(err, errlen, "email has no text part");
        goto done;
    }
    if (!s_charset_known(tp)) {
        s_fail(err, errlen, "email charset is not supported: %.40s",
               g_mime_text_part_get_charset(tp));
        goto done;
    }
    char *text = s_bad_utf8(tp) ? NULL : g_mime_text_part_get_text(tp);
    if (!text || !g_utf8_validate(text, -1, NULL)) {
        g_free(text);
        s_fail(err, errlen, "email text is not valid in its charset");
        goto done;
    }
    /* Lines end in LF alone (the wire's CRLF is no part of the text). */
    char *o = text;
    for (const char *c = text; *c; c++)
        if (!(c[0] == '\r' && c[1] == '\n'))
            *o++ = *c;
    *o = 0;
    char *plain = w.plain ? strdup(text) : crm_mime_html_to_text(text);
    g_free(text);
    if (plain) {
        size_t n = strlen(plain);
        out->text = malloc(n + w.attachments->len + 1);
        if (out->text) {
            memcpy(out->text, plain, n);
            memcpy(out->text + n, w.attachments->str, w.attachments->len + 1);
        }
    }
    free(plain);
    if (!out->text) {
        s_fail(err, errlen, "out of memory");
        goto done;
    }
    out->from_html = !w.plain;
    out->n_attachments = w.n_attachments;
    rc = 0;
done:
    g_string_free(w.attachments, TRUE);
    g_object_unref(msg);
    return rc;
}

void crm_mime_in_clear(crm_mime_in_t *m)
{
    free(m->from);
    free(m->from_name);
    free(m->subject);
    free(m->message_id);
    free(m->in_reply_to);
    free(m->references);
    free(m->text);
    memset(m, 0, sizeof *m);
}

/* ---- HTML to text -------------------------------------------------------- */

static const struct {
    const char *name;
    const char *utf8;
} s_entities[] = {{"amp", "&"},
                  {"lt", "<"},
                  {"gt", ">"},
                  {"quot", "\""},
                  {"apos", "'"},
                  {"nbsp", " "},
                  {"copy", "\xc2\xa9"},
                  {"euro", "\xe2\x82\xac"},
                  {"hellip", "\xe2\x80\xa6"},
                  {"mdash", "\xe2\x80\x94"},
                  {"ndash", "\xe2\x80\x93"}};

/* Appends the character reference at *p ("&...;") and advances past it;
 * a reference it does not know is kept as written. */
static void s_entity(GString *o, const char **p)
{
    const char *s = *p + 1, *semi = strchr(s, ';');
    if (!semi || semi - s > 10) {
        g_string_append_c(o, '&');
        *p += 1;
        return;
    }
    size_t n = (size_t)(semi - s);
    if (s[0] == '#') {
        unsigned long cp =
            s[1] == 'x' || s[1] == 'X' ? strtoul(s + 2, NULL, 16) : strtoul(s + 1, NULL, 10);
        if (cp > 0 && cp <= 0x10FFFF && g_unichar_validate((gunichar)cp)) {
            g_string_append_unichar(o, (gunichar)cp);
            *p = semi + 1;
            return;
        }
    } else {
        for (size_t i = 0; i < sizeof s_entities / sizeof s_entities[0]; i++)
            if (strlen(s_entities[i].name) == n && !strncmp(s, s_entities[i].name, n)) {
                g_string_append(o, s_entities[i].utf8);
                *p = semi + 1;
                return;
            }
    }
    g_string_append_c(o, '&');
    *p += 1;
}

static int s_tag_is(const char *t, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n >= k && !g_ascii_strncasecmp(t, name, k) &&
           (n == k || t[k] == ' ' || t[k] == '/' || t[k] == '\t' || t[k] == '\n' || t[k] == '>');
}

char *crm_mime_html_to_text(const char *html)
{
    static const char *const breaks[] = {"br",  "p",   "/p",    "div",    "/div",      "li",
                                         "tr",  "/tr", "h1",    "h2",     "h3",        "h4",
                                         "/h1", "/h2", "/h3",   "/h4",    "ul",        "/ul",
                                         "ol",  "/ol", "table", "/table", "blockquote"};
    GString *o = g_string_new(NULL);
    const char *p = html;
    int space = 1; /* collapse white space as a browser does */
    while (*p) {
        if (*p == '<') {
            const char *end = strchr(p, '>');
            if (!end)
                break;
            const char *t = p + 1;
            size_t n = (size_t)(end - t);
            if (n >= 3 && !strncmp(t, "!--", 3)) {
                const char *c = strstr(t, "-->");
                p = c ? c + 3 : t + strlen(t);
                continue;
            }
            if (s_tag_is(t, n, "script") || s_tag_is(t, n, "style") || s_tag_is(t, n, "head")) {
                char close[10];
                snprintf(close, sizeof close, "</%s",
                         s_tag_is(t, n, "script")  ? "script"
                         : s_tag_is(t, n, "style") ? "style"
                                                   : "head");
                const char *c = strcasestr(end, close);
                const char *ce = c ? strchr(c, '>') : NULL;
                p = ce ? ce + 1 : end + strlen(end);
                continue;
            }
            for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++)
                if (s_tag_is(t, n, breaks[i])) {
                    g_string_append_c(o, '\n');
                    space = 1;
                    break;
                }
            p = end + 1;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            if (!space)
                g_string_append_c(o, ' ');
            space = 1;
            p++;
            continue;
        }
        space = 0;
        if (*p == '&')
            s_entity(o, &p);
        else
            g_string_append_c(o, *p++);
    }
    /* Trailing spaces of each line go, and at most one blank line stays. */
    GString *t = g_string_new(NULL);
    int newlines = 2;
    for (size_t i = 0; i < o->len; i++) {
        char c = o->str[i];
        if (c == '\n') {
            while (t->len && t->str[t->len - 1] == ' ')
                g_string_truncate(t, t->len - 1);
            if (++newlines <= 2)
                g_string_append_c(t, '\n');
            continue;
        }
        if (c == ' ' && newlines)
            continue;
        newlines = 0;
        g_string_append_c(t, c);
    }
    while (t->len && (t->str[t->len - 1] == '\n' || t->str[t->len - 1] == ' '))
        g_string_truncate(t, t->len - 1);
    g_string_free(o, TRUE);
    char *r = strdup(t->str);
    g_string_free(t, TRUE);
    return r;
}
