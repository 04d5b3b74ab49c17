/* order.c: `crmctl order create|list`, over sales.order.*: what customers
 * bought. Marketing segments on this purchase history and analytics
 * computes lifetime value from it.
 *
 * Items are given as CODE:name:quantity:price; an order whose item names
 * hold commas is given whole with --json (a CreateOrderRequest). */
#include "sales.h"

#define ORDER_CREATE(X)                                                                            \
    X("person", "ID", "the customer (required)", 0, "order.person_id", SALES_STR, SALES_REQUIRED)  \
    X("org", "ID", "the customer's organisation", 0, "order.organization_id", SALES_STR, 0)        \
    X("deal", "ID", "the deal it came from", 0, "order.deal_id", SALES_STR, 0)                     \
    X("item", "CODE:NAME:QTY:PRICE",                                                               \
      "a line: product code, name, quantity, unit price (repeat;"                                  \
      " required)",                                                                                \
      1, "order.items", SALES_ITEMS, SALES_REQUIRED)                                               \
    X("currency", "CODE", "ISO 4217 currency of the prices (EUR)", 0, "order.currency", SALES_STR, \
      0)                                                                                           \
    X("at", "DATE", "when it was ordered (a date or date-time; default: now)", 0,                  \
      "order.ordered_at_us", SALES_FROM_US, 0)                                                     \
    SALES_WRITE(X)
#define ORDER_LIST(X)                                                                              \
    X("person", "ID", "only orders of this person", 0, "person_id", SALES_STR, 0)                  \
    X("org", "ID", "only orders of this organisation", 0, "organization_id", SALES_STR, 0)         \
    X("since", "DATE", "ordered on or after DATE (or a date-time)", 0, "from_us", SALES_FROM_US,   \
      0)                                                                                           \
    X("until", "DATE", "ordered on or before DATE (or a date-time)", 0, "to_us", SALES_TO_US, 0)   \
    SALES_PAGING(X)

SALES_OPTIONS(order_create, ORDER_CREATE);
SALES_OPTIONS(order_list, ORDER_LIST);

static const sales_col_t s_order_view[] = {
    {"ID", "id", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"PERSON", "person_id", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"ORGANIZATION", "organization_id", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"DEAL", "deal_id", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"ITEMS", "items", SALES_V_COUNT, SALES_IN_TABLE, NULL},
    {"TOTAL", "total_minor", SALES_V_MONEY, SALES_IN_BOTH, NULL},
    {"ORDERED", "ordered_at_us", SALES_V_DATETIME, SALES_IN_BOTH, NULL},
    {NULL, NULL, SALES_V_TEXT, 0, NULL},
};

static const sales_col_t s_item_view[] = {
    {"CODE", "product_code", SALES_V_TEXT, SALES_IN_TABLE, NULL},
    {"NAME", "name", SALES_V_TEXT, SALES_IN_TABLE, NULL},
    {"QTY", "quantity", SALES_V_TEXT, SALES_IN_TABLE, NULL},
    {"UNIT PRICE", "unit_price_minor", SALES_V_DECIMAL, SALES_IN_TABLE, NULL},
    {NULL, NULL, SALES_V_TEXT, 0, NULL},
};

const sales_verb_t sales_order_create = {
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

const sales_verb_t sales_order_list = {
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
