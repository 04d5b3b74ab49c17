/* handlers/track.c: the tracking links of campaign mail
 * (marketing.track.open, .click, .unsubscribe), called by the HTTP
 * gateway for GET /t/o/{token}, GET /t/c/{token} and GET|POST /t/u/{token}.
 * The token (track.h) is checked before anything is read: a forged one, or
 * one of another kind, or an expired one is refused and nothing is
 * written. A genuine token records its response (opened, clicked,
 * unsubscribed: the same path as marketing.response.record, so an
 * unsubscribe opts out of email) once: the token's digest is kept
 * (track_use) and a second call answers recorded = false. The token is
 * never written to a log or an error. */
#include "handlers.h"
#include "track.h"

#include <crm/util.h>

#include <string.h>

typedef struct {
    mkt_track_t t;
    Crm__V1__CampaignResponseRecorded r;
} s_track_t;

static void s_reply(crm_work_t *w, s_track_t *st, int recorded)
{
    Crm__V1__TrackReply r = CRM__V1__TRACK_REPLY__INIT;
    r.redirect_url = st->t.url;
    r.recorded = recorded;
    crm_work_ok(w, &r.base);
}

static void s_recorded(crm_work_t *w, void *arg, const char *response_id)
{
    (void)response_id;
    s_reply(w, arg, 1);
}

static void s_used(crm_work_t *w, PGresult *res)
{
    s_track_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        s_reply(w, st, 0); /* recorded by an earlier call */
        return;
    }
    static const int types[] = {0, CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_OPENED,
                                CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_CLICKED,
                                CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_UNSUBSCRIBED};
    crm__v1__campaign_response_recorded__init(&st->r);
    st->r.campaign_id = st->t.campaign_id;
    st->r.customer_id = st->t.customer_id;
    st->r.response = types[st->t.kind];
    st->r.channel = (char *)"email";
    st->r.note = (char *)(st->t.kind == MKT_TRACK_OPEN    ? "tracking pixel"
                          : st->t.kind == MKT_TRACK_CLICK ? "tracked link"
                                                          : "one-click unsubscribe");
    st->r.currency = (char *)"";
    st->r.order_id = (char *)"";
    mkt_response_apply(w, &st->r, s_recorded, st);
}

static void s_track(crm_work_t *w, int kind)
{
    const Crm__V1__TrackRequest *rq = (const void *)crm_work_request(w);
    mkt_t *ctx = crm_service_user(crm_work_service(w));
    if (!ctx->track_key) {
        crm_work_fail(w, MKT_CODE(FAILED_PRECONDITION), "token", "tracking is not configured", NULL,
                      "set MARKETING_TRACK_KEY_FILE and CRM_TRACK_BASE_URL");
        return;
    }
    s_track_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    int rc = mkt_track_verify(ctx->track_key, ctx->track_keylen, rq->token, crm_now_us() / 1000000,
                              &st->t);
    if (rc == MKT_TRACK_EXPIRED) {
        crm_work_fail(w, MKT_CODE(FAILED_PRECONDITION), "token", "tracking token has expired", NULL,
                      "links of a campaign mail work for MARKETING_TRACK_DAYS days");
        return;
    }
    if (rc < 0 || st->t.kind != kind) {
        crm_work_fail(w, MKT_CODE(INVALID_ARGUMENT), "token", "tracking token is not valid",
                      rc < 0 ? "the signature does not match" : "the token is for another link",
                      "follow a link of a campaign mail as it was sent");
        return;
    }
    crm_work_set_data(w, st);
    mkt_store_track_use(w, st->t.digest, st->t.delivery_id, kind, s_used);
}

void mkt_track_open(crm_work_t *w)
{
    s_track(w, MKT_TRACK_OPEN);
}

void mkt_track_click(crm_work_t *w)
{
    s_track(w, MKT_TRACK_CLICK);
}

void mkt_track_unsubscribe(crm_work_t *w)
{
    s_track(w, MKT_TRACK_UNSUBSCRIBE);
}
