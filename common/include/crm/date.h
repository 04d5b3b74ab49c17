/* crm/date.h: civil (proleptic Gregorian) calendar arithmetic on integers.
 * Services and tools need dates without the C library's time functions,
 * which depend on the process time zone; days count from 1970-01-01. */
#ifndef CRM_DATE_H
#define CRM_DATE_H

#include <stdint.h>

/* Days since 1970-01-01 of the civil date y-m-d (m 1-12, d 1-31; negative
 * before 1970). The inputs are not checked: see crm_days_in_month. */
int64_t crm_days_from_civil(int64_t y, int m, int d);

/* The civil date of `days` since 1970-01-01 into *y, *m (1-12), *d (1-31);
 * the inverse of crm_days_from_civil. */
void crm_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* The number of days of month m (1-12) of year y: 28 to 31. */
int crm_days_in_month(int64_t y, int m);

#endif
