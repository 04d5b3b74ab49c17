/* handlers/merge.c: sales.person.merge, two records of one person made one
 * (docs/architecture.md, "Personal data", "Merge"), and the person.merged
 * event that tells every other service to do the same. Sales owns people,
 * so the request is answered here: one id twice is INVALID_ARGUMENT, an
 * unknown or already merged id NOT_FOUND, an erased person
 * FAILED_PRECONDITION, and none of them changes anything. The merge itself
 * is one SQL function (sales_merge_person, sql/0010_merge.sql). */
#include "handlers.h"

#include "../events.h"
#include "../store.h"

#include <crm/erase.h>
#include <crm/alias.h>

#include <string.h>

typedef struct {
    char *keep;
    char *drop;
    char **alias; /* crm_alias_ids */
    size_t n_alias;
    const char **emails; /* the dropped record's */
    size_t n_emails;
    uint32_t moved;
    int64_t at_us;
} s_merge_st_t;

static void s_survivor(crm_work_t *w, PGresult *res)
{
    s_merge_st_t *st = crm_work_data(w);
    const Crm__V1__MergePersonRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__Person *p = crm_work_returned(w, &crm__v1__person__descriptor, res);
    if (!p)
        return;
    Crm__V1__PersonMerged pl = CRM__V1__PERSON_MERGED__INIT;
    pl.survivor_id = st->keep;
    pl.dropped_id = st->drop;
    pl.reason = rq->reason;
    pl.merged_at_us = st->at_us;
    pl.person = p;
    pl.n_dropped_emails = st->n_emails;
    pl.dropped_emails = (char **)st->emails;
    pl.n_alias_ids = st->n_alias;
    pl.alias_ids = st->alias;
    Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    ev.type = (char *)SALES_EV_PERSON_MERGED;
    ev.subject = st->keep;
    ev.payload_case = CRM__V1__EVENT__PAYLOAD_PERSON_MERGED;
    ev.person_merged = &pl;
    if (crm_work_emit(w, &ev) < 0) {
        crm_work_fail_nomem(w);
        return;
    }
    Crm__V1__MergePersonReply r = CRM__V1__MERGE_PERSON_REPLY__INIT;
    r.person = p;
    r.dropped_id = st->drop;
    r.merged_at_us = st->at_us;
    r.records_moved = st->moved;
    crm_work_ok(w, &r.base);
}

static void s_merged(crm_work_t *w, PGresult *res)
{
    s_merge_st_t *st = crm_work_data(w);
    st->moved = (uint32_t)crm_db_get_int(res, 0, 0);
    st->at_us = crm_db_get_int(res, 0, 1);
    sales_store_person_get(w, st->keep, NULL, s_survivor);
}

/* Refuses a row of sales_store_merge_lock that cannot take part; 0 when it
 * can. */
static int s_refused(crm_work_t *w, PGresult *res, int row, const char *field)
{
    const char *id = PQgetvalue(res, row, 0);
    if (!crm_db_get_bool(res, row, 1)) {
        if (!PQgetisnull(res, row, 3)) {
            const char *into = PQgetvalue(res, row, 3);
            crm_work_fail(w, SALES_CODE(NOT_FOUND), field, "person was merged into another",
                          crm_work_printf(w, "person %s was merged into %s", id, into),
                          "name the survivor instead");
        } else {
            crm_work_fail_not_found(w, field, "person", id, "list people with sales.person.list");
        }
        return -1;
    }
    if (crm_db_get_bool(res, row, 2)) {
        crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), field, "person is erased",
                      crm_work_printf(w, "person %s was erased", id),
                      "an erased person cannot be merged");
        return -1;
    }
    return 0;
}

static void s_locked(crm_work_t *w, PGresult *res)
{
    s_merge_st_t *st = crm_work_data(w);
    const Crm__V1__MergePersonRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) != 2) {
        crm_work_fail(w, SALES_CODE(INTERNAL), NULL, "could not read the two people", NULL, NULL);
        return;
    }
    if (s_refused(w, res, 0, "keep_id") < 0 || s_refused(w, res, 1, "drop_id") < 0)
        return;
    if (!(st->emails = crm_erase_strings(w, PQgetvalue(res, 1, 4), &st->n_emails)))
        return;
    /* The ids that resolve to the survivor from now on (crm/alias.h). */
    if (!(st->alias = crm_alias_ids(w, st->keep, st->drop, (char *const *)st->emails, st->n_emails,
                                    &st->n_alias)))
        return;
    sales_store_merge(w, st->keep, st->drop, st->alias, st->n_alias, crm_work_principal(w),
                      rq->reason, s_merged);
}

void sales_person_merge_cmd(crm_work_t *w)
{
    const Crm__V1__MergePersonRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_merge_st_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    memset(st, 0, sizeof *st);
    int rc = sales_in_id(&in, rq->keep_id, 1, "keep_id", &st->keep);
    if (rc == 0)
        rc = sales_in_id(&in, rq->drop_id, 1, "drop_id", &st->drop);
    if (rc == 0)
        rc = sales_check_text(rq->reason, SALES_TEXT_MAX, "reason", &in.e);
    if (sales_in_done(&in, rc) < 0)
        return;
    if (!strcmp(st->keep, st->drop)) {
        sales_invalid(w, "drop_id", "a person cannot be merged into itself",
                      "name two different people: the one to keep and the one to drop");
        return;
    }
    crm_work_set_data(w, st);
    sales_store_merge_lock(w, st->keep, st->drop, s_locked);
}
