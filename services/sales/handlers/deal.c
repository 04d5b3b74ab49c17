/* handlers/deal.c: deals: create, move between stages, win, lose, show
 * with their stage history, and list. */
#include "handlers.h"

#include <string.h>

static void s_deal_reply(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealReply r = CRM__V1__DEAL_REPLY__INIT;
    r.deal = d;
    crm_work_ok(w, &r.base);
}

/* The stages of a pipeline, for the rules. */
static sales_stage_t *s_stages(crm_work_t *w, const Crm__V1__Pipeline *p)
{
    sales_stage_t *v = crm_work_alloc(w, (p->n_stages ? p->n_stages : 1) * sizeof *v);
    for (size_t i = 0; v && i < p->n_stages; i++) {
        v[i].name = p->stages[i]->name;
        v[i].probability = p->stages[i]->probability;
    }
    if (!v)
        crm_work_fail_nomem(w);
    return v;
}

static void s_deal_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Deal *d = crm_work_returned(w, &crm__v1__deal__descriptor, res);
    if (!d || sales_emit_deal_created(w, d) < 0)
        return;
    s_deal_reply(w, d);
}

static void s_deal_context(crm_work_t *w, PGresult *res)
{
    Crm__V1__Deal *d = crm_work_data(w);
    sales_err_t e;
    size_t idx;
    if (!crm_db_get_bool(res, 0, 0)) {
        crm_work_fail_not_found(w, "deal.person_id", "person", d->person_id,
                                "register the person with sales.person.register first");
        return;
    }
    if (!crm_db_get_bool(res, 0, 1)) {
        crm_work_fail_not_found(w, "deal.organization_id", "organization", d->organization_id,
                                "create the organization with sales.org.create first");
        return;
    }
    if (!crm_db_get_bool(res, 0, 3)) {
        crm_work_fail_not_found(w, "deal.lead_id", "lead", d->lead_id,
                                "list leads with sales.lead.list");
        return;
    }
    if (PQgetisnull(res, 0, 2)) {
        if (*d->pipeline_id)
            crm_work_fail_not_found(w, "deal.pipeline_id", "pipeline", d->pipeline_id,
                                    "list pipelines with sales.pipeline.list");
        else
            crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), "deal.pipeline_id",
                          "there is no default pipeline", NULL,
                          "name a pipeline, or create one with is_default set");
        return;
    }
    Crm__V1__Pipeline *p = SALES_PIPELINE(w, crm_db_get_opt(res, 0, 2));
    if (!p) {
        crm_work_fail_unreadable(w);
        return;
    }
    sales_stage_t *stages = s_stages(w, p);
    if (!stages)
        return;
    if (sales_stage_pick(stages, p->n_stages, d->stage, "deal.stage", &idx, &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    d->pipeline_id = p->id;
    d->stage = p->stages[idx]->name;
    if (!d->probability)
        d->probability = p->stages[idx]->probability;
    sales_store_deal_insert(w, d, crm_work_actor(w), s_deal_inserted);
}

void sales_deal_create(crm_work_t *w)
{
    const Crm__V1__CreateDealRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Deal *src = rq->deal;
    sales_in_t in = {.w = w};
    Crm__V1__Deal *d = crm_work_alloc(w, sizeof *d);
    char id[CRM_UUID_LEN + 1];
    if (!d) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        sales_invalid(w, "deal", "deal is required", "send at least a title and a person");
        return;
    }
    crm__v1__deal__init(d);
    d->currency = sales_in_array(&in, 4, 1);
    int rc = sales_in_required(&in, src->title, SALES_NAME_MAX, "deal.title", &d->title);
    if (rc == 0)
        rc = sales_in_id(&in, src->person_id, 0, "deal.person_id", &d->person_id);
    if (rc == 0)
        rc = sales_in_id(&in, src->organization_id, 0, "deal.organization_id", &d->organization_id);
    if (rc == 0 && !*d->person_id && !*d->organization_id)
        rc = sales_err_set(&in.e, SALES_INVALID, "deal.person_id",
                           "deal needs a person or an organization",
                           "send person_id, organization_id or both", NULL);
    if (rc == 0)
        rc = sales_in_id(&in, src->pipeline_id, 0, "deal.pipeline_id", &d->pipeline_id);
    if (rc == 0)
        rc = sales_in_text(&in, src->stage, SALES_NAME_MAX, "deal.stage", &d->stage);
    if (rc == 0)
        rc = sales_check_amount(src->amount_minor, "deal.amount_minor", &in.e);
    if (rc == 0 && d->currency)
        rc = sales_check_currency(src->currency, d->currency, "deal.currency", &in.e);
    if (rc == 0)
        rc = sales_check_probability(src->probability, "deal.probability", &in.e);
    if (rc == 0) {
        d->expected_close_date = sales_in_trimmed(&in, src->expected_close_date);
        rc = crm_check_date_opt(d->expected_close_date, "deal.expected_close_date", &in.e);
    }
    if (rc == 0)
        rc = sales_in_text(&in, src->owner, SALES_NAME_MAX, "deal.owner", &d->owner);
    if (rc == 0)
        rc = sales_in_text(&in, src->next_step, SALES_TEXT_MAX, "deal.next_step", &d->next_step);
    if (rc == 0)
        rc = sales_in_id(&in, src->lead_id, 0, "deal.lead_id", &d->lead_id);
    if (sales_in_done(&in, rc) < 0)
        return;
    if (sales_owner(w, CRM_REC_DEAL, CRM_ACT_CREATE, "deal.owner", &d->owner) < 0)
        return;
    if (!d->currency[0])
        memcpy(d->currency, sales_ctx(w)->currency, 4);
    d->amount_minor = src->amount_minor;
    d->probability = src->probability;
    d->status = CRM__V1__DEAL_STATUS__DEAL_STATUS_OPEN;
    crm_uuid_new(id);
    if (!(d->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, d);
    sales_store_deal_context(w, d->person_id, d->organization_id, d->pipeline_id, d->lead_id,
                             s_deal_context);
}

/* stage, win and lose share the lock-check-write shape. */
typedef enum { S_DEAL_MOVE, S_DEAL_WIN, S_DEAL_LOSE } s_deal_op_t;

typedef struct {
    s_deal_op_t op;
    char *id, *stage, *next_step, *reason;
    int probability;
    const char *from, *to;
} s_deal_change_t;

static void s_deal_changed(crm_work_t *w, PGresult *res)
{
    s_deal_change_t *st = crm_work_data(w);
    Crm__V1__Deal *d = crm_work_returned(w, &crm__v1__deal__descriptor, res);
    if (!d)
        return;
    int rc = st->op == S_DEAL_MOVE  ? sales_emit_deal_stage_changed(w, d, st->from, st->to)
             : st->op == S_DEAL_WIN ? sales_emit_deal_won(w, d)
                                    : sales_emit_deal_lost(w, d);
    if (rc == 0)
        s_deal_reply(w, d);
}

static void s_deal_change_locked(crm_work_t *w, PGresult *res)
{
    s_deal_change_t *st = crm_work_data(w);
    sales_err_t e;
    size_t idx;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "deal", st->id, "list deals with sales.deal.list");
        return;
    }
    Crm__V1__Deal *d = SALES_DEAL(w, crm_db_get_opt(res, 0, 0));
    Crm__V1__Pipeline *p = SALES_PIPELINE(w, crm_db_get_opt(res, 0, 1));
    if (!d || !p) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!crm_work_may(w, CRM_REC_DEAL, CRM_ACT_EDIT, d->owner)) {
        crm_work_fail_not_found(w, "id", "deal", st->id, "list deals with sales.deal.list");
        return;
    }
    if (st->op != S_DEAL_MOVE) {
        if (sales_deal_close(d->status, st->op == S_DEAL_WIN, st->reason, &e) < 0) {
            sales_fail(w, &e);
            return;
        }
        sales_store_deal_close(w, st->id, st->op == S_DEAL_WIN, st->reason, s_deal_changed);
        return;
    }
    sales_stage_t *stages = s_stages(w, p);
    if (!stages)
        return;
    if (sales_deal_move(d->status, stages, p->n_stages, d->stage, st->stage, &idx, &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    st->from = d->stage;
    st->to = p->stages[idx]->name;
    int probability = st->probability ? st->probability : p->stages[idx]->probability;
    sales_store_deal_move(w, st->id, st->from, st->to, probability,
                          *st->next_step ? st->next_step : NULL, crm_work_actor(w), s_deal_changed);
}

static void s_deal_change(crm_work_t *w, s_deal_change_t *st, const char *id, int rc,
                          sales_in_t *in)
{
    if (rc == 0)
        rc = sales_in_id(in, id, 1, "id", &st->id);
    if (sales_in_done(in, rc) < 0)
        return;
    crm_work_set_data(w, st);
    sales_store_deal_lock(w, st->id, s_deal_change_locked);
}

static s_deal_change_t *s_deal_change_new(crm_work_t *w, s_deal_op_t op)
{
    s_deal_change_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    st->op = op;
    st->stage = st->next_step = st->reason = (char *)"";
    return st;
}

void sales_deal_stage(crm_work_t *w)
{
    const Crm__V1__MoveDealRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_deal_change_t *st = s_deal_change_new(w, S_DEAL_MOVE);
    if (!st)
        return;
    int rc = sales_in_required(&in, rq->stage, SALES_NAME_MAX, "stage", &st->stage);
    if (rc == 0)
        rc = sales_check_probability(rq->probability, "probability", &in.e);
    if (rc == 0)
        rc = sales_in_text(&in, rq->next_step, SALES_TEXT_MAX, "next_step", &st->next_step);
    st->probability = rq->probability;
    s_deal_change(w, st, rq->id, rc, &in);
}

void sales_deal_win(crm_work_t *w)
{
    const Crm__V1__WinDealRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_deal_change_t *st = s_deal_change_new(w, S_DEAL_WIN);
    if (st)
        s_deal_change(w, st, rq->id, 0, &in);
}

void sales_deal_lose(crm_work_t *w)
{
    const Crm__V1__LoseDealRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_deal_change_t *st = s_deal_change_new(w, S_DEAL_LOSE);
    if (!st)
        return;
    int rc = sales_in_required(&in, rq->reason, SALES_TEXT_MAX, "reason", &st->reason);
    s_deal_change(w, st, rq->id, rc, &in);
}

static void s_deal_shown(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowDealRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__DealReply *r = NULL;
    if (PQntuples(res) > 0 && !(r = crm_work_returned(w, &crm__v1__deal_reply__descriptor, res)))
        return;
    if (!r || !r->deal || !crm_work_may(w, CRM_REC_DEAL, CRM_ACT_READ, r->deal->owner)) {
        crm_work_fail_not_found(w, "id", "deal", rq->id, "list deals with sales.deal.list");
        return;
    }
    crm_work_ok(w, &r->base);
}

void sales_deal_show(crm_work_t *w)
{
    const Crm__V1__ShowDealRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->id, 1, "id", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    sales_store_deal_show(w, rq->id, s_deal_shown);
}

static void s_deals_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListDealsReply r = CRM__V1__LIST_DEALS_REPLY__INIT;
    if (sales_list_rows(w, res, &crm__v1__deal__descriptor, &r.deals, &r.n_deals,
                        &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

void sales_deal_list(crm_work_t *w)
{
    const Crm__V1__ListDealsRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->pipeline_id, 0, "pipeline_id", &e) < 0 ||
        sales_check_id(rq->person_id, 0, "person_id", &e) < 0 ||
        sales_check_text(rq->stage, SALES_NAME_MAX, "stage", &e) < 0 ||
        sales_check_enum(&crm__v1__deal_status__descriptor, rq->status, 1, "status", &e) < 0 ||
        crm_check_date_opt(rq->close_from, "close_from", &e) < 0 ||
        crm_check_date_opt(rq->close_to, "close_to", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    sales_list_t *l = sales_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_deal_list(w, rq, &l->page, s_deals_listed);
}
