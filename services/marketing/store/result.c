/* store/result.c: the SQL of campaign results: the raw figures that
 * marketing.campaign.results and .compare derive their ratios from. */
#include "store_int.h"

#include <crm/params.h>

/* A campaign's send decisions of one status, counted by reason code. */
#define S_BY_REASON(status)                                                                        \
    "(SELECT COALESCE(jsonb_agg(jsonb_build_object('reason', t.k, 'count', t.n)"                   \
    "  ORDER BY t.k), '[]') FROM (SELECT reason_code AS k, count(*) AS n"                          \
    "  FROM send WHERE campaign_id = c.id AND status = " #status " GROUP BY 1) t)"

/* Cost and last-touch revenue per UTC day, for the dashboard's chart of the
 * one against the other over time: the same rows as cost_minor and
 * revenue_minor below, so each column sums to its figure. */
#define S_EXPENSE_DUE MKT_SQL_EXPENSE_DUE("$2")
#define S_BY_DAY                                                                                   \
    "(SELECT COALESCE(jsonb_agg(jsonb_build_object('date', d.day, 'cost_minor', d.cost,"           \
    "  'revenue_minor', d.rev) ORDER BY d.day), '[]') FROM (SELECT u.day, sum(u.cost) AS cost,"    \
    "  sum(u.rev) AS rev FROM ("                                                                   \
    "  SELECT COALESCE(x.date, (x.created_at AT TIME ZONE 'UTC')::date) AS day,"                   \
    "   x.amount_minor AS cost, 0 AS rev FROM expense x WHERE x.campaign_id = c.id"                \
    "   AND " S_EXPENSE_DUE " UNION ALL"                                                           \
    "  SELECT (v.ordered_at AT TIME ZONE 'UTC')::date, 0, v.revenue_minor FROM conversion v"       \
    "   WHERE v.campaign_id = c.id UNION ALL"                                                      \
    "  SELECT (r.recorded_at AT TIME ZONE 'UTC')::date, 0, r.revenue_minor FROM response r"        \
    "   WHERE r.campaign_id = c.id AND r.response = 8 AND r.order_id IS NULL"                      \
    "   AND NOT r.unsolicited AND r.currency IN ('', c.currency)) u GROUP BY u.day) d)"

int mkt_store_results(crm_work_t *w, char *const *ids, size_t n, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_json(&p, mkt_store_strings(ids, n));
    mkt_store_now(&p);
    /* Unsolicited responses count in no figure but their own. A converted
     * response's revenue counts in the campaign's currency only; conversions are always in it
     * (mkt_store_attribute). One that names its order adds nothing: the order counts once, as the
     * conversion of the campaign it is attributed to. */
    return crm_params_run(
        &p,
        "SELECT CASE WHEN c.id IS NULL THEN NULL ELSE jsonb_build_object("
        " 'campaign_id', c.id, 'name', c.name, 'status', c.status, 'currency', c.currency,"
        " 'recipients', (SELECT count(*) FROM campaign_recipient r WHERE r.campaign_id = c.id),"
        " 'responses', (SELECT COALESCE(jsonb_agg(jsonb_build_object('response', t.response,"
        "   'count', t.n) ORDER BY t.response), '[]') FROM (SELECT response, count(*) AS n"
        "   FROM response WHERE campaign_id = c.id AND NOT unsolicited GROUP BY response) t),"
        " 'unsolicited_responses', (SELECT count(*) FROM response WHERE campaign_id = c.id"
        "   AND unsolicited),"
        " 'responders', (SELECT count(DISTINCT customer_id) FROM response"
        "   WHERE campaign_id = c.id AND response <> 7 AND NOT unsolicited),"
        " 'conversions', (SELECT count(*) FROM response WHERE campaign_id = c.id"
        "   AND response = 8 AND NOT unsolicited AND order_id IS NULL) + (SELECT count(*) FROM "
        "conversion WHERE "
        "campaign_id = c.id),"
        " 'revenue_minor', (SELECT COALESCE(sum(revenue_minor), 0) FROM response"
        "   WHERE campaign_id = c.id AND response = 8 AND order_id IS NULL AND NOT unsolicited"
        "   AND currency IN ('', c.currency))"
        "  + (SELECT COALESCE(sum(revenue_minor), 0) FROM conversion WHERE campaign_id = c.id),"
        " 'attribution', (SELECT jsonb_agg(jsonb_build_object('model', m.model,"
        "   'revenue_minor', m.rev + o.rev, 'conversions', m.n + o.n) ORDER BY m.model)"
        "  FROM (SELECT x.model, COALESCE(sum(v.revenue_minor), 0) AS rev, count(v.*) AS n"
        "   FROM (VALUES (1), (2), (3)) AS x(model) LEFT JOIN conversion_share v"
        "   ON v.campaign_id = c.id AND v.model = x.model GROUP BY x.model) m,"
        "  (SELECT COALESCE(sum(revenue_minor) FILTER (WHERE currency IN ('', c.currency)), 0)"
        "    AS rev, count(*) AS n FROM response WHERE campaign_id = c.id AND response = 8"
        "    AND order_id IS NULL AND NOT unsolicited) o),"
        " 'cost_minor', " MKT_SQL_SPENT("$2") ", 'budget', " MKT_SQL_BUDGET(MKT_SQL_SPENT(
            "$2")) ","
                   " 'sent', (SELECT count(*) FROM send WHERE campaign_id = c.id AND "
                   "status = 1),"
                   " 'suppressed', (SELECT count(*) FROM send WHERE campaign_id = c.id AND "
                   "status = 2),"
                   " 'deferred', (SELECT count(*) FROM send WHERE campaign_id = c.id AND "
                   "status "
                   "= 3),"
                   " 'delivered', (SELECT count(*) FROM delivery WHERE campaign_id = c.id"
                   "   AND status = 1),"
                   " 'delivery_failed', (SELECT count(*) FROM delivery WHERE campaign_id = "
                   "c.id"
                   "   AND status = 2),"
                   " 'suppressed_by_reason', " S_BY_REASON(
                       2) ","
                          " 'deferred_by_reason', " S_BY_REASON(
                              3) ", 'by_day', " S_BY_DAY ") END"
                                 " FROM jsonb_array_elements_text($1::jsonb) WITH "
                                 "ORDINALITY AS "
                                 "q(id, ord)"
                                 " LEFT JOIN campaign c ON c.id = q.id::uuid ORDER BY "
                                 "q.ord",
        0, cb);
}
