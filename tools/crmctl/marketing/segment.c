/* segment.c: `crmctl segment create|preview|members|list`, over
 * marketing.segment.*: groups of customers by rules over their
 * attributes, purchase history, responses and support signals (the rule
 * syntax is in marketing.c). preview evaluates now (a stored segment, or
 * rules given on the command line, before creating anything); members
 * lists the membership as the service keeps it. */
#include "marketing.h"

#include <inttypes.h>
#include <stdio.h>

#define SEGMENT_CREATE(X)                                                                          \
    X("name", "NAME", "the segment's name (required)", 0, "segment.name", REQ_STR, REQ_REQUIRED)   \
    X("rule", "RULE", "a rule, KIND=VALUE or !KIND=VALUE (repeatable; required)", 1,               \
      "segment.rules", REQ_CUSTOM, REQ_REQUIRED)                                                   \
    REQ_WRITE(X)
#define SEGMENT_PREVIEW(X)                                                                         \
    X("rule", "RULE", "evaluate these rules instead of a stored segment (repeatable)", 1, "rules", \
      REQ_CUSTOM, 0)                                                                               \
    X("limit", "N", "list at most N members (1-500; default 50); the count is complete", 0,        \
      "limit", REQ_PAGE_SIZE, 0)                                                                   \
    REQ_COMMON(X)
#define SEGMENT_MEMBERS(X)                                                                         \
    X("limit", "N", "list at most N members (1-500; default 50); the count is complete", 0,        \
      "limit", REQ_PAGE_SIZE, 0)                                                                   \
    REQ_COMMON(X)
#define SEGMENT_LIST(X) REQ_COMMON(X)

REQ_OPTIONS(segment_create, SEGMENT_CREATE);
REQ_OPTIONS(segment_preview, SEGMENT_PREVIEW);
REQ_OPTIONS(segment_members, SEGMENT_MEMBERS);
REQ_OPTIONS(segment_list, SEGMENT_LIST);

static const req_col_t s_segment_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"RULES", "rules", REQ_V_COUNT, REQ_IN_BOTH, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_BOTH, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* Each rule as it is written for --rule (s_print_segment adds "text"). */
static const req_col_t s_rule_view[] = {
    {"RULE", "text", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* The segment with its rules readable: "total-spent-at-least=1000.00 EUR"
 * rather than a kind, a value and an amount in minor units. */
static int s_print_segment(const req_verb_t *verb, const json_t *reply)
{
    json_t *rules = req_get(reply, "segment.rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        char buf[256];
        json_t *r = json_array_get(rules, i);
        json_object_set_new(r, "text", json_string(mkt_rule_text(r, buf, sizeof buf)));
    }
    return req_print_entity(verb, reply);
}

/* "N members", then a table of their ids and names (names.c looked them
 * up in sales; "-" where it could not). */
static int s_print_members(const req_verb_t *verb, const json_t *reply)
{
    (void)verb;
    const json_t *ids = json_object_get(reply, "customer_ids");
    const json_t *count = json_object_get(reply, "count");
    long long n = json_is_integer(count) ? json_integer_value(count) : 0;
    if (json_is_string(count))
        sscanf(json_string_value(count), "%lld", &n);
    printf("%lld %s\n", n, n == 1 ? "member" : "members");
    static const char *const headers[] = {"ID", "NAME", NULL};
    crmctl_table_t *tab = json_array_size(ids) ? crmctl_table_new(headers) : NULL;
    for (size_t i = 0; tab && i < json_array_size(ids); i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        const char *cells[] = {id, req_name_of(id)};
        crmctl_table_add(tab, cells);
    }
    if (tab)
        crmctl_table_print(tab);
    crmctl_table_destroy(&tab);
    if ((long long)json_array_size(ids) < n)
        printf("(%zu listed; raise --limit for more)\n", json_array_size(ids));
    return CRMCTL_EXIT_OK;
}

static int s_check_preview(const crmctl_t *ctl, json_t *request)
{
    int by_id = *req_str(request, "id") != 0;
    int by_rules = json_array_size(json_object_get(request, "rules")) > 0;
    if (by_id == by_rules)
        return crmctl_usage_error(ctl, "give either a segment ID or --rule");
    return CRMCTL_EXIT_OK;
}

const req_verb_t mkt_segment_create = {
    MKT_VERB("marketing.segment.create", &crm__v1__create_segment_request__descriptor,
             &crm__v1__segment_reply__descriptor, s_segment_create_fields),
    .noun = "segment",
    .entity = "segment",
    .view = s_segment_view,
    .done = "created",
    .sub = "segment.rules",
    .sub_title = "rules",
    .sub_view = s_rule_view,
    .print = s_print_segment,
};

const req_verb_t mkt_segment_preview = {
    MKT_VERB("marketing.segment.preview", &crm__v1__preview_segment_request__descriptor,
             &crm__v1__preview_segment_reply__descriptor, s_segment_preview_fields),
    .positional = req_id_arg,
    .noun = "segment",
    .print = s_print_members,
    .check = s_check_preview,
    .names = 1,
};

const req_verb_t mkt_segment_members = {
    MKT_VERB("marketing.segment.members", &crm__v1__segment_members_request__descriptor,
             &crm__v1__preview_segment_reply__descriptor, s_segment_members_fields),
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "segment",
    .print = s_print_members,
    .names = 1,
};

const req_verb_t mkt_segment_list = {
    MKT_VERB("marketing.segment.list", &crm__v1__list_segments_request__descriptor,
             &crm__v1__list_segments_reply__descriptor, s_segment_list_fields),
    .items = "segments",
    .noun = "segment",
    .view = s_segment_view,
};

MKT_VERB_HANDLER(segment_create)
MKT_VERB_HANDLER(segment_preview)
MKT_VERB_HANDLER(segment_members)
MKT_VERB_HANDLER(segment_list)
