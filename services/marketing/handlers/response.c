/* handlers/response.c: campaign responses (marketing.response.record): the
 * person found or registered by email, opt-outs applied, segments refreshed. */
#include "handlers.h"

#include <crm/db.h>
#include <crm/identity.h>
#include <crm/util.h>

#include <ctype.h>
#include <string.h>

typedef struct {
    Crm__V1__CampaignResponseRecorded r; /* normalised copy of the request's */
    char email[256];
    int channels[MKT_LIST_MAX];
    size_t n_channels;
    int registered;
    char *response_id;
    mkt_response_done_fn done; /* mkt_response_apply's; NULL: answer the command */
    void *arg;
} s_resp_t;

static void s_resp_done(crm_work_t *w)
{
    s_resp_t *st = crm_work_data(w);
    if (st->done) {
        crm_work_set_data(w, st->arg);
        st->done(w, st->arg, st->response_id);
        return;
    }
    Crm__V1__ResponseReply r = CRM__V1__RESPONSE_REPLY__INIT;
    r.response_id = st->response_id;
    r.response = &st->r;
    r.person_registered = st->registered;
    crm_work_ok(w, &r.base);
}

/* Whether the unsubscribe of st covers `channel`: the channel it came
 * through, else every channel of the campaign. */
static int s_resp_unsubscribed_from(const s_resp_t *st, int channel)
{
    int one = mkt_channel_from_name(st->r.channel);
    if (one)
        return channel == one;
    for (size_t i = 0; i < st->n_channels; i++)
        if (st->channels[i] == channel)
            return 1;
    return 0;
}

static void s_resp_withdrawn(crm_work_t *w, PGresult *res)
{
    int n = PQntuples(res);
    Crm__V1__ConsentEntry **k = (Crm__V1__ConsentEntry **)crm_work_records(
        w, &crm__v1__consent_entry__descriptor, res, 0, n);
    if (!k)
        return;
    for (int i = 0; i < n; i++)
        if (mkt_emit_consent(w, k[i]) < 0)
            return;
    s_resp_done(w);
}

static void s_resp_opted_out(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    Crm__V1__ContactPreferences *p =
        crm_work_returned(w, &crm__v1__contact_preferences__descriptor, res);
    if (!p)
        return;
    if (crm_db_get_bool(res, 0, 1) && mkt_emit_preferences_changed(w, p, "response") < 0)
        return;
    /* An unsubscribe also withdraws the consent of each channel's purpose
     * in the ledger (source response), so that the history shows it; a
     * purpose already withdrawn gets no second entry. */
    int purposes[MKT_LIST_MAX];
    size_t n = 0;
    for (size_t i = 0; i < p->n_opted_out && n < MKT_LIST_MAX; i++)
        if (s_resp_unsubscribed_from(st, (int)p->opted_out[i]) &&
            mkt_consent_purpose((int)p->opted_out[i]))
            purposes[n++] = mkt_consent_purpose((int)p->opted_out[i]);
    if (n == 0) {
        s_resp_done(w);
        return;
    }
    const char *proof = crm_work_printf(w, "unsubscribed: response %s to campaign %s",
                                        st->response_id, st->r.campaign_id);
    if (!proof) {
        crm_work_fail_nomem(w);
        return;
    }
    mkt_store_consent_unsubscribed(w, st->r.customer_id, purposes, n, proof, crm_work_principal(w),
                                   s_resp_withdrawn);
}

static void s_resp_membership(crm_work_t *w);

static void s_resp_inserted(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    if (!(st->response_id = crm_work_strdup(w, PQgetvalue(res, 0, 0)))) {
        crm_work_fail_nomem(w);
        return;
    }
    st->r.unsolicited = crm_db_get_bool(res, 0, 1);
    if (mkt_emit_response_recorded(w, &st->r) < 0)
        return;
    /* Responses feed the "responded to / converted in campaign X" rules. */
    mkt_member_refresh(w, st->r.customer_id, s_resp_membership);
}

static void s_resp_membership(crm_work_t *w)
{
    s_resp_t *st = crm_work_data(w);
    if (st->r.response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_UNSUBSCRIBED) {
        s_resp_done(w);
        return;
    }
    /* Unsubscribing opts out at once: of the channel it came through, else
     * of every channel of the campaign. */
    int one = mkt_channel_from_name(st->r.channel);
    if (one)
        mkt_store_pref_opt_out(w, st->r.customer_id, &one, 1, s_resp_opted_out);
    else
        mkt_store_pref_opt_out(w, st->r.customer_id, st->channels, st->n_channels,
                               s_resp_opted_out);
}

static void s_resp_insert(crm_work_t *w)
{
    s_resp_t *st = crm_work_data(w);
    char id[CRM_UUID_LEN + 1];
    crm_uuid_new(id);
    mkt_store_response_insert(w, id, st->r.customer_id, &st->r, s_resp_inserted);
}

static void s_resp_person(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    if (!crm_db_get_bool(res, 0, 0) || !st->registered) {
        st->registered = 0;
        s_resp_insert(w);
        return;
    }
    /* A person first met here: registered under the identity rule, and
     * announced so that the other services' records meet this one. */
    Crm__V1__Person p = CRM__V1__PERSON__INIT;
    char *emails[1] = {st->email};
    p.id = st->r.customer_id;
    p.kind = CRM__V1__PERSON_KIND__PERSON_KIND_PROSPECT;
    p.name = st->r.name;
    p.emails = emails;
    p.n_emails = 1;
    p.registered_by = (char *)"marketing";
    p.created_at_us = crm_now_us();
    p.updated_at_us = p.created_at_us;
    if (mkt_emit_person_registered(w, &p) == 0)
        s_resp_insert(w);
}

static void s_resp_by_email(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    char id[CRM_UUID_LEN + 1];
    if (PQntuples(res) == 1) {
        st->r.customer_id = crm_work_strdup(w, PQgetvalue(res, 0, 0));
    } else {
        crm_customer_id_for_email(st->email, id);
        st->r.customer_id = crm_work_strdup(w, id);
        st->registered = 1; /* candidate: confirmed when the upsert creates it */
    }
    if (!st->r.customer_id) {
        crm_work_fail_nomem(w);
        return;
    }
    mkt_store_person_upsert(w, st->r.customer_id, st->r.name, st->email, "marketing",
                            s_resp_person);
}

static void s_resp_customer(crm_work_t *w)
{
    s_resp_t *st = crm_work_data(w);
    if (*st->r.customer_id) {
        if (st->email[0])
            mkt_store_person_upsert(w, st->r.customer_id, st->r.name, st->email, "marketing",
                                    s_resp_person);
        else
            s_resp_insert(w);
        return;
    }
    mkt_store_person_by_email(w, st->email, s_resp_by_email);
}

/* A conversion that names its order: the order must be one marketing has
 * seen (sales' order.placed), of the same customer when the response
 * names one by id, so that the sale is counted once. */
static void s_resp_order(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "response.order_id", "order", st->r.order_id,
                                "record the conversion once the order reached marketing"
                                " (sales.order.create publishes it), or leave order_id out");
        return;
    }
    if (*st->r.customer_id && strcmp(PQgetvalue(res, 0, 0), st->r.customer_id) != 0) {
        crm_work_fail(
            w, MKT_CODE(INVALID_ARGUMENT), "response.order_id", "order is another customer's",
            crm_work_printf(w, "order %s was placed by %s", st->r.order_id, PQgetvalue(res, 0, 0)),
            "name the order of the customer who responded");
        return;
    }
    s_resp_customer(w);
}

static void s_resp_campaign(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "response.campaign_id", "campaign", st->r.campaign_id,
                                MKT_CAMPAIGN_HINT);
        return;
    }
    st->n_channels = mkt_channels_parse(PQgetvalue(res, 0, 6), st->channels, MKT_LIST_MAX);
    if (*st->r.order_id)
        mkt_store_order_of(w, st->r.order_id, s_resp_order);
    else
        s_resp_customer(w);
}

void mkt_response_record(crm_work_t *w)
{
    const Crm__V1__RecordResponseRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    s_resp_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    memset(st, 0, sizeof *st);
    if (mkt_response_check(rq->response, st->email, sizeof st->email, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    char cur[4];
    mkt_check_currency(rq->response->currency, cur, "response.currency", &e);
    st->r = *rq->response;
    st->r.email = st->email;
    if (!(st->r.currency = crm_work_strdup(w, cur)) ||
        !(st->r.customer_id = crm_work_strdup(w, st->r.customer_id)) ||
        !(st->r.order_id = crm_work_strdup(w, st->r.order_id))) {
        crm_work_fail_nomem(w);
        return;
    }
    /* Ids travel in canonical (lower-case) form, as the database writes them. */
    for (char *c = st->r.customer_id; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (char *c = st->r.order_id; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    crm_work_set_data(w, st);
    mkt_store_campaign_get(w, st->r.campaign_id, 0, s_resp_campaign);
}

void mkt_response_apply(crm_work_t *w, const Crm__V1__CampaignResponseRecorded *r,
                        mkt_response_done_fn done, void *arg)
{
    s_resp_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    memset(st, 0, sizeof *st);
    st->r = *r;
    st->r.email = st->email;
    st->done = done;
    st->arg = arg;
    crm_work_set_data(w, st);
    mkt_store_campaign_get(w, st->r.campaign_id, 0, s_resp_campaign);
}
