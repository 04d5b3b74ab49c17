/* analytics.c: `crmctl analytics rebuild|status|scan`, and the plumbing
 * the customer and report verbs share (analytics.h). */
#include "analytics.h"

#include "values.h"

#include <crm/util.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int an_opt_at(crmctl_t *ctl, const crmctl_args_t *args, Crm__V1__AnalyticsQuery *q)
{
    const char *at = crmctl_arg(args, "at");
    const char *why = NULL;
    if (at && val_time_parse(at, crm_now_us(), 1, &q->at_us, &why) < 0)
        return crmctl_usage_error(ctl, "invalid --at \"%s\": %s", at, why);
    return CRMCTL_EXIT_OK;
}

int an_report(crmctl_t *ctl, const char *command, const Crm__V1__AnalyticsQuery *q, json_t **doc)
{
    crmctl_service_t *svc = crmctl_service_require(ctl, ANALYTICS_SERVICE);
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    ProtobufCMessage *m = NULL;
    int rc = crmctl_call(ctl, svc, command, &q->base, NULL, CRMCTL_TIMEOUT_MS, CRMCTL_ATTEMPTS,
                         &crm__v1__analytics_report_reply__descriptor, &m, 0, NULL);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    json_error_t err;
    *doc = json_loads(((const Crm__V1__AnalyticsReportReply *)(const void *)m)->json, 0, &err);
    protobuf_c_message_free_unpacked(m, NULL);
    if (!*doc) {
        crmctl_error(err.text, NULL, "%s on analytics returned a report that is not JSON", command);
        return CRMCTL_EXIT_FAILED;
    }
    return CRMCTL_EXIT_OK;
}

int an_print_json(json_t *doc)
{
    return crmctl_json_line(doc) < 0 ? CRMCTL_EXIT_FAILED : CRMCTL_EXIT_OK;
}

static int s_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

const char *an_cell(const char *key, const json_t *v, char *buf, size_t len)
{
    return an_cell_in(key, v, 2, buf, len);
}

/* The minor digits of the amounts of a row: those of its "currency". */
static int s_row_digits(const json_t *row)
{
    return val_currency_digits(json_string_value(json_object_get(row, "currency")));
}

const char *an_cell_in(const char *key, const json_t *v, int digits, char *buf, size_t len)
{
    if (!v || json_is_null(v))
        return "-";
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (s_ends(key, "_us"))
            return val_time_format((int64_t)i, buf, len);
        if (s_ends(key, "_minor"))
            return val_money_format_in((int64_t)i, digits, buf, len);
        if (s_ends(key, "_bp")) {
            /* Basis points as a percentage with two decimals. */
            char pct[32];
            snprintf(buf, len, "%s%%", val_money_format((int64_t)i, pct, sizeof pct));
            return buf;
        }
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, i);
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, len, "%.1f", json_real_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "yes" : "no";
    if (json_is_array(v)) {
        size_t i, used = 0;
        json_t *x;
        buf[0] = 0;
        json_array_foreach(v, i, x)
        {
            char one[128];
            const char *t = an_cell("", x, one, sizeof one);
            int w = snprintf(buf + used, len - used, "%s%s", i ? "; " : "", t);
            if (w < 0 || (size_t)w >= len - used)
                break;
            used += (size_t)w;
        }
        return buf[0] ? buf : "-";
    }
    /* An amount in its currency ({currency, amount_minor}, as the per
     * currency KPIs give them): "1234.50 EUR", "1500 JPY". */
    const json_t *cur = json_object_get(v, "currency");
    const json_t *amt = json_object_get(v, "amount_minor");
    if (json_is_string(cur) && json_is_integer(amt) && json_object_size(v) == 2) {
        char num[64];
        snprintf(buf, len, "%s %s",
                 val_money_format_in((int64_t)json_integer_value(amt),
                                     val_currency_digits(json_string_value(cur)), num, sizeof num),
                 json_string_value(cur));
        return buf;
    }
    /* An object (counts by kind, such as a campaign's responses): "clicked
     * 3, opened 5", not JSON. */
    const char *k;
    json_t *x;
    size_t used = 0;
    buf[0] = 0;
    json_object_foreach((json_t *)v, k, x)
    {
        char one[128];
        int w = snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "", k,
                         an_cell_in(k, x, digits, one, sizeof one));
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    return buf[0] ? buf : "-";
}

void an_print_rows(const json_t *rows, const an_col_t *cols, size_t n)
{
    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        printf("(none)\n");
        return;
    }
    const char *headers[16];
    for (size_t c = 0; c < n && c < 15; c++)
        headers[c] = cols[c].header;
    headers[n < 15 ? n : 15] = NULL;
    crmctl_table_t *t = crmctl_table_new(headers);
    if (!t)
        return;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char bufs[16][512];
        const char *cells[16];
        for (size_t c = 0; c < n && c < 15; c++)
            cells[c] = an_cell_in(cols[c].key, json_object_get(row, cols[c].key), s_row_digits(row),
                                  bufs[c], sizeof bufs[c]);
        crmctl_table_add(t, cells);
    }
    crmctl_table_print(t);
    crmctl_table_destroy(&t);
}

void an_print_fields(const json_t *obj, const an_col_t *cols, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        char buf[1024];
        printf("%-22s %s\n", cols[c].header,
               an_cell_in(cols[c].key, json_object_get(obj, cols[c].key), s_row_digits(obj), buf,
                          sizeof buf));
    }
}

/* ---- analytics rebuild | status | scan ------------------------------------- */

const crmctl_opt_t crmctl_analytics_rebuild_opts[] = {{NULL, 0, NULL, NULL, 0}};
const crmctl_opt_t crmctl_analytics_status_opts[] = {{NULL, 0, NULL, NULL, 0}};
const crmctl_opt_t crmctl_analytics_scan_opts[] = {{NULL, 0, NULL, NULL, 0}};

/* Sends `command` to analytics with a new idempotency key: one key per
 * invocation, so the retries of a lost request act once. The reply
 * (caller frees it) in *m. Returns a CRMCTL_EXIT_* code. */
static int s_call_once(crmctl_t *ctl, const char *command, const ProtobufCMessage *rq,
                       const ProtobufCMessageDescriptor *reply, ProtobufCMessage **m)
{
    crmctl_service_t *svc = crmctl_service_require(ctl, ANALYTICS_SERVICE);
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    char key[CRM_UUID_LEN + 1];
    crm_uuid_new(key);
    return crmctl_call(ctl, svc, command, rq, key, CRMCTL_TIMEOUT_MS, CRMCTL_ATTEMPTS, reply, m, 0,
                       NULL);
}

int crmctl_analytics_rebuild(crmctl_t *ctl, const crmctl_args_t *args)
{
    (void)args;
    Crm__V1__RebuildRequest rq = CRM__V1__REBUILD_REQUEST__INIT;
    ProtobufCMessage *m = NULL;
    int rc =
        s_call_once(ctl, "analytics.rebuild", &rq.base, &crm__v1__rebuild_reply__descriptor, &m);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    int64_t dropped = ((const Crm__V1__RebuildReply *)(const void *)m)->events_dropped;
    protobuf_c_message_free_unpacked(m, NULL);
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return an_print_json(json_pack("{s:I}", "events_dropped", (json_int_t)dropped));
    printf("analytics: projections dropped (%" PRId64 " events); replaying every stream from its "
           "first event\n(follow with `crmctl analytics status`)\n",
           dropped);
    return CRMCTL_EXIT_OK;
}

int crmctl_analytics_scan(crmctl_t *ctl, const crmctl_args_t *args)
{
    (void)args;
    Crm__V1__DataQualityScanRequest rq = CRM__V1__DATA_QUALITY_SCAN_REQUEST__INIT;
    ProtobufCMessage *m = NULL;
    int rc = s_call_once(ctl, "analytics.data_quality.scan", &rq.base,
                         &crm__v1__data_quality_scan_reply__descriptor, &m);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    int64_t n = ((const Crm__V1__DataQualityScanReply *)(const void *)m)->published;
    protobuf_c_message_free_unpacked(m, NULL);
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return an_print_json(json_pack("{s:I}", "published", (json_int_t)n));
    printf("analytics: %" PRId64 " new data-quality finding(s) published\n", n);
    return CRMCTL_EXIT_OK;
}

int crmctl_analytics_status(crmctl_t *ctl, const crmctl_args_t *args)
{
    (void)args;
    crmctl_service_t *svc = crmctl_service_require(ctl, ANALYTICS_SERVICE);
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    Crm__V1__AnalyticsStatusRequest rq = CRM__V1__ANALYTICS_STATUS_REQUEST__INIT;
    ProtobufCMessage *m = NULL;
    int rc =
        crmctl_call(ctl, svc, "analytics.status", &rq.base, NULL, CRMCTL_TIMEOUT_MS,
                    CRMCTL_ATTEMPTS, &crm__v1__analytics_status_reply__descriptor, &m, 0, NULL);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const Crm__V1__AnalyticsStatusReply *r = (const void *)m;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        json_t *srcs = json_array();
        for (size_t i = 0; i < r->n_sources; i++)
            json_array_append_new(srcs, json_pack("{s:s, s:s, s:o, s:o, s:o}", "consumer",
                                                  r->sources[i]->consumer, "source",
                                                  r->sources[i]->source, "applied",
                                                  crmctl_json_u64(r->sources[i]->applied), "head",
                                                  crmctl_json_u64(r->sources[i]->head), "lag",
                                                  crmctl_json_u64(r->sources[i]->lag)));
        rc = an_print_json(json_pack("{s:o, s:b, s:I, s:I, s:I}", "sources", srcs,
                                     "rebuild_in_progress", r->rebuild_in_progress, "events",
                                     (json_int_t)r->events, "customers", (json_int_t)r->customers,
                                     "rebuilt_at_us", (json_int_t)r->rebuilt_at_us));
    } else {
        char t[64];
        printf("events %" PRId64 ", customers %" PRId64 ", rebuild %s, last rebuilt %s\n",
               r->events, r->customers, r->rebuild_in_progress ? "in progress" : "not running",
               r->rebuilt_at_us ? val_time_format(r->rebuilt_at_us, t, sizeof t) : "never");
        static const char *const h[] = {"CONSUMER", "SOURCE", "APPLIED", "HEAD", "LAG", NULL};
        crmctl_table_t *tb = crmctl_table_new(h);
        for (size_t i = 0; tb && i < r->n_sources; i++) {
            char a[24], hd[24], l[24];
            snprintf(a, sizeof a, "%" PRIu64, r->sources[i]->applied);
            snprintf(hd, sizeof hd, "%" PRIu64, r->sources[i]->head);
            snprintf(l, sizeof l, "%" PRIu64, r->sources[i]->lag);
            const char *cells[] = {r->sources[i]->consumer, r->sources[i]->source, a, hd, l};
            crmctl_table_add(tb, cells);
        }
        if (tb) {
            crmctl_table_print(tb);
            crmctl_table_destroy(&tb);
        }
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}
