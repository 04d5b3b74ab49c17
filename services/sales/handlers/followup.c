/* handlers/followup.c: the consumers that turn other services' signals
 * into sales work: buying intent in marketing responses becomes a lead
 * (sales.intent); churn risk and complaints on a customer with an open deal
 * become a follow-up task for its owner (sales.risk); data-quality findings
 * become a task for the record's owner (sales.quality). */
#include "handlers.h"

#include <stdlib.h>
#include <string.h>

/* ---- consumer: marketing responses that show buying intent ------------------- */

typedef struct {
    const Crm__V1__CampaignResponseRecorded *r;
    char *email, *name, *campaign, *customer;
} s_intent_t;

static void s_intent_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Lead *l = crm_work_returned(w, &crm__v1__lead__descriptor, res);
    if (l && sales_emit_lead_created(w, l) == 0)
        crm_work_ok(w, NULL);
}

static void s_intent_context(crm_work_t *w, PGresult *res)
{
    s_intent_t *st = crm_work_data(w);
    sales_t *ctx = sales_ctx(w);
    char id[CRM_UUID_LEN + 1];
    if (crm_db_get_bool(res, 0, 0)) {
        crm_work_ok(w, NULL); /* an open lead for this contact and campaign exists */
        return;
    }
    long long count = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    const char *pname = crm_db_get_opt(res, 0, 2), *pemail = crm_db_get_opt(res, 0, 3);
    Crm__V1__Lead *l = crm_work_alloc(w, sizeof *l);
    if (!l) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__lead__init(l);
    l->name = *st->name ? st->name : (char *)(pname ? pname : "");
    l->email = *st->email ? st->email : (char *)(pemail ? pemail : "");
    if (!*l->name && !*l->email) {
        crm_warn("sales.intent",
                 "response to campaign %s names no one (customer \"%s\");"
                 " no lead created",
                 st->campaign, st->customer);
        crm_work_ok(w, NULL);
        return;
    }
    crm_uuid_new(id);
    l->id = crm_work_strdup(w, id);
    l->source = CRM__V1__LEAD_SOURCE__LEAD_SOURCE_CAMPAIGN;
    l->campaign_id = st->campaign;
    l->status = CRM__V1__LEAD_STATUS__LEAD_STATUS_NEW;
    l->person_id = st->customer;
    /* Round robin over the configured owners, by campaign leads so far:
     * deterministic, so a replayed event assigns the same owner. */
    l->owner =
        ctx->n_lead_owners ? ctx->lead_owners[count % (long long)ctx->n_lead_owners] : (char *)"";
    const ProtobufCEnumValue *rv =
        protobuf_c_enum_descriptor_get_value(&crm__v1__response_type__descriptor, st->r->response);
    l->notes = crm_work_printf(
        w, "campaign response %s%s%s%s%s", rv ? rv->name + sizeof "RESPONSE_TYPE_" - 1 : "?",
        *st->r->channel ? " via " : "", st->r->channel, *st->r->note ? ": " : "", st->r->note);
    if (!l->id || !l->notes) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_lead_insert(w, l, s_intent_inserted);
}

void sales_intent_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    sales_in_t in = {.w = w};
    char email[SALES_EMAIL_LEN];
    if (ev->payload_case != CRM__V1__EVENT__PAYLOAD_CAMPAIGN_RESPONSE_RECORDED) {
        crm_work_ok(w, NULL);
        return;
    }
    const Crm__V1__CampaignResponseRecorded *r = ev->campaign_response_recorded;
    if (r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_INTERESTED &&
        r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_DEMO_REQUESTED &&
        r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_CONVERTED) {
        crm_work_ok(w, NULL); /* no buying intent */
        return;
    }
    s_intent_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    st->r = r;
    if (sales_in_required(&in, r->campaign_id, SALES_NAME_MAX, "campaign_id", &st->campaign) < 0) {
        sales_in_done(&in, -1); /* dead letter: a response must name its campaign */
        return;
    }
    st->email = (char *)"";
    if (*r->email && sales_check_email(r->email, email, sizeof email, "email", &in.e) == 0)
        st->email = sales_in_copy(&in, email, strlen(email));
    st->name = (char *)"";
    if (sales_check_text(r->name, SALES_NAME_MAX, "name", &in.e) == 0)
        st->name = sales_in_trimmed(&in, r->name);
    st->customer = (char *)(crm_uuid_valid(r->customer_id) ? r->customer_id
                            : crm_uuid_valid(ev->subject)  ? ev->subject
                                                           : "");
    if (sales_in_done(&in, 0) < 0)
        return;
    crm_work_set_data(w, st);
    sales_store_intent_context(w, st->email, st->customer, st->campaign, s_intent_context);
}

/* ---- follow-up tasks: churn risk, complaints, data-quality findings -------------- */

/* Inserts a scheduled TASK about `person_id` (and `deal_id`, NULL or ""
 * for none) for `owner`, due SALES_FOLLOWUP_HOURS from now; `cb` gets the
 * inserted activity as JSON. The strings must outlive the work. Returns
 * 0, or negative after failing the work. */
static int s_task_insert(crm_work_t *w, char *subject, char *body, char *person_id, char *deal_id,
                         char *owner, crm_work_cb cb)
{
    Crm__V1__Activity *a = crm_work_alloc(w, sizeof *a);
    char id[CRM_UUID_LEN + 1];
    if (!a) {
        crm_work_fail_nomem(w);
        return -1;
    }
    crm__v1__activity__init(a);
    crm_uuid_new(id);
    a->id = crm_work_strdup(w, id);
    a->kind = CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_TASK;
    a->subject = subject;
    a->body = body;
    a->person_id = person_id;
    a->deal_id = deal_id ? deal_id : "";
    a->owner = owner;
    a->status = CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED;
    if (!a->id) {
        crm_work_fail_nomem(w);
        return -1;
    }
    return sales_store_activity_insert(w, a, sales_ctx(w)->followup_us, cb);
}

/* ---- consumer: churn risk and complaints on customers with an open deal ------- */

typedef struct {
    char *subject, *body;
    Crm__V1__Deal *deal;
} s_risk_t;

static void s_risk_done(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

static void s_risk_inserted(crm_work_t *w, PGresult *res)
{
    s_risk_t *st = crm_work_data(w);
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (a && sales_emit_activity_scheduled(w, a) == 0)
        sales_store_followup_put(w, a->id, st->deal->person_id, st->deal->owner, s_risk_done);
}

/* One complaint makes a complaint ticket and, often, a churn risk a moment
 * later: both are the same work for the same owner. So a signal about a
 * customer whose owner has an open follow-up made within
 * SALES_FOLLOWUP_COALESCE_HOURS is added to that task, saying why, and
 * makes no second one. */
static void s_risk_open(crm_work_t *w, PGresult *res)
{
    s_risk_t *st = crm_work_data(w);
    Crm__V1__Deal *d = st->deal;
    int hours = sales_ctx(w)->coalesce_hours;
    if (PQntuples(res) == 1) {
        char *text = crm_work_printf(
            w,
            "%s\n%s\n(Added to this task instead of a second one: a follow-up for this"
            " customer and %s was opened within %d hours, SALES_FOLLOWUP_COALESCE_HOURS.)",
            st->subject, st->body, d->owner, hours);
        if (!text) {
            crm_work_fail_nomem(w);
            return;
        }
        sales_store_followup_append(w, crm_db_get_opt(res, 0, 0), text, s_risk_done);
        return;
    }
    if (hours > 0 &&
        !(st->body = crm_work_printf(w,
                                     "%s\n(Further complaints and churn risks of this customer"
                                     " for %s within %d hours are added to this task.)",
                                     st->body, d->owner, hours))) {
        crm_work_fail_nomem(w);
        return;
    }
    s_task_insert(w, st->subject, st->body, d->person_id, d->id, d->owner, s_risk_inserted);
}

static void s_risk_deal(crm_work_t *w, PGresult *res)
{
    s_risk_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_ok(w, NULL); /* no open deal: nothing to follow up */
        return;
    }
    Crm__V1__Deal *d = SALES_DEAL(w, crm_db_get_opt(res, 0, 0));
    if (!d) {
        crm_work_fail_unreadable(w);
        return;
    }
    st->deal = d;
    int hours = sales_ctx(w)->coalesce_hours;
    if (hours > 0)
        sales_store_followup_open(w, d->person_id, d->owner, hours, s_risk_open);
    else
        s_task_insert(w, st->subject, st->body, d->person_id, d->id, d->owner, s_risk_inserted);
}

/* A subject of at most SALES_NAME_MAX bytes, cut at a character boundary. */
static char *s_subject(crm_work_t *w, const char *text)
{
    size_t n = strlen(text);
    if (n > SALES_NAME_MAX) {
        n = SALES_NAME_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    return crm_work_printf(w, "%.*s", (int)n, text);
}

void sales_risk_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const char *customer = NULL;
    char *subject = NULL, *body = NULL;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_CHURN_RISK_RAISED) {
        const Crm__V1__ChurnRiskRaised *c = ev->churn_risk_raised;
        customer = *c->customer_id ? c->customer_id : ev->subject;
        subject = s_subject(
            w, crm_work_printf(w, "Follow up: churn risk raised (score %d)", (int)c->score));
        body = crm_work_printf(w, "Analytics raised the churn risk of this customer to %d.",
                               (int)c->score);
        for (size_t i = 0; body && i < c->n_reasons; i++)
            body = crm_work_printf(w, "%s%s %s", body, i ? ";" : " Reasons:", c->reasons[i]);
    } else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_OPENED) {
        const Crm__V1__TicketOpened *t = ev->ticket_opened;
        if (t->type != CRM__V1__TICKET_TYPE__TICKET_TYPE_COMPLAINT) {
            crm_work_ok(w, NULL); /* only complaints put a deal at risk */
            return;
        }
        customer = *t->customer_id ? t->customer_id : ev->subject;
        subject = s_subject(
            w, crm_work_printf(w, "Follow up: complaint ticket %s: %s", t->ticket_id, t->subject));
        body = crm_work_printf(w, "The customer opened complaint ticket %s (priority %s): %s",
                               t->ticket_id, *t->priority ? t->priority : "none", t->subject);
    } else {
        crm_work_ok(w, NULL);
        return;
    }
    if (!crm_uuid_valid(customer)) {
        crm_warn("sales.risk", "%s event %s names no valid customer (\"%s\"); ignored", ev->type,
                 ev->id, customer);
        crm_work_ok(w, NULL);
        return;
    }
    s_risk_t *st = crm_work_alloc(w, sizeof *st);
    if (!st || !subject || !body) {
        crm_work_fail_nomem(w);
        return;
    }
    st->subject = subject;
    st->body = body;
    st->deal = NULL;
    crm_work_set_data(w, st);
    sales_store_open_deal(w, customer, s_risk_deal);
}

/* ---- consumer: data-quality findings become tasks for their owner ------------- */

/* The finding kinds analytics publishes (docs/analytics.md, "Data
 * quality") and the task subject each becomes. */
static const struct {
    const char *kind, *subject;
} s_dq_kinds[] = {
    {"unreachable", "Data quality: find a way to reach this person"},
    {"duplicate", "Data quality: check a likely duplicate person"},
    {"not_contacted", "Data quality: nobody contacted this person in twelve months"},
    {"deal_without_next_step", "Data quality: give this open deal a next step"},
    {"overdue_activity", "Data quality: overdue activity"},
};

typedef struct {
    const char *kind, *subject;
    char *record, *detail;
} s_dq_t;

static void s_dq_recorded(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

static void s_dq_inserted(crm_work_t *w, PGresult *res)
{
    s_dq_t *st = crm_work_data(w);
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (!a || sales_emit_activity_scheduled(w, a) < 0)
        return;
    sales_store_dq_task_put(w, st->kind, st->record, a->id, s_dq_recorded);
}

static void s_dq_target(crm_work_t *w, PGresult *res)
{
    s_dq_t *st = crm_work_data(w);
    const Crm__V1__Event *ev = crm_work_event(w);
    if (PQntuples(res) == 0) {
        /* The record is not (yet) in sales, a deal has no person to hang
         * a task on, or the finding went stale while it travelled (the
         * deal closed or got a next step, the activity was done): nothing
         * to do, said once in the log. */
        crm_warn("sales.quality",
                 "finding %s on %s (event %s): no such record in sales, or it no longer holds;"
                 " ignored",
                 st->kind, st->record, ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    if (crm_db_get_opt(res, 0, 3)[0] == 't') {
        crm_work_ok(w, NULL); /* the same finding published again: one task is enough */
        return;
    }
    char *body =
        crm_work_printf(w, "Analytics found: %s (%s %s).", st->detail, st->kind, st->record);
    char *person = crm_work_strdup(w, crm_db_get_opt(res, 0, 0));
    char *deal = crm_work_strdup(w, crm_db_get_opt(res, 0, 1));
    char *owner = crm_work_strdup(w, crm_db_get_opt(res, 0, 2));
    char *subject = s_subject(w, st->subject);
    if (!body || !person || !deal || !owner || !subject) {
        crm_work_fail_nomem(w);
        return;
    }
    s_task_insert(w, subject, body, person, deal, owner, s_dq_inserted);
}

void sales_quality_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    if (ev->payload_case != CRM__V1__EVENT__PAYLOAD_DATA_QUALITY_ISSUE_FOUND) {
        crm_work_ok(w, NULL);
        return;
    }
    const Crm__V1__DataQualityIssueFound *f = ev->data_quality_issue_found;
    if (strcmp(f->owning_team, "sales") != 0) {
        crm_work_ok(w, NULL); /* another team's work */
        return;
    }
    const char *subject = NULL;
    for (size_t i = 0; i < sizeof s_dq_kinds / sizeof s_dq_kinds[0]; i++)
        if (!strcmp(f->kind, s_dq_kinds[i].kind))
            subject = s_dq_kinds[i].subject;
    if (!subject || !crm_uuid_valid(f->record_id)) {
        crm_warn("sales.quality",
                 "%s event %s: unknown kind \"%s\" or invalid record id \"%s\"; ignored", ev->type,
                 ev->id, f->kind, f->record_id);
        crm_work_ok(w, NULL);
        return;
    }
    s_dq_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    st->kind = f->kind;
    st->subject = subject;
    st->record = f->record_id;
    st->detail = *f->detail ? f->detail : "no detail";
    crm_work_set_data(w, st);
    sales_store_dq_target(w, f->kind, f->record_id, sales_ctx(w)->dq_owner, s_dq_target);
}
