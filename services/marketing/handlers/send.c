/* handlers/send.c: the timer-driven works of sending (main.c schedules
 * them): the send scan, which starts due campaigns and decides the contact
 * policy for their recipients, and the delivery pump's claim and outcome. */
#include "handlers.h"

#include <crm/log.h>
#include <crm/db.h>
#include <crm/util.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mkt_t *s_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

/* The recording statement checked the batch's campaigns (there is no
 * foreign key per row: sql/0025_send_campaign_kept.sql); a decision for a
 * campaign that does not exist fails the scan, and nothing of it is kept. */
static void s_scan_recorded(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) != 1 || !crm_db_get_bool(res, 0, 3)) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "a send decision names a campaign that does not exist", NULL, NULL);
        return;
    }
    crm_work_ok(w, NULL);
}

/* The template {subject, body} of `channel` in the templates JSON. */
static int s_template(json_t *templates, int channel, const char **subject, const char **body)
{
    char key[16];
    snprintf(key, sizeof key, "%d", channel);
    json_t *t = json_object_get(templates, key);
    *subject = json_string_value(json_object_get(t, "subject"));
    *body = json_string_value(json_object_get(t, "body"));
    return *body ? 0 : -1;
}

/* Where `channel` reaches the candidate of row i: its email, phone, fax
 * or postal address ("" when unknown), or NULL for a channel that needs
 * none. */
static const char *s_address(PGresult *res, int i, int channel)
{
    switch (channel) {
    case CRM__V1__CHANNEL__CHANNEL_EMAIL:
        return PQgetvalue(res, i, 6);
    case CRM__V1__CHANNEL__CHANNEL_SMS:
    case CRM__V1__CHANNEL__CHANNEL_PHONE:
        return PQgetvalue(res, i, 14);
    case CRM__V1__CHANNEL__CHANNEL_FAX:
        return PQgetvalue(res, i, 15);
    case CRM__V1__CHANNEL__CHANNEL_MAIL:
        return PQgetvalue(res, i, 16);
    default:
        return NULL;
    }
}

/* Whether a send on `channel` has a lawful basis: the channel is opt-out
 * under the policy (opt_in bits), or the person consents to its purpose. */
static int s_lawful(unsigned opt_in, int channel, const int *purposes, size_t n)
{
    int purpose = mkt_consent_purpose(channel);
    if (!purpose || !(opt_in & (1u << channel)))
        return 1;
    for (size_t j = 0; j < n; j++)
        if (purposes[j] == purpose)
            return 1;
    return 0;
}

/* A scan's state across its rows: the decisions so far (`out`, columns
 * in the work's arena), the messages decided per customer in this batch
 * (`batch`, for the frequency cap), and the templates of the campaign of
 * the current row, parsed once per campaign (the rows come in campaign
 * order). */
typedef struct {
    mkt_decided_t out;
    json_t *batch, *templates;
    const char *campaign; /* a value of res: whose templates these are */
} s_scan_t;

/* Status and channel numbers as text, without a printf per decision. */
static const char *const s_digits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

static const char *s_small(int v)
{
    return v >= 0 && v < 10 ? s_digits[v] : NULL;
}

/* Decides one candidate row; appends the decision to st->out and emits it.
 * Returns 0 or -1 (work failed). */
static int s_decide(crm_work_t *w, PGresult *res, int i, int64_t now, s_scan_t *st)
{
    mkt_t *ctx = s_ctx(w);
    int offered[MKT_LIST_MAX], usable[MKT_LIST_MAX];
    size_t n = mkt_channels_parse(PQgetvalue(res, i, 2), offered, MKT_LIST_MAX), k = 0;
    Crm__V1__ContactPreferences *p = NULL;
    if (!PQgetisnull(res, i, 3) &&
        !(p = crm_work_record(w, &crm__v1__contact_preferences__descriptor,
                              crm_db_get_opt(res, i, 3)))) {
        crm_work_fail_unreadable(w);
        return -1;
    }
    if (!st->campaign || strcmp(st->campaign, PQgetvalue(res, i, 0)) != 0) {
        json_decref(st->templates);
        st->campaign = PQgetvalue(res, i, 0);
        st->templates =
            json_loads(PQgetisnull(res, i, 10) ? "{}" : PQgetvalue(res, i, 10), 0, NULL);
        if (!st->templates) {
            crm_work_fail_nomem(w);
            return -1;
        }
    }
    json_t *templates = st->templates, *batch = st->batch;
    const char *subject = NULL, *body = NULL;
    /* Only channels with a message can be used. */
    for (size_t j = 0; j < n; j++)
        if (s_template(templates, offered[j], &subject, &body) == 0)
            usable[k++] = offered[j];
    mkt_contact_t d;
    int offset = atoi(PQgetvalue(res, i, 4)), reach[MKT_LIST_MAX];
    mkt_contact_decide(p, usable, k, now, offset, &d);
    /* A channel the person has no address for, or whose address bounced,
     * cannot carry the message: a send there would be counted as sent and
     * reach nobody. Decided again among the reachable channels; none left
     * is no_address (or address_bounced). */
    int bounced = crm_db_get_bool(res, i, 17), why[MKT_LIST_MAX];
    /* Under an opt-in channel (MARKETING_CHANNEL_POLICY) a send needs the
     * person's consent to the channel's purpose, as the ledger stands now:
     * without it there is no lawful basis (why 3, no_consent), whatever
     * the address. */
    int purposes[MKT_LIST_MAX];
    size_t n_purposes = mkt_channels_parse(PQgetvalue(res, i, 18), purposes, MKT_LIST_MAX);
    size_t r = 0;
    for (size_t j = 0; j < k; j++) {
        const char *a = s_address(res, i, usable[j]);
        why[j] = !s_lawful(ctx->opt_in, usable[j], purposes, n_purposes)   ? 3
                 : !a                                                      ? 0
                 : !*a                                                     ? 1
                 : usable[j] == CRM__V1__CHANNEL__CHANNEL_EMAIL && bounced ? 2
                                                                           : 0;
        if (!why[j])
            reach[r++] = usable[j];
    }
    if (d.kind != MKT_CONTACT_SUPPRESSED && r < k) {
        mkt_contact_decide(p, reach, r, now, offset, &d);
        if (d.kind == MKT_CONTACT_SUPPRESSED) {
            size_t at = 0;
            d.code = "no_address";
            d.reason[0] = 0;
            for (size_t j = 0; j < k && at < sizeof d.reason; j++) {
                if (!why[j])
                    continue;
                /* No lawful basis outranks a missing address. */
                if (why[j] == 3)
                    d.code = "no_consent";
                else if (why[j] == 2 && strcmp(d.code, "no_consent") != 0)
                    d.code = "address_bounced";
                at +=
                    (size_t)snprintf(d.reason + at, sizeof d.reason - at, "%s%s %s", at ? ", " : "",
                                     why[j] == 3   ? "no consent for"
                                     : why[j] == 2 ? "undeliverable address for"
                                                   : "no address for",
                                     mkt_channel_name(usable[j]));
            }
        }
    }
    const char *address = d.kind == MKT_CONTACT_SEND ? s_address(res, i, d.channel) : NULL;
    const char *email = PQgetvalue(res, i, 6);
    /* A member of a segment the campaign excludes is never contacted,
     * whatever the channel; checked at each decision, so joining the
     * segment while deferred suppresses too. */
    if (!PQgetisnull(res, i, 11)) {
        d.kind = MKT_CONTACT_SUPPRESSED;
        d.at_us = 0;
        d.code = "excluded_segment";
        snprintf(d.reason, sizeof d.reason, "excluded_segment %s", PQgetvalue(res, i, 11));
    }
    /* The frequency cap counts messages to the customer from every
     * campaign: those already created, plus those decided earlier in this
     * scan (batch). Over the cap: deferred until the oldest leaves the
     * window. */
    if (d.kind == MKT_CONTACT_SEND && ctx->freq_cap > 0) {
        const char *cust = PQgetvalue(res, i, 1);
        int64_t made = strtoll(PQgetvalue(res, i, 12), NULL, 10);
        int64_t here = json_integer_value(json_object_get(batch, cust));
        if (made + here >= ctx->freq_cap) {
            d.kind = MKT_CONTACT_DEFERRED;
            d.at_us = PQgetisnull(res, i, 13)
                          ? now + (int64_t)ctx->freq_days * 86400 * INT64_C(1000000)
                          : strtoll(PQgetvalue(res, i, 13), NULL, 10);
            d.code = "frequency_cap";
            snprintf(d.reason, sizeof d.reason, "frequency cap: %d messages in %d days",
                     ctx->freq_cap, ctx->freq_days);
        } else if (json_object_set_new(batch, cust, json_integer(here + 1)) < 0) {
            crm_work_fail_nomem(w);
            return -1;
        }
    }
    char *rs = NULL, *rb = NULL;
    if (d.kind == MKT_CONTACT_SEND) {
        const char *values[MKT_FIELD_COUNT] = {PQgetvalue(res, i, 5), email, PQgetvalue(res, i, 9),
                                               PQgetvalue(res, i, 8), PQgetvalue(res, i, 7)};
        s_template(templates, d.channel, &subject, &body);
        rs = mkt_render(subject ? subject : "", values);
        rb = mkt_render(body, values);
    }
    int status = d.kind == MKT_CONTACT_SEND         ? CRM__V1__SEND_STATUS__SEND_STATUS_SENT
                 : d.kind == MKT_CONTACT_SUPPRESSED ? CRM__V1__SEND_STATUS__SEND_STATUS_SUPPRESSED
                                                    : CRM__V1__SEND_STATUS__SEND_STATUS_DEFERRED;
    /* The values live in res or the arena until the recording statement
     * has been sent; the strings of this call are copied. */
    size_t at = st->out.n;
    char **v[MKT_DECIDED_COLS];
    for (int c = 0; c < MKT_DECIDED_COLS; c++)
        v[c] = &st->out.v[c][at];
    *v[MKT_DECIDED_CAMPAIGN] = PQgetvalue(res, i, 0);
    *v[MKT_DECIDED_CUSTOMER] = PQgetvalue(res, i, 1);
    *v[MKT_DECIDED_STATUS] = (char *)s_small(status);
    *v[MKT_DECIDED_CHANNEL] = d.channel >= 0 && d.channel < 10
                                  ? (char *)s_small(d.channel)
                                  : crm_work_printf(w, "%d", d.channel);
    *v[MKT_DECIDED_REASON] = d.reason[0] ? crm_work_strdup(w, d.reason) : (char *)"";
    *v[MKT_DECIDED_CODE] = (char *)(d.code ? d.code : "");
    *v[MKT_DECIDED_DUE] = d.at_us ? crm_work_printf(w, "%lld", (long long)d.at_us) : (char *)"0";
    *v[MKT_DECIDED_ADDRESS] = (char *)(address ? address : "");
    *v[MKT_DECIDED_SUBJECT] = rs && *rs ? crm_work_strdup(w, rs) : (char *)"";
    *v[MKT_DECIDED_BODY] = rb ? crm_work_strdup(w, rb) : (char *)"";
    int bad = d.kind == MKT_CONTACT_SEND && (!rs || !rb);
    free(rs);
    free(rb);
    for (int c = 0; c < MKT_DECIDED_COLS; c++)
        bad |= !*v[c];
    if (bad) {
        crm_work_fail_nomem(w);
        return -1;
    }
    st->out.n++;
    Crm__V1__SendDecided ev = CRM__V1__SEND_DECIDED__INIT;
    ev.campaign_id = PQgetvalue(res, i, 0);
    ev.customer_id = PQgetvalue(res, i, 1);
    ev.status = status;
    ev.channel = d.channel;
    ev.reason = d.reason;
    ev.reason_code = (char *)(d.code ? d.code : "");
    ev.deferred_until_us = d.kind == MKT_CONTACT_DEFERRED ? d.at_us : 0;
    return mkt_emit_send_decided(w, &ev);
}

static void s_scan_candidates(crm_work_t *w, PGresult *res)
{
    mkt_send_part_t *part = crm_work_data(w);
    int n = PQntuples(res);
    if (n >= part->ctx->send_batch)
        crm_scan_more(part->scan);
    if (n == 0) {
        crm_work_ok(w, NULL);
        return;
    }
    s_scan_t st = {{0}, json_object(), NULL, NULL};
    int64_t now = crm_now_us();
    int failed = !st.batch;
    for (int c = 0; c < MKT_DECIDED_COLS && !failed; c++)
        failed = !(st.out.v[c] = crm_work_alloc(w, (size_t)n * sizeof(char *)));
    if (failed)
        crm_work_fail_nomem(w);
    for (int i = 0; i < n && !failed; i++)
        failed = s_decide(w, res, i, now, &st) < 0;
    json_decref(st.batch);
    json_decref(st.templates);
    if (!failed)
        mkt_store_send_record(w, &st.out, s_scan_recorded);
}

/* res: mkt_store_send_turn's answer, or NULL for the only scan. */
static void s_candidates(crm_work_t *w, PGresult *res)
{
    mkt_send_part_t *part = crm_work_data(w);
    mkt_t *ctx = part->ctx;
    int throttled = !res || (PQntuples(res) == 1 && crm_db_get_bool(res, 0, 0));
    mkt_store_send_candidates(w, ctx->send_batch, ctx->freq_cap, ctx->freq_days, ctx->opt_in,
                              part->lo, part->hi, throttled, s_scan_candidates);
}

/* The candidates of the part's range, once it has its turn beside the
 * other parts (mkt_store_send_turn), which decide at the same time in
 * transactions of their own. */
static void s_scan_part(crm_work_t *w)
{
    mkt_send_part_t *part = crm_work_data(w);
    if (part->ctx->n_send_parts > 1)
        mkt_store_send_turn(w, part->index == 0, s_candidates);
    else
        s_candidates(w, NULL);
}

/* A later step's recipients are announced like those of a target command. */
static void s_followups_added(crm_work_t *w, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        Crm__V1__CampaignTargeted *t =
            crm_work_record(w, &crm__v1__campaign_targeted__descriptor, PQgetvalue(res, i, 0));
        if (!t) {
            crm_work_fail_nomem(w);
            return;
        }
        if (mkt_emit_campaign_targeted(w, t) < 0)
            return;
    }
    s_scan_part(w);
}

static void s_scan_started(crm_work_t *w, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++)
        crm_info("marketing.campaign_started", "campaign %s is running", PQgetvalue(res, i, 0));
    mkt_store_followups_due(w, s_followups_added);
}

void mkt_send_scan(crm_work_t *w)
{
    mkt_send_part_t *part = crm_work_data(w);
    if (part->index == 0)
        mkt_store_start_due(w, s_scan_started);
    else
        s_scan_part(w);
}

void mkt_send_kick(mkt_t *ctx)
{
    for (int i = 0; i < ctx->n_send_parts; i++)
        crm_scan_kick(ctx->send_parts[i].scan);
}

/* ---- the delivery pump's works ------------------------------------------- */

void mkt_batch_clear(mkt_t *ctx)
{
    for (size_t i = 0; i < ctx->n_batch; i++) {
        mkt_delivery_t *d = &ctx->batch[i];
        free(d->id);
        free(d->address);
        free(d->subject);
        free(d->body);
        free(d->campaign_id);
        free(d->customer_id);
        free(d->name);
        memset(d, 0, sizeof *d);
    }
    ctx->n_batch = 0;
}

static void s_claimed(crm_work_t *w, PGresult *res)
{
    mkt_t *ctx = s_ctx(w);
    mkt_batch_clear(ctx); /* an earlier attempt of this work may have filled it */
    for (int i = 0; i < PQntuples(res) && i < MKT_DELIVERY_BATCH; i++) {
        mkt_delivery_t *d = &ctx->batch[ctx->n_batch++];
        d->id = strdup(PQgetvalue(res, i, 0));
        d->address = strdup(PQgetvalue(res, i, 1));
        d->subject = strdup(PQgetvalue(res, i, 2));
        d->body = strdup(PQgetvalue(res, i, 3));
        d->campaign_id = strdup(PQgetvalue(res, i, 4));
        d->customer_id = strdup(PQgetvalue(res, i, 5));
        d->name = strdup(PQgetvalue(res, i, 6));
        if (!d->id || !d->address || !d->subject || !d->body || !d->campaign_id ||
            !d->customer_id || !d->name) {
            mkt_batch_clear(ctx);
            crm_work_fail_nomem(w);
            return;
        }
    }
    crm_work_ok(w, NULL);
}

void mkt_delivery_claim(crm_work_t *w)
{
    mkt_store_delivery_pending(w, MKT_DELIVERY_BATCH, s_claimed);
}

/* Publishes each final outcome (delivery.recorded), so that subscribers
 * count deliveries as marketing.campaign.results does, and each bounce as a
 * response, as if recorded by a command. A retry still pending publishes
 * nothing. */
static void s_outcome_done(crm_work_t *w, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        if (strcmp(PQgetvalue(res, i, 0), "delivery") == 0) {
            Crm__V1__DeliveryRecorded d = CRM__V1__DELIVERY_RECORDED__INIT;
            d.campaign_id = PQgetvalue(res, i, 1);
            d.customer_id = PQgetvalue(res, i, 2);
            d.channel = (Crm__V1__Channel)atoi(PQgetvalue(res, i, 3));
            d.delivered = atoi(PQgetvalue(res, i, 4)) == 1;
            d.error = PQgetvalue(res, i, 5);
            if (mkt_emit_delivery_recorded(w, &d) < 0)
                return; /* the work was failed; nothing is kept */
            continue;
        }
        Crm__V1__CampaignResponseRecorded r = CRM__V1__CAMPAIGN_RESPONSE_RECORDED__INIT;
        r.campaign_id = PQgetvalue(res, i, 1);
        r.customer_id = PQgetvalue(res, i, 2);
        r.response = CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_BOUNCED;
        r.channel = (char *)"email";
        r.note = PQgetvalue(res, i, 5);
        if (mkt_emit_response_recorded(w, &r) < 0)
            return;
    }
    crm_work_ok(w, NULL);
}

void mkt_delivery_outcome(crm_work_t *w)
{
    mkt_t *ctx = s_ctx(w);
    mkt_store_delivery_outcome(w, ctx->outcomes, ctx->max_attempts, ctx->retry_ms,
                               ctx->soft_bounces, s_outcome_done);
}

/* ---- marketing.delivery.confirm: a gateway's report ------------------------ */

static void s_confirmed(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ConfirmDeliveryRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        if (*rq->delivery_id)
            crm_work_fail_not_found(w, "delivery_id", "delivery", rq->delivery_id,
                                    "a delivery exists once the campaign sent its message;"
                                    " see marketing.campaign.results");
        else
            crm_work_fail(w, MKT_CODE(NOT_FOUND), "campaign_id", "delivery not found",
                          crm_work_printf(w, "no %s message of campaign %s to customer %s",
                                          mkt_channel_name((int)rq->channel), rq->campaign_id,
                                          rq->customer_id),
                          "a delivery exists once the campaign sent its message;"
                          " see marketing.campaign.results");
        return;
    }
    int channel = atoi(PQgetvalue(res, 0, 3)), status = atoi(PQgetvalue(res, 0, 4));
    int changed = crm_db_get_bool(res, 0, 6);
    /* Email is confirmed by the SMTP relay (the delivery pump); a gateway
     * has no say on it. */
    if (channel == CRM__V1__CHANNEL__CHANNEL_EMAIL) {
        crm_work_fail(w, MKT_CODE(FAILED_PRECONDITION), "channel",
                      "email delivery is confirmed by the SMTP relay",
                      crm_work_printf(w, "delivery %s", PQgetvalue(res, 0, 0)),
                      "confirm only messages handed to a gateway (sms, phone, fax, mail)");
        return;
    }
    /* Not changed: confirmed before; the first outcome stands. */
    Crm__V1__ConfirmDeliveryReply *r = crm_work_alloc(w, sizeof *r);
    if (!r) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__confirm_delivery_reply__init(r);
    r->delivery_id = PQgetvalue(res, 0, 0);
    r->campaign_id = PQgetvalue(res, 0, 1);
    r->customer_id = PQgetvalue(res, 0, 2);
    r->channel = (Crm__V1__Channel)channel;
    r->delivered = status == 1;
    r->error = PQgetvalue(res, 0, 5);
    r->already_confirmed = !changed;
    if (changed) {
        Crm__V1__DeliveryRecorded d = CRM__V1__DELIVERY_RECORDED__INIT;
        d.campaign_id = r->campaign_id;
        d.customer_id = r->customer_id;
        d.channel = r->channel;
        d.delivered = r->delivered;
        d.error = r->error;
        d.delivery_id = r->delivery_id;
        if (mkt_emit_delivery_recorded(w, &d) < 0)
            return;
        if (atoi(PQgetvalue(res, 0, 8)) > 0) {
            Crm__V1__CampaignResponseRecorded b = CRM__V1__CAMPAIGN_RESPONSE_RECORDED__INIT;
            b.campaign_id = r->campaign_id;
            b.customer_id = r->customer_id;
            b.response = CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_BOUNCED;
            b.channel = PQgetvalue(res, 0, 7);
            b.note = r->error;
            if (mkt_emit_response_recorded(w, &b) < 0)
                return;
        }
    }
    crm_work_ok(w, &r->base);
}

void mkt_delivery_confirm(crm_work_t *w)
{
    const Crm__V1__ConfirmDeliveryRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_delivery_confirm_check(rq, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_delivery_confirm(w, rq, s_confirmed);
}
