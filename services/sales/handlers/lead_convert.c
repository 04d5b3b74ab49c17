/* handlers/lead_convert.c: converting a lead, the longest chain of
 * continuations in sales (lock, read the context, plan with the rules,
 * then write organisation, person, deal and the lead's links), so it has
 * a file of its own. */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

/* Conversion: lead -> person (found or new) + organisation (found or new,
 * when the lead names a company) + open deal, one transaction. */
typedef struct {
    const Crm__V1__ConvertLeadRequest *rq;
    char *id, *title, *stage, *pipeline_id;
    char currency[4];
    Crm__V1__Lead *lead;
    Crm__V1__Person *person;
    Crm__V1__Organization *org;
    Crm__V1__Deal *deal;
    Crm__V1__Pipeline *pipeline;
    sales_convert_plan_t plan;
    int person_created;
} s_convert_t;

static void s_convert_emit(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if (!(st->lead = crm_work_returned(w, &crm__v1__lead__descriptor, res)))
        return;
    if (st->person_created && sales_emit_person_registered(w, st->person) < 0)
        return;
    if (st->plan.create_org && sales_emit_org_created(w, st->org) < 0)
        return;
    if (st->deal && sales_emit_deal_created(w, st->deal) < 0)
        return;
    if (sales_emit_lead_converted(w, st->lead) < 0)
        return;
    Crm__V1__ConvertLeadReply r = CRM__V1__CONVERT_LEAD_REPLY__INIT;
    r.lead = st->lead;
    r.person = st->person;
    r.organization = st->org;
    r.deal = st->deal;
    crm_work_ok(w, &r.base);
}

static void s_convert_link(crm_work_t *w)
{
    s_convert_t *st = crm_work_data(w);
    sales_store_lead_converted(w, st->id, st->person->id, st->org ? st->org->id : "",
                               st->deal ? st->deal->id : "", s_convert_emit);
}

static void s_convert_deal_done(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if ((st->deal = crm_work_returned(w, &crm__v1__deal__descriptor, res)))
        s_convert_link(w);
}

static void s_convert_deal(crm_work_t *w)
{
    s_convert_t *st = crm_work_data(w);
    if (!st->plan.create_deal) {
        s_convert_link(w);
        return;
    }
    const Crm__V1__Stage *stage = st->pipeline->stages[st->plan.stage_index];
    Crm__V1__Deal *d = crm_work_alloc(w, sizeof *d);
    char id[CRM_UUID_LEN + 1];
    if (!d) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__deal__init(d);
    crm_uuid_new(id);
    d->id = crm_work_strdup(w, id);
    d->title = *st->title           ? st->title
               : *st->lead->company ? crm_work_printf(w, "%s", st->lead->company)
               : *st->lead->name    ? crm_work_printf(w, "%s", st->lead->name)
                                    : crm_work_printf(w, "%s", st->lead->email);
    d->person_id = st->person->id;
    d->organization_id = st->org ? st->org->id : (char *)"";
    d->pipeline_id = st->pipeline->id;
    d->stage = stage->name;
    d->amount_minor = st->rq->amount_minor;
    d->currency = st->currency;
    d->probability = stage->probability;
    d->owner = st->lead->owner;
    d->lead_id = st->lead->id;
    if (!d->id || !d->title) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_deal_insert(w, d, crm_work_actor(w), s_convert_deal_done);
}

static void s_convert_person_done(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if (!(st->person = crm_work_returned(w, &crm__v1__person__descriptor, res)))
        return;
    st->person_created = crm_db_get_bool(res, 0, 1);
    s_convert_deal(w);
}

static void s_convert_person(crm_work_t *w)
{
    s_convert_t *st = crm_work_data(w);
    if (!st->plan.create_person) {
        s_convert_deal(w);
        return;
    }
    Crm__V1__Lead *l = st->lead;
    Crm__V1__Person *p = crm_work_alloc(w, sizeof *p);
    char **emails = crm_work_alloc(w, sizeof *emails), **phones = crm_work_alloc(w, sizeof *phones);
    if (!p || !emails || !phones) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__person__init(p);
    p->id = st->plan.person_id;
    p->kind = CRM__V1__PERSON_KIND__PERSON_KIND_PROSPECT;
    p->name = l->name;
    emails[0] = l->email;
    phones[0] = l->phone;
    p->emails = emails;
    p->n_emails = *l->email ? 1 : 0;
    p->phones = phones;
    p->n_phones = *l->phone ? 1 : 0;
    p->organization_id = st->org ? st->org->id : (char *)"";
    p->owner = l->owner;
    sales_store_person_insert(w, p, sales_person_set_fields(p) | SALES_PF_KIND, crm_now_us(),
                              crm_service_name(crm_work_service(w)), s_convert_person_done);
}

static void s_convert_org_done(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if ((st->org = crm_work_returned(w, &crm__v1__organization__descriptor, res)))
        s_convert_person(w);
}

static void s_convert_context(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    sales_err_t e;
    const char *person = crm_db_get_opt(res, 0, 0), *org = crm_db_get_opt(res, 0, 1),
               *pipeline = crm_db_get_opt(res, 0, 2);
    if ((person && !(st->person = SALES_PERSON(w, person))) ||
        (org && !(st->org = SALES_ORG(w, org))) ||
        (pipeline && !(st->pipeline = SALES_PIPELINE(w, pipeline)))) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!st->rq->no_deal && !st->pipeline) {
        if (*st->pipeline_id)
            crm_work_fail_not_found(w, "pipeline_id", "pipeline", st->pipeline_id,
                                    "list pipelines with sales.pipeline.list");
        else
            crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), "pipeline_id",
                          "there is no default pipeline", NULL,
                          "name a pipeline, or create one with is_default set");
        return;
    }
    size_t n = st->pipeline ? st->pipeline->n_stages : 0;
    sales_stage_t *stages = crm_work_alloc(w, (n ? n : 1) * sizeof *stages);
    if (!stages) {
        crm_work_fail_nomem(w);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        stages[i].name = st->pipeline->stages[i]->name;
        stages[i].probability = st->pipeline->stages[i]->probability;
    }
    sales_convert_in_t in = {
        .lead_status = st->lead->status,
        .lead_person_id = st->lead->person_id,
        .lead_email = st->lead->email,
        .lead_company = st->lead->company,
        .found_person_id = st->person ? st->person->id : "",
        .found_org_id = st->org ? st->org->id : "",
        .no_deal = st->rq->no_deal,
        .stages = stages,
        .n_stages = n,
        .stage = st->stage,
    };
    if (sales_convert_plan(&in, &st->plan, &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    /* Everything is checked: from here on, writes. */
    if (st->plan.create_org) {
        Crm__V1__Organization *o = crm_work_alloc(w, sizeof *o);
        char id[CRM_UUID_LEN + 1];
        if (!o) {
            crm_work_fail_nomem(w);
            return;
        }
        crm__v1__organization__init(o);
        crm_uuid_new(id);
        o->id = crm_work_strdup(w, id);
        o->name = st->lead->company;
        o->owner = st->lead->owner;
        if (!o->id) {
            crm_work_fail_nomem(w);
            return;
        }
        sales_store_org_insert(w, o, s_convert_org_done);
        return;
    }
    s_convert_person(w);
}

static void s_convert_locked(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    sales_err_t e;
    int next;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "lead", st->id, "list leads with sales.lead.list");
        return;
    }
    if (!(st->lead = SALES_LEAD(w, crm_db_get_opt(res, 0, 0)))) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!crm_work_may(w, CRM_REC_LEAD, CRM_ACT_EDIT, st->lead->owner)) {
        crm_work_fail_not_found(w, "id", "lead", st->id, "list leads with sales.lead.list");
        return;
    }
    if (sales_lead_next(st->lead->status, SALES_LEAD_CONVERT, &next, &e) < 0) {
        if (st->lead->status == CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED)
            snprintf(e.detail, sizeof e.detail, "converted to person %s%s%s", st->lead->person_id,
                     *st->lead->deal_id ? " and deal " : "", st->lead->deal_id);
        sales_fail(w, &e);
        return;
    }
    sales_store_convert_context(w, st->lead->person_id, st->lead->email, st->lead->company,
                                st->pipeline_id, s_convert_context);
}

void sales_lead_convert(crm_work_t *w)
{
    const Crm__V1__ConvertLeadRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_convert_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    st->rq = rq;
    int rc = sales_in_id(&in, rq->id, 1, "id", &st->id);
    if (rc == 0)
        rc = sales_in_text(&in, rq->deal_title, SALES_NAME_MAX, "deal_title", &st->title);
    if (rc == 0)
        rc = sales_check_amount(rq->amount_minor, "amount_minor", &in.e);
    if (rc == 0)
        rc = sales_check_currency(rq->currency, st->currency, "currency", &in.e);
    if (rc == 0)
        rc = sales_in_id(&in, rq->pipeline_id, 0, "pipeline_id", &st->pipeline_id);
    if (rc == 0)
        rc = sales_in_text(&in, rq->stage, SALES_NAME_MAX, "stage", &st->stage);
    if (sales_in_done(&in, rc) < 0)
        return;
    if (!st->currency[0])
        memcpy(st->currency, sales_ctx(w)->currency, sizeof st->currency);
    crm_work_set_data(w, st);
    sales_store_lead_lock(w, st->id, s_convert_locked);
}
