/* Unit tests for services/support/mail.c: reading a customer's email (the
 * sender, the subject and its ticket reference, the text of the first
 * text/plain part, or of an HTML-only mail, decoded into UTF-8 from any
 * charset without the quoted mail; attachments noted), and the mails it
 * refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"

#include <crm/mime.h>

#include "crm/v1/rpc.pb-c.h"

#define INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define TICKET "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b"

/* Parses text; the decoded body lives in a static buffer. */
static int s_parse(const char *text, support_mail_t *m, crm_err_t *e)
{
    static char buf[65536];
    return support_mail_parse(text, strlen(text), buf, sizeof buf, m, e);
}

static void test_plain_reply_to_a_ticket(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    const char *mail = "Received: from mx.example.net\r\n"
                       "From: \"Vale, Rosa\" <Rosa.Vale@Example.COM>\r\n"
                       "To: help@crm.example\r\n"
                       "Subject: Re: Invoice is wrong\r\n"
                       " [ticket:" TICKET "]\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "\r\n"
                       "Here is the invoice number: 4711.\r\n"
                       "\r\n"
                       "On Mon, 23 Nov 2026, Help Desk wrote:\r\n"
                       "> Which invoice is it?\r\n"
                       ">\r\n"
                       "-- \r\n"
                       "Rosa\r\n";
    assert_int_equal(s_parse(mail, &m, &e), 0);
    assert_string_equal(m.from, "Rosa.Vale@Example.COM");
    assert_string_equal(m.name, "Vale, Rosa");
    /* The folded subject is unfolded; the reference is found in it. */
    assert_string_equal(m.subject, "Re: Invoice is wrong [ticket:" TICKET "]");
    assert_string_equal(m.ticket_id, TICKET);
    assert_string_equal(m.body, "Here is the invoice number: 4711.");
}

static void test_multipart_quoted_printable_latin1(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    /* The text part is the second of a multipart/alternative nested in a
     * multipart/mixed; ISO-8859-1 in quoted-printable with a soft line
     * break; the name and subject are encoded words (Q and B). */
    const char *mail = "From: =?UTF-8?Q?Ren=C3=A9?= =?UTF-8?B?IETDvHJy?= <rene@example.org>\n"
                       "Subject: =?iso-8859-1?Q?Caf=E9_machine?= broken\n"
                       "MIME-Version: 1.0\n"
                       "Content-Type: multipart/mixed; boundary=\"outer\"\n"
                       "\n"
                       "This is a multi-part message.\n"
                       "--outer\n"
                       "Content-Type: multipart/alternative; boundary=inner\n"
                       "\n"
                       "--inner\n"
                       "Content-Type: text/html; charset=utf-8\n"
                       "\n"
                       "<p>ignored</p>\n"
                       "--inner\n"
                       "Content-Type: text/plain; charset=\"ISO-8859-1\"\n"
                       "Content-Transfer-Encoding: quoted-printable\n"
                       "\n"
                       "Die Kaffeemaschine macht Ger=E4usche, seit dem Update l=\n"
                       "=E4uft sie nicht mehr.\n"
                       "--inner--\n"
                       "--outer\n"
                       "Content-Type: text/plain\n"
                       "Content-Disposition: attachment; filename=log.txt\n"
                       "\n"
                       "second text part: not read\n"
                       "--outer--\n";
    assert_int_equal(s_parse(mail, &m, &e), 0);
    assert_string_equal(m.from, "rene@example.org");
    assert_string_equal(m.name, "Ren\xc3\xa9 D\xc3\xbcrr");
    assert_string_equal(m.subject, "Caf\xc3\xa9 machine broken");
    assert_string_equal(m.ticket_id, "");
    assert_string_equal(m.body, "Die Kaffeemaschine macht Ger\xc3\xa4usche, seit dem Update "
                                "l\xc3\xa4uft sie nicht mehr.\n"
                                "[attachment: log.txt, 26 bytes]");
}

static void test_base64_and_bare_address(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    /* "Grüße aus Köln\n" in UTF-8, base64 over two lines. */
    const char *mail = "from: ana@example.net\n"
                       "subject: [TICKET:3F2B8C1E-9D4A-4E6B-8F0A-1C2D3E4F5A6B] thanks\n"
                       "content-transfer-encoding: BASE64\n"
                       "content-type: text/plain; charset=UTF-8\n"
                       "\n"
                       "R3LDvMOfZSBh\n"
                       "dXMgS8O2bG4K\n";
    assert_int_equal(s_parse(mail, &m, &e), 0);
    assert_string_equal(m.from, "ana@example.net");
    assert_string_equal(m.name, "");
    assert_string_equal(m.ticket_id, TICKET);
    assert_string_equal(m.body, "Gr\xc3\xbc\xc3\x9f"
                                "e aus K\xc3\xb6ln");
}

static void s_refused(const char *mail, const char *message)
{
    support_mail_t m;
    crm_err_t e;
    assert_int_equal(s_parse(mail, &m, &e), -1);
    assert_int_equal(e.code, INVALID);
    assert_string_equal(e.field, "raw");
    assert_string_equal(e.message, message);
}

/* An answer whose subject lost the tag finds its ticket by the Message-ID
 * of the agent's reply it answers (In-Reply-To, else References). */
static void test_threaded_by_in_reply_to(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    const char *mail = "From: rosa@example.com\r\n"
                       "Subject: Re: Invoice\r\n"
                       "In-Reply-To: <ticket." TICKET ".5e0c0b2c-0d0a-4c3e-9a53-1c1d6e0f3a20"
                       "@desk.example>\r\n"
                       "\r\n"
                       "Still wrong.\r\n";
    assert_int_equal(s_parse(mail, &m, &e), 0);
    assert_string_equal(m.ticket_id, TICKET);
    const char *refs = "From: rosa@example.com\r\n"
                       "Subject: Invoice\r\n"
                       "In-Reply-To: <unrelated@mail.example>\r\n"
                       "References: <a@b> <ticket." TICKET ".0@desk.example>\r\n"
                       "\r\n"
                       "Still wrong.\r\n";
    assert_int_equal(s_parse(refs, &m, &e), 0);
    assert_string_equal(m.ticket_id, TICKET);
    const char *none = "From: rosa@example.com\r\nSubject: Hello\r\n"
                       "In-Reply-To: <ticket.not-a-uuid.0@desk.example>\r\n\r\nHi.\r\n";
    assert_int_equal(s_parse(none, &m, &e), 0);
    assert_string_equal(m.ticket_id, "");
}

static void test_refused(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    char buf[8];
    assert_int_equal(support_mail_parse("", 0, buf, sizeof buf, &m, &e), -1);
    assert_string_equal(e.message, "email is empty");
    s_refused("Subject: hi\n\nno sender\n", "email has no sender address");
    s_refused("From: Someone <not-an-address>\n\nx\n", "email has no sender address");
    s_refused("From: a@b.io\nContent-Type: text/plain; charset=x-no-such-charset\n\n\xc1\n",
              "email charset is not supported");
    s_refused("From: a@b.io\nContent-Type: text/plain; charset=utf-8\n\n\xff\xfe\n",
              "email text is not valid in its charset");
    /* A multipart without a text part. */
    s_refused("From: a@b.io\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
              "Content-Type: image/png\n\nPNG\n--b--\n",
              "email has no text part");
}

static void test_windows_1252(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    /* 0x80 is the euro sign in windows-1252 (not in ISO-8859-1), 0x93 and
     * 0x94 curly quotes, 0xE9 e-acute; sent as 8-bit. */
    const char *mail = "From: =?windows-1252?Q?Ren=E9e?= <renee@example.fr>\n"
                       "Subject: =?windows-1252?Q?Facture_=80?=\n"
                       "Content-Type: text/plain; charset=windows-1252\n"
                       "Content-Transfer-Encoding: 8bit\n"
                       "\n"
                       "La facture \x93TVA\x94 dit 120 \x80, pas 100 \x80. Merci, Ren\xe9"
                       "e\n";
    assert_int_equal(s_parse(mail, &m, &e), 0);
    assert_string_equal(m.name, "Ren\xc3\xa9"
                                "e");
    assert_string_equal(m.subject, "Facture \xe2\x82\xac");
    assert_string_equal(m.body, "La facture \xe2\x80\x9cTVA\xe2\x80\x9d dit 120 \xe2\x82\xac, pas "
                                "100 \xe2\x82\xac. Merci, Ren\xc3\xa9"
                                "e");
}

static void test_iso_2022_jp(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    /* "注文" (order) and "届きません" in ISO-2022-JP: 7-bit, with escape
     * sequences; the subject as a B encoded word. */
    const char *mail = "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>\n"
                       "Subject: =?ISO-2022-JP?B?GyRCQ21KOBsoQg==?=\n"
                       "Content-Type: text/plain; charset=ISO-2022-JP\n"
                       "Content-Transfer-Encoding: 7bit\n"
                       "\n"
                       "\x1b$BCmJ8$,FO$-$^$;$s\x1b(B\n";
    assert_int_equal(s_parse(mail, &m, &e), 0);
    assert_string_equal(m.from, "yamada@example.jp");
    assert_string_equal(m.name, "\xe5\xb1\xb1\xe7\x94\xb0");           /* 山田 */
    assert_string_equal(m.subject, "\xe6\xb3\xa8\xe6\x96\x87");        /* 注文 */
    assert_string_equal(m.body, "\xe6\xb3\xa8\xe6\x96\x87\xe3\x81\x8c" /* 注文が */
                                "\xe5\xb1\x8a\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93");
}

static void test_html_only_and_attachment(void **state)
{
    (void)state;
    support_mail_t m;
    crm_err_t e;
    const char *mail = "From: bo@example.com\n"
                       "Subject: broken\n"
                       "Content-Type: multipart/mixed; boundary=b\n"
                       "\n"
                       "--b\n"
                       "Content-Type: text/html; charset=utf-8\n"
                       "\n"
                       "<html><head><style>p{color:red}</style></head><body>"
                       "<p>The <b>app</b> crashes &amp; shows&nbsp;&#8220;E42&#8221;.</p>"
                       "<p>Screenshot attached.</p><script>x()</script></body></html>\n"
                       "--b\n"
                       "Content-Type: image/png\n"
                       "Content-Disposition: attachment; filename=\"screen shot.png\"\n"
                       "Content-Transfer-Encoding: base64\n"
                       "\n"
                       "iVBORw0KGgo=\n"
                       "--b--\n";
    assert_int_equal(s_parse(mail, &m, &e), 0);
    assert_string_equal(m.body, "The app crashes & shows \xe2\x80\x9c"
                                "E42\xe2\x80\x9d.\n\n"
                                "Screenshot attached.\n"
                                "[attachment: screen shot.png, 8 bytes]");
}

/* An agent's reply as reply_mail.c builds it with crm/mime.h: threaded
 * with In-Reply-To and References (one id a line, in angle brackets), a
 * Persian subject and name RFC 2047-encoded, 7-bit clean, and read back by
 * the same parser the help desk uses for the customer's answer. */
static void test_reply_built_threaded(void **state)
{
    (void)state;
    crm_mime_mail_t mm = {
        .from = "help@desk.example",
        .to = "mina@customer.example",
        .to_name = "مینا",
        .subject = "Re: چاپگر [ticket:" TICKET "]",
        .text = "Please unplug it.\nThen call us.",
        .message_id = "ticket." TICKET ".2@desk.example",
        .date_us = 1795000000000000LL,
        .in_reply_to = "ticket." TICKET ".1@desk.example",
        .references = "ticket." TICKET ".0@desk.example ticket." TICKET ".1@desk.example",
    };
    char err[200];
    size_t len;
    char *raw = crm_mime_build(&mm, &len, err, sizeof err);
    assert_non_null(raw);
    assert_non_null(strstr(raw, "\r\nIn-Reply-To: <ticket." TICKET ".1@desk.example>\r\n"));
    assert_non_null(strstr(raw, "\r\nReferences: <ticket." TICKET ".0@desk.example>\r\n"
                                " <ticket." TICKET ".1@desk.example>\r\n"));
    assert_non_null(strstr(raw, "Message-Id: <ticket." TICKET ".2@desk.example>\r\n"));
    for (size_t i = 0; i < len; i++)
        assert_true((unsigned char)raw[i] < 0x80);
    crm_mime_in_t in;
    assert_int_equal(crm_mime_parse(raw, len, &in, err, sizeof err), 0);
    assert_string_equal(in.subject, "Re: چاپگر [ticket:" TICKET "]");
    assert_string_equal(in.in_reply_to, "<ticket." TICKET ".1@desk.example>");
    assert_string_equal(in.text, "Please unplug it.\nThen call us.\n");
    crm_mime_in_clear(&in);
    free(raw);
    /* An id that would close the bracket and add another is refused. */
    mm.references = "a@b> <c@d";
    assert_null(crm_mime_build(&mm, &len, err, sizeof err));
    assert_non_null(strstr(err, "References"));
    mm.references = NULL;
    mm.in_reply_to = "x@y\r\nBcc: z@w";
    assert_null(crm_mime_build(&mm, &len, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_reply_to_a_ticket),
        cmocka_unit_test(test_multipart_quoted_printable_latin1),
        cmocka_unit_test(test_base64_and_bare_address),
        cmocka_unit_test(test_threaded_by_in_reply_to),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_windows_1252),
        cmocka_unit_test(test_iso_2022_jp),
        cmocka_unit_test(test_html_only_and_attachment),
        cmocka_unit_test(test_reply_built_threaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
