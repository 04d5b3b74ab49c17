/* org.c: `crmctl org create|show|list`, over sales.org.*: the
 * organisations (accounts) people belong to. show lists the organisation's
 * people too. */
#include "sales.h"

#define ORG_CREATE(X)                                                                              \
    X("name", "NAME", "the organisation's name (required)", 0, "organization.name", REQ_STR,       \
      REQ_REQUIRED)                                                                                \
    X("domain", "DOMAIN", "web domain (example.com)", 0, "organization.domain", REQ_STR, 0)        \
    X("industry", "INDUSTRY", "industry", 0, "organization.industry", REQ_STR, 0)                  \
    X("country", "CC", "country, ISO 3166 code", 0, "organization.country", REQ_STR, 0)            \
    X("owner", "OWNER", "staff member responsible", 0, "organization.owner", REQ_STR, 0)           \
    X("tag", "TAG", "tag (repeatable)", 1, "organization.tags", REQ_LIST, 0)                       \
    REQ_WRITE(X)
#define ORG_SHOW(X) REQ_COMMON(X)
#define ORG_LIST(X)                                                                                \
    X("owner", "OWNER", "only organisations of this owner", 0, "owner", REQ_STR, 0)                \
    X("query", "TEXT", "name contains TEXT (any case)", 0, "query", REQ_STR, 0)                    \
    REQ_PAGING(X)

REQ_OPTIONS(org_create, ORG_CREATE);
REQ_OPTIONS(org_show, ORG_SHOW);
REQ_OPTIONS(org_list, ORG_LIST);

const req_col_t sales_org_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"DOMAIN", "domain", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"INDUSTRY", "industry", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"COUNTRY", "country", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"OWNER", "owner", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"TAGS", "tags", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

const req_verb_t sales_org_create = {
    .command = "sales.org.create",
    .request = &crm__v1__create_organization_request__descriptor,
    .reply = &crm__v1__organization_reply__descriptor,
    .fields = s_org_create_fields,
    .noun = "organisation",
    .entity = "organization",
    .view = sales_org_view,
    .done = "created",
};

const req_verb_t sales_org_show = {
    .command = "sales.org.show",
    .request = &crm__v1__show_organization_request__descriptor,
    .reply = &crm__v1__organization_reply__descriptor,
    .fields = s_org_show_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "organisation",
    .entity = "organization",
    .view = sales_org_view,
    .sub = "people",
    .sub_title = "people",
    .sub_view = sales_person_view,
};

const req_verb_t sales_org_list = {
    .command = "sales.org.list",
    .request = &crm__v1__list_organizations_request__descriptor,
    .reply = &crm__v1__list_organizations_reply__descriptor,
    .fields = s_org_list_fields,
    .items = "organizations",
    .noun = "organisation",
    .plural = "organisations",
    .view = sales_org_view,
};

SALES_VERB_HANDLER(org_create)
SALES_VERB_HANDLER(org_show)
SALES_VERB_HANDLER(org_list)
