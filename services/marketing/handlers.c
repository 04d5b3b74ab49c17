/* handlers.c: marketing's business rules, one function per command or
 * consumed event, dispatched from the tables at the end of this file.
 *
 * Every handler has the same shape as in sales: check the whole request
 * with the rules (rules.c) before touching the database; read what the
 * decision needs; write; emit the events; answer. All statements go
 * through store.c. State that must survive a continuation lives in a
 * struct in the work's arena (crm_work_set_data), never in globals. */
#include "marketing.h"

#include "events.h"
#include "rules.h"
#include "store.h"

#include <crm/db.h>
#include <crm/identity.h>
#include <crm/log.h>
#include <crm/util.h>

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CODE(x) CRM__V1__STATUS_CODE__STATUS_CODE_##x

/* ---- helpers ------------------------------------------------------------------ */

static void s_fail(crm_work_t *w, const mkt_err_t *e)
{
    crm_work_fail(w, e->code, e->field, e->message, e->detail, e->hint);
}

/* Channels from an int[] text ("{1,3}") into out (at most max). */
static size_t s_channels_parse(const char *text, int *out, size_t max)
{
    size_t n = 0;
    for (const char *c = text ? text : ""; *c && n < max;) {
        if (*c >= '0' && *c <= '9') {
            char *end;
            out[n++] = (int)strtol(c, &end, 10);
            c = end;
        } else {
            c++;
        }
    }
    return n;
}

static const char *s_campaign_hint = "list campaigns with marketing.campaign.list";

/* ---- segment membership of one customer, in the current transaction ------------- */

/* Whenever something a segment rule reads changes for a customer (an
 * order, a ticket, a rating, a response, the person's attributes), that
 * customer's membership of every segment is brought up to date in the
 * same transaction, and each change is published. So membership never
 * lags the event that changed it; only rules on time passing need the
 * periodic scan (mkt_segment_scan). */
typedef struct {
    Crm__V1__Segment **segments;
    int n, next;
    const char *customer;
    void (*done)(crm_work_t *w);
    void *saved; /* the work's data before, restored for `done` */
} s_member_t;

static void s_member_next(crm_work_t *w);

/* Announces the membership changes a refresh of segment `segment_id`
 * returned (rows: member, customer_id); 0, or -1 when an emit failed
 * (the work has failed). */
static int s_memberships_emit(crm_work_t *w, const char *segment_id, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        Crm__V1__SegmentMembershipChanged m = CRM__V1__SEGMENT_MEMBERSHIP_CHANGED__INIT;
        m.segment_id = (char *)segment_id;
        m.customer_id = PQgetvalue(res, i, 1);
        m.member = crm_db_get_bool(res, i, 0);
        if (mkt_emit_segment_membership(w, &m) < 0)
            return -1;
    }
    return 0;
}

static void s_member_changed(crm_work_t *w, PGresult *res)
{
    s_member_t *st = crm_work_data(w);
    if (s_memberships_emit(w, st->segments[st->next - 1]->id, res) == 0)
        s_member_next(w);
}

static void s_member_next(crm_work_t *w)
{
    s_member_t *st = crm_work_data(w);
    if (st->next >= st->n) {
        crm_work_set_data(w, st->saved);
        st->done(w);
        return;
    }
    Crm__V1__Segment *g = st->segments[st->next++];
    mkt_store_segment_refresh(w, g->id, g->rules, g->n_rules, st->customer, s_member_changed);
}

static void s_member_listed(crm_work_t *w, PGresult *res)
{
    s_member_t *st = crm_work_data(w);
    int n = PQntuples(res);
    st->segments =
        (Crm__V1__Segment **)crm_work_records(w, &crm__v1__segment__descriptor, res, 0, n);
    if (!st->segments)
        return;
    st->n = n;
    s_member_next(w);
}

/* Lists segments with `list`, re-evaluates `customer` (NULL: every
 * customer) in each, publishes the changes, then calls done(w) with the
 * work's data as it was. */
static void s_member_start(crm_work_t *w, const char *customer,
                           int (*list)(crm_work_t *w, crm_work_cb cb), void (*done)(crm_work_t *w))
{
    s_member_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    memset(st, 0, sizeof *st);
    st->customer = customer;
    st->done = done;
    st->saved = crm_work_data(w);
    crm_work_set_data(w, st);
    list(w, s_member_listed);
}

/* Re-evaluates `customer` (a valid id that outlives the work) in every
 * segment, publishes the changes, then calls done(w) with the work's data
 * as it was. */
static void s_member_refresh(crm_work_t *w, const char *customer, void (*done)(crm_work_t *w))
{
    s_member_start(w, customer, mkt_store_segment_list, done);
}

/* The end of a consumer's work: nothing to reply. */
static void s_applied(crm_work_t *w)
{
    crm_work_ok(w, NULL);
}

/* ---- campaigns ----------------------------------------------------------------- */

static void s_campaign_reply(crm_work_t *w, PGresult *res)
{
    Crm__V1__CampaignReply *r = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (r)
        crm_work_ok(w, &r->base);
}

static void s_campaign_created(crm_work_t *w, PGresult *res)
{
    Crm__V1__CampaignReply *r = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (r && mkt_emit_campaign_created(w, r->campaign) == 0)
        crm_work_ok(w, &r->base);
}

/* A follow-up names a campaign that exists. */
static void s_campaign_followed(crm_work_t *w, PGresult *res)
{
    Crm__V1__Campaign *c = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "campaign.follows_campaign_id", "campaign",
                                c->follows_campaign_id, s_campaign_hint);
        return;
    }
    mkt_store_campaign_insert(w, c, s_campaign_created);
}

static void s_campaign_create(crm_work_t *w)
{
    const Crm__V1__CreateCampaignRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char id[CRM_UUID_LEN + 1];
    if (mkt_campaign_check(rq->campaign, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    Crm__V1__Campaign *c = crm_work_alloc(w, sizeof *c);
    if (!c) {
        crm_work_fail_nomem(w);
        return;
    }
    *c = *rq->campaign; /* shallow: the strings stay the request's */
    crm_uuid_new(id);
    if (!(c->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, c);
    if (c->follows_campaign_id && *c->follows_campaign_id)
        mkt_store_campaign_get(w, c->follows_campaign_id, 0, s_campaign_followed);
    else
        mkt_store_campaign_insert(w, c, s_campaign_created);
}

static void s_campaign_shown(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "campaign", crm_work_data(w), s_campaign_hint);
        return;
    }
    s_campaign_reply(w, res);
}

/* Checks a required campaign id; keeps it as the work's data. */
static const char *s_campaign_id(crm_work_t *w, const char *id, const char *field)
{
    mkt_err_t e;
    if (mkt_check_id(id, 1, field, &e) < 0) {
        s_fail(w, &e);
        return NULL;
    }
    crm_work_set_data(w, (void *)id);
    return id;
}

static void s_campaign_show(crm_work_t *w)
{
    const Crm__V1__ShowCampaignRequest *rq = (const void *)crm_work_request(w);
    if (s_campaign_id(w, rq->id, "id"))
        mkt_store_campaign_get(w, rq->id, 0, s_campaign_shown);
}

static void s_campaign_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListCampaignsReply r = CRM__V1__LIST_CAMPAIGNS_REPLY__INIT;
    int n = PQntuples(res);
    r.campaigns =
        (Crm__V1__Campaign **)crm_work_records(w, &crm__v1__campaign__descriptor, res, 0, n);
    if (!r.campaigns)
        return;
    r.n_campaigns = (size_t)n;
    crm_work_ok(w, &r.base);
}

static void s_campaign_list(crm_work_t *w)
{
    const Crm__V1__ListCampaignsRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_enum(&crm__v1__campaign_status__descriptor, (int)rq->status, 1, "status", &e) <
        0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_campaign_list(w, (int)rq->status, s_campaign_listed);
}

static void s_campaign_scheduled(crm_work_t *w, PGresult *res)
{
    Crm__V1__CampaignReply *r = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (r && mkt_emit_campaign_scheduled(w, r->campaign) == 0)
        crm_work_ok(w, &r->base);
}

static void s_schedule_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ScheduleCampaignRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "campaign", rq->id, s_campaign_hint);
        return;
    }
    if (mkt_schedule_check(atoi(PQgetvalue(res, 0, 1)), rq->start_at_us, crm_now_us(), &e) < 0) {
        s_fail(w, &e);
        return;
    }
    if (atoi(PQgetvalue(res, 0, 7)) == 0) {
        crm_work_fail(w, S_CODE(FAILED_PRECONDITION), "id", "campaign has no message",
                      "the campaign has no message template for any of its channels",
                      "save one with marketing.message.set first");
        return;
    }
    mkt_store_campaign_schedule(w, rq->id, rq->start_at_us, s_campaign_scheduled);
}

static void s_campaign_schedule(crm_work_t *w)
{
    const Crm__V1__ScheduleCampaignRequest *rq = (const void *)crm_work_request(w);
    if (s_campaign_id(w, rq->id, "id"))
        mkt_store_campaign_get(w, rq->id, 1, s_schedule_locked);
}

typedef struct {
    mkt_action_t action;
    int from;
} s_action_t;

static void s_status_set(crm_work_t *w, PGresult *res)
{
    s_action_t *st = crm_work_data(w);
    Crm__V1__CampaignReply *r = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (r && mkt_emit_campaign_status_changed(w, r->campaign, st->from) == 0)
        crm_work_ok(w, &r->base);
}

static void s_action_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__CampaignActionRequest *rq = (const void *)crm_work_request(w);
    s_action_t *st = crm_work_data(w);
    mkt_err_t e;
    int next;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "campaign", rq->id, s_campaign_hint);
        return;
    }
    Crm__V1__CampaignReply *cur = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (!cur)
        return;
    st->from = (int)cur->campaign->status;
    if (mkt_campaign_next(st->from, st->action, cur->campaign->start_at_us, crm_now_us(), &next,
                          &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_campaign_status(w, rq->id, next, s_status_set);
}

/* Checks the campaign id of a CampaignActionRequest, then locks the
 * campaign and goes on in `locked` with an s_action_t for `action` as the
 * work's data. */
static void s_campaign_lock(crm_work_t *w, mkt_action_t action, crm_work_cb locked)
{
    const Crm__V1__CampaignActionRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    s_action_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (mkt_check_id(rq->id, 1, "id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    memset(st, 0, sizeof *st);
    st->action = action;
    crm_work_set_data(w, st);
    mkt_store_campaign_get(w, rq->id, 1, locked);
}

static void s_campaign_action(crm_work_t *w, mkt_action_t action)
{
    s_campaign_lock(w, action, s_action_locked);
}

static void s_campaign_pause(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_PAUSE);
}

static void s_campaign_resume(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_RESUME);
}

static void s_campaign_cancel(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_CANCEL);
}

static void s_campaign_complete(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_COMPLETE);
}

/* ---- offers, budget, launch ------------------------------------------------------ */

static void s_campaign_updated(crm_work_t *w, PGresult *res)
{
    Crm__V1__CampaignReply *r = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (r && mkt_emit_campaign_updated(w, r->campaign, r->budget, crm_work_data(w)) == 0)
        crm_work_ok(w, &r->base);
}

static void s_offer_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__AddOfferRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "campaign_id", "campaign", rq->campaign_id, s_campaign_hint);
        return;
    }
    if (mkt_campaign_open_check(atoi(PQgetvalue(res, 0, 1)), "offers", &e) < 0) {
        snprintf(e.field, sizeof e.field, "campaign_id");
        s_fail(w, &e);
        return;
    }
    Crm__V1__CampaignReply *cur = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (!cur)
        return;
    if (cur->campaign->n_offers >= MKT_LIST_MAX) {
        crm_work_fail(w, S_CODE(FAILED_PRECONDITION), "campaign_id", "campaign has too many offers",
                      "a campaign has at most 50 offers", "create another campaign");
        return;
    }
    crm_work_set_data(w, (void *)"offer");
    mkt_store_campaign_offer_add(w, rq->campaign_id, rq->offer, s_campaign_updated);
}

static void s_campaign_offer(crm_work_t *w)
{
    const Crm__V1__AddOfferRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_offer_check(rq, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_campaign_get(w, rq->campaign_id, 1, s_offer_locked);
}

static void s_budget_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetBudgetRequest *rq = (const void *)crm_work_request(w);
    const char *cur = crm_work_data(w);
    mkt_err_t e;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "campaign", rq->id, s_campaign_hint);
        return;
    }
    if (mkt_campaign_open_check(atoi(PQgetvalue(res, 0, 1)), "budget", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    const char *had = PQgetvalue(res, 0, 5);
    if (*cur && *had && strcmp(cur, had)) {
        char detail[96];
        snprintf(detail, sizeof detail, "the campaign's currency is %s, got %s", had, cur);
        crm_work_fail(w, S_CODE(FAILED_PRECONDITION), "currency", "currency cannot change", detail,
                      "send the budget in the campaign's currency, or leave the currency out");
        return;
    }
    if (!*cur && !*had && rq->budget_minor > 0) {
        crm_work_fail(w, S_CODE(INVALID_ARGUMENT), "currency", "currency is required",
                      "the campaign has no currency yet", "send the ISO 4217 code, e.g. EUR");
        return;
    }
    crm_work_set_data(w, (void *)"budget");
    mkt_store_campaign_budget(w, rq->id, rq->budget_minor, cur, (int)rq->overspend_policy,
                              s_campaign_updated);
}

static void s_campaign_budget(crm_work_t *w)
{
    const Crm__V1__SetBudgetRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char *cur = crm_work_alloc(w, 4);
    if (!cur) {
        crm_work_fail_nomem(w);
        return;
    }
    if (mkt_budget_check(rq, cur, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    crm_work_set_data(w, cur);
    mkt_store_campaign_get(w, rq->id, 1, s_budget_locked);
}

static void s_excluded(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ExcludeSegmentRequest *rq = (const void *)crm_work_request(w);
    crm_work_set_data(w, (void *)"exclude");
    mkt_store_campaign_get(w, rq->campaign_id, 0, s_campaign_updated);
}

static void s_exclude_segment(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ExcludeSegmentRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "segment_id", "segment", rq->segment_id,
                                "list segments with marketing.segment.list");
        return;
    }
    mkt_store_campaign_exclude(w, rq->campaign_id, rq->segment_id, s_excluded);
}

static void s_exclude_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ExcludeSegmentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "campaign_id", "campaign", rq->campaign_id, s_campaign_hint);
        return;
    }
    if (mkt_campaign_open_check(atoi(PQgetvalue(res, 0, 1)), "exclusions", &e) < 0) {
        snprintf(e.field, sizeof e.field, "campaign_id");
        s_fail(w, &e);
        return;
    }
    mkt_store_segment_get(w, rq->segment_id, s_exclude_segment);
}

static void s_campaign_exclude(crm_work_t *w)
{
    const Crm__V1__ExcludeSegmentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_id(rq->campaign_id, 1, "campaign_id", &e) < 0 ||
        mkt_check_id(rq->segment_id, 1, "segment_id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_campaign_get(w, rq->campaign_id, 1, s_exclude_locked);
}

static void s_launch_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__CampaignActionRequest *rq = (const void *)crm_work_request(w);
    s_action_t *st = crm_work_data(w);
    mkt_err_t e;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "campaign", rq->id, s_campaign_hint);
        return;
    }
    st->from = atoi(PQgetvalue(res, 0, 1));
    if (mkt_launch_check(st->from, atoi(PQgetvalue(res, 0, 7)), &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_campaign_launch(w, rq->id, s_status_set);
}

static void s_campaign_launch(crm_work_t *w)
{
    /* Launching is not one of the status actions: no action to record. */
    s_campaign_lock(w, (mkt_action_t)0, s_launch_locked);
}

typedef struct {
    int64_t added, recipients;
} s_target_t;

static void s_target_reply(crm_work_t *w)
{
    s_target_t *st = crm_work_data(w);
    Crm__V1__TargetCampaignReply r = CRM__V1__TARGET_CAMPAIGN_REPLY__INIT;
    r.added = st->added;
    r.recipients = st->recipients;
    crm_work_ok(w, &r.base);
}

/* Publishes the customers a target statement added (campaign.targeted),
 * when there are any. Returns 0, or -1 when the work was failed. */
static int s_targeted(crm_work_t *w, PGresult *res)
{
    Crm__V1__CampaignTargeted *t =
        crm_work_record(w, &crm__v1__campaign_targeted__descriptor, PQgetvalue(res, 0, 2));
    if (!t) {
        crm_work_fail_nomem(w);
        return -1;
    }
    if (t->n_customer_ids && mkt_emit_campaign_targeted(w, t) < 0)
        return -1;
    return 0;
}

static void s_target_segment_done(crm_work_t *w, PGresult *res)
{
    s_target_t *st = crm_work_data(w);
    st->added += strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    st->recipients = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    if (s_targeted(w, res) == 0)
        s_target_reply(w);
}

static void s_target_segment(crm_work_t *w, PGresult *res)
{
    const Crm__V1__TargetCampaignRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "segment_id", "segment", rq->segment_id,
                                "list segments with marketing.segment.list");
        return;
    }
    Crm__V1__Segment *g = crm_work_returned(w, &crm__v1__segment__descriptor, res);
    if (g)
        mkt_store_target_segment(w, rq->campaign_id, g->rules, g->n_rules, s_target_segment_done);
}

static void s_target_ids_done(crm_work_t *w, PGresult *res)
{
    const Crm__V1__TargetCampaignRequest *rq = (const void *)crm_work_request(w);
    s_target_t *st = crm_work_data(w);
    st->added = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    st->recipients = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    if (s_targeted(w, res) < 0)
        return;
    if (*rq->segment_id)
        mkt_store_segment_get(w, rq->segment_id, s_target_segment);
    else
        s_target_reply(w);
}

static void s_target_found(crm_work_t *w, PGresult *res)
{
    const Crm__V1__TargetCampaignRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "campaign_id", "campaign", rq->campaign_id, s_campaign_hint);
        return;
    }
    if (rq->n_customer_ids)
        mkt_store_target(w, rq->campaign_id, rq->customer_ids, rq->n_customer_ids,
                         s_target_ids_done);
    else
        mkt_store_segment_get(w, rq->segment_id, s_target_segment);
}

static void s_campaign_target(crm_work_t *w)
{
    const Crm__V1__TargetCampaignRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char field[64];
    s_target_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (mkt_check_id(rq->campaign_id, 1, "campaign_id", &e) < 0 ||
        mkt_check_id(rq->segment_id, 0, "segment_id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    if ((rq->n_customer_ids == 0 && !*rq->segment_id) || rq->n_customer_ids > MKT_TARGET_MAX) {
        mkt_err_set(&e, S_CODE(INVALID_ARGUMENT), "customer_ids",
                    rq->n_customer_ids ? "too many customers"
                                       : "customer_ids or segment_id is required",
                    "send 1 to 1000 customer ids per request, or a segment id", "got %zu",
                    rq->n_customer_ids);
        s_fail(w, &e);
        return;
    }
    for (size_t i = 0; i < rq->n_customer_ids; i++) {
        snprintf(field, sizeof field, "customer_ids[%zu]", i);
        if (mkt_check_id(rq->customer_ids[i], 1, field, &e) < 0) {
            s_fail(w, &e);
            return;
        }
    }
    memset(st, 0, sizeof *st);
    crm_work_set_data(w, st);
    mkt_store_campaign_get(w, rq->campaign_id, 0, s_target_found);
}

/* ---- segments -------------------------------------------------------------------- */

static void s_segment_joined(crm_work_t *w, PGresult *res)
{
    Crm__V1__Segment *g = crm_work_data(w);
    Crm__V1__SegmentReply r = CRM__V1__SEGMENT_REPLY__INIT;
    if (s_memberships_emit(w, g->id, res) < 0)
        return;
    r.segment = g;
    crm_work_ok(w, &r.base);
}

/* A new segment's members are stored and announced in its own
 * transaction. */
static void s_segment_created(crm_work_t *w, PGresult *res)
{
    Crm__V1__Segment *g = crm_work_returned(w, &crm__v1__segment__descriptor, res);
    if (!g)
        return;
    crm_work_set_data(w, g);
    mkt_store_segment_refresh(w, g->id, g->rules, g->n_rules, NULL, s_segment_joined);
}

static void s_segment_create(crm_work_t *w)
{
    const Crm__V1__CreateSegmentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char id[CRM_UUID_LEN + 1];
    if (mkt_segment_check(rq->segment, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    Crm__V1__Segment *g = crm_work_alloc(w, sizeof *g);
    if (!g) {
        crm_work_fail_nomem(w);
        return;
    }
    *g = *rq->segment;
    crm_uuid_new(id);
    if (!(g->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    mkt_store_segment_insert(w, g, s_segment_created);
}

static void s_segments_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListSegmentsReply r = CRM__V1__LIST_SEGMENTS_REPLY__INIT;
    int n = PQntuples(res);
    r.segments = (Crm__V1__Segment **)crm_work_records(w, &crm__v1__segment__descriptor, res, 0, n);
    if (!r.segments)
        return;
    r.n_segments = (size_t)n;
    crm_work_ok(w, &r.base);
}

static void s_segment_list(crm_work_t *w)
{
    mkt_store_segment_list(w, s_segments_listed);
}

/* A page size of 1 to 500, or 0 for the default; 1, or 0 when the work
 * has failed. */
static int s_limit_ok(crm_work_t *w, int32_t limit)
{
    mkt_err_t e;
    if (limit >= 0 && limit <= 500)
        return 1;
    mkt_err_set(&e, S_CODE(INVALID_ARGUMENT), "limit", "limit is out of range",
                "send 1 to 500, or 0 for 50", "got %d", (int)limit);
    s_fail(w, &e);
    return 0;
}

static int s_preview_limit(crm_work_t *w)
{
    const Crm__V1__PreviewSegmentRequest *rq = (const void *)crm_work_request(w);
    return rq->limit <= 0 ? 50 : rq->limit > 500 ? 500 : rq->limit;
}

static void s_previewed(crm_work_t *w, PGresult *res)
{
    Crm__V1__PreviewSegmentReply r = CRM__V1__PREVIEW_SEGMENT_REPLY__INIT;
    int n = PQntuples(res);
    char **ids = crm_work_alloc(w, (size_t)(n ? n : 1) * sizeof *ids);
    if (!ids) {
        crm_work_fail_nomem(w);
        return;
    }
    for (int i = 0; i < n; i++)
        ids[i] = PQgetvalue(res, i, 1);
    r.count = n ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    r.customer_ids = ids;
    r.n_customer_ids = (size_t)n;
    crm_work_ok(w, &r.base);
}

static void s_preview_segment(crm_work_t *w, PGresult *res)
{
    const Crm__V1__PreviewSegmentRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "segment", rq->id,
                                "list segments with marketing.segment.list");
        return;
    }
    Crm__V1__Segment *g = crm_work_returned(w, &crm__v1__segment__descriptor, res);
    if (g)
        mkt_store_segment_members(w, g->rules, g->n_rules, s_preview_limit(w), s_previewed);
}

static void s_segment_preview(crm_work_t *w)
{
    const Crm__V1__PreviewSegmentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (!s_limit_ok(w, rq->limit))
        return;
    if (*rq->id) {
        if (mkt_check_id(rq->id, 1, "id", &e) < 0) {
            s_fail(w, &e);
            return;
        }
        mkt_store_segment_get(w, rq->id, s_preview_segment);
        return;
    }
    if (mkt_segment_rules_check(rq->rules, rq->n_rules, "rules", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_segment_members(w, rq->rules, rq->n_rules, s_preview_limit(w), s_previewed);
}

static void s_members_segment(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SegmentMembersRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "segment", rq->id,
                                "list segments with marketing.segment.list");
        return;
    }
    mkt_store_segment_stored(w, rq->id, rq->limit <= 0 ? 50 : rq->limit, s_previewed);
}

static void s_segment_members(crm_work_t *w)
{
    const Crm__V1__SegmentMembersRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (!s_limit_ok(w, rq->limit))
        return;
    if (mkt_check_id(rq->id, 1, "id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_segment_get(w, rq->id, s_members_segment);
}

/* ---- messages -------------------------------------------------------------------- */

static void s_message_saved(crm_work_t *w, PGresult *res)
{
    Crm__V1__MessageReply r = CRM__V1__MESSAGE_REPLY__INIT;
    if ((r.template_ = crm_work_returned(w, &crm__v1__message_template__descriptor, res)))
        crm_work_ok(w, &r.base);
}

static void s_message_campaign(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetMessageRequest *rq = (const void *)crm_work_request(w);
    int ch[MKT_LIST_MAX];
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "template.campaign_id", "campaign", rq->template_->campaign_id,
                                s_campaign_hint);
        return;
    }
    size_t n = s_channels_parse(PQgetvalue(res, 0, 6), ch, MKT_LIST_MAX), i = 0;
    while (i < n && ch[i] != (int)rq->template_->channel)
        i++;
    if (i == n) {
        char detail[96];
        snprintf(detail, sizeof detail, "got %s; the campaign uses %s",
                 mkt_channel_name((int)rq->template_->channel), PQgetvalue(res, 0, 6));
        crm_work_fail(w, S_CODE(INVALID_ARGUMENT), "template.channel",
                      "channel is not one of the campaign's", detail,
                      "send a template for a channel the campaign uses");
        return;
    }
    mkt_store_message_put(w, rq->template_, s_message_saved);
}

static void s_message_set(crm_work_t *w)
{
    const Crm__V1__SetMessageRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_message_check(rq->template_, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_campaign_get(w, rq->template_->campaign_id, 0, s_message_campaign);
}

static void s_message_values(crm_work_t *w, PGresult *res)
{
    const Crm__V1__PreviewMessageRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__PreviewMessageReply r = CRM__V1__PREVIEW_MESSAGE_REPLY__INIT;
    if (PQntuples(res) == 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "campaign \"%s\" has no %s message", rq->campaign_id,
                 mkt_channel_name((int)rq->channel));
        crm_work_fail(w, S_CODE(NOT_FOUND), "channel", "message does not exist", detail,
                      "save one with marketing.message.set");
        return;
    }
    const char *values[MKT_FIELD_COUNT];
    for (int i = 0; i < MKT_FIELD_COUNT; i++)
        values[i] = PQgetvalue(res, 0, 2 + i);
    char *subject = mkt_render(PQgetvalue(res, 0, 0), values);
    char *body = mkt_render(PQgetvalue(res, 0, 1), values);
    r.subject = subject ? crm_work_strdup(w, subject) : NULL;
    r.body = body ? crm_work_strdup(w, body) : NULL;
    free(subject);
    free(body);
    if (!r.subject || !r.body) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_ok(w, &r.base);
}

static void s_message_preview(crm_work_t *w)
{
    const Crm__V1__PreviewMessageRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_id(rq->campaign_id, 1, "campaign_id", &e) < 0 ||
        mkt_check_enum(&crm__v1__channel__descriptor, (int)rq->channel, 0, "channel", &e) < 0 ||
        mkt_check_id(rq->customer_id, 1, "customer_id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_message_values(w, rq->campaign_id, (int)rq->channel, rq->customer_id,
                             s_message_values);
}

/* ---- expenses -------------------------------------------------------------------- */

static void s_expense_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__ExpenseReply *r = crm_work_returned(w, &crm__v1__expense_reply__descriptor, res);
    if (r && mkt_emit_expense_recorded(w, r->expense, r->budget) == 0)
        crm_work_ok(w, &r->base);
}

static void s_expense_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__RecordExpenseRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    int flagged;
    char id[CRM_UUID_LEN + 1];
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "expense.campaign_id", "campaign", rq->expense->campaign_id,
                                s_campaign_hint);
        return;
    }
    int64_t budget = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    int64_t spent = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    if (mkt_expense_admit(budget, spent, rq->expense->amount_minor, atoi(PQgetvalue(res, 0, 4)),
                          &flagged, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    Crm__V1__Expense *x = crm_work_alloc(w, sizeof *x);
    if (!x) {
        crm_work_fail_nomem(w);
        return;
    }
    *x = *rq->expense;
    crm_uuid_new(id);
    if (!(x->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    mkt_store_expense_insert(w, x, flagged, s_expense_inserted);
}

static void s_expense_record(crm_work_t *w)
{
    const Crm__V1__RecordExpenseRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_expense_check(rq->expense, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    mkt_store_campaign_get(w, rq->expense->campaign_id, 1, s_expense_locked);
}

static void s_expenses_listed(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "campaign_id", "campaign", crm_work_data(w), s_campaign_hint);
        return;
    }
    Crm__V1__ListExpensesReply *r =
        crm_work_returned(w, &crm__v1__list_expenses_reply__descriptor, res);
    if (r)
        crm_work_ok(w, &r->base);
}

static void s_expense_list(crm_work_t *w)
{
    const Crm__V1__ListExpensesRequest *rq = (const void *)crm_work_request(w);
    if (s_campaign_id(w, rq->campaign_id, "campaign_id"))
        mkt_store_expense_list(w, rq->campaign_id, s_expenses_listed);
}

/* ---- preferences --------------------------------------------------------------------- */

static void s_pref_stored(crm_work_t *w, PGresult *res)
{
    Crm__V1__PreferencesReply r = CRM__V1__PREFERENCES_REPLY__INIT;
    r.preferences = crm_work_returned(w, &crm__v1__contact_preferences__descriptor, res);
    if (r.preferences && mkt_emit_preferences_changed(w, r.preferences, "command") == 0)
        crm_work_ok(w, &r.base);
}

static void s_pref_zone(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetPreferencesRequest *rq = (const void *)crm_work_request(w);
    if (!crm_db_get_bool(res, 0, 0)) {
        char detail[160];
        snprintf(detail, sizeof detail, "got \"%s\"", rq->preferences->time_zone);
        crm_work_fail(w, S_CODE(INVALID_ARGUMENT), "preferences.time_zone", "time zone is unknown",
                      detail, "send an IANA zone name such as Europe/Paris or America/New_York");
        return;
    }
    mkt_store_pref_put(w, rq->preferences, s_pref_stored);
}

static void s_pref_set(crm_work_t *w)
{
    const Crm__V1__SetPreferencesRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_preferences_check(rq->preferences, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    if (*rq->preferences->time_zone)
        mkt_store_zone_known(w, rq->preferences->time_zone, s_pref_zone);
    else
        mkt_store_pref_put(w, rq->preferences, s_pref_stored);
}

static void s_pref_shown(crm_work_t *w, PGresult *res)
{
    Crm__V1__PreferencesReply r = CRM__V1__PREFERENCES_REPLY__INIT;
    Crm__V1__ContactPreferences none = CRM__V1__CONTACT_PREFERENCES__INIT;
    if (PQntuples(res) == 0) {
        /* Nothing set: the defaults (no opt-out, any time, no consent). */
        none.customer_id = crm_work_data(w);
        r.preferences = &none;
    } else if (!(r.preferences =
                     crm_work_returned(w, &crm__v1__contact_preferences__descriptor, res))) {
        return;
    }
    crm_work_ok(w, &r.base);
}

static void s_pref_show(crm_work_t *w)
{
    const Crm__V1__ShowPreferencesRequest *rq = (const void *)crm_work_request(w);
    if (s_campaign_id(w, rq->customer_id, "customer_id"))
        mkt_store_pref_get(w, rq->customer_id, s_pref_shown);
}

/* ---- responses ------------------------------------------------------------------------- */

typedef struct {
    Crm__V1__CampaignResponseRecorded r; /* normalised copy of the request's */
    char email[256];
    int channels[MKT_LIST_MAX];
    size_t n_channels;
    int registered;
    char *response_id;
} s_resp_t;

static void s_resp_done(crm_work_t *w)
{
    s_resp_t *st = crm_work_data(w);
    Crm__V1__ResponseReply r = CRM__V1__RESPONSE_REPLY__INIT;
    r.response_id = st->response_id;
    r.response = &st->r;
    r.person_registered = st->registered;
    crm_work_ok(w, &r.base);
}

static void s_resp_opted_out(crm_work_t *w, PGresult *res)
{
    Crm__V1__ContactPreferences *p =
        crm_work_returned(w, &crm__v1__contact_preferences__descriptor, res);
    if (!p)
        return;
    if (crm_db_get_bool(res, 0, 1) && mkt_emit_preferences_changed(w, p, "response") < 0)
        return;
    s_resp_done(w);
}

static void s_resp_membership(crm_work_t *w);

static void s_resp_inserted(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    if (!(st->response_id = crm_work_strdup(w, PQgetvalue(res, 0, 0)))) {
        crm_work_fail_nomem(w);
        return;
    }
    if (mkt_emit_response_recorded(w, &st->r) < 0)
        return;
    /* Responses feed the "responded to / converted in campaign X" rules. */
    s_member_refresh(w, st->r.customer_id, s_resp_membership);
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

static void s_resp_campaign(crm_work_t *w, PGresult *res)
{
    s_resp_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "response.campaign_id", "campaign", st->r.campaign_id,
                                s_campaign_hint);
        return;
    }
    st->n_channels = s_channels_parse(PQgetvalue(res, 0, 6), st->channels, MKT_LIST_MAX);
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

static void s_response_record(crm_work_t *w)
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
        s_fail(w, &e);
        return;
    }
    char cur[4];
    mkt_check_currency(rq->response->currency, cur, "response.currency", &e);
    st->r = *rq->response;
    st->r.email = st->email;
    if (!(st->r.currency = crm_work_strdup(w, cur)) ||
        !(st->r.customer_id = crm_work_strdup(w, st->r.customer_id))) {
        crm_work_fail_nomem(w);
        return;
    }
    /* Ids travel in canonical (lower-case) form, as the database writes them. */
    for (char *c = st->r.customer_id; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    crm_work_set_data(w, st);
    mkt_store_campaign_get(w, st->r.campaign_id, 0, s_resp_campaign);
}

/* ---- results ------------------------------------------------------------------------------- */

typedef struct {
    char **ids;
    size_t n;
} s_results_t;

/* The rows of mkt_store_results as messages, derived figures filled; NULL
 * with the work failed. */
static Crm__V1__CampaignResults **s_results_rows(crm_work_t *w, PGresult *res, const char *field)
{
    s_results_t *st = crm_work_data(w);
    int n = PQntuples(res);
    Crm__V1__CampaignResults **v = crm_work_alloc(w, (size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (PQgetisnull(res, i, 0)) {
            char f[64];
            snprintf(f, sizeof f, field, i);
            crm_work_fail_not_found(w, f, "campaign", st->ids[i], s_campaign_hint);
            return NULL;
        }
        if (!(v[i] = crm_work_record(w, &crm__v1__campaign_results__descriptor,
                                     crm_db_get_opt(res, i, 0)))) {
            crm_work_fail_unreadable(w);
            return NULL;
        }
        mkt_results_derive(v[i]);
    }
    return v;
}

static void s_results_done(crm_work_t *w, PGresult *res)
{
    Crm__V1__CampaignResultsReply r = CRM__V1__CAMPAIGN_RESULTS_REPLY__INIT;
    Crm__V1__CampaignResults **v = s_results_rows(w, res, "id");
    if (!v)
        return;
    r.results = v[0];
    crm_work_ok(w, &r.base);
}

static void s_campaign_results(crm_work_t *w)
{
    const Crm__V1__CampaignResultsRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    s_results_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (mkt_check_id(rq->id, 1, "id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    st->ids = (char **)&rq->id;
    st->n = 1;
    crm_work_set_data(w, st);
    mkt_store_results(w, st->ids, 1, s_results_done);
}

static void s_compare_done(crm_work_t *w, PGresult *res)
{
    Crm__V1__CompareCampaignsReply r = CRM__V1__COMPARE_CAMPAIGNS_REPLY__INIT;
    Crm__V1__CampaignResults **v = s_results_rows(w, res, "ids[%d]");
    if (!v)
        return;
    r.results = v;
    r.n_results = (size_t)PQntuples(res);
    crm_work_ok(w, &r.base);
}

static void s_campaign_compare(crm_work_t *w)
{
    const Crm__V1__CompareCampaignsRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char field[64];
    s_results_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (rq->n_ids < 2 || rq->n_ids > MKT_COMPARE_MAX) {
        mkt_err_set(&e, S_CODE(INVALID_ARGUMENT), "ids",
                    rq->n_ids < 2 ? "at least two campaigns are needed" : "too many campaigns",
                    "send 2 to 20 campaign ids", "got %zu", rq->n_ids);
        s_fail(w, &e);
        return;
    }
    for (size_t i = 0; i < rq->n_ids; i++) {
        snprintf(field, sizeof field, "ids[%zu]", i);
        if (mkt_check_id(rq->ids[i], 1, field, &e) < 0) {
            s_fail(w, &e);
            return;
        }
    }
    st->ids = rq->ids;
    st->n = rq->n_ids;
    crm_work_set_data(w, st);
    mkt_store_results(w, st->ids, st->n, s_compare_done);
}

/* ---- consumer: people from sales and support ------------------------------------------------ */

static void s_person_merged(crm_work_t *w, PGresult *res)
{
    s_member_refresh(w, crm_work_data(w), s_applied);
}

static void s_people_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Person *p = NULL;
    char email[256];
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED)
        p = ev->person_registered->person;
    else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_UPDATED)
        p = ev->person_updated->person;
    if (!p) {
        crm_work_ok(w, NULL); /* another person event (or none): nothing to keep */
        return;
    }
    if (!crm_uuid_valid(p->id)) {
        crm_warn("marketing.people", "%s event %s names no valid person id; ignored", ev->type,
                 ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    email[0] = 0;
    if (p->n_emails > 0 && crm_email_normalize(p->emails[0], email, sizeof email) != 0)
        email[0] = 0;
    crm_work_set_data(w, p->id);
    mkt_store_person_profile(w, p, email, ev->source, s_person_merged);
}

/* ---- consumer: orders from sales, attributed to campaigns ----------------------------------- */

static void s_order_attributed(crm_work_t *w, PGresult *res)
{
    const Crm__V1__Order *o = crm_work_event(w)->order_placed->order;
    if (PQntuples(res) == 0) {
        /* No campaign reached the customer in time; the purchase history
         * still changed. */
        s_member_refresh(w, o->person_id, s_applied);
        return;
    }
    Crm__V1__ConversionAttributed c = CRM__V1__CONVERSION_ATTRIBUTED__INIT;
    c.campaign_id = PQgetvalue(res, 0, 0);
    c.customer_id = o->person_id;
    c.order_id = o->id;
    c.revenue_minor = o->total_minor;
    c.currency = o->currency;
    c.ordered_at_us = o->ordered_at_us ? o->ordered_at_us : crm_work_event(w)->time_us;
    if (mkt_emit_conversion_attributed(w, &c) == 0)
        s_member_refresh(w, o->person_id, s_applied);
}

/* Kept as purchase history (segments); then attributed. */
static void s_order_kept(crm_work_t *w, PGresult *res)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Order *o = ev->order_placed->order;
    mkt_store_attribute(w, o->id, o->person_id, o->total_minor, o->currency,
                        o->ordered_at_us ? o->ordered_at_us : ev->time_us, s_order_attributed);
}

static void s_orders_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    if (ev->payload_case != CRM__V1__EVENT__PAYLOAD_ORDER_PLACED || !ev->order_placed->order) {
        crm_work_ok(w, NULL);
        return;
    }
    const Crm__V1__Order *o = ev->order_placed->order;
    if (!crm_uuid_valid(o->id) || !crm_uuid_valid(o->person_id) || o->total_minor <= 0) {
        crm_info("marketing.orders", "order event %s has no person, id or total; not attributed",
                 ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    mkt_store_purchase_insert(w, o, o->ordered_at_us ? o->ordered_at_us : ev->time_us,
                              s_order_kept);
}

/* ---- consumer: support's tickets, kept as segment signals ------------------------------------ */

static void s_ticket_kept(crm_work_t *w, PGresult *res)
{
    s_member_refresh(w, crm_work_data(w), s_applied);
}

/* The Ticket an event of support carries whole, or NULL. */
static const Crm__V1__Ticket *s_event_ticket(const Crm__V1__Event *ev)
{
    switch (ev->payload_case) {
    case CRM__V1__EVENT__PAYLOAD_TICKET_ASSIGNED:
        return ev->ticket_assigned->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_REPLIED:
        return ev->ticket_replied->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_NOTE_ADDED:
        return ev->ticket_note_added->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_STATUS_CHANGED:
        return ev->ticket_status_changed->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_RESOLVED:
        return ev->ticket_resolved->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_REOPENED:
        return ev->ticket_reopened->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_CLOSED:
        return ev->ticket_closed->ticket;
    case CRM__V1__EVENT__PAYLOAD_TICKET_RATED:
        return ev->ticket_rated->ticket;
    default:
        return NULL;
    }
}

static void s_support_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const char *id = NULL, *customer = NULL;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_OPENED) {
        id = ev->ticket_opened->ticket_id;
        customer = ev->ticket_opened->customer_id;
    } else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_FEEDBACK_TAGGED) {
        id = ev->feedback_tagged->ticket_id;
        customer = ev->feedback_tagged->customer_id;
    } else {
        const Crm__V1__Ticket *t = s_event_ticket(ev);
        if (!t) {
            crm_work_ok(w, NULL); /* another support event: nothing segments read */
            return;
        }
        id = t->id;
        customer = t->customer_id;
    }
    if (!crm_uuid_valid(id) || !crm_uuid_valid(customer)) {
        crm_warn("marketing.support", "%s event %s names no valid ticket or customer id; ignored",
                 ev->type, ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    crm_work_set_data(w, (void *)customer);
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_OPENED) {
        mkt_store_ticket_put(w, id, customer, (int)ev->ticket_opened->type,
                             CRM__V1__TICKET_STATUS__TICKET_STATUS_NEW, NULL, 0, 0, 0,
                             s_ticket_kept);
        return;
    }
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_FEEDBACK_TAGGED) {
        const Crm__V1__FeedbackTagged *f = ev->feedback_tagged;
        mkt_store_ticket_tag(w, id, customer, (int)f->type, f->tags, f->n_tags, s_ticket_kept);
        return;
    }
    const Crm__V1__Ticket *t = s_event_ticket(ev);
    int rating = t->satisfaction ? t->satisfaction->rating : 0;
    int64_t rated_at = t->satisfaction ? t->satisfaction->rated_at_us : 0;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_RATED) {
        rating = ev->ticket_rated->rating;
        if (!rated_at)
            rated_at = ev->time_us;
    }
    if (rating < 1 || rating > 5)
        rating = 0;
    mkt_store_ticket_put(w, id, customer, (int)t->type, (int)t->status, t->tags, t->n_tags, rating,
                         rated_at, s_ticket_kept);
}

/* ---- sending: the scan ------------------------------------------------------------------ */

static mkt_t *s_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

static void s_scan_recorded(crm_work_t *w, PGresult *res)
{
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

/* Decides one candidate row; appends the decision to `out` and emits it.
 * Returns 0 or -1 (work failed). */
static int s_decide(crm_work_t *w, PGresult *res, int i, int64_t now, json_t *out, json_t *batch)
{
    mkt_t *ctx = s_ctx(w);
    int offered[MKT_LIST_MAX], usable[MKT_LIST_MAX];
    size_t n = s_channels_parse(PQgetvalue(res, i, 2), offered, MKT_LIST_MAX), k = 0;
    Crm__V1__ContactPreferences *p = NULL;
    if (!PQgetisnull(res, i, 3) &&
        !(p = crm_work_record(w, &crm__v1__contact_preferences__descriptor,
                              crm_db_get_opt(res, i, 3)))) {
        crm_work_fail_unreadable(w);
        return -1;
    }
    json_t *templates =
        json_loads(PQgetisnull(res, i, 10) ? "{}" : PQgetvalue(res, i, 10), 0, NULL);
    const char *subject = NULL, *body = NULL;
    /* Only channels with a message can be used. */
    for (size_t j = 0; j < n; j++)
        if (s_template(templates, offered[j], &subject, &body) == 0)
            usable[k++] = offered[j];
    mkt_contact_t d;
    mkt_contact_decide(p, usable, k, now, atoi(PQgetvalue(res, i, 4)), &d);
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
    if (d.kind == MKT_CONTACT_SEND && d.channel == CRM__V1__CHANNEL__CHANNEL_EMAIL && !*email) {
        d.kind = MKT_CONTACT_SUPPRESSED;
        d.code = "no_address";
        snprintf(d.reason, sizeof d.reason, "no email address known");
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
    json_t *row = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:I, s:s, s:s, s:s}", "campaign_id",
                            PQgetvalue(res, i, 0), "customer_id", PQgetvalue(res, i, 1), "status",
                            status, "channel", d.channel, "reason", d.reason, "reason_code",
                            d.code ? d.code : "", "due_us", (json_int_t)d.at_us, "address", email,
                            "subject", rs ? rs : "", "body", rb ? rb : "");
    int bad = !templates || !row || (d.kind == MKT_CONTACT_SEND && (!rs || !rb));
    json_decref(templates);
    free(rs);
    free(rb);
    if (bad || json_array_append_new(out, row) < 0) {
        crm_work_fail_nomem(w);
        return -1;
    }
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
    mkt_t *ctx = crm_work_data(w);
    int n = PQntuples(res);
    ctx->scan_full = n >= MKT_SEND_BATCH;
    if (n == 0) {
        crm_work_ok(w, NULL);
        return;
    }
    json_t *out = json_array(), *batch = json_object();
    int64_t now = crm_now_us();
    if (!out || !batch) {
        json_decref(out);
        json_decref(batch);
        crm_work_fail_nomem(w);
        return;
    }
    for (int i = 0; i < n; i++)
        if (s_decide(w, res, i, now, out, batch) < 0) {
            json_decref(out);
            json_decref(batch);
            return;
        }
    json_decref(batch);
    char *text = json_dumps(out, JSON_COMPACT);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    json_decref(out);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    mkt_store_send_record(w, copy, s_scan_recorded);
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
    mkt_store_send_candidates(w, MKT_SEND_BATCH, s_ctx(w)->freq_days, s_scan_candidates);
}

static void s_scan_started(crm_work_t *w, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++)
        crm_info("marketing.campaign_started", "campaign %s is running", PQgetvalue(res, i, 0));
    mkt_store_followups_due(w, s_followups_added);
}

void mkt_send_scan(crm_work_t *w)
{
    crm_work_set_data(w, s_ctx(w));
    mkt_store_start_due(w, s_scan_started);
}

/* ---- segments: the membership scan ------------------------------------------------------- */

void mkt_segment_scan(crm_work_t *w)
{
    s_member_start(w, NULL, mkt_store_segment_list_timed, s_applied);
}

/* ---- sending: the delivery pump's works -------------------------------------------------- */

void mkt_batch_clear(mkt_t *ctx)
{
    for (size_t i = 0; i < ctx->n_batch; i++) {
        mkt_delivery_t *d = &ctx->batch[i];
        free(d->id);
        free(d->address);
        free(d->subject);
        free(d->body);
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
        if (!d->id || !d->address || !d->subject || !d->body) {
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
    mkt_store_delivery_outcome(w, ctx->outcomes, ctx->max_attempts, ctx->retry_ms, s_outcome_done);
}

/* ---- tables -----------------------------------------------------------------------------------
 */

#define S_CMD(name, msg, fn, ro)                                                                   \
    {                                                                                              \
        name, &crm__v1__##msg##__descriptor, fn, ro                                                \
    }

const crm_command_def_t mkt_commands[] = {
    S_CMD("marketing.campaign.create", create_campaign_request, s_campaign_create, 0),
    S_CMD("marketing.campaign.show", show_campaign_request, s_campaign_show, 1),
    S_CMD("marketing.campaign.list", list_campaigns_request, s_campaign_list, 1),
    S_CMD("marketing.campaign.schedule", schedule_campaign_request, s_campaign_schedule, 0),
    S_CMD("marketing.campaign.target", target_campaign_request, s_campaign_target, 0),
    S_CMD("marketing.campaign.pause", campaign_action_request, s_campaign_pause, 0),
    S_CMD("marketing.campaign.resume", campaign_action_request, s_campaign_resume, 0),
    S_CMD("marketing.campaign.cancel", campaign_action_request, s_campaign_cancel, 0),
    S_CMD("marketing.campaign.complete", campaign_action_request, s_campaign_complete, 0),
    S_CMD("marketing.campaign.launch", campaign_action_request, s_campaign_launch, 0),
    S_CMD("marketing.campaign.offer", add_offer_request, s_campaign_offer, 0),
    S_CMD("marketing.campaign.budget", set_budget_request, s_campaign_budget, 0),
    S_CMD("marketing.campaign.exclude", exclude_segment_request, s_campaign_exclude, 0),
    S_CMD("marketing.campaign.results", campaign_results_request, s_campaign_results, 1),
    S_CMD("marketing.campaign.compare", compare_campaigns_request, s_campaign_compare, 1),
    S_CMD("marketing.expense.record", record_expense_request, s_expense_record, 0),
    S_CMD("marketing.expense.list", list_expenses_request, s_expense_list, 1),
    S_CMD("marketing.preference.set", set_preferences_request, s_pref_set, 0),
    S_CMD("marketing.preference.show", show_preferences_request, s_pref_show, 1),
    S_CMD("marketing.response.record", record_response_request, s_response_record, 0),
    S_CMD("marketing.message.set", set_message_request, s_message_set, 0),
    S_CMD("marketing.message.preview", preview_message_request, s_message_preview, 1),
    S_CMD("marketing.segment.create", create_segment_request, s_segment_create, 0),
    S_CMD("marketing.segment.list", list_segments_request, s_segment_list, 1),
    S_CMD("marketing.segment.preview", preview_segment_request, s_segment_preview, 1),
    S_CMD("marketing.segment.members", segment_members_request, s_segment_members, 1),
    {NULL, NULL, NULL, 0},
};

static const char *const s_people_prefixes[] = {"crm.sales.person.", "crm.support.person.", NULL};
static const char *const s_order_prefixes[] = {"crm.sales.order.placed.", NULL};
static const char *const s_support_prefixes[] = {"crm.support.ticket.", "crm.support.feedback.",
                                                 NULL};

const crm_consumer_def_t mkt_consumers[] = {
    {"marketing.people", s_people_prefixes, s_people_apply},
    {"marketing.orders", s_order_prefixes, s_orders_apply},
    {"marketing.support", s_support_prefixes, s_support_apply},
    {NULL, NULL, NULL},
};
