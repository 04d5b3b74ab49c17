/* http_app.c: the application mode of the HTTP server (crm/http.h), for the
 * HTTP/JSON gateway. The operator endpoint answers at once from the
 * request line; the gateway needs the headers (tokens, Idempotency-Key,
 * If-Match), the body, and an answer that comes later, once the owning
 * service has replied over ZeroMQ - or a stream that never ends (SSE). The
 * connections, limits and timeouts stay those of http.c: the deadline for
 * a whole request, head and body, still ends a slow-loris client.
 *
 * A request is copied out of the connection into a crm_http_req_t owned by
 * the application until it answers: the connection may close meanwhile
 * (the request is then told, and the answer dropped), and while it is
 * outstanding the connection reads no further request, so pipelined
 * answers stay in order. */
#include <crm/http.h>

#include "http_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

struct crm_http_req {
    crm_http_t *srv;
    http_conn_t *conn; /* NULL once the connection has gone */
    int head;
    int keep_alive;
    int streaming;
    void (*on_close)(crm_http_req_t *req, void *arg);
    void *close_arg;
    char method[24];
    char peer[INET6_ADDRSTRLEN];
    char *path;  /* and the query after its NUL */
    char *query; /* into path's allocation */
    char *hbuf;  /* "name\0value\0" pairs */
    size_t nhdr;
    char *body;
    size_t body_len;
};

/* ---- parsing ------------------------------------------------------------- */

static int s_hdr_append(http_conn_t *conn, const char *at, size_t len)
{
    /* Two bytes stay free for the NULs that end a name and a value. */
    if (len > S_HEADER_BYTES - 2 - conn->hlen) {
        conn->header_overflow = 1;
        return HPE_USER;
    }
    memcpy(conn->hbuf + conn->hlen, at, len);
    conn->hlen += len;
    return 0;
}

static int s_on_header_field(llhttp_t *parser, const char *at, size_t len)
{
    http_conn_t *conn = parser->data;

    if (conn->header_value || conn->nhdr == 0) {
        if (conn->nhdr > 0)
            conn->hbuf[conn->hlen++] = '\0'; /* ends the previous value */
        if (conn->nhdr == S_MAX_HEADERS) {
            conn->header_overflow = 1;
            return HPE_USER;
        }
        conn->nhdr++;
        conn->header_value = 0;
    }
    return s_hdr_append(conn, at, len);
}

static int s_on_header_value(llhttp_t *parser, const char *at, size_t len)
{
    http_conn_t *conn = parser->data;

    if (!conn->header_value) {
        conn->hbuf[conn->hlen++] = '\0'; /* ends the name */
        conn->header_value = 1;
    }
    return s_hdr_append(conn, at, len);
}

static int s_on_headers_complete(llhttp_t *parser)
{
    http_conn_t *conn = parser->data;

    if (conn->nhdr > 0) {
        if (!conn->header_value)
            conn->hbuf[conn->hlen++] = '\0'; /* a name without a value */
        conn->hbuf[conn->hlen++] = '\0';
    }
    /* Refused before the body arrives when it says it is too large. */
    if (parser->content_length > conn->server->max_body && parser->content_length != ULLONG_MAX) {
        conn->body_too_large = 1;
        return -1;
    }
    /* curl and others wait a second for "100 Continue" before sending a
     * body they announced with Expect: answer at once. */
    const char *p = conn->hbuf;
    for (size_t i = 0; i < conn->nhdr; i++) {
        const char *value = p + strlen(p) + 1;
        if (!strcasecmp(p, "expect") && !strcasecmp(value, "100-continue") &&
            parser->content_length > 0 && parser->content_length != ULLONG_MAX) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            crm__http_conn_write(conn, cont, sizeof cont - 1);
            break;
        }
        p = value + strlen(value) + 1;
    }
    return 0;
}

static int s_on_body(llhttp_t *parser, const char *at, size_t len)
{
    http_conn_t *conn = parser->data;
    size_t max = conn->server->max_body;

    if (len > max - conn->body_len) {
        conn->body_too_large = 1;
        return HPE_USER;
    }
    if (conn->body_len + len + 1 > conn->body_cap) {
        size_t cap = conn->body_cap ? conn->body_cap : 1024;
        while (cap < conn->body_len + len + 1)
            cap *= 2;
        char *b = realloc(conn->body, cap);
        if (!b) {
            conn->body_too_large = 1;
            return HPE_USER;
        }
        conn->body = b;
        conn->body_cap = cap;
    }
    memcpy(conn->body + conn->body_len, at, len);
    conn->body_len += len;
    return 0;
}

void crm__http_app_settings(llhttp_settings_t *settings)
{
    settings->on_header_field = s_on_header_field;
    settings->on_header_value = s_on_header_value;
    settings->on_headers_complete = s_on_headers_complete;
    settings->on_body = s_on_body;
}

void crm__http_app_reset(http_conn_t *conn)
{
    conn->nhdr = 0;
    conn->hlen = 0;
    conn->header_value = 0;
    conn->header_overflow = 0;
    conn->body_too_large = 0;
    conn->body_len = 0;
}

/* ---- dispatch -------------------------------------------------------------- */

static void s_peer(http_conn_t *conn, char *out, size_t len)
{
    out[0] = '\0';
    if (conn->addr_family == AF_INET)
        inet_ntop(AF_INET, conn->addr, out, (socklen_t)len);
    else if (conn->addr_family == AF_INET6)
        inet_ntop(AF_INET6, conn->addr, out, (socklen_t)len);
}

int crm__http_app_dispatch(http_conn_t *conn)
{
    crm_http_t *srv = conn->server;
    crm_http_req_t *req = calloc(1, sizeof *req);
    size_t ulen = conn->url_len;

    if (req) {
        req->path = malloc(ulen + 2);
        req->hbuf = malloc(conn->hlen + 1);
    }
    if (!req || !req->path || !req->hbuf) {
        if (req) {
            free(req->path);
            free(req->hbuf);
            free(req);
        }
        static const char body[] = "{\"type\":\"about:blank\",\"title\":\"out of memory\","
                                   "\"status\":503}";
        crm__http_conn_send(conn, 503, "application/problem+json", body, sizeof body - 1, 0, 0,
                            NULL);
        crm__http_conn_finish(conn);
        return 0;
    }
    req->srv = srv;
    req->conn = conn;
    req->head = conn->method == HTTP_HEAD;
    req->keep_alive = conn->keep_alive;
    snprintf(req->method, sizeof req->method, "%s",
             llhttp_method_name((llhttp_method_t)conn->method));
    s_peer(conn, req->peer, sizeof req->peer);
    memcpy(req->path, conn->url, ulen);
    req->path[ulen] = '\0';
    req->path[ulen + 1] = '\0';
    req->path[strcspn(req->path, "#")] = '\0';
    char *q = strchr(req->path, '?');
    if (q) {
        *q = '\0';
        req->query = q + 1;
    } else {
        req->query = req->path + strlen(req->path) + 1; /* the second NUL: "" */
    }
    memcpy(req->hbuf, conn->hbuf, conn->hlen);
    req->hbuf[conn->hlen] = '\0';
    req->nhdr = conn->nhdr;
    /* The body moves to the request; the connection starts a new one. */
    req->body = conn->body ? conn->body : strdup("");
    if (conn->body)
        req->body[conn->body_len] = '\0';
    req->body_len = conn->body_len;
    conn->body = NULL;
    conn->body_len = conn->body_cap = 0;

    conn->pending = req;
    conn->dispatching = 1;
    srv->app(req, srv->arg);
    conn->dispatching = 0;
    return conn->pending != NULL;
}

void crm__http_app_conn_gone(http_conn_t *conn)
{
    crm_http_req_t *req = conn->pending;

    free(conn->body);
    conn->body = NULL;
    conn->body_len = conn->body_cap = 0;
    if (!req)
        return;
    conn->pending = NULL;
    req->conn = NULL;
    if (req->on_close)
        req->on_close(req, req->close_arg);
}

/* ---- the request ------------------------------------------------------------ */

const char *crm_http_req_method(const crm_http_req_t *req)
{
    return req->method;
}

const char *crm_http_req_path(const crm_http_req_t *req)
{
    return req->path;
}

const char *crm_http_req_query(const crm_http_req_t *req)
{
    return req->query;
}

const char *crm_http_req_header(const crm_http_req_t *req, const char *name)
{
    const char *p = req->hbuf;

    for (size_t i = 0; i < req->nhdr; i++) {
        const char *value = p + strlen(p) + 1;
        if (!strcasecmp(p, name))
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

const char *crm_http_req_body(const crm_http_req_t *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body;
}

const char *crm_http_req_peer(const crm_http_req_t *req)
{
    return req->peer;
}

int crm_http_req_alive(const crm_http_req_t *req)
{
    return req->conn && !req->conn->closing;
}

void crm_http_req_on_close(crm_http_req_t *req, void (*fn)(crm_http_req_t *req, void *arg),
                           void *arg)
{
    req->on_close = fn;
    req->close_arg = arg;
}

static void s_req_free(crm_http_req_t *req)
{
    free(req->path);
    free(req->hbuf);
    free(req->body);
    free(req);
}

void crm_http_req_respond(crm_http_req_t **req_p, int status, const char *type, const char *headers,
                          const char *body, size_t len)
{
    crm_http_req_t *req = req_p ? *req_p : NULL;

    if (!req)
        return;
    *req_p = NULL;
    http_conn_t *conn = req->conn;
    if (conn && !conn->closing && conn->pending == req) {
        conn->pending = NULL;
        conn->keep_alive = req->keep_alive;
        crm__http_conn_send(conn, status, type ? type : S_DEFAULT_TYPE, body, len, req->head,
                            req->keep_alive && !req->srv->destroyed, headers);
        crm__http_conn_after_response(conn);
    }
    s_req_free(req);
}

int crm_http_req_stream_start(crm_http_req_t *req, int status, const char *type,
                              const char *headers)
{
    char hdr[2048];
    http_conn_t *conn = req->conn;

    if (!conn || conn->closing)
        return -ECONNRESET;
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sConnection: close\r\n\r\n", status,
                     crm__http_reason(status), type, headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof hdr)
        return -EOVERFLOW;
    req->streaming = 1;
    req->keep_alive = 0;
    return crm__http_conn_write(conn, hdr, (size_t)n);
}

int crm_http_req_stream_write(crm_http_req_t *req, const char *data, size_t len)
{
    http_conn_t *conn = req->conn;

    if (!conn || conn->closing)
        return -ECONNRESET;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) > S_WRITE_HIGH_WATER)
        return -ENOBUFS;
    return crm__http_conn_write(conn, data, len);
}

void crm_http_req_stream_end(crm_http_req_t **req_p)
{
    crm_http_req_t *req = req_p ? *req_p : NULL;

    if (!req)
        return;
    *req_p = NULL;
    http_conn_t *conn = req->conn;
    if (conn && !conn->closing && conn->pending == req) {
        conn->pending = NULL;
        conn->keep_alive = 0;
        crm__http_conn_finish(conn);
    }
    s_req_free(req);
}

/* ---- the server -------------------------------------------------------------- */

static void s_no_handler(const char *method, const char *path, crm_http_response_t *res, void *arg)
{
    (void)method;
    (void)path;
    (void)arg;
    crm_http_response_status(res, 500);
}

crm_http_t *crm_http_new_app(uv_loop_t *loop, const char *host, int port, crm_http_app_fn fn,
                             void *arg, size_t max_body, char *err, size_t errlen)
{
    if (!fn || max_body == 0) {
        if (err && errlen)
            snprintf(err, errlen, "http: invalid argument");
        return NULL;
    }
    crm_http_t *srv = crm_http_new(loop, host, port, s_no_handler, arg, err, errlen);
    if (!srv)
        return NULL;
    srv->app = fn;
    srv->max_body = max_body;
    srv->max_request = max_body + S_HEADER_BYTES + S_MAX_URL;
    crm__http_app_settings(&srv->settings);
    return srv;
}
