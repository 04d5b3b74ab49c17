/* store/followup.c: the SQL of the consumers that turn other services'
 * signals into sales work (handlers/followup.c): campaign responses into
 * leads, churn risk and complaints into a task on the open deal,
 * data-quality findings into a task for the record's owner. */
#include "records.h"

int sales_store_intent_context(crm_work_t *w, const char *email, const char *customer_id,
                               const char *campaign_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, email);
    crm_params_opt(&p, customer_id);
    crm_params_str(&p, campaign_id);
    return crm_params_run(
        &p,
        "SELECT EXISTS (SELECT 1 FROM lead l WHERE l.campaign_id = $3::text"
        "   AND l.status IN (1, 2) AND CASE WHEN $1::text <> '' THEN l.email = $1::text"
        "   ELSE l.person_id = $2::uuid END),"
        " (SELECT count(*) FROM lead WHERE source = 3), p.name, p.emails[1]"
        " FROM (SELECT 1) AS one LEFT JOIN person p ON p.id = $2::uuid",
        0, cb);
}

int sales_store_open_deal(crm_work_t *w, const char *person_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, person_id);
    return crm_params_run(&p,
                          "SELECT " SALES_DEAL_J "::text FROM deal d"
                          " WHERE d.person_id = $1::uuid AND d.status = 1"
                          " ORDER BY d.updated_at DESC, d.id LIMIT 1",
                          0, cb);
}

int sales_store_dq_target(crm_work_t *w, const char *kind, const char *record_id,
                          const char *default_owner, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, kind);
    crm_params_str(&p, record_id);
    crm_params_str(&p, default_owner);
    return crm_params_run(
        &p,
        "WITH t AS ("
        " SELECT p.id AS person_id, NULL::uuid AS deal_id,"
        "  COALESCE(NULLIF(p.owner, ''), NULLIF(o.owner, ''), $3::text) AS owner"
        "  FROM person p LEFT JOIN organization o ON o.id = p.organization_id"
        "  WHERE $1::text IN ('unreachable', 'duplicate', 'not_contacted') AND p.id = $2::uuid"
        " UNION ALL"
        " SELECT d.person_id, d.id,"
        "  COALESCE(NULLIF(d.owner, ''), NULLIF(p.owner, ''), $3::text)"
        "  FROM deal d JOIN person p ON p.id = d.person_id"
        "  WHERE $1::text = 'deal_without_next_step' AND d.id = $2::uuid"
        "  AND d.status = 1 AND d.next_step = ''"
        " UNION ALL"
        " SELECT a.person_id, a.deal_id,"
        "  COALESCE(NULLIF(a.owner, ''), NULLIF(p.owner, ''), $3::text)"
        "  FROM activity a JOIN person p ON p.id = a.person_id"
        "  WHERE $1::text = 'overdue_activity' AND a.id = $2::uuid AND a.status = 1)"
        " SELECT t.person_id::text, COALESCE(t.deal_id::text, ''), t.owner,"
        " EXISTS (SELECT 1 FROM dq_task q WHERE q.kind = $1::text AND q.record_id = $2::uuid)"
        " FROM t LIMIT 1",
        0, cb);
}

int sales_store_dq_task_put(crm_work_t *w, const char *kind, const char *record_id,
                            const char *activity_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, kind);
    crm_params_str(&p, record_id);
    crm_params_str(&p, activity_id);
    return crm_params_run(&p,
                          "INSERT INTO dq_task (kind, record_id, activity_id)"
                          " VALUES ($1::text, $2::uuid, $3::uuid)",
                          1, cb);
}

int sales_store_followup_open(crm_work_t *w, const char *person_id, const char *owner, int hours,
                              crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, person_id);
    crm_params_str(&p, owner);
    crm_params_i64(&p, hours);
    return crm_params_run(&p,
                          "SELECT a.id::text FROM followup_task f JOIN activity a"
                          " ON a.id = f.activity_id"
                          " WHERE f.person_id = $1::uuid AND f.owner = $2::text AND a.status = 1"
                          " AND f.created_at > now() - $3::int * interval '1 hour'"
                          " ORDER BY f.created_at DESC LIMIT 1 FOR UPDATE OF a",
                          0, cb);
}

int sales_store_followup_append(crm_work_t *w, const char *activity_id, const char *text,
                                crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, activity_id);
    crm_params_str(&p, text);
    return crm_params_run(&p,
                          "UPDATE activity a SET body = a.body || E'\\n\\n' || $2::text,"
                          " updated_at = now() WHERE a.id = $1::uuid",
                          1, cb);
}

int sales_store_followup_put(crm_work_t *w, const char *activity_id, const char *person_id,
                             const char *owner, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, activity_id);
    crm_params_str(&p, person_id);
    crm_params_str(&p, owner);
    return crm_params_run(&p,
                          "INSERT INTO followup_task (activity_id, person_id, owner)"
                          " VALUES ($1::uuid, $2::uuid, $3::text)",
                          1, cb);
}
