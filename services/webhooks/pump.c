/* pump.c: the delivery engine.
 *
 * One work at a time, "webhooks.pump", runs in the service's batches (the
 * framework's asynchronous database path, so the loop never waits for
 * PostgreSQL). Each run, in one transaction:
 *   1. writes back the outcomes of the attempts that finished since the
 *      last run (delivered, or failed with the time of the next attempt);
 *   2. disables the subscriptions failing for longer than
 *      CRM_WEBHOOK_DISABLE_AFTER and publishes
 *      crm.webhooks.subscription.disabled.v1 for each (the outbox);
 *   3. claims the head of the queue of every enabled subscription that has
 *      nothing in flight, when it is due.
 * Once that committed, the claimed deliveries are POSTed (sender.c), one
 * per subscription at a time, so each subscription gets its events in
 * order: the next waits until the previous one was delivered.
 *
 * Nothing of this is kept only in memory: a delivery is "claimed" only by
 * being in flight in this process, and an outcome not yet written back is
 * simply attempted again after a restart (at least once; the webhook-id
 * header is the same on every attempt, so receivers drop duplicates). */
#include "store.h"
#include "webhooks.h"

#include <crm/db.h>
#include <crm/log.h>
#include <crm/util.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/webhooks.pb-c.h"

#define S_DISABLED_REASON "failed without a success for longer than CRM_WEBHOOK_DISABLE_AFTER"

static void s_attempt_free(wh_attempt_t *a)
{
    if (!a)
        return;
    while (a->chain) {
        wh_attempt_t *c = a->chain;
        a->chain = c->chain;
        c->chain = NULL;
        s_attempt_free(c);
    }
    sodium_memzero(a->key, sizeof a->key);
    free(a->url);
    free(a->event_id);
    free(a->body);
    free(a);
}

static void s_list_free(wh_attempt_t **head)
{
    while (*head) {
        wh_attempt_t *a = *head;
        *head = a->next;
        s_attempt_free(a);
    }
}

static size_t s_list_len(const wh_attempt_t *a)
{
    size_t n = 0;
    for (; a; a = a->next)
        n++;
    return n;
}

/* xorshift64* when CRM_WEBHOOK_JITTER_SEED fixes the draws (tests);
 * libsodium's generator otherwise. */
static uint64_t s_rng(void *arg)
{
    wh_t *ctx = arg;
    if (ctx->rng_state) {
        uint64_t x = ctx->rng_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        ctx->rng_state = x;
        return x * 0x2545F4914F6CDD1DULL;
    }
    uint64_t v;
    randombytes_buf(&v, sizeof v);
    return v;
}

/* ---- sending ------------------------------------------------------------ */

static void s_send(wh_t *ctx, wh_attempt_t *a);

static void s_sent(void *arg, long http_status, const char *error)
{
    wh_attempt_t *a = arg;
    wh_t *ctx = a->ctx;
    for (wh_attempt_t **p = &ctx->flying; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    a->http_status = http_status;
    a->ok = !error && http_status >= 200 && http_status <= 299;
    if (error)
        snprintf(a->error, sizeof a->error, "%s", error);
    else if (!a->ok)
        snprintf(a->error, sizeof a->error, "HTTP status %ld", http_status);
    if (a->ok) {
        ctx->n_delivered++;
        crm_debug("webhook.delivered", "delivery %s of subscription %s", a->id, a->subscription);
    } else {
        ctx->n_failed++;
        int64_t delay = wh_backoff_ms(a->attempts + 1, ctx->base_ms, ctx->cap_ms, s_rng, ctx);
        a->next_us = crm_now_us() + delay * 1000;
        crm_warn("webhook.failed",
                 "delivery %s of subscription %s, attempt %d: %s; next attempt in %lld ms", a->id,
                 a->subscription, a->attempts + 1, a->error, (long long)delay);
    }
    /* The rest of the chain: the next one now if this one was delivered;
     * otherwise they stay in the queue, behind this one. */
    wh_attempt_t *next = a->chain;
    a->chain = NULL;
    a->next = ctx->done;
    ctx->done = a;
    if (next && a->ok && !ctx->stopping)
        s_send(ctx, next);
    else
        s_attempt_free(next);
    wh_pump_kick(ctx);
}

/* Signs and POSTs one claimed delivery. */
static void s_send(wh_t *ctx, wh_attempt_t *a)
{
    char sig[WH_SIGNATURE_LEN], h_id[300], h_ts[64], h_sig[WH_SIGNATURE_LEN + 32];
    int64_t ts = crm_now_us() / 1000000;
    size_t body_len = strlen(a->body);
    int rc = wh_sign(a->key, a->keylen, a->event_id, ts, a->body, body_len, sig);
    snprintf(h_id, sizeof h_id, "webhook-id: %s", a->event_id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", (long long)ts);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
    /* "Expect:" off: libcurl would otherwise wait for a 100 Continue before
     * sending a body over 1 KiB, which many receivers never send. */
    const char *headers[] = {"Content-Type: application/cloudevents+json", h_id, h_ts, h_sig,
                             "Expect:"};
    a->next = ctx->flying;
    ctx->flying = a;
    if (rc < 0 || wh_sender_post(ctx->sender, a->url, headers, sizeof headers / sizeof *headers,
                                 a->body, body_len, s_sent, a) < 0)
        s_sent(a, 0, "could not start the request");
}

/* ---- the pump work -------------------------------------------------------- */

static int s_emit_disabled(crm_work_t *w, const char *id, const char *url, int64_t since_us)
{
    char redacted[WH_URL_MAX + 1];
    wh_url_redact(url, redacted, sizeof redacted);
    Crm__V1__WebhookSubscriptionDisabled d = CRM__V1__WEBHOOK_SUBSCRIPTION_DISABLED__INIT;
    d.subscription_id = (char *)id;
    d.url = redacted;
    d.failing_since_us = since_us;
    d.reason = S_DISABLED_REASON;
    CRM_WORK_EMIT(w, WH_EV_SUBSCRIPTION_DISABLED, NULL,
                  CRM__V1__EVENT__PAYLOAD_WEBHOOK_SUBSCRIPTION_DISABLED,
                  webhook_subscription_disabled, &d);
}

/* One claimed delivery from row i; NULL when memory ran out. */
static wh_attempt_t *s_attempt_new(wh_t *ctx, const PGresult *res, int i)
{
    wh_attempt_t *a = calloc(1, sizeof *a);
    if (!a || !(a->url = strdup(PQgetvalue(res, i, 2))) ||
        !(a->event_id = strdup(PQgetvalue(res, i, 4))) ||
        !(a->body = strdup(PQgetvalue(res, i, 5)))) {
        s_attempt_free(a);
        return NULL;
    }
    a->ctx = ctx;
    snprintf(a->id, sizeof a->id, "%s", PQgetvalue(res, i, 0));
    snprintf(a->subscription, sizeof a->subscription, "%s", PQgetvalue(res, i, 1));
    a->attempts = (int)crm_db_get_int(res, i, 6);
    return a;
}

/* Rows come per subscription, its deliveries in queue order, the
 * subscriptions by the due time of their head (column 7). */
static void s_claimed(crm_work_t *w, PGresult *res)
{
    wh_t *ctx = crm_work_data(w);
    int slots = ctx->max_in_flight - (int)s_list_len(ctx->flying);
    int64_t now = crm_now_us();
    int taken = 0;
    wh_attempt_t *head = NULL, *tail = NULL;
    ctx->wake_us = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        int first = !head || strcmp(head->subscription, PQgetvalue(res, i, 1)) != 0;
        if (first) {
            int64_t next_us = crm_db_get_int(res, i, 7);
            if (next_us > now || taken >= slots) {
                ctx->wake_us = next_us > now ? next_us : now;
                break;
            }
        }
        wh_attempt_t *a = s_attempt_new(ctx, res, i);
        if (!a) {
            crm_work_fail_nomem(w);
            return;
        }
        crm_err_t e;
        if (wh_secret_parse(PQgetvalue(res, i, 3), a->key, &a->keylen, "secret", &e) < 0) {
            /* Checked when stored: only a hand-edited row gets here. */
            crm_error("webhook.secret", "subscription %s has an unreadable secret; skipped",
                      a->subscription);
            s_attempt_free(a);
            continue;
        }
        if (first) {
            a->next = ctx->claimed;
            ctx->claimed = a;
            head = tail = a;
            taken++;
        } else {
            tail->chain = a;
            tail = a;
        }
    }
    crm_work_ok(w, NULL);
}

static void s_claim(crm_work_t *w)
{
    wh_t *ctx = crm_work_data(w);
    int slots = ctx->max_in_flight - (int)s_list_len(ctx->flying);
    if (slots <= 0) {
        crm_work_ok(w, NULL);
        return;
    }
    /* Busy: in flight, or finished with the outcome not written yet. */
    size_t n = s_list_len(ctx->flying) + s_list_len(ctx->done), k = 0;
    char **busy = crm_work_alloc(w, (n ? n : 1) * sizeof *busy);
    if (!busy) {
        crm_work_fail_nomem(w);
        return;
    }
    for (wh_attempt_t *a = ctx->flying; a; a = a->next)
        busy[k++] = a->subscription;
    for (wh_attempt_t *a = ctx->done; a; a = a->next)
        busy[k++] = a->subscription;
    /* One row past the free slots tells when the next one falls due. */
    wh_store_claim(w, busy, k, slots + 1, ctx->batch, s_claimed);
}

static void s_disabled(crm_work_t *w, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = PQgetvalue(res, i, 0);
        if (s_emit_disabled(w, id, PQgetvalue(res, i, 1), crm_db_get_int(res, i, 2)) < 0) {
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                          "could not publish a subscription's disabling", id, NULL);
            return;
        }
        crm_warn("webhook.disabled", "subscription %s disabled: %s", id, S_DISABLED_REASON);
    }
    s_claim(w);
}

static void s_settled(crm_work_t *w, PGresult *res)
{
    (void)res;
    wh_t *ctx = crm_work_data(w);
    wh_store_disable_failing(w, crm_now_us(), ctx->disable_us, S_DISABLED_REASON, s_disabled);
}

static void s_pump(crm_work_t *w)
{
    wh_t *ctx = crm_work_data(w);
    s_list_free(&ctx->claimed); /* an earlier attempt of this work */
    ctx->wake_us = 0;
    if (!ctx->taken) {
        s_settled(w, NULL);
        return;
    }
    json_t *arr = json_array();
    for (wh_attempt_t *a = ctx->taken; arr && a; a = a->next) {
        json_t *o = json_pack("{s:s, s:s, s:b, s:i, s:s, s:I}", "id", a->id, "subscription",
                              a->subscription, "ok", a->ok, "http", (int)a->http_status, "error",
                              a->error, "next_us", (json_int_t)a->next_us);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    wh_store_settle(w, copy, crm_now_us(), s_settled);
}

static void s_wake(uv_timer_t *t)
{
    wh_pump_kick(t->data);
}

static void s_pump_done(crm_service_t *svc, int status, void *arg)
{
    (void)svc;
    wh_t *ctx = arg;
    ctx->pumping = 0;
    if (ctx->stopping) {
        s_list_free(&ctx->taken);
        s_list_free(&ctx->claimed);
        return;
    }
    if (status == 0) {
        s_list_free(&ctx->taken);
        wh_attempt_t *c = ctx->claimed;
        ctx->claimed = NULL;
        while (c) {
            wh_attempt_t *next = c->next;
            s_send(ctx, c);
            c = next;
        }
        if (ctx->wake_us) {
            int64_t ms = (ctx->wake_us - crm_now_us()) / 1000 + 1;
            uv_timer_start(&ctx->wake, s_wake, (uint64_t)(ms > 0 ? ms : 0), 0);
        }
    } else {
        /* Nothing was written: the outcomes go back to be written by the
         * next run (the poll), and nothing claimed is sent. */
        wh_attempt_t **tail = &ctx->taken;
        while (*tail)
            tail = &(*tail)->next;
        *tail = ctx->done;
        ctx->done = ctx->taken;
        ctx->taken = NULL;
        s_list_free(&ctx->claimed);
        crm_warn("webhook.pump", "a delivery pass failed (%d); the next poll tries again", status);
        return;
    }
    if (ctx->pump_again)
        wh_pump_kick(ctx);
}

void wh_pump_kick(wh_t *ctx)
{
    if (ctx->stopping)
        return;
    if (ctx->pumping) {
        ctx->pump_again = 1;
        return;
    }
    ctx->pumping = 1;
    ctx->pump_again = 0;
    ctx->taken = ctx->done;
    ctx->done = NULL;
    if (crm_service_submit(ctx->svc, "webhooks.pump", s_pump, ctx, s_pump_done) < 0) {
        ctx->done = ctx->taken;
        ctx->taken = NULL;
        ctx->pumping = 0;
    }
}

static void s_poll(crm_service_t *svc, void *arg)
{
    (void)svc;
    wh_pump_kick(arg);
}

int wh_pump_start(wh_t *ctx)
{
    const crm_config_t *cfg = crm_service_config(ctx->svc);
    ctx->sender = wh_sender_new(crm_service_loop(ctx->svc),
                                (long)crm_config_int(cfg, "CRM_WEBHOOK_TIMEOUT_MS"));
    if (!ctx->sender)
        return -1;
    uv_timer_init(crm_service_loop(ctx->svc), &ctx->wake);
    ctx->wake.data = ctx;
    ctx->started = 1;
    return crm_service_every(ctx->svc, (uint64_t)crm_config_int(cfg, "CRM_WEBHOOK_POLL_MS"),
                             CRM_EVERY_AT_START, s_poll, ctx);
}

void wh_pump_stop(wh_t *ctx)
{
    ctx->stopping = 1;
    if (!ctx->started) /* the start failed before the engine was up */
        return;
    /* Requests in flight are dropped: their deliveries stay undelivered in
     * the database and are sent again after a restart. */
    wh_sender_close(&ctx->sender);
    s_list_free(&ctx->flying);
    s_list_free(&ctx->done);
    if (!ctx->pumping) {
        s_list_free(&ctx->taken);
        s_list_free(&ctx->claimed);
    }
    uv_timer_stop(&ctx->wake);
    uv_close((uv_handle_t *)&ctx->wake, NULL);
}
