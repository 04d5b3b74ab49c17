/* events.h: the events analytics derives and publishes itself: a
 * customer's health changed, its churn risk crossed the threshold, a
 * data-quality finding. (What it consumes is every other service's stream,
 * handed to the database as JSON by handlers/fold.c.)
 *
 * Each emitter wraps its payload in an Event of the right type with the
 * customer id as subject and queues it in the work's transaction; it
 * returns 0, or -1 when the event could not be queued (the caller fails
 * the work). The strings passed in must live until the work ends. */
#ifndef ANALYTICS_EVENTS_H
#define ANALYTICS_EVENTS_H

#include <crm/service.h>

#include "rules.h"

#define ANALYTICS_EV_HEALTH_CHANGED "crm.analytics.customer.health_changed.v1"
#define ANALYTICS_EV_CHURN_RISK_RAISED "crm.analytics.customer.churn_risk_raised.v1"
#define ANALYTICS_EV_ISSUE_FOUND "crm.analytics.data_quality.issue_found.v1"
#define ANALYTICS_EV_DQ_RESOLVED "crm.analytics.data_quality.resolved.v1"

/* customer.health_changed: old_score to h's score, with h's reasons. */
int analytics_emit_health_changed(crm_work_t *w, const char *customer, int old_score,
                                  const an_health_t *h);

/* customer.churn_risk_raised: h's churn risk, with h's reasons. */
int analytics_emit_churn_risk_raised(crm_work_t *w, const char *customer, const an_health_t *h);

/* data_quality.issue_found: one finding of the scan. */
/* A duplicate finding resolved by staff (subject: the suspect). */
int analytics_emit_dq_resolved(crm_work_t *w, Crm__V1__DataQualityResolved *r);
int analytics_emit_issue_found(crm_work_t *w, const char *kind, const char *record_id,
                               const char *customer_id, const char *owning_team,
                               const char *detail);

#endif
