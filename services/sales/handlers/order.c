/* handlers/order.c: orders: create (the total is computed from the
 * items) and list. */
#include "handlers.h"

#include <inttypes.h>
#include <jansson.h>
#include <string.h>

/* What the statement answered for order o in row `row` of res (columns 1
 * to 7 of the run's, 0 to 6 of one command's, from `col`): the reply and
 * the event, or the record it names that does not exist. */
static void s_order_placed(crm_work_t *w, Crm__V1__Order *o, PGresult *res, int row, int col)
{
    if (!crm_db_get_bool(res, row, col)) {
        crm_work_fail_not_found(w, "order.person_id", "person", o->person_id,
                                "register the person with sales.person.register first");
        return;
    }
    if (!crm_db_get_bool(res, row, col + 1)) {
        crm_work_fail_not_found(w, "order.organization_id", "organization", o->organization_id,
                                "create the organization with sales.org.create first");
        return;
    }
    if (!crm_db_get_bool(res, row, col + 2)) {
        crm_work_fail_not_found(w, "order.deal_id", "deal", o->deal_id,
                                "list deals with sales.deal.list");
        return;
    }
    /* The row holds what was sent but for what the function returns
     * (sql/0017): the person's id (a merged one's survivor), the ids in
     * their canonical form and the order's instant. */
    Crm__V1__Order *placed = o;
    if (!(o->person_id = sales_cell_text(w, res, row, col + 3)) ||
        !(o->organization_id = sales_cell_text(w, res, row, col + 4)) ||
        !(o->deal_id = sales_cell_text(w, res, row, col + 5)))
        return;
    o->ordered_at_us = crm_db_get_int(res, row, col + 6);
    o->refunded_minor = 0;
    o->cancelled_at_us = 0;
    if (sales_emit_order_placed(w, placed) < 0)
        return;
    Crm__V1__OrderReply r = CRM__V1__ORDER_REPLY__INIT;
    r.order = placed;
    crm_work_ok(w, &r.base);
}

static void s_order_created(crm_work_t *w, PGresult *res)
{
    s_order_placed(w, crm_work_data(w), res, 0, 0);
}

/* The order w asks for, checked, with its id; or NULL with w failed. */
static Crm__V1__Order *s_order_read(crm_work_t *w)
{
    const Crm__V1__CreateOrderRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Order *src = rq->order;
    sales_in_t in = {.w = w};
    Crm__V1__Order *o = crm_work_alloc(w, sizeof *o);
    char id[CRM_UUID_LEN + 1];
    int64_t total = 0;
    if (!o) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    if (!src) {
        sales_invalid(w, "order", "order is required", "send a person and the items bought");
        return NULL;
    }
    crm__v1__order__init(o);
    o->currency = sales_in_array(&in, 4, 1);
    int rc = sales_in_id(&in, src->person_id, 1, "order.person_id", &o->person_id);
    if (rc == 0)
        rc =
            sales_in_id(&in, src->organization_id, 0, "order.organization_id", &o->organization_id);
    if (rc == 0)
        rc = sales_in_id(&in, src->deal_id, 0, "order.deal_id", &o->deal_id);
    if (rc == 0)
        rc = sales_order_total(src->items, src->n_items, &total, &in.e);
    if (rc == 0 && src->total_minor && src->total_minor != total)
        rc = sales_err_set(
            &in.e, SALES_INVALID, "order.total_minor", "total does not match the items",
            "leave total_minor at 0; the service computes it",
            "got %" PRId64 ", the items add up to %" PRId64, src->total_minor, total);
    if (rc == 0 && o->currency)
        rc = sales_check_currency(src->currency, o->currency, "order.currency", &in.e);
    if (rc == 0 && src->ordered_at_us < 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "order.ordered_at_us", "time is negative",
                           "send microseconds since the Unix epoch, or 0 for now", "got %" PRId64,
                           src->ordered_at_us);
    if (sales_in_done(&in, rc) < 0)
        return NULL;
    if (!o->currency[0])
        memcpy(o->currency, sales_ctx(w)->currency, 4);
    Crm__V1__OrderItem **iv = sales_in_array(&in, src->n_items, sizeof *iv);
    Crm__V1__OrderItem *items = sales_in_array(&in, src->n_items, sizeof *items);
    for (size_t i = 0; iv && items && i < src->n_items; i++) {
        crm__v1__order_item__init(&items[i]);
        items[i].product_code = sales_in_trimmed(&in, src->items[i]->product_code);
        items[i].name = sales_in_trimmed(&in, src->items[i]->name);
        items[i].quantity = src->items[i]->quantity;
        items[i].unit_price_minor = src->items[i]->unit_price_minor;
        iv[i] = &items[i];
    }
    crm_uuid_new(id);
    o->id = sales_in_copy(&in, id, strlen(id));
    if (sales_in_done(&in, 0) < 0)
        return NULL;
    o->items = iv;
    o->n_items = src->n_items;
    o->total_minor = total;
    o->ordered_at_us = src->ordered_at_us;
    return o;
}

void sales_order_create(crm_work_t *w)
{
    Crm__V1__Order *o = s_order_read(w);
    if (!o)
        return;
    crm_work_set_data(w, o);
    sales_store_order_create(w, o, s_order_created);
}

/* ---- sales.order.create's set-based form -------------------------------------- */

static void s_orders_created(crm_work_t *lead, PGresult *res)
{
    sales_run_t *run = sales_run_answered(lead, res);
    for (size_t i = 0; run && i < run->n; i++)
        s_order_placed(run->works[i], run->recs[i], res, (int)i, 1);
}

/* A run of orders (crm_command_batch_fn): each checked as
 * sales.order.create checks it (a bad one is refused alone, before the
 * statement), then all of them inserted by one statement over arrays
 * (sql/0021); each gets its own event and reply from its row. A run of one
 * takes the one-command statement, as does the retry of a failed run. */
void sales_order_create_run(crm_work_t *const *works, size_t n)
{
    sales_run_t *run = sales_run_new(works, n);
    if (!run)
        return;
    for (size_t i = 0; i < n; i++) {
        Crm__V1__Order *o = s_order_read(works[i]);
        if (o)
            sales_run_add(run, works[i], o);
    }
    if (run->n == 1) {
        crm_work_set_data(run->works[0], run->recs[0]);
        sales_store_order_create(run->works[0], run->recs[0], s_order_created);
    } else if (run->n > 1) {
        crm_work_set_data(run->works[0], run);
        sales_store_order_create_run(run->works[0], (Crm__V1__Order *const *)run->recs, run->n,
                                     s_orders_created);
    }
}

static void s_orders_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListOrdersReply r = CRM__V1__LIST_ORDERS_REPLY__INIT;
    if (sales_list_rows(w, res, &crm__v1__order__descriptor, &r.orders, &r.n_orders,
                        &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

void sales_order_list(crm_work_t *w)
{
    const Crm__V1__ListOrdersRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->person_id, 0, "person_id", &e) < 0 ||
        sales_check_id(rq->organization_id, 0, "organization_id", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    sales_list_t *l = sales_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_order_list(w, rq, &l->page, s_orders_listed);
}

/* ---- refunds and cancellation ------------------------------------------------ */

static void s_refunded_order(crm_work_t *w, PGresult *res);

static void s_refunded(crm_work_t *w, PGresult *res)
{
    const char *oid = crm_work_data(w);
    const char *err = crm_db_get_opt(res, 0, 0);
    const char *detail = crm_db_get_opt(res, 0, 1);
    if (err && !strcmp(err, "not_found")) {
        crm_work_fail_not_found(w, "order_id", "order", oid, "list orders with sales.order.list");
        return;
    }
    if (err) {
        /* Nothing was written: the function checks before it writes. */
        static const struct {
            const char *err, *field, *message, *hint;
        } s_errs[] = {
            {"cancelled", "order_id", "order is cancelled", "a cancelled order has nothing left"},
            {"no_line", "lines", "no such line in the order",
             "lines are numbered from 1 in the order's items"},
            {"line_exceeded", "lines", "refund exceeds the quantity bought",
             "refund at most the units not yet refunded"},
            {"exceeded", "amount_minor", "refund exceeds what was paid",
             "refund at most what was paid and not yet refunded"},
            {"nothing_left", "order_id", "order is refunded in full already",
             "nothing is left to refund"},
        };
        for (size_t i = 0; i < sizeof s_errs / sizeof s_errs[0]; i++)
            if (!strcmp(err, s_errs[i].err)) {
                crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), s_errs[i].field,
                              s_errs[i].message, detail, s_errs[i].hint);
                return;
            }
        crm_work_fail(w, SALES_CODE(INTERNAL), NULL, "unexpected refund outcome", err, NULL);
        return;
    }
    Crm__V1__OrderRefund *r =
        crm_work_record(w, &crm__v1__order_refund__descriptor, crm_db_get_opt(res, 0, 2));
    if (!r) {
        crm_work_fail_unreadable(w);
        return;
    }
    crm_work_set_data(w, r);
    sales_store_order_get(w, oid, s_refunded_order);
}

/* The order after the refund, read by a statement of its own (the refund's
 * statement sees the order as it was before). */
static void s_refunded_order(crm_work_t *w, PGresult *res)
{
    Crm__V1__OrderRefund *r = crm_work_data(w);
    Crm__V1__Order *o = PQntuples(res) == 1 ? SALES_ORDER(w, crm_db_get_opt(res, 0, 0)) : NULL;
    if (!o) {
        crm_work_fail_unreadable(w);
        return;
    }
    /* A cancellation of an order refunded in full before refunds nothing,
     * but the order is still cancelled: its event says so. */
    if (sales_emit_order_refunded(w, r, o) < 0)
        return;
    Crm__V1__RefundOrderReply rep = CRM__V1__REFUND_ORDER_REPLY__INIT;
    rep.refund = r;
    rep.order = o;
    crm_work_ok(w, &rep.base);
}

static void s_refund(crm_work_t *w, const char *order_id, Crm__V1__OrderRefundLine *const *lines,
                     size_t n_lines, int64_t amount, const char *reason, int cancel)
{
    sales_in_t in = {.w = w};
    char *oid = NULL, *why = NULL, rid[CRM_UUID_LEN + 1];
    int rc = sales_in_id(&in, order_id, 1, "order_id", &oid);
    if (rc == 0)
        rc = sales_in_text(&in, reason, SALES_TEXT_MAX, "reason", &why);
    if (rc == 0 && amount < 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "amount_minor", "amount is negative",
                           "send a positive amount in minor units, or 0 for everything left",
                           "got %" PRId64, amount);
    if (rc == 0 && amount > 0 && n_lines > 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "amount_minor", "amount and lines both given",
                           "refund either lines or an amount", NULL);
    if (rc == 0 && n_lines > 1000)
        rc = sales_err_set(&in.e, SALES_INVALID, "lines", "too many lines", "at most 1000", NULL);
    for (size_t i = 0; rc == 0 && i < n_lines; i++) {
        if (lines[i]->position < 1)
            rc = sales_err_set(&in.e, SALES_INVALID, "lines", "line position must be positive",
                               "lines are numbered from 1 in the order's items", "got %d",
                               lines[i]->position);
        else if (lines[i]->quantity < 1)
            rc = sales_err_set(&in.e, SALES_INVALID, "lines", "quantity must be positive",
                               "send how many units of the line to refund", "got %d",
                               lines[i]->quantity);
    }
    if (sales_in_done(&in, rc) < 0)
        return;
    json_t *jl = json_array();
    for (size_t i = 0; jl && i < n_lines; i++)
        if (json_array_append_new(jl, json_pack("{s:i, s:i}", "position", lines[i]->position,
                                                "quantity", lines[i]->quantity)) < 0) {
            json_decref(jl);
            jl = NULL;
        }
    crm_uuid_new(rid);
    crm_work_set_data(w, oid);
    sales_store_order_refund(w, oid, rid, jl, amount, why ? why : "", cancel, s_refunded);
}

void sales_order_refund(crm_work_t *w)
{
    const Crm__V1__RefundOrderRequest *rq = (const void *)crm_work_request(w);
    s_refund(w, rq->order_id, rq->lines, rq->n_lines, rq->amount_minor, rq->reason, 0);
}

void sales_order_cancel(crm_work_t *w)
{
    const Crm__V1__CancelOrderRequest *rq = (const void *)crm_work_request(w);
    s_refund(w, rq->order_id, NULL, 0, 0, rq->reason, 1);
}
