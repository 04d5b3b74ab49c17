/* deadletter.c: `crmctl deadletter list` and `crmctl deadletter retry`,
 * over the built-in "deadletter.list" and "deadletter.retry" commands.
 *
 * Dead letters are events a consumer could not apply; they stay in the
 * consuming service's database until a retry succeeds. */
#include "crmctl.h"

#include <crm/util.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const crmctl_opt_t crmctl_deadletter_list_opts[] = {
    {"service", 's', "NAME", "only this service (may be repeated or comma-separated)", 1},
    {"consumer", 'c', "NAME", "only this consumer", 0},
    {"limit", 'l', "N", "at most N per service (default 100, at most 10000)", 0},
    {NULL, 0, NULL, NULL, 0},
};

const crmctl_opt_t crmctl_deadletter_retry_opts[] = {
    {"service", 's', "NAME", "the service whose consumer failed (required)", 0},
    {"consumer", 'c', "NAME", "only dead letters of this consumer", 0},
    {NULL, 0, NULL, NULL, 0},
};

static json_t *s_dl_json(const crmctl_service_t *svc, const Crm__V1__DeadLetter *d)
{
    char t[40];
    crm_time_format(d->failed_at_us, t, sizeof t);
    return json_pack("{s:s, s:I, s:s, s:s, s:o, s:s, s:s, s:s, s:i}", "service", svc->name, "id",
                     (json_int_t)d->id, "consumer", d->consumer, "source", d->source, "sequence",
                     crmctl_json_u64(d->sequence), "type", d->type, "error", d->error, "failed_at",
                     t, "attempts", (int)d->attempts);
}

int crmctl_deadletter_list(crmctl_t *ctl, const crmctl_args_t *args)
{
    int64_t limit = 100;
    const char *lim = crmctl_arg(args, "limit");
    if (lim && crmctl_parse_int(ctl, "--limit", lim, 1, 10000, &limit) < 0)
        return CRMCTL_EXIT_USAGE;
    const char *consumer = crmctl_arg(args, "consumer");
    size_t n_all = crmctl_n_services(ctl);
    crmctl_service_t **sel = calloc(n_all + 1, sizeof *sel);
    if (!sel)
        return CRMCTL_EXIT_FAILED;
    const char *only = crmctl_arg(args, "service");
    int n = crmctl_select_services(ctl, only, "service", sel);
    if (n < 0) {
        free(sel);
        return CRMCTL_EXIT_USAGE;
    }
    static const char *const cols[] = {"SERVICE", "ID",       "CONSUMER",  "SOURCE", "SEQUENCE",
                                       "TYPE",    "ATTEMPTS", "FAILED AT", "ERROR",  NULL};
    crmctl_table_t *tab = crmctl_table_new(cols);
    json_t *doc = json_array();
    int rc = CRMCTL_EXIT_OK, answered = 0, unreachable = 0;
    crmctl_result_t *results = NULL;
    if (!tab || !doc) {
        crmctl_error(NULL, NULL, "out of memory");
        rc = CRMCTL_EXIT_FAILED;
        goto done;
    }
    results = calloc((size_t)n + 1, sizeof *results);
    if (!results) {
        crmctl_error(NULL, NULL, "out of memory");
        rc = CRMCTL_EXIT_FAILED;
        goto done;
    }
    Crm__V1__DeadLetterListRequest rq = CRM__V1__DEAD_LETTER_LIST_REQUEST__INIT;
    rq.consumer = (char *)(consumer ? consumer : "");
    rq.limit = (int32_t)limit;
    /* Read-only, so asked with retries; all services at once. */
    crmctl_call_all(ctl, sel, (size_t)n, "deadletter.list", &rq.base, CRMCTL_TIMEOUT_MS,
                    only ? CRMCTL_ATTEMPTS : 1, &crm__v1__dead_letter_list_reply__descriptor,
                    results);
    for (int i = 0; i < n; i++) {
        crmctl_service_t *svc = sel[i];
        int crc = results[i].rc;
        if (crc == CRMCTL_EXIT_OK) {
            /* below */
        } else if (crc == CRMCTL_EXIT_UNREACHABLE && !only) {
            /* Every service was asked: one that is down is a warning. */
            crmctl_warn("could not reach %s at %s: timeout; its dead letters are not listed",
                        svc->name, svc->endpoint);
            unreachable++;
            continue;
        } else {
            crmctl_print_result(svc, "deadletter.list", &results[i]);
            rc = crc;
            continue;
        }
        answered++;
        const Crm__V1__DeadLetterListReply *r = (const void *)results[i].reply;
        for (size_t k = 0; k < r->n_dead_letters; k++) {
            const Crm__V1__DeadLetter *d = r->dead_letters[k];
            json_array_append_new(doc, s_dl_json(svc, d));
            char id[24], seq[24], att[16], when[40];
            snprintf(id, sizeof id, "%" PRId64, d->id);
            snprintf(seq, sizeof seq, "%" PRIu64, d->sequence);
            snprintf(att, sizeof att, "%d", (int)d->attempts);
            crm_time_format(d->failed_at_us, when, sizeof when);
            const char *row[] = {svc->name, id,  d->consumer, d->source, seq,
                                 d->type,   att, when,        d->error};
            crmctl_table_add(tab, row);
        }
    }
    if (answered == 0 && unreachable > 0 && rc == CRMCTL_EXIT_OK) {
        crmctl_error(NULL,
                     "Check that the services are running and that CRM_SERVICES (or --services)"
                     " names their command endpoints.",
                     "could not reach any service");
        rc = CRMCTL_EXIT_UNREACHABLE;
        goto done;
    }
    if (rc != CRMCTL_EXIT_OK && answered == 0)
        goto done;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        if (crmctl_json_line(doc) < 0 && rc == CRMCTL_EXIT_OK)
            rc = CRMCTL_EXIT_FAILED;
        doc = NULL;
    } else {
        if (crmctl_table_rows(tab) > 0)
            crmctl_table_print(tab);
        printf("(%zu dead letter%s)\n", crmctl_table_rows(tab),
               crmctl_table_rows(tab) == 1 ? "" : "s");
        fflush(stdout);
    }
done:
    for (int i = 0; results && i < n; i++)
        crmctl_result_clear(&results[i]);
    free(results);
    json_decref(doc);
    crmctl_table_destroy(&tab);
    free(sel);
    return rc;
}

int crmctl_deadletter_retry(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *name = crmctl_arg(args, "service");
    if (!name)
        return crmctl_usage_error(ctl, "--service is required");
    crmctl_service_t *svc = crmctl_service_require(ctl, name);
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    size_t n_ids = crmctl_n_positional(args);
    int64_t *ids = calloc(n_ids + 1, sizeof *ids);
    if (!ids)
        return CRMCTL_EXIT_FAILED;
    for (size_t i = 0; i < n_ids; i++)
        if (crmctl_parse_int(ctl, "a dead letter ID", crmctl_positional(args, i), 1, INT64_MAX,
                             &ids[i]) < 0) {
            free(ids);
            return CRMCTL_EXIT_USAGE;
        }
    Crm__V1__DeadLetterRetryRequest rq = CRM__V1__DEAD_LETTER_RETRY_REQUEST__INIT;
    const char *consumer = crmctl_arg(args, "consumer");
    rq.consumer = (char *)(consumer ? consumer : "");
    rq.ids = ids;
    rq.n_ids = n_ids;
    /* One key per invocation: a lost request retried by the client is
     * applied at most once, while running the verb again retries again. */
    char key[CRM_UUID_LEN + 1];
    crm_uuid_new(key);
    ProtobufCMessage *m = NULL;
    int rc =
        crmctl_call(ctl, svc, "deadletter.retry", &rq.base, key, CRMCTL_TIMEOUT_MS, CRMCTL_ATTEMPTS,
                    &crm__v1__dead_letter_retry_reply__descriptor, &m, 0, NULL);
    free(ids);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const Crm__V1__DeadLetterRetryReply *r = (const void *)m;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        if (crmctl_json_line(
                json_pack("{s:s, s:i}", "service", svc->name, "queued", (int)r->queued)) < 0)
            rc = CRMCTL_EXIT_FAILED;
    } else {
        printf("queued %d dead letter%s of %s for retry\n", (int)r->queued,
               r->queued == 1 ? "" : "s", svc->name);
        fflush(stdout);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}
