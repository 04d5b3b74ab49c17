/* handlers/rebuild.c: the operator's view of the projections:
 * analytics.rebuild (drop them and replay every stream from the start) and
 * analytics.status (events, customers, each source's position and lag). */
#include "handlers.h"

#include "store.h"

#include <crm/db.h>
#include <crm/log.h>

/* Runs after the rebuild committed (it is queued behind the rebuild's
 * batch): the consumers forget their in-memory positions and replay from
 * the ones the rebuild wrote. */
static void s_reload_done(crm_service_t *svc, int status, void *arg)
{
    (void)status;
    (void)arg;
    for (const crm_consumer_def_t *c = analytics_consumers; c->name; c++)
        crm_consumer_reload(svc, c->name);
    crm_info("analytics.rebuild", "consumers rewound; replaying every stream from the start");
}

static void s_reload_noop(crm_work_t *w)
{
    crm_work_ok(w, NULL);
}

static void s_rebuilt(crm_work_t *w, PGresult *res)
{
    Crm__V1__RebuildReply r = CRM__V1__REBUILD_REPLY__INIT;
    r.events_dropped = crm_db_get_int(res, 0, 0);
    if (crm_service_submit(crm_work_service(w), "analytics.rebuild.reload", s_reload_noop, NULL,
                           s_reload_done) < 0) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL,
                      "could not schedule the replay", NULL, "retry the command");
        return;
    }
    crm_info("analytics.rebuild", "projections dropped (%lld events)", (long long)r.events_dropped);
    crm_work_ok(w, &r.base);
}

void analytics_rebuild(crm_work_t *w)
{
    an_store_rebuild(w, s_rebuilt);
}

typedef struct {
    Crm__V1__AnalyticsStatusReply r;
} s_status_t;

static void s_status_counts(crm_work_t *w, PGresult *res)
{
    s_status_t *st = crm_work_data(w);
    st->r.events = crm_db_get_int(res, 0, 0);
    st->r.customers = crm_db_get_int(res, 0, 1);
    st->r.rebuild_in_progress = PQgetvalue(res, 0, 2)[0] == 't';
    st->r.rebuilt_at_us = crm_db_get_int(res, 0, 3);
    crm_work_ok(w, &st->r.base);
}

static void s_status_positions(crm_work_t *w, PGresult *res)
{
    s_status_t *st = crm_work_data(w);
    int n = PQntuples(res);
    st->r.sources = crm_work_alloc(w, (size_t)(n ? n : 1) * sizeof *st->r.sources);
    if (!st->r.sources) {
        crm_work_fail_nomem(w);
        return;
    }
    for (int i = 0; i < n; i++) {
        Crm__V1__SourceProgress *s = crm_work_alloc(w, sizeof *s);
        if (!s) {
            crm_work_fail_nomem(w);
            return;
        }
        crm__v1__source_progress__init(s);
        s->consumer = crm_work_strdup(w, PQgetvalue(res, i, 0));
        s->source = crm_work_strdup(w, PQgetvalue(res, i, 1));
        if (!s->consumer || !s->source) {
            crm_work_fail_nomem(w);
            return;
        }
        s->applied = (uint64_t)crm_db_get_int(res, i, 2);
        uint64_t mem_applied = 0, head = 0;
        crm_consumer_progress(crm_work_service(w), s->consumer, s->source, &mem_applied, &head);
        s->head = head > s->applied ? head : s->applied;
        s->lag = s->head - s->applied;
        st->r.sources[st->r.n_sources++] = s;
    }
    an_store_counts(w, s_status_counts);
}

void analytics_status(crm_work_t *w)
{
    s_status_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__analytics_status_reply__init(&st->r);
    crm_work_set_data(w, st);
    an_store_positions(w, s_status_positions);
}
