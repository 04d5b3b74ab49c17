/* values.c: money, dates, instants and UTC offsets as people type them on a command
 * line, to and from what the .proto files carry (minor units, "YYYY-MM-DD",
 * microseconds UTC).
 *
 * Money never goes through floating point: "0.1" is exactly 10 cents. Dates
 * are checked against the calendar ("2026-02-30" is refused) with integer
 * day arithmetic, so results do not depend on the local time zone. */
#include "jalali.h"
#include "values.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <crm/check.h>
#include <crm/date.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (86400 * US_PER_SEC)

/* ---- money ------------------------------------------------------------ */

int val_money_parse_in(const char *text, int digits, int64_t *minor, const char **why)
{
    static const char *const too_many[] = {
        "the currency has no minor units: write a whole amount",
        "at most 1 decimal is allowed",
        "at most 2 decimals are allowed",
        "at most 3 decimals are allowed",
        "at most 4 decimals are allowed",
    };
    const char *p = text;
    int64_t units = 0, scale = 1;
    if (digits < 0 || digits > 4)
        digits = 2;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    if (*p == '-') {
        *why = "amounts cannot be negative";
        return -1;
    }
    if (!isdigit((unsigned char)*p)) {
        *why = "expected an amount such as 1234.50";
        return -1;
    }
    for (; isdigit((unsigned char)*p); p++) {
        if (units > (INT64_MAX - 9) / 10) {
            *why = "the amount is too large";
            return -1;
        }
        units = units * 10 + (*p - '0');
    }
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int decimals = 0;
        for (; isdigit((unsigned char)*p); p++, decimals++) {
            if (decimals == digits) {
                *why = too_many[digits];
                return -1;
            }
            frac = frac * 10 + (*p - '0');
        }
        if (decimals == 0) {
            *why = "expected digits after the decimal point";
            return -1;
        }
        for (; decimals < digits; decimals++)
            frac *= 10;
    }
    if (*p) {
        *why = digits == 2 ? "expected an amount such as 1234.50 (digits, a point, at most 2 "
                             "decimals)"
                           : "expected an amount such as 1234 or 1234.5 (digits, a point, "
                             "decimals)";
        return -1;
    }
    if (units > (INT64_MAX - frac) / scale) {
        *why = "the amount is too large";
        return -1;
    }
    *minor = units * scale + frac;
    return 0;
}

int val_money_parse(const char *text, int64_t *minor, const char **why)
{
    return val_money_parse_in(text, 2, minor, why);
}

char *val_money_format_in(int64_t minor, int digits, char *buf, size_t len)
{
    /* Negative amounts only come from a service; print them faithfully. */
    uint64_t abs = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor, scale = 1;
    if (digits < 0 || digits > 4)
        digits = 2;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    if (digits == 0)
        snprintf(buf, len, "%s%llu", minor < 0 ? "-" : "", (unsigned long long)abs);
    else
        snprintf(buf, len, "%s%llu.%0*llu", minor < 0 ? "-" : "", (unsigned long long)(abs / scale),
                 digits, (unsigned long long)(abs % scale));
    return buf;
}

char *val_money_format(int64_t minor, char *buf, size_t len)
{
    return val_money_format_in(minor, 2, buf, len);
}

int val_currency_digits(const char *code)
{
    char up[4] = "";
    for (int i = 0; code && i < 3 && code[i]; i++)
        up[i] = (char)toupper((unsigned char)code[i]);
    up[3] = 0;
    int d = code && strlen(code) == 3 ? crm_currency_minor_units(up) : -1;
    return d < 0 ? 2 : d;
}

/* ---- dates ------------------------------------------------------------ */

/* Reads exactly n digits at *p. */
static int s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* "YYYY-MM-DD" at *p, advancing it. */
static int s_date_at(const char **p, int64_t *days, const char **why)
{
    int y, m, d;
    if (s_digits(p, 4, &y) < 0 || *(*p)++ != '-' || s_digits(p, 2, &m) < 0 || *(*p)++ != '-' ||
        s_digits(p, 2, &d) < 0) {
        *why = "expected a date as YYYY-MM-DD";
        return -1;
    }
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > crm_days_in_month(y, m)) {
        *why = "no such day in the calendar";
        return -1;
    }
    *days = crm_days_from_civil(y, m, d);
    return 0;
}

int val_date_parse(const char *text, int64_t *days, const char **why)
{
    const char *p = text;
    if (s_date_at(&p, days, why) < 0)
        return -1;
    if (*p) {
        *why = "expected a date as YYYY-MM-DD";
        return -1;
    }
    return 0;
}

char *val_date_format(int64_t days, char *buf, size_t len)
{
    if (crmctl_locale_jalali() && crmctl_jalali_date(days, buf, len))
        return buf;
    int64_t y;
    int m, d;
    crm_civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04lld-%02d-%02d", (long long)y, m, d);
    return buf;
}

/* ---- instants ----------------------------------------------------------- */

/* "+2h", "-30m", "+1d": an offset from now. */
static int s_relative(const char *text, int64_t now_us, int64_t *us, const char **why)
{
    const char *p = text + 1;
    int64_t n = 0;
    if (!isdigit((unsigned char)*p))
        goto bad;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > 1000000000)
            goto bad;
        n = n * 10 + (*p - '0');
    }
    int64_t unit;
    switch (*p) {
    case 's':
        unit = US_PER_SEC;
        break;
    case 'm':
        unit = 60 * US_PER_SEC;
        break;
    case 'h':
        unit = 3600 * US_PER_SEC;
        break;
    case 'd':
        unit = US_PER_DAY;
        break;
    case 'w':
        unit = 7 * US_PER_DAY;
        break;
    default:
        goto bad;
    }
    if (p[1] || n > 100000 * US_PER_DAY / unit)
        goto bad;
    *us = now_us + (text[0] == '-' ? -n : n) * unit;
    return 0;
bad:
    *why = "expected an offset from now such as +2h, +30m, +1d, +1w or -1d";
    return -1;
}

int val_time_parse(const char *text, int64_t now_us, int end_of_day, int64_t *us, const char **why)
{
    if (text[0] == '+' || text[0] == '-')
        return s_relative(text, now_us, us, why);
    const char *p = text;
    int64_t days;
    if (s_date_at(&p, &days, why) < 0) {
        *why = "expected a date-time such as 2026-11-23T09:00:00Z, a date, or +2h";
        return -1;
    }
    if (!*p) {
        *us = days * US_PER_DAY + (end_of_day ? US_PER_DAY - 1 : 0);
        return 0;
    }
    int hh, mm, ss = 0;
    int64_t frac = 0;
    if ((*p != 'T' && *p != 't' && *p != ' ') || (p++, s_digits(&p, 2, &hh) < 0) || *p++ != ':' ||
        s_digits(&p, 2, &mm) < 0)
        goto bad;
    if (*p == ':') {
        p++;
        if (s_digits(&p, 2, &ss) < 0)
            goto bad;
        if (*p == '.') {
            int n = 0;
            for (p++; isdigit((unsigned char)*p); p++, n++)
                if (n < 6)
                    frac = frac * 10 + (*p - '0');
            if (n == 0)
                goto bad;
            for (; n < 6; n++)
                frac *= 10;
        }
    }
    if (hh > 23 || mm > 59 || ss > 60) {
        *why = "no such time of day";
        return -1;
    }
    int64_t offset_s = 0; /* no zone: UTC */
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (s_digits(&p, 2, &oh) < 0 || *p++ != ':' || s_digits(&p, 2, &om) < 0 || oh > 23 ||
            om > 59)
            goto bad;
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (*p)
        goto bad;
    if (ss == 60)
        ss = 59; /* a leap second reads as the second before it */
    *us = (days * 86400 + hh * 3600 + mm * 60 + ss - offset_s) * US_PER_SEC + frac;
    return 0;
bad:
    *why = "expected a date-time such as 2026-11-23T09:00:00Z (RFC 3339), a date, or +2h";
    return -1;
}

char *val_time_format(int64_t us, char *buf, size_t len)
{
    if (crmctl_locale_jalali() && crmctl_jalali_time(us, buf, len))
        return buf;
    int64_t s = us / US_PER_SEC - (us % US_PER_SEC < 0);
    int64_t days = s / 86400 - (s % 86400 < 0);
    int64_t sod = s - days * 86400;
    char date[24];
    val_date_format(days, date, sizeof date);
    if (sod % 60)
        snprintf(buf, len, "%sT%02d:%02d:%02dZ", date, (int)(sod / 3600), (int)(sod / 60 % 60),
                 (int)(sod % 60));
    else
        snprintf(buf, len, "%sT%02d:%02dZ", date, (int)(sod / 3600), (int)(sod / 60 % 60));
    return buf;
}

/* The one parser of --utc-offset (the SLA calendars of support and the
 * contact windows of marketing): the forms either verb accepted before. */
int val_utc_offset_parse(const char *text, int64_t *minutes, const char **why)
{
    static const char *const form = "expected +HH:MM or -HH:MM (e.g. +01:00), or 0";
    int sign = 1, h = 0, m = 0, n = 0;
    const char *p = text;
    *why = form;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    for (; isdigit((unsigned char)*p) && n < 2; p++, n++)
        h = h * 10 + *p - '0';
    if (n == 0)
        return -1;
    if (*p == ':') {
        if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
            return -1;
        m = (p[1] - '0') * 10 + p[2] - '0';
        p += 3;
    }
    if (*p || m > 59 || h > 14)
        return -1;
    *minutes = sign * (h * 60 + m);
    return 0;
}

/* ---- durations -------------------------------------------------------- */

int val_duration_parse(const char *text, int64_t *ms, const char **why)
{
    const char *p = text;
    int64_t n = 0;
    *why = "expected a duration such as 500ms, 2s or 1m (a bare number is seconds)";
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > 86400000)
            return -1;
        n = n * 10 + (*p - '0');
    }
    int64_t scale;
    if (!strcmp(p, "ms"))
        scale = 1;
    else if (!*p || !strcmp(p, "s"))
        scale = 1000;
    else if (!strcmp(p, "m"))
        scale = 60000;
    else
        return -1;
    n *= scale;
    if (n < 1 || n > 3600000) {
        *why = "a duration is from 1ms to 1h";
        return -1;
    }
    *ms = n;
    return 0;
}
