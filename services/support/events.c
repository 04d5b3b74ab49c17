/* events.c: records to protobuf messages, and the events support emits.
 *
 * Records arrive from the store as JSON objects keyed by field name and
 * are turned into messages by walking the message descriptor (the reader
 * is sales' one: a copy until it moves to common/, see the session note).
 * Everything is allocated in the work's arena. */
#include "events.h"

#include <crm/log.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/support.pb-c.h"

/* ---- emitters ------------------------------------------------------------- */

#define S_CASE(x) CRM__V1__EVENT__PAYLOAD_##x

int support_emit_person_registered(crm_work_t *w, Crm__V1__Person *p)
{
    Crm__V1__PersonRegistered pl = CRM__V1__PERSON_REGISTERED__INIT;
    pl.person = p;
    CRM_WORK_EMIT(w, SUPPORT_EV_PERSON_REGISTERED, p->id, S_CASE(PERSON_REGISTERED),
                  person_registered, &pl);
}

int support_emit_ticket_opened(crm_work_t *w, const Crm__V1__Ticket *t)
{
    static const char *const prio[] = {"", "low", "normal", "high", "urgent"};
    Crm__V1__TicketOpened pl = CRM__V1__TICKET_OPENED__INIT;
    pl.ticket_id = t->id;
    pl.customer_id = t->customer_id;
    pl.type = t->type;
    pl.subject = t->subject;
    pl.priority = (char *)(t->priority >= 0 && t->priority <= 4 ? prio[t->priority] : "");
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_OPENED, t->customer_id, S_CASE(TICKET_OPENED), ticket_opened,
                  &pl);
}

int support_emit_ticket_assigned(crm_work_t *w, Crm__V1__Ticket *t, const char *previous)
{
    Crm__V1__TicketAssigned pl = CRM__V1__TICKET_ASSIGNED__INIT;
    pl.ticket = t;
    pl.previous_assignee = (char *)previous;
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_ASSIGNED, t->customer_id, S_CASE(TICKET_ASSIGNED),
                  ticket_assigned, &pl);
}

static int s_emit_note(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m)
{
    Crm__V1__TicketNoteAdded pl = CRM__V1__TICKET_NOTE_ADDED__INIT;
    pl.ticket = t;
    pl.message = m;
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_NOTE_ADDED, t->customer_id, S_CASE(TICKET_NOTE_ADDED),
                  ticket_note_added, &pl);
}

int support_emit_ticket_message(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m)
{
    if (m->kind == CRM__V1__TICKET_MESSAGE_KIND__TICKET_MESSAGE_KIND_INTERNAL_NOTE)
        return s_emit_note(w, t, m);
    Crm__V1__TicketReplied pl = CRM__V1__TICKET_REPLIED__INIT;
    pl.ticket = t;
    pl.message = m;
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_REPLIED, t->customer_id, S_CASE(TICKET_REPLIED),
                  ticket_replied, &pl);
}

int support_emit_status_changed(crm_work_t *w, Crm__V1__Ticket *t, int from, const char *reason)
{
    Crm__V1__TicketStatusChanged pl = CRM__V1__TICKET_STATUS_CHANGED__INIT;
    pl.ticket = t;
    pl.from_status = from;
    pl.to_status = t->status;
    pl.reason = (char *)(reason ? reason : "");
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_STATUS_CHANGED, t->customer_id,
                  S_CASE(TICKET_STATUS_CHANGED), ticket_status_changed, &pl);
}

int support_emit_ticket_resolved(crm_work_t *w, Crm__V1__Ticket *t)
{
    Crm__V1__TicketResolved pl = CRM__V1__TICKET_RESOLVED__INIT;
    pl.ticket = t;
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_RESOLVED, t->customer_id, S_CASE(TICKET_RESOLVED),
                  ticket_resolved, &pl);
}

int support_emit_ticket_reopened(crm_work_t *w, Crm__V1__Ticket *t, const char *reason)
{
    Crm__V1__TicketReopened pl = CRM__V1__TICKET_REOPENED__INIT;
    pl.ticket = t;
    pl.reason = (char *)(reason ? reason : "");
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_REOPENED, t->customer_id, S_CASE(TICKET_REOPENED),
                  ticket_reopened, &pl);
}

int support_emit_ticket_closed(crm_work_t *w, Crm__V1__Ticket *t)
{
    Crm__V1__TicketClosed pl = CRM__V1__TICKET_CLOSED__INIT;
    pl.ticket = t;
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_CLOSED, t->customer_id, S_CASE(TICKET_CLOSED), ticket_closed,
                  &pl);
}

int support_emit_ticket_rated(crm_work_t *w, Crm__V1__Ticket *t)
{
    Crm__V1__TicketRated pl = CRM__V1__TICKET_RATED__INIT;
    pl.ticket = t;
    if (t->satisfaction) {
        pl.rating = t->satisfaction->rating;
        pl.comment = t->satisfaction->comment;
    }
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_RATED, t->customer_id, S_CASE(TICKET_RATED), ticket_rated,
                  &pl);
}

int support_emit_priority_changed(crm_work_t *w, Crm__V1__Ticket *t, int from, const char *reason)
{
    Crm__V1__TicketPriorityChanged pl = CRM__V1__TICKET_PRIORITY_CHANGED__INIT;
    pl.ticket = t;
    pl.from_priority = from;
    pl.to_priority = t->priority;
    pl.reason = (char *)(reason ? reason : "");
    CRM_WORK_EMIT(w, SUPPORT_EV_TICKET_PRIORITY_CHANGED, t->customer_id,
                  S_CASE(TICKET_PRIORITY_CHANGED), ticket_priority_changed, &pl);
}

static int s_emit_breached(crm_work_t *w, Crm__V1__Ticket *t, int target, int64_t due)
{
    Crm__V1__SlaBreached pl = CRM__V1__SLA_BREACHED__INIT;
    pl.ticket = t;
    pl.target = target;
    pl.due_us = due;
    CRM_WORK_EMIT(w, SUPPORT_EV_SLA_BREACHED, t->customer_id, S_CASE(SLA_BREACHED), sla_breached,
                  &pl);
}

int support_emit_sla(crm_work_t *w, Crm__V1__Ticket *t, int target, int breached)
{
    int fr = target == CRM__V1__SLA_TARGET__SLA_TARGET_FIRST_RESPONSE;
    int64_t due = fr ? t->first_response_due_us : t->resolution_due_us;
    if (breached)
        return s_emit_breached(w, t, target, due);
    Crm__V1__SlaAtRisk pl = CRM__V1__SLA_AT_RISK__INIT;
    pl.ticket = t;
    pl.target = target;
    pl.due_us = due;
    CRM_WORK_EMIT(w, SUPPORT_EV_SLA_AT_RISK, t->customer_id, S_CASE(SLA_AT_RISK), sla_at_risk, &pl);
}

int support_emit_feedback_tagged(crm_work_t *w, const Crm__V1__Ticket *t, char **tags,
                                 size_t n_tags)
{
    Crm__V1__FeedbackTagged pl = CRM__V1__FEEDBACK_TAGGED__INIT;
    pl.ticket_id = t->id;
    pl.customer_id = t->customer_id;
    pl.tags = tags;
    pl.n_tags = n_tags;
    pl.type = t->type;
    CRM_WORK_EMIT(w, SUPPORT_EV_FEEDBACK_TAGGED, t->customer_id, S_CASE(FEEDBACK_TAGGED),
                  feedback_tagged, &pl);
}
