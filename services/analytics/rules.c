/* rules.c: the health score, ISO weeks and report-query checks (see
 * rules.h). Calendar maths
 * on integers (crm/date.h), because the C library's time functions depend
 * on the process time zone. */
#include "rules.h"

#include <crm/check.h>
#include <crm/date.h>
#include <crm/util.h>

#include <ctype.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Floor division for possibly negative numerators. */
static int64_t s_floordiv(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int64_t an_week_start(int64_t us)
{
    int64_t days = s_floordiv(us, AN_US_PER_DAY);
    /* 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7. */
    int64_t wd = ((days + 3) % 7 + 7) % 7;
    return (days - wd) * AN_US_PER_DAY;
}

/* The Monday of ISO week 1 of ISO year y: the week with 4 January. */
static int64_t s_week1_monday_days(int64_t y)
{
    return an_week_start(crm_days_from_civil(y, 1, 4) * AN_US_PER_DAY) / AN_US_PER_DAY;
}

static int s_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int an_iso_week_parse(const char *text, int64_t *monday_us, const char **why)
{
    int y, w;
    if (!text || strlen(text) != 8 || text[4] != '-' || (text[5] != 'W' && text[5] != 'w') ||
        s_digits(text, 4, &y) < 0 || s_digits(text + 6, 2, &w) < 0) {
        *why = "expected an ISO week such as 2026-W47";
        return -1;
    }
    if (y < 1970) {
        *why = "the year must be 1970 or later";
        return -1;
    }
    int64_t start = s_week1_monday_days(y);
    int64_t weeks = (s_week1_monday_days(y + 1) - start) / 7;
    if (w < 1 || w > weeks) {
        *why = weeks == 53 ? "the week must be 01 to 53" : "the week must be 01 to 52 in that year";
        return -1;
    }
    *monday_us = (start + (int64_t)(w - 1) * 7) * AN_US_PER_DAY;
    return 0;
}

char *an_iso_week_format(int64_t us, char *buf, size_t len)
{
    int64_t monday = an_week_start(us) / AN_US_PER_DAY;
    /* The ISO year is the year of the week's Thursday. */
    int64_t thu = monday + 3;
    int64_t y = 1970 + thu / 366;
    while (crm_days_from_civil(y + 1, 1, 1) <= thu)
        y++;
    while (crm_days_from_civil(y, 1, 1) > thu)
        y--;
    int64_t w = (monday - s_week1_monday_days(y)) / 7 + 1;
    snprintf(buf, len, "%04lld-W%02lld", (long long)y, (long long)w);
    return buf;
}

int an_check_customer_id(const char *id, an_err_t *e)
{
    size_t n = id ? strlen(id) : 0;
    e->field = "customer_id";
    e->hint = NULL;
    if (n == 0) {
        e->message = "customer_id is required";
        return -1;
    }
    if (n > 200) {
        e->message = "customer_id is too long";
        e->hint = "customer ids are at most 200 bytes";
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] < 0x21 || (unsigned char)id[i] > 0x7e) {
            e->message = "customer_id contains characters that are not printable ASCII";
            return -1;
        }
    /* Every customer id is a person's id, a canonical UUID (the identity
     * rule, docs/architecture.md): "not-a-uuid" is malformed, not unknown. */
    if (!crm_uuid_valid(id)) {
        e->message = "customer_id is not a UUID";
        e->hint = "customer ids look like 0b9c1f6e-3c1a-4c49-9f7e-2a8c6f0e2d11";
        return -1;
    }
    return 0;
}

/* ---- the health score ------------------------------------------------------- */

int64_t an_div_round(int64_t a, int64_t b)
{
    int64_t q = a / b, r = a % b;
    if (2 * (r < 0 ? -r : r) >= b)
        q += a < 0 ? -1 : 1;
    return q;
}

static void s_reason(an_health_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_reason(an_health_t *h, const char *fmt, ...)
{
    if (h->n_reasons >= AN_HEALTH_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->reasons[h->n_reasons++], AN_HEALTH_REASON_LEN, fmt, ap);
    va_end(ap);
}

#define S_TENTHS(v) (long long)((v) / 10), (long long)((v) % 10)

void an_health_compute(const an_health_in_t *in, an_health_t *out)
{
    int64_t total = 50;
    memset(out, 0, sizeof *out);
    /* Purchase recency against the customer's own cadence. */
    if (in->orders >= 2) {
        if (in->since_tenths <= in->cadence_tenths) {
            total += 20;
            s_reason(out, "purchase recency within own cadence of %lld.%lld days (+20)",
                     S_TENTHS(in->cadence_tenths));
        } else if (in->since_tenths > 2 * in->cadence_tenths) {
            total -= 20;
            s_reason(out,
                     "last purchase %lld.%lld days ago, over twice the own cadence of %lld.%lld "
                     "days (-20)",
                     S_TENTHS(in->since_tenths), S_TENTHS(in->cadence_tenths));
        }
    } else if (in->orders == 1) {
        if (in->since_tenths <= 900) {
            total += 10;
            s_reason(out, "first purchase %lld.%lld days ago (+10)", S_TENTHS(in->since_tenths));
        } else {
            total -= 10;
            s_reason(out, "only purchase %lld.%lld days ago (-10)", S_TENTHS(in->since_tenths));
        }
    }
    /* Engagement in the last 90 days. */
    if (in->engagement > 0) {
        int64_t pts = in->engagement >= 4 ? 20 : in->engagement * 5;
        total += pts;
        s_reason(out, "engagement: %lld interactions in 90 days (+%lld)", (long long)in->engagement,
                 (long long)pts);
    } else {
        total -= 10;
        s_reason(out, "no engagement in 90 days (-10)");
    }
    /* Open complaints, at most two counted. */
    if (in->open_complaints > 0) {
        int64_t pts = -15 * (in->open_complaints < 2 ? in->open_complaints : 2);
        total += pts;
        s_reason(out, "%lld open complaint(s) (%lld)", (long long)in->open_complaints,
                 (long long)pts);
    }
    /* Ratings: 3 is neutral, each point away is 10. */
    if (in->ratings > 0) {
        int64_t pts = an_div_round(10 * in->rating_sum - 30 * in->ratings, in->ratings);
        int64_t avg = an_div_round(10 * in->rating_sum, in->ratings);
        total += pts;
        s_reason(out, "average rating %lld.%lld (%s%lld)", S_TENTHS(avg), pts >= 0 ? "+" : "",
                 (long long)pts);
    }
    /* SLA breaches in the last 90 days, at most three counted. */
    if (in->breaches > 0) {
        int64_t pts = -10 * (in->breaches < 3 ? in->breaches : 3);
        total += pts;
        s_reason(out, "%lld SLA breach(es) in 90 days (%lld)", (long long)in->breaches,
                 (long long)pts);
    }
    out->score = (int)(total < 0 ? 0 : total > 100 ? 100 : total);
    out->churn_risk = 100 - out->score;
}

/* One "CODE=AMOUNT" item of [s, e). Returns 0 and the code and minor units,
 * or -1 with err filled. */
static int s_threshold(const char *s, const char *e, char code[4], long long *minor, char *err,
                       size_t errlen)
{
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (!eq || eq - s != 3) {
        snprintf(err, errlen, "\"%.*s\" is not CODE=AMOUNT (EUR=1000)", (int)(e - s), s);
        return -1;
    }
    for (int i = 0; i < 3; i++)
        code[i] = (char)toupper((unsigned char)s[i]);
    code[3] = 0;
    int digits = crm_currency_minor_units(code);
    if (digits < 0) {
        snprintf(err, errlen, "%s is not an ISO 4217 currency", code);
        return -1;
    }
    long long v = 0;
    int frac = -1;
    const char *p = eq + 1;
    if (p == e) {
        snprintf(err, errlen, "%s has no amount", code);
        return -1;
    }
    for (; p < e; p++) {
        if (*p == '.' && frac < 0) {
            frac = 0;
        } else if (isdigit((unsigned char)*p) && v < 100000000000000LL &&
                   (frac < 0 || frac < digits)) {
            v = v * 10 + (*p - '0');
            if (frac >= 0)
                frac++;
        } else {
            snprintf(err, errlen, "%s=%.*s: not an amount with at most %d decimals", code,
                     (int)(e - eq - 1), eq + 1, digits);
            return -1;
        }
    }
    for (int f = frac < 0 ? 0 : frac; f < digits; f++)
        v *= 10;
    *minor = v;
    return 0;
}

int an_thresholds_parse(const char *text, char *out, size_t outlen, char *err, size_t errlen)
{
    size_t used = 0;
    int n = 0;
    const char *s = text ? text : "";
    if (outlen < 3) {
        snprintf(err, errlen, "no room");
        return -1;
    }
    out[used++] = '{';
    while (*s) {
        const char *e = strchr(s, ',');
        if (!e)
            e = s + strlen(s);
        const char *t = s;
        while (t < e && isspace((unsigned char)*t))
            t++;
        if (t < e) {
            char code[4];
            long long minor;
            if (s_threshold(s, e, code, &minor, err, errlen) < 0)
                return -1;
            int w = snprintf(out + used, outlen - used, "%s\"%s\":%lld", n ? "," : "", code, minor);
            if (w < 0 || (size_t)w >= outlen - used - 1) {
                snprintf(err, errlen, "too many currencies");
                return -1;
            }
            used += (size_t)w;
            n++;
        }
        s = *e ? e + 1 : e;
    }
    out[used++] = '}';
    out[used] = 0;
    return 0;
}
