/* jalali.c: the reader's locale (issue 20). With fa_IR, dates display in
 * the Solar Hijri (Jalali) calendar and weeks start on Saturday, as the
 * staff the product was first described for read them; stored times stay
 * UTC and requests are unchanged. The calendar arithmetic is ICU's
 * ("@calendar=persian"), not ours.
 *
 * The locale is CRM_LOCALE, else a top-level "locale = fa_IR" line of the
 * config file (context.c's file, before any [context] section); the
 * default ("" or "en") keeps the Gregorian ISO dates. */
#include "jalali.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>

static int s_jalali = -1;

/* The top-level locale line of the config file, or 0. */
static int s_config_says_fa(void)
{
    const char *env = getenv("CRM_CONFIG");
    char path[4096];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/crm/config", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.config/crm/config", home);
    else
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512];
    int fa = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '[')
            break; /* contexts follow: the locale is the reader's, not a context's */
        if (!strncmp(s, "locale", 6)) {
            s += 6;
            while (*s == ' ' || *s == '\t' || *s == '=')
                s++;
            fa = !strncmp(s, "fa", 2);
        }
    }
    fclose(f);
    return fa;
}

int crmctl_locale_jalali(void)
{
    if (s_jalali < 0) {
        const char *env = getenv("CRM_LOCALE");
        s_jalali = env && *env ? !strncmp(env, "fa", 2) : s_config_says_fa();
    }
    return s_jalali;
}

/* The Jalali fields of instant `us` (UTC). Returns 0 or -1. */
static int s_fields(int64_t us, int *y, int *m, int *d, int *hh, int *mm, int *ss)
{
    UErrorCode st = U_ZERO_ERROR;
    static const UChar utc[] = {'U', 'T', 'C', 0};
    UCalendar *cal = ucal_open(utc, -1, "fa_IR@calendar=persian", UCAL_DEFAULT, &st);
    if (U_FAILURE(st))
        return -1;
    ucal_setMillis(cal, (UDate)(us / 1000 - (us % 1000 < 0)), &st);
    *y = ucal_get(cal, UCAL_EXTENDED_YEAR, &st);
    *m = ucal_get(cal, UCAL_MONTH, &st) + 1;
    *d = ucal_get(cal, UCAL_DATE, &st);
    *hh = ucal_get(cal, UCAL_HOUR_OF_DAY, &st);
    *mm = ucal_get(cal, UCAL_MINUTE, &st);
    *ss = ucal_get(cal, UCAL_SECOND, &st);
    ucal_close(cal);
    return U_FAILURE(st) ? -1 : 0;
}

char *crmctl_jalali_time(int64_t us, char *buf, size_t len)
{
    int y, m, d, hh, mm, ss;
    if (s_fields(us, &y, &m, &d, &hh, &mm, &ss) < 0)
        return NULL;
    if (ss)
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, hh, mm, ss);
    else
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02dZ", y, m, d, hh, mm);
    return buf;
}

char *crmctl_jalali_date(int64_t days, char *buf, size_t len)
{
    int y, m, d, hh, mm, ss;
    if (s_fields(days * 86400LL * 1000000LL + 12LL * 3600 * 1000000, &y, &m, &d, &hh, &mm, &ss) < 0)
        return NULL;
    snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
    return buf;
}

int64_t crmctl_saturday_week_start(int64_t us)
{
    const int64_t day = 86400LL * 1000000LL;
    int64_t days = us / day - (us % day < 0);
    /* 1970-01-01 was a Thursday; Saturday is two days later. */
    int64_t since_sat = ((days - 2) % 7 + 7) % 7;
    return (days - since_sat) * day;
}
