/* marketing.c: the option values of the marketing verbs that the request
 * engine (request.h) cannot convert generically (REQ_CUSTOM): segment rules,
 * contact windows, UTC offsets, the attribution window and the
 * throttle.
 *
 * A rule is written KIND[=VALUE], with a leading "!" for "not":
 *   country=FR, industry=retail, tag=vip, person-kind=customer,
 *   bought-product=SKU-1, total-spent-at-least=1000.00 EUR,
 *   last-order-within-days=30, responded-to-campaign=ID,
 *   converted-in-campaign=ID, open-ticket, open-support-complaint,
 *   low-satisfaction=2 (last rating at most 2; "2:any" for any rating),
 *   interest-tag=TAG.
 * Which kinds the service accepts, and which values, it checks itself. */
#include "marketing.h"

#include "crm/v1/sales.pb-c.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "open-support-complaint" -> SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT, or
 * NULL. */
static const ProtobufCEnumValue *s_enum_word(const ProtobufCEnumDescriptor *ed, const char *prefix,
                                             const char *word, size_t len)
{
    char name[128];
    size_t n = (size_t)snprintf(name, sizeof name, "%s", prefix);
    for (size_t i = 0; i < len && n + 1 < sizeof name; i++)
        name[n++] = word[i] == '-' ? '_' : (char)toupper((unsigned char)word[i]);
    name[n] = 0;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
    return v && v->value ? v : NULL;
}

/* The words of an enum's values, for error messages. */
static void s_enum_words(const ProtobufCEnumDescriptor *ed, size_t skip, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < ed->n_values && at < len; i++) {
        if (!ed->values[i].value)
            continue;
        at += (size_t)snprintf(buf + at, len - at, "%s", at ? ", " : "");
        for (const char *p = ed->values[i].name + skip; *p && at + 1 < len; p++)
            buf[at++] = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
        buf[at] = 0;
    }
}

static int s_bad(const crmctl_t *ctl, const req_field_t *f, const char *text, const char *why)
{
    return crmctl_usage_error(ctl, "invalid value \"%s\" for --%s: %s", text, f->opt, why);
}

/* A whole decimal integer in [min, max]. */
static int s_int(const char *s, long min, long max, long *out)
{
    char *end;
    if (!isdigit((unsigned char)*s) && *s != '-')
        return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* One rule into a JSON SegmentRule, or NULL after a usage error. */
static json_t *s_rule(const crmctl_t *ctl, const req_field_t *f, const char *text)
{
    static const char *const prefix = "SEGMENT_RULE_KIND_";
    const char *p = text, *eq;
    int negate = 0;
    char words[512];
    if (*p == '!') {
        negate = 1;
        p++;
    }
    eq = strchr(p, '=');
    size_t klen = eq ? (size_t)(eq - p) : strlen(p);
    const char *value = eq ? eq + 1 : "";
    const ProtobufCEnumValue *kind =
        s_enum_word(&crm__v1__segment_rule_kind__descriptor, prefix, p, klen);
    if (!kind) {
        char why[600];
        s_enum_words(&crm__v1__segment_rule_kind__descriptor, strlen(prefix), words, sizeof words);
        snprintf(why, sizeof why, "unknown rule kind; expected KIND=VALUE with KIND one of %s",
                 words);
        s_bad(ctl, f, text, why);
        return NULL;
    }
    json_t *r = json_pack("{s:s}", "kind", kind->name);
    long n;
    int64_t minor;
    const char *why = NULL;
    switch (kind->value) {
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_PERSON_KIND: {
        const ProtobufCEnumValue *pk =
            s_enum_word(&crm__v1__person_kind__descriptor, "PERSON_KIND_", value, strlen(value));
        if (!pk)
            why = "expected a person kind such as customer, prospect or partner";
        else
            json_object_set_new(r, "amount", json_integer(pk->value));
        break;
    }
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TOTAL_SPENT_AT_LEAST: {
        /* "1000.00 EUR" or "1000.00:EUR" */
        const char *sep = strpbrk(value, " :");
        char amount[64];
        if (!sep || (size_t)(sep - value) >= sizeof amount) {
            why = "expected an amount and a currency, e.g. 1000.00 EUR";
            break;
        }
        snprintf(amount, sizeof amount, "%.*s", (int)(sep - value), value);
        if (val_money_parse_in(amount, val_currency_digits(sep + 1), &minor, &why) == 0) {
            json_object_set_new(r, "amount", json_integer(minor));
            json_object_set_new(r, "value", json_string(sep + 1));
        }
        break;
    }
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS:
        if (s_int(value, 1, 3650, &n) < 0)
            why = "expected a number of days from 1 to 3650";
        else
            json_object_set_new(r, "amount", json_integer(n));
        break;
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LOW_SATISFACTION: {
        /* "2", "2:last" or "2:any" */
        char num[16];
        const char *colon = strchr(value, ':');
        snprintf(num, sizeof num, "%.*s", colon ? (int)(colon - value) : (int)strlen(value), value);
        if (s_int(num, 1, 5, &n) < 0 ||
            (colon && strcmp(colon + 1, "any") && strcmp(colon + 1, "last")))
            why = "expected a rating from 1 to 5, then optionally :last (the default) or :any";
        else {
            json_object_set_new(r, "amount", json_integer(n));
            json_object_set_new(r, "value", json_string(colon ? colon + 1 : "last"));
        }
        break;
    }
    default:
        if (*value)
            json_object_set_new(r, "value", json_string(value));
        break;
    }
    if (why) {
        json_decref(r);
        s_bad(ctl, f, text, why);
        return NULL;
    }
    if (negate)
        json_object_set_new(r, "negate", json_true());
    return r;
}

char *mkt_rule_text(const json_t *rule, char *buf, size_t len)
{
    char kind[64], word[64], money[48];
    const char *name = req_str(rule, "kind"), *value = req_str(rule, "value");
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value_by_name(&crm__v1__segment_rule_kind__descriptor, name);
    int64_t amount = 0;
    req_i64(json_object_get(rule, "amount"), &amount);
    req_enum_word(&crm__v1__segment_rule_kind__descriptor, name, kind, sizeof kind);
    const char *neg = json_is_true(json_object_get(rule, "negate")) ? "!" : "";
    switch (ev ? ev->value : -1) {
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_PERSON_KIND: {
        const ProtobufCEnumValue *pk =
            protobuf_c_enum_descriptor_get_value(&crm__v1__person_kind__descriptor, (int)amount);
        snprintf(buf, len, "%s%s=%s", neg, kind,
                 pk ? req_enum_word(&crm__v1__person_kind__descriptor, pk->name, word, sizeof word)
                    : "?");
        break;
    }
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TOTAL_SPENT_AT_LEAST:
        snprintf(buf, len, "%s%s=%s %s", neg, kind,
                 val_money_format_in(amount, val_currency_digits(value), money, sizeof money),
                 value);
        break;
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS:
        snprintf(buf, len, "%s%s=%lld", neg, kind, (long long)amount);
        break;
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LOW_SATISFACTION:
        snprintf(buf, len, "%s%s=%lld:%s", neg, kind, (long long)amount, *value ? value : "last");
        break;
    default:
        snprintf(buf, len, "%s%s%s%s", neg, kind, *value ? "=" : "", value);
        break;
    }
    return buf;
}

/* "HH:MM" -> minutes after midnight. */
static int s_hhmm(const char *s, size_t len, long *out)
{
    if (len != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    long h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    *out = h * 60 + m;
    return 0;
}

int mkt_convert(const crmctl_t *ctl, const req_field_t *f, const char *text, json_t *request)
{
    long a, b;
    int rc = 0;
    if (!strcmp(f->opt, "rule")) {
        /* Repeated options arrive joined with ','; they replace any rules
         * of --json, as every option does. */
        json_t *arr = json_array();
        for (const char *p = text; arr;) {
            size_t len = strcspn(p, ",");
            char *one = strndup(p, len);
            json_t *r = one && *one ? s_rule(ctl, f, one) : NULL;
            if (one && !*one)
                s_bad(ctl, f, text, "a rule is empty");
            free(one);
            if (!r) {
                json_decref(arr);
                return CRMCTL_EXIT_USAGE;
            }
            json_array_append_new(arr, r);
            if (!p[len])
                break;
            p += len + 1;
        }
        rc = arr ? req_set(request, f->path, arr) : -1;
    } else if (!strcmp(f->opt, "window")) {
        const char *dash = strchr(text, '-');
        if (!dash || s_hhmm(text, (size_t)(dash - text), &a) < 0 ||
            s_hhmm(dash + 1, strlen(dash + 1), &b) < 0)
            return s_bad(ctl, f, text, "expected a local time window such as 09:00-17:30");
        rc = req_set(request, "preferences.window_start_minute", json_integer(a)) |
             req_set(request, "preferences.window_end_minute", json_integer(b));
    } else if (!strcmp(f->opt, "utc-offset")) {
        int64_t minutes;
        const char *why;
        if (val_utc_offset_parse(text, &minutes, &why) < 0)
            return s_bad(ctl, f, text, why);
        rc = req_set(request, f->path, json_integer(minutes));
    } else if (!strcmp(f->opt, "throttle")) {
        if (s_int(text, 1, 100000, &a) < 0)
            return s_bad(ctl, f, text, "expected a number of messages per minute, 1 to 100000");
        rc = req_set(request, f->path, json_integer(a));
    } else if (!strcmp(f->opt, "delay")) {
        /* "90s", "30m", "2h", "3d" or plain seconds. */
        char *end;
        long long n = strtoll(text, &end, 10);
        long long unit = !*end               ? 1
                         : !strcmp(end, "s") ? 1
                         : !strcmp(end, "m") ? 60
                         : !strcmp(end, "h") ? 3600
                         : !strcmp(end, "d") ? 86400
                                             : 0;
        if (!isdigit((unsigned char)*text) || !unit || n > 31536000 / unit)
            return s_bad(ctl, f, text, "expected a duration such as 90s, 30m, 2h or 3d");
        rc = req_set(request, f->path, json_integer(n * unit));
    } else if (!strcmp(f->opt, "attribution-days")) {
        if (s_int(text, 1, 365, &a) < 0)
            return s_bad(ctl, f, text, "expected a number of days from 1 to 365");
        rc = req_set(request, f->path, json_integer(a));
    } else {
        return s_bad(ctl, f, text, "internal error: no conversion for this option");
    }
    if (rc) {
        crmctl_error(NULL, NULL, "out of memory");
        return CRMCTL_EXIT_FAILED;
    }
    return CRMCTL_EXIT_OK;
}
