/* rules.h: the pure logic of analytics, without the database or the loop,
 * so that unit tests (tests/unit/analytics) exercise it alone: ISO weeks
 * and the validation of report queries. */
#ifndef ANALYTICS_RULES_H
#define ANALYTICS_RULES_H

#include <stddef.h>
#include <stdint.h>

#define AN_US_PER_DAY (86400LL * 1000000LL)

/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian). */
int64_t an_days_from_civil(int64_t y, int m, int d);

/* The Monday 00:00 UTC (microseconds since the epoch) that starts the ISO
 * 8601 week containing `us`. */
int64_t an_week_start(int64_t us);

/* Parses an ISO 8601 week "YYYY-Www" (week 01-53, 53 only in years that
 * have it) into the microsecond its Monday starts, UTC. Returns 0, or -1
 * with *why set to a static explanation. */
int an_iso_week_parse(const char *text, int64_t *monday_us, const char **why);

/* Formats the ISO week containing `us` as "YYYY-Www" into buf (at least
 * 9 bytes); returns buf. */
char *an_iso_week_format(int64_t us, char *buf, size_t len);

/* A report query's fields, checked before any SQL runs. */
typedef struct {
    const char *field;   /* the offending field, or NULL */
    const char *message; /* static */
    const char *hint;    /* static, may be NULL */
} an_err_t;

/* Checks a customer id as given by a client: non-empty, at most 200
 * bytes, printable ASCII. Returns 0 or -1 with *e filled. */
int an_check_customer_id(const char *id, an_err_t *e);

#endif
