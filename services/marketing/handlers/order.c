/* handlers/order.c: the consumer of sales' placed orders (marketing.orders):
 * purchase history for segments, and revenue attributed to a campaign. */
#include "handlers.h"

#include <crm/log.h>
#include <crm/util.h>

static void s_order_attributed(crm_work_t *w, PGresult *res)
{
    const Crm__V1__Order *o = crm_work_event(w)->order_placed->order;
    if (PQntuples(res) == 0) {
        /* No campaign reached the customer in time; the purchase history
         * still changed. */
        mkt_member_refresh(w, o->person_id, mkt_applied);
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
        mkt_member_refresh(w, o->person_id, mkt_applied);
}

/* Kept as purchase history (segments); then attributed. */
static void s_order_kept(crm_work_t *w, PGresult *res)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Order *o = ev->order_placed->order;
    mkt_store_attribute(w, o->id, o->person_id, o->total_minor, o->currency,
                        o->ordered_at_us ? o->ordered_at_us : ev->time_us, s_order_attributed);
}

void mkt_orders_apply(crm_work_t *w)
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
