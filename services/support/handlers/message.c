/* handlers/message.c: the conversation on a ticket: an agent's public
 * reply or internal note, the customer's message recorded by an agent, and
 * support.email.receive (mail.c parses the message; an answer to a ticket
 * becomes the customer's message on it, anything else opens a ticket). */
#include "handlers.h"

#include "mail.h"

#include <crm/identity.h>
#include <crm/util.h>

#include <string.h>

static void s_ticket_message(crm_work_t *w, support_action_t act)
{
    const Crm__V1__AddTicketMessageRequest *rq = (const void *)crm_work_request(w);
    support_change_t *st = support_change_new(w, act, rq ? rq->id : NULL);
    if (!st)
        return;
    if (rq->from_customer && act == SUPPORT_ACT_NOTE) {
        crm_work_fail(w, S_INVALID, "from_customer", "a note cannot come from the customer", NULL,
                      "notes are internal; record the customer's message with reply");
        return;
    }
    if (rq->from_customer)
        st->act = SUPPORT_ACT_CUSTOMER_REPLY;
    if (support_text_in(w, rq->author, SUPPORT_NAME_MAX, 0, "author", &st->a) == 0 &&
        support_text_in(w, rq->body, SUPPORT_BODY_MAX, 1, "body", &st->b) == 0) {
        /* An agent's message is signed by the caller; the customer's by
         * the requester (once the ticket is read). */
        if (!*st->a && !rq->from_customer)
            st->a = crm_work_actor(w) ? crm_work_actor(w) : "";
        support_change_start(w, st);
    }
}

void support_ticket_reply(crm_work_t *w)
{
    s_ticket_message(w, SUPPORT_ACT_REPLY);
}

void support_ticket_note(crm_work_t *w)
{
    s_ticket_message(w, SUPPORT_ACT_NOTE);
}

void support_email_receive(crm_work_t *w)
{
    const Crm__V1__ReceiveEmailRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    char email[SUPPORT_EMAIL_LEN];
    if (!rq || !rq->raw.len) {
        crm_work_fail(w, S_INVALID, "raw", "value is required", NULL,
                      "give the message as received, headers and body");
        return;
    }
    support_mail_t *m = crm_work_alloc(w, sizeof *m);
    /* Decoded text is at most 3 bytes of UTF-8 per byte received (a
     * single-byte charset's), plus the attachment notes. */
    size_t cap = 3 * rq->raw.len + 1024;
    char *buf = crm_work_alloc(w, cap);
    if (!m || !buf) {
        crm_work_fail_nomem(w);
        return;
    }
    if (support_mail_parse((const char *)rq->raw.data, rq->raw.len, buf, cap, m, &e) < 0) {
        support_fail(w, &e);
        return;
    }
    if (crm_email_normalize(m->from, email, sizeof email) != 0) {
        crm_work_fail(w, S_INVALID, "raw", "sender address is malformed",
                      crm_work_printf(w, "From: \"%.80s\"", m->from), NULL);
        return;
    }
    const char *start;
    if (crm_trim(m->body, &start) == 0) {
        crm_work_fail(w, S_INVALID, "raw", "email has no text", NULL,
                      "the customer's message is empty once quoted lines are removed");
        return;
    }
    if (crm_check_text(m->body, SUPPORT_BODY_MAX, "raw", &e) < 0) {
        support_fail(w, &e);
        return;
    }
    /* A display name that is no valid name is left out (the requester's
     * name is used instead). */
    if (crm_check_text(m->name, SUPPORT_NAME_MAX, "raw", &e) < 0)
        m->name[0] = 0;
    if (m->ticket_id[0]) {
        /* An answer: the customer's message on that ticket. */
        support_change_t *st =
            support_change_new(w, SUPPORT_ACT_CUSTOMER_REPLY, crm_work_strdup(w, m->ticket_id));
        if (!st)
            return;
        st->a = m->name;
        st->b = m->body;
        if (!(st->sender = crm_work_strdup(w, email))) {
            crm_work_fail_nomem(w);
            return;
        }
        support_change_start(w, st);
        return;
    }
    /* A new request: a ticket on the email channel. */
    Crm__V1__Ticket *src = crm_work_alloc(w, sizeof *src);
    if (!src) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__ticket__init(src);
    src->requester_email = email;
    src->requester_name = m->name;
    src->channel = CRM__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL;
    src->subject = crm_trim(m->subject, &start) ? m->subject : "(no subject)";
    src->description = m->body;
    support_open_start(w, src);
}
