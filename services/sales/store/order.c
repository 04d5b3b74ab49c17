/* store/order.c: the SQL of orders and their items. */
#include "records.h"

#include <jansson.h>

/* o's items as a JSON array, or NULL when out of memory. */
static json_t *s_items(const Crm__V1__Order *o)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < o->n_items; i++) {
        const Crm__V1__OrderItem *it = o->items[i];
        if (json_array_append_new(items, json_pack("{s:s, s:s, s:i, s:I}", "product_code",
                                                   it->product_code, "name", it->name, "quantity",
                                                   it->quantity, "unit_price_minor",
                                                   (json_int_t)it->unit_price_minor)) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    return items;
}

int sales_store_order_create(crm_work_t *w, const Crm__V1__Order *o, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    json_t *items = s_items(o);
    crm_params_str(&p, o->id);
    crm_params_str(&p, o->person_id);
    crm_params_opt(&p, o->organization_id);
    crm_params_opt(&p, o->deal_id);
    crm_params_i64(&p, o->total_minor);
    crm_params_str(&p, o->currency);
    crm_params_opt_i64(&p, o->ordered_at_us);
    crm_params_json(&p, items);
    /* The checks and the inserts in one round trip, the order inserted
     * only when every record it names exists, through a PL/pgSQL function
     * so that the plans are kept (sql/0014_person_register.sql); prepared by
     * name, so that the call is not parsed and planned each time either. */
    return crm_params_run_named(
        &p, "sales_order_create",
        "SELECT o_person_ok, o_org_ok, o_deal_ok, o_person_id, o_org_id, o_deal_id,"
        " o_ordered_at_us FROM sales_order_create("
        "$1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::bigint, $6::text,"
        " $7::bigint, $8::jsonb)",
        1, cb);
}

static const char *s_or_empty(const char *s)
{
    return s ? s : "";
}

int sales_store_order_create_run(crm_work_t *w, Crm__V1__Order *const *orders, size_t n,
                                 crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    char **ids = crm_work_alloc(w, 5 * n * sizeof *ids);
    int64_t *nums = crm_work_alloc(w, 2 * n * sizeof *nums);
    json_t *items = json_array();
    if (!ids || !nums || !items) {
        json_decref(items);
        crm_work_fail_nomem(w);
        return -1;
    }
    char **persons = ids + n, **orgs = ids + 2 * n, **deals = ids + 3 * n,
         **currencies = ids + 4 * n;
    int64_t *totals = nums, *at = nums + n;
    for (size_t i = 0; i < n; i++) {
        const Crm__V1__Order *o = orders[i];
        ids[i] = o->id;
        persons[i] = o->person_id;
        orgs[i] = (char *)s_or_empty(o->organization_id);
        deals[i] = (char *)s_or_empty(o->deal_id);
        currencies[i] = o->currency;
        totals[i] = o->total_minor;
        at[i] = o->ordered_at_us;
        json_t *it = s_items(o);
        if (!it || json_array_append_new(items, it) < 0) {
            json_decref(items);
            crm_work_fail_nomem(w);
            return -1;
        }
    }
    crm_params_textv(&p, ids, n);
    crm_params_textv(&p, persons, n);
    crm_params_textv(&p, orgs, n);
    crm_params_textv(&p, deals, n);
    crm_params_i64v(&p, totals, n);
    crm_params_textv(&p, currencies, n);
    crm_params_i64v(&p, at, n);
    crm_params_json(&p, items);
    /* One call for the run, its plans kept like the one-command form's. */
    return crm_params_run_named(
        &p, "sales_order_create_run",
        "SELECT o_ord, o_person_ok, o_org_ok, o_deal_ok, o_person_id, o_org_id, o_deal_id,"
        " o_ordered_at_us FROM sales_order_create_run($1::uuid[], $2::uuid[], $3::text[],"
        " $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::jsonb)",
        1, cb);
}

int sales_store_order_list(crm_work_t *w, const Crm__V1__ListOrdersRequest *rq,
                           const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, rq->person_id);
    crm_params_opt(&p, rq->organization_id);
    crm_params_opt_i64(&p, rq->from_us);
    crm_params_opt_i64(&p, rq->to_us);
    sales_store_page(&p, page);
    return crm_params_run(
        &p,
        "SELECT " SALES_ORDER_J(
            SALES_ORDER_ITEMS_J) "::text, sales_us(r.created_at), r.id::text"
                                 " FROM sales_order r"
                                 " WHERE ($1::uuid IS NULL OR r.person_id = $1::uuid)"
                                 " AND ($2::uuid IS NULL OR r.organization_id = $2::uuid)"
                                 " AND ($3::bigint IS NULL OR r.ordered_at >= sales_ts($3::bigint))"
                                 " AND ($4::bigint IS NULL OR r.ordered_at <= sales_ts($4::bigint))"
                                 " AND ($5::bigint IS NULL OR (r.created_at, r.id) > "
                                 "(sales_ts($5::bigint), $6::uuid))"
                                 " ORDER BY r.created_at, r.id LIMIT $7::int",
        0, cb);
}

int sales_store_order_refund(crm_work_t *w, const char *order_id, const char *refund_id,
                             json_t *lines, int64_t amount, const char *reason, int cancel,
                             crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, order_id);
    crm_params_str(&p, refund_id);
    crm_params_json(&p, lines);
    crm_params_i64(&p, amount);
    crm_params_str(&p, reason);
    crm_params_bool(&p, cancel);
    return crm_params_run(
        &p,
        "SELECT f.err, f.detail, f.refund::text"
        " FROM sales_order_refund($1::uuid, $2::uuid, $3::jsonb, $4::bigint, $5::text,"
        "   $6::boolean) f",
        1, cb);
}

int sales_store_order_get(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p,
        "SELECT " SALES_ORDER_J(
            SALES_ORDER_ITEMS_J) "::text FROM sales_order r WHERE r.id = $1::uuid",
        1, cb);
}
