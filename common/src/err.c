/* err.c: the error carrier (see crm/err.h). */
#include <crm/err.h>

#include <stdarg.h>
#include <stdio.h>

int crm_err_set(crm_err_t *e, int code, const char *field, const char *message, const char *hint,
                const char *detail_fmt, ...)
{
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    snprintf(e->message, sizeof e->message, "%s", message ? message : "");
    snprintf(e->hint, sizeof e->hint, "%s", hint ? hint : "");
    e->detail[0] = 0;
    e->log_detail[0] = 0;
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(e->detail, sizeof e->detail, detail_fmt, ap);
        va_end(ap);
    }
    return -1;
}

int crm_err_log_detail(crm_err_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->log_detail, sizeof e->log_detail, fmt, ap);
    va_end(ap);
    return -1;
}
