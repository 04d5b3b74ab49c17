/* crm/err.h: the one error carrier of libcrm and the services.
 *
 * A crm_err_t is what a check, a rule or a failed statement reports: a
 * status code from crm.v1.StatusCode, the dotted request field it is
 * about, a lower-case message without a final period, a detail that
 * quotes the value and a hint (the postgres error style), all sent to the
 * client by crm_work_fail_err(); and, like postgres' ErrorData detail_log,
 * a detail for the log only, which never leaves the process (what the
 * database server said: table and constraint names). Neither may carry a
 * secret; the log detail never carries a request's values either. */
#ifndef CRM_ERR_H
#define CRM_ERR_H

typedef struct {
    int code; /* Crm__V1__StatusCode; 0 = no error */
    char field[128];
    char message[160];
    char detail[384];
    char hint[320];
    char log_detail[384]; /* for the log only; "" = none */
} crm_err_t;

/* Fills e (log_detail emptied) and returns -1; the detail is
 * printf-formatted (NULL: none). */
int crm_err_set(crm_err_t *e, int code, const char *field, const char *message, const char *hint,
                const char *detail_fmt, ...) __attribute__((format(printf, 6, 7)));

/* Sets e's log-only detail, printf-formatted; returns -1. */
int crm_err_log_detail(crm_err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
