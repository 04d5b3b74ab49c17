/* rules.h: the sales service's business rules, without any I/O.
 *
 * Everything here is a pure function of its arguments (the one exception is
 * a new random id in sales_convert_plan), so the rules are unit-tested
 * without a database (tests/unit/sales/test_rules.c). Handlers call them
 * before writing anything, so a rejected request changes nothing.
 *
 * Every check returns 0, or -1 after filling a sales_err_t with a status
 * code from crm.v1.StatusCode, the dotted field it is about
 * ("person.emails[0]"), a lower-case message without a final period, a
 * detail that quotes the value and a hint: the postgres error style that
 * crm_work_fail() sends back to the client. */
#ifndef SALES_RULES_H
#define SALES_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <crm/check.h>
#include <crm/page.h>
#include <crm/util.h>
#include <protobuf-c/protobuf-c.h>

#include "crm/v1/sales.pb-c.h"

typedef crm_err_t sales_err_t;

/* Limits on what a client may send; generous, but bounded. */
#define SALES_NAME_MAX 200   /* names, titles, subjects, stage names */
#define SALES_TEXT_MAX 2000  /* addresses, reasons, outcomes, values */
#define SALES_BODY_MAX 20000 /* notes and activity bodies */
#define SALES_LIST_MAX 50    /* emails, phones, tags, custom fields, stages */
#define SALES_TAG_MAX 64     /* one tag, one custom field key */
#define SALES_ITEMS_MAX 500  /* order lines */
#define SALES_EMAIL_LEN 255  /* normalised email buffer, NUL included */
#define SALES_PHONE_LEN 24   /* normalised phone buffer, NUL included */

/* Fills e and returns -1; the detail is printf-formatted (crm_err_set). */
#define sales_err_set crm_err_set

/* ---- values ------------------------------------------------------------ */

/* The generic checks of crm/check.h under this service's prefix, so that
 * the handlers read alike. */
#define sales_trim crm_trim
#define sales_check_text crm_check_text
#define sales_check_required crm_check_required
#define sales_check_id crm_check_id
#define sales_check_enum crm_check_enum

/* An email address, normalised into out (SALES_EMAIL_LEN bytes) by the
 * identity rule (crm_email_normalize). Must not be empty. */
int sales_check_email(const char *in, char *out, size_t len, const char *field, sales_err_t *e);

/* A phone number, normalised into out (SALES_PHONE_LEN bytes) by
 * crm_phone_normalize. Must not be empty. */
int sales_check_phone(const char *in, char *out, size_t len, const char *field, sales_err_t *e);

/* An ISO 3166-1 alpha-2 country code that is assigned, upper-cased into
 * out; empty input gives "". */
int sales_check_country(const char *in, char out[3], const char *field, sales_err_t *e);

#define sales_check_currency crm_check_currency

/* A money amount in minor units: 0 or more. */
int sales_check_amount(int64_t v, const char *field, sales_err_t *e);

/* A probability: 0-100. */
int sales_check_probability(int32_t v, const char *field, sales_err_t *e);

/* A tag or custom field key: 1-64 bytes after trimming, no control
 * characters. The trimmed span is returned through start/len. */
int sales_check_tag(const char *in, const char **start, size_t *len, const char *field,
                    sales_err_t *e);

/* ---- people ------------------------------------------------------------- */

/* The Person fields a request may set (update_mask names, changed_fields of
 * person.updated, keys of the per-field versions). */
enum {
    SALES_PF_KIND = 1u << 0,
    SALES_PF_NAME = 1u << 1,
    SALES_PF_EMAILS = 1u << 2,
    SALES_PF_PHONES = 1u << 3,
    SALES_PF_ORGANIZATION_ID = 1u << 4,
    SALES_PF_TITLE = 1u << 5,
    SALES_PF_ADDRESS = 1u << 6,
    SALES_PF_COUNTRY = 1u << 7,
    SALES_PF_INDUSTRY = 1u << 8,
    SALES_PF_TAGS = 1u << 9,
    SALES_PF_OWNER = 1u << 10,
    SALES_PF_CUSTOM_FIELDS = 1u << 11,
    SALES_PF_FAX = 1u << 12,
    SALES_PF_COUNT = 13
};

/* The bit of a Person field name, or 0 if it is not a settable field. */
unsigned sales_person_field(const char *name);
/* The name of bit number i (0 <= i < SALES_PF_COUNT). */
const char *sales_person_field_name(int i);

/* Reads an update_mask: every entry a settable field, at least one. */
int sales_person_mask(char *const *mask, size_t n, unsigned *bits, sales_err_t *e);

/* The fields a Person message sets (non-empty, non-zero values). */
unsigned sales_person_set_fields(const Crm__V1__Person *p);

/* ---- leads -------------------------------------------------------------- */

typedef enum { SALES_LEAD_QUALIFY, SALES_LEAD_CONVERT, SALES_LEAD_DISQUALIFY } sales_lead_action_t;

/* The status a lead moves to: NEW -> QUALIFIED -> CONVERTED, NEW or
 * QUALIFIED -> CONVERTED or DISQUALIFIED; CONVERTED and DISQUALIFIED are
 * final (FAILED_PRECONDITION, field "id"). */
int sales_lead_next(int status, sales_lead_action_t action, int *next, sales_err_t *e);

/* ---- pipelines and deals ------------------------------------------------ */

typedef struct {
    const char *name;
    int probability;
} sales_stage_t;

/* Index of a stage by name, case-insensitively, or -1. */
int sales_stage_find(const sales_stage_t *stages, size_t n, const char *name);

/* Picks the stage a new deal starts in: `name`, or the first stage when
 * empty. Unknown stage: INVALID_ARGUMENT naming `field`. */
int sales_stage_pick(const sales_stage_t *stages, size_t n, const char *name, const char *field,
                     size_t *idx, sales_err_t *e);

/* Checks a stage move of a deal with `status` from stage `from` to `to`
 * within its pipeline: the deal must be open (FAILED_PRECONDITION, "id"),
 * the stage must exist (INVALID_ARGUMENT, "stage") and differ from the
 * current one (FAILED_PRECONDITION, "stage"). */
int sales_deal_move(int status, const sales_stage_t *stages, size_t n, const char *from,
                    const char *to, size_t *idx, sales_err_t *e);

/* Checks closing a deal (won, or lost with a reason). */
int sales_deal_close(int status, int won, const char *reason, sales_err_t *e);

/* Checks the stages of a new pipeline: 1-50, names required and unique
 * (case-insensitively), probabilities 0-100. */
int sales_pipeline_check(const Crm__V1__Pipeline *p, sales_err_t *e);

/* ---- lead conversion ---------------------------------------------------- */

typedef struct {
    int lead_status;
    const char *lead_person_id;  /* customer id linked on the lead, "" if none */
    const char *lead_email;      /* normalised, "" if none */
    const char *lead_company;    /* "" if none */
    const char *found_person_id; /* a person found by id or email, "" if none */
    const char *found_org_id;    /* organisation found by company name, "" if none */
    int no_deal;
    const sales_stage_t *stages; /* the pipeline the deal goes to */
    size_t n_stages;
    const char *stage; /* requested stage, "" = first */
} sales_convert_in_t;

typedef struct {
    int create_person;
    char person_id[CRM_UUID_LEN + 1]; /* found, or the id the new person gets */
    int create_org;                   /* the lead names a company nobody has */
    int link_org;                     /* the lead names a company */
    int create_deal;
    size_t stage_index;
} sales_convert_plan_t;

/* Plans a conversion: the lead must be NEW or QUALIFIED; the person is the
 * one found, else a new one whose id follows the identity rule (the lead's
 * customer id, else UUIDv5 of its email, else a random v4); the
 * organisation is the one found by name, else a new one when the lead names
 * a company; a deal is created unless no_deal, in `stage` or the first. */
int sales_convert_plan(const sales_convert_in_t *in, sales_convert_plan_t *out, sales_err_t *e);

/* ---- orders --------------------------------------------------------------- */

/* Checks the lines of an order (1-500; quantity > 0; unit price >= 0; a
 * product code or a name) and computes the total without overflow. */
int sales_order_total(Crm__V1__OrderItem *const *items, size_t n, int64_t *total, sales_err_t *e);

/* ---- paging ----------------------------------------------------------------- */

#endif
