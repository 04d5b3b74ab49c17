/* person.c: `crmctl person register|show|update|list`, over
 * sales.person.*.
 *
 * Registering asks for little on purpose: a name or an email is enough, and
 * an email that is known already returns that person (the customer id is
 * shared by every service). update sends only the fields given: their names
 * form the update_mask, so a rep can change a title without knowing the
 * rest of the record. */
#include "sales.h"

#include <stdio.h>

/* The profile options of register and update. */
#define PERSON_PROFILE(X)                                                                          \
    X("name", "NAME", "full name", 0, "person.name", REQ_STR, 0)                                   \
    X("email", "EMAIL", "email address (repeatable; the first is the primary)", 1,                 \
      "person.emails", REQ_LIST, 0)                                                                \
    X("phone", "PHONE", "phone number (repeatable)", 1, "person.phones", REQ_LIST, 0)              \
    X("kind", "KIND",                                                                              \
      "customer, prospect (the default), vendor, supplier, partner, service-provider, "            \
      "consultant, job-seeker, industry-expert or other",                                          \
      0, "person.kind", REQ_ENUM, 0)                                                               \
    X("org", "ID", "organisation id", 0, "person.organization_id", REQ_STR, 0)                     \
    X("title", "TITLE", "job title", 0, "person.title", REQ_STR, 0)                                \
    X("address", "ADDRESS", "postal address (where post campaigns go)", 0, "person.address",       \
      REQ_STR, 0)                                                                                  \
    X("fax", "NUMBER", "fax number (where fax campaigns go)", 0, "person.fax", REQ_STR, 0)         \
    X("country", "CC", "country, ISO 3166 code (DE, GB, ...)", 0, "person.country", REQ_STR, 0)    \
    X("industry", "INDUSTRY", "industry", 0, "person.industry", REQ_STR, 0)                        \
    X("tag", "TAG", "tag (repeatable)", 1, "person.tags", REQ_LIST, 0)                             \
    X("owner", "OWNER", "staff member responsible", 0, "person.owner", REQ_STR, 0)                 \
    X("field", "KEY=VALUE", "custom field (repeatable)", 1, "person.custom_fields", REQ_FIELDS, 0)

#define PERSON_REGISTER(X) PERSON_PROFILE(X) REQ_WRITE(X)
#define PERSON_SHOW(X)                                                                             \
    X("email", "EMAIL", "the person with this email instead of an ID", 0, "email", REQ_STR, 0)     \
    REQ_COMMON(X)
#define PERSON_UPDATE(X)                                                                           \
    PERSON_PROFILE(X)                                                                              \
    X("clear", "FIELD", "empty this field (an option name or a Person field; repeatable)", 1,      \
      NULL, REQ_NONE, 0)                                                                           \
    REQ_WRITE(X)
#define PERSON_LIST(X)                                                                             \
    X("kind", "KIND", "only people of this kind", 0, "kind", REQ_ENUM, 0)                          \
    X("owner", "OWNER", "only people of this owner", 0, "owner", REQ_STR, 0)                       \
    X("tag", "TAG", "only people with this tag", 0, "tag", REQ_STR, 0)                             \
    X("org", "ID", "only people of this organisation", 0, "organization_id", REQ_STR, 0)           \
    X("query", "TEXT", "name or email contains TEXT (any case)", 0, "query", REQ_STR, 0)           \
    X("since", "DATE", "registered on or after DATE (or a date-time)", 0, "created_from_us",       \
      REQ_FROM_US, 0)                                                                              \
    X("until", "DATE", "registered on or before DATE (or a date-time)", 0, "created_to_us",        \
      REQ_TO_US, 0)                                                                                \
    REQ_PAGING(X)

#define PERSON_ERASE(X)                                                                            \
    X("reason", "TEXT", "why: the request's reference, without personal data (required)", 0,       \
      "reason", REQ_STR, REQ_REQUIRED)                                                             \
    REQ_WRITE(X)
#define PERSON_MERGE(X)                                                                            \
    X("reason", "TEXT", "why: a request or finding reference, without personal data", 0, "reason", \
      REQ_STR, 0)                                                                                  \
    REQ_WRITE(X)

REQ_OPTIONS(person_register, PERSON_REGISTER);
REQ_OPTIONS(person_erase, PERSON_ERASE);
REQ_OPTIONS(person_merge, PERSON_MERGE);
REQ_OPTIONS(person_show, PERSON_SHOW);
REQ_OPTIONS(person_update, PERSON_UPDATE);
REQ_OPTIONS(person_list, PERSON_LIST);

const req_col_t sales_person_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"KIND", "kind", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__person_kind__descriptor},
    {"EMAIL", "emails", REQ_V_FIRST, REQ_IN_TABLE, NULL},
    {"EMAILS", "emails", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {"PHONES", "phones", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {"ORGANIZATION", "organization_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"TITLE", "title", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"ADDRESS", "address", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"FAX", "fax", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"COUNTRY", "country", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"INDUSTRY", "industry", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"TAGS", "tags", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {"OWNER", "owner", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"FIELDS", "custom_fields", REQ_V_FIELDS, REQ_IN_RECORD, NULL},
    {"REGISTERED BY", "registered_by", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"UPDATED", "updated_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* "person ID registered" or "person ID already known", then the record. */
static int s_print_registered(const req_verb_t *verb, const json_t *reply)
{
    const json_t *p = json_object_get(reply, "person");
    printf("person %s %s\n", req_str(p, "id"),
           json_is_true(json_object_get(reply, "created")) ? "registered" : "already known");
    req_print_record(p, sales_person_view);
    return CRMCTL_EXIT_OK;
}

static int s_check_register(const crmctl_t *ctl, json_t *request)
{
    if (!*req_str(request, "person.name") && !*req_str_at(request, "person.emails", 0))
        return crmctl_usage_error(ctl, "give --name or --email (either is enough)");
    return CRMCTL_EXIT_OK;
}

static int s_check_show(const crmctl_t *ctl, json_t *request)
{
    int by_id = *req_str(request, "id") != 0, by_email = *req_str(request, "email") != 0;
    if (by_id == by_email)
        return crmctl_usage_error(ctl, "give either an ID or --email");
    return CRMCTL_EXIT_OK;
}

const req_verb_t sales_person_register = {
    .command = "sales.person.register",
    .request = &crm__v1__register_person_request__descriptor,
    .reply = &crm__v1__person_reply__descriptor,
    .fields = s_person_register_fields,
    .noun = "person",
    .entity = "person",
    .view = sales_person_view,
    .print = s_print_registered,
    .check = s_check_register,
};

const req_verb_t sales_person_show = {
    .command = "sales.person.show",
    .request = &crm__v1__show_person_request__descriptor,
    .reply = &crm__v1__person_reply__descriptor,
    .fields = s_person_show_fields,
    .positional = req_id_arg,
    .noun = "person",
    .entity = "person",
    .view = sales_person_view,
    .check = s_check_show,
};

const req_verb_t sales_person_update = {
    .command = "sales.person.update",
    .request = &crm__v1__update_person_request__descriptor,
    .reply = &crm__v1__person_reply__descriptor,
    .fields = s_person_update_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .update_mask = "person",
    .noun = "person",
    .entity = "person",
    .view = sales_person_view,
    .done = "updated",
};

const req_verb_t sales_person_list = {
    .command = "sales.person.list",
    .request = &crm__v1__list_people_request__descriptor,
    .reply = &crm__v1__list_people_reply__descriptor,
    .fields = s_person_list_fields,
    .items = "people",
    .noun = "person",
    .view = sales_person_view,
};

/* "person ID erased: N stored events rewritten". */
static int s_print_erased(const req_verb_t *verb, const json_t *reply)
{
    (void)verb;
    printf("person %s erased: %lld stored event(s) of sales rewritten; the other services "
           "follow on person.erased\n",
           req_str(reply, "id"),
           (long long)json_integer_value(json_object_get(reply, "events_rewritten")));
    return CRMCTL_EXIT_OK;
}

const req_verb_t sales_person_erase = {
    .command = "sales.person.erase",
    .request = &crm__v1__erase_person_request__descriptor,
    .reply = &crm__v1__erase_person_reply__descriptor,
    .fields = s_person_erase_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "person",
    .print = s_print_erased,
};

SALES_VERB_HANDLER(person_register)
/* "person DROP merged into KEEP: N record(s) of sales moved". */
static int s_print_merged(const req_verb_t *verb, const json_t *reply)
{
    (void)verb;
    const json_t *p = json_object_get(reply, "person");
    printf("person %s merged into %s: %lld record(s) of sales moved; the other services "
           "follow on person.merged\n",
           req_str(reply, "dropped_id"), p ? req_str(p, "id") : "",
           (long long)json_integer_value(json_object_get(reply, "records_moved")));
    return CRMCTL_EXIT_OK;
}

static const char *const s_merge_args[] = {"keep_id", "drop_id", NULL};

const req_verb_t sales_person_merge = {
    .command = "sales.person.merge",
    .request = &crm__v1__merge_person_request__descriptor,
    .reply = &crm__v1__merge_person_reply__descriptor,
    .fields = s_person_merge_fields,
    .positional = s_merge_args,
    .min_positional = 2,
    .noun = "person",
    .print = s_print_merged,
};

SALES_VERB_HANDLER(person_erase)
SALES_VERB_HANDLER(person_merge)
SALES_VERB_HANDLER(person_show)
SALES_VERB_HANDLER(person_update)
SALES_VERB_HANDLER(person_list)
