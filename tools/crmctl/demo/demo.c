/* demo.c: `crmctl demo load`, a small, real-looking data set for a newcomer
 * to look at: people of several kinds in a handful of organisations, a
 * Renewals pipeline beside the default one, deals in every state, a year
 * of orders, activities done, due and overdue, and leads.
 *
 * It goes through the ordinary sales commands (the verb specs of
 * person.c, deal.c, ...), each with a fixed idempotency key "demo-<n>", so
 * loading twice changes nothing. Two things keep the second run's requests
 * byte-identical to the first's, which a fixed key requires: every id comes
 * from a reply (replayed the same), and every date is counted from the day
 * the first person was registered (its created_at_us), not from today.
 *
 * Every name, address and phone number is fictional (.example domains, the
 * +44 20 7946 0xxx drama range). */
#include "demo.h"

#include <crm/util.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define US_PER_DAY (INT64_C(86400) * 1000000)
#define US_PER_HOUR (INT64_C(3600) * 1000000)
#define NONE (-1)

const crmctl_opt_t crmctl_demo_load_opts[] = {
    {"service", 's', "NAME", "the sales service to load into (default: sales)", 0},
    {"support", 0, "NAME",
     "the support service to load the help desk into (default: support, when configured)", 0},
    {"no-sales", 0, NULL, "load no sales data", 0},
    {"no-support", 0, NULL, "load no help desk", 0},
    {NULL, 0, NULL, NULL, 0},
};

/* ---- the data set ---------------------------------------------------------- */

typedef struct {
    const char *name, *domain, *industry, *country, *owner, *tag;
} s_org_t;

static const s_org_t s_orgs[] = {
    {"Northwind Lamps Ltd", "northwind-lamps.example", "Lighting retail", "GB", "dana",
     "key-account"},
    {"Bluefjord Outfitters AS", "bluefjord.example", "Outdoor retail", "NO", "lee", "retail"},
    {"Kestrel & Finch Consulting", "kestrelfinch.example", "Consulting", "DE", "sam", "partner"},
    {"Marigold Bakery Supplies", "marigold-supplies.example", "Food wholesale", "FR", "dana", NULL},
    {"Quillon Software GmbH", "quillon.example", "Software", "DE", "sam", "key-account"},
    {"Tidewater Logistics BV", "tidewater-logistics.example", "Logistics", "NL", "lee", NULL},
};
#define N_ORGS (sizeof s_orgs / sizeof s_orgs[0])

typedef struct {
    const char *name, *email, *phone, *kind, *title, *country, *owner, *tag, *field;
    int org;
} s_person_t;

static const s_person_t s_people[] = {
    {"Ada Quickfern", "ada.quickfern@northwind-lamps.example", "+44 20 7946 0812", "CUSTOMER",
     "Head of Facilities", "GB", "dana", "key-account", "preferred_contact=phone", 0},
    {"Bram Oakhollow", "bram@northwind-lamps.example", "+44 20 7946 0377", "CUSTOMER",
     "Purchasing Manager", "GB", "lee", NULL, NULL, 0},
    {"Cleo Marchbank", "cleo.marchbank@bluefjord.example", NULL, "CUSTOMER", "Buyer", "NO", "lee",
     NULL, NULL, 1},
    {"Dag Silverbrook", "dag@bluefjord.example", NULL, "PROSPECT", "Store Manager", "NO", "lee",
     NULL, NULL, 1},
    {"Edda Wrenfield", "edda.wrenfield@kestrelfinch.example", NULL, "PARTNER", "Managing Partner",
     "DE", "sam", "partner", NULL, 2},
    {"Felix Thistlewood", "felix@kestrelfinch.example", NULL, "CONSULTANT", "Senior Consultant",
     "DE", "sam", NULL, "day_rate=950 EUR", 2},
    {"Greta Plumtree", "greta.plumtree@marigold-supplies.example", NULL, "CUSTOMER",
     "Operations Lead", "FR", "dana", NULL, NULL, 3},
    {"Hugo Brackenridge", "hugo@marigold-supplies.example", NULL, "SUPPLIER", "Account Manager",
     "FR", "dana", NULL, NULL, 3},
    {"Ines Copperfield", "ines.copperfield@quillon.example", NULL, "CUSTOMER", "CTO", "DE", "sam",
     "key-account", "preferred_contact=email", 4},
    {"Jonas Fernhill", "jonas.fernhill@quillon.example", NULL, "CUSTOMER", "IT Procurement", "DE",
     "sam", NULL, NULL, 4},
    {"Kaja Mistlethorn", "kaja@tidewater-logistics.example", NULL, "PROSPECT", "Head of Fleet",
     "NL", "lee", NULL, NULL, 5},
    {"Lars Pebbleton", "lars.pebbleton@tidewater-logistics.example", NULL, "CUSTOMER",
     "Finance Director", "NL", "lee", NULL, NULL, 5},
    {"Mira Larkspur", "mira.larkspur@mailbox.example", NULL, "PROSPECT", "Freelance Designer", "ES",
     "dana", "newsletter", NULL, NONE},
    {"Nils Ambergate", "nils@ambergate-print.example", NULL, "VENDOR", "Print Shop Owner", "SE",
     "dana", NULL, NULL, NONE},
    {"Orla Gorsebrook", "orla.gorsebrook@lumen-parts.example", NULL, "SUPPLIER", "Sales Rep", "IE",
     "sam", NULL, NULL, NONE},
    {"Piet Hazelby", "piet.hazelby@cleanbright.example", NULL, "SERVICE_PROVIDER",
     "Facility Services", "NL", "lee", NULL, NULL, NONE},
    {"Quinn Sparrowhawk", "quinn.sparrowhawk@mailbox.example", "+44 20 7946 0954", "JOB_SEEKER",
     "Sales Engineer (applicant)", "GB", "dana", NULL, NULL, NONE},
    {"Rosa Fennimore", "rosa.fennimore@retail-insights.example", NULL, "INDUSTRY_EXPERT",
     "Retail Analyst", "US", "sam", NULL, NULL, NONE},
    {"Sven Birchwood", "sven.birchwood@bluefjord.example", NULL, "CUSTOMER", "CFO", "NO", "lee",
     NULL, NULL, 1},
    {"Tilda Hollowmere", "tilda@marigold-supplies.example", NULL, "PROSPECT", "Bakery Chain Buyer",
     "FR", "dana", NULL, NULL, 3},
};
#define N_PEOPLE (sizeof s_people / sizeof s_people[0])

/* The second pipeline; deals with pipeline 1 go there. */
static const char *const s_renewal_stages[] = {"Up for renewal", "Quote sent", "Negotiation"};
static const int s_renewal_probability[] = {40, 60, 80};
#define N_RENEWAL_STAGES 3

typedef enum { DEAL_OPEN, DEAL_WON, DEAL_LOST } s_fate_t;

typedef struct {
    const char *title;
    int person, pipeline, stage; /* stage: index, clamped to the pipeline's stages */
    int64_t amount_minor;
    const char *currency, *owner, *next_step;
    int close_in_days;
    s_fate_t fate;
    const char *lost_reason;
} s_deal_t;

static const s_deal_t s_deals[] = {
    {"Showroom lighting refit", 0, 0, 2, 1850000, "GBP", "dana", "Send the revised floor plan", 30,
     DEAL_OPEN, NULL},
    {"Winter catalogue print run", 2, 0, 1, 720000, "EUR", "lee", NULL, -40, DEAL_WON, NULL},
    {"Partner onboarding workshop", 4, 0, 1, 340000, "EUR", "sam", "Agree on the agenda", 20,
     DEAL_OPEN, NULL},
    {"Oven line maintenance contract", 6, 0, 1, 1200000, "EUR", "dana", NULL, -10, DEAL_LOST,
     "Chose a local provider with same-day call-outs"},
    {"Annual licence bundle", 8, 0, 2, 2400000, "EUR", "sam", NULL, -75, DEAL_WON, NULL},
    {"Fleet tracking pilot", 10, 0, 0, 980000, "EUR", "lee", "Book a demo with the depot leads", 45,
     DEAL_OPEN, NULL},
    {"Service plan renewal 2027", 1, 1, 1, 480000, "GBP", "lee", "Chase the signed quote", 60,
     DEAL_OPEN, NULL},
    {"Support renewal", 9, 1, 0, 600000, "EUR", "sam", "Check seat count", 90, DEAL_OPEN, NULL},
    {"Emergency lighting add-on", 0, 0, 1, 230000, "GBP", "dana", NULL, -20, DEAL_WON, NULL},
    {"Brand refresh lighting concept", 12, 0, 0, 450000, "EUR", "dana", "Send mood board", 40,
     DEAL_OPEN, NULL},
};
#define N_DEALS (sizeof s_deals / sizeof s_deals[0])

typedef struct {
    const char *code, *name;
    int64_t price_minor;
} s_product_t;

static const s_product_t s_products[] = {
    {"LMP-100", "Brass desk lamp", 8900},
    {"LMP-220", "Pendant light, smoked glass", 14900},
    {"BLB-E27", "LED bulb E27 warm white, 10-pack", 2450},
    {"SRV-INST", "Installation, per hour", 6500},
    {"SRV-PLAN", "Service plan, 12 months", 48000},
    {"LIC-TEAM", "Team licence, 12 months", 120000},
    {"TRK-UNIT", "Fleet tracker unit", 15900},
    {"PRT-CAT", "Catalogue print, 1000 copies", 98000},
    {"OVN-KIT", "Oven maintenance kit", 21000},
};

typedef struct {
    int person, deal, days_ago;
    const char *currency;
    struct {
        int product, qty;
    } lines[3]; /* qty 0 ends */
} s_order_t;

static const s_order_t s_orders[] = {
    {0, NONE, 350, "GBP", {{0, 12}, {2, 6}}},
    {1, NONE, 320, "GBP", {{2, 20}}},
    {2, NONE, 300, "EUR", {{7, 2}}},
    {8, NONE, 290, "EUR", {{5, 10}, {3, 8}}},
    {6, NONE, 260, "EUR", {{8, 3}}},
    {11, NONE, 230, "EUR", {{6, 4}}},
    {0, NONE, 200, "GBP", {{1, 8}, {3, 6}}},
    {18, NONE, 180, "EUR", {{7, 1}}},
    {9, NONE, 150, "EUR", {{5, 2}}},
    {6, NONE, 120, "EUR", {{8, 2}, {2, 10}}},
    {8, 4, 74, "EUR", {{5, 20}}},
    {2, 1, 39, "EUR", {{7, 7}, {3, 4}}},
    {11, NONE, 30, "EUR", {{6, 6}, {3, 3}}},
    {0, 8, 19, "GBP", {{1, 10}, {3, 5}}},
    {1, NONE, 6, "GBP", {{4, 1}}},
};
#define N_ORDERS (sizeof s_orders / sizeof s_orders[0])

/* LOGGED happened now; DUE is scheduled at day+due_day, due_hour:00 UTC
 * (negative days: overdue); DUE_DONE is scheduled, then completed. */
typedef enum { ACT_LOGGED, ACT_DUE, ACT_DUE_DONE } s_act_when_t;

typedef struct {
    const char *kind;
    int person, deal;
    const char *subject, *body, *outcome, *next_action, *owner;
    s_act_when_t when;
    int due_day, due_hour;
} s_activity_t;

static const s_activity_t s_activities[] = {
    {"CALL", 0, 0, "Walkthrough of the showroom plan", "Went through zones A-C with Ada.",
     "Wants warmer light in zone B", "Send the revised floor plan", "dana", ACT_LOGGED, 0, 0},
    {"MEETING", 2, 1, "Catalogue kick-off", NULL, "Print run of 7 batches agreed", NULL, "lee",
     ACT_LOGGED, 0, 0},
    {"EMAIL", 4, 2, "Workshop agenda draft", "Sent the two-day agenda for review.", NULL,
     "Agree on the agenda", "sam", ACT_LOGGED, 0, 0},
    {"NOTE", 6, 3, "Lost to a local provider", "Same-day call-outs mattered more than price.", NULL,
     NULL, "dana", ACT_LOGGED, 0, 0},
    {"CALL", 8, 4, "Licence count check", NULL, "20 seats confirmed", NULL, "sam", ACT_LOGGED, 0,
     0},
    {"MEETING", 10, 5, "Depot visit", "Met the fleet team at the Rotterdam depot.",
     "Interested in a 3-month pilot", "Book a demo with the depot leads", "lee", ACT_LOGGED, 0, 0},
    {"EMAIL", 1, 6, "Renewal quote sent", NULL, NULL, "Chase the signed quote", "lee", ACT_LOGGED,
     0, 0},
    {"NOTE", 12, 9, "Prefers warm, low-glare fittings", NULL, NULL, NULL, "dana", ACT_LOGGED, 0, 0},
    {"CALL", 13, NONE, "Print slot for the spring catalogue", NULL, "Slot held for week 9", NULL,
     "dana", ACT_LOGGED, 0, 0},
    {"MEETING", 17, NONE, "Retail trends briefing", "Rosa presented the footfall study.", NULL,
     NULL, "sam", ACT_LOGGED, 0, 0},
    {"CALL", 16, NONE, "Screening call", NULL, "Strong on product knowledge", NULL, "dana",
     ACT_LOGGED, 0, 0},
    {"CALL", 0, 0, "Follow up on the floor plan", NULL, NULL, NULL, "dana", ACT_DUE, -2, 10},
    {"TASK", 9, 7, "Confirm seat count for the renewal", NULL, NULL, NULL, "sam", ACT_DUE, -1, 15},
    {"MEETING", 4, 2, "Workshop planning session", NULL, NULL, NULL, "sam", ACT_DUE, 1, 9},
    {"CALL", 10, 5, "Pilot demo with the depot leads", NULL, NULL, NULL, "lee", ACT_DUE, 2, 13},
    {"EMAIL", 12, 9, "Send the mood board", NULL, NULL, NULL, "dana", ACT_DUE, 3, 9},
    {"MEETING", 1, 6, "Renewal negotiation", NULL, NULL, NULL, "lee", ACT_DUE, 5, 14},
    {"TASK", 14, NONE, "Review the new parts price list", NULL, NULL, NULL, "sam", ACT_DUE, 6, 11},
    {"CALL", 18, NONE, "Quarterly account review", NULL, "Happy with delivery times",
     "Propose the spring range", "lee", ACT_DUE_DONE, 1, 10},
    {"LETTER", 11, NONE, "Thank-you letter for the tracker order", NULL, "Sent by post", NULL,
     "lee", ACT_DUE_DONE, 2, 12},
};
#define N_ACTIVITIES (sizeof s_activities / sizeof s_activities[0])

typedef enum { LEAD_NEW, LEAD_QUALIFIED, LEAD_CONVERTED, LEAD_DISQUALIFIED } s_lead_fate_t;

typedef struct {
    const char *name, *email, *company, *source, *campaign, *owner, *notes;
    s_lead_fate_t fate;
    const char *why; /* qualification, or the reason it was disqualified */
} s_lead_t;

static const s_lead_t s_leads[] = {
    {"Ruben Quillfeather", "ruben@harbourlight-cafe.example", "Harbourlight Cafe", "WEB", NULL,
     "lee", "Asked for a quote for 12 pendant lights", LEAD_NEW, NULL},
    {"Saskia Dovecote", "saskia.dovecote@pinegrove-hotels.example", "Pinegrove Hotels", "REFERRAL",
     NULL, "dana", "Referred by Ada Quickfern", LEAD_QUALIFIED,
     "Budget approved for Q1; decision by the end of the month"},
    {"Pia Lanternfield", "pia@copperkettle.example", "Copper Kettle Tearooms", "EVENT", NULL,
     "dana", "Met at the Autumn Interiors Fair", LEAD_CONVERTED, "Three tearooms to refit"},
    {"Otto Grumblewick", "otto@grumblewick-traders.example", "Grumblewick Traders", "COLD_CALL",
     NULL, "sam", NULL, LEAD_DISQUALIFIED, "Reseller only; no budget this year"},
    {"Yara Moonwhistle", "yara.moonwhistle@mailbox.example", NULL, "CAMPAIGN",
     "5f0c8f5e-2d1a-4c3b-9e7a-0d1e2f3a4b5c", "lee", "Clicked the autumn newsletter offer", LEAD_NEW,
     NULL},
};
#define N_LEADS (sizeof s_leads / sizeof s_leads[0])

/* ---- loading ------------------------------------------------------------------ */

typedef struct {
    crmctl_t *ctl;
    crmctl_service_t *svc;
    int step;       /* the n of the next key "demo-<n>" */
    int64_t day_us; /* midnight (UTC) of the day of the first load */
    char org_ids[N_ORGS][40], person_ids[N_PEOPLE][40], deal_ids[N_DEALS][40];
    char pipeline_ids[2][40];
    json_t *default_stages; /* of the default pipeline */
    int scheduled, overdue, done, won, lost, converted;
} s_demo_t;

/* One command with the next key "demo-<n>" (see demo_step). */
static int s_step(s_demo_t *d, const req_verb_t *verb, json_t *request, json_t **reply_p)
{
    return demo_step(d->ctl, d->svc, "demo", &d->step, verb, request, reply_p);
}

/* Copies the id at `path` of reply into out and frees reply. */
static int s_keep_id(json_t *reply, const char *path, char out[40])
{
    snprintf(out, 40, "%s", req_str(reply, path));
    json_decref(reply);
    if (!*out) {
        crmctl_error(NULL, NULL, "the reply has no %s", path);
        return CRMCTL_EXIT_FAILED;
    }
    return CRMCTL_EXIT_OK;
}

/* Sets key to s unless s is NULL. */
static void s_opt(json_t *o, const char *key, const char *s)
{
    if (s)
        json_object_set_new(o, key, json_string(s));
}

static void s_opt_id(json_t *o, const char *key, char (*ids)[40], int i)
{
    if (i != NONE)
        json_object_set_new(o, key, json_string(ids[i]));
}

static int s_load_orgs(s_demo_t *d)
{
    for (size_t i = 0; i < N_ORGS; i++) {
        const s_org_t *o = &s_orgs[i];
        json_t *org = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", o->name, "domain", o->domain,
                                "industry", o->industry, "country", o->country, "owner", o->owner);
        if (org && o->tag)
            json_object_set_new(org, "tags", json_pack("[s]", o->tag));
        json_t *reply;
        int rc = s_step(d, &sales_org_create, json_pack("{s:o}", "organization", org), &reply);
        if (rc != CRMCTL_EXIT_OK || (rc = s_keep_id(reply, "organization.id", d->org_ids[i])))
            return rc;
    }
    return CRMCTL_EXIT_OK;
}

static int s_load_people(s_demo_t *d)
{
    for (size_t i = 0; i < N_PEOPLE; i++) {
        const s_person_t *p = &s_people[i];
        char kind[48];
        snprintf(kind, sizeof kind, "PERSON_KIND_%s", p->kind);
        json_t *person =
            json_pack("{s:s, s:[s], s:s, s:s, s:s, s:s}", "name", p->name, "emails", p->email,
                      "kind", kind, "title", p->title, "country", p->country, "owner", p->owner);
        if (!person)
            return s_step(d, &sales_person_register, NULL, NULL);
        if (p->phone)
            json_object_set_new(person, "phones", json_pack("[s]", p->phone));
        if (p->tag)
            json_object_set_new(person, "tags", json_pack("[s]", p->tag));
        if (p->field) {
            const char *eq = strchr(p->field, '=');
            json_object_set_new(person, "custom_fields",
                                json_pack("[{s:s%, s:s}]", "key", p->field, (size_t)(eq - p->field),
                                          "value", eq + 1));
        }
        s_opt_id(person, "organization_id", d->org_ids, p->org);
        json_t *reply;
        int rc = s_step(d, &sales_person_register, json_pack("{s:o}", "person", person), &reply);
        if (rc != CRMCTL_EXIT_OK)
            return rc;
        if (i == 0) {
            /* The anchor of every date: the day Ada was first registered,
             * which a second load reads back unchanged. */
            int64_t created = 0;
            const char *s = req_str(reply, "person.created_at_us");
            if (*s)
                sscanf(s, "%" SCNd64, &created);
            if (created <= 0)
                created = crm_now_us();
            d->day_us = created - created % US_PER_DAY;
        }
        if ((rc = s_keep_id(reply, "person.id", d->person_ids[i])))
            return rc;
    }
    return CRMCTL_EXIT_OK;
}

static int s_load_pipelines(s_demo_t *d)
{
    json_t *stages = json_array(), *reply;
    for (int i = 0; i < N_RENEWAL_STAGES; i++)
        json_array_append_new(stages, json_pack("{s:s, s:i}", "name", s_renewal_stages[i],
                                                "probability", s_renewal_probability[i]));
    int rc = s_step(d, &sales_pipeline_create,
                    json_pack("{s:{s:s, s:o}}", "pipeline", "name", "Renewals", "stages", stages),
                    &reply);
    if (rc != CRMCTL_EXIT_OK || (rc = s_keep_id(reply, "pipeline.id", d->pipeline_ids[1])))
        return rc;
    /* The default pipeline is the service's own: read, not created. */
    json_t *none = json_object();
    rc = req_send(d->ctl, d->svc, &sales_pipeline_list, none, NULL, &reply);
    json_decref(none);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    json_t *all = json_object_get(reply, "pipelines");
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *p = json_array_get(all, i);
        if (json_is_true(json_object_get(p, "is_default"))) {
            snprintf(d->pipeline_ids[0], 40, "%s", req_str(p, "id"));
            d->default_stages = json_incref(json_object_get(p, "stages"));
        }
    }
    json_decref(reply);
    if (!d->pipeline_ids[0][0] || json_array_size(d->default_stages) == 0) {
        crmctl_error(NULL, "The sales service creates a default pipeline when it starts.",
                     "the sales service has no default pipeline with stages");
        return CRMCTL_EXIT_FAILED;
    }
    return CRMCTL_EXIT_OK;
}

/* The name of stage i of pipeline `pipeline`, clamped to its last stage. */
static const char *s_stage(const s_demo_t *d, int pipeline, int i)
{
    if (pipeline == 1)
        return s_renewal_stages[i < N_RENEWAL_STAGES ? i : N_RENEWAL_STAGES - 1];
    size_t n = json_array_size(d->default_stages);
    return req_str(json_array_get(d->default_stages, (size_t)i < n ? (size_t)i : n - 1), "name");
}

static int s_load_deals(s_demo_t *d)
{
    char close[16];
    for (size_t i = 0; i < N_DEALS; i++) {
        const s_deal_t *x = &s_deals[i];
        val_date_format(d->day_us / US_PER_DAY + x->close_in_days, close, sizeof close);
        const s_person_t *p = &s_people[x->person];
        json_t *deal = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "title", x->title,
                                 "person_id", d->person_ids[x->person], "pipeline_id",
                                 d->pipeline_ids[x->pipeline], "stage", s_stage(d, x->pipeline, 0),
                                 "amount_minor", (json_int_t)x->amount_minor, "currency",
                                 x->currency, "expected_close_date", close, "owner", x->owner);
        if (deal) {
            s_opt_id(deal, "organization_id", d->org_ids, p->org);
            s_opt(deal, "next_step", x->next_step);
        }
        json_t *reply;
        int rc =
            s_step(d, &sales_deal_create, deal ? json_pack("{s:o}", "deal", deal) : NULL, &reply);
        if (rc != CRMCTL_EXIT_OK || (rc = s_keep_id(reply, "deal.id", d->deal_ids[i])))
            return rc;
        const char *id = d->deal_ids[i];
        /* Through the stages one by one, so that the history reads well. */
        for (int s = 1; s <= x->stage; s++)
            if ((rc = s_step(d, &sales_deal_stage,
                             json_pack("{s:s, s:s}", "id", id, "stage", s_stage(d, x->pipeline, s)),
                             NULL)))
                return rc;
        if (x->fate == DEAL_WON) {
            rc = s_step(d, &sales_deal_win, json_pack("{s:s}", "id", id), NULL);
            d->won++;
        } else if (x->fate == DEAL_LOST) {
            rc = s_step(d, &sales_deal_lose,
                        json_pack("{s:s, s:s}", "id", id, "reason", x->lost_reason), NULL);
            d->lost++;
        }
        if (rc != CRMCTL_EXIT_OK)
            return rc;
    }
    return CRMCTL_EXIT_OK;
}

static int s_load_orders(s_demo_t *d)
{
    for (size_t i = 0; i < N_ORDERS; i++) {
        const s_order_t *o = &s_orders[i];
        json_t *items = json_array();
        for (int k = 0; k < 3 && o->lines[k].qty; k++) {
            const s_product_t *p = &s_products[o->lines[k].product];
            json_array_append_new(items, json_pack("{s:s, s:s, s:i, s:I}", "product_code", p->code,
                                                   "name", p->name, "quantity", o->lines[k].qty,
                                                   "unit_price_minor", (json_int_t)p->price_minor));
        }
        /* Ordered at 10:00 UTC on the day, some day in the last year. */
        int64_t at = d->day_us - o->days_ago * US_PER_DAY + 10 * US_PER_HOUR;
        json_t *order =
            json_pack("{s:s, s:o, s:s, s:I}", "person_id", d->person_ids[o->person], "items", items,
                      "currency", o->currency, "ordered_at_us", (json_int_t)at);
        if (order) {
            s_opt_id(order, "organization_id", d->org_ids, s_people[o->person].org);
            s_opt_id(order, "deal_id", d->deal_ids, o->deal);
        }
        int rc =
            s_step(d, &sales_order_create, order ? json_pack("{s:o}", "order", order) : NULL, NULL);
        if (rc != CRMCTL_EXIT_OK)
            return rc;
    }
    return CRMCTL_EXIT_OK;
}

static int s_load_activities(s_demo_t *d)
{
    for (size_t i = 0; i < N_ACTIVITIES; i++) {
        const s_activity_t *a = &s_activities[i];
        char kind[40];
        snprintf(kind, sizeof kind, "ACTIVITY_KIND_%s", a->kind);
        json_t *act = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "person_id",
                                d->person_ids[a->person], "subject", a->subject, "owner", a->owner);
        if (!act)
            return s_step(d, &sales_activity_log, NULL, NULL);
        s_opt_id(act, "deal_id", d->deal_ids, a->deal);
        s_opt(act, "body", a->body);
        const req_verb_t *verb = &sales_activity_log;
        if (a->when == ACT_LOGGED) {
            s_opt(act, "outcome", a->outcome);
            s_opt(act, "next_action", a->next_action);
            d->done++;
        } else {
            int64_t due = d->day_us + a->due_day * US_PER_DAY + a->due_hour * US_PER_HOUR;
            json_object_set_new(act, "due_at_us", json_integer(due));
            verb = &sales_activity_schedule;
        }
        json_t *reply;
        int rc = s_step(d, verb, json_pack("{s:o}", "activity", act), &reply);
        char id[40];
        if (rc != CRMCTL_EXIT_OK || (rc = s_keep_id(reply, "activity.id", id)))
            return rc;
        if (a->when == ACT_DUE) {
            d->scheduled++;
            d->overdue += a->due_day < 0;
        } else if (a->when == ACT_DUE_DONE) {
            json_t *rq = json_pack("{s:s}", "id", id);
            s_opt(rq, "outcome", a->outcome);
            s_opt(rq, "next_action", a->next_action);
            if ((rc = s_step(d, &sales_activity_complete, rq, NULL)))
                return rc;
            d->done++;
        }
    }
    return CRMCTL_EXIT_OK;
}

static int s_load_leads(s_demo_t *d)
{
    for (size_t i = 0; i < N_LEADS; i++) {
        const s_lead_t *l = &s_leads[i];
        char source[40];
        snprintf(source, sizeof source, "LEAD_SOURCE_%s", l->source);
        json_t *lead = json_pack("{s:s, s:s, s:s, s:s}", "name", l->name, "email", l->email,
                                 "source", source, "owner", l->owner);
        if (lead) {
            s_opt(lead, "company", l->company);
            s_opt(lead, "campaign_id", l->campaign);
            s_opt(lead, "notes", l->notes);
        }
        json_t *reply;
        char id[40];
        int rc =
            s_step(d, &sales_lead_create, lead ? json_pack("{s:o}", "lead", lead) : NULL, &reply);
        if (rc != CRMCTL_EXIT_OK || (rc = s_keep_id(reply, "lead.id", id)))
            return rc;
        if (l->fate == LEAD_QUALIFIED || l->fate == LEAD_CONVERTED)
            rc = s_step(d, &sales_lead_qualify,
                        json_pack("{s:s, s:s}", "id", id, "qualification", l->why), NULL);
        if (rc == CRMCTL_EXIT_OK && l->fate == LEAD_CONVERTED) {
            rc = s_step(d, &sales_lead_convert,
                        json_pack("{s:s, s:s, s:i, s:s}", "id", id, "deal_title",
                                  "Tearoom lighting package", "amount_minor", 620000, "currency",
                                  "EUR"),
                        NULL);
            d->converted++;
        }
        if (rc == CRMCTL_EXIT_OK && l->fate == LEAD_DISQUALIFIED)
            rc = s_step(d, &sales_lead_disqualify,
                        json_pack("{s:s, s:s}", "id", id, "reason", l->why), NULL);
        if (rc != CRMCTL_EXIT_OK)
            return rc;
    }
    return CRMCTL_EXIT_OK;
}

/* The help desk (demo_support.c): into --support, or into a service named
 * "support" when one is configured; skipped with --no-support. */
static int s_load_desk(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *name = crmctl_arg(args, "support");
    demo_support_counts_t n;
    if (crmctl_arg(args, "no-support"))
        return CRMCTL_EXIT_OK;
    crmctl_service_t *svc =
        name ? crmctl_service_require(ctl, name) : crmctl_service_find(ctl, "support");
    if (!svc)
        return name ? CRMCTL_EXIT_USAGE : CRMCTL_EXIT_OK;
    int rc = demo_support_load(ctl, svc, &n);
    if (rc != CRMCTL_EXIT_OK) {
        if (rc == CRMCTL_EXIT_UNREACHABLE)
            crmctl_error(NULL, "Start it, or give --no-support.", "%s did not answer", svc->name);
        return rc;
    }
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return crmctl_json_line(json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "service",
                                          svc->name, "tickets", n.tickets, "resolved", n.resolved,
                                          "closed", n.closed, "rated", n.rated, "waiting",
                                          n.waiting, "commands", n.commands)) < 0
                   ? CRMCTL_EXIT_FAILED
                   : CRMCTL_EXIT_OK;
    printf("help desk in %s: %d tickets (%d resolved, %d of them closed, %d rated; %d waiting on "
           "the customer or a third party)\n",
           svc->name, n.tickets, n.resolved, n.closed, n.rated, n.waiting);
    fflush(stdout);
    return CRMCTL_EXIT_OK;
}

int crmctl_demo_load(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *name = crmctl_arg(args, "service");
    s_demo_t d;
    if (crmctl_arg(args, "no-sales"))
        return s_load_desk(ctl, args);
    memset(&d, 0, sizeof d);
    d.ctl = ctl;
    d.svc = crmctl_service_require(ctl, name ? name : SALES_SERVICE);
    if (!d.svc)
        return CRMCTL_EXIT_USAGE;
    /* Organisations, then their people; the first person anchors the dates. */
    int rc = s_load_orgs(&d);
    if (rc == CRMCTL_EXIT_OK)
        rc = s_load_people(&d);
    if (rc == CRMCTL_EXIT_OK)
        rc = s_load_pipelines(&d);
    if (rc == CRMCTL_EXIT_OK)
        rc = s_load_deals(&d);
    if (rc == CRMCTL_EXIT_OK)
        rc = s_load_orders(&d);
    if (rc == CRMCTL_EXIT_OK)
        rc = s_load_activities(&d);
    if (rc == CRMCTL_EXIT_OK)
        rc = s_load_leads(&d);
    json_decref(d.default_stages);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    size_t people = N_PEOPLE + (size_t)d.converted, orgs = N_ORGS + (size_t)d.converted;
    size_t deals = N_DEALS + (size_t)d.converted;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        rc = crmctl_json_line(
                 json_pack("{s:s, s:I, s:I, s:i, s:I, s:i, s:i, s:I, s:I, s:i, s:i, s:I, s:i}",
                           "service", d.svc->name, "people", (json_int_t)people, "organizations",
                           (json_int_t)orgs, "pipelines", 2, "deals", (json_int_t)deals, "won",
                           d.won, "lost", d.lost, "orders", (json_int_t)N_ORDERS, "activities",
                           (json_int_t)N_ACTIVITIES, "scheduled", d.scheduled, "overdue", d.overdue,
                           "leads", (json_int_t)N_LEADS, "commands", d.step)) < 0
                 ? CRMCTL_EXIT_FAILED
                 : CRMCTL_EXIT_OK;
        return rc == CRMCTL_EXIT_OK ? s_load_desk(ctl, args) : rc;
    }
    printf("demo data in %s: %zu people, %zu organisations, 2 pipelines, %zu deals (%d won, %d "
           "lost), %zu orders, %zu activities (%d scheduled, %d overdue), %zu leads\n",
           d.svc->name, people, orgs, deals, d.won, d.lost, N_ORDERS, N_ACTIVITIES, d.scheduled,
           d.overdue, N_LEADS);
    fflush(stdout);
    return s_load_desk(ctl, args);
}
