/* Unit tests for services/analytics/rules.c: the health score rule by rule
 * (scores worked out by hand from docs/analytics.md: start at 50, add the
 * components, clamp to 0-100), ISO weeks (parsing, the Monday a week
 * starts, formatting; values from a calendar) and the customer id check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rules.h"

#include <crm/date.h>

#define DAY AN_US_PER_DAY

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_int_equal(crm_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(crm_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(crm_days_from_civil(2026, 11, 16), 20773);
}

static void test_week_start(void **state)
{
    (void)state;
    /* Sunday 2026-11-22 12:00 UTC is in the week of Monday 2026-11-16. */
    int64_t sunday_noon = crm_days_from_civil(2026, 11, 22) * DAY + 12LL * 3600 * 1000000;
    assert_int_equal(an_week_start(sunday_noon), crm_days_from_civil(2026, 11, 16) * DAY);
    /* A Monday at 00:00 starts its own week. */
    int64_t monday = crm_days_from_civil(2026, 11, 16) * DAY;
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
    assert_int_equal(us, crm_days_from_civil(2026, 11, 16) * DAY);
    /* Week 1 of 2026 starts on Monday 2025-12-29 (4 January 2026 is a Sunday). */
    assert_int_equal(an_iso_week_parse("2026-W01", &us, &why), 0);
    assert_int_equal(us, crm_days_from_civil(2025, 12, 29) * DAY);
    /* 2026 has 53 ISO weeks (it starts on a Thursday); 2025 has 52. */
    assert_int_equal(an_iso_week_parse("2026-W53", &us, &why), 0);
    assert_int_equal(us, crm_days_from_civil(2026, 12, 28) * DAY);
    assert_int_equal(an_iso_week_parse("2025-W53", &us, &why), -1);
    assert_string_equal(why, "the week must be 01 to 52 in that year");
    assert_int_equal(an_iso_week_parse("2026-w02", &us, &why), 0);
    assert_int_equal(us, crm_days_from_civil(2026, 1, 5) * DAY);
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
    assert_string_equal(
        an_iso_week_format(crm_days_from_civil(2026, 11, 22) * DAY, buf, sizeof buf), "2026-W47");
    /* 2027-01-01 is a Friday: it belongs to week 53 of 2026. */
    assert_string_equal(an_iso_week_format(crm_days_from_civil(2027, 1, 1) * DAY, buf, sizeof buf),
                        "2026-W53");
    /* 2025-12-29 is the Monday of week 1 of 2026. */
    assert_string_equal(
        an_iso_week_format(crm_days_from_civil(2025, 12, 29) * DAY, buf, sizeof buf), "2026-W01");
    /* Round trip over three years of weeks. */
    int64_t us;
    const char *why;
    for (int64_t d = crm_days_from_civil(2024, 1, 1); d < crm_days_from_civil(2027, 1, 1); d += 7) {
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
    assert_int_equal(an_check_customer_id("not-a-uuid", &e), -1);
    assert_string_equal(e.message, "customer_id is not a UUID");
    char long_id[202];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal(an_check_customer_id(long_id, &e), -1);
    assert_string_equal(e.message, "customer_id is too long");
}

/* ---- the health score ---------------------------------------------------- */

static an_health_t s_health(an_health_in_t in)
{
    an_health_t h;
    an_health_compute(&in, &h);
    assert_int_equal(h.churn_risk, 100 - h.score);
    return h;
}

static void s_reasons(const an_health_t *h, const char *const *want, size_t n)
{
    assert_int_equal(h->n_reasons, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(h->reasons[i], want[i]);
}

#define REASONS(h, ...)                                                                            \
    do {                                                                                           \
        const char *const w_[] = {__VA_ARGS__};                                                    \
        s_reasons(&(h), w_, sizeof w_ / sizeof *w_);                                               \
    } while (0)

static void test_div_round(void **state)
{
    (void)state;
    assert_int_equal(an_div_round(5, 2), 3);
    assert_int_equal(an_div_round(-5, 2), -3);
    assert_int_equal(an_div_round(4, 2), 2);
    assert_int_equal(an_div_round(7, 3), 2);
    assert_int_equal(an_div_round(-7, 3), -2);
    assert_int_equal(an_div_round(1, 3), 0);
}

static void test_health_nothing_known(void **state)
{
    (void)state;
    /* No order, no engagement (-10): 40. */
    an_health_t h = s_health((an_health_in_t){0});
    assert_int_equal(h.score, 40);
    REASONS(h, "no engagement in 90 days (-10)");
}

static void test_health_recency(void **state)
{
    (void)state;
    /* Cadence 30 days, last order 30 days ago: +20; no engagement -10: 60. */
    an_health_t h =
        s_health((an_health_in_t){.orders = 3, .since_tenths = 300, .cadence_tenths = 300});
    assert_int_equal(h.score, 60);
    REASONS(h, "purchase recency within own cadence of 30.0 days (+20)",
            "no engagement in 90 days (-10)");
    /* 45 days: between one and two cadences, 0 and no reason: 40. */
    h = s_health((an_health_in_t){.orders = 3, .since_tenths = 450, .cadence_tenths = 300});
    assert_int_equal(h.score, 40);
    REASONS(h, "no engagement in 90 days (-10)");
    /* Exactly twice (60.0) is not more than twice: 40. */
    h = s_health((an_health_in_t){.orders = 2, .since_tenths = 600, .cadence_tenths = 300});
    assert_int_equal(h.score, 40);
    /* 61.0 days: -20: 20. */
    h = s_health((an_health_in_t){.orders = 3, .since_tenths = 610, .cadence_tenths = 300});
    assert_int_equal(h.score, 20);
    REASONS(h, "last purchase 61.0 days ago, over twice the own cadence of 30.0 days (-20)",
            "no engagement in 90 days (-10)");
    /* One order: within 90 days +10 (50), 91 days -10 (30). */
    h = s_health((an_health_in_t){.orders = 1, .since_tenths = 900});
    assert_int_equal(h.score, 50);
    REASONS(h, "first purchase 90.0 days ago (+10)", "no engagement in 90 days (-10)");
    h = s_health((an_health_in_t){.orders = 1, .since_tenths = 910});
    assert_int_equal(h.score, 30);
    REASONS(h, "only purchase 91.0 days ago (-10)", "no engagement in 90 days (-10)");
}

static void test_health_engagement(void **state)
{
    (void)state;
    /* 3 interactions: +15 -> 65; 4 or more: +20 -> 70. */
    an_health_t h = s_health((an_health_in_t){.engagement = 3});
    assert_int_equal(h.score, 65);
    REASONS(h, "engagement: 3 interactions in 90 days (+15)");
    assert_int_equal(s_health((an_health_in_t){.engagement = 4}).score, 70);
    assert_int_equal(s_health((an_health_in_t){.engagement = 6}).score, 70);
}

static void test_health_penalties_and_clamp(void **state)
{
    (void)state;
    /* 3 open complaints: capped at -30; ratings 1 and 2: average 1.5 ->
     * -15; 4 breaches: capped at -30. 50 - 10 - 30 - 15 - 30 = -35 -> 0. */
    an_health_t h = s_health(
        (an_health_in_t){.open_complaints = 3, .ratings = 2, .rating_sum = 3, .breaches = 4});
    assert_int_equal(h.score, 0);
    assert_int_equal(h.churn_risk, 100);
    REASONS(h, "no engagement in 90 days (-10)", "3 open complaint(s) (-30)",
            "average rating 1.5 (-15)", "4 SLA breach(es) in 90 days (-30)");
    /* One of each: -15, -10. Rating 5: +20. */
    h = s_health((an_health_in_t){
        .engagement = 1, .open_complaints = 1, .breaches = 1, .ratings = 1, .rating_sum = 5});
    assert_int_equal(h.score, 50 + 5 - 15 + 20 - 10);
    REASONS(h, "engagement: 1 interactions in 90 days (+5)", "1 open complaint(s) (-15)",
            "average rating 5.0 (+20)", "1 SLA breach(es) in 90 days (-10)");
    /* +20 recency, +20 engagement, +20 rating: 110 -> 100. */
    h = s_health((an_health_in_t){.orders = 2,
                                  .since_tenths = 100,
                                  .cadence_tenths = 100,
                                  .engagement = 4,
                                  .ratings = 1,
                                  .rating_sum = 5});
    assert_int_equal(h.score, 100);
    assert_int_equal(h.churn_risk, 0);
}

static void test_health_rating_rounding(void **state)
{
    (void)state;
    /* Ratings 3, 3, 3, 4: 3.25 -> +2.5 -> +3 (43), shown as 3.3; ratings
     * 2, 3, 3, 3: 2.75 -> -2.5 -> -3 (37), shown as 2.8; 3 and 3: +0. */
    an_health_t h = s_health((an_health_in_t){.ratings = 4, .rating_sum = 13});
    assert_int_equal(h.score, 43);
    REASONS(h, "no engagement in 90 days (-10)", "average rating 3.3 (+3)");
    h = s_health((an_health_in_t){.ratings = 4, .rating_sum = 11});
    assert_int_equal(h.score, 37);
    REASONS(h, "no engagement in 90 days (-10)", "average rating 2.8 (-3)");
    h = s_health((an_health_in_t){.ratings = 2, .rating_sum = 6});
    assert_int_equal(h.score, 40);
    REASONS(h, "no engagement in 90 days (-10)", "average rating 3.0 (+0)");
}

/* ANALYTICS_POTENTIAL_LTV: amounts in each currency's own minor units. */
static void test_thresholds_parse(void **state)
{
    (void)state;
    char out[256], err[160];
    assert_int_equal(
        an_thresholds_parse("EUR=1000, jpy=150000,KWD=300.5", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "{\"EUR\":100000,\"JPY\":150000,\"KWD\":300500}");
    assert_int_equal(an_thresholds_parse("", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "{}");
    assert_int_equal(an_thresholds_parse("XYZ=10", out, sizeof out, err, sizeof err), -1);
    assert_string_equal(err, "XYZ is not an ISO 4217 currency");
    /* JPY has no minor unit: a decimal is refused. */
    assert_int_equal(an_thresholds_parse("JPY=10.5", out, sizeof out, err, sizeof err), -1);
    assert_int_equal(an_thresholds_parse("100000", out, sizeof out, err, sizeof err), -1);
    assert_int_equal(an_thresholds_parse("EUR=", out, sizeof out, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_div_round),
        cmocka_unit_test(test_health_nothing_known),
        cmocka_unit_test(test_health_recency),
        cmocka_unit_test(test_health_engagement),
        cmocka_unit_test(test_health_penalties_and_clamp),
        cmocka_unit_test(test_health_rating_rounding),
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_week_start),
        cmocka_unit_test(test_iso_week_parse),
        cmocka_unit_test(test_iso_week_format),
        cmocka_unit_test(test_customer_id),
        cmocka_unit_test(test_thresholds_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
