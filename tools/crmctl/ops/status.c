/* status.c: `crmctl status`, one look at every service's stream and
 * consumers through the built-in "stream.info" command.
 *
 * A service that does not answer is reported as down rather than failing
 * the command: the point of status is to show which ones are down. Only when
 * no service answers at all is that an error (exit 3). The services are
 * asked all at once (crmctl_call_all), so down services cost one deadline in
 * all rather than one each. */
#include "crmctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* stream.info is cheap: a short deadline and no retry, so that a down
 * service costs at most this much. */
#define STATUS_TIMEOUT_MS 2000

const crmctl_opt_t crmctl_status_opts[] = {
    {"service", 's', "NAME", "only this service (may be repeated or comma-separated)", 1},
    {NULL, 0, NULL, NULL, 0},
};

typedef enum { S_UP, S_DOWN, S_ERROR } s_state_t;

static const char *s_state_name(s_state_t st)
{
    return st == S_UP ? "up" : st == S_DOWN ? "down" : "error";
}

static json_t *s_error_json(const Crm__V1__Status *st)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "code", crm_status_name((int)st->code), "message",
                     st->message ? st->message : "", "detail", st->detail ? st->detail : "", "hint",
                     st->hint ? st->hint : "");
}

static json_t *s_info_json(const crmctl_service_t *svc, const Crm__V1__StreamInfoReply *r)
{
    json_t *o = json_object();
    json_t *cons = json_array();
    if (!o || !cons) {
        json_decref(o);
        json_decref(cons);
        return NULL;
    }
    json_object_set_new(o, "service", json_string(svc->name));
    json_object_set_new(o, "state", json_string("up"));
    json_object_set_new(o, "ready", json_boolean(r->ready));
    json_object_set_new(o, "epoch", json_string(r->epoch));
    json_object_set_new(o, "epoch_start_sequence", crmctl_json_u64(r->epoch_start_sequence));
    json_object_set_new(o, "head_sequence", crmctl_json_u64(r->head_sequence));
    json_object_set_new(o, "published_sequence", crmctl_json_u64(r->published_sequence));
    json_object_set_new(o, "first_retained_sequence", crmctl_json_u64(r->first_retained_sequence));
    for (size_t i = 0; i < r->n_consumers; i++) {
        const Crm__V1__ConsumerInfo *c = r->consumers[i];
        json_array_append_new(
            cons, json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:I}", "consumer", c->consumer,
                            "source", c->source, "position", crmctl_json_u64(c->position),
                            "source_head", crmctl_json_u64(c->source_head), "lag",
                            crmctl_json_u64(c->lag), "dead_letters", (json_int_t)c->dead_letters,
                            "replays", (json_int_t)c->replays));
    }
    json_object_set_new(o, "consumers", cons);
    return o;
}

static void s_u64(char *buf, size_t len, uint64_t v)
{
    snprintf(buf, len, "%" PRIu64, v);
}

int crmctl_status(crmctl_t *ctl, const crmctl_args_t *args)
{
    size_t n_all = crmctl_n_services(ctl);
    crmctl_service_t **sel = calloc(n_all + 1, sizeof *sel);
    if (!sel)
        return CRMCTL_EXIT_FAILED;
    int n = crmctl_select_services(ctl, crmctl_arg(args, "service"), "service", sel);
    if (n < 0) {
        free(sel);
        return CRMCTL_EXIT_USAGE;
    }
    int json = crmctl_output(ctl) == CRMCTL_OUT_JSON;
    json_t *doc = json_array();
    static const char *const svc_cols[] = {"SERVICE", "STATE",     "READY",          "EPOCH",
                                           "HEAD",    "PUBLISHED", "FIRST RETAINED", NULL};
    static const char *const con_cols[] = {"SERVICE", "CONSUMER",     "SOURCE",  "POSITION", "HEAD",
                                           "LAG",     "DEAD LETTERS", "REPLAYS", NULL};
    crmctl_table_t *svc_tab = crmctl_table_new(svc_cols);
    crmctl_table_t *con_tab = crmctl_table_new(con_cols);
    int up = 0, failed = 0, rc = CRMCTL_EXIT_OK;
    crmctl_result_t *results = NULL;
    if (!doc || !svc_tab || !con_tab) {
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
    Crm__V1__StreamInfoRequest rq = CRM__V1__STREAM_INFO_REQUEST__INIT;
    crmctl_call_all(ctl, sel, (size_t)n, "stream.info", &rq.base, STATUS_TIMEOUT_MS, 1,
                    &crm__v1__stream_info_reply__descriptor, results);
    for (int i = 0; i < n; i++) {
        crmctl_service_t *svc = sel[i];
        int crc = results[i].rc;
        const Crm__V1__CommandReply *err = results[i].error;
        s_state_t st = crc == CRMCTL_EXIT_OK ? S_UP : crc == CRMCTL_EXIT_FAILED ? S_ERROR : S_DOWN;
        if (st == S_UP) {
            const Crm__V1__StreamInfoReply *r = (const void *)results[i].reply;
            up++;
            if (r->service && *r->service && strcmp(r->service, svc->name))
                crmctl_warn("the service configured as %s at %s calls itself %s", svc->name,
                            svc->endpoint, r->service);
            json_array_append_new(doc, s_info_json(svc, r));
            char head[24], pub[24], first[24];
            s_u64(head, sizeof head, r->head_sequence);
            s_u64(pub, sizeof pub, r->published_sequence);
            s_u64(first, sizeof first, r->first_retained_sequence);
            const char *row[] = {svc->name, "up", r->ready ? "yes" : "no", r->epoch, head,
                                 pub,       first};
            crmctl_table_add(svc_tab, row);
            for (size_t k = 0; k < r->n_consumers; k++) {
                const Crm__V1__ConsumerInfo *c = r->consumers[k];
                char pos[24], sh[24], lag[24], dl[24], rp[24];
                s_u64(pos, sizeof pos, c->position);
                s_u64(sh, sizeof sh, c->source_head);
                s_u64(lag, sizeof lag, c->lag);
                snprintf(dl, sizeof dl, "%" PRId64, c->dead_letters);
                snprintf(rp, sizeof rp, "%" PRId64, c->replays);
                const char *crow[] = {svc->name, c->consumer, c->source, pos, sh, lag, dl, rp};
                crmctl_table_add(con_tab, crow);
            }
            continue;
        }
        json_t *o = json_pack("{s:s, s:s}", "service", svc->name, "state", s_state_name(st));
        if (st == S_ERROR) {
            failed++;
            crmctl_print_result(svc, "stream.info", &results[i]);
            json_object_set_new(o, "error",
                                err && err->status
                                    ? s_error_json(err->status)
                                    : json_pack("{s:s}", "message", "undecodable reply"));
        } else {
            const char *why = crc == CRMCTL_EXIT_USAGE ? "invalid endpoint" : "timeout";
            crmctl_warn("could not reach %s at %s: %s", svc->name, svc->endpoint, why);
            json_object_set_new(o, "error",
                                json_pack("{s:s, s:s}", "code", "unreachable", "message", why));
        }
        json_array_append_new(doc, o);
        const char *row[] = {svc->name, s_state_name(st), NULL, NULL, NULL, NULL, NULL};
        crmctl_table_add(svc_tab, row);
    }
    if (json) {
        json_t *top = json_pack("{s:o}", "services", doc);
        doc = NULL;
        if (crmctl_json_line(top) < 0)
            rc = CRMCTL_EXIT_FAILED;
    } else {
        crmctl_table_print(svc_tab);
        if (crmctl_table_rows(con_tab) > 0) {
            printf("\n");
            crmctl_table_print(con_tab);
        }
    }
    if (up == 0 && rc == CRMCTL_EXIT_OK) {
        if (failed)
            rc = CRMCTL_EXIT_FAILED;
        else {
            crmctl_error(NULL,
                         "Check that the services are running and that CRM_SERVICES (or"
                         " --services) names their command endpoints.",
                         "could not reach any service");
            rc = CRMCTL_EXIT_UNREACHABLE;
        }
    }
done:
    for (int i = 0; results && i < n; i++)
        crmctl_result_clear(&results[i]);
    free(results);
    json_decref(doc);
    crmctl_table_destroy(&svc_tab);
    crmctl_table_destroy(&con_tab);
    free(sel);
    return rc;
}
