/* handlers/data_quality.c: the data-quality scan, run by main.c's timer
 * and by the analytics.data_quality.scan command: publishes each finding
 * not published before (data_quality.issue_found, events.c); and
 * analytics.data_quality.resolve, which closes a duplicate finding as
 * merged or not a duplicate, so that the pair is never raised again. */
#include "handlers.h"

#include "events.h"
#include "store.h"

#include <crm/db.h>
#include <crm/log.h>
#include <crm/util.h>

#include <string.h>

static void s_dq_claimed(crm_work_t *w, PGresult *res)
{
    analytics_t *ctx = crm_work_data(w);
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        const char *kind = PQgetvalue(res, i, 0);
        if (analytics_emit_issue_found(w, kind, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                                       PQgetvalue(res, i, 3), PQgetvalue(res, i, 4)) < 0) {
            crm_work_fail(w, S_INTERNAL, NULL, "could not publish a finding", kind, NULL);
            return;
        }
    }
    if (n > 0)
        crm_info("analytics.data_quality", "%d new finding(s) published", n);
    if (crm_work_request(w)) {
        Crm__V1__DataQualityScanReply r = CRM__V1__DATA_QUALITY_SCAN_REPLY__INIT;
        r.published = n;
        crm_work_ok(w, &r.base);
        return;
    }
    if (n >= AN_DQ_BATCH)
        crm_scan_more(ctx->dq_scan);
    crm_work_ok(w, NULL);
}

void analytics_dq_scan(crm_work_t *w)
{
    an_store_dq_claim(w, crm_now_us(), AN_DQ_BATCH, s_dq_claimed);
}

/* analytics.data_quality.scan: the same scan, asked for by an operator. */
void analytics_dq_scan_cmd(crm_work_t *w)
{
    crm_work_set_data(w, analytics_ctx(w));
    analytics_dq_scan(w);
}

static void s_resolved(crm_work_t *w, PGresult *res)
{
    Crm__V1__DataQualityResolveRequest *rq = (void *)crm_work_request(w);
    const char *which = !crm_db_get_bool(res, 0, 0)   ? "record_id"
                        : !crm_db_get_bool(res, 0, 1) ? "original_id"
                                                      : NULL;
    if (which) {
        crm_work_fail_not_found(w, which, "customer",
                                which[0] == 'r' ? rq->record_id : rq->original_id,
                                "the ids of a duplicate finding: analytics.report.data_quality");
        return;
    }
    if (!crm_db_get_bool(res, 0, 2)) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_ALREADY_EXISTS, "record_id",
                      "this pair is resolved already",
                      crm_work_printf(w, "%.40s and %.40s", rq->record_id, rq->original_id),
                      "a resolution is kept as first given");
        return;
    }
    Crm__V1__DataQualityResolved ev = CRM__V1__DATA_QUALITY_RESOLVED__INIT;
    ev.record_id = rq->record_id;
    ev.original_id = rq->original_id;
    ev.resolution = rq->resolution;
    ev.note = rq->note;
    if (analytics_emit_dq_resolved(w, &ev) < 0) {
        crm_work_fail_nomem(w);
        return;
    }
    Crm__V1__DataQualityResolveReply r = CRM__V1__DATA_QUALITY_RESOLVE_REPLY__INIT;
    r.record_id = rq->record_id;
    r.original_id = rq->original_id;
    r.resolution = rq->resolution;
    crm_work_ok(w, &r.base);
}

void analytics_dq_resolve(crm_work_t *w)
{
    Crm__V1__DataQualityResolveRequest *rq = (void *)crm_work_request(w);
    const char *field = NULL, *msg = NULL;
    if (!*rq->record_id)
        field = "record_id", msg = "record_id is required";
    else if (!*rq->original_id)
        field = "original_id", msg = "original_id is required";
    else if (!strcmp(rq->record_id, rq->original_id))
        field = "original_id", msg = "a record is not a duplicate of itself";
    else if (rq->resolution != CRM__V1__DATA_QUALITY_RESOLUTION__DATA_QUALITY_RESOLUTION_MERGED &&
             rq->resolution !=
                 CRM__V1__DATA_QUALITY_RESOLUTION__DATA_QUALITY_RESOLUTION_NOT_DUPLICATE)
        field = "resolution", msg = "resolution must be merged or not a duplicate";
    else if (strlen(rq->record_id) > 64 || strlen(rq->original_id) > 64 || strlen(rq->note) > 2000)
        field = "record_id", msg = "value too long";
    if (field) {
        crm_work_fail(w, S_INVALID, field, msg, NULL,
                      "send the ids of a duplicate finding and MERGED or NOT_DUPLICATE");
        return;
    }
    an_store_dq_resolve(w, rq->record_id, rq->original_id, rq->resolution, rq->note, s_resolved);
}
