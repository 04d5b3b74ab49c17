/* http.c: the operator HTTP endpoint (/livez, /readyz, /metrics) of every
 * service. Orchestrators and Prometheus need plain HTTP/1.1 next to the
 * services' ZeroMQ traffic, on the loop the service already runs, without a
 * thread or a web framework. This module owns the sockets and their limits
 * (connections in total and per address, request size, a deadline for the
 * whole request, keep-alive idle time, write backlog); llhttp does the
 * parsing and a callback produces each response synchronously. Accepting
 * and the connection limits are in http_accept.c, responses and metrics in
 * http_response.c.
 *
 * Slow clients must not take the endpoint away from health probes: the
 * request deadline runs from the first byte of a request (from accept for
 * the first one) and is never extended by more bytes, so a slow-loris
 * connection ends after head_timeout_ms whatever it trickles; and a new
 * connection that would cross a connection limit closes the oldest one (of
 * its address, or overall) instead of being refused. A probe connects,
 * asks and goes at once, so it is among the newest; a flood only pushes out
 * its own older connections. A burst accepted in one loop pass can still
 * make a probe the oldest before the loop has reported its request, so a
 * connection chosen to make room has its waiting input handled first, and
 * one that is answered that way is spared.
 *
 * Life of a connection: accepted -> reading/parsing (a request is handled
 * when llhttp reports it complete; pipelined requests are answered in order)
 * -> "finishing" once the connection must end: the last response is queued,
 * the write side is shut down after it, input is read and thrown away until
 * the peer closes (so the kernel never answers unread input with a reset
 * that could destroy the response), bounded by a linger timer -> closed.
 * Memory of a connection is released when both of its handles (socket and
 * timer) have reported their close; the server itself is released when its
 * listener and every connection have. */
#include <crm/http.h>

#include "http_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <llhttp.h>

static void s_conn_process(http_conn_t *conn);

static void s_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- server lifetime ---------------------------------------------------- */

static void s_server_maybe_free(crm_http_t *srv)
{
    if (srv->destroyed && srv->listener_closed && srv->nconns == 0)
        free(srv);
}

static void s_listener_close_cb(uv_handle_t *handle)
{
    crm_http_t *srv = handle->data;

    srv->listener_closed = 1;
    s_server_maybe_free(srv);
}

/* ---- connection lifetime ------------------------------------------------ */

void crm__http_conn_close_cb(uv_handle_t *handle)
{
    http_conn_t *conn = handle->data;
    crm_http_t *srv = conn->server;

    if (--conn->open_handles > 0)
        return;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    else
        srv->conns_tail = conn->prev;
    srv->nconns--;
    free(conn);
    if (srv->accept_held && !srv->destroyed && srv->nconns < 2 * srv->limits.max_conns)
        crm__http_connection_cb((uv_stream_t *)&srv->listener, 0);
    s_server_maybe_free(srv);
}

/* Closes at once; queued writes are cancelled. Idempotent. */
void crm__http_conn_close(http_conn_t *conn)
{
    if (conn->closing)
        return;
    conn->closing = 1;
    conn->reading = 0;
    conn->server->nlive--;
    crm__http_app_conn_gone(conn);
    uv_close((uv_handle_t *)&conn->tcp, crm__http_conn_close_cb);
    uv_close((uv_handle_t *)&conn->timer, crm__http_conn_close_cb);
}

static void s_timer_cb(uv_timer_t *timer)
{
    http_conn_t *conn = timer->data;

    if (conn->timer_kind == S_TIMER_HEAD)
        conn->server->stats.head_timeouts++;
    else if (conn->timer_kind == S_TIMER_IDLE)
        conn->server->stats.idle_timeouts++;
    crm__http_conn_close(conn);
}

static void s_conn_arm_timer(http_conn_t *conn, s_timer_kind_t kind, uint64_t ms)
{
    if (conn->closing)
        return;
    conn->timer_kind = kind;
    uv_timer_start(&conn->timer, s_timer_cb, ms, 0);
}

/* The deadline of a request starts with its first byte and is not moved by
 * later ones. */
void crm__http_conn_begin_request(http_conn_t *conn)
{
    if (conn->in_head)
        return;
    conn->in_head = 1;
    s_conn_arm_timer(conn, S_TIMER_HEAD, conn->server->limits.head_timeout_ms);
}

static void s_alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    http_conn_t *conn = handle->data;

    (void)suggested;
    /* Reading happens only once earlier input is fully parsed (or while
     * finishing, when input is thrown away), so the whole buffer is free. */
    *buf = uv_buf_init(conn->rbuf, sizeof conn->rbuf);
}

static void s_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

void crm__http_conn_start_reading(http_conn_t *conn)
{
    if (conn->closing || conn->reading || conn->eof)
        return;
    if (uv_read_start((uv_stream_t *)&conn->tcp, s_alloc_cb, s_read_cb) < 0) {
        crm__http_conn_close(conn);
        return;
    }
    conn->reading = 1;
}

static void s_conn_stop_reading(http_conn_t *conn)
{
    if (!conn->reading)
        return;
    uv_read_stop((uv_stream_t *)&conn->tcp);
    conn->reading = 0;
}

static void s_shutdown_cb(uv_shutdown_t *req, int status)
{
    http_conn_t *conn = req->handle->data;

    if (conn->closing)
        return;
    conn->shutdown_done = 1;
    if (status < 0 || conn->eof)
        crm__http_conn_close(conn);
    else
        s_conn_arm_timer(conn, S_TIMER_OTHER, S_LINGER_MS);
}

/* Ends the connection gracefully: what is queued is still sent, then the
 * write side is shut down and input is discarded until the peer closes. */
void crm__http_conn_finish(http_conn_t *conn)
{
    if (conn->closing || conn->finishing)
        return;
    conn->finishing = 1;
    conn->throttled = 0;
    conn->rpos = conn->rlen = 0;
    if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->tcp, s_shutdown_cb) < 0) {
        crm__http_conn_close(conn);
        return;
    }
    /* Until the shutdown completes the idle timer bounds a stuck writer. */
    s_conn_arm_timer(conn, S_TIMER_OTHER, conn->server->limits.idle_timeout_ms);
    crm__http_conn_start_reading(conn);
}

/* ---- responses ---------------------------------------------------------- */

static void s_write_cb(uv_write_t *req, int status)
{
    http_conn_t *conn = req->handle->data;

    free(req);
    if (conn->closing)
        return;
    if (status < 0) {
        crm__http_conn_close(conn);
        return;
    }
    if (conn->finishing)
        return;
    /* A reader of a long answer is not idle; a request under way keeps its
     * deadline. */
    if (!conn->in_head)
        s_conn_arm_timer(conn, S_TIMER_IDLE, conn->server->limits.idle_timeout_ms);
    if (conn->throttled &&
        uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) <= S_WRITE_LOW_WATER) {
        conn->throttled = 0;
        s_conn_process(conn);
    }
}

int crm__http_conn_write(http_conn_t *conn, const char *data, size_t len)
{
    http_write_t *w;
    uv_buf_t b;
    int r;

    if (conn->closing)
        return -ECONNRESET;
    w = malloc(sizeof *w + len);
    if (!w) {
        crm__http_conn_close(conn);
        return -ENOMEM;
    }
    memcpy(w->data, data, len);
    w->len = len;
    b = uv_buf_init(w->data, (unsigned int)w->len);
    r = uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, s_write_cb);
    if (r < 0) {
        free(w);
        crm__http_conn_close(conn);
    }
    return r;
}

/* Queues one complete response. Returns 0 or a negative errno code; on
 * failure the connection is closed. */
int crm__http_conn_send(http_conn_t *conn, int status, const char *type, const char *body,
                        size_t body_len, int head, int keep_alive, const char *extra)
{
    char hdr[2048];
    int hlen;
    int with_body = !head;
    http_write_t *w;
    uv_buf_t b;
    int r;

    if (conn->closing)
        return -ECONNRESET;
    if (status == 204 || status == 304) {
        /* Neither has a body; 204 must not carry Content-Length and the 304
         * one would have to describe a representation we do not track. */
        with_body = 0;
        hlen = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d %s\r\n%sConnection: %s\r\n\r\n", status,
                        crm__http_reason(status), extra ? extra : "",
                        keep_alive ? "keep-alive" : "close");
    } else {
        hlen = snprintf(hdr, sizeof hdr,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "%sConnection: %s\r\n\r\n",
                        status, crm__http_reason(status), type, body_len, extra ? extra : "",
                        keep_alive ? "keep-alive" : "close");
    }
    if (hlen < 0 || (size_t)hlen >= sizeof hdr) {
        crm__http_conn_close(conn);
        return -EOVERFLOW;
    }
    if (!with_body)
        body_len = 0;
    w = malloc(sizeof *w + (size_t)hlen + body_len);
    if (!w) {
        crm__http_conn_close(conn);
        return -ENOMEM;
    }
    memcpy(w->data, hdr, (size_t)hlen);
    if (body_len)
        memcpy(w->data + hlen, body, body_len);
    w->len = (size_t)hlen + body_len;
    b = uv_buf_init(w->data, (unsigned int)w->len);
    r = uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, s_write_cb);
    if (r < 0) {
        free(w);
        crm__http_conn_close(conn);
        return r;
    }
    return 0;
}

/* Answers a request the server refuses on its own and ends the connection. */
static void s_conn_fail(http_conn_t *conn, int status, const char *body)
{
    if (status == 413)
        conn->server->stats.too_large++;
    else
        conn->server->stats.bad_requests++;
    if (conn->server->app) {
        /* Clients of the JSON API read problem+json (RFC 9457). */
        char json[256];
        int n = snprintf(json, sizeof json,
                         "{\"type\":\"about:blank\",\"title\":\"%.*s\",\"status\":%d}",
                         (int)strcspn(body, "\n"), body, status);
        crm__http_conn_send(conn, status, "application/problem+json", json, (size_t)n, 0, 0, NULL);
        crm__http_conn_finish(conn);
        return;
    }
    crm__http_conn_send(conn, status, S_DEFAULT_TYPE, body, strlen(body), 0, 0, NULL);
    crm__http_conn_finish(conn);
}

/* ---- requests ----------------------------------------------------------- */

static int s_on_message_begin(llhttp_t *parser)
{
    http_conn_t *conn = parser->data;

    conn->url_len = 0;
    conn->url_too_long = 0;
    crm__http_app_reset(conn);
    return 0;
}

static int s_on_url(llhttp_t *parser, const char *at, size_t len)
{
    http_conn_t *conn = parser->data;

    if (len > S_MAX_URL - conn->url_len) {
        conn->url_too_long = 1;
        return HPE_USER;
    }
    memcpy(conn->url + conn->url_len, at, len);
    conn->url_len += len;
    return 0;
}

static int s_on_message_complete(llhttp_t *parser)
{
    http_conn_t *conn = parser->data;

    /* Read here: llhttp resets its flags once it moves past the message. */
    conn->method = llhttp_get_method(parser);
    conn->keep_alive = llhttp_should_keep_alive(parser) && !parser->upgrade;
    conn->message_complete = 1;
    /* Stop so that the request is answered before the next one is parsed. */
    return HPE_PAUSED;
}

/* After a response: keeps the connection for the next request or ends
 * it, then goes on with input already buffered. */
void crm__http_conn_after_response(http_conn_t *conn)
{
    crm_http_t *srv = conn->server;

    if (conn->closing)
        return;
    if (!conn->keep_alive || srv->destroyed) {
        crm__http_conn_finish(conn);
        return;
    }
    s_conn_arm_timer(conn, S_TIMER_IDLE, srv->limits.idle_timeout_ms);
    if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) > S_WRITE_HIGH_WATER) {
        conn->throttled = 1;
        s_conn_stop_reading(conn);
    }
    if (!conn->dispatching)
        s_conn_process(conn);
}

/* Answers the request that just completed. */
static void s_conn_dispatch(http_conn_t *conn)
{
    crm_http_t *srv = conn->server;
    const char *method = llhttp_method_name((llhttp_method_t)conn->method);
    int head = conn->method == HTTP_HEAD;
    crm_http_response_t res = {.status = 200, .content_type = S_DEFAULT_TYPE};
    int status;

    conn->url[conn->url_len] = '\0';
    if (srv->app) {
        /* The application answers now or later (crm_http_req_respond). */
        if (crm__http_app_dispatch(conn))
            uv_timer_stop(&conn->timer);
        return;
    }
    conn->url[strcspn(conn->url, "?#")] = '\0';

    if (conn->method != HTTP_GET && !head) {
        static const char body[] = "method not allowed\n";

        crm__http_conn_send(conn, 405, S_DEFAULT_TYPE, body, sizeof body - 1, 0,
                            conn->keep_alive && !srv->destroyed, "Allow: GET, HEAD\r\n");
    } else {
        srv->handler(method, conn->url, &res, srv->arg);
        /* The handler may have destroyed the server: then nothing is sent. */
        if (conn->closing) {
            free(res.body);
            return;
        }
        status = res.status;
        if (res.oom || status < 200 || status > 599) {
            static const char body[] = "internal server error\n";

            crm__http_conn_send(conn, 500, S_DEFAULT_TYPE, body, sizeof body - 1, head,
                                conn->keep_alive && !srv->destroyed, NULL);
        } else {
            crm__http_conn_send(conn, status, res.content_type ? res.content_type : S_DEFAULT_TYPE,
                                res.body, res.len, head, conn->keep_alive && !srv->destroyed, NULL);
        }
        free(res.body);
    }
    if (conn->closing)
        return;
    if (!conn->keep_alive || srv->destroyed) {
        crm__http_conn_finish(conn);
        return;
    }
    s_conn_arm_timer(conn, S_TIMER_IDLE, srv->limits.idle_timeout_ms);
    if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) > S_WRITE_HIGH_WATER) {
        conn->throttled = 1;
        s_conn_stop_reading(conn);
    }
}

/* Parses buffered input, answering each complete request in turn, until the
 * input is used up, the connection ends or its write backlog is too big. */
static void s_conn_process(http_conn_t *conn)
{
    while (conn->rpos < conn->rlen && !conn->closing && !conn->finishing && !conn->throttled &&
           !conn->pending) {
        const char *data = conn->rbuf + conn->rpos;
        size_t len = conn->rlen - conn->rpos;
        llhttp_errno_t err;
        size_t used;

        crm__http_conn_begin_request(conn);
        err = llhttp_execute(&conn->parser, data, len);

        if (err == HPE_OK) {
            conn->rpos = conn->rlen;
            conn->req_bytes += len;
            if (conn->req_bytes > conn->server->max_request)
                s_conn_fail(conn, 413, "request too large\n");
            break;
        }
        if (err != HPE_PAUSED || !conn->message_complete) {
            if (conn->url_too_long)
                s_conn_fail(conn, 414, "uri too long\n");
            else if (conn->body_too_large)
                s_conn_fail(conn, 413, "request too large\n");
            else if (conn->header_overflow)
                s_conn_fail(conn, 431, "request header fields too large\n");
            else
                s_conn_fail(conn, 400, "bad request\n");
            break;
        }
        used = (size_t)(llhttp_get_error_pos(&conn->parser) - data);
        conn->rpos += used;
        conn->req_bytes += used;
        conn->message_complete = 0;
        llhttp_resume(&conn->parser);
        if (conn->req_bytes > conn->server->max_request) {
            s_conn_fail(conn, 413, "request too large\n");
            break;
        }
        conn->req_bytes = 0;
        conn->in_head = 0;
        s_conn_dispatch(conn);
    }
    if (conn->rpos == conn->rlen)
        conn->rpos = conn->rlen = 0;
    if (!conn->closing && !conn->finishing && !conn->throttled && conn->rlen == 0)
        crm__http_conn_start_reading(conn);
    else if (conn->pending && conn->rlen)
        s_conn_stop_reading(conn); /* the buffer holds the next request */
}

/* Handles what one read brought: nread bytes in rbuf, UV_EOF or an error. */
static void s_conn_input(http_conn_t *conn, ssize_t nread)
{
    if (conn->closing || nread == 0)
        return;
    if (nread < 0) {
        if (nread != UV_EOF) {
            crm__http_conn_close(conn);
            return;
        }
        conn->eof = 1;
        s_conn_stop_reading(conn);
        if (conn->pending) /* the client went away before its answer */
            crm__http_conn_close(conn);
        else if (!conn->finishing)
            crm__http_conn_finish(conn); /* answers already queued still go out */
        else if (conn->shutdown_done)
            crm__http_conn_close(conn);
        return;
    }
    if (conn->finishing)
        return; /* discarded */
    conn->rpos = 0;
    conn->rlen = (size_t)nread;
    s_conn_process(conn);
}

static void s_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    s_conn_input(stream->data, nread);
}

/* Handles input that has already arrived on a connection waiting for it,
 * without waiting for the loop to report it: one recv with MSG_DONTWAIT,
 * which never blocks. Used before a connection is closed to make room, so
 * that a request that is already there is answered instead of reset. */
void crm__http_conn_poll_input(http_conn_t *conn)
{
    uv_os_fd_t fd;
    ssize_t n;

    if (conn->closing || conn->finishing || !conn->reading || conn->rlen != 0)
        return;
    if (uv_fileno((uv_handle_t *)&conn->tcp, &fd) < 0)
        return;
    do
        n = recv(fd, conn->rbuf, sizeof conn->rbuf, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            crm__http_conn_close(conn);
        return;
    }
    s_conn_input(conn, n == 0 ? UV_EOF : n);
}

/* ---- public ------------------------------------------------------------- */

crm_http_t *crm_http_new(uv_loop_t *loop, const char *host, int port, crm_http_handler_fn handler,
                         void *arg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    struct sockaddr_storage bound;
    int blen = (int)sizeof bound;
    crm_http_t *srv;
    int r;

    if (!loop || !host || !handler || port < 0 || port > 65535) {
        s_set_err(err, errlen, "http: invalid argument");
        return NULL;
    }
    memset(&ss, 0, sizeof ss);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0) {
        s_set_err(err, errlen, "http: invalid listen address '%s'", host);
        return NULL;
    }
    srv = calloc(1, sizeof *srv);
    if (!srv) {
        s_set_err(err, errlen, "http: out of memory");
        return NULL;
    }
    srv->loop = loop;
    srv->max_request = S_MAX_REQUEST;
    srv->handler = handler;
    srv->arg = arg;
    crm_http_set_limits(srv, NULL);
    llhttp_settings_init(&srv->settings);
    srv->settings.on_message_begin = s_on_message_begin;
    srv->settings.on_url = s_on_url;
    srv->settings.on_message_complete = s_on_message_complete;
    r = uv_tcp_init(loop, &srv->listener);
    if (r < 0) {
        s_set_err(err, errlen, "http: %s", uv_strerror(r));
        free(srv);
        return NULL;
    }
    srv->listener.data = srv;
    r = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv->listener, S_BACKLOG, crm__http_connection_cb);
    if (r == 0)
        r = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &blen);
    if (r < 0) {
        s_set_err(err, errlen, "http: listen on %s:%d: %s", host, port, uv_strerror(r));
        /* The handle is released by its close callback on the next loop run. */
        srv->destroyed = 1;
        uv_close((uv_handle_t *)&srv->listener, s_listener_close_cb);
        return NULL;
    }
    if (bound.ss_family == AF_INET6)
        srv->port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    else
        srv->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return srv;
}

int crm_http_set_limits(crm_http_t *self, const crm_http_limits_t *limits)
{
    crm_http_limits_t l = {0};

    if (!self)
        return -EINVAL;
    if (limits)
        l = *limits;
    self->limits.max_conns = l.max_conns ? l.max_conns : CRM_HTTP_DEFAULT_MAX_CONNS;
    self->limits.max_conns_per_addr =
        l.max_conns_per_addr ? l.max_conns_per_addr : CRM_HTTP_DEFAULT_MAX_CONNS_PER_ADDR;
    self->limits.head_timeout_ms =
        l.head_timeout_ms ? l.head_timeout_ms : CRM_HTTP_DEFAULT_HEAD_TIMEOUT_MS;
    self->limits.idle_timeout_ms =
        l.idle_timeout_ms ? l.idle_timeout_ms : CRM_HTTP_DEFAULT_IDLE_TIMEOUT_MS;
    return 0;
}

void crm_http_stats(const crm_http_t *self, crm_http_stats_t *stats)
{
    if (!stats)
        return;
    memset(stats, 0, sizeof *stats);
    if (!self)
        return;
    *stats = self->stats;
    stats->open = self->nlive;
}

int crm_http_port(const crm_http_t *self)
{
    return self ? self->port : -EINVAL;
}

void crm_http_destroy(crm_http_t **self_p)
{
    crm_http_t *srv;
    http_conn_t *conn;

    if (!self_p || !*self_p)
        return;
    srv = *self_p;
    *self_p = NULL;
    srv->destroyed = 1;
    /* Connections unlink themselves only from their close callbacks, so the
     * list stays intact while it is walked. */
    for (conn = srv->conns; conn; conn = conn->next)
        crm__http_conn_close(conn);
    uv_close((uv_handle_t *)&srv->listener, s_listener_close_cb);
}
