/* handlers/campaign.c: the campaign and its life: create, show, list,
 * schedule, the status actions, offers, exclusions, launch and targeting.
 * The budget is in budget.c, the message templates in message.c. */
#include "handlers.h"

#include <crm/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                                c->follows_campaign_id, MKT_CAMPAIGN_HINT);
        return;
    }
    mkt_store_campaign_insert(w, c, s_campaign_created);
}

void mkt_campaign_create(crm_work_t *w)
{
    const Crm__V1__CreateCampaignRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char id[CRM_UUID_LEN + 1];
    if (mkt_campaign_check(rq->campaign, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    Crm__V1__Campaign *c = crm_work_alloc(w, sizeof *c);
    if (!c) {
        crm_work_fail_nomem(w);
        return;
    }
    *c = *rq->campaign; /* shallow: the strings stay the request's */
    /* Below level all the creator owns it; it may name only an owner in
     * its reach (crm/access.h). */
    if (crm_work_level(w, CRM_REC_CAMPAIGN, CRM_ACT_CREATE) != CRM_LEVEL_ALL) {
        if (!*c->owner && !(c->owner = crm_work_strdup(w, crm_work_actor(w)))) {
            crm_work_fail_nomem(w);
            return;
        }
        if (!crm_work_may(w, CRM_REC_CAMPAIGN, CRM_ACT_CREATE, c->owner)) {
            crm_work_fail(
                w, MKT_CODE(PERMISSION_DENIED), "campaign.owner", "owner is out of reach",
                crm_work_printf(w, "your roles do not let you give a campaign to \"%s\"", c->owner),
                "leave the owner empty to own it yourself");
            return;
        }
    }
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
    Crm__V1__CampaignReply *r = NULL;
    if (PQntuples(res) > 0 &&
        !(r = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res)))
        return;
    /* Out of reach of the principal's roles: as if it did not exist. */
    if (!r || !r->campaign ||
        !crm_work_may(w, CRM_REC_CAMPAIGN, CRM_ACT_READ, r->campaign->owner)) {
        crm_work_fail_not_found(w, "id", "campaign", crm_work_data(w), MKT_CAMPAIGN_HINT);
        return;
    }
    crm_work_ok(w, &r->base);
}

/* Checks a required campaign id; keeps it as the work's data. */
const char *mkt_campaign_id(crm_work_t *w, const char *id, const char *field)
{
    mkt_err_t e;
    if (mkt_check_id(id, 1, field, &e) < 0) {
        mkt_fail(w, &e);
        return NULL;
    }
    crm_work_set_data(w, (void *)id);
    return id;
}

void mkt_campaign_show(crm_work_t *w)
{
    const Crm__V1__ShowCampaignRequest *rq = (const void *)crm_work_request(w);
    if (mkt_campaign_id(w, rq->id, "id"))
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

void mkt_campaign_list(crm_work_t *w)
{
    const Crm__V1__ListCampaignsRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_enum(&crm__v1__campaign_status__descriptor, (int)rq->status, 1, "status", &e) <
        0) {
        mkt_fail(w, &e);
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
        crm_work_fail_not_found(w, "id", "campaign", rq->id, MKT_CAMPAIGN_HINT);
        return;
    }
    if (mkt_schedule_check(atoi(PQgetvalue(res, 0, 1)), rq->start_at_us, crm_now_us(), &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    if (atoi(PQgetvalue(res, 0, 7)) == 0) {
        crm_work_fail(w, MKT_CODE(FAILED_PRECONDITION), "id", "campaign has no message",
                      "the campaign has no message template for any of its channels",
                      "save one with marketing.message.set first");
        return;
    }
    mkt_store_campaign_schedule(w, rq->id, rq->start_at_us, s_campaign_scheduled);
}

void mkt_campaign_schedule(crm_work_t *w)
{
    const Crm__V1__ScheduleCampaignRequest *rq = (const void *)crm_work_request(w);
    if (mkt_campaign_id(w, rq->id, "id"))
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
        crm_work_fail_not_found(w, "id", "campaign", rq->id, MKT_CAMPAIGN_HINT);
        return;
    }
    Crm__V1__CampaignReply *cur = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (!cur)
        return;
    if (!cur->campaign || !crm_work_may(w, CRM_REC_CAMPAIGN, CRM_ACT_EDIT, cur->campaign->owner)) {
        crm_work_fail_not_found(w, "id", "campaign", rq->id, MKT_CAMPAIGN_HINT);
        return;
    }
    st->from = (int)cur->campaign->status;
    if (mkt_campaign_next(st->from, st->action, cur->campaign->start_at_us, crm_now_us(), &next,
                          &e) < 0) {
        mkt_fail(w, &e);
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
        mkt_fail(w, &e);
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

void mkt_campaign_pause(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_PAUSE);
}

void mkt_campaign_resume(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_RESUME);
}

void mkt_campaign_cancel(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_CANCEL);
}

void mkt_campaign_complete(crm_work_t *w)
{
    s_campaign_action(w, MKT_ACTION_COMPLETE);
}

/* ---- offers, exclusions, launch ------------------------------------------ */

void mkt_campaign_updated(crm_work_t *w, PGresult *res)
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
        crm_work_fail_not_found(w, "campaign_id", "campaign", rq->campaign_id, MKT_CAMPAIGN_HINT);
        return;
    }
    if (mkt_campaign_open_check(atoi(PQgetvalue(res, 0, 1)), "offers", &e) < 0) {
        snprintf(e.field, sizeof e.field, "campaign_id");
        mkt_fail(w, &e);
        return;
    }
    Crm__V1__CampaignReply *cur = crm_work_returned(w, &crm__v1__campaign_reply__descriptor, res);
    if (!cur)
        return;
    if (cur->campaign->n_offers >= MKT_LIST_MAX) {
        crm_work_fail(w, MKT_CODE(FAILED_PRECONDITION), "campaign_id",
                      "campaign has too many offers", "a campaign has at most 50 offers",
                      "create another campaign");
        return;
    }
    crm_work_set_data(w, (void *)"offer");
    mkt_store_campaign_offer_add(w, rq->campaign_id, rq->offer, mkt_campaign_updated);
}

void mkt_campaign_offer(crm_work_t *w)
{
    const Crm__V1__AddOfferRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_offer_check(rq, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_campaign_get(w, rq->campaign_id, 1, s_offer_locked);
}

static void s_excluded(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ExcludeSegmentRequest *rq = (const void *)crm_work_request(w);
    crm_work_set_data(w, (void *)"exclude");
    mkt_store_campaign_get(w, rq->campaign_id, 0, mkt_campaign_updated);
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
        crm_work_fail_not_found(w, "campaign_id", "campaign", rq->campaign_id, MKT_CAMPAIGN_HINT);
        return;
    }
    if (mkt_campaign_open_check(atoi(PQgetvalue(res, 0, 1)), "exclusions", &e) < 0) {
        snprintf(e.field, sizeof e.field, "campaign_id");
        mkt_fail(w, &e);
        return;
    }
    mkt_store_segment_get(w, rq->segment_id, s_exclude_segment);
}

void mkt_campaign_exclude(crm_work_t *w)
{
    const Crm__V1__ExcludeSegmentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_id(rq->campaign_id, 1, "campaign_id", &e) < 0 ||
        mkt_check_id(rq->segment_id, 1, "segment_id", &e) < 0) {
        mkt_fail(w, &e);
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
        crm_work_fail_not_found(w, "id", "campaign", rq->id, MKT_CAMPAIGN_HINT);
        return;
    }
    st->from = atoi(PQgetvalue(res, 0, 1));
    if (mkt_launch_check(st->from, atoi(PQgetvalue(res, 0, 7)), &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    /* The send scans run once this command's batch has sent its COMMIT
     * (a scan never runs beside a batch of commands), so the first
     * recipients are decided at once rather than at the next
     * MARKETING_SEND_SCAN_MS tick; if the launch fails after all, they
     * find nothing new. */
    mkt_send_kick(crm_service_user(crm_work_service(w)));
    mkt_store_campaign_launch(w, rq->id, s_status_set);
}

void mkt_campaign_launch(crm_work_t *w)
{
    /* Launching is not one of the status actions: no action to record. */
    s_campaign_lock(w, (mkt_action_t)0, s_launch_locked);
}

/* ---- targeting ----------------------------------------------------------- */

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
        mkt_store_target_segment(w, rq->campaign_id, rq->segment_id, rq->always_on, g->rules,
                                 g->n_rules, s_target_segment_done);
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

/* Only people marketing knows (from sales, support or a response) can be
 * targeted: a made-up id would be a recipient nobody can reach. */
static void s_target_known(crm_work_t *w, PGresult *res)
{
    const Crm__V1__TargetCampaignRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) > 0) {
        char field[64];
        snprintf(field, sizeof field, "customer_ids[%s]", PQgetvalue(res, 0, 0));
        crm_work_fail_not_found(w, field, "customer", PQgetvalue(res, 0, 1),
                                "target people registered in sales or support, or found by"
                                " marketing.segment.preview");
        return;
    }
    mkt_store_target(w, rq->campaign_id, rq->customer_ids, rq->n_customer_ids, s_target_ids_done);
}

static void s_target_found(crm_work_t *w, PGresult *res)
{
    const Crm__V1__TargetCampaignRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "campaign_id", "campaign", rq->campaign_id, MKT_CAMPAIGN_HINT);
        return;
    }
    if (rq->n_customer_ids)
        mkt_store_unknown_people(w, rq->customer_ids, rq->n_customer_ids, s_target_known);
    else
        mkt_store_segment_get(w, rq->segment_id, s_target_segment);
}

void mkt_campaign_target(crm_work_t *w)
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
        mkt_fail(w, &e);
        return;
    }
    if ((rq->n_customer_ids == 0 && !*rq->segment_id) || rq->n_customer_ids > MKT_TARGET_MAX) {
        mkt_err_set(&e, MKT_CODE(INVALID_ARGUMENT), "customer_ids",
                    rq->n_customer_ids ? "too many customers"
                                       : "customer_ids or segment_id is required",
                    "send 1 to 1000 customer ids per request, or a segment id", "got %zu",
                    rq->n_customer_ids);
        mkt_fail(w, &e);
        return;
    }
    if (rq->always_on && !*rq->segment_id) {
        crm_work_fail(w, MKT_CODE(INVALID_ARGUMENT), "always_on", "always-on needs a segment",
                      "an always-on campaign enrols whoever enters a segment",
                      "send segment_id with always_on");
        return;
    }
    for (size_t i = 0; i < rq->n_customer_ids; i++) {
        snprintf(field, sizeof field, "customer_ids[%zu]", i);
        if (mkt_check_id(rq->customer_ids[i], 1, field, &e) < 0) {
            mkt_fail(w, &e);
            return;
        }
    }
    memset(st, 0, sizeof *st);
    crm_work_set_data(w, st);
    mkt_store_campaign_get(w, rq->campaign_id, 0, s_target_found);
}
