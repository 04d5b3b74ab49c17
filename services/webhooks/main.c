/* crm-webhooks: every event of the four streams, POSTed to the URLs that
 * subscribed to its type, signed as the Standard Webhooks specification
 * says (issue #16). This file is wiring only: the settings, the service
 * definition, and starting and stopping the delivery engine (pump.c). The
 * queue lives in the service's database (sql/), filled by the consumers
 * in the transaction of their positions. */
#include "webhooks.h"

#include <crm/log.h>

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

extern const crm_migration_t webhooks_migrations[];

static const crm_conf_def_t s_config[] = {
    {"CRM_WEBHOOK_MAX_IN_FLIGHT", CRM_CONF_INT, "64",
     "most requests in flight at once (one per subscription at a time)", 0, 1, 10000},
    {"CRM_WEBHOOK_BATCH", CRM_CONF_INT, "32",
     "deliveries of one subscription claimed at once and sent one after another", 0, 1, 1000},
    {"CRM_WEBHOOK_TIMEOUT_MS", CRM_CONF_INT, "10000",
     "how long one request may take, connection included (ms)", 0, 100, 600000},
    {"CRM_WEBHOOK_BACKOFF_BASE_MS", CRM_CONF_INT, "1000",
     "retry delay after the first failure, doubled after each (ms, full jitter)", 0, 1, 86400000},
    {"CRM_WEBHOOK_BACKOFF_CAP_MS", CRM_CONF_INT, "3600000", "longest retry delay (ms)", 0, 1,
     604800000},
    {"CRM_WEBHOOK_DISABLE_AFTER", CRM_CONF_INT, "259200",
     "a subscription failing without a success for this long is disabled (s)", 0, 1, 31536000},
    {"CRM_WEBHOOK_POLL_MS", CRM_CONF_INT, "1000",
     "how often the queue is looked at besides the wake-ups (ms)", 0, 10, 3600000},
    {"CRM_WEBHOOK_JITTER_SEED", CRM_CONF_INT, "0",
     "fixes the retry jitter's draws (tests); 0 = random", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* Static storage: the context must outlive the loop (no callback may see
 * it freed). */
static wh_t s_wh;

static int s_on_start(crm_service_t *svc)
{
    wh_t *ctx = &s_wh;
    const crm_config_t *cfg = crm_service_config(svc);
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        crm_error("service.start", "libsodium or libcurl could not start");
        return -1;
    }
    ctx->svc = svc;
    ctx->max_in_flight = (int)crm_config_int(cfg, "CRM_WEBHOOK_MAX_IN_FLIGHT");
    ctx->batch = (int)crm_config_int(cfg, "CRM_WEBHOOK_BATCH");
    ctx->base_ms = crm_config_int(cfg, "CRM_WEBHOOK_BACKOFF_BASE_MS");
    ctx->cap_ms = crm_config_int(cfg, "CRM_WEBHOOK_BACKOFF_CAP_MS");
    ctx->disable_us = crm_config_int(cfg, "CRM_WEBHOOK_DISABLE_AFTER") * 1000000;
    ctx->rng_state = (uint64_t)crm_config_int(cfg, "CRM_WEBHOOK_JITTER_SEED");
    crm_service_set_user(svc, ctx);
    if (wh_pump_start(ctx) < 0) {
        crm_error("service.start", "could not start the delivery engine");
        return -1;
    }
    crm_info(
        "webhooks.start",
        "up to %d requests in flight; backoff %lld..%lld ms; disabled after %lld s of failures",
        ctx->max_in_flight, (long long)ctx->base_ms, (long long)ctx->cap_ms,
        (long long)(ctx->disable_us / 1000000));
    return 0;
}

static void s_on_stop(crm_service_t *svc)
{
    (void)svc;
    wh_pump_stop(&s_wh);
}

int main(int argc, char **argv)
{
    crm_service_def_t def = {
        .name = "webhooks",
        .default_bind = "tcp://127.0.0.1:7460",
        .default_http_port = 9460,
        .commands = webhooks_commands,
        .consumers = webhooks_consumers,
        .migrations = webhooks_migrations,
        .config = s_config,
        .on_start = s_on_start,
        .on_stop = s_on_stop,
    };
    return crm_service_main(&def, argc, argv);
}
