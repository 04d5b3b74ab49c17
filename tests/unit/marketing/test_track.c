/* Unit tests for services/marketing/track.c and mail.c: signed tracking
 * tokens (round trip, a changed byte, another key, expiry, a click's
 * target) and the campaign mail built from them (headers, the HTML part's
 * links and pixel, no header injection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"
#include "track.h"

static const uint8_t s_key[] = "0123456789abcdef0123456789abcdef";
#define KEYLEN 32
#define CAMPAIGN "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b"
#define CUSTOMER "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10"
#define DELIVERY "0b0f9a2c-1d2e-4f30-8a4b-5c6d7e8f9a0b"

static void s_fill(mkt_track_t *t, int kind, const char *url)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    strcpy(t->campaign_id, CAMPAIGN);
    strcpy(t->customer_id, CUSTOMER);
    strcpy(t->delivery_id, DELIVERY);
    t->expires_s = 2000000000;
    strcpy(t->url, url);
}

static void test_round_trip(void **state)
{
    (void)state;
    mkt_track_t t, out;
    char tok[MKT_TRACK_TOKEN_MAX], again[MKT_TRACK_TOKEN_MAX];
    s_fill(&t, MKT_TRACK_CLICK, "https://shop.example/a?b=1&c=2");
    assert_int_equal(mkt_track_sign(s_key, KEYLEN, &t, tok, sizeof tok), 0);
    assert_null(strpbrk(tok, "+/=")); /* base64url, no padding */
    assert_int_equal(mkt_track_verify(s_key, KEYLEN, tok, 1900000000, &out), 0);
    assert_int_equal(out.kind, MKT_TRACK_CLICK);
    assert_string_equal(out.campaign_id, CAMPAIGN);
    assert_string_equal(out.customer_id, CUSTOMER);
    assert_string_equal(out.delivery_id, DELIVERY);
    assert_string_equal(out.url, "https://shop.example/a?b=1&c=2");
    assert_int_equal(strlen(out.digest), 64);
    /* Deterministic: the same fields give the same token and digest. */
    assert_int_equal(mkt_track_sign(s_key, KEYLEN, &t, again, sizeof again), 0);
    assert_string_equal(tok, again);
    /* Another kind is another token. */
    s_fill(&t, MKT_TRACK_OPEN, "");
    assert_int_equal(mkt_track_sign(s_key, KEYLEN, &t, again, sizeof again), 0);
    assert_string_not_equal(tok, again);
}

static void test_forged_and_expired(void **state)
{
    (void)state;
    mkt_track_t t, out;
    char tok[MKT_TRACK_TOKEN_MAX];
    s_fill(&t, MKT_TRACK_UNSUBSCRIBE, "");
    assert_int_equal(mkt_track_sign(s_key, KEYLEN, &t, tok, sizeof tok), 0);
    /* Every single changed character is refused. */
    for (size_t i = 0; tok[i]; i++) {
        char bad[MKT_TRACK_TOKEN_MAX];
        strcpy(bad, tok);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(mkt_track_verify(s_key, KEYLEN, bad, 0, &out), MKT_TRACK_FORGED);
    }
    static const uint8_t other[] = "another key, also of 32 bytes!!!";
    assert_int_equal(mkt_track_verify(other, 32, tok, 0, &out), MKT_TRACK_FORGED);
    assert_int_equal(mkt_track_verify(s_key, KEYLEN, "", 0, &out), MKT_TRACK_FORGED);
    assert_int_equal(mkt_track_verify(s_key, KEYLEN, "!!notbase64!!", 0, &out), MKT_TRACK_FORGED);
    tok[strlen(tok) - 4] = 0; /* cut */
    assert_int_equal(mkt_track_verify(s_key, KEYLEN, tok, 0, &out), MKT_TRACK_FORGED);
    /* Expired: a second after its expiry, not at it. */
    assert_int_equal(mkt_track_sign(s_key, KEYLEN, &t, tok, sizeof tok), 0);
    assert_int_equal(mkt_track_verify(s_key, KEYLEN, tok, 2000000000, &out), 0);
    assert_int_equal(mkt_track_verify(s_key, KEYLEN, tok, 2000000001, &out), MKT_TRACK_EXPIRED);
    /* Bad fields cannot be signed. */
    strcpy(t.customer_id, "not-a-uuid");
    assert_int_equal(mkt_track_sign(s_key, KEYLEN, &t, tok, sizeof tok), -1);
}

static void test_mail(void **state)
{
    (void)state;
    mkt_mail_conf_t c = {"news@shop.example",
                         "Shop \xc3\x9c"
                         "ber",
                         "",
                         s_key,
                         KEYLEN,
                         "https://crm.example",
                         86400};
    mkt_mail_in_t in = {DELIVERY,
                        CAMPAIGN,
                        CUSTOMER,
                        "ann@people.io",
                        "\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85\r\nBcc: x@evil.example",
                        "See https://shop.example/x?a=1&b=<2>. Bye",
                        "Ann\r\nCc: y@evil.example"};
    char mid[300], err[160];
    size_t len = 0;
    char *m = mkt_mail_compose(&c, &in, INT64_C(1780000000) * 1000000, mid, &len, err, sizeof err);
    assert_non_null(m);
    assert_string_equal(mid, DELIVERY "@shop.example");
    assert_int_equal(strlen(m), len);
    char *body = strstr(m, "\r\n\r\n");
    assert_non_null(body);
    *body = 0; /* the header block */
    assert_non_null(strstr(m, "Message-Id: <" DELIVERY "@shop.example>\r\n"));
    assert_non_null(strcasestr(m, "Subject: =?utf-8?"));
    assert_null(strstr(m, "\r\nBcc:"));
    assert_null(strstr(m, "\r\nCc:"));
    /* "From: Shop =?iso-8859-1?b?...?= <news@shop.example>": the name encoded. */
    char *from = strstr(m, "From: "), *eol = from ? strstr(from, "\r\n") : NULL;
    assert_non_null(eol);
    *eol = 0;
    assert_non_null(strstr(from, "=?")); /* GMime picks the charset: iso-8859-1 here */
    assert_non_null(strstr(from, " <news@shop.example>"));
    *eol = '\r';
    assert_non_null(strstr(m, "List-Unsubscribe: <https://crm.example/t/u/"));
    assert_non_null(strstr(m, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    assert_non_null(strstr(m, "<mailto:news@shop.example?subject=unsubscribe>"));
    assert_non_null(strstr(m, "multipart/alternative"));
    free(m);
    /* The HTML part: the link through the click URL (its '<' not part of
     * it), the text escaped, the pixel. */
    char *html = mkt_mail_html(&c, &in, 2000000000);
    assert_non_null(html);
    assert_non_null(strstr(html, "See <a href=\"https://crm.example/t/c/"));
    assert_non_null(strstr(html, "\">https://shop.example/x?a=1&amp;b=</a>&lt;2&gt;. Bye"));
    assert_non_null(strstr(html, "<img src=\"https://crm.example/t/o/"));
    free(html);
    /* Tracking off: the link as written, no pixel, only the mailto. */
    c.key = NULL;
    html = mkt_mail_html(&c, &in, 2000000000);
    assert_non_null(strstr(html, "<a href=\"https://shop.example/x?a=1&amp;b=\">"));
    assert_null(strstr(html, "<img"));
    free(html);
    m = mkt_mail_compose(&c, &in, INT64_C(1780000000) * 1000000, mid, &len, err, sizeof err);
    assert_null(strstr(m, "/t/u/"));
    assert_null(strstr(m, "List-Unsubscribe-Post"));
    free(m);
    /* An address that could add a recipient or a header is refused. */
    in.address = "ann@people.io>, <x@evil.example";
    assert_null(mkt_mail_compose(&c, &in, 0, mid, &len, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_forged_and_expired),
        cmocka_unit_test(test_mail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
