/* pipeline.c: `crmctl pipeline create|list|rename-stage`, `crmctl pipeline
 * stage add|move|probability`, over sales.pipeline.*.
 *
 * A pipeline is an ordered list of stages, each with the win probability
 * deals in it get by default; the service has a default pipeline, and
 * teams add their own (renewals, partnerships). */
#include "sales.h"

#define PIPELINE_CREATE(X)                                                                         \
    X("name", "NAME", "the pipeline's name (required)", 0, "pipeline.name", REQ_STR, REQ_REQUIRED) \
    X("stage", "NAME:PROBABILITY",                                                                 \
      "a stage and its default win probability 0-100, in order (repeat; required)", 1,             \
      "pipeline.stages", REQ_STAGES, REQ_REQUIRED)                                                 \
    REQ_WRITE(X)
#define PIPELINE_LIST(X) REQ_COMMON(X)
#define PIPELINE_RENAME_STAGE(X)                                                                   \
    X("stage", "NAME", "the stage's name now (required)", 0, "stage", REQ_STR, REQ_REQUIRED)       \
    X("to", "NAME", "its new name (required)", 0, "new_name", REQ_STR, REQ_REQUIRED)               \
    REQ_WRITE(X)
#define PIPELINE_STAGE_ADD(X)                                                                      \
    X("name", "NAME", "the new stage's name (required)", 0, "stage.name", REQ_STR, REQ_REQUIRED)   \
    X("probability", "P", "its default win probability 0-100 (required)", 0, "stage.probability",  \
      REQ_PERCENT, REQ_REQUIRED)                                                                   \
    X("position", "N", "where: 1 is first (default: after the last)", 0, "position", REQ_INT, 0)   \
    REQ_WRITE(X)
#define PIPELINE_STAGE_MOVE(X)                                                                     \
    X("stage", "NAME", "the stage to move (required)", 0, "stage", REQ_STR, REQ_REQUIRED)          \
    X("position", "N", "where to: 1 is first (required)", 0, "position", REQ_INT, REQ_REQUIRED)    \
    REQ_WRITE(X)
#define PIPELINE_STAGE_PROBABILITY(X)                                                              \
    X("stage", "NAME", "the stage (required)", 0, "stage", REQ_STR, REQ_REQUIRED)                  \
    X("probability", "P", "its new default win probability 0-100 (required)", 0, "probability",    \
      REQ_PERCENT, REQ_REQUIRED)                                                                   \
    REQ_WRITE(X)

REQ_OPTIONS(pipeline_create, PIPELINE_CREATE);
REQ_OPTIONS(pipeline_list, PIPELINE_LIST);
REQ_OPTIONS(pipeline_rename_stage, PIPELINE_RENAME_STAGE);
REQ_OPTIONS(pipeline_stage_add, PIPELINE_STAGE_ADD);
REQ_OPTIONS(pipeline_stage_move, PIPELINE_STAGE_MOVE);
REQ_OPTIONS(pipeline_stage_probability, PIPELINE_STAGE_PROBABILITY);

static const req_col_t s_pipeline_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"DEFAULT", "is_default", REQ_V_BOOL, REQ_IN_BOTH, NULL},
    {"STAGES", "stages", REQ_V_STAGES, REQ_IN_BOTH, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

const req_verb_t sales_pipeline_create = {
    .command = "sales.pipeline.create",
    .request = &crm__v1__create_pipeline_request__descriptor,
    .reply = &crm__v1__pipeline_reply__descriptor,
    .fields = s_pipeline_create_fields,
    .noun = "pipeline",
    .entity = "pipeline",
    .view = s_pipeline_view,
    .done = "created",
};

const req_verb_t sales_pipeline_list = {
    .command = "sales.pipeline.list",
    .request = &crm__v1__list_pipelines_request__descriptor,
    .reply = &crm__v1__list_pipelines_reply__descriptor,
    .fields = s_pipeline_list_fields,
    .items = "pipelines",
    .noun = "pipeline",
    .view = s_pipeline_view,
};

static const char *const s_pipeline_id_arg[] = {"pipeline_id", NULL};

const req_verb_t sales_pipeline_rename_stage = {
    .command = "sales.pipeline.stage.rename",
    .request = &crm__v1__rename_stage_request__descriptor,
    .reply = &crm__v1__pipeline_reply__descriptor,
    .fields = s_pipeline_rename_stage_fields,
    .positional = s_pipeline_id_arg,
    .min_positional = 1,
    .noun = "pipeline",
    .entity = "pipeline",
    .view = s_pipeline_view,
    .done = "changed",
};

#define PIPELINE_STAGE_VERB(cmd, req, fields_)                                                     \
    .command = "sales.pipeline.stage." cmd, .request = &crm__v1__##req##__descriptor,              \
    .reply = &crm__v1__pipeline_reply__descriptor, .fields = fields_,                              \
    .positional = s_pipeline_id_arg, .min_positional = 1, .noun = "pipeline",                      \
    .entity = "pipeline", .view = s_pipeline_view, .done = "changed"

const req_verb_t sales_pipeline_stage_add = {
    PIPELINE_STAGE_VERB("add", add_stage_request, s_pipeline_stage_add_fields)};
const req_verb_t sales_pipeline_stage_move = {
    PIPELINE_STAGE_VERB("move", move_stage_request, s_pipeline_stage_move_fields)};
const req_verb_t sales_pipeline_stage_probability = {PIPELINE_STAGE_VERB(
    "probability", set_stage_probability_request, s_pipeline_stage_probability_fields)};

SALES_VERB_HANDLER(pipeline_create)
SALES_VERB_HANDLER(pipeline_list)
SALES_VERB_HANDLER(pipeline_rename_stage)
SALES_VERB_HANDLER(pipeline_stage_add)
SALES_VERB_HANDLER(pipeline_stage_move)
SALES_VERB_HANDLER(pipeline_stage_probability)
