/* analytics.h: the analytics service's context and its tables of commands
 * and consumers (commands.c; the handlers are declared in
 * handlers/handlers.h).
 *
 * One analytics_t per process, set as the service's user pointer in
 * on_start. It holds the settings the handlers need (read once at start)
 * and the data-quality scan timer. Everything a work does lives in the
 * database: the projections, the event log and the ledgers of what was
 * published (sql/). */
#ifndef ANALYTICS_ANALYTICS_H
#define ANALYTICS_ANALYTICS_H

#include <crm/service.h>
#include <stdint.h>
#include <uv.h>

/* Most data-quality findings published by one scan (one transaction); a
 * full scan is followed by another at once. */
#define AN_DQ_BATCH 200

typedef struct {
    crm_service_t *svc;
    int churn_threshold;      /* ANALYTICS_CHURN_THRESHOLD, 0-100 */
    int64_t cost_per_ticket;  /* ANALYTICS_COST_PER_TICKET */
    int64_t cost_per_hour;    /* ANALYTICS_COST_PER_HOUR */
    char potential_ltv[1024]; /* ANALYTICS_POTENTIAL_LTV as {"EUR": minor, ...} */
    crm_scan_t *dq_scan;      /* data-quality findings (crm_service_scan) */
} analytics_t;

/* Commands ("analytics.<entity>.<verb>") and consumers (one per source),
 * for the service definition; both tables end with a NULL name. */
extern const crm_command_def_t analytics_commands[];
extern const crm_consumer_def_t analytics_consumers[];

/* The data-quality scan, run through crm_service_submit with the
 * analytics_t as its argument: publishes data_quality.issue_found for
 * findings not published before, at most AN_DQ_BATCH, and calls crm_scan_more
 * when there may be more. */
void analytics_dq_scan(crm_work_t *w);

#endif
