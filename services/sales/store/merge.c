/* store/merge.c: the SQL of sales.person.merge (handlers/merge.c). */
#include "records.h"

int sales_store_merge_lock(crm_work_t *w, const char *keep, const char *drop, crm_work_cb cb)
{
    const char *p[] = {keep, drop};
    return crm_work_query(
        w,
        "SELECT x.id::text, q.id IS NOT NULL,"
        " EXISTS (SELECT 1 FROM person_erasure e WHERE e.id = x.id),"
        " (SELECT m.survivor_id::text FROM person_merge m WHERE m.dropped_id = x.id),"
        " COALESCE(array_to_json(q.emails)::text, '[]')"
        " FROM unnest(ARRAY[$1::uuid, $2::uuid]) WITH ORDINALITY AS x(id, o)"
        " LEFT JOIN LATERAL (SELECT p.id, p.emails FROM person p WHERE p.id = x.id"
        "   FOR UPDATE) q ON true"
        " ORDER BY x.o",
        2, p, cb);
}

int sales_store_merge(crm_work_t *w, const char *keep, const char *drop, char *const *alias_ids,
                      size_t n, const char *actor, const char *reason, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, keep);
    crm_params_str(&p, drop);
    crm_params_textv(&p, alias_ids, n);
    crm_params_str(&p, actor);
    crm_params_str(&p, reason);
    return crm_params_run(&p,
                          "SELECT sales_merge_person($1::uuid, $2::uuid, $3::text[], $4, $5),"
                          " sales_us(now())",
                          1, cb);
}
