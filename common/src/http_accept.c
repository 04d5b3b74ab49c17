/* http_accept.c: accepting connections for the HTTP endpoint (http.c),
 * and the connection limits that keep it answering health probes under a
 * flood: a new connection that would cross the limit in total or per
 * address closes the oldest one waiting for a request (of its address, or
 * overall), after handling any input that has already arrived on it; past
 * twice the limit, new connections wait in the listen queue until closes
 * complete. */
#include "http_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

static void s_free_handle_cb(uv_handle_t *handle)
{
    free(handle);
}

/* Over the connection limit: accept (so the listener keeps working) and
 * close straight away. */
static void s_reject(crm_http_t *srv)
{
    uv_tcp_t *tcp = malloc(sizeof *tcp);

    if (!tcp)
        return;
    if (uv_tcp_init(srv->loop, tcp) < 0) {
        free(tcp);
        return;
    }
    uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)tcp);
    uv_close((uv_handle_t *)tcp, s_free_handle_cb);
}

/* Records the peer's IP address (not its port) for the per-address limit. */
static void s_conn_get_addr(http_conn_t *conn)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;

    conn->addr_family = AF_UNSPEC;
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        memcpy(conn->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        conn->addr_family = AF_INET;
    } else if (ss.ss_family == AF_INET6) {
        memcpy(conn->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        conn->addr_family = AF_INET6;
    }
}

static int s_same_addr(const http_conn_t *a, const http_conn_t *b)
{
    if (a->addr_family == AF_UNSPEC || a->addr_family != b->addr_family)
        return 0;
    return memcmp(a->addr, b->addr, a->addr_family == AF_INET ? 4 : 16) == 0;
}

/* Open connections other than `conn` (with same_addr, only those from
 * conn's address). */
static size_t s_count_open(const crm_http_t *srv, const http_conn_t *conn, int same_addr)
{
    size_t n = 0;
    const http_conn_t *c;

    for (c = srv->conns; c; c = c->next)
        if (c != conn && !c->closing && (!same_addr || s_same_addr(c, conn)))
            n++;
    return n;
}

/* The connection to close to make room for `conn`: the oldest open one
 * (with same_addr, of conn's address) that is still waiting for a request.
 * A candidate's input that has already arrived is handled first: a burst of
 * connections accepted in one loop pass can push a health probe to the
 * front before the loop has reported its request, and closing it then
 * would reset it although its request is there to answer. A candidate
 * answered that way is spared while others wait; when only such leaving
 * connections remain, the oldest of them goes. NULL when none is open. */
static http_conn_t *s_victim(crm_http_t *srv, const http_conn_t *conn, int same_addr)
{
    http_conn_t *c;
    http_conn_t *leaving = NULL;

    for (c = srv->conns; c && !srv->destroyed; c = c->next) {
        if (c == conn || c->closing || (same_addr && !s_same_addr(c, conn)))
            continue;
        crm__http_conn_poll_input(c);
        if (c->closing)
            continue;
        if (!c->finishing)
            return c;
        if (!leaving)
            leaving = c;
    }
    return srv->destroyed ? NULL : leaving;
}

/* Makes room for the connection just accepted: the oldest connections of
 * its address beyond the per-address limit, then the oldest overall beyond
 * the total, are closed. */
static void s_make_room(crm_http_t *srv, http_conn_t *conn)
{
    http_conn_t *c;

    while (s_count_open(srv, conn, 1) >= srv->limits.max_conns_per_addr &&
           (c = s_victim(srv, conn, 1)) != NULL) {
        crm__http_conn_close(c);
        srv->stats.evicted_per_addr++;
    }
    /* nlive counts conn itself. */
    while (srv->nlive > srv->limits.max_conns && (c = s_victim(srv, conn, 0)) != NULL) {
        crm__http_conn_close(c);
        srv->stats.evicted_total++;
    }
}

void crm__http_connection_cb(uv_stream_t *listener, int status)
{
    crm_http_t *srv = listener->data;
    http_conn_t *conn;

    if (status < 0 || srv->destroyed)
        return;
    /* Connections closed to make room hold their memory until their close
     * callbacks run; past twice the limit new ones wait for that. */
    if (srv->nconns >= 2 * srv->limits.max_conns) {
        /* Not accepting leaves the connection in the kernel's listen queue
         * and makes libuv stop watching the listener until uv_accept: the
         * close callbacks accept it once memory is released, so a health
         * probe arriving in a storm of evictions waits a moment instead of
         * being reset. */
        if (!srv->accept_held)
            srv->stats.rejected++;
        srv->accept_held = 1;
        return;
    }
    srv->accept_held = 0;
    conn = calloc(1, sizeof *conn);
    if (!conn) {
        srv->stats.rejected++;
        s_reject(srv); /* the pending connection must be taken off the listener */
        return;
    }
    if (uv_tcp_init(srv->loop, &conn->tcp) < 0) {
        free(conn);
        return;
    }
    conn->server = srv;
    conn->tcp.data = conn;
    conn->open_handles = 1;
    conn->prev = srv->conns_tail;
    if (srv->conns_tail)
        srv->conns_tail->next = conn;
    else
        srv->conns = conn;
    srv->conns_tail = conn;
    srv->nconns++;
    srv->nlive++;
    if (uv_timer_init(srv->loop, &conn->timer) < 0) {
        /* Only the socket is open: close it alone. */
        conn->closing = 1;
        srv->nlive--;
        uv_close((uv_handle_t *)&conn->tcp, crm__http_conn_close_cb);
        return;
    }
    conn->timer.data = conn;
    conn->open_handles = 2;
    llhttp_init(&conn->parser, HTTP_REQUEST, &srv->settings);
    conn->parser.data = conn;
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) < 0) {
        crm__http_conn_close(conn);
        return;
    }
    s_conn_get_addr(conn);
    s_make_room(srv, conn);
    /* A handler run while making room may have destroyed the server. */
    if (conn->closing)
        return;
    uv_tcp_nodelay(&conn->tcp, 1);
    /* The first request's deadline runs from accept: a connection that
     * sends nothing is a request that never completes. */
    crm__http_conn_begin_request(conn);
    crm__http_conn_start_reading(conn);
}
