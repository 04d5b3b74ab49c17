/* lead.c: `crmctl lead create|qualify|convert|disqualify|list`, over
 * sales.lead.*.
 *
 * convert turns a lead into a person, an organisation (when the lead names
 * a company) and an open deal in one step; it prints the three ids, which
 * is what the rep needs next. */
#include "sales.h"

#include <stdio.h>

#define LEAD_CREATE(X)                                                                             \
    X("name", "NAME", "the person's name", 0, "lead.name", SALES_STR, 0)                           \
    X("email", "EMAIL", "email address", 0, "lead.email", SALES_STR, 0)                            \
    X("phone", "PHONE", "phone number", 0, "lead.phone", SALES_STR, 0)                             \
    X("company", "NAME", "the company the lead works for", 0, "lead.company", SALES_STR, 0)        \
    X("source", "SOURCE", "web, referral, campaign, event, cold-call or other", 0, "lead.source",  \
      SALES_ENUM, 0)                                                                               \
    X("campaign", "ID", "the campaign it came from (with --source campaign)", 0,                   \
      "lead.campaign_id", SALES_STR, 0)                                                            \
    X("owner", "OWNER", "staff member responsible", 0, "lead.owner", SALES_STR, 0)                 \
    X("notes", "TEXT", "notes", 0, "lead.notes", SALES_STR, 0)                                     \
    SALES_WRITE(X)
#define LEAD_QUALIFY(X)                                                                            \
    X("note", "TEXT", "why it qualifies (budget, need, timing ...)", 0, "qualification",           \
      SALES_STR, 0)                                                                                \
    SALES_WRITE(X)
#define LEAD_CONVERT(X)                                                                            \
    X("title", "TITLE", "title of the new deal", 0, "deal_title", SALES_STR, 0)                    \
    X("amount", "AMOUNT", "amount of the deal (1234.50)", 0, "amount_minor", SALES_MONEY, 0)       \
    X("currency", "CODE", "ISO 4217 currency of the amount (EUR)", 0, "currency", SALES_STR, 0)    \
    X("pipeline", "ID", "pipeline of the deal (default: the default pipeline)", 0, "pipeline_id",  \
      SALES_STR, 0)                                                                                \
    X("stage", "NAME", "stage of the deal (default: the pipeline's first)", 0, "stage", SALES_STR, \
      0)                                                                                           \
    X("no-deal", NULL, "create no deal, only the person and organisation", 0, "no_deal",           \
      SALES_FLAG, 0)                                                                               \
    SALES_WRITE(X)
#define LEAD_DISQUALIFY(X)                                                                         \
    X("reason", "TEXT", "why (required)", 0, "reason", SALES_STR, SALES_REQUIRED)                  \
    SALES_WRITE(X)
#define LEAD_LIST(X)                                                                               \
    X("status", "STATUS", "new, qualified, converted or disqualified", 0, "status", SALES_ENUM, 0) \
    X("owner", "OWNER", "only leads of this owner", 0, "owner", SALES_STR, 0)                      \
    X("source", "SOURCE", "web, referral, campaign, event, cold-call or other", 0, "source",       \
      SALES_ENUM, 0)                                                                               \
    X("campaign", "ID", "only leads from this campaign", 0, "campaign_id", SALES_STR, 0)           \
    SALES_PAGING(X)

SALES_OPTIONS(lead_create, LEAD_CREATE);
SALES_OPTIONS(lead_qualify, LEAD_QUALIFY);
SALES_OPTIONS(lead_convert, LEAD_CONVERT);
SALES_OPTIONS(lead_disqualify, LEAD_DISQUALIFY);
SALES_OPTIONS(lead_list, LEAD_LIST);

static const sales_col_t s_lead_view[] = {
    {"ID", "id", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"NAME", "name", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"EMAIL", "email", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"PHONE", "phone", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"COMPANY", "company", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"SOURCE", "source", SALES_V_ENUM, SALES_IN_BOTH, &crm__v1__lead_source__descriptor},
    {"CAMPAIGN", "campaign_id", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"STATUS", "status", SALES_V_ENUM, SALES_IN_BOTH, &crm__v1__lead_status__descriptor},
    {"OWNER", "owner", SALES_V_TEXT, SALES_IN_BOTH, NULL},
    {"NOTES", "notes", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"QUALIFICATION", "qualification", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"DISQUALIFIED BECAUSE", "disqualify_reason", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"PERSON", "person_id", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"ORGANIZATION", "organization_id", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"DEAL", "deal_id", SALES_V_TEXT, SALES_IN_RECORD, NULL},
    {"CREATED", "created_at_us", SALES_V_DATETIME, SALES_IN_RECORD, NULL},
    {NULL, NULL, SALES_V_TEXT, 0, NULL},
};

/* "lead ID converted", then one line per record it made or found. */
static int s_print_converted(const sales_verb_t *verb, const json_t *reply)
{
    static const struct {
        const char *label, *key, *what;
    } made[] = {
        {"person:", "person", "name"},
        {"organisation:", "organization", "name"},
        {"deal:", "deal", "title"},
    };
    printf("lead %s converted\n", sales_str(reply, "lead.id"));
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        const json_t *o = json_object_get(reply, made[i].key);
        const char *id = sales_str(o, "id");
        if (*id)
            printf("%-13s %s  %s\n", made[i].label, id, sales_str(o, made[i].what));
        else
            printf("%-13s -\n", made[i].label);
    }
    return CRMCTL_EXIT_OK;
}

const sales_verb_t sales_lead_create = {
    .command = "sales.lead.create",
    .request = &crm__v1__create_lead_request__descriptor,
    .reply = &crm__v1__lead_reply__descriptor,
    .fields = s_lead_create_fields,
    .noun = "lead",
    .entity = "lead",
    .view = s_lead_view,
    .done = "created",
};

const sales_verb_t sales_lead_qualify = {
    SALES_ON_ID("sales.lead.qualify", &crm__v1__qualify_lead_request__descriptor,
                &crm__v1__lead_reply__descriptor, s_lead_qualify_fields, "lead", s_lead_view,
                "qualified"),
};

const sales_verb_t sales_lead_disqualify = {
    SALES_ON_ID("sales.lead.disqualify", &crm__v1__disqualify_lead_request__descriptor,
                &crm__v1__lead_reply__descriptor, s_lead_disqualify_fields, "lead", s_lead_view,
                "disqualified"),
};

const sales_verb_t sales_lead_convert = {
    .command = "sales.lead.convert",
    .request = &crm__v1__convert_lead_request__descriptor,
    .reply = &crm__v1__convert_lead_reply__descriptor,
    .fields = s_lead_convert_fields,
    .positional = sales_id_arg,
    .min_positional = 1,
    .noun = "lead",
    .print = s_print_converted,
};

const sales_verb_t sales_lead_list = {
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
