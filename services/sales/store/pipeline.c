/* store/pipeline.c: the SQL of pipelines and their ordered stages. */
#include "records.h"
#include "rules.h"

#include <jansson.h>

int sales_store_pipeline_by_name(crm_work_t *w, const char *name, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, name);
    return crm_params_run(
        &p, "SELECT pl.id::text FROM pipeline pl WHERE lower(pl.name) = lower($1::text)", 0, cb);
}

int sales_store_pipeline_undefault(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p, "UPDATE pipeline SET is_default = false WHERE is_default", 1, cb);
}

int sales_store_pipeline_insert(crm_work_t *w, const Crm__V1__Pipeline *pl, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    json_t *stages = json_array();
    for (size_t i = 0; stages && i < pl->n_stages; i++)
        json_array_append_new(stages, json_pack("{s:s, s:i}", "name", pl->stages[i]->name,
                                                "probability", pl->stages[i]->probability));
    crm_params_str(&p, pl->id);
    crm_params_str(&p, pl->name);
    crm_params_bool(&p, pl->is_default);
    crm_params_json(&p, stages);
    return crm_params_run(
        &p,
        "WITH pl AS (INSERT INTO pipeline (id, name, is_default)"
        "   VALUES ($1::uuid, $2::text, $3::boolean) RETURNING *),"
        " st AS (INSERT INTO pipeline_stage (pipeline_id, position, name, probability)"
        "   SELECT pl.id, s.ord, s.x ->> 'name', (s.x ->> 'probability')::smallint"
        "   FROM pl, jsonb_array_elements($4::jsonb) WITH ORDINALITY AS s (x, ord)"
        "   RETURNING *)"
        " SELECT jsonb_build_object('id', pl.id, 'name', pl.name,"
        " 'is_default', pl.is_default, 'stages', (SELECT jsonb_agg(jsonb_build_object("
        "   'name', st.name, 'probability', st.probability) ORDER BY st.position)"
        "   FROM st))::text FROM pl",
        1, cb);
}

int sales_store_pipeline_list(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p,
                          "SELECT " SALES_PIPELINE_J "::text FROM pipeline pl"
                          " ORDER BY pl.is_default DESC, pl.created_at, pl.id",
                          0, cb);
}

int sales_store_stage_rename(crm_work_t *w, const char *pipeline_id, const char *stage,
                             const char *new_name, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, pipeline_id);
    crm_params_str(&p, stage);
    crm_params_str(&p, new_name);
    return crm_params_run(&p,
                          "SELECT f.err, f.detail, f.deals FROM sales_stage_rename($1::uuid,"
                          " $2::text, $3::text) f",
                          1, cb);
}

int sales_store_pipeline_get(crm_work_t *w, const char *pipeline_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, pipeline_id);
    return crm_params_run(
        &p, "SELECT " SALES_PIPELINE_J "::text FROM pipeline pl WHERE pl.id = $1::uuid", 0, cb);
}

int sales_store_stage_add(crm_work_t *w, const char *pipeline_id, const char *name, int probability,
                          int position, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, pipeline_id);
    crm_params_str(&p, name);
    crm_params_i64(&p, probability);
    crm_params_i64(&p, position);
    crm_params_i64(&p, SALES_LIST_MAX);
    return crm_params_run(&p,
                          "SELECT f.err, f.detail, f.at_position FROM sales_stage_add($1::uuid,"
                          " $2::text, $3::int, $4::int, $5::int) f",
                          1, cb);
}

int sales_store_stage_move(crm_work_t *w, const char *pipeline_id, const char *stage, int position,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, pipeline_id);
    crm_params_str(&p, stage);
    crm_params_i64(&p, position);
    return crm_params_run(&p,
                          "SELECT f.err, f.detail, f.from_position FROM sales_stage_move($1::uuid,"
                          " $2::text, $3::int) f",
                          1, cb);
}

int sales_store_stage_probability(crm_work_t *w, const char *pipeline_id, const char *stage,
                                  int probability, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, pipeline_id);
    crm_params_str(&p, stage);
    crm_params_i64(&p, probability);
    return crm_params_run(&p,
                          "SELECT f.err, f.detail, f.from_probability, f.deals"
                          " FROM sales_stage_probability($1::uuid, $2::text, $3::int) f",
                          1, cb);
}
