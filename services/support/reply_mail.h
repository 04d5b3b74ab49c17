/* reply_mail.h: agents' replies to the customer by mail, threaded
 * (reply_mail.c). */
#ifndef SUPPORT_REPLY_MAIL_H
#define SUPPORT_REPLY_MAIL_H

#include "support.h"

#include "crm/v1/support.pb-c.h"

/* In the reply's work: queues reply `m` on ticket `t` as a mail to the
 * requester (nothing when the ticket has no requester address), then
 * calls then(w, NULL) with the work's data as it was. Fails the work on
 * ENOMEM. */
void support_reply_mail_queue(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m,
                              crm_work_cb then);

/* The pump (crm_service_every): claims due mails, sends them on the thread
 * pool, records the outcomes. Does nothing without SUPPORT_SMTP_URL. */
void support_reply_mail_pump(crm_service_t *svc, void *arg);

/* Frees what a batch still holds (after the loop ended). */
void support_reply_mail_close(support_t *ctx);

#endif
