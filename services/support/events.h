/* events.h: protobuf in and out for support.
 *
 * The store returns records as JSON objects keyed by crm.v1 field names;
 * crm_work_record turns one into its message (the same generic reader
 * as sales'). The emitters wrap a payload in an Event of the right type
 * with the customer id as subject.
 *
 * Memory: every message built here lives in the work's arena (never free
 * it); it is valid until the work ends. */
#ifndef SUPPORT_EVENTS_H
#define SUPPORT_EVENTS_H

#include <crm/service.h>

#include "crm/v1/sales.pb-c.h"
#include "crm/v1/support.pb-c.h"

#define SUPPORT_TICKET(w, t)                                                                       \
    ((Crm__V1__Ticket *)crm_work_record((w), &crm__v1__ticket__descriptor, (t)))

#define SUPPORT_EV_PERSON_REGISTERED "crm.support.person.registered.v1"
#define SUPPORT_EV_TICKET_OPENED "crm.support.ticket.opened.v1"
#define SUPPORT_EV_TICKET_ASSIGNED "crm.support.ticket.assigned.v1"
#define SUPPORT_EV_TICKET_REPLIED "crm.support.ticket.replied.v1"
#define SUPPORT_EV_TICKET_NOTE_ADDED "crm.support.ticket.note_added.v1"
#define SUPPORT_EV_TICKET_STATUS_CHANGED "crm.support.ticket.status_changed.v1"
#define SUPPORT_EV_TICKET_RESOLVED "crm.support.ticket.resolved.v1"
#define SUPPORT_EV_TICKET_REOPENED "crm.support.ticket.reopened.v1"
#define SUPPORT_EV_TICKET_CLOSED "crm.support.ticket.closed.v1"
#define SUPPORT_EV_TICKET_RATED "crm.support.ticket.rated.v1"
#define SUPPORT_EV_SLA_AT_RISK "crm.support.sla.at_risk.v1"
#define SUPPORT_EV_SLA_BREACHED "crm.support.sla.breached.v1"
#define SUPPORT_EV_FEEDBACK_TAGGED "crm.support.feedback.tagged.v1"
#define SUPPORT_EV_TICKET_PRIORITY_CHANGED "crm.support.ticket.priority_changed.v1"

/* Emitters: 0, or negative with the work already failed. */
int support_emit_person_registered(crm_work_t *w, Crm__V1__Person *p);
int support_emit_ticket_opened(crm_work_t *w, const Crm__V1__Ticket *t);
int support_emit_ticket_assigned(crm_work_t *w, Crm__V1__Ticket *t, const char *previous);
int support_emit_ticket_message(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m);
int support_emit_status_changed(crm_work_t *w, Crm__V1__Ticket *t, int from, const char *reason);
int support_emit_ticket_resolved(crm_work_t *w, Crm__V1__Ticket *t);
int support_emit_ticket_reopened(crm_work_t *w, Crm__V1__Ticket *t, const char *reason);
int support_emit_ticket_closed(crm_work_t *w, Crm__V1__Ticket *t);
int support_emit_ticket_rated(crm_work_t *w, Crm__V1__Ticket *t);
int support_emit_priority_changed(crm_work_t *w, Crm__V1__Ticket *t, int from, const char *reason);
/* `breached` 0 = at risk, 1 = breached; target: Crm__V1__SlaTarget. */
int support_emit_sla(crm_work_t *w, Crm__V1__Ticket *t, int target, int breached);
int support_emit_feedback_tagged(crm_work_t *w, const Crm__V1__Ticket *t, char **tags,
                                 size_t n_tags);

#endif
