/* order.c: `crmctl order create|list`, over sales.order.*: what customers
 * bought. Marketing segments on this purchase history and analytics
 * computes lifetime value from it.
 *
 * Items are given as CODE:name:quantity:price; an order whose item names
 * hold commas is given whole with --json (a CreateOrderRequest). */
#include "sales.h"

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

REQ_OPTIONS(order_create, ORDER_CREATE);
REQ_OPTIONS(order_list, ORDER_LIST);

static const req_col_t s_order_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"PERSON", "person_id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"ORGANIZATION", "organization_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DEAL", "deal_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"ITEMS", "items", REQ_V_COUNT, REQ_IN_TABLE, NULL},
    {"TOTAL", "total_minor", REQ_V_MONEY, REQ_IN_BOTH, NULL},
    {"ORDERED", "ordered_at_us", REQ_V_DATETIME, REQ_IN_BOTH, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_item_view[] = {
    {"CODE", "product_code", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"QTY", "quantity", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"UNIT PRICE", "unit_price_minor", REQ_V_DECIMAL, REQ_IN_TABLE, NULL},
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
};

const req_verb_t sales_order_list = {
    .command = "sales.order.list",
    .request = &crm__v1__list_orders_request__descriptor,
    .reply = &crm__v1__list_orders_reply__descriptor,
    .fields = s_order_list_fields,
    .items = "orders",
    .noun = "order",
    .view = s_order_view,
};

SALES_VERB_HANDLER(order_create)
SALES_VERB_HANDLER(order_list)
