/* handlers/ticket_status.c: the commands that move a ticket through its
 * statuses (pend, hold, resolve, reopen, close). The status machine itself
 * is support_transition (rules.c); the shared change path is change.c. */
#include "handlers.h"

static void s_ticket_status(crm_work_t *w, support_action_t act)
{
    const Crm__V1__ChangeTicketStatusRequest *rq = (const void *)crm_work_request(w);
    support_change_t *st = support_change_new(w, act, rq ? rq->id : NULL);
    if (st && support_text_in(w, rq->reason, SUPPORT_TEXT_MAX, 0, "reason", &st->a) == 0)
        support_change_start(w, st);
}

void support_ticket_pend(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_PEND);
}

void support_ticket_hold(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_HOLD);
}

void support_ticket_reopen(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_REOPEN);
}

void support_ticket_close(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_CLOSE);
}

void support_ticket_resolve(crm_work_t *w)
{
    const Crm__V1__ResolveTicketRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    support_change_t *st = support_change_new(w, SUPPORT_ACT_RESOLVE, rq ? rq->id : NULL);
    if (!st)
        return;
    if (!rq->resolution) {
        crm_work_fail(w, S_INVALID, "resolution", "value is required", NULL,
                      "say how the ticket was solved: a category and a text");
        return;
    }
    if (support_text_in(w, rq->resolution->category, SUPPORT_TAG_MAX, 1, "resolution.category",
                        &st->a) < 0 ||
        support_text_in(w, rq->resolution->text, SUPPORT_TEXT_MAX, 0, "resolution.text", &st->b) <
            0)
        return;
    if (support_check_tags(w, rq->tags, rq->n_tags, "tags", &st->tags, &e) < 0) {
        support_fail(w, &e);
        return;
    }
    st->n_tags = rq->n_tags;
    support_change_start(w, st);
}
