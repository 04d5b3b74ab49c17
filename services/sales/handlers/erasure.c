/* handlers/erasure.c: sales.person.erase, a person's personal data out of
 * sales (its tables and its stored events, crm/erase.h) and the
 * person.erased event that tells every other service to do the same
 * (docs/architecture.md, "Personal data"). Sales owns people, so the
 * request is answered here: an unknown id is NOT_FOUND, an erased person
 * FAILED_PRECONDITION, and both change nothing. */
#include "handlers.h"

#include "../events.h"
#include "../store.h"

#include <crm/erase.h>

#include <stdlib.h>

typedef struct {
    char *id;
    const char **pii;
    size_t n;
    int64_t at_us;
} s_erase_st_t;

static void s_erased(crm_work_t *w, uint32_t rewritten)
{
    s_erase_st_t *st = crm_work_data(w);
    const Crm__V1__ErasePersonRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__PersonErased pl = CRM__V1__PERSON_ERASED__INIT;
    pl.person_id = st->id;
    pl.reason = rq->reason;
    pl.erased_at_us = st->at_us;
    Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    ev.type = (char *)SALES_EV_PERSON_ERASED;
    ev.subject = st->id;
    ev.payload_case = CRM__V1__EVENT__PAYLOAD_PERSON_ERASED;
    ev.person_erased = &pl;
    if (crm_work_emit(w, &ev) < 0) {
        crm_work_fail_nomem(w);
        return;
    }
    Crm__V1__ErasePersonReply r = CRM__V1__ERASE_PERSON_REPLY__INIT;
    r.id = st->id;
    r.erased_at_us = st->at_us;
    r.events_rewritten = rewritten;
    crm_work_ok(w, &r.base);
}

static void s_blanked(crm_work_t *w, PGresult *res)
{
    s_erase_st_t *st = crm_work_data(w);
    st->at_us = crm_db_get_int(res, 0, 0);
    crm_erase_person(w, st->id, st->pii, st->n, s_erased);
}

static void s_locked(crm_work_t *w, PGresult *res)
{
    s_erase_st_t *st = crm_work_data(w);
    const Crm__V1__ErasePersonRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "person", st->id, "list people with sales.person.list");
        return;
    }
    if (crm_db_get_bool(res, 0, 1)) {
        crm_work_fail(
            w, SALES_CODE(FAILED_PRECONDITION), "id", "person is already erased",
            crm_work_printf(w, "person %s was erased at %s us", st->id, PQgetvalue(res, 0, 2)),
            "nothing is left to erase; the export shows when, by whom and why");
        return;
    }
    if (!(st->pii = crm_erase_strings(w, PQgetvalue(res, 0, 0), &st->n)))
        return;
    sales_store_erasure_blank(w, st->id, crm_work_principal(w), rq->reason, s_blanked);
}

void sales_person_erase(crm_work_t *w)
{
    const Crm__V1__ErasePersonRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_erase_st_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    int rc = sales_in_id(&in, rq->id, 1, "id", &st->id);
    if (rc == 0)
        rc = sales_check_text(rq->reason, SALES_TEXT_MAX, "reason", &in.e);
    if (sales_in_done(&in, rc) < 0)
        return;
    if (!*rq->reason) {
        sales_invalid(w, "reason", "reason is required",
                      "say why (a request reference), without personal data");
        return;
    }
    crm_work_set_data(w, st);
    sales_store_erasure_lock(w, st->id, s_locked);
}

/* sales.person.export: the person's profile, leads, deals with their stage
 * history, orders with their items, subscriptions, activities and notes,
 * and sales' stored events about them; for an erased person only the erasure. */
void sales_person_export(crm_work_t *w)
{
    crm_export_person(
        w,
        "SELECT jsonb_build_object("
        " 'erasure', (SELECT jsonb_build_object('erased_at_us', sales_us(e.erased_at),"
        "   'by', e.actor, 'reason', e.reason) FROM person_erasure e WHERE e.id = p.id),"
        " 'person', to_jsonb(p) - 'field_versions',"
        " 'leads', COALESCE((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.created_at) FROM lead l"
        "   WHERE l.person_id = p.id), '[]'),"
        " 'deals', COALESCE((SELECT jsonb_agg(to_jsonb(d) || jsonb_build_object('history',"
        "   COALESCE((SELECT jsonb_agg(to_jsonb(h) ORDER BY h.id) FROM deal_stage_history h"
        "    WHERE h.deal_id = d.id), '[]')) ORDER BY d.created_at) FROM deal d"
        "   WHERE d.person_id = p.id), '[]'),"
        " 'orders', COALESCE((SELECT jsonb_agg(to_jsonb(o) || jsonb_build_object('items',"
        "   COALESCE((SELECT jsonb_agg(to_jsonb(i) ORDER BY i.position) FROM order_item i"
        "    WHERE i.order_id = o.id), '[]')) ORDER BY o.ordered_at) FROM sales_order o"
        "   WHERE o.person_id = p.id), '[]'),"
        " 'subscriptions', COALESCE((SELECT jsonb_agg(to_jsonb(s) ORDER BY s.created_at)"
        "   FROM subscription s WHERE s.person_id = p.id), '[]'),"
        " 'activities', COALESCE((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.created_at)"
        "   FROM activity a WHERE a.person_id = p.id), '[]'))::text"
        " FROM person p WHERE p.id = $1::uuid",
        1);
}
