/* handlers/figures.c: the help desk's management figures for a period
 * (support.report.figures): satisfaction, SLA compliance, the backlog,
 * load and satisfaction per agent and team. The database computes them in
 * one function (sql/0004_figures.sql, support_figures); this checks the
 * period. */
#include "handlers.h"

#include "store.h"

#include <crm/db.h>
#include <crm/util.h>

#include <inttypes.h>

#define S_DEFAULT_PERIOD_US (30LL * 86400LL * 1000000LL)

static void s_figures_done(crm_work_t *w, PGresult *res)
{
    Crm__V1__SupportFiguresReply r = CRM__V1__SUPPORT_FIGURES_REPLY__INIT;
    r.json = PQntuples(res) == 1 ? (char *)crm_db_get_opt(res, 0, 0) : NULL;
    if (!r.json) {
        crm_work_fail_unreadable(w);
        return;
    }
    crm_work_ok(w, &r.base);
}

void support_report_figures(crm_work_t *w)
{
    const Crm__V1__SupportFiguresRequest *rq = (const void *)crm_work_request(w);
    int64_t now = crm_now_us();
    const char *bad = rq->from_us < 0 ? "from_us"
                      : rq->to_us < 0 ? "to_us"
                      : rq->at_us < 0 ? "at_us"
                                      : NULL;
    if (bad) {
        crm_work_fail(w, S_INVALID, bad, "time is negative", NULL,
                      "send microseconds since the Unix epoch, or 0 for the default");
        return;
    }
    int64_t to = rq->to_us ? rq->to_us : now;
    int64_t from = rq->from_us ? rq->from_us : to - S_DEFAULT_PERIOD_US;
    if (from >= to) {
        crm_work_fail(w, S_INVALID, "from_us", "period is empty",
                      crm_work_printf(w, "from %" PRId64 " is not before to %" PRId64, from, to),
                      "give a start before the end");
        return;
    }
    support_store_figures(w, from, to, rq->at_us ? rq->at_us : now, s_figures_done);
}
