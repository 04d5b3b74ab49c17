/* handlers/fold.c: the consumers. Every event of every source is handed,
 * as JSON, to the fold in the database (an_apply, sql/R_apply.sql); the
 * health of the customer it was about is scored with the rules of rules.c,
 * stored, and what changed (health_changed, churn_risk_raised, events.c)
 * is published in the same transaction. */
#include "handlers.h"

#include "events.h"
#include "store.h"

#include <crm/pbjson.h>

#include <stdlib.h>

/* The health an applied event leads to, between the statements of one
 * event's work. */
typedef struct {
    char *customer;
    an_health_t h;
    int has_old, old_score, old_high, high, publish;
} s_fold_t;

/* Publishes what changed: the score, and a churn risk that crossed the
 * threshold (once per crossing). */
static int s_publish(crm_work_t *w, const s_fold_t *st)
{
    if (st->has_old && st->old_score != st->h.score &&
        analytics_emit_health_changed(w, st->customer, st->old_score, &st->h) < 0)
        return -1;
    if (st->high && !st->old_high && analytics_emit_churn_risk_raised(w, st->customer, &st->h) < 0)
        return -1;
    return 0;
}

/* The health is stored: publish what changed (unless a rebuild replays). */
static void s_health_stored(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_fold_t *st = crm_work_data(w);
    if (st->publish && s_publish(w, st) < 0) {
        crm_work_fail(w, S_INTERNAL, NULL, "could not publish a derived event", st->customer, NULL);
        return;
    }
    crm_work_ok(w, NULL);
}

/* The event is recorded and projected; compute the customer's health from
 * the inputs an_apply returned (rules.c) and store it. */
static void s_applied(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) == 0) {
        crm_work_ok(w, NULL); /* not about a customer */
        return;
    }
    s_fold_t *st = crm_work_alloc(w, sizeof *st);
    if (!st || !(st->customer = crm_work_strdup(w, PQgetvalue(res, 0, 0)))) {
        crm_work_fail_nomem(w);
        return;
    }
    int64_t at_us = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    json_error_t err;
    json_t *in_j = json_loads(PQgetvalue(res, 0, 2), 0, &err);
    if (!in_j) {
        crm_work_fail(w, S_INTERNAL, NULL, "health inputs are not JSON", err.text, NULL);
        return;
    }
    an_health_in_t in;
    analytics_health_inputs(in_j, &in);
    json_decref(in_j);
    an_health_compute(&in, &st->h);
    st->has_old = !PQgetisnull(res, 0, 3);
    st->old_score = st->has_old ? atoi(PQgetvalue(res, 0, 3)) : 0;
    st->old_high = !PQgetisnull(res, 0, 4) && PQgetvalue(res, 0, 4)[0] == 't';
    st->high = st->h.churn_risk >= analytics_ctx(w)->churn_threshold;
    st->publish = PQgetvalue(res, 0, 5)[0] == 't';
    json_t *reasons = analytics_health_reasons(&st->h);
    char *text = reasons ? json_dumps(reasons, JSON_COMPACT) : NULL;
    json_decref(reasons);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, st);
    an_store_health_put(w, st->customer, st->h.score, copy, st->high, at_us, s_health_stored);
}

static void s_fold(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    json_t *j = crm_pbjson_from_message(&ev->base);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    an_store_apply(w, ev->source, ev->sequence, copy, s_applied);
}

void analytics_apply(crm_work_t *w)
{
    /* An erasure rewrites what was recorded about the person first
     * (handlers/erasure.c), then is folded like any other event. */
    if (crm_work_event(w)->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_ERASED)
        analytics_person_erased(w, s_fold);
    else
        s_fold(w);
}
