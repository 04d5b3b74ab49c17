/* lead.c: `crmctl lead create|qualify|convert|disqualify|list`, over
 * sales.lead.*.
 *
 * convert turns a lead into a person, an organisation (when the lead names
 * a company) and an open deal in one step; it prints the three ids, which
 * is what the rep needs next. */
#include "sales.h"

#include <stdio.h>

#define LEAD_CREATE(X)                                                                             \
    X("name", "NAME", "the person's name", 0, "lead.name", REQ_STR, 0)                             \
    X("email", "EMAIL", "email address", 0, "lead.email", REQ_STR, 0)                              \
    X("phone", "PHONE", "phone number", 0, "lead.phone", REQ_STR, 0)                               \
    X("company", "NAME", "the company the lead works for", 0, "lead.company", REQ_STR, 0)          \
    X("source", "SOURCE", "web, referral, campaign, event, cold-call or other", 0, "lead.source",  \
      REQ_ENUM, 0)                                                                                 \
    X("campaign", "ID", "the campaign it came from (with --source campaign)", 0,                   \
      "lead.campaign_id", REQ_STR, 0)                                                              \
    X("owner", "OWNER", "staff member responsible", 0, "lead.owner", REQ_STR, 0)                   \
    X("notes", "TEXT", "notes", 0, "lead.notes", REQ_STR, 0)                                       \
    REQ_WRITE(X)
#define LEAD_QUALIFY(X)                                                                            \
    X("note", "TEXT", "why it qualifies (budget, need, timing ...)", 0, "qualification", REQ_STR,  \
      0)                                                                                           \
    REQ_WRITE(X)
#define LEAD_CONVERT(X)                                                                            \
    X("title", "TITLE", "title of the new deal", 0, "deal_title", REQ_STR, 0)                      \
    X("amount", "AMOUNT", "amount of the deal (1234.50)", 0, "amount_minor", REQ_MONEY, 0)         \
    X("currency", "CODE", "ISO 4217 currency of the amount (EUR)", 0, "currency", REQ_STR, 0)      \
    X("pipeline", "ID", "pipeline of the deal (default: the default pipeline)", 0, "pipeline_id",  \
      REQ_STR, 0)                                                                                  \
    X("stage", "NAME", "stage of the deal (default: the pipeline's first)", 0, "stage", REQ_STR,   \
      0)                                                                                           \
    X("no-deal", NULL, "create no deal, only the person and organisation", 0, "no_deal", REQ_FLAG, \
      0)                                                                                           \
    REQ_WRITE(X)
#define LEAD_DISQUALIFY(X)                                                                         \
    X("reason", "TEXT", "why (required)", 0, "reason", REQ_STR, REQ_REQUIRED)                      \
    REQ_WRITE(X)
#define LEAD_LIST(X)                                                                               \
    X("status", "STATUS", "new, qualified, converted or disqualified", 0, "status", REQ_ENUM, 0)   \
    X("owner", "OWNER", "only leads of this owner", 0, "owner", REQ_STR, 0)                        \
    X("source", "SOURCE", "web, referral, campaign, event, cold-call or other", 0, "source",       \
      REQ_ENUM, 0)                                                                                 \
    X("campaign", "ID", "only leads from this campaign", 0, "campaign_id", REQ_STR, 0)             \
    REQ_PAGING(X)

REQ_OPTIONS(lead_create, LEAD_CREATE);
REQ_OPTIONS(lead_qualify, LEAD_QUALIFY);
REQ_OPTIONS(lead_convert, LEAD_CONVERT);
REQ_OPTIONS(lead_disqualify, LEAD_DISQUALIFY);
REQ_OPTIONS(lead_list, LEAD_LIST);

static const req_col_t s_lead_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NAME", "name", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"EMAIL", "email", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"PHONE", "phone", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"COMPANY", "company", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"SOURCE", "source", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__lead_source__descriptor},
    {"CAMPAIGN", "campaign_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__lead_status__descriptor},
    {"OWNER", "owner", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NOTES", "notes", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"QUALIFICATION", "qualification", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DISQUALIFIED BECAUSE", "disqualify_reason", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"PERSON", "person_id", REQ_V_PERSON, REQ_IN_RECORD, NULL},
    {"ORGANIZATION", "organization_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"DEAL", "deal_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* "lead ID converted", then one line per record it made or found. */
static int s_print_converted(const req_verb_t *verb, const json_t *reply)
{
    static const struct {
        const char *label, *key, *what;
    } made[] = {
        {"person:", "person", "name"},
        {"organisation:", "organization", "name"},
        {"deal:", "deal", "title"},
    };
    printf("lead %s converted\n", req_str(reply, "lead.id"));
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        const json_t *o = json_object_get(reply, made[i].key);
        const char *id = req_str(o, "id");
        if (*id)
            printf("%-13s %s  %s\n", made[i].label, id, req_str(o, made[i].what));
        else
            printf("%-13s -\n", made[i].label);
    }
    return CRMCTL_EXIT_OK;
}

const req_verb_t sales_lead_create = {
    .command = "sales.lead.create",
    .request = &crm__v1__create_lead_request__descriptor,
    .reply = &crm__v1__lead_reply__descriptor,
    .fields = s_lead_create_fields,
    .noun = "lead",
    .entity = "lead",
    .view = s_lead_view,
    .done = "created",
    .names = 1,
};

const req_verb_t sales_lead_qualify = {
    REQ_ON_ID("sales.lead.qualify", &crm__v1__qualify_lead_request__descriptor,
              &crm__v1__lead_reply__descriptor, s_lead_qualify_fields, "lead", s_lead_view,
              "qualified"),
};

const req_verb_t sales_lead_disqualify = {
    REQ_ON_ID("sales.lead.disqualify", &crm__v1__disqualify_lead_request__descriptor,
              &crm__v1__lead_reply__descriptor, s_lead_disqualify_fields, "lead", s_lead_view,
              "disqualified"),
};

const req_verb_t sales_lead_convert = {
    .command = "sales.lead.convert",
    .request = &crm__v1__convert_lead_request__descriptor,
    .reply = &crm__v1__convert_lead_reply__descriptor,
    .fields = s_lead_convert_fields,
    .positional = req_id_arg,
    .min_positional = 1,
    .noun = "lead",
    .print = s_print_converted,
    .names = 1,
};

const req_verb_t sales_lead_list = {
    .command = "sales.lead.list",
    .request = &crm__v1__list_leads_request__descriptor,
    .reply = &crm__v1__list_leads_reply__descriptor,
    .fields = s_lead_list_fields,
    .items = "leads",
    .noun = "lead",
    .view = s_lead_view,
};

SALES_VERB_HANDLER(lead_create)
SALES_VERB_HANDLER(lead_qualify)
SALES_VERB_HANDLER(lead_convert)
SALES_VERB_HANDLER(lead_disqualify)
SALES_VERB_HANDLER(lead_list)
