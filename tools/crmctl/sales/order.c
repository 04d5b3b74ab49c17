/* order.c: `crmctl order create|list|refund|cancel`, over sales.order.*: what customers
 * bought. Marketing segments on this purchase history and analytics
 * computes lifetime value from it.
 *
 * Items are given as CODE:name:quantity:price; an order whose item names
 * hold commas is given whole with --json (a CreateOrderRequest). */
#include "sales.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ORDER_CREATE(X)                                                                            \
    X("person", "ID", "the customer (required)", 0, "order.person_id", REQ_STR, REQ_REQUIRED)      \
    X("org", "ID", "the customer's organisation", 0, "order.organization_id", REQ_STR, 0)          \
    X("deal", "ID", "the deal it came from", 0, "order.deal_id", REQ_STR, 0)                       \
    X("item", "CODE:NAME:QTY:PRICE",                                                               \
      "a line: product code, name, quantity, unit price (repeat;"                                  \
      " required)",                                                                                \
      1, "order.items", REQ_ITEMS, REQ_REQUIRED)                                                   \
    X("currency", "CODE", "ISO 4217 currency of the prices (EUR)", 0, "order.currency", REQ_STR,   \
      0)                                                                                           \
    X("at", "DATE", "when it was ordered (a date or date-time; default: now)", 0,                  \
      "order.ordered_at_us", REQ_FROM_US, 0)                                                       \
    REQ_WRITE(X)
#define ORDER_LIST(X)                                                                              \
    X("person", "ID", "only orders of this person", 0, "person_id", REQ_STR, 0)                    \
    X("org", "ID", "only orders of this organisation", 0, "organization_id", REQ_STR, 0)           \
    X("since", "DATE", "ordered on or after DATE (or a date-time)", 0, "from_us", REQ_FROM_US, 0)  \
    X("until", "DATE", "ordered on or before DATE (or a date-time)", 0, "to_us", REQ_TO_US, 0)     \
    REQ_PAGING(X)

#define ORDER_REFUND(X)                                                                            \
    X("line", "POS:QTY",                                                                           \
      "refund QTY units of the order's line POS (from 1; repeat); default: the whole order", 1,    \
      "lines", REQ_CUSTOM, 0)                                                                      \
    X("amount", "AMOUNT", "refund this amount instead of lines", 0, "amount_minor", REQ_MONEY, 0)  \
    X("currency", "CODE", "the order's currency, to read --amount in its minor units", 0,          \
      "currency", REQ_CUSTOM, 0)                                                                   \
    X("reason", "TEXT", "why", 0, "reason", REQ_STR, 0)                                            \
    REQ_WRITE(X)
#define ORDER_CANCEL(X)                                                                            \
    X("reason", "TEXT", "why", 0, "reason", REQ_STR, 0)                                            \
    REQ_WRITE(X)

REQ_OPTIONS(order_create, ORDER_CREATE);
REQ_OPTIONS(order_list, ORDER_LIST);
REQ_OPTIONS(order_refund, ORDER_REFUND);
REQ_OPTIONS(order_cancel, ORDER_CANCEL);

/* --line 2:1 (repeated options arrive joined with commas) into
 * [{position, quantity}]; --currency only sets how --amount is read. */
static int s_refund_convert(const crmctl_t *ctl, const req_field_t *field, const char *text,
                            json_t *request)
{
    if (strcmp(field->opt, "line") != 0)
        return CRMCTL_EXIT_OK;
    json_t *lines = json_array();
    const char *s = text;
    while (lines && *s) {
        char *end;
        long pos = strtol(s, &end, 10);
        long qty = 0;
        if (end != s && *end == ':')
            qty = strtol(end + 1, &end, 10);
        if (pos < 1 || qty < 1 || pos > INT32_MAX || qty > INT32_MAX || (*end && *end != ',')) {
            json_decref(lines);
            return crmctl_usage_error(ctl, "invalid --line \"%s\": give POS:QTY, e.g. 2:1", text);
        }
        json_array_append_new(lines,
                              json_pack("{s:i, s:i}", "position", (int)pos, "quantity", (int)qty));
        s = *end ? end + 1 : end;
    }
    if (!lines || req_set(request, "lines", lines) < 0)
        return crmctl_usage_error(ctl, "cannot set lines");
    return CRMCTL_EXIT_OK;
}

static const req_col_t s_order_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"PERSON", "person_id", REQ_V_PERSON, REQ_IN_BOTH, NULL},
    {"ORGANIZATION", "organization_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DEAL", "deal_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"ITEMS", "items", REQ_V_COUNT, REQ_IN_TABLE, NULL},
    {"TOTAL", "total_minor", REQ_V_MONEY, REQ_IN_BOTH, NULL},
    {"ORDERED", "ordered_at_us", REQ_V_DATETIME, REQ_IN_BOTH, NULL},
    {"REFUNDED", "refunded_minor", REQ_V_MONEY, REQ_IN_RECORD, NULL},
    {"CANCELLED", "cancelled_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_item_view[] = {
    {"CODE", "product_code", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"QTY", "quantity", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"UNIT PRICE", "unit_price_minor", REQ_V_DECIMAL, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* The items after a refund, with what was refunded of each. */
static const req_col_t s_refund_item_view[] = {
    {"CODE", "product_code", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"QTY", "quantity", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"UNIT PRICE", "unit_price_minor", REQ_V_DECIMAL, REQ_IN_TABLE, NULL},
    {"REFUNDED", "refunded_quantity", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

const req_verb_t sales_order_create = {
    .command = "sales.order.create",
    .request = &crm__v1__create_order_request__descriptor,
    .reply = &crm__v1__order_reply__descriptor,
    .fields = s_order_create_fields,
    .noun = "order",
    .entity = "order",
    .view = s_order_view,
    .done = "placed",
    .sub = "order.items",
    .sub_title = "items",
    .sub_view = s_item_view,
    .names = 1,
};

const req_verb_t sales_order_list = {
    .command = "sales.order.list",
    .request = &crm__v1__list_orders_request__descriptor,
    .reply = &crm__v1__list_orders_reply__descriptor,
    .fields = s_order_list_fields,
    .items = "orders",
    .noun = "order",
    .view = s_order_view,
    .names = 1,
};

static const char *const s_order_id_arg[] = {"order_id", NULL};

const req_verb_t sales_order_refund = {
    .command = "sales.order.refund",
    .request = &crm__v1__refund_order_request__descriptor,
    .reply = &crm__v1__refund_order_reply__descriptor,
    .fields = s_order_refund_fields,
    .positional = s_order_id_arg,
    .min_positional = 1,
    .noun = "order",
    .entity = "order",
    .view = s_order_view,
    .done = "refunded",
    .sub = "order.items",
    .sub_title = "items",
    .sub_view = s_refund_item_view,
    .convert = s_refund_convert,
    .names = 1,
};

const req_verb_t sales_order_cancel = {
    .command = "sales.order.cancel",
    .request = &crm__v1__cancel_order_request__descriptor,
    .reply = &crm__v1__refund_order_reply__descriptor,
    .fields = s_order_cancel_fields,
    .positional = s_order_id_arg,
    .min_positional = 1,
    .noun = "order",
    .entity = "order",
    .view = s_order_view,
    .done = "cancelled",
    .sub = "order.items",
    .sub_title = "items",
    .sub_view = s_refund_item_view,
    .names = 1,
};

SALES_VERB_HANDLER(order_create)
SALES_VERB_HANDLER(order_list)
SALES_VERB_HANDLER(order_refund)
SALES_VERB_HANDLER(order_cancel)
