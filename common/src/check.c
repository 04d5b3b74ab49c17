/* check.c: request value checks shared by the services (see crm/check.h). */
#include <crm/check.h>
#include <crm/date.h>
#include <crm/util.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ISO 4217 currencies in use and their minor units (the digits after the
 * decimal point), sorted by code for bsearch. Funds codes that are in the
 * list (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW) are here; precious
 * metals, XDR, XSU, XUA and the testing codes (XTS, XXX) are not money a
 * customer pays in. IRR has 2, as ISO lists it; the toman is no currency. */
typedef struct {
    char code[4];
    int minor_units;
} s_currency_t;

static const s_currency_t s_currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2},
    {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2},
    {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0},
    {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2},
    {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2},
    {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2},
    {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2},
    {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2},
    {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2},
    {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2},
    {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0},
    {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2},
    {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2},
    {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2},
    {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4},
    {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2},
    {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2}, {"ZWL", 2},
};

static int s_currency_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const s_currency_t *)elem)->code);
}

int crm_currency_minor_units(const char *code)
{
    if (!code || strlen(code) != 3)
        return -1;
    const void *hit = bsearch(code, s_currencies, sizeof s_currencies / sizeof s_currencies[0],
                              sizeof s_currencies[0], s_currency_cmp);
    return hit ? ((const s_currency_t *)hit)->minor_units : -1;
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
        char code[4];
        for (int i = 0; i < 3; i++)
            code[i] = (char)toupper((unsigned char)t[i]);
        code[3] = 0;
        if (crm_currency_minor_units(code) < 0)
            return crm_err_set(e, S_INVALID, field, "currency is not an ISO 4217 code",
                               "send a currency in use, such as EUR, USD, GBP, JPY or IRR",
                               "got %s", crm_quote(in, q, sizeof q));
        memcpy(out, code, 4);
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
