/* handlers/subscription.c: webhook subscriptions: create (with a secret
 * shown once), get, list, update (enable, disable, prefixes, URL) and
 * delete. */
#include "handlers.h"

#include "store.h"

#include <crm/check.h>
#include <crm/db.h>
#include <crm/page.h>
#include <crm/util.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_NOT_FOUND_HINT "list the subscriptions with webhooks.subscription.list"

/* The subscription in row 0, or NOT_FOUND for `id`. */
static Crm__V1__WebhookSubscription *s_returned(crm_work_t *w, PGresult *res, const char *id)
{
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "webhook subscription", id, S_NOT_FOUND_HINT);
        return NULL;
    }
    return crm_work_returned(w, &crm__v1__webhook_subscription__descriptor, res);
}

static void s_reply(crm_work_t *w, Crm__V1__WebhookSubscription *s)
{
    Crm__V1__WebhookSubscriptionReply r = CRM__V1__WEBHOOK_SUBSCRIPTION_REPLY__INIT;
    r.subscription = s;
    crm_work_ok(w, &r.base);
}

static void s_created(crm_work_t *w, PGresult *res)
{
    Crm__V1__WebhookSubscription *s =
        crm_work_returned(w, &crm__v1__webhook_subscription__descriptor, res);
    if (!s)
        return;
    s->secret = crm_work_data(w); /* shown this once */
    s_reply(w, s);
}

void wh_subscription_create(crm_work_t *w)
{
    const Crm__V1__CreateWebhookSubscriptionRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    if (wh_check_url(rq->url, "url", &e) < 0 ||
        wh_check_prefixes(rq->event_types, rq->n_event_types, "event_types", &e) < 0 ||
        crm_check_text(rq->description, WH_DESCRIPTION_MAX, "description", &e) < 0 ||
        (rq->secret[0] && wh_secret_parse(rq->secret, NULL, NULL, "secret", &e) < 0)) {
        crm_work_fail_err(w, &e);
        return;
    }
    char *secret;
    if (rq->secret[0]) {
        secret = crm_work_strdup(w, rq->secret);
    } else {
        char made[WH_SECRET_LEN];
        if (wh_secret_new(made) < 0) {
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                          "could not make a secret", NULL, "retry the command");
            return;
        }
        secret = crm_work_strdup(w, made);
        sodium_memzero(made, sizeof made);
    }
    char id[CRM_UUID_LEN + 1];
    crm_uuid_new(id);
    if (!secret) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, secret);
    wh_store_sub_insert(w, id, rq->url, rq->event_types, rq->n_event_types, secret, rq->description,
                        crm_now_us(), s_created);
}

static void s_got(crm_work_t *w, PGresult *res)
{
    Crm__V1__WebhookSubscription *s = s_returned(w, res, crm_work_data(w));
    if (s)
        s_reply(w, s);
}

void wh_subscription_get(crm_work_t *w)
{
    const Crm__V1__WebhookSubscriptionIdRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    if (crm_check_id(rq->id, 1, "id", &e) < 0) {
        crm_work_fail_err(w, &e);
        return;
    }
    crm_work_set_data(w, rq->id);
    wh_store_sub_get(w, rq->id, s_got);
}

static void s_listed(crm_work_t *w, PGresult *res)
{
    int limit = *(int *)crm_work_data(w);
    int n = PQntuples(res);
    int shown = n > limit ? limit : n;
    Crm__V1__ListWebhookSubscriptionsReply r = CRM__V1__LIST_WEBHOOK_SUBSCRIPTIONS_REPLY__INIT;
    r.subscriptions = (Crm__V1__WebhookSubscription **)crm_work_records(
        w, &crm__v1__webhook_subscription__descriptor, res, 0, shown);
    if (!r.subscriptions)
        return;
    r.n_subscriptions = (size_t)shown;
    char tok[CRM_PAGE_TOKEN_LEN];
    if (n > limit) {
        crm_page_token_format(crm_db_get_int(res, shown - 1, 1), PQgetvalue(res, shown - 1, 2), tok,
                              sizeof tok);
        r.next_page_token = tok;
    }
    crm_work_ok(w, &r.base);
}

void wh_subscription_list(crm_work_t *w)
{
    const Crm__V1__ListWebhookSubscriptionsRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    int64_t after_us = 0;
    char after_id[CRM_UUID_LEN + 1];
    int *limit = crm_work_alloc(w, sizeof *limit);
    if (!limit) {
        crm_work_fail_nomem(w);
        return;
    }
    if (crm_page_size(rq->page_size, limit, &e) < 0 ||
        crm_page_token_parse(rq->page_token, &after_us, after_id, &e) < 0) {
        crm_work_fail_err(w, &e);
        return;
    }
    crm_work_set_data(w, limit);
    /* One row more than the page tells whether another page follows. */
    wh_store_sub_list(w, after_us, after_id, *limit + 1, s_listed);
}

static void s_updated(crm_work_t *w, PGresult *res)
{
    Crm__V1__WebhookSubscription *s = s_returned(w, res, crm_work_data(w));
    if (!s)
        return;
    wh_pump_kick(wh_ctx(w)); /* an enabled subscription may have deliveries due */
    s_reply(w, s);
}

void wh_subscription_update(crm_work_t *w)
{
    const Crm__V1__UpdateWebhookSubscriptionRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    if (crm_check_id(rq->id, 1, "id", &e) < 0 ||
        (rq->url[0] && wh_check_url(rq->url, "url", &e) < 0) ||
        (rq->n_event_types &&
         wh_check_prefixes(rq->event_types, rq->n_event_types, "event_types", &e) < 0) ||
        crm_check_text(rq->description, WH_DESCRIPTION_MAX, "description", &e) < 0) {
        crm_work_fail_err(w, &e);
        return;
    }
    int enabled = -1;
    if (rq->enabled_present_case ==
        CRM__V1__UPDATE_WEBHOOK_SUBSCRIPTION_REQUEST__ENABLED_PRESENT_ENABLED)
        enabled = rq->enabled ? 1 : 0;
    if (enabled < 0 && !rq->url[0] && !rq->n_event_types && !rq->description[0]) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, NULL,
                      "nothing to update", NULL, "set enabled, url, event_types or description");
        return;
    }
    crm_work_set_data(w, rq->id);
    wh_store_sub_update(w, rq->id, enabled, rq->url[0] ? rq->url : NULL, rq->event_types,
                        rq->n_event_types, rq->description[0] ? rq->description : NULL,
                        crm_now_us(), s_updated);
}

static void s_deleted(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "webhook subscription", crm_work_data(w),
                                S_NOT_FOUND_HINT);
        return;
    }
    Crm__V1__DeleteWebhookSubscriptionReply r = CRM__V1__DELETE_WEBHOOK_SUBSCRIPTION_REPLY__INIT;
    r.id = PQgetvalue(res, 0, 0);
    r.deliveries_dropped = crm_db_get_int(res, 0, 1);
    crm_work_ok(w, &r.base);
}

void wh_subscription_delete(crm_work_t *w)
{
    const Crm__V1__WebhookSubscriptionIdRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    if (crm_check_id(rq->id, 1, "id", &e) < 0) {
        crm_work_fail_err(w, &e);
        return;
    }
    crm_work_set_data(w, rq->id);
    wh_store_sub_delete(w, rq->id, s_deleted);
}
