/* events.c: the events analytics publishes (see events.h), built in one
 * place so that their types and subjects are not spread over the
 * handlers. The payloads live on the stack: crm_work_emit serialises the
 * event before it returns. */
#include "events.h"

#include "crm/v1/analytics.pb-c.h"

#define S_CASE(x) CRM__V1__EVENT__PAYLOAD_##x

int analytics_emit_health_changed(crm_work_t *w, const char *customer, int old_score,
                                  const an_health_t *h)
{
    char *r[AN_HEALTH_REASONS];
    for (size_t i = 0; i < h->n_reasons; i++)
        r[i] = (char *)h->reasons[i];
    Crm__V1__HealthChanged hc = CRM__V1__HEALTH_CHANGED__INIT;
    hc.customer_id = (char *)customer;
    hc.old_score = old_score;
    hc.new_score = h->score;
    hc.n_reasons = h->n_reasons;
    hc.reasons = r;
    CRM_WORK_EMIT(w, ANALYTICS_EV_HEALTH_CHANGED, customer, S_CASE(HEALTH_CHANGED), health_changed,
                  &hc);
}

int analytics_emit_churn_risk_raised(crm_work_t *w, const char *customer, const an_health_t *h)
{
    char *r[AN_HEALTH_REASONS];
    for (size_t i = 0; i < h->n_reasons; i++)
        r[i] = (char *)h->reasons[i];
    Crm__V1__ChurnRiskRaised cr = CRM__V1__CHURN_RISK_RAISED__INIT;
    cr.customer_id = (char *)customer;
    cr.score = h->churn_risk;
    cr.n_reasons = h->n_reasons;
    cr.reasons = r;
    CRM_WORK_EMIT(w, ANALYTICS_EV_CHURN_RISK_RAISED, customer, S_CASE(CHURN_RISK_RAISED),
                  churn_risk_raised, &cr);
}

int analytics_emit_issue_found(crm_work_t *w, const char *kind, const char *record_id,
                               const char *customer_id, const char *owning_team, const char *detail)
{
    Crm__V1__DataQualityIssueFound f = CRM__V1__DATA_QUALITY_ISSUE_FOUND__INIT;
    f.kind = (char *)kind;
    f.record_id = (char *)record_id;
    f.customer_id = (char *)customer_id;
    f.owning_team = (char *)owning_team;
    f.detail = (char *)detail;
    CRM_WORK_EMIT(w, ANALYTICS_EV_ISSUE_FOUND, customer_id, S_CASE(DATA_QUALITY_ISSUE_FOUND),
                  data_quality_issue_found, &f);
}

int analytics_emit_dq_resolved(crm_work_t *w, Crm__V1__DataQualityResolved *r)
{
    CRM_WORK_EMIT(w, ANALYTICS_EV_DQ_RESOLVED, r->record_id, S_CASE(DATA_QUALITY_RESOLVED),
                  data_quality_resolved, r);
}
