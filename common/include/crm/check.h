/* crm/check.h: the value checks every service runs on request fields
 * before it writes anything, and the error they fill.
 *
 * Every check returns 0, or -1 after filling a crm_err_t (crm/err.h) with
 * a status code from crm.v1.StatusCode, the dotted field it is about
 * ("person.emails[0]"), a lower-case message without a final period, a
 * detail that quotes the value and a hint: the postgres error style that
 * crm_work_fail_err() sends back to the client. Pure functions, no I/O. */
#ifndef CRM_CHECK_H
#define CRM_CHECK_H

#include <crm/err.h>

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* s in double quotes for a detail, cut after 80 bytes (with its length)
 * so that a huge field does not make a huge reply; NULL quotes as "".
 * Writes into buf (128 bytes are enough) and returns it. */
const char *crm_quote(const char *s, char *buf, size_t len);

/* Length of s without leading and trailing white space; *start is set to
 * its first non-space byte. NULL counts as empty. */
size_t crm_trim(const char *s, const char **start);

/* Text of at most `max` bytes (after trimming) without control characters
 * other than newline, tab and carriage return. Empty is allowed. */
int crm_check_text(const char *s, size_t max, const char *field, crm_err_t *e);

/* As crm_check_text, and not blank. */
int crm_check_required(const char *s, size_t max, const char *field, crm_err_t *e);

/* An id (canonical UUID text). Empty is allowed unless `required`. */
int crm_check_id(const char *s, int required, const char *field, crm_err_t *e);

/* A currency of ISO 4217 (three letters, any case), upper-cased into out;
 * empty input gives "" (the caller applies its default). A code ISO 4217
 * does not list ("XYZ") is refused. */
int crm_check_currency(const char *in, char out[4], const char *field, crm_err_t *e);

/* The minor units of ISO 4217 currency `code` (upper case): how many digits
 * follow the decimal point, so how many minor units make one major unit
 * (JPY 0, EUR 2, KWD 3, CLF 4). -1 when ISO 4217 lists no such currency. */
int crm_currency_minor_units(const char *code);

/* A calendar date "YYYY-MM-DD" that exists (2026-02-30 does not), from
 * 1900-01-01 to 9999-12-31, exactly ten bytes (no signs, no spaces).
 * *days, when not NULL, gets its days since 1970-01-01 (crm/date.h).
 * Empty or NULL is malformed: callers for which a date is optional test
 * for "" first. */
int crm_check_date(const char *s, int64_t *days, const char *field, crm_err_t *e);

/* crm_check_date for a date that may be left out: "" and NULL pass. */
int crm_check_date_opt(const char *s, const char *field, crm_err_t *e);

/* A value of enum d; 0 is allowed only with allow_zero. The hint lists the
 * names of the values. */
int crm_check_enum(const ProtobufCEnumDescriptor *d, int v, int allow_zero, const char *field,
                   crm_err_t *e);

#endif
