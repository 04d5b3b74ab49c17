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
    X("name", "NAME", "full name", 0, "person.name", SALES_STR, 0)                                 \
    X("email", "EMAIL", "email address (repeatable; the first is the primary)", 1,                 \
      "person.emails", SALES_LIST, 0)                                                              \
    X("phone", "PHONE", "phone number (repeatable)", 1, "person.phones", SALES_LIST, 0)            \
    X("kind", "KIND",                                                                              \
      "customer, prospect (the default), vendor, supplier, partner, service-provider, "            \
      "consultant, job-seeker, industry-expert or other",                                          \
      0, "person.kind", SALES_ENUM, 0)                                                             \
    X("org", "ID", "organisation id", 0, "person.organization_id", SALES_STR, 0)                   \
    X("title", "TITLE", "job title", 0, "person.title", SALES_STR, 0)                              \
    X("address", "ADDRESS", "postal address", 0, "person.address", SALES_STR, 0)                   \
    X("country", "CC", "country, ISO 3166 code (DE, GB, ...)", 0, "person.country", SALES_STR, 0)  \
    X("industry", "INDUSTRY", "industry", 0, "person.industry", SALES_STR, 0)                      \
    X("tag", "TAG", "tag (repeatable)", 1, "person.tags", SALES_LIST, 0)                           \
    X("owner", "OWNER", "staff member responsible", 0, "person.owner", SALES_STR, 0)               \
    X("field", "KEY=VALUE", "custom field (repeatable)", 1, "person.custom_fields", SALES_FIELDS, 0)

#define PERSON_REGISTER(X) PERSON_PROFILE(X) SALES_WRITE(X)
#define PERSON_SHOW(X)                                                                             \
    X("email", "EMAIL", "the person with this email instead of an ID", 0, "email", SALES_STR, 0)   \
    SALES_COMMON(X)
#define PERSON_UPDATE(X)                                                                           \
    PERSON_PROFILE(X)                                                                              \
    X("clear", "FIELD", "empty this field (an option name or a Person field; repeatable)", 1,      \
      NULL, SALES_NONE, 0)                                                                         \
    SALES_WRITE(X)
#define PERSON_LIST(X)                                                                             \
    X("kind", "KIND", "only people of this kind", 0, "kind", SALES_ENUM, 0)                        \
    X("owner", "OWNER", "only people of this owner", 0, "owner", SALES_STR, 0)                     \
    X("tag", "TAG", "only people with this tag", 0, "tag", SALES_STR, 0)                           \
    X("org", "ID", "only people of this organisation", 0, "organization_id", SALES_STR, 0)         \
    X("query", "TEXT", "name or email contains TEXT (any case)", 0, "query", SALES_STR, 0)         \
    X("since", "DATE", "registered on or after DATE (or a date-time)", 0, "created_from_us",       \
      SALES_FROM_US, 0)                                                                            \
    X("until", "DATE", "registered on or before DATE (or a date-time)", 0, "created_to_us",        \
      SALES_TO_US, 0)                                                                              \
    SALES_PAGING(X)

SALES_OPTIONS(person_register, PERSON_REGISTER);
SALES_OPTIONS(person_show, PERSON_SHOW);
SALES_OPTIONS(person_update, PERSON_UPDATE);
SALES_OPTIONS(person_list, PERSON_LIST);

const sales_col_t sales_person_view[] = {
    {"ID", "id", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"NAME", "name", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"KIND", "kind", SALES_V_ENUM, SALES_IN_BOTH, &crm__v1__person_kind__descriptor},
    {"EMAIL", "emails", SALES_V_FIRST, SALES_IN_TABLE, NULL},
    {"EMAILS", "emails", SALES_V_JOIN, SALES_IN_RECORD, NULL},
    {"PHONES", "phones", SALES_V_JOIN, SALES_IN_RECORD, NULL},
    {"ORGANIZATION", "organization_id", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"TITLE", "title", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"ADDRESS", "address", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"COUNTRY", "country", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"INDUSTRY", "industry", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"TAGS", "tags", SALES_V_JOIN, SALES_IN_RECORD, NULL},
    {"OWNER", "owner", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"FIELDS", "custom_fields", SALES_V_FIELDS, SALES_IN_RECORD, NULL},
    {"REGISTERED BY", "registered_by", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"CREATED", "created_at_us", SALES_V_DATETIME, SALES_IN_RECORD, NULL},
    {"UPDATED", "updated_at_us", SALES_V_DATETIME, SALES_IN_RECORD, NULL},
    {NULL, NULL, SALES_V_TEXT, 0, NULL},
};

/* "person ID registered" or "person ID already known", then the record. */
static int s_print_registered(const sales_verb_t *verb, const json_t *reply)
{
    const json_t *p = json_object_get(reply, "person");
    printf("person %s %s\n", sales_str(p, "id"),
           json_is_true(json_object_get(reply, "created")) ? "registered" : "already known");
    sales_print_record(p, sales_person_view);
    return CRMCTL_EXIT_OK;
}

static int s_check_register(const crmctl_t *ctl, json_t *request)
{
    if (!*sales_str(request, "person.name") && !*sales_str_at(request, "person.emails", 0))
        return crmctl_usage_error(ctl, "give --name or --email (either is enough)");
    return CRMCTL_EXIT_OK;
}

static int s_check_show(const crmctl_t *ctl, json_t *request)
{
    int by_id = *sales_str(request, "id") != 0, by_email = *sales_str(request, "email") != 0;
    if (by_id == by_email)
        return crmctl_usage_error(ctl, "give either an ID or --email");
    return CRMCTL_EXIT_OK;
}

const sales_verb_t sales_person_register = {
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

const sales_verb_t sales_person_show = {
    .command = "sales.person.show",
    .request = &crm__v1__show_person_request__descriptor,
    .reply = &crm__v1__person_reply__descriptor,
    .fields = s_person_show_fields,
    .positional = sales_id_arg,
    .noun = "person",
    .entity = "person",
    .view = sales_person_view,
    .check = s_check_show,
};

const sales_verb_t sales_person_update = {
    .command = "sales.person.update",
    .request = &crm__v1__update_person_request__descriptor,
    .reply = &crm__v1__person_reply__descriptor,
    .fields = s_person_update_fields,
    .positional = sales_id_arg,
    .min_positional = 1,
    .update_mask = "person",
    .noun = "person",
    .entity = "person",
    .view = sales_person_view,
    .done = "updated",
};

const sales_verb_t sales_person_list = {
    .command = "sales.person.list",
    .request = &crm__v1__list_people_request__descriptor,
    .reply = &crm__v1__list_people_reply__descriptor,
    .fields = s_person_list_fields,
    .items = "people",
    .noun = "person",
    .view = sales_person_view,
};

SALES_VERB_HANDLER(person_register)
SALES_VERB_HANDLER(person_show)
SALES_VERB_HANDLER(person_update)
SALES_VERB_HANDLER(person_list)
