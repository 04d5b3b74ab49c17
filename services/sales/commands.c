/* commands.c: the command and consumer tables, the whole surface of sales
 * on one screen: every command a client can send with its request message
 * whether it only reads and what it touches, and every consumer with the event types it
 * takes. The handlers are in handlers/, one file per aggregate. */
#include "sales.h"

#include "crm/v1/person.pb-c.h"
#include "crm/v1/sales.pb-c.h"
#include "rules.h"

#include <crm/identity.h>
#include <crm/util.h>

#include <ctype.h>
#include <string.h>

/* rec, act: the record type and action the roles must grant
 * (crm/access.h); handlers check the owner of each record for own and
 * team levels. */
#define S_CMD(name, msg, fn, ro, rec, act)                                                         \
    {                                                                                              \
        name, &crm__v1__##msg##__descriptor, fn, ro, CRM_REC_##rec, CRM_ACT_##act                  \
    }

const crm_command_def_t sales_commands[] = {
    S_CMD("sales.person.register", register_person_request, sales_person_register, 0, PERSON,
          CREATE),
    S_CMD("sales.person.show", show_person_request, sales_person_show, 1, PERSON, READ),
    S_CMD("sales.person.update", update_person_request, sales_person_update, 0, PERSON, EDIT),
    S_CMD("sales.person.list", list_people_request, sales_person_list, 1, PERSON, READ),
    S_CMD("sales.person.erase", erase_person_request, sales_person_erase, 0, PERSONAL_DATA, DELETE),
    S_CMD("sales.person.export", export_person_request, sales_person_export, 1, PERSONAL_DATA,
          READ),
    S_CMD("sales.person.merge", merge_person_request, sales_person_merge_cmd, 0, PERSONAL_DATA,
          EDIT),
    S_CMD("sales.org.create", create_organization_request, sales_org_create, 0, ORGANISATION,
          CREATE),
    S_CMD("sales.org.show", show_organization_request, sales_org_show, 1, ORGANISATION, READ),
    S_CMD("sales.org.list", list_organizations_request, sales_org_list, 1, ORGANISATION, READ),
    S_CMD("sales.lead.create", create_lead_request, sales_lead_create, 0, LEAD, CREATE),
    S_CMD("sales.lead.qualify", qualify_lead_request, sales_lead_qualify, 0, LEAD, EDIT),
    S_CMD("sales.lead.convert", convert_lead_request, sales_lead_convert, 0, LEAD, EDIT),
    S_CMD("sales.lead.disqualify", disqualify_lead_request, sales_lead_disqualify, 0, LEAD, EDIT),
    S_CMD("sales.lead.list", list_leads_request, sales_lead_list, 1, LEAD, READ),
    S_CMD("sales.pipeline.create", create_pipeline_request, sales_pipeline_create, 0, CONFIG,
          CREATE),
    S_CMD("sales.pipeline.list", list_pipelines_request, sales_pipeline_list, 1, CONFIG, READ),
    S_CMD("sales.pipeline.stage.rename", rename_stage_request, sales_stage_rename, 0, CONFIG, EDIT),
    S_CMD("sales.pipeline.stage.add", add_stage_request, sales_stage_add, 0, CONFIG, EDIT),
    S_CMD("sales.pipeline.stage.move", move_stage_request, sales_stage_move, 0, CONFIG, EDIT),
    S_CMD("sales.pipeline.stage.probability", set_stage_probability_request,
          sales_stage_probability, 0, CONFIG, EDIT),
    S_CMD("sales.deal.create", create_deal_request, sales_deal_create, 0, DEAL, CREATE),
    S_CMD("sales.deal.stage", move_deal_request, sales_deal_stage, 0, DEAL, EDIT),
    S_CMD("sales.deal.win", win_deal_request, sales_deal_win, 0, DEAL, EDIT),
    S_CMD("sales.deal.lose", lose_deal_request, sales_deal_lose, 0, DEAL, EDIT),
    S_CMD("sales.deal.show", show_deal_request, sales_deal_show, 1, DEAL, READ),
    S_CMD("sales.deal.list", list_deals_request, sales_deal_list, 1, DEAL, READ),
    S_CMD("sales.order.create", create_order_request, sales_order_create, 0, ORDER, CREATE),
    S_CMD("sales.order.list", list_orders_request, sales_order_list, 1, ORDER, READ),
    S_CMD("sales.order.refund", refund_order_request, sales_order_refund, 0, ORDER, EDIT),
    S_CMD("sales.order.cancel", cancel_order_request, sales_order_cancel, 0, ORDER, EDIT),
    S_CMD("sales.activity.log", log_activity_request, sales_activity_log, 0, ACTIVITY, CREATE),
    S_CMD("sales.activity.schedule", log_activity_request, sales_activity_schedule, 0, ACTIVITY,
          CREATE),
    S_CMD("sales.activity.complete", complete_activity_request, sales_activity_complete, 0,
          ACTIVITY, EDIT),
    S_CMD("sales.activity.list", list_activities_request, sales_activity_list, 1, ACTIVITY, READ),
    /* Subscriptions are recurring orders: the order grants cover them. */
    S_CMD("sales.subscription.create", create_subscription_request, sales_subscription_create, 0,
          ORDER, CREATE),
    S_CMD("sales.subscription.change", change_subscription_request, sales_subscription_change, 0,
          ORDER, EDIT),
    S_CMD("sales.subscription.renew", renew_subscription_request, sales_subscription_renew, 0,
          ORDER, EDIT),
    S_CMD("sales.subscription.cancel", cancel_subscription_request, sales_subscription_cancel, 0,
          ORDER, EDIT),
    S_CMD("sales.subscription.show", show_subscription_request, sales_subscription_show, 1, ORDER,
          READ),
    S_CMD("sales.subscription.list", list_subscriptions_request, sales_subscription_list, 1, ORDER,
          READ),
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};

static const char *const s_people_prefixes[] = {"crm.marketing.person.", "crm.support.person.",
                                                "crm.analytics.person.", NULL};
static const char *const s_intent_prefixes[] = {"crm.marketing.response.", NULL};
static const char *const s_risk_prefixes[] = {"crm.analytics.customer.churn_risk_raised.",
                                              "crm.support.ticket.opened.", NULL};
static const char *const s_quality_prefixes[] = {"crm.analytics.data_quality.issue_found.", NULL};
static const char *const s_preference_prefixes[] = {"crm.marketing.preferences.changed.",
                                                    "crm.marketing.consent.", NULL};

const crm_consumer_def_t sales_consumers[] = {
    {"sales.people", s_people_prefixes, sales_people_apply},
    {"sales.intent", s_intent_prefixes, sales_intent_apply},
    {"sales.risk", s_risk_prefixes, sales_risk_apply},
    {"sales.quality", s_quality_prefixes, sales_quality_apply},
    {"sales.preferences", s_preference_prefixes, sales_preferences_apply},
    {NULL, NULL, NULL},
};

/* ---- commands that may run interleaved (crm_command_keys_t) ------------- */

/* A key per record a command reads and then writes or relies on: its id,
 * or for a new person its normalised emails (two registrations of one
 * address must see each other). Ids are compared as sent, lower-cased. */
static int s_key_add(uint64_t *keys, int n, int max, const char *kind, const char *value)
{
    if (n < 0 || !value || !*value)
        return n;
    if (n >= max)
        return -1; /* too many to say: run alone */
    char buf[SALES_EMAIL_LEN + 16];
    size_t len = strlen(value);
    if (len >= SALES_EMAIL_LEN)
        return -1;
    for (size_t i = 0; i <= len; i++)
        buf[i] = (char)tolower((unsigned char)value[i]);
    keys[n] = crm_hash64(crm_hash64(CRM_HASH_SEED, kind, strlen(kind)), buf, len);
    return n + 1;
}

static int s_person_register_keys(const ProtobufCMessage *request, uint64_t *keys, int max)
{
    const Crm__V1__RegisterPersonRequest *rq = (const void *)request;
    const Crm__V1__Person *p = rq ? rq->person : NULL;
    if (!p)
        return 0; /* refused by the handler before any statement */
    int n = s_key_add(keys, 0, max, "person", p->id);
    for (size_t i = 0; i < p->n_emails && n >= 0; i++) {
        char email[SALES_EMAIL_LEN];
        /* An address that does not normalise is refused by the handler. */
        if (crm_email_normalize(p->emails[i], email, sizeof email) == 0)
            n = s_key_add(keys, n, max, "email", email);
    }
    return n;
}

static int s_order_create_keys(const ProtobufCMessage *request, uint64_t *keys, int max)
{
    const Crm__V1__CreateOrderRequest *rq = (const void *)request;
    const Crm__V1__Order *o = rq ? rq->order : NULL;
    if (!o)
        return 0;
    int n = s_key_add(keys, 0, max, "person", o->person_id);
    n = s_key_add(keys, n, max, "organization", o->organization_id);
    return s_key_add(keys, n, max, "deal", o->deal_id);
}

static int s_activity_log_keys(const ProtobufCMessage *request, uint64_t *keys, int max)
{
    const Crm__V1__LogActivityRequest *rq = (const void *)request;
    const Crm__V1__Activity *a = rq ? rq->activity : NULL;
    if (!a)
        return 0;
    int n = s_key_add(keys, 0, max, "person", a->person_id);
    return s_key_add(keys, n, max, "deal", a->deal_id);
}

const crm_command_keys_t sales_command_keys[] = {
    {"sales.person.register", s_person_register_keys},
    {"sales.order.create", s_order_create_keys},
    {"sales.activity.log", s_activity_log_keys},
    {NULL, NULL},
};

/* ---- set-based forms (crm_command_batch_t) ------------------------------ */

/* A run of consecutive registrations, orders or logged activities in a
 * batch is written with one statement over arrays (sql/0021, 0022); the
 * keys above keep two commands about one person, email or deal out of one
 * run. */
const crm_command_batch_t sales_command_batches[] = {
    {"sales.person.register", sales_person_register_run},
    {"sales.order.create", sales_order_create_run},
    {"sales.activity.log", sales_activity_log_run},
    {NULL, NULL},
};
