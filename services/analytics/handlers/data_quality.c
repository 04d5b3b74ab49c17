/* handlers/data_quality.c: the data-quality scan, run by main.c's timer
 * and by the analytics.data_quality.scan command: publishes each finding
 * not published before (data_quality.issue_found, events.c). */
#include "handlers.h"

#include "events.h"
#include "store.h"

#include <crm/log.h>
#include <crm/util.h>

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
