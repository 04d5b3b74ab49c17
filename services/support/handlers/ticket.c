/* handlers/ticket.c: the ticket itself: support.ticket.open (also the
 * path an email that starts a conversation takes), show, list, and the
 * changes of who works on it and how urgent it is (assign, prioritize). */
#include "handlers.h"

#include "events.h"
#include "store.h"

#include <crm/db.h>
#include <crm/identity.h>
#include <crm/page.h>
#include <crm/util.h>

#include <string.h>

/* The ticket and the person as their rows hold them after the insert
 * (support_store_ticket_insert): the values sent, the columns not sent at
 * their defaults; what S_TICKET_J and S_PERSON_J would read back.
 * `customer`: the ticket's customer as stored; `person`: the requester's
 * id when it was registered with the ticket, else NULL. */
static int s_open_as_stored(crm_work_t *w, Crm__V1__Ticket *t, const char *customer,
                            const char *person, Crm__V1__Person **registered)
{
    if (!(t->customer_id = crm_work_strdup(w, customer)))
        return -1;
    Crm__V1__TicketResolution *r = crm_work_alloc(w, sizeof *r);
    Crm__V1__TicketSatisfaction *s = crm_work_alloc(w, sizeof *s);
    if (!r || !s)
        return -1;
    crm__v1__ticket_resolution__init(r);
    crm__v1__ticket_satisfaction__init(s);
    t->resolution = r;
    t->satisfaction = s;
    t->first_responded_at_us = t->resolved_at_us = t->sla_paused_at_us = 0;
    t->first_response_remaining_us = t->resolution_remaining_us = 0;
    t->first_response_at_risk = t->first_response_breached = 0;
    t->resolution_at_risk = t->resolution_breached = 0;
    t->updated_at_us = t->created_at_us;
    if (!person)
        return 0;
    Crm__V1__Person *p = crm_work_alloc(w, sizeof *p);
    char **emails = crm_work_alloc(w, sizeof *emails);
    if (!p || !emails)
        return -1;
    crm__v1__person__init(p);
    if (!(p->id = crm_work_strdup(w, person)))
        return -1;
    p->name = t->requester_name;
    if (*t->requester_email) {
        emails[0] = t->requester_email;
        p->emails = emails;
        p->n_emails = 1;
    }
    p->registered_by = "support";
    p->created_at_us = p->updated_at_us = t->created_at_us;
    *registered = p;
    return 0;
}

void support_open_finish(crm_work_t *w, Crm__V1__Ticket *t, const char *customer,
                         const char *person)
{
    /* The requester support registered with the ticket, if it did. */
    Crm__V1__Person *registered = NULL;
    if (!customer) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (s_open_as_stored(w, t, customer, person, &registered) < 0) {
        crm_work_fail_nomem(w);
        return;
    }
    if (registered && support_emit_person_registered(w, registered) < 0)
        return;
    if (support_emit_ticket_opened(w, t) < 0)
        return;
    if (t->n_tags && support_emit_feedback_tagged(w, t, t->tags, t->n_tags) < 0)
        return;
    support_ticket_ok(w, t, NULL);
}

static void s_open_inserted(crm_work_t *w, PGresult *res)
{
    support_open_t *st = crm_work_data(w);
    if (PQntuples(res) != 1) {
        crm_work_fail_unreadable(w);
        return;
    }
    support_open_finish(w, st->t, crm_db_get_opt(res, 0, 0), crm_db_get_opt(res, 0, 1));
}

int support_open_decide(crm_work_t *w, support_open_t *st, const support_cal_t *cal,
                        const int *targets, const char *person_id, const char *person_name)
{
    Crm__V1__Ticket *t = st->t;
    if (!targets) {
        crm_work_fail_unreadable(w);
        return -1;
    }
    if (*t->customer_id && !person_id) {
        crm_work_fail_not_found(w, "ticket.customer_id", "customer", t->customer_id, NULL);
        return -1;
    }
    t->first_response_target_minutes = targets[0];
    t->resolution_target_minutes = targets[1];
    support_sla_open(cal, t->created_at_us, t);
    if (person_id) {
        t->customer_id = (char *)person_id;
        if (!*t->requester_name)
            t->requester_name = (char *)person_name;
        return 0;
    }
    /* An unknown requester: registered under the identity rule's id, in
     * the ticket's own statement. */
    char id[CRM_UUID_LEN + 1];
    crm_customer_id_for_email(st->email, id);
    if (!(t->customer_id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return -1;
    }
    return 1;
}

static void s_open_context(crm_work_t *w, PGresult *res)
{
    support_open_t *st = crm_work_data(w);
    const char *person = crm_db_get_opt(res, 0, 0);
    Crm__V1__SlaPolicy *pol =
        crm_work_record(w, &crm__v1__sla_policy__descriptor, crm_db_get_opt(res, 0, 1));
    support_cal_t *cal = support_calendar_read(w, res, 2);
    if (!cal)
        return;
    Crm__V1__Person *p = NULL;
    if (person && pol && !(p = crm_work_record(w, &crm__v1__person__descriptor, person))) {
        crm_work_fail_unreadable(w);
        return;
    }
    int targets[2] = {pol ? pol->first_response_minutes : 0, pol ? pol->resolution_minutes : 0};
    int rc =
        support_open_decide(w, st, cal, pol ? targets : NULL, p ? p->id : NULL, p ? p->name : NULL);
    if (rc >= 0)
        support_store_ticket_insert(w, st->t, rc, s_open_inserted);
}

support_open_t *support_open_prepare(crm_work_t *w, const Crm__V1__Ticket *src)
{
    crm_err_t e = {0};
    char email[SUPPORT_EMAIL_LEN];
    if (!src) {
        crm_work_fail(w, S_INVALID, "ticket", "value is required", NULL, "give the ticket to open");
        return NULL;
    }
    email[0] = 0;
    if (support_id_in(w, src->customer_id, 0, "ticket.customer_id") < 0)
        return NULL;
    if (*src->requester_email &&
        crm_email_normalize(src->requester_email, email, sizeof email) != 0) {
        crm_work_fail(w, S_INVALID, "ticket.requester_email", "email is malformed",
                      crm_work_printf(w, "got \"%.80s\"", src->requester_email),
                      "give an address like name@example.com");
        return NULL;
    }
    if (!*src->customer_id && !email[0]) {
        crm_work_fail(w, S_INVALID, "ticket.customer_id",
                      "customer_id or requester_email is required", NULL,
                      "an email is enough: the requester is registered");
        return NULL;
    }
    char **tags = NULL;
    if (crm_check_required(src->subject, SUPPORT_NAME_MAX, "ticket.subject", &e) < 0 ||
        crm_check_text(src->description, SUPPORT_BODY_MAX, "ticket.description", &e) < 0 ||
        crm_check_text(src->requester_name, SUPPORT_NAME_MAX, "ticket.requester_name", &e) < 0 ||
        crm_check_text(src->assignee, SUPPORT_NAME_MAX, "ticket.assignee", &e) < 0 ||
        crm_check_text(src->team, SUPPORT_NAME_MAX, "ticket.team", &e) < 0 ||
        crm_check_enum(&crm__v1__ticket_channel__descriptor, src->channel, 1, "ticket.channel",
                       &e) < 0 ||
        crm_check_enum(&crm__v1__ticket_type__descriptor, src->type, 1, "ticket.type", &e) < 0 ||
        crm_check_enum(&crm__v1__ticket_priority__descriptor, src->priority, 1, "ticket.priority",
                       &e) < 0 ||
        support_check_tags(w, src->tags, src->n_tags, "ticket.tags", &tags, &e) < 0) {
        support_fail(w, &e);
        return NULL;
    }
    support_open_t *st = crm_work_alloc(w, sizeof *st);
    Crm__V1__Ticket *t = crm_work_alloc(w, sizeof *t);
    char id[CRM_UUID_LEN + 1];
    if (!st || !t) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    crm__v1__ticket__init(t);
    crm_uuid_new(id);
    t->id = crm_work_strdup(w, id);
    t->customer_id = (char *)src->customer_id;
    t->requester_email = crm_work_strdup(w, email);
    t->requester_name = support_trimmed(w, src->requester_name);
    t->channel = src->channel;
    t->type = src->type ? src->type : CRM__V1__TICKET_TYPE__TICKET_TYPE_QUESTION;
    t->priority = src->priority ? src->priority : CRM__V1__TICKET_PRIORITY__TICKET_PRIORITY_NORMAL;
    t->status = S_STATUS(NEW);
    t->assignee = support_trimmed(w, src->assignee);
    t->team = support_trimmed(w, src->team);
    t->tags = tags;
    t->n_tags = src->n_tags;
    t->subject = support_trimmed(w, src->subject);
    t->description = support_trimmed(w, src->description);
    t->created_at_us = crm_now_us();
    st->t = t;
    st->email = t->requester_email;
    if (!t->id || !t->requester_email || !t->requester_name || !t->assignee || !t->team ||
        !t->subject || !t->description) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    if (support_check_agent(w, t->assignee, "ticket.assignee") < 0 ||
        support_check_team(w, t->team, "ticket.team") < 0)
        return NULL;
    return st;
}

/* Opens a ticket from `src` (the request's, or one an email made). */
void support_open_start(crm_work_t *w, const Crm__V1__Ticket *src)
{
    support_open_t *st = support_open_prepare(w, src);
    if (!st)
        return;
    crm_work_set_data(w, st);
    support_store_open_context(w, st->t->customer_id, st->email, st->t->priority, s_open_context);
}

void support_ticket_open(crm_work_t *w)
{
    const Crm__V1__OpenTicketRequest *rq = (const void *)crm_work_request(w);
    support_open_start(w, rq ? rq->ticket : NULL);
}

static void s_ticket_shown(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowTicketRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "ticket", rq->id, NULL);
        return;
    }
    Crm__V1__TicketReply *r =
        crm_work_record(w, &crm__v1__ticket_reply__descriptor, crm_db_get_opt(res, 0, 0));
    if (!r) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!r->ticket || !crm_work_may(w, CRM_REC_TICKET, CRM_ACT_READ, r->ticket->assignee)) {
        crm_work_fail_not_found(w, "id", "ticket", rq->id, NULL);
        return;
    }
    crm_work_ok(w, &r->base);
}

void support_ticket_show(crm_work_t *w)
{
    const Crm__V1__ShowTicketRequest *rq = (const void *)crm_work_request(w);
    if (support_id_in(w, rq ? rq->id : NULL, 1, "id") == 0)
        support_store_ticket_show(w, rq->id, s_ticket_shown);
}

static void s_tickets_listed(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ListTicketsRequest *rq = (const void *)crm_work_request(w);
    int size = rq && rq->page_size ? rq->page_size : CRM_PAGE_DEFAULT;
    int n = PQntuples(res);
    Crm__V1__ListTicketsReply r = CRM__V1__LIST_TICKETS_REPLY__INIT;
    if (n > size) { /* one more than a page: there is a next one */
        n = size;
        r.next_page_token = crm_work_alloc(w, CRM_PAGE_TOKEN_LEN);
        if (!r.next_page_token) {
            crm_work_fail_nomem(w);
            return;
        }
        crm_page_token_format(crm_db_get_int(res, n - 1, 1), crm_db_get_str(res, n - 1, 2),
                              r.next_page_token, CRM_PAGE_TOKEN_LEN);
    }
    r.tickets = (Crm__V1__Ticket **)crm_work_records(w, &crm__v1__ticket__descriptor, res, 0, n);
    if (!r.tickets)
        return;
    r.n_tickets = (size_t)n;
    crm_work_ok(w, &r.base);
}

void support_ticket_list(crm_work_t *w)
{
    const Crm__V1__ListTicketsRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__ListTicketsRequest empty = CRM__V1__LIST_TICKETS_REQUEST__INIT;
    crm_err_t e;
    if (!rq)
        rq = &empty;
    if (crm_check_enum(&crm__v1__ticket_status__descriptor, rq->status, 1, "status", &e) < 0 ||
        crm_check_enum(&crm__v1__ticket_priority__descriptor, rq->priority, 1, "priority", &e) <
            0) {
        support_fail(w, &e);
        return;
    }
    if (support_id_in(w, rq->customer_id, 0, "customer_id") < 0)
        return;
    int size;
    if (crm_page_size(rq->page_size, &size, &e) < 0) {
        support_fail(w, &e);
        return;
    }
    int64_t after_us;
    char *after_id = crm_work_alloc(w, CRM_UUID_LEN + 1);
    if (!after_id) {
        crm_work_fail_nomem(w);
        return;
    }
    if (crm_page_token_parse(rq->page_token, &after_us, after_id, &e) < 0) {
        support_fail(w, &e);
        return;
    }
    support_store_ticket_list(w, rq, after_us, after_id, size + 1, s_tickets_listed);
}

void support_ticket_assign(crm_work_t *w)
{
    const Crm__V1__AssignTicketRequest *rq = (const void *)crm_work_request(w);
    support_change_t *st = support_change_new(w, SUPPORT_ACT_ASSIGN, rq ? rq->id : NULL);
    if (st && support_text_in(w, rq->assignee, SUPPORT_NAME_MAX, 1, "assignee", &st->a) == 0 &&
        support_text_in(w, rq->team, SUPPORT_NAME_MAX, 0, "team", &st->b) == 0 &&
        support_check_agent(w, st->a, "assignee") == 0 && support_check_team(w, st->b, "team") == 0)
        support_change_start(w, st);
}

void support_ticket_prioritize(crm_work_t *w)
{
    const Crm__V1__SetTicketPriorityRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    support_change_t *st = support_change_new(w, SUPPORT_ACT_PRIORITY, rq ? rq->id : NULL);
    if (!st)
        return;
    if (crm_check_enum(&crm__v1__ticket_priority__descriptor, rq->priority, 0, "priority", &e) <
        0) {
        support_fail(w, &e);
        return;
    }
    st->priority = rq->priority;
    if (support_text_in(w, rq->reason, SUPPORT_TEXT_MAX, 0, "reason", &st->a) == 0)
        support_change_start(w, st);
}
