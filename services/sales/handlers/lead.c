/* handlers/lead.c: leads: create, qualify, disqualify and list. Their
 * conversion into a person, an organisation and a deal is lead_convert.c. */
#include "handlers.h"

#include <string.h>

static void s_lead_reply(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadReply r = CRM__V1__LEAD_REPLY__INIT;
    r.lead = l;
    crm_work_ok(w, &r.base);
}

static void s_lead_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Lead *l = crm_work_returned(w, &crm__v1__lead__descriptor, res);
    if (!l || sales_emit_lead_created(w, l) < 0)
        return;
    s_lead_reply(w, l);
}

/* Checks the contact of a new lead: a name or an email, the email and phone
 * normalised. */
static int s_lead_contact(sales_in_t *in, const Crm__V1__Lead *src, Crm__V1__Lead *l)
{
    char buf[SALES_EMAIL_LEN];
    if (sales_in_text(in, src->name, SALES_NAME_MAX, "lead.name", &l->name) < 0)
        return -1;
    if (*src->email) {
        if (sales_check_email(src->email, buf, sizeof buf, "lead.email", &in->e) < 0)
            return -1;
        l->email = sales_in_copy(in, buf, strlen(buf));
    }
    if (*src->phone) {
        if (sales_check_phone(src->phone, buf, SALES_PHONE_LEN, "lead.phone", &in->e) < 0)
            return -1;
        l->phone = sales_in_copy(in, buf, strlen(buf));
    }
    if (!*l->name && !*l->email)
        return sales_err_set(&in->e, SALES_INVALID, "lead.name", "lead needs a name or an email",
                             "send a name, an email or both", NULL);
    return 0;
}

void sales_lead_create(crm_work_t *w)
{
    const Crm__V1__CreateLeadRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Lead *src = rq->lead;
    sales_in_t in = {.w = w};
    Crm__V1__Lead *l = crm_work_alloc(w, sizeof *l);
    char id[CRM_UUID_LEN + 1];
    if (!l) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        sales_invalid(w, "lead", "lead is required", "send at least a name or an email");
        return;
    }
    crm__v1__lead__init(l);
    int rc = s_lead_contact(&in, src, l);
    if (rc == 0)
        rc = sales_in_text(&in, src->company, SALES_NAME_MAX, "lead.company", &l->company);
    if (rc == 0)
        rc = sales_check_enum(&crm__v1__lead_source__descriptor, src->source, 1, "lead.source",
                              &in.e);
    if (rc == 0)
        rc = sales_in_text(&in, src->campaign_id, SALES_NAME_MAX, "lead.campaign_id",
                           &l->campaign_id);
    if (rc == 0 && src->source == CRM__V1__LEAD_SOURCE__LEAD_SOURCE_CAMPAIGN && !*l->campaign_id)
        rc = sales_err_set(&in.e, SALES_INVALID, "lead.campaign_id",
                           "campaign lead needs a campaign id",
                           "send the campaign's id, or another source", NULL);
    if (rc == 0)
        rc = sales_in_text(&in, src->owner, SALES_NAME_MAX, "lead.owner", &l->owner);
    if (rc == 0)
        rc = sales_in_text(&in, src->notes, SALES_BODY_MAX, "lead.notes", &l->notes);
    if (sales_in_done(&in, rc) < 0)
        return;
    if (sales_owner(w, CRM_REC_LEAD, CRM_ACT_CREATE, "lead.owner", &l->owner) < 0)
        return;
    l->source = src->source ? src->source : CRM__V1__LEAD_SOURCE__LEAD_SOURCE_OTHER;
    l->status = CRM__V1__LEAD_STATUS__LEAD_STATUS_NEW;
    crm_uuid_new(id);
    if (!(l->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_lead_insert(w, l, s_lead_inserted);
}

/* qualify and disqualify: one shape, the action in the state. */
typedef struct {
    sales_lead_action_t action;
    const char *id;
    const char *text; /* qualification or reason */
} s_lead_move_t;

static void s_lead_moved(crm_work_t *w, PGresult *res)
{
    s_lead_move_t *st = crm_work_data(w);
    Crm__V1__Lead *l = crm_work_returned(w, &crm__v1__lead__descriptor, res);
    if (!l)
        return;
    int rc = st->action == SALES_LEAD_QUALIFY ? sales_emit_lead_qualified(w, l)
                                              : sales_emit_lead_disqualified(w, l);
    if (rc == 0)
        s_lead_reply(w, l);
}

static void s_lead_move_locked(crm_work_t *w, PGresult *res)
{
    s_lead_move_t *st = crm_work_data(w);
    sales_err_t e;
    int next;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "lead", st->id, "list leads with sales.lead.list");
        return;
    }
    Crm__V1__Lead *l = SALES_LEAD(w, crm_db_get_opt(res, 0, 0));
    if (!l) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!crm_work_may(w, CRM_REC_LEAD, CRM_ACT_EDIT, l->owner)) {
        crm_work_fail_not_found(w, "id", "lead", st->id, "list leads with sales.lead.list");
        return;
    }
    if (sales_lead_next(l->status, st->action, &next, &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    int q = st->action == SALES_LEAD_QUALIFY;
    sales_store_lead_status(w, st->id, next, q ? st->text : NULL, q ? NULL : st->text,
                            s_lead_moved);
}

static void s_lead_move(crm_work_t *w, sales_lead_action_t action, const char *id, const char *text,
                        const char *text_field)
{
    sales_in_t in = {.w = w};
    s_lead_move_t *st = crm_work_alloc(w, sizeof *st);
    char *tid, *ttext;
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    int rc = sales_in_id(&in, id, 1, "id", &tid);
    if (rc == 0)
        rc = action == SALES_LEAD_DISQUALIFY
                 ? sales_in_required(&in, text, SALES_TEXT_MAX, text_field, &ttext)
                 : sales_in_text(&in, text, SALES_TEXT_MAX, text_field, &ttext);
    if (sales_in_done(&in, rc) < 0)
        return;
    st->action = action;
    st->id = tid;
    st->text = ttext;
    crm_work_set_data(w, st);
    sales_store_lead_lock(w, tid, s_lead_move_locked);
}

void sales_lead_qualify(crm_work_t *w)
{
    const Crm__V1__QualifyLeadRequest *rq = (const void *)crm_work_request(w);
    s_lead_move(w, SALES_LEAD_QUALIFY, rq->id, rq->qualification, "qualification");
}

void sales_lead_disqualify(crm_work_t *w)
{
    const Crm__V1__DisqualifyLeadRequest *rq = (const void *)crm_work_request(w);
    s_lead_move(w, SALES_LEAD_DISQUALIFY, rq->id, rq->reason, "reason");
}

static void s_leads_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListLeadsReply r = CRM__V1__LIST_LEADS_REPLY__INIT;
    if (sales_list_rows(w, res, &crm__v1__lead__descriptor, &r.leads, &r.n_leads,
                        &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

void sales_lead_list(crm_work_t *w)
{
    const Crm__V1__ListLeadsRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_enum(&crm__v1__lead_status__descriptor, rq->status, 1, "status", &e) < 0 ||
        sales_check_enum(&crm__v1__lead_source__descriptor, rq->source, 1, "source", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    sales_list_t *l = sales_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_lead_list(w, rq, &l->page, s_leads_listed);
}
