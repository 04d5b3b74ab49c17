/* handlers/segment.c: segments (marketing.segment.*) and the membership
 * machinery that keeps their stored members current: per customer in the
 * transaction of whatever changed them (mkt_member_refresh), and for rules
 * on time passing in the periodic scan (mkt_segment_scan). */
#include "handlers.h"

#include <crm/db.h>
#include <crm/util.h>

#include <stdlib.h>
#include <string.h>

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
 * returned (rows: member, customer_id, NULL), then the enrolments in
 * always-on campaigns (rows: true, customer_id, campaign_id) as
 * campaign.targeted, as targeting does; 0, or -1 when an emit failed
 * (the work has failed). */
static int s_memberships_emit(crm_work_t *w, const char *segment_id, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        Crm__V1__SegmentMembershipChanged m = CRM__V1__SEGMENT_MEMBERSHIP_CHANGED__INIT;
        if (!PQgetisnull(res, i, 2)) {
            Crm__V1__CampaignTargeted t = CRM__V1__CAMPAIGN_TARGETED__INIT;
            char *id = PQgetvalue(res, i, 1);
            t.campaign_id = PQgetvalue(res, i, 2);
            t.customer_ids = &id;
            t.n_customer_ids = 1;
            if (mkt_emit_campaign_targeted(w, &t) < 0)
                return -1;
            continue;
        }
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
void mkt_member_refresh(crm_work_t *w, const char *customer, void (*done)(crm_work_t *w))
{
    s_member_start(w, customer, mkt_store_segment_list, done);
}

/* ---- commands ------------------------------------------------------------ */

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

void mkt_segment_create(crm_work_t *w)
{
    const Crm__V1__CreateSegmentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char id[CRM_UUID_LEN + 1];
    if (mkt_segment_check(rq->segment, &e) < 0) {
        mkt_fail(w, &e);
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

void mkt_segment_list(crm_work_t *w)
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
    mkt_err_set(&e, MKT_CODE(INVALID_ARGUMENT), "limit", "limit is out of range",
                "send 1 to 500, or 0 for 50", "got %d", (int)limit);
    mkt_fail(w, &e);
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

void mkt_segment_preview(crm_work_t *w)
{
    const Crm__V1__PreviewSegmentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (!s_limit_ok(w, rq->limit))
        return;
    if (*rq->id) {
        if (mkt_check_id(rq->id, 1, "id", &e) < 0) {
            mkt_fail(w, &e);
            return;
        }
        mkt_store_segment_get(w, rq->id, s_preview_segment);
        return;
    }
    if (mkt_segment_rules_check(rq->rules, rq->n_rules, "rules", &e) < 0) {
        mkt_fail(w, &e);
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

void mkt_segment_members(crm_work_t *w)
{
    const Crm__V1__SegmentMembersRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (!s_limit_ok(w, rq->limit))
        return;
    if (mkt_check_id(rq->id, 1, "id", &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_segment_get(w, rq->id, s_members_segment);
}

/* ---- the membership scan ------------------------------------------------- */

void mkt_segment_scan(crm_work_t *w)
{
    s_member_start(w, NULL, mkt_store_segment_list_timed, mkt_applied);
}
