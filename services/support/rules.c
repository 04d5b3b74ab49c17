/* rules.c: support's status machine, value checks and business time.
 *
 * Business time is computed day by day in the calendar's local time: each
 * local day contributes the overlap of [from, to) with its working window
 * (none on holidays), so the cost is one step per calendar day spanned.
 * The window's ends are turned into UTC instants with the offset in force
 * at each end, so a day on which daylight saving starts or ends has the
 * real length of its working hours. */
#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crm/check.h>
#include <crm/date.h>
#include <crm/util.h>

#include "crm/v1/rpc.pb-c.h"

#define S_CODE(x) CRM__V1__STATUS_CODE__STATUS_CODE_##x
#define S_STATUS(x) CRM__V1__TICKET_STATUS__TICKET_STATUS_##x

/* Looking further than this for working time means there is none. */
#define S_MAX_DAYS 3660

/* ---- values ------------------------------------------------------------- */

int support_check_tag(const char *s, const char *field, crm_err_t *e)
{
    size_t n = strlen(s);
    if (n == 0 || n > SUPPORT_TAG_MAX)
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), field, "tag must be 1 to 64 bytes", NULL,
                           "\"%.64s\" has %zu bytes", s, n);
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || strchr(":._-", s[i])))
            return crm_err_set(e, S_CODE(INVALID_ARGUMENT), field,
                               "tag contains a character other than a-z, 0-9, :._-",
                               "write tags in lower case, e.g. \"product:billing\"", "\"%.64s\"",
                               s);
    return 0;
}

int support_check_rating(int rating, const char *field, crm_err_t *e)
{
    if (rating < 1 || rating > 5)
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), field, "rating must be between 1 and 5",
                           NULL, "got %d", rating);
    return 0;
}

int support_check_policy(const Crm__V1__SlaPolicy *p, const char *field, crm_err_t *e)
{
    char f[96];
    if (!p)
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), field, "value is required", NULL,
                           "no %s given", field);
    snprintf(f, sizeof f, "%s.priority", field);
    if (crm_check_enum(&crm__v1__ticket_priority__descriptor, p->priority, 0, f, e) < 0)
        return -1;
    if (p->first_response_minutes < 1 || p->first_response_minutes > 525600) {
        snprintf(f, sizeof f, "%s.first_response_minutes", field);
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), f,
                           "target must be between 1 and 525600 minutes", NULL, "got %d",
                           (int)p->first_response_minutes);
    }
    if (p->resolution_minutes < 1 || p->resolution_minutes > 525600) {
        snprintf(f, sizeof f, "%s.resolution_minutes", field);
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), f,
                           "target must be between 1 and 525600 minutes", NULL, "got %d",
                           (int)p->resolution_minutes);
    }
    return 0;
}

int support_page_token_parse(const char *token, int64_t *us, char id[37], crm_err_t *e)
{
    const char *colon = strchr(token, ':');
    char *end = NULL;
    *us = 0;
    id[0] = 0;
    if (!*token)
        return 0;
    if (colon && colon > token && isdigit((unsigned char)token[0])) {
        long long v = strtoll(token, &end, 10);
        if (end == colon && v > 0 && strlen(colon + 1) == 36) {
            memcpy(id, colon + 1, 37);
            if (crm_uuid_valid(id)) {
                *us = v;
                return 0;
            }
        }
    }
    id[0] = 0;
    return crm_err_set(e, S_CODE(INVALID_ARGUMENT), "page_token", "page token is malformed",
                       "pass next_page_token from the previous reply unchanged", "got \"%.80s\"",
                       token);
}

/* ---- the status machine ----------------------------------------------------- */

const char *support_status_name(int status)
{
    static const char *const names[] = {"unspecified", "new",      "open",  "pending",
                                        "on_hold",     "resolved", "closed"};
    return status >= 0 && status <= 6 ? names[status] : "?";
}

static int s_refuse(int from, const char *what, const char *field, const char *hint, crm_err_t *e)
{
    char msg[160];
    snprintf(msg, sizeof msg, "cannot %s a ticket that is %s", what, support_status_name(from));
    return crm_err_set(e, S_CODE(FAILED_PRECONDITION), field, msg, hint, "the ticket is %s",
                       support_status_name(from));
}

int support_transition(int from, support_action_t act, int *to, const char *field, crm_err_t *e)
{
    int active = from == S_STATUS(NEW) || from == S_STATUS(OPEN) || from == S_STATUS(PENDING) ||
                 from == S_STATUS(ON_HOLD);
    if (from < S_STATUS(NEW) || from > S_STATUS(CLOSED))
        return crm_err_set(e, S_CODE(INTERNAL), field, "ticket has an unknown status", NULL,
                           "status %d", from);
    *to = from;
    switch (act) {
    case SUPPORT_ACT_ASSIGN:
    case SUPPORT_ACT_REPLY:
    case SUPPORT_ACT_NOTE:
        if (from == S_STATUS(CLOSED))
            return s_refuse(from,
                            act == SUPPORT_ACT_ASSIGN  ? "assign"
                            : act == SUPPORT_ACT_REPLY ? "reply to"
                                                       : "add a note to",
                            field, "a closed ticket is final; open a new ticket", e);
        if (from == S_STATUS(NEW) && act != SUPPORT_ACT_NOTE)
            *to = S_STATUS(OPEN);
        return 0;
    case SUPPORT_ACT_PEND:
    case SUPPORT_ACT_HOLD: {
        int target = act == SUPPORT_ACT_PEND ? S_STATUS(PENDING) : S_STATUS(ON_HOLD);
        if (!active || from == target)
            return s_refuse(from, act == SUPPORT_ACT_PEND ? "set pending" : "put on hold", field,
                            from == target ? "it is already in that status"
                                           : "reopen a resolved ticket first",
                            e);
        *to = target;
        return 0;
    }
    case SUPPORT_ACT_RESOLVE:
        if (!active)
            return s_refuse(from, "resolve", field, "only new, open, pending or on hold tickets",
                            e);
        *to = S_STATUS(RESOLVED);
        return 0;
    case SUPPORT_ACT_REOPEN:
        if (from != S_STATUS(RESOLVED) && from != S_STATUS(PENDING) && from != S_STATUS(ON_HOLD))
            return s_refuse(from, "reopen", field,
                            "only resolved, pending or on hold tickets can be reopened", e);
        *to = S_STATUS(OPEN);
        return 0;
    case SUPPORT_ACT_CLOSE:
        if (from != S_STATUS(RESOLVED))
            return s_refuse(from, "close", field, "resolve the ticket first", e);
        *to = S_STATUS(CLOSED);
        return 0;
    case SUPPORT_ACT_RATE:
        if (from != S_STATUS(RESOLVED) && from != S_STATUS(CLOSED))
            return s_refuse(from, "rate", field, "only resolved or closed tickets can be rated", e);
        return 0;
    case SUPPORT_ACT_CUSTOMER_REPLY:
        if (from == S_STATUS(CLOSED))
            return s_refuse(from, "add a customer message to", field,
                            "a closed ticket is final; open a new ticket", e);
        if (from == S_STATUS(NEW) || from == S_STATUS(ON_HOLD))
            return 0;
        *to = S_STATUS(OPEN); /* the customer answered, or came back */
        return 0;
    case SUPPORT_ACT_PRIORITY:
        if (!active)
            return s_refuse(from, "change the priority of", field,
                            "only new, open, pending or on hold tickets; reopen it first", e);
        return 0;
    }
    return crm_err_set(e, S_CODE(INTERNAL), field, "unknown action", NULL, "%d", (int)act);
}

int support_clock_runs(int status)
{
    return status == S_STATUS(NEW) || status == S_STATUS(OPEN);
}

/* ---- business time ----------------------------------------------------------- */

int support_parse_date(const char *s, int32_t *days, const char *field, crm_err_t *e)
{
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 ||
        d > crm_days_in_month(y, m))
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), field, "invalid date",
                           "write dates as YYYY-MM-DD", "\"%.40s\"", s);
    *days = (int32_t)crm_days_from_civil(y, m, d);
    return 0;
}

int support_cal_from_msg(const Crm__V1__BusinessCalendar *m, support_cal_t *out, const char *field,
                         crm_err_t *e)
{
    char f[128];
    int seen[7] = {0}, work = 0;
    memset(out, 0, sizeof *out);
    if (!m)
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), field, "value is required", NULL,
                           "no %s given", field);
    if (m->utc_offset_minutes < -840 || m->utc_offset_minutes > 840) {
        snprintf(f, sizeof f, "%s.utc_offset_minutes", field);
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), f,
                           "offset must be between -840 and 840 minutes", NULL, "got %d",
                           (int)m->utc_offset_minutes);
    }
    out->offset_min = m->utc_offset_minutes;
    if (*m->time_zone) {
        snprintf(f, sizeof f, "%s.time_zone", field);
        if (support_check_zone(m->time_zone, f, e) < 0)
            return -1;
        if (m->utc_offset_minutes)
            return crm_err_set(
                e, S_CODE(INVALID_ARGUMENT), f, "time zone and UTC offset are exclusive",
                "give a time zone (it knows its offsets) or a fixed offset",
                "zone \"%.64s\", offset %d", m->time_zone, (int)m->utc_offset_minutes);
    }
    for (size_t i = 0; i < m->n_hours; i++) {
        const Crm__V1__BusinessHours *h = m->hours[i];
        snprintf(f, sizeof f, "%s.hours[%zu]", field, i);
        if (h->weekday < 1 || h->weekday > 7 || seen[h->weekday - 1])
            return crm_err_set(e, S_CODE(INVALID_ARGUMENT), f,
                               h->weekday < 1 || h->weekday > 7
                                   ? "weekday must be between 1 (Monday) and 7 (Sunday)"
                                   : "weekday given twice",
                               NULL, "weekday %d", (int)h->weekday);
        if (h->open_minute < 0 || h->open_minute > 1440 || h->close_minute < 0 ||
            h->close_minute > 1440)
            return crm_err_set(e, S_CODE(INVALID_ARGUMENT), f, "minutes must be between 0 and 1440",
                               NULL, "open %d, close %d", (int)h->open_minute,
                               (int)h->close_minute);
        seen[h->weekday - 1] = 1;
        out->open[h->weekday - 1] = h->open_minute;
        out->close[h->weekday - 1] = h->close_minute;
        work |= h->close_minute > h->open_minute;
    }
    if (!work) {
        snprintf(f, sizeof f, "%s.hours", field);
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), f, "calendar has no working hours",
                           "give at least one weekday with close_minute > open_minute",
                           "%zu entries", m->n_hours);
    }
    if (m->n_holidays > SUPPORT_HOLIDAYS_MAX) {
        snprintf(f, sizeof f, "%s.holidays", field);
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), f, "too many holidays", NULL,
                           "%zu, at most %d", m->n_holidays, SUPPORT_HOLIDAYS_MAX);
    }
    for (size_t i = 0; i < m->n_holidays; i++) {
        snprintf(f, sizeof f, "%s.holidays[%zu]", field, i);
        if (support_parse_date(m->holidays[i], &out->holidays[i], f, e) < 0)
            return -1;
    }
    out->n_holidays = m->n_holidays;
    return 0;
}

static int64_t s_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int support_check_zone(const char *s, const char *field, crm_err_t *e)
{
    size_t n = s ? strlen(s) : 0;
    int ok = n >= 1 && n <= 64 && s[0] != '/' && !strstr(s, "..");
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)s[i]) || strchr("/_+-", s[i]);
    if (!ok)
        return crm_err_set(e, S_CODE(INVALID_ARGUMENT), field, "invalid time zone name",
                           "give an IANA name such as Europe/Berlin", "\"%.80s\"", s ? s : "");
    return 0;
}

/* The next element of a PostgreSQL integer array text at *p, after '{' or
 * ','; 0, 1 at the closing '}', -1 when malformed. */
static int s_array_next(const char **p, int64_t *v)
{
    char *end;
    if (**p == '}')
        return 1;
    errno = 0;
    long long x = strtoll(*p, &end, 10);
    if (end == *p || errno || (*end != ',' && *end != '}'))
        return -1;
    *v = x;
    *p = *end == ',' ? end + 1 : end;
    return 0;
}

int support_cal_set_changes(support_cal_t *cal, int base, const char *at, const char *off)
{
    size_t n = 0;
    int64_t a, o;
    int ra, ro;
    cal->offset_min = base;
    cal->n_changes = 0;
    if (!at || !off || *at != '{' || *off != '{')
        return -1;
    at++, off++;
    while ((ra = s_array_next(&at, &a)) == 0 && (ro = s_array_next(&off, &o)) == 0) {
        if (n == SUPPORT_ZONE_CHANGES_MAX || o < -1440 || o > 1440 ||
            (n && a <= cal->change_us[n - 1]))
            return -1;
        cal->change_us[n] = a;
        cal->change_off[n++] = (int)o;
    }
    if (ra != 1 || s_array_next(&off, &o) != 1 || at[1] || off[1])
        return -1;
    cal->n_changes = n;
    return 0;
}

int support_cal_offset(const support_cal_t *cal, int64_t us)
{
    /* The last change at or before us (binary search). */
    size_t lo = 0, hi = cal->n_changes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->change_us[mid] <= us)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? cal->change_off[lo - 1] : cal->offset_min;
}

/* The UTC instant of local time `local`: the offset in force at the
 * instant found with the offset of a day earlier, checked once more. A
 * local time skipped when clocks go forward maps past the gap; one
 * repeated when they go back maps to its first occurrence. */
static int64_t s_to_utc(const support_cal_t *cal, int64_t local)
{
    if (!cal->n_changes)
        return local - cal->offset_min * SUPPORT_US_PER_MIN;
    int off = support_cal_offset(cal, local - SUPPORT_US_PER_DAY);
    int64_t utc = local - off * SUPPORT_US_PER_MIN;
    int off2 = support_cal_offset(cal, utc);
    if (off2 != off) {
        int64_t utc2 = local - off2 * SUPPORT_US_PER_MIN;
        /* In a gap neither fits: take the later reading. */
        utc = support_cal_offset(cal, utc2) == off2 ? utc2 : (utc > utc2 ? utc : utc2);
    }
    return utc;
}

/* The local day (days since 1970-01-01) instant `us` falls on. */
static int64_t s_local_day(const support_cal_t *cal, int64_t us)
{
    return s_floor_div(us + support_cal_offset(cal, us) * SUPPORT_US_PER_MIN, SUPPORT_US_PER_DAY);
}

/* The working window of local day `day` as UTC instants; 0 if none. */
static int s_window(const support_cal_t *cal, int64_t day, int64_t *ws, int64_t *we)
{
    int wd = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; 0 = Monday */
    if (cal->close[wd] <= cal->open[wd])
        return 0;
    for (size_t i = 0; i < cal->n_holidays; i++)
        if (cal->holidays[i] == day)
            return 0;
    *ws = s_to_utc(cal, day * SUPPORT_US_PER_DAY + cal->open[wd] * SUPPORT_US_PER_MIN);
    *we = s_to_utc(cal, day * SUPPORT_US_PER_DAY + cal->close[wd] * SUPPORT_US_PER_MIN);
    return *we > *ws;
}

int64_t support_business_add(const support_cal_t *cal, int64_t start_us, int64_t dur_us)
{
    int64_t left = dur_us;
    if (dur_us <= 0)
        return start_us;
    int64_t day = s_local_day(cal, start_us);
    for (int i = 0; i < S_MAX_DAYS; i++, day++) {
        int64_t ws, we;
        if (!s_window(cal, day, &ws, &we))
            continue;
        int64_t from = start_us > ws ? start_us : ws;
        if (from >= we)
            continue;
        if (left <= we - from)
            return from + left;
        left -= we - from;
    }
    return -1;
}

int64_t support_business_between(const support_cal_t *cal, int64_t from_us, int64_t to_us)
{
    int64_t sum = 0;
    if (to_us <= from_us)
        return 0;
    int64_t last = s_local_day(cal, to_us);
    for (int64_t day = s_local_day(cal, from_us); day <= last; day++) {
        int64_t ws, we;
        if (!s_window(cal, day, &ws, &we))
            continue;
        int64_t lo = from_us > ws ? from_us : ws, hi = to_us < we ? to_us : we;
        if (hi > lo)
            sum += hi - lo;
    }
    return sum;
}

/* ---- the SLA clock ------------------------------------------------------------ */

/* Due and at-risk instants of a target with `left` of `target_min` to go. */
static void s_arm(const support_cal_t *cal, int64_t now, int target_min, int64_t left, int64_t *due,
                  int64_t *risk)
{
    int64_t spare = (int64_t)target_min * SUPPORT_US_PER_MIN / 5; /* the last 20% */
    *due = support_business_add(cal, now, left);
    *risk = left > spare ? support_business_add(cal, now, left - spare) : now;
}

void support_sla_open(const support_cal_t *cal, int64_t now, Crm__V1__Ticket *t)
{
    t->first_response_remaining_us = (int64_t)t->first_response_target_minutes * SUPPORT_US_PER_MIN;
    t->resolution_remaining_us = (int64_t)t->resolution_target_minutes * SUPPORT_US_PER_MIN;
    support_sla_resume(cal, now, t);
}

void support_sla_stop(const support_cal_t *cal, int64_t now, Crm__V1__Ticket *t)
{
    if (t->sla_paused_at_us)
        return; /* already stopped */
    if (!t->first_responded_at_us)
        t->first_response_remaining_us =
            support_business_between(cal, now, t->first_response_due_us);
    t->resolution_remaining_us = support_business_between(cal, now, t->resolution_due_us);
    t->sla_paused_at_us = now;
}

void support_sla_resume(const support_cal_t *cal, int64_t now, Crm__V1__Ticket *t)
{
    if (!t->first_responded_at_us)
        s_arm(cal, now, t->first_response_target_minutes, t->first_response_remaining_us,
              &t->first_response_due_us, &t->first_response_at_risk_us);
    s_arm(cal, now, t->resolution_target_minutes, t->resolution_remaining_us, &t->resolution_due_us,
          &t->resolution_at_risk_us);
    t->first_response_remaining_us = 0;
    t->resolution_remaining_us = 0;
    t->sla_paused_at_us = 0;
}

/* Business time left on a running target due at `due` (negative when it
 * is overdue by that much). */
static int64_t s_left(const support_cal_t *cal, int64_t now, int64_t due)
{
    return due >= now ? support_business_between(cal, now, due)
                      : -support_business_between(cal, due, now);
}

void support_sla_retarget(const support_cal_t *cal, int64_t now, int first_response_min,
                          int resolution_min, Crm__V1__Ticket *t)
{
    int running = t->sla_paused_at_us == 0;
    int64_t fr =
        running ? s_left(cal, now, t->first_response_due_us) : t->first_response_remaining_us;
    int64_t res = running ? s_left(cal, now, t->resolution_due_us) : t->resolution_remaining_us;
    fr += (int64_t)(first_response_min - t->first_response_target_minutes) * SUPPORT_US_PER_MIN;
    res += (int64_t)(resolution_min - t->resolution_target_minutes) * SUPPORT_US_PER_MIN;
    t->first_response_target_minutes = first_response_min;
    t->resolution_target_minutes = resolution_min;
    if (!t->first_responded_at_us)
        t->first_response_remaining_us = fr > 0 ? fr : 0;
    t->resolution_remaining_us = res > 0 ? res : 0;
    if (running)
        support_sla_resume(cal, now, t);
}

int support_sla_recalendar(const support_cal_t *old, const support_cal_t *cal, int64_t now,
                           Crm__V1__Ticket *t)
{
    int64_t due, risk;
    int changed = 0;
    if (t->sla_paused_at_us)
        return 0;
    if (!t->first_responded_at_us && t->first_response_due_us > now) {
        s_arm(cal, now, t->first_response_target_minutes,
              support_business_between(old, now, t->first_response_due_us), &due, &risk);
        changed |= due != t->first_response_due_us || risk != t->first_response_at_risk_us;
        t->first_response_due_us = due;
        t->first_response_at_risk_us = risk;
    }
    if (t->resolution_due_us > now) {
        s_arm(cal, now, t->resolution_target_minutes,
              support_business_between(old, now, t->resolution_due_us), &due, &risk);
        changed |= due != t->resolution_due_us || risk != t->resolution_at_risk_us;
        t->resolution_due_us = due;
        t->resolution_at_risk_us = risk;
    }
    return changed;
}
