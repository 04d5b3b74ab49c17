/* handlers/support.c: the consumer of support's ticket and feedback events
 * (marketing.support), kept as signals for segment rules. */
#include "handlers.h"

#include <crm/log.h>
#include <crm/util.h>

static void s_ticket_kept(crm_work_t *w, PGresult *res)
{
    mkt_member_refresh(w, crm_work_data(w), mkt_applied);
}

/* The Ticket an event of support carries whole, or NULL. */
static const Crm__V1__Ticket *s_event_ticket(const Crm__V1__Event *ev)
{
    switch (ev->payload_case) {
    case CRM__V1__EVENT__PAYLOAD_TICKET_ASSIGNED:
        return ev->ticket_assigned->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_REPLIED:
        return ev->ticket_replied->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_NOTE_ADDED:
        return ev->ticket_note_added->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_STATUS_CHANGED:
        return ev->ticket_status_changed->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_RESOLVED:
        return ev->ticket_resolved->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_REOPENED:
        return ev->ticket_reopened->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_CLOSED:
        return ev->ticket_closed->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_RATED:
        return ev->ticket_rated->ticket;
    default:
        return NULL;
    }
}

void mkt_support_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const char *id = NULL, *customer = NULL;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_OPENED) {
        id = ev->ticket_opened->ticket_id;
        customer = ev->ticket_opened->customer_id;
    } else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_FEEDBACK_TAGGED) {
        id = ev->feedback_tagged->ticket_id;
        customer = ev->feedback_tagged->customer_id;
    } else {
        const Crm__V1__Ticket *t = s_event_ticket(ev);
        if (!t) {
            crm_work_ok(w, NULL); /* another support event: nothing segments read */
            return;
        }
        id = t->id;
        customer = t->customer_id;
    }
    if (!crm_uuid_valid(id) || !crm_uuid_valid(customer)) {
        crm_warn("marketing.support", "%s event %s names no valid ticket or customer id; ignored",
                 ev->type, ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    crm_work_set_data(w, (void *)customer);
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_OPENED) {
        mkt_store_ticket_put(w, id, customer, (int)ev->ticket_opened->type,
                             CRM__V1__TICKET_STATUS__TICKET_STATUS_NEW, NULL, 0, 0, 0,
                             s_ticket_kept);
        return;
    }
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_FEEDBACK_TAGGED) {
        const Crm__V1__FeedbackTagged *f = ev->feedback_tagged;
        mkt_store_ticket_tag(w, id, customer, (int)f->type, f->tags, f->n_tags, s_ticket_kept);
        return;
    }
    const Crm__V1__Ticket *t = s_event_ticket(ev);
    int rating = t->satisfaction ? t->satisfaction->rating : 0;
    int64_t rated_at = t->satisfaction ? t->satisfaction->rated_at_us : 0;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_RATED) {
        rating = ev->ticket_rated->rating;
        if (!rated_at)
            rated_at = ev->time_us;
    }
    if (rating < 1 || rating > 5)
        rating = 0;
    mkt_store_ticket_put(w, id, customer, (int)t->type, (int)t->status, t->tags, t->n_tags, rating,
                         rated_at, s_ticket_kept);
}
