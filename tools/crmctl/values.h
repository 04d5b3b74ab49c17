/* values.h: one parser per kind of value a person types on a command line
 * (values.c): money, dates, instants and UTC offsets, to and from what the
 * .proto files carry. Pure functions: no output, no service. */
#ifndef CRMCTL_VALUES_H
#define CRMCTL_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* "1234.50", "1234", "0.5" -> minor units (cents), exactly. Returns 0, or -1
 * with the problem in why (negative, more than 2 decimals, not a number, too
 * large). */
int val_money_parse(const char *text, int64_t *minor, const char **why);
/* Minor units as "1234.50" (or "-12.05") into buf. */
char *val_money_format(int64_t minor, char *buf, size_t len);
/* "YYYY-MM-DD" -> days since 1970-01-01; -1 (why set) when not a real date. */
int val_date_parse(const char *text, int64_t *days, const char **why);
/* RFC 3339 ("2026-11-23T09:00:00Z", "...T09:00+02:00", fractions allowed),
 * a date (midnight UTC), or "+2h" / "-30m" / "+1d" / "+1w" / "+45s"
 * relative to now_us -> microseconds UTC. `end_of_day`: a bare date means
 * its last microsecond. Returns 0 or -1 with why set. */
int val_time_parse(const char *text, int64_t now_us, int end_of_day, int64_t *us, const char **why);
/* Microseconds as "2026-11-23T09:00Z" (seconds shown when not zero). */
char *val_time_format(int64_t us, char *buf, size_t len);
/* Days since 1970-01-01 as "YYYY-MM-DD". */
char *val_date_format(int64_t days, char *buf, size_t len);

/* A fixed offset from UTC -> minutes east of UTC: "+HH:MM" or "-HH:MM"
 * (e.g. "+01:00", "-05:30"), the hours alone ("+2", "-11"), or "0"; the
 * sign may be left out ("02:00" is "+02:00"). Hours 0-14, minutes 0-59.
 * Returns 0, or -1 with the accepted forms in why. */
int val_utc_offset_parse(const char *text, int64_t *minutes, const char **why);

#endif
