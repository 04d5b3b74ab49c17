/* crm-analytics: projections of every service's stream, live reports over
 * them, and the events analytics derives (issue #6). This file is wiring
 * only: the settings table, the service definition, and the data-quality
 * scan timer started in on_start. The fold and the reports are SQL
 * functions (sql/), called from store.c; commands.c lists the commands and
 * consumers, handlers/ handles them and events.c builds what analytics
 * publishes. */
#include "analytics.h"
#include "handlers/handlers.h"
#include "rules.h"

#include <crm/log.h>

#include <stdio.h>
#include <stdlib.h>

extern const crm_migration_t analytics_migrations[];

static const crm_conf_def_t s_config[] = {
    {"ANALYTICS_CHURN_THRESHOLD", CRM_CONF_INT, "70",
     "churn risk (0-100) at or above which churn_risk_raised is published, once per crossing", 0, 0,
     100},
    {"ANALYTICS_COST_PER_TICKET", CRM_CONF_INT, "2000",
     "cost to support: cost of handling one ticket (minor units)", 0, 0, 1000000000},
    {"ANALYTICS_COST_PER_HOUR", CRM_CONF_INT, "3000",
     "cost to support: cost of one hour from opening to resolution (minor units)", 0, 0,
     1000000000},
    {"ANALYTICS_POTENTIAL_LTV", CRM_CONF_STR, "EUR=1000,GBP=1000,USD=1000",
     "high sales potential: lifetime value per currency that counts as a reason"
     " (CODE=AMOUNT, comma-separated, in major units; other currencies never count)",
     0, 0, 0},
    {"ANALYTICS_SCAN_MS", CRM_CONF_INT, "60000",
     "how often the data-quality findings are scanned and new ones published (ms)", 0, 10,
     86400000},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* The scan's gate: no scan while a consumer has not applied its source's
 * head, as findings over half-applied streams would be published once and
 * never taken back (a customer not contacted only because the contact is
 * not applied yet). */
static int s_caught_up(void *arg)
{
    analytics_t *ctx = arg;
    static const char *const sources[] = {"sales", "marketing", "support"};
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
        char name[32];
        uint64_t applied = 0, head = 0;
        snprintf(name, sizeof name, "analytics.%s", sources[i]);
        if (crm_consumer_progress(ctx->svc, name, sources[i], &applied, &head) == 0 &&
            applied < head)
            return 0;
    }
    return 1;
}

/* Static storage: on_start is the first place that sees the service, and
 * the context must outlive the loop (no work or timer callback may see it
 * freed). */
static analytics_t s_analytics;

static int s_on_start(crm_service_t *svc)
{
    analytics_t *ctx = &s_analytics;
    const crm_config_t *cfg = crm_service_config(svc);
    ctx->svc = svc;
    ctx->churn_threshold = (int)crm_config_int(cfg, "ANALYTICS_CHURN_THRESHOLD");
    ctx->cost_per_ticket = crm_config_int(cfg, "ANALYTICS_COST_PER_TICKET");
    ctx->cost_per_hour = crm_config_int(cfg, "ANALYTICS_COST_PER_HOUR");
    char err[160];
    if (an_thresholds_parse(crm_config_str(cfg, "ANALYTICS_POTENTIAL_LTV"), ctx->potential_ltv,
                            sizeof ctx->potential_ltv, err, sizeof err) < 0) {
        crm_error("config.invalid", "ANALYTICS_POTENTIAL_LTV: %s", err);
        return -1;
    }
    crm_service_set_user(svc, ctx);
    uint64_t ms = (uint64_t)crm_config_int(cfg, "ANALYTICS_SCAN_MS");
    ctx->dq_scan = crm_service_scan(svc, "analytics.data_quality.scan", ms, 0, analytics_dq_scan,
                                    ctx, s_caught_up);
    if (!ctx->dq_scan) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    crm_info("analytics.start", "churn threshold %d; data-quality scan every %llu ms",
             ctx->churn_threshold, (unsigned long long)ms);
    return 0;
}

int main(int argc, char **argv)
{
    crm_service_def_t def = {
        .name = "analytics",
        .default_bind = "tcp://127.0.0.1:7440",
        .default_http_port = 9440,
        .commands = analytics_commands,
        .consumers = analytics_consumers,
        .migrations = analytics_migrations,
        .config = s_config,
        .on_start = s_on_start,
        .consumer_batch = analytics_apply_run,
        .consumer_alone = analytics_apply_alone,
    };
    return crm_service_main(&def, argc, argv);
}
