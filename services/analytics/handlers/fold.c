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
#include <string.h>

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

/* Scores the health from row r of an_apply's or an_apply_run's columns
 * from c on (customer, at_us, inputs, old score, old churn state,
 * publish) into st, on w's memory; *reasons gets the reasons (a new
 * reference: a run packs it as it is, one event stores its text). */
static int s_score(crm_work_t *w, PGresult *res, int r, int c, s_fold_t *st, int64_t *at_us,
                   json_t **reasons)
{
    if (!(st->customer = crm_work_strdup(w, PQgetvalue(res, r, c)))) {
        crm_work_fail_nomem(w);
        return -1;
    }
    *at_us = strtoll(PQgetvalue(res, r, c + 1), NULL, 10);
    json_error_t err;
    json_t *in_j = json_loads(PQgetvalue(res, r, c + 2), 0, &err);
    if (!in_j) {
        crm_work_fail(w, S_INTERNAL, NULL, "health inputs are not JSON", err.text, NULL);
        return -1;
    }
    an_health_in_t in;
    analytics_health_inputs(in_j, &in);
    json_decref(in_j);
    an_health_compute(&in, &st->h);
    st->has_old = !PQgetisnull(res, r, c + 3);
    st->old_score = st->has_old ? atoi(PQgetvalue(res, r, c + 3)) : 0;
    st->old_high = !PQgetisnull(res, r, c + 4) && PQgetvalue(res, r, c + 4)[0] == 't';
    st->high = st->h.churn_risk >= analytics_ctx(w)->churn_threshold;
    st->publish = PQgetvalue(res, r, c + 5)[0] == 't';
    if (!(*reasons = analytics_health_reasons(&st->h))) {
        crm_work_fail_nomem(w);
        return -1;
    }
    return 0;
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
    int64_t at_us;
    json_t *rj;
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (s_score(w, res, 0, 0, st, &at_us, &rj) < 0)
        return;
    char *text = json_dumps(rj, JSON_COMPACT);
    json_decref(rj);
    char *reasons = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!reasons) {
        crm_work_fail_nomem(w);
        return;
    }
    /* What changed is published (unless a rebuild replays) before the
     * health is stored: both are in the transaction, and the store is its
     * last write, sent with the closing statements (one round trip). */
    if (st->publish && s_publish(w, st) < 0) {
        crm_work_fail(w, S_INTERNAL, NULL, "could not publish a derived event", st->customer, NULL);
        return;
    }
    if (an_store_health_put(w, st->customer, st->h.score, reasons, st->high, at_us) == 0)
        crm_work_ok(w, NULL);
}

static void s_fold(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;
    char *copy = crm_pbjson_write(&b, &ev->base) == 0 ? crm_work_strdup(w, b.text) : NULL;
    crm_pbjson_buf_free(&b);
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

/* ---- a run of events at once ------------------------------------------------------ */

/* A run in flight, on the memory of its first work, which carries its
 * statements. */
typedef struct {
    crm_work_t **works;
    size_t n;
    s_fold_t **st; /* per work: the health it leads to, NULL if none */
} s_run_t;

/* Ends the run: the carrier failed (a statement, memory), so the
 * transaction goes, and the run is tried again one event at a time. */
static void s_run_fail(s_run_t *run, const char *why)
{
    for (size_t i = 1; i < run->n; i++)
        crm_work_fail(run->works[i], S_INTERNAL, NULL, why, NULL, NULL);
}

/* Publishes what changed, event by event, through each event's own work,
 * then ends them all. Its effects are in the carrier's writes: on a failure
 * the whole transaction goes (crm_batch_step sees the carrier failed). */
static void s_run_publish(crm_work_t *w, s_run_t *run)
{
    for (size_t i = 0; i < run->n; i++) {
        const s_fold_t *st = run->st[i];
        if (st && st->publish && s_publish(run->works[i], st) < 0) {
            crm_work_fail(w, S_INTERNAL, NULL, "could not publish a derived event", st->customer,
                          NULL);
            s_run_fail(run, "could not publish a derived event");
            return;
        }
    }
    for (size_t i = 0; i < run->n; i++)
        crm_work_ok(run->works[i], NULL);
}

/* The run is recorded and projected: score each customer row (an event
 * about a customer whom an earlier event of the run scored starts from
 * that score, as if the health had been stored in between), then store
 * the healths in one statement, the carrier's last write: it goes out with
 * the transaction's positions, outbox and COMMIT, so the run is two round
 * trips (the run, then the rest), not three: nothing the store answers
 * is needed to publish what changed. */
static void s_run_applied(crm_work_t *w, PGresult *res)
{
    s_run_t *run = crm_work_data(w);
    json_t *hs = json_array();
    if (!hs)
        goto nomem;
    for (int r = 0; r < PQntuples(res); r++) {
        long i = strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (i < 0 || (size_t)i >= run->n || run->st[i]) {
            json_decref(hs);
            crm_work_fail(w, S_INTERNAL, NULL, "an_apply_run returned an unexpected row", NULL,
                          NULL);
            s_run_fail(run, "an_apply_run returned an unexpected row");
            return;
        }
        crm_work_t *ew = run->works[i];
        s_fold_t *st = crm_work_alloc(ew, sizeof *st);
        int64_t at_us;
        json_t *reasons;
        if (!st)
            goto nomem;
        if (s_score(ew, res, r, 1, st, &at_us, &reasons) < 0) {
            json_decref(hs);
            crm_work_fail(w, S_INTERNAL, NULL, "could not score a customer's health", NULL, NULL);
            s_run_fail(run, "could not score a customer's health");
            return;
        }
        for (long k = i - 1; k >= 0; k--) {
            const s_fold_t *prev = run->st[k];
            if (prev && !strcmp(prev->customer, st->customer)) {
                st->has_old = 1;
                st->old_score = prev->h.score;
                st->old_high = prev->high;
                break;
            }
        }
        run->st[i] = st;
        /* (the reasons as they are: "o" takes them, also on failure) */
        json_t *h = json_pack("{s:s, s:i, s:o, s:b, s:I}", "c", st->customer, "s", st->h.score, "r",
                              reasons, "h", st->high, "t", (json_int_t)at_us);
        if (!h || json_array_append_new(hs, h) < 0)
            goto nomem;
    }
    if (json_array_size(hs) == 0) {
        json_decref(hs);
        s_run_publish(w, run);
        return;
    }
    char *text = json_dumps(hs, JSON_COMPACT);
    json_decref(hs);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy)
        goto nomem;
    if (an_store_health_put_run(w, copy) < 0) {
        s_run_fail(run, "could not store the healths");
        return;
    }
    s_run_publish(w, run);
    return;
nomem:
    json_decref(hs);
    crm_work_fail_nomem(w);
    s_run_fail(run, "out of memory");
}

/* One event of a run, {"s":source,"q":sequence,"e":event,"m":member}, as
 * json_dumps wrote it from a jansson tree before: written in one pass
 * (crm/pbjson.h), the same bytes. The payload's member by name ("m"): the
 * fold would otherwise find it among the event's keys, a query per event.
 * A source that is not UTF-8 is refused, as json_pack refused it. */
static int s_run_event(crm_pbjson_buf_t *b, const Crm__V1__Event *ev, int first)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(ev->base.descriptor, (unsigned)ev->payload_case);
    const char *head = first ? "{\"s\":" : ",{\"s\":";
    size_t mark = b->len;
    if (crm_pbjson_write_raw(b, head, strlen(head)) < 0 ||
        crm_pbjson_write_string(b, ev->source) < 0 || crm_pbjson_write_raw(b, ",\"q\":", 5) < 0 ||
        crm_pbjson_write_int(b, (int64_t)ev->sequence) < 0 ||
        crm_pbjson_write_raw(b, ",\"e\":", 5) < 0 || crm_pbjson_write(b, &ev->base) < 0 ||
        (f &&
         (crm_pbjson_write_raw(b, ",\"m\":", 5) < 0 || crm_pbjson_write_string(b, f->name) < 0)) ||
        crm_pbjson_write_raw(b, "}", 1) < 0) {
        b->len = mark;
        if (b->text)
            b->text[mark] = '\0';
        return -1;
    }
    return 0;
}

void analytics_apply_run(crm_work_t *const *works, size_t n)
{
    crm_work_t *w = NULL;
    s_run_t *run = NULL;
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;
    int ok = crm_pbjson_write_raw(&b, "[", 1) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (s_run_event(&b, crm_work_event(works[i]), run == NULL || run->n == 0) < 0) {
            /* This event alone, as s_fold would (it is dead-lettered). */
            crm_work_fail_nomem(works[i]);
            continue;
        }
        if (!w) {
            /* The first event of the run carries its statements. */
            w = works[i];
            if (!(run = crm_work_alloc(w, sizeof *run)) ||
                !(run->works = crm_work_alloc(w, n * sizeof *run->works)) ||
                !(run->st = crm_work_alloc(w, n * sizeof *run->st))) {
                run = NULL;
                break;
            }
            run->n = 0;
        }
        run->works[run->n] = works[i];
        run->st[run->n++] = NULL;
    }
    char *copy =
        ok && run && crm_pbjson_write_raw(&b, "]", 1) == 0 ? crm_work_strdup(w, b.text) : NULL;
    crm_pbjson_buf_free(&b);
    if (!copy) {
        for (size_t i = 0; i < n; i++)
            crm_work_fail_nomem(works[i]);
        return;
    }
    crm_work_set_data(w, run);
    an_store_apply_run(w, copy, s_run_applied);
}

int analytics_apply_alone(const Crm__V1__Event *ev)
{
    return ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_ERASED;
}
