/* service_http.c: /livez, /readyz and /metrics, and the `healthcheck`
 * subcommand that asks /readyz of the local instance (the container health
 * check in docker-compose.yml), so the image needs no HTTP client. */
#include "svc_int.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
    char port[16];
    snprintf(port, sizeof port, "%d", (int)crm_config_int(cfg, "CRM_HTTP_PORT"));
    const char *host = crm_config_str(cfg, "CRM_HTTP_HOST");
    if (!strcmp(host, "0.0.0.0"))
        host = "127.0.0.1";
    else if (!strcmp(host, "::"))
        host = "::1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "healthcheck: could not resolve %s\n", host);
        return 1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 3};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        fprintf(stderr, "healthcheck: could not connect to %s port %s\n", host, port);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return 1;
    }
    freeaddrinfo(ai);
    static const char rq[] = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    char buf[256] = {0};
    ssize_t n = -1;
    if (write(fd, rq, sizeof rq - 1) == (ssize_t)(sizeof rq - 1))
        n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 12 && !strncmp(buf + 9, "200", 3))
        return 0;
    fprintf(stderr, "healthcheck: not ready: %.*s\n", n > 0 ? (int)n : 0, buf);
    return 1;
}
