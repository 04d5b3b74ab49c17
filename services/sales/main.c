/* crm-sales: people and organisations, leads, pipelines and deals, orders
 * and activities (issue #3). This file is wiring only: the settings table,
 * the service definition, and the due-scan timer started in on_start. The
 * surface is in commands.c, the rules in handlers/ and rules.c, the SQL in
 * store/. */
#include "sales.h"

#include "rules.h"

#include <crm/log.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const crm_migration_t sales_migrations[];

static const crm_conf_def_t s_config[] = {
    {"SALES_DUE_SCAN_MS", CRM_CONF_INT, "1000",
     "how often scheduled activities are checked for falling due (ms)", 0, 10, 3600000},
    {"SALES_LEAD_OWNERS", CRM_CONF_STR, "",
     "owners of leads from campaign responses, comma-separated, assigned round-robin", 0, 0, 0},
    {"SALES_FOLLOWUP_HOURS", CRM_CONF_INT, "24",
     "hours until the follow-up task of a churn risk, complaint or data-quality finding falls due",
     0, 0, 8760},
    {"SALES_FOLLOWUP_COALESCE_HOURS", CRM_CONF_INT, "24",
     "a complaint or churn-risk follow-up for a customer and owner who have an open one made"
     " within these hours is added to it instead of making another task (0 = never)",
     0, 0, 8760},
    {"SALES_DATA_QUALITY_OWNER", CRM_CONF_STR, "data-quality",
     "owner of data-quality tasks whose record names no owner (a shared queue)", 0, 0, 0},
    {"SALES_RENEWAL_NOTICE_DAYS", CRM_CONF_INT, "14",
     "days before a subscription's renewal date that its owner's renewal task falls due", 0, 0,
     366},
    {"SALES_DEFAULT_CURRENCY", CRM_CONF_STR, "EUR",
     "currency of deals and orders that name none (ISO 4217)", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* The context has static storage because on_start is the first place that
 * sees the service; it outlives the loop, so no work or timer callback can
 * see it freed. main() frees what it owns after the service returns. */
static sales_t s_sales;

static int s_on_start(crm_service_t *svc)
{
    sales_t *ctx = &s_sales;
    const crm_config_t *cfg = crm_service_config(svc);
    sales_err_t e;
    ctx->svc = svc;
    ctx->followup_us = crm_config_int(cfg, "SALES_FOLLOWUP_HOURS") * 3600LL * 1000000LL;
    ctx->coalesce_hours = (int)crm_config_int(cfg, "SALES_FOLLOWUP_COALESCE_HOURS");
    ctx->renewal_notice_days = (int)crm_config_int(cfg, "SALES_RENEWAL_NOTICE_DAYS");
    ctx->dq_owner = crm_config_str(cfg, "SALES_DATA_QUALITY_OWNER");
    if (sales_check_currency(crm_config_str(cfg, "SALES_DEFAULT_CURRENCY"), ctx->currency,
                             "SALES_DEFAULT_CURRENCY", &e) < 0 ||
        !ctx->currency[0]) {
        crm_error("config.invalid", "SALES_DEFAULT_CURRENCY: %s: %s", e.message, e.detail);
        return -1;
    }
    if (crm_config_list(cfg, "SALES_LEAD_OWNERS", &ctx->lead_owners, &ctx->n_lead_owners) < 0) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    crm_service_set_user(svc, ctx);
    uint64_t ms = (uint64_t)crm_config_int(cfg, "SALES_DUE_SCAN_MS");
    ctx->due_scan =
        crm_service_scan(svc, "sales.activity.due_scan", ms, 0, sales_due_scan, ctx, NULL);
    if (!ctx->due_scan) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    crm_info("sales.start", "%zu lead owners; due scan every %llu ms; follow-ups after %lld h",
             ctx->n_lead_owners, (unsigned long long)ms,
             (long long)crm_config_int(cfg, "SALES_FOLLOWUP_HOURS"));
    return 0;
}

int main(int argc, char **argv)
{
    crm_service_def_t def = {
        .name = "sales",
        .default_bind = "tcp://127.0.0.1:7410",
        .default_http_port = 9410,
        .commands = sales_commands,
        .consumers = sales_consumers,
        .migrations = sales_migrations,
        .config = s_config,
        .on_start = s_on_start,
        .command_keys = sales_command_keys,
        /* SALES_SET=0: every command through its one-command statements, as
         * before the set-based forms (bench, and the tests comparing both). */
        .command_batches =
            getenv("SALES_SET") && !strcmp(getenv("SALES_SET"), "0") ? NULL : sales_command_batches,
    };
    int rc = crm_service_main(&def, argc, argv);
    crm_config_list_free(&s_sales.lead_owners, s_sales.n_lead_owners);
    return rc;
}
