/* events.h: protobuf in and out for sales.
 *
 * The store returns each record as one JSON object whose keys are the
 * field names of its crm.v1 message (see store.h); crm_work_record
 * turns that into the message, so the mapping from columns to fields is
 * written once per record, in SQL. The emitters wrap a payload in an
 * Event of the right type and subject (the customer id when there is one).
 *
 * Memory: every message built here lives in the work's arena (never free
 * it, never pass it to *_free_unpacked); it is valid until the work ends. */
#ifndef SALES_EVENTS_H
#define SALES_EVENTS_H

#include <crm/service.h>

#include "crm/v1/sales.pb-c.h"

#define SALES_PERSON(w, t)                                                                         \
    ((Crm__V1__Person *)crm_work_record((w), &crm__v1__person__descriptor, (t)))
#define SALES_ORG(w, t)                                                                            \
    ((Crm__V1__Organization *)crm_work_record((w), &crm__v1__organization__descriptor, (t)))
#define SALES_LEAD(w, t) ((Crm__V1__Lead *)crm_work_record((w), &crm__v1__lead__descriptor, (t)))
#define SALES_PIPELINE(w, t)                                                                       \
    ((Crm__V1__Pipeline *)crm_work_record((w), &crm__v1__pipeline__descriptor, (t)))
#define SALES_DEAL(w, t) ((Crm__V1__Deal *)crm_work_record((w), &crm__v1__deal__descriptor, (t)))
#define SALES_ORDER(w, t) ((Crm__V1__Order *)crm_work_record((w), &crm__v1__order__descriptor, (t)))
#define SALES_ACTIVITY(w, t)                                                                       \
    ((Crm__V1__Activity *)crm_work_record((w), &crm__v1__activity__descriptor, (t)))

/* Event types sales publishes (docs/events.md, "Event catalogue"). */
#define SALES_EV_PERSON_REGISTERED "crm.sales.person.registered.v1"
#define SALES_EV_PERSON_UPDATED "crm.sales.person.updated.v1"
#define SALES_EV_PERSON_ERASED "crm.sales.person.erased.v1"
#define SALES_EV_PERSON_MERGED "crm.sales.person.merged.v1"
#define SALES_EV_ORG_CREATED "crm.sales.organization.created.v1"
#define SALES_EV_LEAD_CREATED "crm.sales.lead.created.v1"
#define SALES_EV_LEAD_QUALIFIED "crm.sales.lead.qualified.v1"
#define SALES_EV_LEAD_CONVERTED "crm.sales.lead.converted.v1"
#define SALES_EV_LEAD_DISQUALIFIED "crm.sales.lead.disqualified.v1"
#define SALES_EV_PIPELINE_CREATED "crm.sales.pipeline.created.v1"
#define SALES_EV_STAGE_RENAMED "crm.sales.pipeline.stage_renamed.v1"
#define SALES_EV_STAGE_ADDED "crm.sales.pipeline.stage_added.v1"
#define SALES_EV_STAGE_MOVED "crm.sales.pipeline.stage_moved.v1"
#define SALES_EV_STAGE_PROBABILITY_CHANGED "crm.sales.pipeline.stage_probability_changed.v1"
#define SALES_EV_DEAL_CREATED "crm.sales.deal.created.v1"
#define SALES_EV_DEAL_STAGE_CHANGED "crm.sales.deal.stage_changed.v1"
#define SALES_EV_DEAL_WON "crm.sales.deal.won.v1"
#define SALES_EV_DEAL_LOST "crm.sales.deal.lost.v1"
#define SALES_EV_ORDER_PLACED "crm.sales.order.placed.v1"
#define SALES_EV_ORDER_REFUNDED "crm.sales.order.refunded.v1"
#define SALES_EV_ORDER_CANCELLED "crm.sales.order.cancelled.v1"
#define SALES_EV_ACTIVITY_SCHEDULED "crm.sales.activity.scheduled.v1"
#define SALES_EV_ACTIVITY_COMPLETED "crm.sales.activity.completed.v1"
#define SALES_EV_ACTIVITY_DUE "crm.sales.activity.due.v1"
#define SALES_EV_NOTE_ADDED "crm.sales.note.added.v1"
#define SALES_EV_SUBSCRIPTION_CREATED "crm.sales.subscription.created.v1"
#define SALES_EV_SUBSCRIPTION_CHANGED "crm.sales.subscription.changed.v1"
#define SALES_EV_SUBSCRIPTION_RENEWED "crm.sales.subscription.renewed.v1"
#define SALES_EV_SUBSCRIPTION_CANCELLED "crm.sales.subscription.cancelled.v1"

/* Emitters: 0, or negative with the work already failed (crm_work_emit). */
int sales_emit_person_registered(crm_work_t *w, Crm__V1__Person *p);
/* `changed` is a set of SALES_PF_* bits (rules.h). */
int sales_emit_person_updated(crm_work_t *w, Crm__V1__Person *p, unsigned changed);
int sales_emit_org_created(crm_work_t *w, Crm__V1__Organization *o);
int sales_emit_lead_created(crm_work_t *w, Crm__V1__Lead *l);
int sales_emit_lead_qualified(crm_work_t *w, Crm__V1__Lead *l);
int sales_emit_lead_converted(crm_work_t *w, Crm__V1__Lead *l);
int sales_emit_lead_disqualified(crm_work_t *w, Crm__V1__Lead *l);
int sales_emit_pipeline_created(crm_work_t *w, Crm__V1__Pipeline *p);
int sales_emit_stage_renamed(crm_work_t *w, Crm__V1__Pipeline *p, const char *from, const char *to,
                             int deals);
int sales_emit_deal_created(crm_work_t *w, Crm__V1__Deal *d);
int sales_emit_deal_stage_changed(crm_work_t *w, Crm__V1__Deal *d, const char *from,
                                  const char *to);
int sales_emit_deal_won(crm_work_t *w, Crm__V1__Deal *d);
int sales_emit_deal_lost(crm_work_t *w, Crm__V1__Deal *d);
int sales_emit_order_placed(crm_work_t *w, Crm__V1__Order *o);
/* order.refunded, or order.cancelled when r->cancelled. */
int sales_emit_order_refunded(crm_work_t *w, Crm__V1__OrderRefund *r, Crm__V1__Order *o);
int sales_emit_activity_scheduled(crm_work_t *w, Crm__V1__Activity *a);
int sales_emit_activity_completed(crm_work_t *w, Crm__V1__Activity *a);
int sales_emit_activity_due(crm_work_t *w, Crm__V1__Activity *a);
int sales_emit_note_added(crm_work_t *w, Crm__V1__Activity *a);

/* Subscriptions (handlers/subscription.c); `changed`: the fields changed. */
int sales_emit_subscription_created(crm_work_t *w, Crm__V1__Subscription *s);
int sales_emit_subscription_changed(crm_work_t *w, Crm__V1__Subscription *s, char **changed,
                                    size_t n);
int sales_emit_subscription_renewed(crm_work_t *w, Crm__V1__Subscription *s, const char *from);
int sales_emit_subscription_cancelled(crm_work_t *w, Crm__V1__Subscription *s);

/* Pipeline edits (handlers/pipeline.c): `p` after the change. */
int sales_emit_stage_added(crm_work_t *w, Crm__V1__Pipeline *p, const char *stage, int position);
int sales_emit_stage_moved(crm_work_t *w, Crm__V1__Pipeline *p, const char *stage, int from,
                           int to);
int sales_emit_stage_probability_changed(crm_work_t *w, Crm__V1__Pipeline *p, const char *stage,
                                         int from, int to, int deals);

#endif
