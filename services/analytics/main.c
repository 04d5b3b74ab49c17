/* crm-analytics: projections of every service's stream, live reports over
 * them, and the events analytics derives (issue #6). This file is wiring
 * only: the settings table, the service definition, and the data-quality
 * scan timer started in on_start. The fold and the reports are SQL
 * functions (sql/), called from store.c; commands.c lists the commands and
 * consumers, handlers/ handles them and events.c builds what analytics
 * publishes. */
#include "analytics.h"

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
    {"ANALYTICS_POTENTIAL_LTV", CRM_CONF_INT, "100000",
     "high sales potential: lifetime value that counts as a reason (minor units)", 0, 0,
     1000000000000},
    {"ANALYTICS_SCAN_MS", CRM_CONF_INT, "60000",
     "how often the data-quality findings are scanned and new ones published (ms)", 0, 10,
     86400000},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

static void s_scan_done(crm_service_t *svc, int status, void *arg);

/* True while a consumer has not applied its source's head: findings over
 * half-applied streams would be published once and never taken back (a
 * customer not contacted only because the contact is not applied yet). */
static int s_behind(analytics_t *ctx)
{
    static const char *const sources[] = {"sales", "marketing", "support"};
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
        char name[32];
        uint64_t applied = 0, head = 0;
        snprintf(name, sizeof name, "analytics.%s", sources[i]);
        if (crm_consumer_progress(ctx->svc, name, sources[i], &applied, &head) == 0 &&
            applied < head)
            return 1;
    }
    return 0;
}

static void s_scan_submit(analytics_t *ctx)
{
    if (ctx->scan_running || s_behind(ctx))
        return;
    ctx->scan_full = 0;
    if (crm_service_submit(ctx->svc, "analytics.data_quality.scan", analytics_dq_scan, ctx,
                           s_scan_done) == 0)
        ctx->scan_running = 1;
}

static void s_scan_done(crm_service_t *svc, int status, void *arg)
{
    (void)svc;
    analytics_t *ctx = arg;
    ctx->scan_running = 0;
    /* A full batch: there may be more findings right now. */
    if (status == 0 && ctx->scan_full)
        s_scan_submit(ctx);
}

static void s_on_scan_timer(uv_timer_t *t)
{
    s_scan_submit(t->data);
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
    ctx->potential_ltv = crm_config_int(cfg, "ANALYTICS_POTENTIAL_LTV");
    crm_service_set_user(svc, ctx);
    uv_timer_init(crm_service_loop(svc), &ctx->scan_timer);
    ctx->scan_timer.data = ctx;
    ctx->scan_timer_live = 1;
    uint64_t ms = (uint64_t)crm_config_int(cfg, "ANALYTICS_SCAN_MS");
    uv_timer_start(&ctx->scan_timer, s_on_scan_timer, ms, ms);
    crm_info("analytics.start", "churn threshold %d; data-quality scan every %llu ms",
             ctx->churn_threshold, (unsigned long long)ms);
    return 0;
}

static void s_on_stop(crm_service_t *svc)
{
    (void)svc;
    analytics_t *ctx = &s_analytics;
    if (ctx->scan_timer_live) {
        uv_timer_stop(&ctx->scan_timer);
        uv_close((uv_handle_t *)&ctx->scan_timer, NULL);
        ctx->scan_timer_live = 0;
    }
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
        .on_stop = s_on_stop,
    };
    return crm_service_main(&def, argc, argv);
}
