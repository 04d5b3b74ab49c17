/* handlers/pipeline.c: pipelines: create (at most one default), list, and
 * edit their stages: rename, add, move, change a default probability.
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

/* ---- adding, moving a stage, changing its probability ----------------------------- */

typedef enum { S_EDIT_ADD, S_EDIT_MOVE, S_EDIT_PROBABILITY } s_edit_op_t;

typedef struct {
    s_edit_op_t op;
    char *pipeline_id, *stage;
    int position, probability;
    int before, deals; /* the old position or probability; deals that followed */
} s_edit_t;

static void s_edited_pipeline(crm_work_t *w, PGresult *res)
{
    s_edit_t *st = crm_work_data(w);
    Crm__V1__Pipeline *p =
        PQntuples(res) == 1 ? SALES_PIPELINE(w, crm_db_get_opt(res, 0, 0)) : NULL;
    if (!p) {
        crm_work_fail_unreadable(w);
        return;
    }
    int rc = st->op == S_EDIT_ADD ? sales_emit_stage_added(w, p, st->stage, st->position)
             : st->op == S_EDIT_MOVE
                 ? sales_emit_stage_moved(w, p, st->stage, st->before, st->position)
                 : sales_emit_stage_probability_changed(w, p, st->stage, st->before,
                                                        st->probability, st->deals);
    if (rc < 0)
        return;
    Crm__V1__PipelineReply r = CRM__V1__PIPELINE_REPLY__INIT;
    r.pipeline = p;
    crm_work_ok(w, &r.base);
}

/* The SQL functions check before they write, so an error changed nothing. */
static void s_edited(crm_work_t *w, PGresult *res)
{
    s_edit_t *st = crm_work_data(w);
    const char *err = crm_db_get_opt(res, 0, 0);
    const char *detail = crm_db_get_opt(res, 0, 1);
    if (err && !strcmp(err, "not_found")) {
        crm_work_fail_not_found(w, "pipeline_id", "pipeline", st->pipeline_id,
                                "list pipelines with sales.pipeline.list");
    } else if (err && !strcmp(err, "no_stage")) {
        crm_work_fail(w, SALES_CODE(NOT_FOUND), "stage", "stage does not exist", detail,
                      "list the pipeline's stages with sales.pipeline.list");
    } else if (err && !strcmp(err, "collides")) {
        crm_work_fail(w, SALES_CODE(ALREADY_EXISTS), "stage.name", "stage name is taken", detail,
                      "choose a name no other stage of the pipeline has");
    } else if (err && !strcmp(err, "position")) {
        crm_work_fail(w, SALES_INVALID, "position", "position is out of range", detail,
                      "positions count from 1, in the order of the pipeline's stages");
    } else if (err) {
        crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), "pipeline_id",
                      "pipeline has too many stages", detail, "a pipeline has at most 50 stages");
    } else {
        int v = atoi(PQgetvalue(res, 0, 2));
        if (st->op == S_EDIT_ADD)
            st->position = v;
        else
            st->before = v;
        if (st->op == S_EDIT_PROBABILITY)
            st->deals = atoi(PQgetvalue(res, 0, 3));
        sales_store_pipeline_get(w, st->pipeline_id, s_edited_pipeline);
    }
}

/* Reads the pipeline and stage name of every edit into a new s_edit_t;
 * NULL with the work failed. */
static s_edit_t *s_edit_start(crm_work_t *w, sales_in_t *in, s_edit_op_t op,
                              const char *pipeline_id, const char *stage, const char *stage_field,
                              int *rc)
{
    s_edit_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->op = op;
    *rc = sales_in_id(in, pipeline_id, 1, "pipeline_id", &st->pipeline_id);
    if (*rc == 0)
        *rc = sales_in_required(in, stage, SALES_NAME_MAX, stage_field, &st->stage);
    return st;
}

void sales_stage_add(crm_work_t *w)
{
    const Crm__V1__AddStageRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    int rc;
    if (!rq->stage) {
        sales_invalid(w, "stage", "stage is required", "send the stage's name and probability");
        return;
    }
    s_edit_t *st =
        s_edit_start(w, &in, S_EDIT_ADD, rq->pipeline_id, rq->stage->name, "stage.name", &rc);
    if (!st)
        return;
    if (rc == 0)
        rc = sales_check_probability(rq->stage->probability, "stage.probability", &in.e);
    if (rc == 0 && rq->position < 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "position", "position is out of range",
                           "positions count from 1; 0 adds the stage after the last", "got %d",
                           (int)rq->position);
    if (sales_in_done(&in, rc) < 0)
        return;
    st->probability = rq->stage->probability;
    crm_work_set_data(w, st);
    sales_store_stage_add(w, st->pipeline_id, st->stage, st->probability, rq->position, s_edited);
}

void sales_stage_move(crm_work_t *w)
{
    const Crm__V1__MoveStageRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    int rc;
    s_edit_t *st = s_edit_start(w, &in, S_EDIT_MOVE, rq->pipeline_id, rq->stage, "stage", &rc);
    if (!st)
        return;
    if (rc == 0 && rq->position < 1)
        rc = sales_err_set(&in.e, SALES_INVALID, "position", "position is out of range",
                           "positions count from 1", "got %d", (int)rq->position);
    if (sales_in_done(&in, rc) < 0)
        return;
    st->position = rq->position;
    crm_work_set_data(w, st);
    sales_store_stage_move(w, st->pipeline_id, st->stage, st->position, s_edited);
}

void sales_stage_probability(crm_work_t *w)
{
    const Crm__V1__SetStageProbabilityRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    int rc;
    s_edit_t *st =
        s_edit_start(w, &in, S_EDIT_PROBABILITY, rq->pipeline_id, rq->stage, "stage", &rc);
    if (!st)
        return;
    if (rc == 0)
        rc = sales_check_probability(rq->probability, "probability", &in.e);
    if (sales_in_done(&in, rc) < 0)
        return;
    st->probability = rq->probability;
    crm_work_set_data(w, st);
    sales_store_stage_probability(w, st->pipeline_id, st->stage, st->probability, s_edited);
}
