/* handlers/delivery.c: the delivery queue: the consumers that fill it
 * (one delivery per matching subscription, in the transaction of the
 * consumer's position), its listing and the retry of failed deliveries. */
#include "handlers.h"

#include "store.h"

#include <crm/check.h>
#include <crm/cloudevent.h>
#include <crm/db.h>
#include <crm/page.h>
#include <crm/util.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_enqueued(crm_work_t *w, PGresult *res)
{
    if (atoi(PQcmdTuples(res)) > 0)
        wh_pump_kick(wh_ctx(w)); /* runs after this batch, or the poll finds it */
    crm_work_ok(w, NULL);
}

void wh_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;
    char *copy = crm_cloudevent_write(&b, ev) == 0 ? crm_work_strdup(w, b.text) : NULL;
    crm_pbjson_buf_free(&b);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    wh_store_enqueue(w, ev, copy, crm_now_us(), s_enqueued);
}

typedef struct {
    int limit;
} s_list_t;

static void s_listed(crm_work_t *w, PGresult *res)
{
    s_list_t *st = crm_work_data(w);
    int n = PQntuples(res);
    int shown = n > st->limit ? st->limit : n;
    Crm__V1__ListWebhookDeliveriesReply r = CRM__V1__LIST_WEBHOOK_DELIVERIES_REPLY__INIT;
    r.deliveries = (Crm__V1__WebhookDelivery **)crm_work_records(
        w, &crm__v1__webhook_delivery__descriptor, res, 0, shown);
    if (!r.deliveries)
        return;
    r.n_deliveries = (size_t)shown;
    if (n > st->limit)
        r.next_page_token = PQgetvalue(res, shown - 1, 1);
    crm_work_ok(w, &r.base);
}

/* The page token of deliveries: the queue position of the last row, as
 * decimal digits. */
static int s_token(const char *tok, int64_t *after, crm_err_t *e)
{
    *after = 0;
    if (!tok || !*tok)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(tok, &end, 10);
    if (errno || *end || v < 0 || tok[0] == '-' || tok[0] == '+' || strlen(tok) > 19)
        return crm_err_set(e, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "page_token",
                           "page_token is not a token of this list",
                           "send back next_page_token as it came", NULL);
    *after = v;
    return 0;
}

void wh_delivery_list(crm_work_t *w)
{
    const Crm__V1__ListWebhookDeliveriesRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    int64_t after = 0;
    s_list_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (crm_check_id(rq->subscription_id, 0, "subscription_id", &e) < 0 ||
        crm_check_enum(&crm__v1__webhook_delivery_status__descriptor, (int)rq->status, 1, "status",
                       &e) < 0 ||
        crm_page_size(rq->page_size, &st->limit, &e) < 0 ||
        s_token(rq->page_token, &after, &e) < 0) {
        crm_work_fail_err(w, &e);
        return;
    }
    crm_work_set_data(w, st);
    wh_store_delivery_list(w, rq->subscription_id, (int)rq->status, after, st->limit + 1, s_listed);
}

static void s_retried(crm_work_t *w, PGresult *res)
{
    const Crm__V1__RetryWebhookDeliveryRequest *rq = (const void *)crm_work_request(w);
    if (PQgetisnull(res, 0, 0)) {
        if (rq->id[0])
            crm_work_fail_not_found(w, "id", "webhook delivery", rq->id,
                                    "list them with webhooks.delivery.list");
        else
            crm_work_fail_not_found(w, "subscription_id", "webhook subscription",
                                    rq->subscription_id,
                                    "list them with webhooks.subscription.list");
        return;
    }
    if (PQgetvalue(res, 0, 0)[0] != 't') {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION,
                      rq->id[0] ? "id" : "subscription_id", "webhook subscription is disabled",
                      NULL,
                      "enable it (webhooks.subscription.update with enabled true): its "
                      "failed deliveries are then retried at once");
        return;
    }
    long long n = crm_db_get_int(res, 0, 1);
    if (rq->id[0] && n == 0) {
        int status = atoi(PQgetvalue(res, 0, 2));
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION, "id",
                      "webhook delivery has not failed",
                      status == 3 ? "it was delivered" : "it has not been attempted yet",
                      "only failed deliveries are retried");
        return;
    }
    Crm__V1__RetryWebhookDeliveryReply r = CRM__V1__RETRY_WEBHOOK_DELIVERY_REPLY__INIT;
    r.retried = n;
    wh_pump_kick(wh_ctx(w));
    crm_work_ok(w, &r.base);
}

void wh_delivery_retry(crm_work_t *w)
{
    const Crm__V1__RetryWebhookDeliveryRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    if (crm_check_id(rq->id, 0, "id", &e) < 0 ||
        crm_check_id(rq->subscription_id, 0, "subscription_id", &e) < 0) {
        crm_work_fail_err(w, &e);
        return;
    }
    if (!rq->id[0] == !rq->subscription_id[0]) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "id",
                      "give either id or subscription_id", NULL,
                      "id retries one failed delivery, subscription_id every failed one of it");
        return;
    }
    wh_store_delivery_retry(w, rq->id, rq->subscription_id, crm_now_us(), s_retried);
}
