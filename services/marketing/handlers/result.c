/* handlers/result.c: campaign results and their comparison
 * (marketing.campaign.results, .compare), read-only. */
#include "handlers.h"

#include <crm/db.h>

#include <stdio.h>

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
            crm_work_fail_not_found(w, f, "campaign", st->ids[i], MKT_CAMPAIGN_HINT);
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

void mkt_campaign_results(crm_work_t *w)
{
    const Crm__V1__CampaignResultsRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    s_results_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (mkt_check_id(rq->id, 1, "id", &e) < 0) {
        mkt_fail(w, &e);
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

void mkt_campaign_compare(crm_work_t *w)
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
        mkt_err_set(&e, MKT_CODE(INVALID_ARGUMENT), "ids",
                    rq->n_ids < 2 ? "at least two campaigns are needed" : "too many campaigns",
                    "send 2 to 20 campaign ids", "got %zu", rq->n_ids);
        mkt_fail(w, &e);
        return;
    }
    for (size_t i = 0; i < rq->n_ids; i++) {
        snprintf(field, sizeof field, "ids[%zu]", i);
        if (mkt_check_id(rq->ids[i], 1, field, &e) < 0) {
            mkt_fail(w, &e);
            return;
        }
    }
    st->ids = rq->ids;
    st->n = rq->n_ids;
    crm_work_set_data(w, st);
    mkt_store_results(w, st->ids, st->n, s_compare_done);
}
