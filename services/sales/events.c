/* events.c: records to protobuf messages, and the events sales emits.
 *
 * Records arrive from the store as JSON objects keyed by field name (one
 * jsonb_build_object per record type in store/records.h), and are turned into
 * messages by walking the message descriptor: one generic reader instead of
 * one hand-written column reader per record type, which is where column
 * order mistakes would hide. Everything is allocated in the work's arena. */
#include "events.h"

#include "rules.h"

#include <crm/log.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- emitters ------------------------------------------------------------- */

int sales_emit_person_registered(crm_work_t *w, Crm__V1__Person *p)
{
    Crm__V1__PersonRegistered pl = CRM__V1__PERSON_REGISTERED__INIT;
    pl.person = p;
    CRM_WORK_EMIT(w, SALES_EV_PERSON_REGISTERED, p->id, CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED,
                  person_registered, &pl);
}

int sales_emit_person_updated(crm_work_t *w, Crm__V1__Person *p, unsigned changed)
{
    Crm__V1__PersonUpdated pl = CRM__V1__PERSON_UPDATED__INIT;
    char *names[SALES_PF_COUNT];
    size_t n = 0;
    for (int i = 0; i < SALES_PF_COUNT; i++)
        if (changed & (1u << i))
            names[n++] = (char *)sales_person_field_name(i);
    pl.person = p;
    pl.changed_fields = names;
    pl.n_changed_fields = n;
    CRM_WORK_EMIT(w, SALES_EV_PERSON_UPDATED, p->id, CRM__V1__EVENT__PAYLOAD_PERSON_UPDATED,
                  person_updated, &pl);
}

int sales_emit_org_created(crm_work_t *w, Crm__V1__Organization *o)
{
    Crm__V1__OrganizationCreated pl = CRM__V1__ORGANIZATION_CREATED__INIT;
    pl.organization = o;
    CRM_WORK_EMIT(w, SALES_EV_ORG_CREATED, "", CRM__V1__EVENT__PAYLOAD_ORGANIZATION_CREATED,
                  organization_created, &pl);
}

int sales_emit_lead_created(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadCreated pl = CRM__V1__LEAD_CREATED__INIT;
    pl.lead = l;
    CRM_WORK_EMIT(w, SALES_EV_LEAD_CREATED, l->person_id, CRM__V1__EVENT__PAYLOAD_LEAD_CREATED,
                  lead_created, &pl);
}

int sales_emit_lead_qualified(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadQualified pl = CRM__V1__LEAD_QUALIFIED__INIT;
    pl.lead = l;
    CRM_WORK_EMIT(w, SALES_EV_LEAD_QUALIFIED, l->person_id, CRM__V1__EVENT__PAYLOAD_LEAD_QUALIFIED,
                  lead_qualified, &pl);
}

int sales_emit_lead_converted(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadConverted pl = CRM__V1__LEAD_CONVERTED__INIT;
    pl.lead = l;
    pl.person_id = l->person_id;
    pl.organization_id = l->organization_id;
    pl.deal_id = l->deal_id;
    CRM_WORK_EMIT(w, SALES_EV_LEAD_CONVERTED, l->person_id, CRM__V1__EVENT__PAYLOAD_LEAD_CONVERTED,
                  lead_converted, &pl);
}

int sales_emit_lead_disqualified(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadDisqualified pl = CRM__V1__LEAD_DISQUALIFIED__INIT;
    pl.lead = l;
    pl.reason = l->disqualify_reason;
    CRM_WORK_EMIT(w, SALES_EV_LEAD_DISQUALIFIED, l->person_id,
                  CRM__V1__EVENT__PAYLOAD_LEAD_DISQUALIFIED, lead_disqualified, &pl);
}

int sales_emit_pipeline_created(crm_work_t *w, Crm__V1__Pipeline *p)
{
    Crm__V1__PipelineCreated pl = CRM__V1__PIPELINE_CREATED__INIT;
    pl.pipeline = p;
    CRM_WORK_EMIT(w, SALES_EV_PIPELINE_CREATED, "", CRM__V1__EVENT__PAYLOAD_PIPELINE_CREATED,
                  pipeline_created, &pl);
}

int sales_emit_stage_renamed(crm_work_t *w, Crm__V1__Pipeline *p, const char *from, const char *to,
                             int deals)
{
    Crm__V1__StageRenamed pl = CRM__V1__STAGE_RENAMED__INIT;
    pl.pipeline = p;
    pl.from_stage = (char *)from;
    pl.to_stage = (char *)to;
    pl.deals_moved = deals;
    CRM_WORK_EMIT(w, SALES_EV_STAGE_RENAMED, "", CRM__V1__EVENT__PAYLOAD_STAGE_RENAMED,
                  stage_renamed, &pl);
}

int sales_emit_deal_created(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealCreated pl = CRM__V1__DEAL_CREATED__INIT;
    pl.deal = d;
    CRM_WORK_EMIT(w, SALES_EV_DEAL_CREATED, d->person_id, CRM__V1__EVENT__PAYLOAD_DEAL_CREATED,
                  deal_created, &pl);
}

int sales_emit_deal_stage_changed(crm_work_t *w, Crm__V1__Deal *d, const char *from, const char *to)
{
    Crm__V1__DealStageChanged pl = CRM__V1__DEAL_STAGE_CHANGED__INIT;
    pl.deal = d;
    pl.from_stage = (char *)from;
    pl.to_stage = (char *)to;
    CRM_WORK_EMIT(w, SALES_EV_DEAL_STAGE_CHANGED, d->person_id,
                  CRM__V1__EVENT__PAYLOAD_DEAL_STAGE_CHANGED, deal_stage_changed, &pl);
}

int sales_emit_deal_won(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealWon pl = CRM__V1__DEAL_WON__INIT;
    pl.deal = d;
    CRM_WORK_EMIT(w, SALES_EV_DEAL_WON, d->person_id, CRM__V1__EVENT__PAYLOAD_DEAL_WON, deal_won,
                  &pl);
}

int sales_emit_deal_lost(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealLost pl = CRM__V1__DEAL_LOST__INIT;
    pl.deal = d;
    pl.reason = d->lost_reason;
    CRM_WORK_EMIT(w, SALES_EV_DEAL_LOST, d->person_id, CRM__V1__EVENT__PAYLOAD_DEAL_LOST, deal_lost,
                  &pl);
}

int sales_emit_order_placed(crm_work_t *w, Crm__V1__Order *o)
{
    Crm__V1__OrderPlaced pl = CRM__V1__ORDER_PLACED__INIT;
    pl.order = o;
    CRM_WORK_EMIT(w, SALES_EV_ORDER_PLACED, o->person_id, CRM__V1__EVENT__PAYLOAD_ORDER_PLACED,
                  order_placed, &pl);
}

int sales_emit_order_refunded(crm_work_t *w, Crm__V1__OrderRefund *r, Crm__V1__Order *o)
{
    if (r->cancelled) {
        Crm__V1__OrderCancelled pl = CRM__V1__ORDER_CANCELLED__INIT;
        pl.refund = r;
        pl.order = o;
        CRM_WORK_EMIT(w, SALES_EV_ORDER_CANCELLED, o->person_id,
                      CRM__V1__EVENT__PAYLOAD_ORDER_CANCELLED, order_cancelled, &pl);
    }
    Crm__V1__OrderRefunded pl = CRM__V1__ORDER_REFUNDED__INIT;
    pl.refund = r;
    pl.order = o;
    CRM_WORK_EMIT(w, SALES_EV_ORDER_REFUNDED, o->person_id, CRM__V1__EVENT__PAYLOAD_ORDER_REFUNDED,
                  order_refunded, &pl);
}

int sales_emit_activity_scheduled(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityScheduled pl = CRM__V1__ACTIVITY_SCHEDULED__INIT;
    pl.activity = a;
    CRM_WORK_EMIT(w, SALES_EV_ACTIVITY_SCHEDULED, a->person_id,
                  CRM__V1__EVENT__PAYLOAD_ACTIVITY_SCHEDULED, activity_scheduled, &pl);
}

int sales_emit_activity_completed(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityCompleted pl = CRM__V1__ACTIVITY_COMPLETED__INIT;
    pl.activity = a;
    CRM_WORK_EMIT(w, SALES_EV_ACTIVITY_COMPLETED, a->person_id,
                  CRM__V1__EVENT__PAYLOAD_ACTIVITY_COMPLETED, activity_completed, &pl);
}

int sales_emit_activity_due(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityDue pl = CRM__V1__ACTIVITY_DUE__INIT;
    pl.activity = a;
    CRM_WORK_EMIT(w, SALES_EV_ACTIVITY_DUE, a->person_id, CRM__V1__EVENT__PAYLOAD_ACTIVITY_DUE,
                  activity_due, &pl);
}

int sales_emit_note_added(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__NoteAdded pl = CRM__V1__NOTE_ADDED__INIT;
    pl.activity = a;
    CRM_WORK_EMIT(w, SALES_EV_NOTE_ADDED, a->person_id, CRM__V1__EVENT__PAYLOAD_NOTE_ADDED,
                  note_added, &pl);
}

int sales_emit_subscription_created(crm_work_t *w, Crm__V1__Subscription *s)
{
    Crm__V1__SubscriptionCreated pl = CRM__V1__SUBSCRIPTION_CREATED__INIT;
    pl.subscription = s;
    CRM_WORK_EMIT(w, SALES_EV_SUBSCRIPTION_CREATED, s->person_id,
                  CRM__V1__EVENT__PAYLOAD_SUBSCRIPTION_CREATED, subscription_created, &pl);
}

int sales_emit_subscription_changed(crm_work_t *w, Crm__V1__Subscription *s, char **changed,
                                    size_t n)
{
    Crm__V1__SubscriptionChanged pl = CRM__V1__SUBSCRIPTION_CHANGED__INIT;
    pl.subscription = s;
    pl.changed = changed;
    pl.n_changed = n;
    CRM_WORK_EMIT(w, SALES_EV_SUBSCRIPTION_CHANGED, s->person_id,
                  CRM__V1__EVENT__PAYLOAD_SUBSCRIPTION_CHANGED, subscription_changed, &pl);
}

int sales_emit_subscription_renewed(crm_work_t *w, Crm__V1__Subscription *s, const char *from)
{
    Crm__V1__SubscriptionRenewed pl = CRM__V1__SUBSCRIPTION_RENEWED__INIT;
    pl.subscription = s;
    pl.from_date = (char *)from;
    CRM_WORK_EMIT(w, SALES_EV_SUBSCRIPTION_RENEWED, s->person_id,
                  CRM__V1__EVENT__PAYLOAD_SUBSCRIPTION_RENEWED, subscription_renewed, &pl);
}

int sales_emit_subscription_cancelled(crm_work_t *w, Crm__V1__Subscription *s)
{
    Crm__V1__SubscriptionCancelled pl = CRM__V1__SUBSCRIPTION_CANCELLED__INIT;
    pl.subscription = s;
    CRM_WORK_EMIT(w, SALES_EV_SUBSCRIPTION_CANCELLED, s->person_id,
                  CRM__V1__EVENT__PAYLOAD_SUBSCRIPTION_CANCELLED, subscription_cancelled, &pl);
}

int sales_emit_stage_added(crm_work_t *w, Crm__V1__Pipeline *p, const char *stage, int position)
{
    Crm__V1__StageAdded pl = CRM__V1__STAGE_ADDED__INIT;
    pl.pipeline = p;
    pl.stage = (char *)stage;
    pl.position = position;
    CRM_WORK_EMIT(w, SALES_EV_STAGE_ADDED, "", CRM__V1__EVENT__PAYLOAD_STAGE_ADDED, stage_added,
                  &pl);
}

int sales_emit_stage_moved(crm_work_t *w, Crm__V1__Pipeline *p, const char *stage, int from, int to)
{
    Crm__V1__StageMoved pl = CRM__V1__STAGE_MOVED__INIT;
    pl.pipeline = p;
    pl.stage = (char *)stage;
    pl.from_position = from;
    pl.to_position = to;
    CRM_WORK_EMIT(w, SALES_EV_STAGE_MOVED, "", CRM__V1__EVENT__PAYLOAD_STAGE_MOVED, stage_moved,
                  &pl);
}

int sales_emit_stage_probability_changed(crm_work_t *w, Crm__V1__Pipeline *p, const char *stage,
                                         int from, int to, int deals)
{
    Crm__V1__StageProbabilityChanged pl = CRM__V1__STAGE_PROBABILITY_CHANGED__INIT;
    pl.pipeline = p;
    pl.stage = (char *)stage;
    pl.from_probability = from;
    pl.to_probability = to;
    pl.deals_updated = deals;
    CRM_WORK_EMIT(w, SALES_EV_STAGE_PROBABILITY_CHANGED, "",
                  CRM__V1__EVENT__PAYLOAD_STAGE_PROBABILITY_CHANGED, stage_probability_changed,
                  &pl);
}
