/* reply_mail.c: an agent's public reply goes to the customer by mail, and
 * the customer's answer finds its ticket again (issue 20).
 *
 * Queueing: in the reply's own work, the whole message is built with
 * GMime through common's crm/mime.h, as marketing builds its mail (RFC
 * 5322 headers, RFC 2047 subject and name, a text/plain UTF-8 body in a
 * 7-bit transfer encoding), and written to reply_mail, so that a reply
 * acknowledged is never lost. Its Message-ID names the ticket,
 * "<ticket.<ticket id>.<message id>@<domain>>"; In-Reply-To is the
 * ticket's previous reply (or the ticket's thread root
 * "<ticket.<id>.0@<domain>>") and References the root and every earlier
 * reply, so mail programs thread the conversation and the customer's
 * answer carries ids that mail.c reads back (with "[ticket:<id>]" in the
 * subject as well).
 *
 * Sending: a pump on the loop claims due messages in a work, sends them
 * with crm/smtp.h (libcurl, as marketing does) on a thread-pool thread
 * (never on the loop), then records
 * the outcomes in another work; a failure is tried again later. */
#include "reply_mail.h"

#include "store.h"

#include <crm/db.h>
#include <crm/log.h>
#include <crm/mime.h>
#include <crm/smtp.h>
#include <crm/util.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- building the message ------------------------------------------------------ */

/* id without its angle brackets ("<a@b>" -> "a@b"), in w's arena. */
static char *s_bare_id(crm_work_t *w, const char *id)
{
    size_t n = strlen(id);
    if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
        return crm_work_printf(w, "%.*s", (int)(n - 2), id + 1);
    return crm_work_printf(w, "%s", id);
}

typedef struct {
    Crm__V1__Ticket *t;
    Crm__V1__TicketMessage *m;
    crm_work_cb then;
    void *caller_data; /* the work's data before the queueing, given back */
} s_queue_t;

static void s_queued(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_queue_t *q = crm_work_data(w);
    crm_work_set_data(w, q->caller_data);
    q->then(w, NULL);
}

/* The message is built here, on the loop, in the reply's own work, so that
 * the reply and its mail commit together: GMime's work on one short text
 * part is CPU only, no I/O, and bounded by the body's limit. */
static void s_thread(crm_work_t *w, PGresult *res)
{
    s_queue_t *q = crm_work_data(w);
    support_t *ctx = crm_service_user(crm_work_service(w));
    const char *domain = strchr(ctx->mail_from, '@');
    domain = domain ? domain + 1 : "localhost";
    char *root = crm_work_printf(w, "ticket.%s.0@%s", q->t->id, domain);
    char *mid = crm_work_printf(w, "ticket.%s.%s@%s", q->t->id, q->m->id, domain);
    char *refs = root;
    const char *prev = root;
    for (int i = 0; refs && prev && i < PQntuples(res); i++) {
        prev = s_bare_id(w, PQgetvalue(res, i, 0));
        refs = prev ? crm_work_printf(w, "%s %s", refs, prev) : NULL;
    }
    char *subject = crm_work_printf(w, "Re: %s [ticket:%s]", q->t->subject, q->t->id);
    char *stored_mid = mid ? crm_work_printf(w, "<%s>", mid) : NULL;
    if (!root || !mid || !refs || !prev || !subject || !stored_mid) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_mime_mail_t mm = {
        .from = ctx->mail_from,
        .to = q->t->requester_email,
        .to_name = q->t->requester_name,
        .subject = subject,
        .text = q->m->body,
        .message_id = mid,
        .date_us = crm_now_us(),
        .in_reply_to = prev,
        .references = refs,
    };
    char err[200];
    size_t len;
    char *built = crm_mime_build(&mm, &len, err, sizeof err);
    if (!built) {
        /* An address the mail cannot carry: the reply stays on the ticket. */
        crm_warn("support.mail", "reply %s on ticket %s not mailed: %s", q->m->id, q->t->id, err);
        crm_work_set_data(w, q->caller_data);
        q->then(w, NULL);
        return;
    }
    char *raw = crm_work_printf(w, "%s", built);
    free(built);
    if (!raw) {
        crm_work_fail_nomem(w);
        return;
    }
    char id[CRM_UUID_LEN + 1];
    crm_uuid_new(id);
    support_store_reply_mail_put(w, id, q->t->id, stored_mid, q->t->requester_email, raw,
                                 crm_now_us(), s_queued);
}

void support_reply_mail_queue(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m,
                              crm_work_cb then)
{
    if (!t->requester_email || !*t->requester_email || strpbrk(t->requester_email, "\r\n<>")) {
        then(w, NULL); /* nobody to write to: the reply stays on the ticket */
        return;
    }
    s_queue_t *q = crm_work_alloc(w, sizeof *q);
    if (!q) {
        crm_work_fail_nomem(w);
        return;
    }
    q->t = t;
    q->m = m;
    q->then = then;
    q->caller_data = crm_work_data(w);
    crm_work_set_data(w, q);
    support_store_reply_mail_thread(w, t->id, s_thread);
}

/* ---- sending -------------------------------------------------------------------- */

static void s_batch_clear(support_t *ctx)
{
    for (size_t i = 0; i < ctx->n_mail; i++) {
        free(ctx->mail[i].id);
        free(ctx->mail[i].to);
        free(ctx->mail[i].raw);
    }
    memset(ctx->mail, 0, sizeof ctx->mail);
    ctx->n_mail = 0;
}

static void s_claimed(crm_work_t *w, PGresult *res)
{
    support_t *ctx = crm_service_user(crm_work_service(w));
    s_batch_clear(ctx);
    for (int i = 0; i < PQntuples(res) && i < SUPPORT_MAIL_BATCH; i++) {
        support_mail_out_t *m = &ctx->mail[ctx->n_mail++];
        m->id = strdup(PQgetvalue(res, i, 0));
        m->to = strdup(PQgetvalue(res, i, 1));
        m->raw = strdup(PQgetvalue(res, i, 2));
        if (!m->id || !m->to || !m->raw) {
            s_batch_clear(ctx);
            crm_work_fail_nomem(w);
            return;
        }
    }
    crm_work_ok(w, NULL);
}

static void s_claim(crm_work_t *w)
{
    support_store_reply_mail_due(w, SUPPORT_MAIL_BATCH, crm_now_us(), s_claimed);
}

static void s_recorded(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

static void s_outcome(crm_work_t *w)
{
    support_t *ctx = crm_service_user(crm_work_service(w));
    support_store_reply_mail_outcome(w, ctx->mail_outcomes, crm_now_us(), s_recorded);
}

static void s_outcome_done(crm_service_t *svc, int status, void *arg)
{
    (void)svc;
    support_t *ctx = arg;
    if (status != 0)
        crm_warn("support.mail", "could not record the outcome of sent replies;"
                                 " they stay queued and will be sent again");
    free(ctx->mail_outcomes);
    ctx->mail_outcomes = NULL;
    s_batch_clear(ctx);
    ctx->mail_busy = 0;
}

/* On a pool thread: only the batch and the settings are touched. */
static void s_job(uv_work_t *job)
{
    support_t *ctx = job->data;
    for (size_t i = 0; i < ctx->n_mail; i++) {
        support_mail_out_t *m = &ctx->mail[i];
        m->error[0] = 0;
        m->ok = crm_smtp_send(ctx->smtp_url, ctx->mail_from, m->to, m->raw, strlen(m->raw),
                              m->error, sizeof m->error) == 0;
    }
}

static void s_after(uv_work_t *job, int status)
{
    support_t *ctx = job->data;
    json_t *a = json_array();
    for (size_t i = 0; a && i < ctx->n_mail; i++) {
        support_mail_out_t *m = &ctx->mail[i];
        if (!m->ok)
            crm_warn("support.mail", "reply mail %s not sent, to be tried again: %s", m->id,
                     m->error);
        json_array_append_new(
            a, json_pack("{s:s, s:b, s:s}", "id", m->id, "ok", m->ok, "error", m->error));
    }
    ctx->mail_outcomes = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (status != 0 || !ctx->mail_outcomes ||
        crm_service_submit(ctx->svc, "support.mail.outcome", s_outcome, ctx, s_outcome_done) < 0)
        s_outcome_done(ctx->svc, -1, ctx);
}

static void s_claim_done(crm_service_t *svc, int status, void *arg)
{
    support_t *ctx = arg;
    if (status != 0 || ctx->n_mail == 0) {
        s_batch_clear(ctx);
        ctx->mail_busy = 0;
        return;
    }
    ctx->mail_job.data = ctx;
    if (uv_queue_work(crm_service_loop(svc), &ctx->mail_job, s_job, s_after) < 0) {
        s_batch_clear(ctx);
        ctx->mail_busy = 0;
    }
}

void support_reply_mail_pump(crm_service_t *svc, void *arg)
{
    support_t *ctx = arg;
    if (ctx->mail_busy || !*ctx->smtp_url)
        return;
    if (crm_service_submit(svc, "support.mail.claim", s_claim, ctx, s_claim_done) == 0)
        ctx->mail_busy = 1;
}

void support_reply_mail_close(support_t *ctx)
{
    s_batch_clear(ctx);
    free(ctx->mail_outcomes);
    ctx->mail_outcomes = NULL;
}
