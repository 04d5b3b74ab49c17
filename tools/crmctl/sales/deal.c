/* deal.c: `crmctl deal create|stage|win|lose|show|list`, over
 * sales.deal.*.
 *
 * A deal moves between the stages of its pipeline until it is won or lost;
 * show prints the stage history, oldest first. */
#include "sales.h"

#define DEAL_CREATE(X)                                                                             \
    X("title", "TITLE", "what is being sold (required)", 0, "deal.title", REQ_STR, REQ_REQUIRED)   \
    X("person", "ID", "the customer (required)", 0, "deal.person_id", REQ_STR, REQ_REQUIRED)       \
    X("org", "ID", "the customer's organisation", 0, "deal.organization_id", REQ_STR, 0)           \
    X("pipeline", "ID", "pipeline (default: the default pipeline)", 0, "deal.pipeline_id",         \
      REQ_STR, 0)                                                                                  \
    X("stage", "NAME", "stage (default: the pipeline's first)", 0, "deal.stage", REQ_STR, 0)       \
    X("amount", "AMOUNT", "amount (1234.50)", 0, "deal.amount_minor", REQ_MONEY, 0)                \
    X("currency", "CODE", "ISO 4217 currency of the amount (EUR)", 0, "deal.currency", REQ_STR, 0) \
    X("probability", "P", "win probability 0-100 (default: the stage's)", 0, "deal.probability",   \
      REQ_PERCENT, 0)                                                                              \
    X("close", "DATE", "expected close date, YYYY-MM-DD", 0, "deal.expected_close_date", REQ_DATE, \
      0)                                                                                           \
    X("owner", "OWNER", "staff member responsible", 0, "deal.owner", REQ_STR, 0)                   \
    X("next-step", "TEXT", "the next step", 0, "deal.next_step", REQ_STR, 0)                       \
    REQ_WRITE(X)
#define DEAL_STAGE(X)                                                                              \
    X("probability", "P", "win probability 0-100 (default: the stage's)", 0, "probability",        \
      REQ_PERCENT, 0)                                                                              \
    X("next-step", "TEXT", "the next step", 0, "next_step", REQ_STR, 0)                            \
    REQ_WRITE(X)
#define DEAL_WIN(X) REQ_WRITE(X)
#define DEAL_LOSE(X)                                                                               \
    X("reason", "TEXT", "why it was lost (required)", 0, "reason", REQ_STR, REQ_REQUIRED)          \
    REQ_WRITE(X)
#define DEAL_SHOW(X) REQ_COMMON(X)
#define DEAL_LIST(X)                                                                               \
    X("owner", "OWNER", "only deals of this owner", 0, "owner", REQ_STR, 0)                        \
    X("pipeline", "ID", "only deals in this pipeline", 0, "pipeline_id", REQ_STR, 0)               \
    X("stage", "NAME", "only deals in this stage", 0, "stage", REQ_STR, 0)                         \
    X("status", "STATUS", "open, won or lost", 0, "status", REQ_ENUM, 0)                           \
    X("person", "ID", "only deals with this person", 0, "person_id", REQ_STR, 0)                   \
    X("close-from", "DATE", "expected to close on or after DATE", 0, "close_from", REQ_DATE, 0)    \
    X("close-to", "DATE", "expected to close on or before DATE", 0, "close_to", REQ_DATE, 0)       \
    REQ_PAGING(X)

REQ_OPTIONS(deal_create, DEAL_CREATE);
REQ_OPTIONS(deal_stage, DEAL_STAGE);
REQ_OPTIONS(deal_win, DEAL_WIN);
REQ_OPTIONS(deal_lose, DEAL_LOSE);
REQ_OPTIONS(deal_show, DEAL_SHOW);
REQ_OPTIONS(deal_list, DEAL_LIST);

const req_col_t sales_deal_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"TITLE", "title", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"STAGE", "stage", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__deal_status__descriptor},
    {"AMOUNT", "amount_minor", REQ_V_MONEY, REQ_IN_BOTH, NULL},
    {"PROBABILITY", "probability", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CLOSE", "expected_close_date", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"OWNER", "owner", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"PERSON", "person_id", REQ_V_PERSON, REQ_IN_RECORD, NULL},
    {"ORGANIZATION", "organization_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"PIPELINE", "pipeline_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"NEXT STEP", "next_step", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"LOST REASON", "lost_reason", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"LEAD", "lead_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CLOSED", "closed_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"UPDATED", "updated_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* One DealStageChanged of the history. */
static const req_col_t s_history_view[] = {
    {"FROM", "from_stage", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"TO", "to_stage", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"PROBABILITY", "deal.probability", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"AT", "deal.updated_at_us", REQ_V_DATETIME, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const char *const s_stage_args[] = {"id", "stage", NULL};

#define DEAL_ON_ID(cmd, req, fields, done)                                                         \
    REQ_ON_ID("sales.deal." cmd, &crm__v1__##req##__descriptor, &crm__v1__deal_reply__descriptor,  \
              fields, "deal", sales_deal_view, done)

const req_verb_t sales_deal_create = {
    .command = "sales.deal.create",
    .request = &crm__v1__create_deal_request__descriptor,
    .reply = &crm__v1__deal_reply__descriptor,
    .fields = s_deal_create_fields,
    .noun = "deal",
    .entity = "deal",
    .view = sales_deal_view,
    .done = "created",
    .names = 1,
};

const req_verb_t sales_deal_stage = {
    .command = "sales.deal.stage",
    .request = &crm__v1__move_deal_request__descriptor,
    .reply = &crm__v1__deal_reply__descriptor,
    .fields = s_deal_stage_fields,
    .positional = s_stage_args,
    .min_positional = 2,
    .noun = "deal",
    .entity = "deal",
    .view = sales_deal_view,
    .done = "moved",
    .names = 1,
};

const req_verb_t sales_deal_win = {DEAL_ON_ID("win", win_deal_request, s_deal_win_fields, "won")};
const req_verb_t sales_deal_lose = {
    DEAL_ON_ID("lose", lose_deal_request, s_deal_lose_fields, "lost")};

const req_verb_t sales_deal_show = {
    DEAL_ON_ID("show", show_deal_request, s_deal_show_fields, NULL),
    .sub = "history",
    .sub_title = "stage history",
    .sub_view = s_history_view,
};

const req_verb_t sales_deal_list = {
    .command = "sales.deal.list",
    .request = &crm__v1__list_deals_request__descriptor,
    .reply = &crm__v1__list_deals_reply__descriptor,
    .fields = s_deal_list_fields,
    .items = "deals",
    .noun = "deal",
    .view = sales_deal_view,
};

SALES_VERB_HANDLER(deal_create)
SALES_VERB_HANDLER(deal_stage)
SALES_VERB_HANDLER(deal_win)
SALES_VERB_HANDLER(deal_lose)
SALES_VERB_HANDLER(deal_show)
SALES_VERB_HANDLER(deal_list)
