/* store/lead.c: the SQL of leads: insert (linked to the person with
 * the lead's email), lock, status changes and lists. */
#include "records.h"

/* The person of the lead's email ($3) when none is named. */
#define S_BY_LEAD_EMAIL SALES_PERSON_BY_EMAILS("ARRAY[$3::text]")

int sales_store_lead_insert(crm_work_t *w, const Crm__V1__Lead *l, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, l->id);
    crm_params_str(&p, l->name);
    crm_params_str(&p, l->email);
    crm_params_str(&p, l->phone);
    crm_params_str(&p, l->company);
    crm_params_i64(&p, l->source);
    crm_params_str(&p, l->campaign_id);
    crm_params_i64(&p, l->status);
    crm_params_str(&p, l->owner);
    crm_params_str(&p, l->notes);
    crm_params_opt(&p, l->person_id);
    return crm_params_run(
        &p,
        "INSERT INTO lead AS l (id, name, email, phone, company, source, campaign_id,"
        " status, owner, notes, person_id)"
        " VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::smallint,"
        " $7::text, $8::smallint, $9::text, $10::text,"
        " COALESCE($11::uuid, " S_BY_LEAD_EMAIL "))"
        " RETURNING " SALES_LEAD_J "::text",
        1, cb);
}

int sales_store_lead_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p, "SELECT " SALES_LEAD_J "::text FROM lead l WHERE l.id = $1::uuid FOR UPDATE", 0, cb);
}

int sales_store_lead_status(crm_work_t *w, const char *id, int status, const char *qualification,
                            const char *reason, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, status);
    crm_params_add(&p, qualification);
    crm_params_add(&p, reason);
    return crm_params_run(
        &p,
        "UPDATE lead AS l SET status = $2::smallint,"
        " qualification = COALESCE($3::text, l.qualification),"
        " disqualify_reason = COALESCE($4::text, l.disqualify_reason), updated_at = now()"
        " WHERE l.id = $1::uuid RETURNING " SALES_LEAD_J "::text",
        1, cb);
}

int sales_store_lead_list(crm_work_t *w, const Crm__V1__ListLeadsRequest *rq,
                          const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt_i64(&p, rq->status);
    crm_params_opt(&p, rq->owner);
    crm_params_opt_i64(&p, rq->source);
    crm_params_opt(&p, rq->campaign_id);
    sales_store_page(&p, page);
    crm_params_reach(&p, CRM_REC_LEAD, CRM_ACT_READ);
    return crm_params_run(
        &p,
        "SELECT " SALES_LEAD_J "::text, sales_us(l.created_at), l.id::text FROM lead l"
        " WHERE ($1::smallint IS NULL OR l.status = $1::smallint)"
        " AND ($2::text IS NULL OR l.owner = $2::text)"
        " AND ($3::smallint IS NULL OR l.source = $3::smallint)"
        " AND ($4::text IS NULL OR l.campaign_id = $4::text)"
        " AND ($5::bigint IS NULL OR (l.created_at, l.id) > (sales_ts($5::bigint), $6::uuid))"
        " AND ($8::text[] IS NULL OR l.owner = ANY($8::text[]))"
        " ORDER BY l.created_at, l.id LIMIT $7::int",
        0, cb);
}
