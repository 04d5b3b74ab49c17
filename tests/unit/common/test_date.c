/* Unit tests for common/src/date.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <crm/date.h>

static void test_days_from_civil(void **state)
{
    assert_int_equal(crm_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(crm_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(crm_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(crm_days_from_civil(2026, 11, 16), 20773);
    assert_int_equal(crm_days_from_civil(1, 1, 1), -719162);
    /* The leap day of a century divisible by 400, and the day after. */
    assert_int_equal(crm_days_from_civil(2000, 3, 1) - crm_days_from_civil(2000, 2, 29), 1);
    assert_int_equal(crm_days_from_civil(1900, 3, 1) - crm_days_from_civil(1900, 2, 28), 1);
}

static void test_civil_round_trip(void **state)
{
    /* Every day from 1599-12-01 to 2401-03-01 maps back to itself, and
     * consecutive days are consecutive dates. */
    int64_t py = 0;
    int pm = 0, pd = 0;
    for (int64_t days = crm_days_from_civil(1599, 12, 1); days <= crm_days_from_civil(2401, 3, 1);
         days++) {
        int64_t y;
        int m, d;
        crm_civil_from_days(days, &y, &m, &d);
        assert_int_equal(crm_days_from_civil(y, m, d), days);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= crm_days_in_month(y, m));
        if (pm)
            assert_true(d == pd + 1 || (d == 1 && pd == crm_days_in_month(py, pm)));
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_days_in_month(void **state)
{
    assert_int_equal(crm_days_in_month(2026, 1), 31);
    assert_int_equal(crm_days_in_month(2026, 2), 28);
    assert_int_equal(crm_days_in_month(2024, 2), 29);
    assert_int_equal(crm_days_in_month(1900, 2), 28);
    assert_int_equal(crm_days_in_month(2000, 2), 29);
    assert_int_equal(crm_days_in_month(2026, 4), 30);
    assert_int_equal(crm_days_in_month(2026, 12), 31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_days_in_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
