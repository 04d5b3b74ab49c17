/* rules.h: the support service's rules, without any I/O.
 *
 * Pure functions of their arguments, unit-tested without a database
 * (tests/unit/support/test_rules.c): the ticket status machine, the checks
 * of request values, and SLA time in business hours (a weekly calendar
 * with holidays, in a fixed UTC offset or in a time zone given as its
 * table of UTC-offset changes). Handlers call them before writing
 * anything, so a rejected request changes nothing.
 *
 * Checks return 0, or -1 after filling the common crm_err_t (crm/check.h:
 * a crm.v1 status code, the field, a lower-case message without a final
 * period, a detail quoting the value, a hint), which handlers pass to
 * crm_work_fail(). Text, id and enum values are checked with the common
 * checks of crm/check.h; only the checks of support's own values live here. */
#ifndef SUPPORT_RULES_H
#define SUPPORT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <crm/check.h>

#include "crm/v1/support.pb-c.h"

#define SUPPORT_NAME_MAX 200   /* subjects, names, assignees, teams */
#define SUPPORT_TEXT_MAX 2000  /* reasons, comments, resolution texts */
#define SUPPORT_BODY_MAX 20000 /* descriptions, replies and notes */
#define SUPPORT_TAGS_MAX 50
#define SUPPORT_TAG_MAX 64
#define SUPPORT_HOLIDAYS_MAX 400
#define SUPPORT_PAGE_DEFAULT 50
#define SUPPORT_PAGE_MAX 500
#define SUPPORT_EMAIL_LEN 255

#define SUPPORT_US_PER_MIN 60000000LL
#define SUPPORT_US_PER_DAY 86400000000LL

/* ---- values ------------------------------------------------------------- */

/* A tag: 1..SUPPORT_TAG_MAX bytes of [a-z0-9:._-] (lower case). */
int support_check_tag(const char *s, const char *field, crm_err_t *e);
/* A satisfaction rating, 1..5. */
int support_check_rating(int rating, const char *field, crm_err_t *e);
/* SLA policy targets: priority 1..4, minutes 1..525600. */
int support_check_policy(const Crm__V1__SlaPolicy *p, const char *field, crm_err_t *e);

/* A list's page token, "<created_us>:<ticket id>" (the last ticket of the
 * previous page): fills *us and id. "" is the first page (us 0). */
int support_page_token_parse(const char *token, int64_t *us, char id[37], crm_err_t *e);

/* ---- the status machine ----------------------------------------------------- */

typedef enum {
    SUPPORT_ACT_ASSIGN,
    SUPPORT_ACT_REPLY,
    SUPPORT_ACT_NOTE,
    SUPPORT_ACT_PEND,
    SUPPORT_ACT_HOLD,
    SUPPORT_ACT_RESOLVE,
    SUPPORT_ACT_REOPEN,
    SUPPORT_ACT_CLOSE,
    SUPPORT_ACT_RATE,
    SUPPORT_ACT_CUSTOMER_REPLY, /* a message from the customer */
    SUPPORT_ACT_PRIORITY,       /* a new priority (and SLA targets) */
} support_action_t;

/* The status a ticket in `from` has after `act` (the same status when the
 * action does not move it): assigning or replying to a NEW ticket opens
 * it; pend/hold/resolve work from new, open, pending and on hold (not to
 * the status it already has); reopen from resolved (and from pending or on
 * hold: the wait is over, back to open); close only from
 * resolved; rate only resolved or closed tickets; nothing but rating
 * changes a closed ticket. A customer's message opens a new ticket, ends a
 * wait on the customer (pending to open) and reopens a resolved ticket; on
 * hold stays on hold (the wait is on someone else). The priority changes
 * only while the ticket is active (new, open, pending, on hold).
 * FAILED_PRECONDITION naming `field` otherwise. */
int support_transition(int from, support_action_t act, int *to, const char *field, crm_err_t *e);

/* Whether the SLA clock runs in `status` (new and open; pending and on
 * hold pause it; resolved and closed stop it). */
int support_clock_runs(int status);

/* Short lower-case name of a status ("on_hold"), "?" if unknown. */
const char *support_status_name(int status);

/* ---- business time ----------------------------------------------------------- */

/* Most UTC-offset changes a zone's table holds (1970-2100 of a zone with
 * daylight saving has about 250). */
#define SUPPORT_ZONE_CHANGES_MAX 1000

typedef struct {
    int offset_min;                         /* local = UTC + offset (before any change) */
    int open[7], close[7];                  /* minutes after local midnight, [0] = Monday */
    int32_t holidays[SUPPORT_HOLIDAYS_MAX]; /* local days since 1970-01-01 */
    size_t n_holidays;
    /* A time zone: from change_us[i] on (UTC, ascending) local time is UTC
     * + change_off[i] minutes. None = the fixed offset_min. */
    int64_t change_us[SUPPORT_ZONE_CHANGES_MAX];
    int change_off[SUPPORT_ZONE_CHANGES_MAX];
    size_t n_changes;
} support_cal_t;

/* Days since 1970-01-01 of a "YYYY-MM-DD" date, or -1 with e filled. */
int support_parse_date(const char *s, int32_t *days, const char *field, crm_err_t *e);

/* Validates a BusinessCalendar and converts it (weekdays 1..7 at most once,
 * minutes 0..1440, offset -840..840, holidays as dates, some working time
 * each week). */
int support_cal_from_msg(const Crm__V1__BusinessCalendar *m, support_cal_t *out, const char *field,
                         crm_err_t *e);

/* A time-zone name as PostgreSQL and the IANA database spell them
 * ("Europe/Berlin", "UTC"): 1..64 bytes of [A-Za-z0-9/_+-], not starting
 * with '/' or containing "..". Whether the zone exists is for the caller to
 * check. */
int support_check_zone(const char *s, const char *field, crm_err_t *e);

/* Sets the zone's offset changes from PostgreSQL array texts of the same
 * length: `at` bigint microseconds (ascending) and `off` minutes, e.g.
 * "{1711846800000000,1729990800000000}" and "{120,60}"; `base` is the
 * offset before the first change. -1 when malformed, unordered or too
 * many. */
int support_cal_set_changes(support_cal_t *cal, int base, const char *at, const char *off);

/* The UTC offset in minutes at instant `us`. */
int support_cal_offset(const support_cal_t *cal, int64_t us);

/* The instant `dur_us` of business time after `start_us`: time outside the
 * working hours, on weekends and on holidays does not count. A duration of
 * 0 (or less) gives start_us. Returns -1 if the calendar has no working time
 * within ten years. */
int64_t support_business_add(const support_cal_t *cal, int64_t start_us, int64_t dur_us);

/* Business time between two instants (0 when to <= from). */
int64_t support_business_between(const support_cal_t *cal, int64_t from_us, int64_t to_us);

/* ---- the SLA clock of a ticket ------------------------------------------------ */

/* Starts the clock of a new ticket at `now`: the remaining times are the
 * targets in full, then as support_sla_resume. */
void support_sla_open(const support_cal_t *cal, int64_t now, Crm__V1__Ticket *t);

/* Stops the clock at `now` (pause or resolution): each target not yet met
 * keeps the business time it had left (0 when overdue) and the ticket
 * records when the clock stopped. */
void support_sla_stop(const support_cal_t *cal, int64_t now, Crm__V1__Ticket *t);

/* Restarts the clock at `now`: each target not yet met falls due after the
 * business time it had left, and is at risk once 80% of its target is used
 * (at once if that is already the case). */
void support_sla_resume(const support_cal_t *cal, int64_t now, Crm__V1__Ticket *t);

/* Gives the ticket new targets (a new priority's policy) at `now`: the
 * business time used so far counts against them, so each target not yet
 * met has (new target - used) left, due at once when that is nothing; a
 * running clock is re-armed, a stopped one keeps the new remaining time. */
void support_sla_retarget(const support_cal_t *cal, int64_t now, int first_response_min,
                          int resolution_min, Crm__V1__Ticket *t);

/* Moves a running ticket from calendar `old` to `cal` at `now` (the
 * calendar was replaced): each target not yet met and not yet due keeps
 * the business time it had left under `old`, now laid out in `cal`.
 * Targets already due, met ones and stopped clocks are left alone (a
 * stopped clock is laid out in the new calendar when it resumes). Returns
 * 1 when an instant changed, else 0. */
int support_sla_recalendar(const support_cal_t *old, const support_cal_t *cal, int64_t now,
                           Crm__V1__Ticket *t);

#endif
