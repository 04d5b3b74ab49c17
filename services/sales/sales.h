/* sales.h: the sales service's context and its tables of handlers.
 *
 * One sales_t per process, owned by main() and set as the service's user
 * pointer in on_start; handlers reach it through crm_service_user(). It
 * holds the settings handlers need (read once at start) and the due-scan
 * timer. Handlers never keep state in it across works: everything a work
 * does lives in the database (a work may run more than once). */
#ifndef SALES_SALES_H
#define SALES_SALES_H

#include <crm/service.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Most activities announced by one due scan (one transaction); a full scan
 * is followed by another at once. */
#define SALES_DUE_BATCH 200

typedef struct {
    crm_service_t *svc;
    /* SALES_LEAD_OWNERS, split at commas (owned, freed by main). */
    char **lead_owners;
    size_t n_lead_owners;
    /* SALES_FOLLOWUP_HOURS, in microseconds. */
    int64_t followup_us;
    /* SALES_DATA_QUALITY_OWNER: who gets a data-quality task when the
     * record names no owner (points into the service's configuration). */
    const char *dq_owner;
    /* SALES_DEFAULT_CURRENCY, validated. */
    char currency[4];
    /* The due scan: a repeating timer that submits sales_due_scan. */
    int due_running; /* a scan is queued or running */
    int due_full;    /* the last scan found a full batch */
} sales_t;

/* Commands ("sales.<entity>.<verb>") and consumers, for the service
 * definition; both tables end with a NULL name. */
extern const crm_command_def_t sales_commands[];
extern const crm_consumer_def_t sales_consumers[];

/* The due-scan work, run through crm_service_submit with the sales_t as its
 * argument: announces (activity.due) scheduled activities that fell due,
 * at most SALES_DUE_BATCH, and sets due_full when there may be more. */
void sales_due_scan(crm_work_t *w);

#endif
