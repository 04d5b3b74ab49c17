/* consent.c: `crmctl consent grant|withdraw|history` (marketing.consent.*).
 *
 * The consent ledger: each grant or withdrawal is a new entry with its
 * purpose, source, proof and who recorded it (the caller's principal, set
 * by the service); nothing is overwritten, and history lists every entry
 * with the purposes granted now. */
#include "marketing.h"

#include <stdio.h>

static const char *const s_customer_arg[] = {"customer_id", NULL};

#define CONSENT_RECORD(X)                                                                          \
    X("purpose", "PURPOSE",                                                                        \
      "email-marketing, sms-marketing, phone-marketing, fax-marketing, post-marketing or"          \
      " profiling (required)",                                                                     \
      0, "purpose", REQ_ENUM, REQ_REQUIRED)                                                        \
    X("source", "SOURCE", "form, import, call or response (required)", 0, "source", REQ_ENUM,      \
      REQ_REQUIRED)                                                                                \
    X("proof", "TEXT", "proof: the form's wording, a document or recording reference", 0, "proof", \
      REQ_STR, 0)                                                                                  \
    X("at", "TIME", "when the person gave or withdrew it (default: now)", 0, "at_us", REQ_TIME_US, \
      0)                                                                                           \
    REQ_WRITE(X)
#define CONSENT_HISTORY(X) REQ_COMMON(X)

REQ_OPTIONS(consent_grant, CONSENT_RECORD);
REQ_OPTIONS(consent_withdraw, CONSENT_RECORD);
REQ_OPTIONS(consent_history, CONSENT_HISTORY);

static const req_col_t s_entry_view[] = {
    {"AT", "at_us", REQ_V_DATETIME, REQ_IN_RECORD | REQ_IN_TABLE, NULL},
    {"PURPOSE", "purpose", REQ_V_ENUM, REQ_IN_RECORD | REQ_IN_TABLE,
     &crm__v1__consent_purpose__descriptor},
    {"GRANTED", "granted", REQ_V_BOOL, REQ_IN_RECORD | REQ_IN_TABLE, NULL},
    {"SOURCE", "source", REQ_V_ENUM, REQ_IN_RECORD | REQ_IN_TABLE,
     &crm__v1__consent_source__descriptor},
    {"PROOF", "proof", REQ_V_TEXT, REQ_IN_RECORD | REQ_IN_TABLE, NULL},
    {"RECORDED BY", "recorded_by", REQ_V_TEXT, REQ_IN_RECORD | REQ_IN_TABLE, NULL},
    {"RECORDED", "recorded_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"ID", "id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_granted_view[] = {
    {"GRANTED NOW", "granted", REQ_V_ENUMS, REQ_IN_RECORD, &crm__v1__consent_purpose__descriptor},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static int s_print_entry(const req_verb_t *verb, const json_t *reply)
{
    const json_t *k = json_object_get(reply, "entry");
    printf("consent %s %s\n", json_is_true(json_object_get(k, "granted")) ? "granted" : "withdrawn",
           req_str(k, "id"));
    req_print_record(k, s_entry_view);
    return CRMCTL_EXIT_OK;
}

static int s_print_history(const req_verb_t *verb, const json_t *reply)
{
    const json_t *entries = json_object_get(reply, "entries");
    if (json_array_size(entries) == 0)
        printf("no consent recorded\n");
    else
        req_print_table(entries, s_entry_view);
    req_print_record(reply, s_granted_view);
    return CRMCTL_EXIT_OK;
}

const req_verb_t mkt_consent_grant = {
    MKT_VERB("marketing.consent.grant", &crm__v1__record_consent_request__descriptor,
             &crm__v1__consent_reply__descriptor, s_consent_grant_fields),
    .positional = s_customer_arg,
    .min_positional = 1,
    .noun = "consent",
    .print = s_print_entry,
};

const req_verb_t mkt_consent_withdraw = {
    MKT_VERB("marketing.consent.withdraw", &crm__v1__record_consent_request__descriptor,
             &crm__v1__consent_reply__descriptor, s_consent_withdraw_fields),
    .positional = s_customer_arg,
    .min_positional = 1,
    .noun = "consent",
    .print = s_print_entry,
};

const req_verb_t mkt_consent_history = {
    MKT_VERB("marketing.consent.history", &crm__v1__consent_history_request__descriptor,
             &crm__v1__consent_history_reply__descriptor, s_consent_history_fields),
    .positional = s_customer_arg,
    .min_positional = 1,
    .noun = "consent",
    .print = s_print_history,
};

MKT_VERB_HANDLER(consent_grant)
MKT_VERB_HANDLER(consent_withdraw)
MKT_VERB_HANDLER(consent_history)
