/* handlers/rating.c: support.ticket.rate, the customer's satisfaction
 * with a resolved or closed ticket. */
#include "handlers.h"

void support_ticket_rate(crm_work_t *w)
{
    const Crm__V1__RateTicketRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    support_change_t *st = support_change_new(w, SUPPORT_ACT_RATE, rq ? rq->id : NULL);
    if (!st)
        return;
    if (support_check_rating(rq->rating, "rating", &e) < 0) {
        support_fail(w, &e);
        return;
    }
    st->rating = rq->rating;
    if (support_text_in(w, rq->comment, SUPPORT_TEXT_MAX, 0, "comment", &st->a) == 0)
        support_change_start(w, st);
}
