/* crm-support: tickets from any channel, their conversation, SLAs in
 * business hours, resolutions and satisfaction (issue #5). This file is
 * wiring only: the settings table, the service definition, and the SLA
 * scan timer started in on_start. The commands and consumers are listed in
 * commands.c and handled in handlers/, the rules are in rules.c, the SQL in
 * store.c. */
#include "support.h"

#include "reply_mail.h"

#include "rules.h"

#include <crm/log.h>

#include <curl/curl.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

extern const crm_migration_t support_migrations[];

static const crm_conf_def_t s_config[] = {
    {"SUPPORT_SLA_SCAN_MS", CRM_CONF_INT, "1000",
     "how often tickets are checked for SLA instants that passed (ms)", 0, 10, 3600000},
    {"SUPPORT_AGENTS", CRM_CONF_STR, "",
     "agents tickets may be assigned to, comma-separated; empty: anyone", 0, 0, 0},
    {"SUPPORT_TEAMS", CRM_CONF_STR, "",
     "teams tickets may be given to, comma-separated; empty: any team", 0, 0, 0},
    {"SUPPORT_SMTP_URL", CRM_CONF_STR, "",
     "SMTP relay agents' replies are mailed through, smtp://host:port (empty: they stay queued)", 1,
     0, 0},
    {"SUPPORT_MAIL_FROM", CRM_CONF_STR, "support@localhost",
     "the help desk's address: From of agents' replies, and the domain of their Message-IDs", 0, 0,
     0},
    {"SUPPORT_MAIL_SCAN_MS", CRM_CONF_INT, "1000", "how often queued reply mails are sent (ms)", 0,
     10, 3600000},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* Static storage: the context outlives the loop, so no work or timer
 * callback can see it freed. */
static support_t s_support;

static int s_on_start(crm_service_t *svc)
{
    support_t *ctx = &s_support;
    ctx->svc = svc;
    const crm_config_t *conf = crm_service_config(svc);
    if (crm_config_list(conf, "SUPPORT_AGENTS", &ctx->agents, &ctx->n_agents) < 0 ||
        crm_config_list(conf, "SUPPORT_TEAMS", &ctx->teams, &ctx->n_teams) < 0) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    ctx->smtp_url = crm_config_str(conf, "SUPPORT_SMTP_URL");
    ctx->mail_from = crm_config_str(conf, "SUPPORT_MAIL_FROM");
    if (*ctx->smtp_url && strncmp(ctx->smtp_url, "smtp://", 7) &&
        strncmp(ctx->smtp_url, "smtps://", 8)) {
        crm_error("config.invalid", "SUPPORT_SMTP_URL: not an smtp:// or smtps:// URL");
        return -1;
    }
    if (strpbrk(ctx->mail_from, "\r\n<>") || !strchr(ctx->mail_from, '@')) {
        crm_error("config.invalid", "SUPPORT_MAIL_FROM: not a plain address");
        return -1;
    }
    crm_service_set_user(svc, ctx);
    if (crm_service_every(svc, (uint64_t)crm_config_int(conf, "SUPPORT_MAIL_SCAN_MS"), 0,
                          support_reply_mail_pump, ctx) < 0) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    uint64_t ms = (uint64_t)crm_config_int(crm_service_config(svc), "SUPPORT_SLA_SCAN_MS");
    /* The first scan at once: instants that passed while the service was
     * down are raised right after a restart. */
    ctx->sla_scan = crm_service_scan(svc, "support.sla.scan", ms, CRM_EVERY_AT_START,
                                     support_sla_scan, ctx, NULL);
    if (!ctx->sla_scan) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    crm_info("support.start", "SLA scan every %llu ms; %zu agents%s; %zu teams%s",
             (unsigned long long)ms, ctx->n_agents, ctx->n_agents ? "" : " (any assignee accepted)",
             ctx->n_teams, ctx->n_teams ? "" : " (any team accepted)");
    return 0;
}

int main(int argc, char **argv)
{
    crm_service_def_t def = {
        .name = "support",
        .default_bind = "tcp://127.0.0.1:7430",
        .default_http_port = 9430,
        .commands = support_commands,
        .consumers = support_consumers,
        .migrations = support_migrations,
        .config = s_config,
        .on_start = s_on_start,
        .command_keys = support_command_keys,
        /* SUPPORT_SET=0: support.ticket.open one ticket at a time, as
         * before its set-based form (the bench compares the two, and the
         * tests check that they answer alike). */
        .command_batches = getenv("SUPPORT_SET") && !strcmp(getenv("SUPPORT_SET"), "0")
                               ? NULL
                               : support_command_batches,
    };
    /* Before any thread exists (libcurl's rule). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    int rc = crm_service_main(&def, argc, argv);
    support_reply_mail_close(&s_support);
    curl_global_cleanup();
    crm_config_list_free(&s_support.agents, s_support.n_agents);
    crm_config_list_free(&s_support.teams, s_support.n_teams);
    return rc;
}
