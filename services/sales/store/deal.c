/* store/deal.c: the SQL of deals and their stage history. */
#include "records.h"

int sales_store_deal_context(crm_work_t *w, const char *person_id, const char *org_id,
                             const char *pipeline_id, const char *lead_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, person_id);
    crm_params_opt(&p, org_id);
    crm_params_opt(&p, pipeline_id);
    crm_params_opt(&p, lead_id);
    return crm_params_run(
        &p,
        /* a merged id names its survivor (crm_alias) */
        "SELECT ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM person"
        "  WHERE id = crm_alias_of($1::uuid::text)::uuid)),"
        " ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = $2::uuid)),"
        " (SELECT " SALES_PIPELINE_J " FROM pipeline pl WHERE CASE WHEN $3::uuid IS NULL"
        "   THEN pl.is_default ELSE pl.id = $3::uuid END)::text,"
        " ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM lead WHERE id = $4::uuid))",
        0, cb);
}

int sales_store_deal_insert(crm_work_t *w, const Crm__V1__Deal *d, const char *actor,
                            crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, d->id);
    crm_params_str(&p, d->title);
    crm_params_opt(&p, d->person_id);
    crm_params_opt(&p, d->organization_id);
    crm_params_str(&p, d->pipeline_id);
    crm_params_str(&p, d->stage);
    crm_params_i64(&p, d->amount_minor);
    crm_params_str(&p, d->currency);
    crm_params_i64(&p, d->probability);
    crm_params_opt(&p, d->expected_close_date);
    crm_params_str(&p, d->owner);
    crm_params_str(&p, d->next_step);
    crm_params_opt(&p, d->lead_id);
    crm_params_str(&p, actor);
    return crm_params_run(
        &p,
        "WITH d AS (INSERT INTO deal (id, title, person_id, organization_id, pipeline_id,"
        "   stage, amount_minor, currency, probability, expected_close_date, owner,"
        "   next_step, status, lead_id)"
        "   VALUES ($1::uuid, $2::text, $3::uuid, $4::uuid, $5::uuid, $6::text,"
        "   $7::bigint, $8::text, $9::smallint, $10::date, $11::text, $12::text, 1,"
        "   $13::uuid) RETURNING *),"
        " h AS (INSERT INTO deal_stage_history (deal_id, from_stage, to_stage,"
        "   probability, actor) SELECT d.id, '', d.stage, d.probability, $14::text FROM d)"
        " SELECT " SALES_DEAL_J "::text FROM d",
        1, cb);
}

int sales_store_deal_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p,
                          "SELECT " SALES_DEAL_J "::text, " SALES_PIPELINE_J "::text"
                          " FROM deal d JOIN pipeline pl ON pl.id = d.pipeline_id"
                          " WHERE d.id = $1::uuid FOR UPDATE OF d",
                          0, cb);
}

int sales_store_deal_move(crm_work_t *w, const char *id, const char *from, const char *to,
                          int probability, const char *next_step, const char *actor, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, from);
    crm_params_str(&p, to);
    crm_params_i64(&p, probability);
    crm_params_add(&p, next_step);
    crm_params_str(&p, actor);
    return crm_params_run(
        &p,
        "WITH d AS (UPDATE deal SET stage = $3::text, probability = $4::smallint,"
        "   next_step = COALESCE($5::text, next_step), updated_at = now()"
        "   WHERE id = $1::uuid RETURNING *),"
        " h AS (INSERT INTO deal_stage_history (deal_id, from_stage, to_stage,"
        "   probability, actor) SELECT d.id, $2::text, d.stage, d.probability, $6::text"
        "   FROM d)"
        " SELECT " SALES_DEAL_J "::text FROM d",
        1, cb);
}

int sales_store_deal_close(crm_work_t *w, const char *id, int won, const char *reason,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_bool(&p, won);
    crm_params_str(&p, reason);
    return crm_params_run(&p,
                          "UPDATE deal AS d SET status = CASE WHEN $2::boolean THEN 2 ELSE 3 END,"
                          " probability = CASE WHEN $2::boolean THEN 100 ELSE 0 END,"
                          " lost_reason = $3::text, closed_at = now(), updated_at = now()"
                          " WHERE d.id = $1::uuid RETURNING " SALES_DEAL_J "::text",
                          1, cb);
}

int sales_store_deal_show(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    /* History entries carry the deal as it was after the move: its id,
     * stage, probability and the time of the move (updated_at_us). */
    return crm_params_run(
        &p,
        "SELECT jsonb_build_object('deal', " SALES_DEAL_J ","
        " 'history', COALESCE((SELECT jsonb_agg(jsonb_build_object("
        "   'deal', jsonb_build_object('id', h.deal_id, 'stage', h.to_stage,"
        "     'probability', h.probability, 'updated_at_us', sales_us(h.changed_at)),"
        "   'from_stage', h.from_stage, 'to_stage', h.to_stage) ORDER BY h.id)"
        "   FROM deal_stage_history h WHERE h.deal_id = d.id), '[]'))::text"
        " FROM deal d WHERE d.id = $1::uuid",
        0, cb);
}

int sales_store_deal_list(crm_work_t *w, const Crm__V1__ListDealsRequest *rq,
                          const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, rq->owner);
    crm_params_opt(&p, rq->pipeline_id);
    crm_params_opt(&p, rq->stage);
    crm_params_opt_i64(&p, rq->status);
    crm_params_opt(&p, rq->person_id);
    crm_params_opt(&p, rq->close_from);
    crm_params_opt(&p, rq->close_to);
    sales_store_page(&p, page);
    crm_params_reach(&p, CRM_REC_DEAL, CRM_ACT_READ);
    return crm_params_run(
        &p,
        "SELECT " SALES_DEAL_J "::text, sales_us(d.created_at), d.id::text FROM deal d"
        " WHERE ($1::text IS NULL OR d.owner = $1::text)"
        " AND ($2::uuid IS NULL OR d.pipeline_id = $2::uuid)"
        " AND ($3::text IS NULL OR lower(d.stage) = lower($3::text))"
        " AND ($4::smallint IS NULL OR d.status = $4::smallint)"
        " AND ($5::uuid IS NULL OR d.person_id = $5::uuid)"
        " AND ($6::date IS NULL OR d.expected_close_date >= $6::date)"
        " AND ($7::date IS NULL OR d.expected_close_date <= $7::date)"
        " AND ($8::bigint IS NULL OR (d.created_at, d.id) > (sales_ts($8::bigint), $9::uuid))"
        " AND ($11::text[] IS NULL OR d.owner = ANY($11::text[]))"
        " ORDER BY d.created_at, d.id LIMIT $10::int",
        0, cb);
}
