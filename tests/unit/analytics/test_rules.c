/* Unit tests for services/analytics/rules.c: ISO weeks (parsing, the
 * Monday a week starts, formatting) and the customer id check. Expected
 * values were worked out from a calendar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rules.h"

#define DAY AN_US_PER_DAY

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_int_equal(an_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(an_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(an_days_from_civil(2026, 11, 16), 20773);
}

static void test_week_start(void **state)
{
    (void)state;
    /* Sunday 2026-11-22 12:00 UTC is in the week of Monday 2026-11-16. */
    int64_t sunday_noon = an_days_from_civil(2026, 11, 22) * DAY + 12LL * 3600 * 1000000;
    assert_int_equal(an_week_start(sunday_noon), an_days_from_civil(2026, 11, 16) * DAY);
    /* A Monday at 00:00 starts its own week. */
    int64_t monday = an_days_from_civil(2026, 11, 16) * DAY;
    assert_int_equal(an_week_start(monday), monday);
    assert_int_equal(an_week_start(monday - 1), monday - 7 * DAY);
    /* Thursday 1970-01-01 is in the week of Monday 1969-12-29. */
    assert_int_equal(an_week_start(0), -3 * DAY);
}

static void test_iso_week_parse(void **state)
{
    (void)state;
    int64_t us;
    const char *why = NULL;
    assert_int_equal(an_iso_week_parse("2026-W47", &us, &why), 0);
    assert_int_equal(us, an_days_from_civil(2026, 11, 16) * DAY);
    /* Week 1 of 2026 starts on Monday 2025-12-29 (4 January 2026 is a Sunday). */
    assert_int_equal(an_iso_week_parse("2026-W01", &us, &why), 0);
    assert_int_equal(us, an_days_from_civil(2025, 12, 29) * DAY);
    /* 2026 has 53 ISO weeks (it starts on a Thursday); 2025 has 52. */
    assert_int_equal(an_iso_week_parse("2026-W53", &us, &why), 0);
    assert_int_equal(us, an_days_from_civil(2026, 12, 28) * DAY);
    assert_int_equal(an_iso_week_parse("2025-W53", &us, &why), -1);
    assert_string_equal(why, "the week must be 01 to 52 in that year");
    assert_int_equal(an_iso_week_parse("2026-w02", &us, &why), 0);
    assert_int_equal(us, an_days_from_civil(2026, 1, 5) * DAY);
    const char *bad[] = {"", "2026W47", "2026-W4", "2026-47", "20x6-W47", "2026-W00", "2026-W470"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        assert_int_equal(an_iso_week_parse(bad[i], &us, &why), -1);
        assert_non_null(why);
    }
    assert_int_equal(an_iso_week_parse(NULL, &us, &why), -1);
}

static void test_iso_week_format(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(an_iso_week_format(an_days_from_civil(2026, 11, 22) * DAY, buf, sizeof buf),
                        "2026-W47");
    /* 2027-01-01 is a Friday: it belongs to week 53 of 2026. */
    assert_string_equal(an_iso_week_format(an_days_from_civil(2027, 1, 1) * DAY, buf, sizeof buf),
                        "2026-W53");
    /* 2025-12-29 is the Monday of week 1 of 2026. */
    assert_string_equal(an_iso_week_format(an_days_from_civil(2025, 12, 29) * DAY, buf, sizeof buf),
                        "2026-W01");
    /* Round trip over three years of weeks. */
    int64_t us;
    const char *why;
    for (int64_t d = an_days_from_civil(2024, 1, 1); d < an_days_from_civil(2027, 1, 1); d += 7) {
        an_iso_week_format(d * DAY, buf, sizeof buf);
        assert_int_equal(an_iso_week_parse(buf, &us, &why), 0);
        assert_int_equal(us, an_week_start(d * DAY));
    }
}

static void test_customer_id(void **state)
{
    (void)state;
    an_err_t e;
    assert_int_equal(an_check_customer_id("0b9c1f6e-3c1a-4c49-9f7e-2a8c6f0e2d11", &e), 0);
    assert_int_equal(an_check_customer_id("", &e), -1);
    assert_string_equal(e.field, "customer_id");
    assert_string_equal(e.message, "customer_id is required");
    assert_int_equal(an_check_customer_id(NULL, &e), -1);
    assert_int_equal(an_check_customer_id("a b", &e), -1);
    char long_id[202];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal(an_check_customer_id(long_id, &e), -1);
    assert_string_equal(e.message, "customer_id is too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil), cmocka_unit_test(test_week_start),
        cmocka_unit_test(test_iso_week_parse),  cmocka_unit_test(test_iso_week_format),
        cmocka_unit_test(test_customer_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
