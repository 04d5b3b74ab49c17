/* crm-api: the HTTP/JSON gateway (issue 16). Every other tool - a front
 * end, a form, a spreadsheet import, a partner's system - reaches the CRM
 * here with HTTP and JSON instead of ZeroMQ and protobuf. It is a service
 * like the others (one loop, settings from the environment, JSON logs,
 * /livez /readyz /metrics on the operator port, its own database for API
 * tokens and sessions) that translates each request into the owning
 * service's command, acting on behalf of the caller as a delegated
 * principal (docs/architecture.md, "The HTTP API"). This file is wiring
 * only. */
#include "api.h"

#include <crm/log.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const crm_migration_t api_migrations[];

static const crm_conf_def_t s_config[] = {
    {"API_HOST", CRM_CONF_STR, "127.0.0.1",
     "address the HTTP API listens on (terminate TLS in front of it; docs/operations.md)", 0, 0, 0},
    {"API_PORT", CRM_CONF_INT, "8080", "port of the HTTP API (0 = any free port)", 0, 0, 65535},
    {"API_MAX_BODY_BYTES", CRM_CONF_INT, "1048576", "largest request body taken (bytes)", 0, 1,
     67108864},
    {"API_COMMAND_TIMEOUT_MS", CRM_CONF_INT, "10000",
     "how long a request waits for the owning service's reply (ms)", 0, 100, 600000},
    {"API_RATE_PER_SECOND", CRM_CONF_INT, "100",
     "requests per second per token or session (token bucket refill)", 0, 1, 1000000},
    {"API_RATE_BURST", CRM_CONF_INT, "200", "requests a token or session may make at once", 0, 1,
     1000000},
    {"API_SESSION_TTL_S", CRM_CONF_INT, "28800", "lifetime of a staff session (seconds)", 0, 60,
     31536000},
    {"API_MAX_CONNECTIONS", CRM_CONF_INT, "1024", "HTTP API connections open at once", 0, 1,
     1000000},
    {"API_MAX_CONNECTIONS_PER_ADDRESS", CRM_CONF_INT, "256",
     "HTTP API connections from one address (a reverse proxy is one address)", 0, 1, 1000000},
    {"API_HEAD_TIMEOUT_MS", CRM_CONF_INT, "10000",
     "a whole request, head and body, must arrive within this (ms; slow clients are closed)", 0,
     100, 600000},
    {"API_IDLE_TIMEOUT_MS", CRM_CONF_INT, "60000", "keep-alive wait for the next request (ms)", 0,
     100, 3600000},
    {"API_SECURE_COOKIE", CRM_CONF_BOOL, "true",
     "mark the session cookie Secure (false only for plain-HTTP development)", 0, 0, 0},
    {"API_WEB_DIR", CRM_CONF_STR, "/usr/share/crm/web",
     "directory of the dashboard's built files, served at / (\"\" = no dashboard)", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* Static storage: the context outlives the loop (see services/sales). */
static api_t s_api;

api_t *api_of(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

static int s_on_start(crm_service_t *svc)
{
    api_t *api = &s_api;
    const crm_config_t *cfg = crm_service_config(svc);
    char err[256];

    api->svc = svc;
    api->loop = crm_service_loop(svc);
    api->max_body = (size_t)crm_config_int(cfg, "API_MAX_BODY_BYTES");
    api->command_timeout_ms = crm_config_int(cfg, "API_COMMAND_TIMEOUT_MS");
    api->rate_per_s = (double)crm_config_int(cfg, "API_RATE_PER_SECOND");
    api->rate_burst = (double)crm_config_int(cfg, "API_RATE_BURST");
    api->session_ttl_us = crm_config_int(cfg, "API_SESSION_TTL_S") * 1000000LL;
    api->secure_cookie = crm_config_bool(cfg, "API_SECURE_COOKIE");
    crm_service_set_user(svc, api);
    if (api_auth_start(api) < 0 || api_upstreams_start(api) < 0 ||
        api_web_start(api, crm_config_str(cfg, "API_WEB_DIR")) < 0)
        return -1;
    api->http = crm_http_new_app(api->loop, crm_config_str(cfg, "API_HOST"),
                                 (int)crm_config_int(cfg, "API_PORT"), api_gateway_request, api,
                                 api->max_body, err, sizeof err);
    if (!api->http) {
        crm_error("api.listen", "%s", err);
        return -1;
    }
    crm_http_limits_t limits = {
        .max_conns = (size_t)crm_config_int(cfg, "API_MAX_CONNECTIONS"),
        .max_conns_per_addr = (size_t)crm_config_int(cfg, "API_MAX_CONNECTIONS_PER_ADDRESS"),
        .head_timeout_ms = (uint32_t)crm_config_int(cfg, "API_HEAD_TIMEOUT_MS"),
        .idle_timeout_ms = (uint32_t)crm_config_int(cfg, "API_IDLE_TIMEOUT_MS"),
    };
    crm_http_set_limits(api->http, &limits);
    crm_info("api.listening", "http://%s:%d/v1/ (%zu services)", crm_config_str(cfg, "API_HOST"),
             crm_http_port(api->http), api->n_ups);
    return 0;
}

static void s_on_stop(crm_service_t *svc)
{
    api_t *api = crm_service_user(svc);
    if (!api)
        return;
    /* Connections first (an open feed ends), then the calls still waiting
     * are answered, then the feeds those answers did not free. */
    crm_http_destroy(&api->http);
    api_upstreams_stop(api);
    api_events_stop(api);
    api_auth_stop(api);
    api_web_stop(api);
    if (api->openapi)
        json_decref(api->openapi);
    api->openapi = NULL;
}

static void s_metrics(crm_service_t *svc, crm_http_response_t *res)
{
    api_t *api = crm_service_user(svc);
    if (api)
        api_problem_metrics(api, res);
}

int main(int argc, char **argv)
{
    crm_service_def_t def = {
        .name = "api",
        .default_bind = "tcp://127.0.0.1:7470",
        .default_http_port = 9470,
        .commands = api_commands,
        .migrations = api_migrations,
        .config = s_config,
        .on_start = s_on_start,
        .on_stop = s_on_stop,
        .metrics = s_metrics,
    };
    return crm_service_main(&def, argc, argv);
}
