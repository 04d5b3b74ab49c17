/* handlers/pipeline.c: pipelines: create (at most one default), list and
 * rename a stage.
 * Deals read their stages; the stage rules are in rules.c. */
#include "handlers.h"

#include <stdlib.h>
#include <string.h>

static void s_pipeline_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Pipeline *p = crm_work_returned(w, &crm__v1__pipeline__descriptor, res);
    if (!p || sales_emit_pipeline_created(w, p) < 0)
        return;
    Crm__V1__PipelineReply r = CRM__V1__PIPELINE_REPLY__INIT;
    r.pipeline = p;
    crm_work_ok(w, &r.base);
}

static void s_pipeline_undefaulted(crm_work_t *w, PGresult *res)
{
    sales_store_pipeline_insert(w, crm_work_data(w), s_pipeline_inserted);
}

static void s_pipeline_named(crm_work_t *w, PGresult *res)
{
    Crm__V1__Pipeline *p = crm_work_data(w);
    if (PQntuples(res) > 0) {
        crm_work_fail(
            w, SALES_CODE(ALREADY_EXISTS), "pipeline.name", "pipeline already exists",
            crm_work_printf(w, "pipeline %s is named \"%s\"", crm_db_get_opt(res, 0, 0), p->name),
            "choose another name");
        return;
    }
    if (p->is_default)
        sales_store_pipeline_undefault(w, s_pipeline_undefaulted);
    else
        sales_store_pipeline_insert(w, p, s_pipeline_inserted);
}

void sales_pipeline_create(crm_work_t *w)
{
    const Crm__V1__CreatePipelineRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    sales_err_t e;
    if (!rq->pipeline) {
        sales_invalid(w, "pipeline", "pipeline is required", "send a name and its stages in order");
        return;
    }
    if (sales_pipeline_check(rq->pipeline, &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    size_t n = rq->pipeline->n_stages;
    Crm__V1__Pipeline *p = sales_in_array(&in, 1, sizeof *p);
    Crm__V1__Stage **sv = sales_in_array(&in, n, sizeof *sv);
    Crm__V1__Stage *stages = sales_in_array(&in, n, sizeof *stages);
    char id[CRM_UUID_LEN + 1];
    if (in.oom) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__pipeline__init(p);
    crm_uuid_new(id);
    p->id = sales_in_copy(&in, id, strlen(id));
    p->name = sales_in_trimmed(&in, rq->pipeline->name);
    p->is_default = rq->pipeline->is_default;
    for (size_t i = 0; i < n; i++) {
        crm__v1__stage__init(&stages[i]);
        stages[i].name = sales_in_trimmed(&in, rq->pipeline->stages[i]->name);
        stages[i].probability = rq->pipeline->stages[i]->probability;
        sv[i] = &stages[i];
    }
    p->stages = sv;
    p->n_stages = n;
    if (sales_in_done(&in, 0) < 0)
        return;
    crm_work_set_data(w, p);
    sales_store_pipeline_by_name(w, p->name, s_pipeline_named);
}

static void s_pipelines_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListPipelinesReply r = CRM__V1__LIST_PIPELINES_REPLY__INIT;
    int n = PQntuples(res);
    r.pipelines =
        (Crm__V1__Pipeline **)crm_work_records(w, &crm__v1__pipeline__descriptor, res, 0, n);
    if (!r.pipelines)
        return;
    r.n_pipelines = (size_t)n;
    crm_work_ok(w, &r.base);
}

void sales_pipeline_list(crm_work_t *w)
{
    sales_store_pipeline_list(w, s_pipelines_listed);
}

/* ---- renaming a stage ------------------------------------------------------------ */

typedef struct {
    char *pipeline_id, *stage, *new_name;
    int deals;
} s_rename_t;

static void s_renamed_pipeline(crm_work_t *w, PGresult *res)
{
    s_rename_t *st = crm_work_data(w);
    Crm__V1__Pipeline *p =
        PQntuples(res) == 1 ? SALES_PIPELINE(w, crm_db_get_opt(res, 0, 0)) : NULL;
    if (!p) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (sales_emit_stage_renamed(w, p, st->stage, st->new_name, st->deals) < 0)
        return;
    Crm__V1__PipelineReply r = CRM__V1__PIPELINE_REPLY__INIT;
    r.pipeline = p;
    crm_work_ok(w, &r.base);
}

static void s_renamed(crm_work_t *w, PGresult *res)
{
    s_rename_t *st = crm_work_data(w);
    const char *err = crm_db_get_opt(res, 0, 0);
    const char *detail = crm_db_get_opt(res, 0, 1);
    if (err && !strcmp(err, "not_found")) {
        crm_work_fail_not_found(w, "pipeline_id", "pipeline", st->pipeline_id,
                                "list pipelines with sales.pipeline.list");
        return;
    }
    if (err && !strcmp(err, "no_stage")) {
        crm_work_fail(w, SALES_CODE(NOT_FOUND), "stage", "stage does not exist", detail,
                      "list the pipeline's stages with sales.pipeline.list");
        return;
    }
    if (err) {
        crm_work_fail(w, SALES_CODE(ALREADY_EXISTS), "new_name", "stage name is taken", detail,
                      "choose a name no other stage of the pipeline has");
        return;
    }
    st->deals = atoi(PQgetvalue(res, 0, 2));
    sales_store_pipeline_get(w, st->pipeline_id, s_renamed_pipeline);
}

void sales_stage_rename(crm_work_t *w)
{
    const Crm__V1__RenameStageRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_rename_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    int rc = sales_in_id(&in, rq->pipeline_id, 1, "pipeline_id", &st->pipeline_id);
    if (rc == 0)
        rc = sales_in_required(&in, rq->stage, SALES_NAME_MAX, "stage", &st->stage);
    if (rc == 0)
        rc = sales_in_required(&in, rq->new_name, SALES_NAME_MAX, "new_name", &st->new_name);
    if (sales_in_done(&in, rc) < 0)
        return;
    st->deals = 0;
    crm_work_set_data(w, st);
    sales_store_stage_rename(w, st->pipeline_id, st->stage, st->new_name, s_renamed);
}
