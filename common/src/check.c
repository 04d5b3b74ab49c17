/* check.c: request value checks shared by the services (see crm/check.h). */
#include <crm/check.h>
#include <crm/date.h>
#include <crm/util.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crm/v1/rpc.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define S_QUOTE_MAX 80

const char *crm_quote(const char *s, char *buf, size_t len)
{
    size_t n = s ? strlen(s) : 0;
    if (n <= S_QUOTE_MAX)
        snprintf(buf, len, "\"%s\"", s ? s : "");
    else
        snprintf(buf, len, "\"%.*s...\" (%zu bytes)", S_QUOTE_MAX, s, n);
    return buf;
}

size_t crm_trim(const char *s, const char **start)
{
    if (!s) {
        *start = "";
        return 0;
    }
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    *start = s;
    return n;
}

int crm_check_text(const char *s, size_t max, const char *field, crm_err_t *e)
{
    const char *t;
    size_t n = crm_trim(s, &t);
    char q[128];
    if (n > max)
        return crm_err_set(e, S_INVALID, field, "value is too long", "shorten it",
                           "%zu bytes, at most %zu allowed", n, max);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f)
            return crm_err_set(e, S_INVALID, field, "value contains a control character",
                               "remove control characters", "got %s", crm_quote(s, q, sizeof q));
    }
    return 0;
}

int crm_check_required(const char *s, size_t max, const char *field, crm_err_t *e)
{
    const char *t;
    if (crm_trim(s, &t) == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s is required", field);
        return crm_err_set(e, S_INVALID, field, msg, "send a non-blank value", NULL);
    }
    return crm_check_text(s, max, field, e);
}

int crm_check_currency(const char *in, char out[4], const char *field, crm_err_t *e)
{
    const char *t;
    size_t n = crm_trim(in, &t);
    char q[128];
    out[0] = 0;
    if (n == 0)
        return 0;
    if (n == 3 && isalpha((unsigned char)t[0]) && isalpha((unsigned char)t[1]) &&
        isalpha((unsigned char)t[2])) {
        for (int i = 0; i < 3; i++)
            out[i] = (char)toupper((unsigned char)t[i]);
        out[3] = 0;
        return 0;
    }
    return crm_err_set(e, S_INVALID, field, "currency is not a three-letter code",
                       "send an ISO 4217 code such as EUR, USD or GBP", "got %s",
                       crm_quote(in, q, sizeof q));
}

int crm_check_id(const char *s, int required, const char *field, crm_err_t *e)
{
    char q[128];
    if (!s || !*s) {
        if (!required)
            return 0;
        char msg[160];
        snprintf(msg, sizeof msg, "%s is required", field);
        return crm_err_set(e, S_INVALID, field, msg, "send the id of an existing record", NULL);
    }
    if (!crm_uuid_valid(s))
        return crm_err_set(e, S_INVALID, field, "id is malformed",
                           "ids are UUIDs such as 6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10", "got %s",
                           crm_quote(s, q, sizeof q));
    return 0;
}

int crm_check_enum(const ProtobufCEnumDescriptor *d, int v, int allow_zero, const char *field,
                   crm_err_t *e)
{
    if ((v == 0 && allow_zero) || (v != 0 && protobuf_c_enum_descriptor_get_value(d, v)))
        return 0;
    char hint[320];
    size_t at = (size_t)snprintf(hint, sizeof hint, "send one of");
    for (unsigned i = 0; i < d->n_values && at < sizeof hint; i++)
        if (d->values[i].value != 0)
            at += (size_t)snprintf(hint + at, sizeof hint - at, "%s %s", i > 1 ? "," : "",
                                   d->values[i].name);
    return crm_err_set(e, S_INVALID, field, v == 0 ? "value is required" : "value is unknown", hint,
                       "got %d", v);
}

int crm_check_date(const char *s, int64_t *days, const char *field, crm_err_t *e)
{
    char q[128];
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        goto malformed;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            goto malformed;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > crm_days_in_month(y, m))
        return crm_err_set(e, S_INVALID, field, "date does not exist",
                           "send a calendar date from 1900-01-01 on, as YYYY-MM-DD", "got %s",
                           crm_quote(s, q, sizeof q));
    if (days)
        *days = crm_days_from_civil(y, m, d);
    return 0;
malformed:
    return crm_err_set(e, S_INVALID, field, "date is malformed",
                       "send a date as YYYY-MM-DD, e.g. 2026-03-31", "got %s",
                       crm_quote(s, q, sizeof q));
}

int crm_check_date_opt(const char *s, const char *field, crm_err_t *e)
{
    return s && *s ? crm_check_date(s, NULL, field, e) : 0;
}
