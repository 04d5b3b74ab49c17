/* handlers/change.c: the one path every command that changes an existing
 * ticket takes (assign, reply, note, the status commands, resolve, rate,
 * prioritize, an emailed answer): lock the ticket with the calendar, ask
 * the status machine (rules.c), apply the action and the SLA clock in
 * memory, save every changed field in one statement, then emit. The
 * command files only check their request and fill a support_change_t. */
#include "handlers.h"

#include "reply_mail.h"

#include "events.h"
#include "store.h"

#include <crm/db.h>
#include <crm/util.h>

#include <string.h>

static void s_change_emit(crm_work_t *w, Crm__V1__Ticket *t)
{
    support_change_t *st = crm_work_data(w);
    const char *reason = st->act == SUPPORT_ACT_PEND || st->act == SUPPORT_ACT_HOLD ||
                                 st->act == SUPPORT_ACT_REOPEN || st->act == SUPPORT_ACT_CLOSE
                             ? st->a
                         : st->act == SUPPORT_ACT_CUSTOMER_REPLY ? "the customer replied"
                                                                 : "";
    if ((int)t->status != st->from && support_emit_status_changed(w, t, st->from, reason) < 0)
        return;
    int rc = 0;
    switch (st->act) {
    case SUPPORT_ACT_ASSIGN:
        rc = support_emit_ticket_assigned(w, t, st->previous);
        break;
    case SUPPORT_ACT_REPLY:
    case SUPPORT_ACT_NOTE:
        rc = support_emit_ticket_message(w, t, st->msg);
        break;
    case SUPPORT_ACT_CUSTOMER_REPLY:
        rc = support_emit_ticket_message(w, t, st->msg);
        if (rc == 0 && st->from == S_STATUS(RESOLVED))
            rc = support_emit_ticket_reopened(w, t, reason);
        break;
    case SUPPORT_ACT_PRIORITY:
        rc = support_emit_priority_changed(w, t, st->prev_priority, st->a);
        break;
    case SUPPORT_ACT_RESOLVE:
        rc = support_emit_ticket_resolved(w, t);
        if (rc == 0 && st->n_added)
            rc = support_emit_feedback_tagged(w, t, st->added, st->n_added);
        break;
    case SUPPORT_ACT_REOPEN:
        /* From pending or on hold it is only a status change. */
        if (st->from == S_STATUS(RESOLVED))
            rc = support_emit_ticket_reopened(w, t, reason);
        break;
    case SUPPORT_ACT_CLOSE:
        rc = support_emit_ticket_closed(w, t);
        break;
    case SUPPORT_ACT_RATE:
        rc = support_emit_ticket_rated(w, t);
        break;
    case SUPPORT_ACT_PEND:
    case SUPPORT_ACT_HOLD:
        break;
    }
    if (rc == 0)
        support_ticket_ok(w, t, st->msg);
}

static void s_change_mailed(crm_work_t *w, PGresult *res)
{
    (void)res;
    support_change_t *st = crm_work_data(w);
    s_change_emit(w, st->t);
}

static void s_change_msg_saved(crm_work_t *w, PGresult *res)
{
    support_change_t *st = crm_work_data(w);
    st->msg = PQntuples(res) == 1 ? crm_work_record(w, &crm__v1__ticket_message__descriptor,
                                                    crm_db_get_opt(res, 0, 0))
                                  : NULL;
    if (!st->msg) {
        crm_work_fail_unreadable(w);
        return;
    }
    /* An agent's public reply goes to the customer by mail (queued in this
     * transaction; reply_mail.c). */
    if (st->act == SUPPORT_ACT_REPLY)
        support_reply_mail_queue(w, st->t, st->msg, s_change_mailed);
    else
        s_change_emit(w, st->t);
}

static void s_change_saved(crm_work_t *w, PGresult *res)
{
    support_change_t *st = crm_work_data(w);
    Crm__V1__Ticket *t = PQntuples(res) == 1 ? SUPPORT_TICKET(w, crm_db_get_opt(res, 0, 0)) : NULL;
    if (!t) {
        crm_work_fail_unreadable(w);
        return;
    }
    st->t = t;
    if (st->msg)
        support_store_message_insert(w, st->msg, s_change_msg_saved);
    else
        s_change_emit(w, t);
}

/* Applies the action to t in memory (the status machine allowed it). */
static int s_change_apply(crm_work_t *w, support_change_t *st, Crm__V1__Ticket *t, int64_t now)
{
    char id[CRM_UUID_LEN + 1];
    switch (st->act) {
    case SUPPORT_ACT_ASSIGN:
        st->previous = t->assignee;
        t->assignee = (char *)st->a;
        if (*st->b)
            t->team = (char *)st->b;
        return 0;
    case SUPPORT_ACT_REPLY:
    case SUPPORT_ACT_NOTE:
    case SUPPORT_ACT_CUSTOMER_REPLY: {
        Crm__V1__TicketMessage *m = crm_work_alloc(w, sizeof *m);
        if (!m)
            return -1;
        crm__v1__ticket_message__init(m);
        crm_uuid_new(id);
        m->id = crm_work_strdup(w, id);
        m->ticket_id = t->id;
        m->kind = st->act == SUPPORT_ACT_REPLY
                      ? CRM__V1__TICKET_MESSAGE_KIND__TICKET_MESSAGE_KIND_PUBLIC_REPLY
                  : st->act == SUPPORT_ACT_NOTE
                      ? CRM__V1__TICKET_MESSAGE_KIND__TICKET_MESSAGE_KIND_INTERNAL_NOTE
                      : CRM__V1__TICKET_MESSAGE_KIND__TICKET_MESSAGE_KIND_CUSTOMER_MESSAGE;
        m->author = (char *)st->a;
        /* The customer's message is signed by the requester. */
        if (st->act == SUPPORT_ACT_CUSTOMER_REPLY && !*m->author)
            m->author = *t->requester_name ? t->requester_name : t->requester_email;
        /* Back from resolved: no longer resolved. */
        if (st->act == SUPPORT_ACT_CUSTOMER_REPLY && t->status == S_STATUS(RESOLVED))
            t->resolved_at_us = 0;
        m->body = (char *)st->b;
        m->created_at_us = now;
        st->msg = m;
        if (st->act == SUPPORT_ACT_REPLY && !t->first_responded_at_us)
            t->first_responded_at_us = now;
        return m->id ? 0 : -1;
    }
    case SUPPORT_ACT_RESOLVE: {
        Crm__V1__TicketResolution *r = crm_work_alloc(w, sizeof *r);
        char **tags = crm_work_alloc(w, (t->n_tags + st->n_tags + 1) * sizeof *tags);
        st->added = crm_work_alloc(w, (st->n_tags + 1) * sizeof *st->added);
        if (!r || !tags || !st->added)
            return -1;
        crm__v1__ticket_resolution__init(r);
        r->category = (char *)st->a;
        r->text = (char *)st->b;
        t->resolution = r;
        t->resolved_at_us = now;
        if (t->n_tags)
            memcpy(tags, t->tags, t->n_tags * sizeof *tags);
        size_t n = t->n_tags;
        for (size_t i = 0; i < st->n_tags; i++) {
            size_t k = 0;
            while (k < n && strcmp(tags[k], st->tags[i]) != 0)
                k++;
            if (k == n)
                tags[n++] = st->added[st->n_added++] = st->tags[i];
        }
        t->tags = tags;
        t->n_tags = n;
        return 0;
    }
    case SUPPORT_ACT_REOPEN:
        t->resolved_at_us = 0;
        return 0;
    case SUPPORT_ACT_RATE: {
        Crm__V1__TicketSatisfaction *s = crm_work_alloc(w, sizeof *s);
        if (!s)
            return -1;
        crm__v1__ticket_satisfaction__init(s);
        s->rating = st->rating;
        s->comment = (char *)st->a;
        s->rated_at_us = now;
        t->satisfaction = s;
        return 0;
    }
    case SUPPORT_ACT_PRIORITY:
    case SUPPORT_ACT_PEND:
    case SUPPORT_ACT_HOLD:
    case SUPPORT_ACT_CLOSE:
        return 0;
    }
    return 0;
}

static void s_change_locked(crm_work_t *w, PGresult *res)
{
    support_change_t *st = crm_work_data(w);
    crm_err_t e;
    int to;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "ticket", st->id, NULL);
        return;
    }
    Crm__V1__Ticket *t = SUPPORT_TICKET(w, crm_db_get_opt(res, 0, 0));
    support_cal_t *cal = support_calendar_read(w, res, 1);
    if (!cal)
        return;
    if (!t) {
        crm_work_fail_unreadable(w);
        return;
    }
    /* A ticket's owner is its assignee (crm/access.h): out of reach it
     * answers as if it did not exist. */
    if (!crm_work_may(w, CRM_REC_TICKET, CRM_ACT_EDIT, t->assignee)) {
        crm_work_fail_not_found(w, "id", "ticket", st->id, NULL);
        return;
    }
    if (st->sender && !crm_db_get_bool(res, 0, 6)) {
        crm_work_fail(w, S_CODE(PERMISSION_DENIED), "raw", "sender is not the ticket's requester",
                      crm_work_printf(w, "%.80s wrote about ticket %s", st->sender, t->id),
                      "the customer must answer from an address support knows for them");
        return;
    }
    if (support_transition(t->status, st->act, &to, "id", &e) < 0) {
        support_fail(w, &e);
        return;
    }
    int64_t now = crm_now_us();
    st->from = t->status;
    if (st->act == SUPPORT_ACT_PRIORITY) {
        Crm__V1__SlaPolicy *pol =
            crm_work_record(w, &crm__v1__sla_policy__descriptor, crm_db_get_opt(res, 0, 5));
        if (!pol) {
            crm_work_fail_unreadable(w);
            return;
        }
        if ((int)t->priority == st->priority) {
            support_ticket_ok(w, t, NULL); /* nothing to change */
            return;
        }
        st->prev_priority = t->priority;
        t->priority = st->priority;
        support_sla_retarget(cal, now, pol->first_response_minutes, pol->resolution_minutes, t);
    }
    if (s_change_apply(w, st, t, now) < 0) {
        crm_work_fail_nomem(w);
        return;
    }
    if (support_clock_runs(st->from) && !support_clock_runs(to))
        support_sla_stop(cal, now, t);
    else if (!support_clock_runs(st->from) && support_clock_runs(to))
        support_sla_resume(cal, now, t);
    t->status = to;
    t->updated_at_us = now;
    support_store_ticket_save(w, t, s_change_saved);
}

/* Starts a change once the request passed its checks. */
void support_change_start(crm_work_t *w, support_change_t *st)
{
    crm_work_set_data(w, st);
    support_store_ticket_lock(w, st->id, st->act == SUPPORT_ACT_PRIORITY ? st->priority : 0,
                              st->sender, s_change_locked);
}

support_change_t *support_change_new(crm_work_t *w, support_action_t act, const char *id)
{
    if (support_id_in(w, id, 1, "id") < 0)
        return NULL;
    support_change_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->act = act;
    st->id = id;
    st->a = st->b = "";
    return st;
}
