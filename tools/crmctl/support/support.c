/* support.c: the option values of the support verbs that the sales verbs'
 * engine does not convert (support.h): working hours, UTC offsets and
 * integers the service checks. */
#include "support.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int s_bad(const crmctl_t *ctl, const req_field_t *f, const char *text, const char *why)
{
    return crmctl_usage_error(ctl, "invalid value \"%s\" for --%s: %s", text, f->opt, why);
}

/* "HH:MM" (00:00-24:00) -> minutes after midnight, or -1. */
static int s_clock_minutes(const char *s, size_t len)
{
    if (len != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
    if (m > 59 || h > 24 || (h == 24 && m))
        return -1;
    return h * 60 + m;
}

/* "mon" -> 1 ... "sun" -> 7 (ISO 8601), or 0. */
static int s_weekday(const char *s, size_t len)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int i = 0; i < 7; i++)
        if (len == 3 && !strncasecmp(s, days[i], 3))
            return i + 1;
    return 0;
}

/* One item "mon-fri=09:00-17:00", "sat-wed=08:00-16:00" or
 * "sat=10:00-14:00" appended to arr as one BusinessHours per day; 0 or -1
 * when it does not parse. */
static int s_hours_item(const char *item, json_t *arr)
{
    const char *eq = strchr(item, '='), *dash = eq ? strchr(item, '-') : NULL;
    int from, to, open = -1, close = -1;
    if (!eq)
        return -1;
    if (dash && dash < eq) {
        from = s_weekday(item, (size_t)(dash - item));
        to = s_weekday(dash + 1, (size_t)(eq - dash - 1));
    } else {
        from = to = s_weekday(item, (size_t)(eq - item));
    }
    const char *hours = eq + 1, *hd = strchr(hours, '-');
    if (hd) {
        open = s_clock_minutes(hours, (size_t)(hd - hours));
        close = s_clock_minutes(hd + 1, strlen(hd + 1));
    }
    if (!from || !to || open < 0 || close < 0)
        return -1;
    /* A range wraps around the week: sat-wed is Saturday, Sunday, Monday,
     * Tuesday, Wednesday (the work week of Iran), as fri-mon is four days. */
    for (int d = from;; d = d % 7 + 1) {
        json_array_append_new(arr, json_pack("{s:i, s:i, s:i}", "weekday", d, "open_minute", open,
                                             "close_minute", close));
        if (d == to)
            break;
    }
    return 0;
}

static int s_hours(const crmctl_t *ctl, const req_field_t *f, const char *text, json_t *req)
{
    json_t *arr = json_array();
    for (const char *p = text; arr;) {
        size_t len = strcspn(p, ",");
        char item[64];
        while (len && isspace((unsigned char)*p))
            p++, len--;
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        for (size_t n = strlen(item); n && isspace((unsigned char)item[n - 1]);)
            item[--n] = 0;
        if (*item && (len >= sizeof item || s_hours_item(item, arr) < 0)) {
            json_decref(arr);
            return s_bad(ctl, f, item, "expected DAY[-DAY]=HH:MM-HH:MM, e.g. mon-fri=09:00-17:00");
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    return arr && req_set(req, f->path, arr) == 0 ? CRMCTL_EXIT_OK : CRMCTL_EXIT_USAGE;
}

/* --utc-offset: values.c parses it for support and marketing alike. */
static int s_offset(const crmctl_t *ctl, const req_field_t *f, const char *text, json_t *req)
{
    int64_t minutes;
    const char *why;
    if (val_utc_offset_parse(text, &minutes, &why) < 0)
        return s_bad(ctl, f, text, why);
    return req_set(req, f->path, json_integer(minutes)) == 0 ? CRMCTL_EXIT_OK : CRMCTL_EXIT_USAGE;
}

int support_convert(const crmctl_t *ctl, const req_field_t *f, const char *text, json_t *req)
{
    if (!strcmp(f->opt, "hours"))
        return s_hours(ctl, f, text, req);
    if (!strcmp(f->opt, "utc-offset"))
        return s_offset(ctl, f, text, req);
    /* An integer: its range is the service's to check. */
    char what[64];
    int64_t v;
    snprintf(what, sizeof what, "--%s", f->opt);
    if (crmctl_parse_int(ctl, what, text, INT32_MIN, INT32_MAX, &v) < 0)
        return CRMCTL_EXIT_USAGE;
    return req_set(req, f->path, json_integer(v)) == 0 ? CRMCTL_EXIT_OK : CRMCTL_EXIT_USAGE;
}
