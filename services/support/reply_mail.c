/* reply_mail.c: an agent's public reply goes to the customer by mail, and
 * the customer's answer finds its ticket again (issue 20).
 *
 * Queueing: in the reply's own work, the whole message is built (RFC 5322
 * headers, a text/plain UTF-8 body) and written to reply_mail, so that a
 * reply acknowledged is never lost. Its Message-ID names the ticket,
 * "<ticket.<ticket id>.<message id>@<domain>>"; In-Reply-To is the
 * ticket's previous reply (or the ticket's thread root
 * "<ticket.<id>.0@<domain>>") and References the root and every earlier
 * reply, so mail programs thread the conversation and the customer's
 * answer carries ids that mail.c reads back (with "[ticket:<id>]" in the
 * subject as well).
 *
 * Sending: a pump on the loop claims due messages in a work, sends them
 * with libcurl on a thread-pool thread (never on the loop), then records
 * the outcomes in another work; a failure is tried again later. This is the
 * minimal support mail of issue 20 (one file): branch mail's common MIME
 * helper is not in this branch. */
#include "reply_mail.h"

#include "store.h"

#include <crm/db.h>
#include <crm/log.h>
#include <crm/util.h>

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- building the message ------------------------------------------------------ */

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The subject as a header value: as it is when printable ASCII, else an
 * RFC 2047 encoded word (UTF-8, base64). CR and LF never pass. */
static char *s_subject(crm_work_t *w, const char *subject, const char *ticket_id)
{
    char *plain = crm_work_printf(w, "Re: %s [ticket:%s]", subject, ticket_id);
    if (!plain)
        return NULL;
    int ascii = 1;
    for (char *p = plain; *p; p++) {
        if (*p == '\r' || *p == '\n')
            *p = ' ';
        if ((unsigned char)*p >= 0x7f || (unsigned char)*p < 0x20)
            ascii = 0;
    }
    if (ascii)
        return plain;
    size_t n = strlen(plain);
    char *out = crm_work_alloc(w, 12 + 4 * (n / 3 + 1) + 3);
    if (!out)
        return NULL;
    size_t o = (size_t)sprintf(out, "=?UTF-8?B?");
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)plain[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)plain[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)plain[i + 2];
        out[o++] = s_b64[v >> 18 & 63];
        out[o++] = s_b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? s_b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? s_b64[v & 63] : '=';
    }
    strcpy(out + o, "?=");
    return out;
}

/* The text with CRLF line ends and dot-stuffing left to the SMTP client
 * (libcurl stuffs dots). */
static char *s_crlf(crm_work_t *w, const char *text)
{
    size_t n = strlen(text), lf = 0;
    for (size_t i = 0; i < n; i++)
        lf += text[i] == '\n';
    char *out = crm_work_alloc(w, n + lf + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\r')
            continue;
        if (text[i] == '\n')
            out[o++] = '\r';
        out[o++] = text[i];
    }
    out[o] = 0;
    return out;
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

static void s_thread(crm_work_t *w, PGresult *res)
{
    s_queue_t *q = crm_work_data(w);
    support_t *ctx = crm_service_user(crm_work_service(w));
    const char *domain = strchr(ctx->mail_from, '@');
    domain = domain ? domain + 1 : "localhost";
    char *root = crm_work_printf(w, "<ticket.%s.0@%s>", q->t->id, domain);
    char *mid = crm_work_printf(w, "<ticket.%s.%s@%s>", q->t->id, q->m->id, domain);
    char *refs = root;
    const char *prev = root;
    for (int i = 0; refs && i < PQntuples(res); i++) {
        prev = PQgetvalue(res, i, 0);
        refs = crm_work_printf(w, "%s %s", refs, prev);
    }
    char date[64];
    time_t now = (time_t)(crm_now_us() / 1000000);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *subject = s_subject(w, q->t->subject, q->t->id);
    char *body = s_crlf(w, q->m->body);
    char id[CRM_UUID_LEN + 1];
    crm_uuid_new(id);
    char *raw = root && mid && refs && subject && body
                    ? crm_work_printf(w,
                                      "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                                      "Message-ID: %s\r\nIn-Reply-To: %s\r\nReferences: %s\r\n"
                                      "MIME-Version: 1.0\r\n"
                                      "Content-Type: text/plain; charset=UTF-8\r\n"
                                      "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
                                      ctx->mail_from, q->t->requester_email, subject, date, mid,
                                      prev, refs, body)
                    : NULL;
    if (!raw) {
        crm_work_fail_nomem(w);
        return;
    }
    support_store_reply_mail_put(w, id, q->t->id, mid, q->t->requester_email, raw, crm_now_us(),
                                 s_queued);
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

typedef struct {
    const char *p;
    size_t left;
} s_reader_t;

static size_t s_read(char *buf, size_t size, size_t n, void *arg)
{
    s_reader_t *r = arg;
    size_t k = size * n < r->left ? size * n : r->left;
    memcpy(buf, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

/* One message through the relay; blocking (a pool thread only). */
static int s_send(const char *url, const char *from, const char *to, const char *raw, char *err,
                  size_t errlen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    s_reader_t r = {raw, strlen(raw)};
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        snprintf(err, errlen, "%s", *ebuf ? ebuf : curl_easy_strerror(rc));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

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
        m->ok =
            s_send(ctx->smtp_url, ctx->mail_from, m->to, m->raw, m->error, sizeof m->error) == 0;
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
