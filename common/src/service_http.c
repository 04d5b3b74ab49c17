/* service_http.c: /livez, /readyz and /metrics, and the `healthcheck`
 * subcommand that asks /readyz of the local instance (the container health
 * check in docker-compose.yml, through crm_http_healthcheck), so the image
 * needs no HTTP client. */
#include "svc_int.h"

#include <string.h>

void crm_service_on_http(const char *method, const char *path, crm_http_response_t *res, void *arg)
{
    crm_service_t *svc = arg;
    if (!strcmp(path, "/livez")) {
        crm_http_response_printf(res, "ok\n");
    } else if (!strcmp(path, "/readyz")) {
        int db = crm_db_connected(svc->writer) && crm_db_connected(svc->reader);
        if (db && svc->bus_connected && !svc->stopping) {
            crm_http_response_printf(res, "ready\n");
        } else {
            crm_http_response_status(res, 503);
            crm_http_response_printf(res, "not ready:%s%s%s\n", db ? "" : " database",
                                     svc->bus_connected ? "" : " bus",
                                     svc->stopping ? " stopping" : "");
        }
    } else if (!strcmp(path, "/metrics")) {
        crm_service_metrics(svc, res);
    } else {
        crm_http_response_status(res, 404);
        crm_http_response_printf(res, "not found\n");
    }
}

/* `healthcheck`: exit 0 if /readyz of the local instance answers 200. */
int crm_service_healthcheck(const crm_config_t *cfg)
{
    return crm_http_healthcheck(crm_config_str(cfg, "CRM_HTTP_HOST"),
                                (int)crm_config_int(cfg, "CRM_HTTP_PORT"));
}
