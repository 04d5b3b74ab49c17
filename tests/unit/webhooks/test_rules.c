/* Unit tests of services/webhooks/rules.c: the Standard Webhooks signature
 * against the test vector of the specification's reference libraries,
 * secrets, URLs, prefixes and the retry schedule with an injected RNG. */
#include "rules.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The reference libraries' vector: secret, msg id, timestamp, payload and
 * the signature they all produce. */
static void test_sign_vector(void **state)
{
    (void)state;
    uint8_t key[WH_KEY_MAX];
    size_t keylen = 0;
    crm_err_t e;
    assert_int_equal(
        wh_secret_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &keylen, "secret", &e), 0);
    assert_int_equal(keylen, 24);
    char sig[WH_SIGNATURE_LEN];
    const char *body = "{\"test\": 2432232314}";
    assert_int_equal(
        wh_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig),
        0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* One byte of the body changed: another signature. */
    const char *other = "{\"test\": 2432232315}";
    char sig2[WH_SIGNATURE_LEN];
    wh_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, other, strlen(other), sig2);
    assert_string_not_equal(sig, sig2);
}

static void test_secret(void **state)
{
    (void)state;
    char s[WH_SECRET_LEN], t[WH_SECRET_LEN];
    crm_err_t e;
    size_t keylen = 0;
    assert_int_equal(wh_secret_new(s), 0);
    assert_int_equal(wh_secret_new(t), 0);
    assert_memory_equal(s, "whsec_", 6);
    assert_string_not_equal(s, t);
    assert_int_equal(wh_secret_parse(s, NULL, &keylen, "secret", &e), 0);
    assert_int_equal(keylen, 32);
    assert_int_equal(wh_secret_parse("whsec_short", NULL, NULL, "secret", &e), -1);
    assert_string_equal(e.field, "secret");
    assert_null(strstr(e.message, "short")); /* never quoted */
    assert_int_equal(wh_secret_parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL, NULL, "s", &e), -1);
    assert_int_equal(wh_secret_parse("whsec_!!!!", NULL, NULL, "s", &e), -1);
}

static void test_url(void **state)
{
    (void)state;
    crm_err_t e;
    assert_int_equal(wh_check_url("https://example.com/hooks", "url", &e), 0);
    assert_int_equal(wh_check_url("http://127.0.0.1:8080/x?token=1", "url", &e), 0);
    assert_int_equal(wh_check_url("", "url", &e), -1);
    assert_int_equal(wh_check_url("ftp://example.com/", "url", &e), -1);
    assert_int_equal(wh_check_url("not a url", "url", &e), -1);
    assert_int_equal(wh_check_url("http://", "url", &e), -1);
    assert_int_equal(wh_check_url("http://exa mple.com/", "url", &e), -1);
    assert_string_equal(e.field, "url");
    char out[200];
    wh_url_redact("https://user:pw@example.com:8443/a/b?token=secret#f", out, sizeof out);
    assert_string_equal(out, "https://example.com:8443/a/b");
}

static void test_prefixes(void **state)
{
    (void)state;
    crm_err_t e;
    char *ok[] = {"crm.sales.", "crm.support.ticket.opened."};
    assert_int_equal(wh_check_prefixes(ok, 2, "event_types", &e), 0);
    assert_int_equal(wh_check_prefixes(ok, 0, "event_types", &e), -1);
    char *bad[] = {"sales."};
    assert_int_equal(wh_check_prefixes(bad, 1, "event_types", &e), -1);
    char *upper[] = {"crm.Sales."};
    assert_int_equal(wh_check_prefixes(upper, 1, "event_types", &e), -1);
}

static uint64_t s_fixed(void *arg)
{
    return *(uint64_t *)arg;
}

static void test_backoff(void **state)
{
    (void)state;
    uint64_t big = UINT64_MAX;
    /* The largest draw is the ceiling: base * 2^(attempt-1), capped. */
    assert_int_equal(wh_backoff_ms(1, 1000, 60000, s_fixed, &(uint64_t){1000}), 1000);
    assert_int_equal(wh_backoff_ms(3, 1000, 60000, s_fixed, &(uint64_t){4000}), 4000);
    assert_int_equal(wh_backoff_ms(3, 1000, 60000, s_fixed, &(uint64_t){4001}), 0);
    assert_int_equal(wh_backoff_ms(100, 1000, 60000, s_fixed, &(uint64_t){60000}), 60000);
    /* Full jitter: anything from 0 up to the ceiling. */
    assert_int_equal(wh_backoff_ms(2, 1000, 60000, s_fixed, &(uint64_t){0}), 0);
    int64_t v = wh_backoff_ms(10, 1000, 60000, s_fixed, &big);
    assert_true(v >= 0 && v <= 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_vector), cmocka_unit_test(test_secret),
        cmocka_unit_test(test_url),         cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
