/* Unit tests for services/support/rules.c: the ticket status machine, value
 * checks, business time (weekends, holidays, offsets, a time zone across
 * its daylight-saving changes), the SLA clock with a pending pause and
 * with a priority change. Every expected instant is worked out by hand in
 * the comment above it; 2026-11-20 is a Friday. */
#define _DEFAULT_SOURCE /* timegm */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#include "crm/v1/rpc.pb-c.h"

#define INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define PRECONDITION CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION
#define ST(x) CRM__V1__TICKET_STATUS__TICKET_STATUS_##x
#define MIN SUPPORT_US_PER_MIN

/* Microseconds of a UTC wall-clock time. */
static int64_t T(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000000;
}

static void s_assert_err(const crm_err_t *e, int code, const char *field)
{
    assert_int_equal(e->code, code);
    assert_string_equal(e->field, field);
    assert_true(e->message[0] >= 'a' && e->message[0] <= 'z');
    assert_true(e->message[strlen(e->message) - 1] != '.');
}

/* Mon-Fri 09:00-17:00 at `offset` minutes from UTC, with optional holidays. */
static void s_office(support_cal_t *c, int offset, const char *holiday)
{
    crm_err_t e;
    Crm__V1__BusinessHours h[5], *hp[5];
    char *hol[1] = {(char *)holiday};
    Crm__V1__BusinessCalendar m = CRM__V1__BUSINESS_CALENDAR__INIT;
    for (int i = 0; i < 5; i++) {
        crm__v1__business_hours__init(&h[i]);
        h[i].weekday = i + 1;
        h[i].open_minute = 540;
        h[i].close_minute = 1020;
        hp[i] = &h[i];
    }
    m.utc_offset_minutes = offset;
    m.hours = hp;
    m.n_hours = 5;
    m.holidays = hol;
    m.n_holidays = holiday ? 1 : 0;
    assert_int_equal(support_cal_from_msg(&m, c, "calendar", &e), 0);
}

static void test_status_machine(void **state)
{
    (void)state;
    crm_err_t e;
    int to;
    /* The legal moves. */
    struct {
        int from;
        support_action_t act;
        int to;
    } ok[] = {
        {ST(NEW), SUPPORT_ACT_ASSIGN, ST(OPEN)},
        {ST(NEW), SUPPORT_ACT_REPLY, ST(OPEN)},
        {ST(NEW), SUPPORT_ACT_NOTE, ST(NEW)},
        {ST(PENDING), SUPPORT_ACT_REPLY, ST(PENDING)},
        {ST(NEW), SUPPORT_ACT_PEND, ST(PENDING)},
        {ST(OPEN), SUPPORT_ACT_HOLD, ST(ON_HOLD)},
        {ST(ON_HOLD), SUPPORT_ACT_PEND, ST(PENDING)},
        {ST(PENDING), SUPPORT_ACT_RESOLVE, ST(RESOLVED)},
        {ST(NEW), SUPPORT_ACT_RESOLVE, ST(RESOLVED)},
        {ST(RESOLVED), SUPPORT_ACT_REOPEN, ST(OPEN)},
        {ST(PENDING), SUPPORT_ACT_REOPEN, ST(OPEN)},
        {ST(ON_HOLD), SUPPORT_ACT_REOPEN, ST(OPEN)},
        {ST(RESOLVED), SUPPORT_ACT_CLOSE, ST(CLOSED)},
        {ST(RESOLVED), SUPPORT_ACT_RATE, ST(RESOLVED)},
        {ST(CLOSED), SUPPORT_ACT_RATE, ST(CLOSED)},
        {ST(RESOLVED), SUPPORT_ACT_REPLY, ST(RESOLVED)},
        /* The customer's message ends a wait on the customer and brings a
         * resolved ticket back; a wait on a third party goes on. */
        {ST(NEW), SUPPORT_ACT_CUSTOMER_REPLY, ST(NEW)},
        {ST(OPEN), SUPPORT_ACT_CUSTOMER_REPLY, ST(OPEN)},
        {ST(PENDING), SUPPORT_ACT_CUSTOMER_REPLY, ST(OPEN)},
        {ST(ON_HOLD), SUPPORT_ACT_CUSTOMER_REPLY, ST(ON_HOLD)},
        {ST(RESOLVED), SUPPORT_ACT_CUSTOMER_REPLY, ST(OPEN)},
        {ST(NEW), SUPPORT_ACT_PRIORITY, ST(NEW)},
        {ST(PENDING), SUPPORT_ACT_PRIORITY, ST(PENDING)},
        {ST(ON_HOLD), SUPPORT_ACT_PRIORITY, ST(ON_HOLD)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(support_transition(ok[i].from, ok[i].act, &to, "id", &e), 0);
        assert_int_equal(to, ok[i].to);
    }
    /* The refused ones. */
    struct {
        int from;
        support_action_t act;
    } bad[] = {
        {ST(OPEN), SUPPORT_ACT_CLOSE},        {ST(NEW), SUPPORT_ACT_CLOSE},
        {ST(PENDING), SUPPORT_ACT_CLOSE},     {ST(CLOSED), SUPPORT_ACT_CLOSE},
        {ST(OPEN), SUPPORT_ACT_RATE},         {ST(NEW), SUPPORT_ACT_RATE},
        {ST(ON_HOLD), SUPPORT_ACT_RATE},      {ST(OPEN), SUPPORT_ACT_REOPEN},
        {ST(CLOSED), SUPPORT_ACT_REOPEN},     {ST(PENDING), SUPPORT_ACT_PEND},
        {ST(ON_HOLD), SUPPORT_ACT_HOLD},      {ST(RESOLVED), SUPPORT_ACT_PEND},
        {ST(RESOLVED), SUPPORT_ACT_RESOLVE},  {ST(CLOSED), SUPPORT_ACT_RESOLVE},
        {ST(CLOSED), SUPPORT_ACT_REPLY},      {ST(CLOSED), SUPPORT_ACT_NOTE},
        {ST(CLOSED), SUPPORT_ACT_ASSIGN},     {ST(CLOSED), SUPPORT_ACT_CUSTOMER_REPLY},
        {ST(RESOLVED), SUPPORT_ACT_PRIORITY}, {ST(CLOSED), SUPPORT_ACT_PRIORITY},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(support_transition(bad[i].from, bad[i].act, &to, "id", &e), -1);
        s_assert_err(&e, PRECONDITION, "id");
    }
    assert_int_equal(support_transition(ST(OPEN), SUPPORT_ACT_CLOSE, &to, "id", &e), -1);
    assert_string_equal(e.message, "cannot close a ticket that is open");
    assert_true(support_clock_runs(ST(NEW)) && support_clock_runs(ST(OPEN)));
    assert_false(support_clock_runs(ST(PENDING)) || support_clock_runs(ST(ON_HOLD)) ||
                 support_clock_runs(ST(RESOLVED)) || support_clock_runs(ST(CLOSED)));
}

static void test_values(void **state)
{
    (void)state;
    crm_err_t e;
    assert_int_equal(support_check_rating(1, "rating", &e), 0);
    assert_int_equal(support_check_rating(5, "rating", &e), 0);
    assert_int_equal(support_check_rating(0, "rating", &e), -1);
    s_assert_err(&e, INVALID, "rating");
    assert_int_equal(support_check_rating(6, "rating", &e), -1);
    assert_int_equal(support_check_tag("product:billing", "tags[0]", &e), 0);
    assert_int_equal(support_check_tag("Billing", "tags[1]", &e), -1);
    s_assert_err(&e, INVALID, "tags[1]");
    /* Text, ids and enums go through the common checks (crm/check.h). */
    assert_int_equal(crm_check_required("  ", 10, "ticket.subject", &e), -1);
    s_assert_err(&e, INVALID, "ticket.subject");
    assert_int_equal(crm_check_text("a\001b", 10, "x", &e), -1);
    s_assert_err(&e, INVALID, "x");
    /* A carriage return is text, as everywhere else in the system (support's
     * own check used to refuse it): mail from Windows clients keeps CRLF. */
    assert_int_equal(crm_check_text("line one\r\nline two", 40, "x", &e), 0);
    assert_int_equal(crm_check_enum(&crm__v1__ticket_priority__descriptor, 9, 1, "p", &e), -1);
    s_assert_err(&e, INVALID, "p");
    assert_int_equal(crm_check_enum(&crm__v1__ticket_priority__descriptor, 0, 1, "p", &e), 0);
    assert_int_equal(crm_check_enum(&crm__v1__ticket_priority__descriptor, 0, 0, "p", &e), -1);
    int32_t d;
    assert_int_equal(support_parse_date("1970-01-02", &d, "h", &e), 0);
    assert_int_equal(d, 1);
    assert_int_equal(support_parse_date("2026-11-23", &d, "h", &e), 0);
    assert_int_equal((int64_t)d * SUPPORT_US_PER_DAY, T(2026, 11, 23, 0, 0));
    assert_int_equal(support_parse_date("2026-02-29", &d, "h", &e), -1);
    assert_int_equal(support_parse_date("2026-1-05", &d, "h", &e), -1);
    Crm__V1__SlaPolicy p = CRM__V1__SLA_POLICY__INIT;
    p.priority = 4;
    p.first_response_minutes = 1;
    assert_int_equal(support_check_policy(&p, "policy", &e), -1);
    s_assert_err(&e, INVALID, "policy.resolution_minutes");
}

static void test_page_token(void **state)
{
    (void)state;
    crm_err_t e;
    int64_t us;
    char id[37];
    assert_int_equal(support_page_token_parse("", &us, id, &e), 0);
    assert_int_equal(us, 0);
    assert_int_equal(support_page_token_parse(
                         "1700000000000000:6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10", &us, id, &e),
                     0);
    assert_int_equal(us, 1700000000000000LL);
    assert_string_equal(id, "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10");
    const char *bad[] = {"x",
                         "12:",
                         ":6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10",
                         "-5:6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10",
                         "12:not-a-uuid",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(support_page_token_parse(bad[i], &us, id, &e), -1);
        s_assert_err(&e, INVALID, "page_token");
    }
}

static void test_calendar_checks(void **state)
{
    (void)state;
    crm_err_t e;
    support_cal_t c;
    Crm__V1__BusinessHours h = CRM__V1__BUSINESS_HOURS__INIT, h2 = CRM__V1__BUSINESS_HOURS__INIT;
    Crm__V1__BusinessHours *hp[2] = {&h, &h2};
    Crm__V1__BusinessCalendar m = CRM__V1__BUSINESS_CALENDAR__INIT;
    m.hours = hp;
    m.n_hours = 1;
    h.weekday = 8;
    assert_int_equal(support_cal_from_msg(&m, &c, "calendar", &e), -1);
    s_assert_err(&e, INVALID, "calendar.hours[0]");
    h.weekday = 1;
    h.open_minute = 600;
    h.close_minute = 600; /* closed all week */
    assert_int_equal(support_cal_from_msg(&m, &c, "calendar", &e), -1);
    s_assert_err(&e, INVALID, "calendar.hours");
    h.close_minute = 1500;
    assert_int_equal(support_cal_from_msg(&m, &c, "calendar", &e), -1);
    h.close_minute = 660;
    h2 = h;
    m.n_hours = 2;
    assert_int_equal(support_cal_from_msg(&m, &c, "calendar", &e), -1);
    s_assert_err(&e, INVALID, "calendar.hours[1]");
    m.n_hours = 1;
    m.utc_offset_minutes = 900;
    assert_int_equal(support_cal_from_msg(&m, &c, "calendar", &e), -1);
    s_assert_err(&e, INVALID, "calendar.utc_offset_minutes");
}

static void test_business_add(void **state)
{
    (void)state;
    support_cal_t c, hol, cet;
    s_office(&c, 0, NULL);
    s_office(&hol, 0, "2026-11-23");
    s_office(&cet, 60, NULL);
    /* Fri 16:00 + 120 min: 60 min on Friday, the weekend is skipped, 60 min
     * on Monday from 09:00: Mon 10:00. */
    assert_int_equal(support_business_add(&c, T(2026, 11, 20, 16, 0), 120 * MIN),
                     T(2026, 11, 23, 10, 0));
    /* The same with Monday a holiday: Tue 10:00. */
    assert_int_equal(support_business_add(&hol, T(2026, 11, 20, 16, 0), 120 * MIN),
                     T(2026, 11, 24, 10, 0));
    /* Sat 12:00 + 30 min: nothing counts until Mon 09:00: Mon 09:30. */
    assert_int_equal(support_business_add(&c, T(2026, 11, 21, 12, 0), 30 * MIN),
                     T(2026, 11, 23, 9, 30));
    /* Wed 08:00 + 480 min: the whole day 09:00-17:00 ends at Wed 17:00. */
    assert_int_equal(support_business_add(&c, T(2026, 11, 25, 8, 0), 480 * MIN),
                     T(2026, 11, 25, 17, 0));
    /* One more minute rolls over to Thu 09:01. */
    assert_int_equal(support_business_add(&c, T(2026, 11, 25, 8, 0), 481 * MIN),
                     T(2026, 11, 26, 9, 1));
    /* UTC+1, 09:00-17:00 local = 08:00-16:00 UTC: Mon 07:30 UTC + 60 min
     * starts at 08:00 UTC and ends at 09:00 UTC. */
    assert_int_equal(support_business_add(&cet, T(2026, 11, 23, 7, 30), 60 * MIN),
                     T(2026, 11, 23, 9, 0));
    /* Fri 15:30 UTC = 16:30 local; 60 min: 30 on Friday (until 16:00 UTC),
     * 30 on Monday from 08:00 UTC: Mon 08:30 UTC. */
    assert_int_equal(support_business_add(&cet, T(2026, 11, 20, 15, 30), 60 * MIN),
                     T(2026, 11, 23, 8, 30));
    /* Nothing to add: the start itself. */
    assert_int_equal(support_business_add(&c, T(2026, 11, 21, 12, 0), 0), T(2026, 11, 21, 12, 0));
}

static void test_business_between(void **state)
{
    (void)state;
    support_cal_t c, hol;
    s_office(&c, 0, NULL);
    s_office(&hol, 0, "2026-11-23");
    /* Fri 16:00 to Mon 10:00: 60 + 60 = 120 min. */
    assert_int_equal(support_business_between(&c, T(2026, 11, 20, 16, 0), T(2026, 11, 23, 10, 0)),
                     120 * MIN);
    /* Fri 09:00 to Tue 09:00 with Monday off: only Friday, 480 min. */
    assert_int_equal(support_business_between(&hol, T(2026, 11, 20, 9, 0), T(2026, 11, 24, 9, 0)),
                     480 * MIN);
    /* The same without the holiday: 960 min. */
    assert_int_equal(support_business_between(&c, T(2026, 11, 20, 9, 0), T(2026, 11, 24, 9, 0)),
                     960 * MIN);
    /* A whole weekend: 0; reversed bounds: 0. */
    assert_int_equal(support_business_between(&c, T(2026, 11, 21, 0, 0), T(2026, 11, 23, 9, 0)), 0);
    assert_int_equal(support_business_between(&c, T(2026, 11, 23, 12, 0), T(2026, 11, 23, 11, 0)),
                     0);
    /* Mon 12:15 to Mon 12:45: 30 min. */
    assert_int_equal(support_business_between(&c, T(2026, 11, 23, 12, 15), T(2026, 11, 23, 12, 45)),
                     30 * MIN);
}

static void test_sla_clock_with_pending_pause(void **state)
{
    (void)state;
    support_cal_t c;
    s_office(&c, 0, NULL);
    Crm__V1__Ticket t = CRM__V1__TICKET__INIT;
    t.first_response_target_minutes = 60;
    t.resolution_target_minutes = 480;
    /* Opened Mon 09:00: first response due 10:00, at risk at 80% = 48 min
     * = 09:48; resolution due 17:00, at risk after 384 min = 15:24. */
    support_sla_open(&c, T(2026, 11, 23, 9, 0), &t);
    assert_int_equal(t.first_response_due_us, T(2026, 11, 23, 10, 0));
    assert_int_equal(t.first_response_at_risk_us, T(2026, 11, 23, 9, 48));
    assert_int_equal(t.resolution_due_us, T(2026, 11, 23, 17, 0));
    assert_int_equal(t.resolution_at_risk_us, T(2026, 11, 23, 15, 24));
    assert_int_equal(t.sla_paused_at_us, 0);
    /* First reply at 09:30; pending at 11:00: 360 min of resolution left. */
    t.first_responded_at_us = T(2026, 11, 23, 9, 30);
    support_sla_stop(&c, T(2026, 11, 23, 11, 0), &t);
    assert_int_equal(t.resolution_remaining_us, 360 * MIN);
    assert_int_equal(t.sla_paused_at_us, T(2026, 11, 23, 11, 0));
    /* The customer answers Tue 14:00: 180 min on Tuesday, 180 on Wednesday
     * from 09:00: due Wed 12:00. At risk when 96 min (20%) are left, i.e.
     * 264 min from Tue 14:00: 180 + 84: Wed 10:24. The first response,
     * met, keeps its instants. */
    support_sla_resume(&c, T(2026, 11, 24, 14, 0), &t);
    assert_int_equal(t.resolution_due_us, T(2026, 11, 25, 12, 0));
    assert_int_equal(t.resolution_at_risk_us, T(2026, 11, 25, 10, 24));
    assert_int_equal(t.first_response_due_us, T(2026, 11, 23, 10, 0));
    assert_int_equal(t.sla_paused_at_us, 0);
    /* Paused past 80% (Wed 11:00: 60 min left of 480): on resuming Thu
     * 09:00 it is at risk at once and due at 10:00. */
    support_sla_stop(&c, T(2026, 11, 25, 11, 0), &t);
    assert_int_equal(t.resolution_remaining_us, 60 * MIN);
    support_sla_resume(&c, T(2026, 11, 26, 9, 0), &t);
    assert_int_equal(t.resolution_at_risk_us, T(2026, 11, 26, 9, 0));
    assert_int_equal(t.resolution_due_us, T(2026, 11, 26, 10, 0));
    /* Stopped when overdue: nothing left. */
    support_sla_stop(&c, T(2026, 11, 26, 11, 0), &t);
    assert_int_equal(t.resolution_remaining_us, 0);
}

static void test_sla_24x7(void **state)
{
    (void)state;
    crm_err_t e;
    support_cal_t c;
    Crm__V1__BusinessHours h[7], *hp[7];
    Crm__V1__BusinessCalendar m = CRM__V1__BUSINESS_CALENDAR__INIT;
    for (int i = 0; i < 7; i++) {
        crm__v1__business_hours__init(&h[i]);
        h[i].weekday = i + 1;
        h[i].close_minute = 1440;
        hp[i] = &h[i];
    }
    m.hours = hp;
    m.n_hours = 7;
    assert_int_equal(support_cal_from_msg(&m, &c, "calendar", &e), 0);
    /* Sat 23:59:30 + 1 min = Sun 00:00:30: midnight is no boundary. */
    int64_t start = T(2026, 11, 21, 23, 59) + 30000000;
    assert_int_equal(support_business_add(&c, start, MIN), start + MIN);
    assert_int_equal(support_business_between(&c, start, start + 3 * SUPPORT_US_PER_DAY),
                     3 * SUPPORT_US_PER_DAY);
}

/* Europe/Berlin in 2026: CET (+60) until Sun 2026-03-29 01:00 UTC, CEST
 * (+120) until Sun 2026-10-25 01:00 UTC, then CET again; the table as
 * PostgreSQL's support_zone_changes gives it. */
static void s_berlin(support_cal_t *c)
{
    char at[64], off[32];
    snprintf(at, sizeof at, "{%lld,%lld}", (long long)T(2026, 3, 29, 1, 0),
             (long long)T(2026, 10, 25, 1, 0));
    snprintf(off, sizeof off, "{120,60}");
    assert_int_equal(support_cal_set_changes(c, 60, at, off), 0);
}

static void test_zone_table(void **state)
{
    (void)state;
    crm_err_t e;
    support_cal_t c;
    s_office(&c, 0, NULL);
    s_berlin(&c);
    assert_int_equal(support_cal_offset(&c, T(2026, 3, 29, 0, 59)), 60);
    assert_int_equal(support_cal_offset(&c, T(2026, 3, 29, 1, 0)), 120);
    assert_int_equal(support_cal_offset(&c, T(2026, 10, 25, 0, 59)), 120);
    assert_int_equal(support_cal_offset(&c, T(2026, 10, 25, 1, 0)), 60);
    /* An empty table is a fixed offset. */
    assert_int_equal(support_cal_set_changes(&c, 330, "{}", "{}"), 0);
    assert_int_equal(support_cal_offset(&c, T(2026, 3, 29, 1, 0)), 330);
    /* Malformed: lengths differ, not ascending, not arrays, junk. */
    assert_int_equal(support_cal_set_changes(&c, 0, "{1,2}", "{60}"), -1);
    assert_int_equal(support_cal_set_changes(&c, 0, "{1}", "{60,120}"), -1);
    assert_int_equal(support_cal_set_changes(&c, 0, "{2,1}", "{60,120}"), -1);
    assert_int_equal(support_cal_set_changes(&c, 0, "1,2", "60,120"), -1);
    assert_int_equal(support_cal_set_changes(&c, 0, "{1x}", "{60}"), -1);
    assert_int_equal(support_cal_set_changes(&c, 0, NULL, "{}"), -1);
    /* Zone names. */
    assert_int_equal(support_check_zone("Europe/Berlin", "z", &e), 0);
    assert_int_equal(support_check_zone("America/Argentina/Buenos_Aires", "z", &e), 0);
    assert_int_equal(support_check_zone("Etc/GMT+5", "z", &e), 0);
    const char *bad[] = {"", "/etc/passwd", "Europe/../../x", "Europe/Berlin;", "Euro pe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(support_check_zone(bad[i], "calendar.time_zone", &e), -1);
        s_assert_err(&e, INVALID, "calendar.time_zone");
    }
}

static void test_business_time_across_dst(void **state)
{
    (void)state;
    support_cal_t c, hol, night;
    s_office(&c, 0, NULL);
    s_berlin(&c);
    s_office(&hol, 0, "2026-03-30");
    s_berlin(&hol);
    /* Spring: Fri 2026-03-27 15:00 UTC is 16:00 CET; 120 min: 60 until
     * 17:00 CET (16:00 UTC), the weekend (clocks go forward on Sunday),
     * then Monday from 09:00 CEST = 07:00 UTC: Mon 08:00 UTC. A fixed +60
     * would say 09:00 UTC. */
    assert_int_equal(support_business_add(&c, T(2026, 3, 27, 15, 0), 120 * MIN),
                     T(2026, 3, 30, 8, 0));
    /* The same with Monday a holiday: Tue 08:00 UTC. */
    assert_int_equal(support_business_add(&hol, T(2026, 3, 27, 15, 0), 120 * MIN),
                     T(2026, 3, 31, 8, 0));
    /* Autumn: Fri 2026-10-23 14:00 UTC is 16:00 CEST; 60 min on Friday
     * (until 15:00 UTC), then Monday from 09:00 CET = 08:00 UTC: 09:00 UTC. */
    assert_int_equal(support_business_add(&c, T(2026, 10, 23, 14, 0), 120 * MIN),
                     T(2026, 10, 26, 9, 0));
    /* Fri 09:00 CET (08:00 UTC) to Mon 10:00 CEST (08:00 UTC): 480 on
     * Friday and 60 on Monday = 540 min. */
    assert_int_equal(support_business_between(&c, T(2026, 3, 27, 8, 0), T(2026, 3, 30, 8, 0)),
                     540 * MIN);
    /* A window that spans the change: Sundays 00:00-06:00 local. On
     * 2026-03-29 that is 23:00 UTC (Sat) to 04:00 UTC: 5 real hours; on
     * 2026-10-25, 22:00 UTC (Sat) to 05:00 UTC: 7. */
    crm_err_t e;
    Crm__V1__BusinessHours h = CRM__V1__BUSINESS_HOURS__INIT, *hp = &h;
    Crm__V1__BusinessCalendar m = CRM__V1__BUSINESS_CALENDAR__INIT;
    h.weekday = 7;
    h.open_minute = 0;
    h.close_minute = 360;
    m.hours = &hp;
    m.n_hours = 1;
    assert_int_equal(support_cal_from_msg(&m, &night, "calendar", &e), 0);
    s_berlin(&night);
    assert_int_equal(support_business_between(&night, T(2026, 3, 28, 20, 0), T(2026, 3, 29, 12, 0)),
                     300 * MIN);
    assert_int_equal(
        support_business_between(&night, T(2026, 10, 24, 20, 0), T(2026, 10, 25, 12, 0)),
        420 * MIN);
    /* 330 min from Sat 2026-03-28 12:00 UTC: 300 that Sunday, then 30 the
     * next, from 00:00 CEST (Sat 2026-04-04 22:00 UTC): 22:30 UTC. */
    assert_int_equal(support_business_add(&night, T(2026, 3, 28, 12, 0), 330 * MIN),
                     T(2026, 4, 4, 22, 30));
}

static void test_sla_retarget(void **state)
{
    (void)state;
    support_cal_t c;
    s_office(&c, 0, NULL);
    Crm__V1__Ticket t = CRM__V1__TICKET__INIT;
    t.first_response_target_minutes = 480;
    t.resolution_target_minutes = 2400;
    /* Opened Mon 2026-11-23 09:00 as normal (480 / 2400 min). At 11:00,
     * 120 min used, it becomes urgent (60 / 240): the first response has
     * 60 - 120 < 0 left, so it is due (and at risk) at once, 11:00; the
     * resolution has 240 - 120 = 120 min left, due 13:00, at risk when 20%
     * of 240 = 48 min are left: 72 min from 11:00 = 12:12. */
    support_sla_open(&c, T(2026, 11, 23, 9, 0), &t);
    support_sla_retarget(&c, T(2026, 11, 23, 11, 0), 60, 240, &t);
    assert_int_equal(t.first_response_target_minutes, 60);
    assert_int_equal(t.resolution_target_minutes, 240);
    assert_int_equal(t.first_response_due_us, T(2026, 11, 23, 11, 0));
    assert_int_equal(t.first_response_at_risk_us, T(2026, 11, 23, 11, 0));
    assert_int_equal(t.resolution_due_us, T(2026, 11, 23, 13, 0));
    assert_int_equal(t.resolution_at_risk_us, T(2026, 11, 23, 12, 12));
    /* Answered at 11:30, pending at 12:00 (60 min of resolution left),
     * then made high (240 / 960) while paused: 60 + 720 = 780 min left, the
     * clock stays stopped. Resumed Tue 09:00: 480 on Tuesday, 300 on
     * Wednesday: due Wed 14:00; at risk with 192 min left, i.e. after 588
     * min: Wed 10:48. The met first response keeps its instants. */
    t.first_responded_at_us = T(2026, 11, 23, 11, 30);
    support_sla_stop(&c, T(2026, 11, 23, 12, 0), &t);
    assert_int_equal(t.resolution_remaining_us, 60 * MIN);
    support_sla_retarget(&c, T(2026, 11, 23, 15, 0), 240, 960, &t);
    assert_int_equal(t.resolution_remaining_us, 780 * MIN);
    assert_int_equal(t.sla_paused_at_us, T(2026, 11, 23, 12, 0));
    support_sla_resume(&c, T(2026, 11, 24, 9, 0), &t);
    assert_int_equal(t.resolution_due_us, T(2026, 11, 25, 14, 0));
    assert_int_equal(t.resolution_at_risk_us, T(2026, 11, 25, 10, 48));
    assert_int_equal(t.first_response_due_us, T(2026, 11, 23, 11, 0));
    /* Lowered to low (960 / 4800) at Wed 10:00: the 240 min left become
     * 240 + 3840 = 4080: 420 on Wednesday, 7 whole days (Thu, Fri, Mon to
     * Fri) = 3360, and the last 300 on Mon 2026-12-07: 14:00. */
    support_sla_retarget(&c, T(2026, 11, 25, 10, 0), 960, 4800, &t);
    assert_int_equal(t.resolution_due_us, T(2026, 12, 7, 14, 0));
}

static void test_sla_recalendar(void **state)
{
    (void)state;
    support_cal_t old, cal;
    s_office(&old, 0, NULL);
    s_office(&cal, 0, "2026-11-25");
    Crm__V1__Ticket t = CRM__V1__TICKET__INIT;
    t.first_response_target_minutes = 480;
    t.resolution_target_minutes = 2400;
    /* Opened Mon 2026-11-23 09:00: first response due Mon 17:00 (at risk
     * 15:24), resolution due Fri 17:00 (5 days of 480). */
    support_sla_open(&old, T(2026, 11, 23, 9, 0), &t);
    assert_int_equal(t.resolution_due_us, T(2026, 11, 27, 17, 0));
    /* At Mon 13:00 Wednesday becomes a holiday. The first response, 240
     * min left, stays due Mon 17:00 and at risk at 15:24. The resolution
     * has 2160 min left: 240 on Monday, 480 Tuesday, none Wednesday, 480
     * Thursday and Friday, the last 480 on Mon 2026-11-30: due 17:00; at
     * risk with 480 left, after 1680 min: Fri 17:00. */
    assert_int_equal(support_sla_recalendar(&old, &cal, T(2026, 11, 23, 13, 0), &t), 1);
    assert_int_equal(t.first_response_due_us, T(2026, 11, 23, 17, 0));
    assert_int_equal(t.first_response_at_risk_us, T(2026, 11, 23, 15, 24));
    assert_int_equal(t.resolution_due_us, T(2026, 11, 30, 17, 0));
    assert_int_equal(t.resolution_at_risk_us, T(2026, 11, 27, 17, 0));
    /* Nothing moves when the calendar is the same. */
    assert_int_equal(support_sla_recalendar(&cal, &cal, T(2026, 11, 23, 14, 0), &t), 0);
    /* An overdue target keeps its instant: at Tue 2026-12-01 10:00 the
     * resolution (due Mon 30th 17:00) is past; the met first response is
     * not touched either. */
    t.first_responded_at_us = T(2026, 11, 23, 10, 0);
    assert_int_equal(support_sla_recalendar(&cal, &old, T(2026, 12, 1, 10, 0), &t), 0);
    assert_int_equal(t.resolution_due_us, T(2026, 11, 30, 17, 0));
    /* A stopped clock is left for its resumption. */
    Crm__V1__Ticket p = CRM__V1__TICKET__INIT;
    p.first_response_target_minutes = 480;
    p.resolution_target_minutes = 2400;
    support_sla_open(&old, T(2026, 11, 23, 9, 0), &p);
    support_sla_stop(&old, T(2026, 11, 23, 10, 0), &p);
    int64_t due = p.resolution_due_us;
    assert_int_equal(support_sla_recalendar(&old, &cal, T(2026, 11, 23, 13, 0), &p), 0);
    assert_int_equal(p.resolution_due_us, due);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_machine),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_page_token),
        cmocka_unit_test(test_calendar_checks),
        cmocka_unit_test(test_business_add),
        cmocka_unit_test(test_business_between),
        cmocka_unit_test(test_sla_clock_with_pending_pause),
        cmocka_unit_test(test_sla_24x7),
        cmocka_unit_test(test_zone_table),
        cmocka_unit_test(test_business_time_across_dst),
        cmocka_unit_test(test_sla_retarget),
        cmocka_unit_test(test_sla_recalendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
