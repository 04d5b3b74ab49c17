/* analytics.h: what the analytics verbs (customer.c, report.c,
 * analytics.c) share: one call of an analytics report command and a
 * readable rendering of JSON report rows. */
#ifndef CRMCTL_ANALYTICS_H
#define CRMCTL_ANALYTICS_H

#include "crmctl.h"

#include "crm/v1/analytics.pb-c.h"

#define ANALYTICS_SERVICE "analytics"

/* A column of a readable table: `key` in each row object; values are
 * printed as they are (strings, numbers), arrays joined with "; ",
 * *_us keys as times, *_minor keys as money. */
typedef struct {
    const char *header;
    const char *key;
} an_col_t;

/* Fills q->at_us from --at (absent = 0, the service's now). Returns 0 or a
 * CRMCTL_EXIT_* code after printing a usage error. */
int an_opt_at(crmctl_t *ctl, const crmctl_args_t *args, Crm__V1__AnalyticsQuery *q);

/* Calls `command` with q; on success stores the report in *doc (caller
 * decrefs). Returns CRMCTL_EXIT_*; failures are printed. */
int an_report(crmctl_t *ctl, const char *command, const Crm__V1__AnalyticsQuery *q, json_t **doc);

/* -o json: prints doc as one line (steals it). Returns CRMCTL_EXIT_*. */
int an_print_json(json_t *doc);

/* One value as readable text into buf ("-" for null/absent). */
const char *an_cell(const char *key, const json_t *v, char *buf, size_t len);

/* Prints rows (an array of objects) as a table with `cols`; "(none)" when
 * empty. */
void an_print_rows(const json_t *rows, const an_col_t *cols, size_t n);

/* Prints "key: value" lines of an object's members named in cols. */
void an_print_fields(const json_t *obj, const an_col_t *cols, size_t n);

#endif
