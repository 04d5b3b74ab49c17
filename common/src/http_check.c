/* http_check.c: the client side of `<program> healthcheck`, which container
 * health checks run: one blocking GET /readyz, in a process of its own. */
#include <crm/http.h>

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int crm_http_healthcheck(const char *host, int port)
{
    static const char rq[] = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    struct timeval tv = {.tv_sec = 3};
    char service[16];
    char buf[256] = {0};
    ssize_t n = -1;
    int fd;

    snprintf(service, sizeof service, "%d", port);
    if (!strcmp(host, "0.0.0.0"))
        host = "127.0.0.1";
    else if (!strcmp(host, "::"))
        host = "::1";
    if (getaddrinfo(host, service, &hints, &ai) != 0) {
        fprintf(stderr, "healthcheck: could not resolve %s\n", host);
        return 1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        fprintf(stderr, "healthcheck: could not connect to %s port %s\n", host, service);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return 1;
    }
    freeaddrinfo(ai);
    if (write(fd, rq, sizeof rq - 1) == (ssize_t)(sizeof rq - 1))
        n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 12 && !strncmp(buf + 9, "200", 3))
        return 0;
    fprintf(stderr, "healthcheck: not ready: %.*s\n", n > 0 ? (int)n : 0, buf);
    return 1;
}
