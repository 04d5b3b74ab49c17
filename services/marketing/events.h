/* events.h: protobuf in and out for marketing.
 *
 * The store returns each record as one JSON object keyed by the field
 * names of its crm.v1 message (store.h); crm_work_record turns it into
 * the message. The emitters wrap a payload in an Event of the right type
 * and subject (the customer id when there is one).
 *
 * Memory: every message built here lives in the work's arena (never free
 * it, never pass it to *_free_unpacked); it is valid until the work ends. */
#ifndef MKT_EVENTS_H
#define MKT_EVENTS_H

#include <crm/service.h>

#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/sales.pb-c.h"
#include "crm/v1/support.pb-c.h"

/* Event types marketing publishes. */
#define MKT_EV_CAMPAIGN_CREATED "crm.marketing.campaign.created.v1"
#define MKT_EV_CAMPAIGN_SCHEDULED "crm.marketing.campaign.scheduled.v1"
#define MKT_EV_EXPENSE_RECORDED "crm.marketing.expense.recorded.v1"
#define MKT_EV_PREFERENCES_CHANGED "crm.marketing.preferences.changed.v1"
#define MKT_EV_RESPONSE_RECORDED "crm.marketing.response.recorded.v1"
#define MKT_EV_CONVERSION_ATTRIBUTED "crm.marketing.conversion.attributed.v1"
#define MKT_EV_PERSON_REGISTERED "crm.marketing.person.registered.v1"
#define MKT_EV_SEND_DECIDED "crm.marketing.send.decided.v1"
#define MKT_EV_SEGMENT_MEMBERSHIP "crm.marketing.segment.membership_changed.v1"
#define MKT_EV_DELIVERY_RECORDED "crm.marketing.delivery.recorded.v1"
#define MKT_EV_CAMPAIGN_TARGETED "crm.marketing.campaign.targeted.v1"
#define MKT_EV_CAMPAIGN_STATUS_CHANGED "crm.marketing.campaign.status_changed.v1"
#define MKT_EV_CAMPAIGN_UPDATED "crm.marketing.campaign.updated.v1"
#define MKT_EV_CONSENT_GRANTED "crm.marketing.consent.granted.v1"
#define MKT_EV_CONSENT_WITHDRAWN "crm.marketing.consent.withdrawn.v1"

/* Emitters: 0, or negative with the work already failed (crm_work_emit). */
int mkt_emit_campaign_created(crm_work_t *w, Crm__V1__Campaign *c);
int mkt_emit_campaign_scheduled(crm_work_t *w, Crm__V1__Campaign *c);
int mkt_emit_expense_recorded(crm_work_t *w, Crm__V1__Expense *x, Crm__V1__Budget *b);
int mkt_emit_preferences_changed(crm_work_t *w, Crm__V1__ContactPreferences *p, const char *cause);
int mkt_emit_response_recorded(crm_work_t *w, Crm__V1__CampaignResponseRecorded *r);
int mkt_emit_conversion_attributed(crm_work_t *w, Crm__V1__ConversionAttributed *c);
int mkt_emit_person_registered(crm_work_t *w, Crm__V1__Person *p);
int mkt_emit_send_decided(crm_work_t *w, Crm__V1__SendDecided *d);
int mkt_emit_segment_membership(crm_work_t *w, Crm__V1__SegmentMembershipChanged *m);
int mkt_emit_delivery_recorded(crm_work_t *w, Crm__V1__DeliveryRecorded *d);
int mkt_emit_campaign_targeted(crm_work_t *w, Crm__V1__CampaignTargeted *t);
int mkt_emit_campaign_status_changed(crm_work_t *w, Crm__V1__Campaign *c, int from);
int mkt_emit_campaign_updated(crm_work_t *w, Crm__V1__Campaign *c, Crm__V1__Budget *b,
                              const char *change);
/* consent.granted or consent.withdrawn, by k->granted. */
int mkt_emit_consent(crm_work_t *w, Crm__V1__ConsentEntry *k);

#endif
