/* jalali.h: the reader's locale: Jalali dates and Saturday weeks with
 * fa_IR (jalali.c). */
#ifndef CRMCTL_JALALI_H
#define CRMCTL_JALALI_H
#include <stddef.h>
#include <stdint.h>
/* 1 when the reader's locale is fa_IR (CRM_LOCALE or the config file). */
int crmctl_locale_jalali(void);
/* Instant `us` (UTC) as a Jalali date-time "1405-01-01T10:00Z" into buf;
 * NULL when ICU fails. */
char *crmctl_jalali_time(int64_t us, char *buf, size_t len);
/* Day `days` (since 1970-01-01) as a Jalali date "1405-01-01"; NULL when
 * ICU fails. */
char *crmctl_jalali_date(int64_t days, char *buf, size_t len);
/* The Saturday 00:00 UTC that starts the week (Saturday to Friday)
 * containing `us`. */
int64_t crmctl_saturday_week_start(int64_t us);
#endif
