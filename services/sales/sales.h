/* sales.h: the sales service's context, its tables and its handlers.
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
    int coalesce_hours; /* SALES_FOLLOWUP_COALESCE_HOURS; 0 = never */
    /* SALES_DATA_QUALITY_OWNER: who gets a data-quality task when the
     * record names no owner (points into the service's configuration). */
    const char *dq_owner;
    /* SALES_RENEWAL_NOTICE_DAYS: a subscription's renewal task falls due
     * this many days before the renewal date. */
    int renewal_notice_days;
    /* SALES_DEFAULT_CURRENCY, validated. */
    char currency[4];
    /* The due scan: a repeating timer that submits sales_due_scan. */
    crm_scan_t *due_scan; /* activities that fell due (crm_service_scan) */
} sales_t;

/* Commands ("sales.<entity>.<verb>") and consumers, for the service
 * definition (commands.c); both tables end with a NULL name. */
extern const crm_command_def_t sales_commands[];
extern const crm_consumer_def_t sales_consumers[];
extern const crm_command_keys_t sales_command_keys[];
extern const crm_command_batch_t sales_command_batches[];

/* The handlers the tables name, one file per aggregate in handlers/. Each
 * runs as a work: it answers or fails the work, at once or from a
 * continuation (crm/service.h). */

/* handlers/person.c; sales_people_apply consumes other services' person
 * events. */
void sales_person_register(crm_work_t *w);
/* Its set-based form (crm_command_batch_fn). */
void sales_person_register_run(crm_work_t *const *works, size_t n);
void sales_person_show(crm_work_t *w);
void sales_person_update(crm_work_t *w);
void sales_person_list(crm_work_t *w);
void sales_people_apply(crm_work_t *w);
/* handlers/erasure.c */
void sales_person_erase(crm_work_t *w);
void sales_person_export(crm_work_t *w);
void sales_person_merge_cmd(crm_work_t *w);

/* handlers/org.c */
void sales_org_create(crm_work_t *w);
void sales_org_show(crm_work_t *w);
void sales_org_list(crm_work_t *w);

/* handlers/lead.c and handlers/lead_convert.c */
void sales_lead_create(crm_work_t *w);
void sales_lead_qualify(crm_work_t *w);
void sales_lead_disqualify(crm_work_t *w);
void sales_lead_list(crm_work_t *w);
void sales_lead_convert(crm_work_t *w);

/* handlers/pipeline.c */
void sales_pipeline_create(crm_work_t *w);
void sales_pipeline_list(crm_work_t *w);

/* handlers/deal.c */
void sales_deal_create(crm_work_t *w);
void sales_deal_stage(crm_work_t *w);
void sales_deal_win(crm_work_t *w);
void sales_deal_lose(crm_work_t *w);
void sales_deal_show(crm_work_t *w);
void sales_deal_list(crm_work_t *w);

/* handlers/order.c */
void sales_order_create(crm_work_t *w);
/* Its set-based form (crm_command_batch_fn). */
void sales_order_create_run(crm_work_t *const *works, size_t n);
void sales_order_list(crm_work_t *w);
void sales_order_refund(crm_work_t *w);
void sales_stage_rename(crm_work_t *w);
void sales_stage_add(crm_work_t *w);
void sales_stage_move(crm_work_t *w);
void sales_stage_probability(crm_work_t *w);
void sales_order_cancel(crm_work_t *w);

/* handlers/subscription.c */
void sales_subscription_create(crm_work_t *w);
void sales_subscription_change(crm_work_t *w);
void sales_subscription_renew(crm_work_t *w);
void sales_subscription_cancel(crm_work_t *w);
void sales_subscription_show(crm_work_t *w);
void sales_subscription_list(crm_work_t *w);

/* handlers/activity.c */
void sales_activity_log(crm_work_t *w);
/* Its set-based form (crm_command_batch_fn). */
void sales_activity_log_run(crm_work_t *const *works, size_t n);
void sales_activity_schedule(crm_work_t *w);
void sales_activity_complete(crm_work_t *w);
void sales_activity_list(crm_work_t *w);
/* Consumes marketing's preferences.changed and consent.granted/withdrawn:
 * the opt-outs and withdrawn consents that scheduling obeys. */
void sales_preferences_apply(crm_work_t *w);

/* handlers/followup.c: the consumers of other services' signals. */
void sales_intent_apply(crm_work_t *w);
void sales_risk_apply(crm_work_t *w);
void sales_quality_apply(crm_work_t *w);

/* The due-scan work (handlers/activity.c), run through crm_service_submit with the sales_t as its
 * argument: announces (activity.due) scheduled activities that fell due,
 * at most SALES_DUE_BATCH, and calls crm_scan_more when there may be more. */
void sales_due_scan(crm_work_t *w);

#endif
