/* handlers/handlers.h: what analytics' handler files share, private to
 * them and to commands.c (the service sees only analytics.h).
 *
 * One file per aggregate: fold.c (the consumers: every event into the
 * projections, health scored and published), report.c (the reports and
 * the engine they and the customer views share), customer.c (customer 360:
 * show, timeline), data_quality.c (the scan and its command), rebuild.c
 * (rebuild, status); shared.c holds the context accessor and the health
 * helpers the fold and the reports both use. */
#ifndef ANALYTICS_HANDLERS_H
#define ANALYTICS_HANDLERS_H

#include "analytics.h"

#include "rules.h"

#include <crm/service.h>

#include <jansson.h>
#include <stdint.h>

#include "crm/v1/analytics.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define S_NOT_FOUND CRM__V1__STATUS_CODE__STATUS_CODE_NOT_FOUND
#define S_INTERNAL CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL

/* ---- shared.c ------------------------------------------------------------------ */

/* The service's context (the user pointer set in on_start). */
analytics_t *analytics_ctx(crm_work_t *w);

/* o[key] as an integer, 0 when absent or not an integer. */
int64_t analytics_json_int(const json_t *o, const char *key);

/* Health inputs as an_health_inputs returns them (sql/0002_apply.sql). */
void analytics_health_inputs(const json_t *o, an_health_in_t *in);

/* The reasons as a JSON array (a new reference, or NULL on ENOMEM). */
json_t *analytics_health_reasons(const an_health_t *h);

/* ---- report.c: the engine of every report ------------------------------------- */

/* What a report needs done to the document the database returned. */
typedef enum {
    ANALYTICS_POST_NONE,      /* nothing: passed on as it is */
    ANALYTICS_POST_HEALTH,    /* health_inputs -> health, churn_risk, health_reasons */
    ANALYTICS_POST_WORST,     /* ... then customers by health, lowest first */
    ANALYTICS_POST_POTENTIAL, /* ... then the high-potential rule */
} analytics_post_t;

/* Checks the fields every report shares; fills *q_out and *at_us (0 =
 * now). Returns 0, or fails the work and returns -1. */
int analytics_report_query(crm_work_t *w, const Crm__V1__AnalyticsQuery **q_out, int64_t *at_us);

/* Sets the work's report state: the NOT_FOUND message when the database
 * returns no document (NULL: never), the id it names, and the post step.
 * Returns 0, or fails the work (out of memory) and returns -1. */
int analytics_report_state(crm_work_t *w, const char *not_found, const char *id,
                           analytics_post_t post);

/* The store's callback of every report: answers the document after its
 * post step. */
void analytics_report_done(crm_work_t *w, PGresult *res);

/* ---- the commands (commands.c lists them) ------------------------------------- */

void analytics_customer_show(crm_work_t *w);
void analytics_customer_timeline(crm_work_t *w);

void analytics_report_kpis(crm_work_t *w);
void analytics_report_health(crm_work_t *w);
void analytics_report_potential(crm_work_t *w);
void analytics_report_pipeline(crm_work_t *w);
void analytics_report_forecast(crm_work_t *w);
void analytics_report_weekly(crm_work_t *w);
void analytics_report_campaigns(crm_work_t *w);
void analytics_report_data_quality(crm_work_t *w);
void analytics_report_trends(crm_work_t *w);
void analytics_report_channels(crm_work_t *w);

/* analytics.data_quality.scan: the scan of analytics_dq_scan, asked for by
 * an operator. */
void analytics_dq_scan_cmd(crm_work_t *w);
void analytics_dq_resolve(crm_work_t *w);

void analytics_rebuild(crm_work_t *w);
void analytics_status(crm_work_t *w);

/* ---- the consumer -------------------------------------------------------------- */

/* Every event of every source, folded into the projections. */
void analytics_apply(crm_work_t *w);
/* The same for a run of a batch's events: two statements for the run
 * (crm_service_def_t.consumer_batch), except the events for which
 * analytics_apply_alone is true (an erasure rewrites what was recorded
 * first), which go through analytics_apply. */
void analytics_apply_run(crm_work_t *const *works, size_t n);
int analytics_apply_alone(const Crm__V1__Event *ev);

/* handlers/erasure.c: person.erased, before it is folded; `next` folds
 * it once the recorded events and projections are erased. */
void analytics_person_erased(crm_work_t *w, crm_work_fn next);
/* analytics.person.export */
void analytics_person_export(crm_work_t *w);

#endif
