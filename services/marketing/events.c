/* events.c: records to protobuf messages, and the events marketing emits.
 *
 * Records arrive from the store as JSON objects keyed by field name (one
 * jsonb_build_object per record type in store/), and are turned into
 * messages by walking the message descriptor: one generic reader instead of
 * one hand-written column reader per record type, which is where column
 * order mistakes would hide. Everything is allocated in the work's arena. */
#include "events.h"

#include <crm/log.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- emitters ------------------------------------------------------------- */

int mkt_emit_campaign_created(crm_work_t *w, Crm__V1__Campaign *c)
{
    Crm__V1__CampaignCreated pl = CRM__V1__CAMPAIGN_CREATED__INIT;
    pl.campaign = c;
    CRM_WORK_EMIT(w, MKT_EV_CAMPAIGN_CREATED, "", CRM__V1__EVENT__PAYLOAD_CAMPAIGN_CREATED,
                  campaign_created, &pl);
}

int mkt_emit_campaign_scheduled(crm_work_t *w, Crm__V1__Campaign *c)
{
    Crm__V1__CampaignScheduled pl = CRM__V1__CAMPAIGN_SCHEDULED__INIT;
    pl.campaign = c;
    CRM_WORK_EMIT(w, MKT_EV_CAMPAIGN_SCHEDULED, "", CRM__V1__EVENT__PAYLOAD_CAMPAIGN_SCHEDULED,
                  campaign_scheduled, &pl);
}

int mkt_emit_expense_recorded(crm_work_t *w, Crm__V1__Expense *x, Crm__V1__Budget *b)
{
    Crm__V1__ExpenseRecorded pl = CRM__V1__EXPENSE_RECORDED__INIT;
    pl.expense = x;
    pl.budget = b;
    CRM_WORK_EMIT(w, MKT_EV_EXPENSE_RECORDED, "", CRM__V1__EVENT__PAYLOAD_EXPENSE_RECORDED,
                  expense_recorded, &pl);
}

int mkt_emit_preferences_changed(crm_work_t *w, Crm__V1__ContactPreferences *p, const char *cause)
{
    Crm__V1__PreferencesChanged pl = CRM__V1__PREFERENCES_CHANGED__INIT;
    pl.preferences = p;
    pl.cause = (char *)cause;
    CRM_WORK_EMIT(w, MKT_EV_PREFERENCES_CHANGED, p->customer_id,
                  CRM__V1__EVENT__PAYLOAD_PREFERENCES_CHANGED, preferences_changed, &pl);
}

int mkt_emit_response_recorded(crm_work_t *w, Crm__V1__CampaignResponseRecorded *r)
{
    CRM_WORK_EMIT(w, MKT_EV_RESPONSE_RECORDED, r->customer_id,
                  CRM__V1__EVENT__PAYLOAD_CAMPAIGN_RESPONSE_RECORDED, campaign_response_recorded,
                  r);
}

int mkt_emit_conversion_attributed(crm_work_t *w, Crm__V1__ConversionAttributed *c)
{
    CRM_WORK_EMIT(w, MKT_EV_CONVERSION_ATTRIBUTED, c->customer_id,
                  CRM__V1__EVENT__PAYLOAD_CONVERSION_ATTRIBUTED, conversion_attributed, c);
}

int mkt_emit_person_registered(crm_work_t *w, Crm__V1__Person *p)
{
    Crm__V1__PersonRegistered pl = CRM__V1__PERSON_REGISTERED__INIT;
    pl.person = p;
    CRM_WORK_EMIT(w, MKT_EV_PERSON_REGISTERED, p->id, CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED,
                  person_registered, &pl);
}

int mkt_emit_send_decided(crm_work_t *w, Crm__V1__SendDecided *d)
{
    CRM_WORK_EMIT(w, MKT_EV_SEND_DECIDED, d->customer_id, CRM__V1__EVENT__PAYLOAD_SEND_DECIDED,
                  send_decided, d);
}

int mkt_emit_campaign_status_changed(crm_work_t *w, Crm__V1__Campaign *c, int from)
{
    Crm__V1__CampaignStatusChanged pl = CRM__V1__CAMPAIGN_STATUS_CHANGED__INIT;
    pl.campaign = c;
    pl.from = from;
    CRM_WORK_EMIT(w, MKT_EV_CAMPAIGN_STATUS_CHANGED, "",
                  CRM__V1__EVENT__PAYLOAD_CAMPAIGN_STATUS_CHANGED, campaign_status_changed, &pl);
}

int mkt_emit_campaign_updated(crm_work_t *w, Crm__V1__Campaign *c, Crm__V1__Budget *b,
                              const char *change)
{
    Crm__V1__CampaignUpdated pl = CRM__V1__CAMPAIGN_UPDATED__INIT;
    pl.campaign = c;
    pl.budget = b;
    pl.change = (char *)change;
    CRM_WORK_EMIT(w, MKT_EV_CAMPAIGN_UPDATED, "", CRM__V1__EVENT__PAYLOAD_CAMPAIGN_UPDATED,
                  campaign_updated, &pl);
}

int mkt_emit_segment_membership(crm_work_t *w, Crm__V1__SegmentMembershipChanged *m)
{
    CRM_WORK_EMIT(w, MKT_EV_SEGMENT_MEMBERSHIP, m->customer_id,
                  CRM__V1__EVENT__PAYLOAD_SEGMENT_MEMBERSHIP_CHANGED, segment_membership_changed,
                  m);
}

int mkt_emit_delivery_recorded(crm_work_t *w, Crm__V1__DeliveryRecorded *d)
{
    CRM_WORK_EMIT(w, MKT_EV_DELIVERY_RECORDED, d->customer_id,
                  CRM__V1__EVENT__PAYLOAD_DELIVERY_RECORDED, delivery_recorded, d);
}

int mkt_emit_consent(crm_work_t *w, Crm__V1__ConsentEntry *k)
{
    if (k->granted) {
        Crm__V1__ConsentGranted pl = CRM__V1__CONSENT_GRANTED__INIT;
        pl.entry = k;
        CRM_WORK_EMIT(w, MKT_EV_CONSENT_GRANTED, k->customer_id,
                      CRM__V1__EVENT__PAYLOAD_CONSENT_GRANTED, consent_granted, &pl);
    }
    Crm__V1__ConsentWithdrawn pl = CRM__V1__CONSENT_WITHDRAWN__INIT;
    pl.entry = k;
    CRM_WORK_EMIT(w, MKT_EV_CONSENT_WITHDRAWN, k->customer_id,
                  CRM__V1__EVENT__PAYLOAD_CONSENT_WITHDRAWN, consent_withdrawn, &pl);
}

int mkt_emit_campaign_targeted(crm_work_t *w, Crm__V1__CampaignTargeted *t)
{
    CRM_WORK_EMIT(w, MKT_EV_CAMPAIGN_TARGETED, "", CRM__V1__EVENT__PAYLOAD_CAMPAIGN_TARGETED,
                  campaign_targeted, t);
}
