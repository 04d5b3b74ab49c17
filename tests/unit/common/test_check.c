/* Unit tests for common/src/check.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <crm/check.h>

#include "crm/v1/rpc.pb-c.h"

#define INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT

static void test_err_set(void **state)
{
    crm_err_t e;
    assert_int_equal(crm_err_set(&e, INVALID, "a.b", "bad", "fix it", "got %d", 7), -1);
    assert_int_equal(e.code, INVALID);
    assert_string_equal(e.field, "a.b");
    assert_string_equal(e.message, "bad");
    assert_string_equal(e.hint, "fix it");
    assert_string_equal(e.detail, "got 7");
    assert_int_equal(crm_err_set(&e, INVALID, NULL, NULL, NULL, NULL), -1);
    assert_string_equal(e.field, "");
    assert_string_equal(e.hint, "");
    assert_string_equal(e.detail, "");
}

static void test_quote_and_trim(void **state)
{
    char q[128], big[200];
    const char *t;
    assert_string_equal(crm_quote("x", q, sizeof q), "\"x\"");
    assert_string_equal(crm_quote(NULL, q, sizeof q), "\"\"");
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    crm_quote(big, q, sizeof q);
    assert_non_null(strstr(q, "...\" (199 bytes)"));
    assert_int_equal(crm_trim("  ab c \n", &t), 4);
    assert_memory_equal(t, "ab c", 4);
    assert_int_equal(crm_trim(NULL, &t), 0);
    assert_string_equal(t, "");
}

static void test_text_required_id(void **state)
{
    crm_err_t e;
    assert_int_equal(crm_check_text("", 3, "f", &e), 0);
    assert_int_equal(crm_check_text(" abc ", 3, "f", &e), 0);
    assert_int_equal(crm_check_text("abcd", 3, "f", &e), -1);
    assert_string_equal(e.message, "value is too long");
    assert_int_equal(crm_check_text("a\tb\nc", 10, "f", &e), 0);
    assert_int_equal(crm_check_text("a\x01", 10, "f", &e), -1);
    assert_string_equal(e.message, "value contains a control character");
    assert_int_equal(crm_check_required("  ", 10, "name", &e), -1);
    assert_string_equal(e.message, "name is required");
    assert_string_equal(e.field, "name");
    assert_int_equal(crm_check_required("x", 10, "name", &e), 0);
    assert_int_equal(crm_check_id("", 0, "id", &e), 0);
    assert_int_equal(crm_check_id(NULL, 1, "id", &e), -1);
    assert_string_equal(e.message, "id is required");
    assert_int_equal(crm_check_id("nope", 0, "id", &e), -1);
    assert_string_equal(e.message, "id is malformed");
    assert_string_equal(e.detail, "got \"nope\"");
    assert_int_equal(crm_check_id("123e4567-e89b-12d3-a456-426614174000", 1, "id", &e), 0);
}

static void test_enum(void **state)
{
    crm_err_t e;
    const ProtobufCEnumDescriptor *d = &crm__v1__status_code__descriptor;
    assert_int_equal(crm_check_enum(d, 0, 1, "s", &e), 0);
    assert_int_equal(crm_check_enum(d, 0, 0, "s", &e), -1);
    assert_string_equal(e.message, "value is required");
    assert_int_equal(crm_check_enum(d, INVALID, 0, "s", &e), 0);
    assert_int_equal(crm_check_enum(d, 99999, 0, "s", &e), -1);
    assert_string_equal(e.message, "value is unknown");
    assert_non_null(strstr(e.hint, "STATUS_CODE_INVALID_ARGUMENT"));
}

static void test_currency(void **state)
{
    crm_err_t e;
    char out[4];
    assert_int_equal(crm_check_currency(" eur ", out, "currency", &e), 0);
    assert_string_equal(out, "EUR");
    assert_int_equal(crm_check_currency("", out, "currency", &e), 0);
    assert_string_equal(out, "");
    assert_int_equal(crm_check_currency("IRR", out, "currency", &e), 0);
    assert_string_equal(out, "IRR");
    assert_int_equal(crm_check_currency("XYZ", out, "order.currency", &e), -1);
    assert_string_equal(e.message, "currency is not an ISO 4217 code");
    assert_string_equal(e.field, "order.currency");
    assert_string_equal(e.detail, "got \"XYZ\"");
    assert_string_equal(out, "");
    assert_int_equal(crm_check_currency("XXX", out, "currency", &e), -1); /* no currency */
    assert_int_equal(crm_check_currency("EURO", out, "currency", &e), -1);
    assert_string_equal(e.message, "currency is not a three-letter code");
    assert_int_equal(crm_check_currency("E1R", out, "currency", &e), -1);

    /* Minor units as ISO 4217 lists them. */
    assert_int_equal(crm_currency_minor_units("EUR"), 2);
    assert_int_equal(crm_currency_minor_units("USD"), 2);
    assert_int_equal(crm_currency_minor_units("GBP"), 2);
    assert_int_equal(crm_currency_minor_units("JPY"), 0);
    assert_int_equal(crm_currency_minor_units("KRW"), 0);
    assert_int_equal(crm_currency_minor_units("ISK"), 0);
    assert_int_equal(crm_currency_minor_units("KWD"), 3);
    assert_int_equal(crm_currency_minor_units("BHD"), 3);
    assert_int_equal(crm_currency_minor_units("TND"), 3);
    assert_int_equal(crm_currency_minor_units("IRR"), 2);
    assert_int_equal(crm_currency_minor_units("CLF"), 4);
    assert_int_equal(crm_currency_minor_units("AED"), 2); /* the first of the table */
    assert_int_equal(crm_currency_minor_units("ZWL"), 2); /* the last */
    assert_int_equal(crm_currency_minor_units("XYZ"), -1);
    assert_int_equal(crm_currency_minor_units("eur"), -1); /* upper case only */
    assert_int_equal(crm_currency_minor_units(""), -1);
    assert_int_equal(crm_currency_minor_units(NULL), -1);
    assert_int_equal(crm_currency_minor_units("EURO"), -1);
}

static void test_date(void **state)
{
    crm_err_t e;
    int64_t days = -7;
    assert_int_equal(crm_check_date("1970-01-01", &days, "d", &e), 0);
    assert_int_equal(days, 0);
    assert_int_equal(crm_check_date("2026-11-16", &days, "d", &e), 0);
    assert_int_equal(days, 20773);
    assert_int_equal(crm_check_date("1900-01-01", &days, "d", &e), 0);
    assert_true(days < 0);
    assert_int_equal(crm_check_date("2024-02-29", NULL, "d", &e), 0);
    assert_int_equal(crm_check_date("2000-02-29", NULL, "d", &e), 0);
    assert_int_equal(crm_check_date("9999-12-31", NULL, "d", &e), 0);
    const char *impossible[] = {"2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01",
                                "2026-00-10", "2026-01-00", "1899-12-31", NULL};
    for (int i = 0; impossible[i]; i++) {
        assert_int_equal(crm_check_date(impossible[i], &days, "deal.close_date", &e), -1);
        assert_int_equal(e.code, INVALID);
        assert_string_equal(e.field, "deal.close_date");
        assert_string_equal(e.message, "date does not exist");
    }
    const char *malformed[] = {"",           "2026-1-05",  "2026/01/05",  "26-01-05",
                               "2026-01-5 ", "+202-01-05", "2026-01-05T", " 2026-1-05",
                               "2026-0a-05", NULL};
    for (int i = 0; malformed[i]; i++) {
        assert_int_equal(crm_check_date(malformed[i], &days, "d", &e), -1);
        assert_string_equal(e.message, "date is malformed");
        assert_non_null(strstr(e.detail, "got \""));
    }
    assert_int_equal(crm_check_date(NULL, &days, "d", &e), -1);
    /* Where a date may be left out (sales' and marketing's dates). */
    const char *good[] = {"", "2026-02-28", "2024-02-29", "2000-02-29", "2026-12-31", NULL};
    for (int i = 0; good[i]; i++)
        assert_int_equal(crm_check_date_opt(good[i], "d", &e), 0);
    assert_int_equal(crm_check_date_opt(NULL, "d", &e), 0);
    assert_int_equal(crm_check_date_opt("2026-02-30", "deal.expected_close_date", &e), -1);
    assert_int_equal(e.code, INVALID);
    assert_string_equal(e.field, "deal.expected_close_date");
    assert_string_equal(e.message, "date does not exist");
    assert_string_equal(e.detail, "got \"2026-02-30\"");
    const char *malformed2[] = {"2026-2-3", "31/12/2026",  "2026-02-3x",
                                "20260203", " 2026-02-03", NULL};
    for (int i = 0; malformed2[i]; i++) {
        assert_int_equal(crm_check_date_opt(malformed2[i], "d", &e), -1);
        assert_string_equal(e.message, "date is malformed");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_set),          cmocka_unit_test(test_quote_and_trim),
        cmocka_unit_test(test_text_required_id), cmocka_unit_test(test_enum),
        cmocka_unit_test(test_currency),         cmocka_unit_test(test_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
