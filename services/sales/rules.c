/* rules.c: validation and state transitions of sales, without I/O.
 *
 * Kept apart from the handlers so that every rule a client can run into is
 * unit-tested on its own, and so that handlers can check a whole request
 * before their first write. */
#include "rules.h"

#include <crm/identity.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crm/v1/rpc.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define S_PRECONDITION CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION

/* ---- values ------------------------------------------------------------ */

int sales_check_email(const char *in, char *out, size_t len, const char *field, sales_err_t *e)
{
    char q[128];
    if (crm_email_normalize(in, out, len) != 0)
        return sales_err_set(e, S_INVALID, field, "email is malformed",
                             "send an address such as ada@example.com", "got %s",
                             crm_quote(in, q, sizeof q));
    return 0;
}

int sales_check_phone(const char *in, char *out, size_t len, const char *field, sales_err_t *e)
{
    char q[128];
    if (crm_phone_normalize(in, out, len) != 0)
        return sales_err_set(e, S_INVALID, field, "phone number is malformed",
                             "send 5 to 15 digits, optionally with a leading + and spaces, dots,"
                             " dashes or brackets",
                             "got %s", crm_quote(in, q, sizeof q));
    return 0;
}

/* ISO 3166-1 alpha-2, officially assigned codes. */
static const char s_countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

int sales_check_country(const char *in, char out[3], const char *field, sales_err_t *e)
{
    const char *t;
    size_t n = sales_trim(in, &t);
    char q[128];
    out[0] = 0;
    if (n == 0)
        return 0;
    if (n == 2 && isalpha((unsigned char)t[0]) && isalpha((unsigned char)t[1])) {
        char code[3] = {(char)toupper((unsigned char)t[0]), (char)toupper((unsigned char)t[1]), 0};
        /* Codes are 3 bytes apart ("AD AE ..."); the last has no space. */
        for (size_t i = 0; i + 2 < sizeof s_countries; i += 3)
            if (s_countries[i] == code[0] && s_countries[i + 1] == code[1]) {
                memcpy(out, code, 3);
                return 0;
            }
    }
    return sales_err_set(e, S_INVALID, field, "country is not an ISO 3166-1 alpha-2 code",
                         "send a two-letter country code such as GB, DE or US", "got %s",
                         crm_quote(in, q, sizeof q));
}

int sales_check_amount(int64_t v, const char *field, sales_err_t *e)
{
    if (v < 0)
        return sales_err_set(e, S_INVALID, field, "amount is negative",
                             "send the amount in minor units (cents), 0 or more", "got %" PRId64,
                             v);
    return 0;
}

int sales_check_probability(int32_t v, const char *field, sales_err_t *e)
{
    if (v < 0 || v > 100)
        return sales_err_set(e, S_INVALID, field, "probability is out of range",
                             "send a percentage from 0 to 100", "got %" PRId32, v);
    return 0;
}

int sales_check_tag(const char *in, const char **start, size_t *len, const char *field,
                    sales_err_t *e)
{
    char q[128];
    *len = sales_trim(in, start);
    if (*len == 0 || *len > SALES_TAG_MAX)
        return sales_err_set(e, S_INVALID, field, *len ? "value is too long" : "value is empty",
                             "send 1 to 64 characters", "got %s", crm_quote(in, q, sizeof q));
    for (size_t i = 0; i < *len; i++)
        if ((unsigned char)(*start)[i] < 0x20 || (*start)[i] == 0x7f)
            return sales_err_set(e, S_INVALID, field, "value contains a control character",
                                 "remove control characters", "got %s", crm_quote(in, q, sizeof q));
    return 0;
}

/* ---- people ------------------------------------------------------------- */

static const char *const s_person_fields[SALES_PF_COUNT] = {
    "kind",    "name",     "emails", "phones", "organization_id", "title", "address",
    "country", "industry", "tags",   "owner",  "custom_fields",   "fax"};

unsigned sales_person_field(const char *name)
{
    for (int i = 0; name && i < SALES_PF_COUNT; i++)
        if (!strcmp(name, s_person_fields[i]))
            return 1u << i;
    return 0;
}

const char *sales_person_field_name(int i)
{
    return i >= 0 && i < SALES_PF_COUNT ? s_person_fields[i] : NULL;
}

int sales_person_mask(char *const *mask, size_t n, unsigned *bits, sales_err_t *e)
{
    char field[64], q[128];
    *bits = 0;
    if (n == 0)
        return sales_err_set(e, S_INVALID, "update_mask", "update_mask is empty",
                             "name the fields to change, e.g. name, emails, owner", NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned b = sales_person_field(mask[i]);
        if (!b) {
            snprintf(field, sizeof field, "update_mask[%zu]", i);
            return sales_err_set(e, S_INVALID, field, "field cannot be updated",
                                 "name fields of Person: kind, name, emails, phones,"
                                 " organization_id, title, address, country, industry, tags,"
                                 " owner, custom_fields, fax",
                                 "got %s", crm_quote(mask[i], q, sizeof q));
        }
        *bits |= b;
    }
    return 0;
}

static int s_blank(const char *s)
{
    const char *t;
    return sales_trim(s, &t) == 0;
}

unsigned sales_person_set_fields(const Crm__V1__Person *p)
{
    unsigned b = 0;
    if (p->kind)
        b |= SALES_PF_KIND;
    if (!s_blank(p->name))
        b |= SALES_PF_NAME;
    if (p->n_emails)
        b |= SALES_PF_EMAILS;
    if (p->n_phones)
        b |= SALES_PF_PHONES;
    if (!s_blank(p->organization_id))
        b |= SALES_PF_ORGANIZATION_ID;
    if (!s_blank(p->title))
        b |= SALES_PF_TITLE;
    if (!s_blank(p->address))
        b |= SALES_PF_ADDRESS;
    if (!s_blank(p->country))
        b |= SALES_PF_COUNTRY;
    if (!s_blank(p->industry))
        b |= SALES_PF_INDUSTRY;
    if (p->n_tags)
        b |= SALES_PF_TAGS;
    if (!s_blank(p->owner))
        b |= SALES_PF_OWNER;
    if (p->n_custom_fields)
        b |= SALES_PF_CUSTOM_FIELDS;
    if (!s_blank(p->fax))
        b |= SALES_PF_FAX;
    return b;
}

/* ---- leads -------------------------------------------------------------- */

int sales_lead_next(int status, sales_lead_action_t action, int *next, sales_err_t *e)
{
    const char *verb = action == SALES_LEAD_QUALIFY   ? "qualify"
                       : action == SALES_LEAD_CONVERT ? "convert"
                                                      : "disqualify";
    char msg[160];
    switch (status) {
    case CRM__V1__LEAD_STATUS__LEAD_STATUS_NEW:
        break;
    case CRM__V1__LEAD_STATUS__LEAD_STATUS_QUALIFIED:
        if (action == SALES_LEAD_QUALIFY)
            return sales_err_set(e, S_PRECONDITION, "id", "lead is already qualified",
                                 "convert or disqualify it", "status QUALIFIED");
        break;
    case CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED:
        snprintf(msg, sizeof msg, "cannot %s a converted lead", verb);
        return sales_err_set(e, S_PRECONDITION, "id", msg,
                             "a lead is converted once; work on its person and deal instead",
                             "status CONVERTED");
    case CRM__V1__LEAD_STATUS__LEAD_STATUS_DISQUALIFIED:
        snprintf(msg, sizeof msg, "cannot %s a disqualified lead", verb);
        return sales_err_set(e, S_PRECONDITION, "id", msg,
                             "create a new lead if the contact is interesting again",
                             "status DISQUALIFIED");
    default:
        return sales_err_set(e, S_PRECONDITION, "id", "lead has an unknown status", NULL,
                             "status %d", status);
    }
    *next = action == SALES_LEAD_QUALIFY   ? CRM__V1__LEAD_STATUS__LEAD_STATUS_QUALIFIED
            : action == SALES_LEAD_CONVERT ? CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED
                                           : CRM__V1__LEAD_STATUS__LEAD_STATUS_DISQUALIFIED;
    return 0;
}

/* ---- pipelines and deals ------------------------------------------------ */

int sales_stage_find(const sales_stage_t *stages, size_t n, const char *name)
{
    const char *t;
    size_t len = sales_trim(name, &t);
    for (size_t i = 0; i < n; i++)
        if (strlen(stages[i].name) == len && !strncasecmp(stages[i].name, t, len))
            return (int)i;
    return -1;
}

static void s_stage_hint(const sales_stage_t *stages, size_t n, char *hint, size_t len)
{
    size_t at = (size_t)snprintf(hint, len, "stages of this pipeline:");
    for (size_t i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(hint + at, len - at, "%s %s", i ? "," : "", stages[i].name);
}

int sales_stage_pick(const sales_stage_t *stages, size_t n, const char *name, const char *field,
                     size_t *idx, sales_err_t *e)
{
    char hint[320], q[128];
    if (n == 0)
        return sales_err_set(e, S_PRECONDITION, field, "pipeline has no stages",
                             "add stages to the pipeline", NULL);
    if (s_blank(name)) {
        *idx = 0;
        return 0;
    }
    int i = sales_stage_find(stages, n, name);
    if (i < 0) {
        s_stage_hint(stages, n, hint, sizeof hint);
        return sales_err_set(e, S_INVALID, field, "stage is unknown", hint, "got %s",
                             crm_quote(name, q, sizeof q));
    }
    *idx = (size_t)i;
    return 0;
}

static const char *s_deal_status(int status)
{
    switch (status) {
    case CRM__V1__DEAL_STATUS__DEAL_STATUS_OPEN:
        return "OPEN";
    case CRM__V1__DEAL_STATUS__DEAL_STATUS_WON:
        return "WON";
    case CRM__V1__DEAL_STATUS__DEAL_STATUS_LOST:
        return "LOST";
    default:
        return "UNSPECIFIED";
    }
}

static int s_deal_open(int status, const char *what, sales_err_t *e)
{
    char msg[160];
    if (status == CRM__V1__DEAL_STATUS__DEAL_STATUS_OPEN)
        return 0;
    snprintf(msg, sizeof msg, "cannot %s a closed deal", what);
    return sales_err_set(e, S_PRECONDITION, "id", msg,
                         "only open deals change; create a new deal for new business", "status %s",
                         s_deal_status(status));
}

int sales_deal_move(int status, const sales_stage_t *stages, size_t n, const char *from,
                    const char *to, size_t *idx, sales_err_t *e)
{
    char hint[320], q[128];
    if (s_blank(to))
        return sales_err_set(e, S_INVALID, "stage", "stage is required",
                             "name the stage to move the deal to", NULL);
    if (s_deal_open(status, "move", e) < 0)
        return -1;
    int i = sales_stage_find(stages, n, to);
    if (i < 0) {
        s_stage_hint(stages, n, hint, sizeof hint);
        return sales_err_set(e, S_INVALID, "stage", "stage is unknown", hint, "got %s",
                             crm_quote(to, q, sizeof q));
    }
    if (from && !strcasecmp(stages[i].name, from))
        return sales_err_set(e, S_PRECONDITION, "stage", "deal is already in this stage",
                             "name another stage", "stage %s",
                             crm_quote(stages[i].name, q, sizeof q));
    *idx = (size_t)i;
    return 0;
}

int sales_deal_close(int status, int won, const char *reason, sales_err_t *e)
{
    if (!won && s_blank(reason))
        return sales_err_set(
            e, S_INVALID, "reason", "reason is required",
            "say why the deal was lost, e.g. \"price\" or \"went with a competitor\"", NULL);
    if (!won && sales_check_text(reason, SALES_TEXT_MAX, "reason", e) < 0)
        return -1;
    return s_deal_open(status, won ? "win" : "lose", e);
}

int sales_pipeline_check(const Crm__V1__Pipeline *p, sales_err_t *e)
{
    char field[64], q[128];
    if (sales_check_required(p->name, SALES_NAME_MAX, "pipeline.name", e) < 0)
        return -1;
    if (p->n_stages == 0 || p->n_stages > SALES_LIST_MAX)
        return sales_err_set(e, S_INVALID, "pipeline.stages",
                             p->n_stages ? "too many stages" : "pipeline needs stages",
                             "send 1 to 50 stages in order", "got %zu", p->n_stages);
    for (size_t i = 0; i < p->n_stages; i++) {
        const Crm__V1__Stage *s = p->stages[i];
        snprintf(field, sizeof field, "pipeline.stages[%zu].name", i);
        if (sales_check_required(s->name, SALES_NAME_MAX, field, e) < 0)
            return -1;
        snprintf(field, sizeof field, "pipeline.stages[%zu].probability", i);
        if (sales_check_probability(s->probability, field, e) < 0)
            return -1;
        const char *ti, *tj;
        size_t li = sales_trim(s->name, &ti);
        for (size_t j = 0; j < i; j++) {
            size_t lj = sales_trim(p->stages[j]->name, &tj);
            if (li == lj && !strncasecmp(ti, tj, li)) {
                snprintf(field, sizeof field, "pipeline.stages[%zu].name", i);
                return sales_err_set(e, S_INVALID, field, "stage name is not unique",
                                     "give each stage its own name", "got %s",
                                     crm_quote(s->name, q, sizeof q));
            }
        }
    }
    return 0;
}

/* ---- lead conversion ---------------------------------------------------- */

int sales_convert_plan(const sales_convert_in_t *in, sales_convert_plan_t *out, sales_err_t *e)
{
    int next;
    memset(out, 0, sizeof *out);
    if (sales_lead_next(in->lead_status, SALES_LEAD_CONVERT, &next, e) < 0)
        return -1;
    if (in->found_person_id && *in->found_person_id) {
        snprintf(out->person_id, sizeof out->person_id, "%s", in->found_person_id);
    } else {
        out->create_person = 1;
        if (in->lead_person_id && crm_uuid_valid(in->lead_person_id))
            snprintf(out->person_id, sizeof out->person_id, "%s", in->lead_person_id);
        else if (in->lead_email && *in->lead_email)
            crm_customer_id_for_email(in->lead_email, out->person_id);
        else
            crm_uuid_new(out->person_id);
    }
    if (!s_blank(in->lead_company)) {
        out->link_org = 1;
        out->create_org = !(in->found_org_id && *in->found_org_id);
    }
    if (!in->no_deal) {
        out->create_deal = 1;
        if (sales_stage_pick(in->stages, in->n_stages, in->stage, "stage", &out->stage_index, e) <
            0)
            return -1;
    }
    return 0;
}

/* ---- orders --------------------------------------------------------------- */

int sales_order_total(Crm__V1__OrderItem *const *items, size_t n, int64_t *total, sales_err_t *e)
{
    char field[96];
    int64_t sum = 0;
    if (n == 0 || n > SALES_ITEMS_MAX)
        return sales_err_set(e, S_INVALID, "order.items",
                             n ? "order has too many items" : "order has no items",
                             "send 1 to 500 items", "got %zu", n);
    for (size_t i = 0; i < n; i++) {
        const Crm__V1__OrderItem *it = items[i];
        if (it->quantity <= 0) {
            snprintf(field, sizeof field, "order.items[%zu].quantity", i);
            return sales_err_set(e, S_INVALID, field, "quantity must be positive", "send 1 or more",
                                 "got %" PRId32, it->quantity);
        }
        snprintf(field, sizeof field, "order.items[%zu].unit_price_minor", i);
        if (sales_check_amount(it->unit_price_minor, field, e) < 0)
            return -1;
        if (s_blank(it->product_code) && s_blank(it->name)) {
            snprintf(field, sizeof field, "order.items[%zu].product_code", i);
            return sales_err_set(e, S_INVALID, field, "item needs a product code or a name",
                                 "send product_code, name or both", NULL);
        }
        snprintf(field, sizeof field, "order.items[%zu].product_code", i);
        if (sales_check_text(it->product_code, SALES_NAME_MAX, field, e) < 0)
            return -1;
        snprintf(field, sizeof field, "order.items[%zu].name", i);
        if (sales_check_text(it->name, SALES_NAME_MAX, field, e) < 0)
            return -1;
        int64_t line;
        if (__builtin_mul_overflow((int64_t)it->quantity, it->unit_price_minor, &line) ||
            __builtin_add_overflow(sum, line, &sum)) {
            snprintf(field, sizeof field, "order.items[%zu]", i);
            return sales_err_set(e, S_INVALID, field, "order total is too large", "split the order",
                                 NULL);
        }
    }
    *total = sum;
    return 0;
}
