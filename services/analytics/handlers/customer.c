/* handlers/customer.c: the customer 360: one customer's view (with its
 * health) and timeline, through the report engine of report.c. */
#include "handlers.h"

#include "store.h"

static int s_customer(crm_work_t *w, const Crm__V1__AnalyticsQuery *q, analytics_post_t post)
{
    an_err_t e;
    if (an_check_customer_id(q->customer_id, &e) < 0) {
        crm_work_fail(w, S_INVALID, e.field, e.message, NULL, e.hint);
        return -1;
    }
    return analytics_report_state(w, "customer not found", q->customer_id, post);
}

void analytics_customer_show(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 || s_customer(w, q, ANALYTICS_POST_HEALTH) < 0)
        return;
    analytics_t *ctx = analytics_ctx(w);
    an_store_customer_show(w, q->customer_id, q->as_of_us, at, ctx->cost_per_ticket,
                           ctx->cost_per_hour, analytics_report_done);
}

void analytics_customer_timeline(crm_work_t *w)
{
    const Crm__V1__AnalyticsQuery *q;
    int64_t at;
    if (analytics_report_query(w, &q, &at) < 0 || s_customer(w, q, ANALYTICS_POST_NONE) < 0)
        return;
    an_store_customer_timeline(w, q->customer_id, q->as_of_us ? q->as_of_us : at,
                               analytics_report_done);
}
