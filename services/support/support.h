/* support.h: the support service's context and its tables of commands and
 * consumers (commands.c; the handlers are declared in handlers/handlers.h).
 *
 * One support_t per process, set as the service's user pointer in
 * on_start; it holds the settings handlers need and the SLA-scan timer.
 * Handlers keep no state in it across works: everything lives in the
 * database (a work may run more than once). */
#ifndef SUPPORT_SUPPORT_H
#define SUPPORT_SUPPORT_H

#include <crm/service.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Most tickets one SLA scan handles (one transaction); a full scan is
 * followed by another at once. */
#define SUPPORT_SLA_BATCH 200

/* Most reply mails one pump pass sends. */
#define SUPPORT_MAIL_BATCH 20

/* One reply mail on its way (reply_mail.c). */
typedef struct {
    char *id, *to, *raw;
    int ok;
    char error[256];
} support_mail_out_t;

typedef struct {
    crm_service_t *svc;
    /* SUPPORT_AGENTS, split at commas (owned, freed by main); none = any
     * assignee is accepted. */
    char **agents;
    size_t n_agents;
    /* SUPPORT_TEAMS likewise, for the team of a ticket. */
    char **teams;
    size_t n_teams;
    crm_scan_t *sla_scan; /* SLA instants that fell due (crm_service_scan) */
    /* Agents' replies by mail (reply_mail.c): the settings, and the batch
     * a pool thread sends (touched by one job at a time: mail_busy). */
    const char *smtp_url;  /* SUPPORT_SMTP_URL; "" = replies stay queued */
    const char *mail_from; /* SUPPORT_MAIL_FROM */
    int mail_busy;
    uv_work_t mail_job;
    support_mail_out_t mail[SUPPORT_MAIL_BATCH];
    size_t n_mail;
    char *mail_outcomes;
} support_t;

/* Commands ("support.<entity>.<verb>") and consumers; both end with a NULL
 * name. */
extern const crm_command_def_t support_commands[];
extern const crm_consumer_def_t support_consumers[];
extern const crm_command_keys_t support_command_keys[];
extern const crm_command_batch_t support_command_batches[];

/* The SLA-scan work, run through crm_service_submit with the support_t as
 * its argument: raises sla.at_risk and sla.breached, once each per ticket
 * and target, for targets whose instant has passed while their clock ran
 * (also when the service was down at that instant). */
void support_sla_scan(crm_work_t *w);

#endif
