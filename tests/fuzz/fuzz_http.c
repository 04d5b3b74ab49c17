/* fuzz_http.c: the operator HTTP endpoint (common/src/http.c) fed raw
 * request bytes over a real loopback connection, so the fuzzer drives the
 * same code a client does: llhttp, the limits, pipelining, the response
 * writer and the connection's end. One server lives for the whole run;
 * each input is one connection that writes the bytes, half-closes and reads
 * until the server closes. A connection the server does not end within
 * S_HANG_MS is a finding (a hang).
 *
 * The client resets its side at the end (SO_LINGER 0) so that a long run
 * does not use up ephemeral ports in TIME_WAIT. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <crm/http.h>

#define S_HANG_MS 10000

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_shutdown_t shutdown;
    uv_timer_t hang;
    int open_handles;
    char rbuf[64 * 1024];
} s_client_t;

static uv_loop_t s_loop;
static crm_http_t *s_srv;
static int s_port;

static void s_handler(const char *method, const char *path, crm_http_response_t *res, void *arg)
{
    (void)method;
    (void)arg;
    if (!strcmp(path, "/livez")) {
        crm_http_response_printf(res, "ok\n");
    } else if (!strcmp(path, "/readyz")) {
        crm_http_response_status(res, 503);
        crm_http_response_printf(res, "not ready: database\n");
    } else if (!strcmp(path, "/metrics")) {
        crm_http_response_content_type(res, "text/plain; version=0.0.4");
        for (int i = 0; i < 500; i++)
            crm_http_response_printf(res, "crm_fuzz{i=\"%d\"} %d\n", i, i);
        crm_http_metrics(s_srv, "fuzz", res);
    } else if (!strcmp(path, "/empty")) {
        crm_http_response_status(res, 204);
    } else {
        crm_http_response_status(res, 404);
        crm_http_response_printf(res, "not found: %s\n", path);
    }
}

static void s_init(void)
{
    char err[256];
    if (s_srv)
        return;
    if (uv_loop_init(&s_loop) < 0)
        abort();
    s_srv = crm_http_new(&s_loop, "127.0.0.1", 0, s_handler, NULL, err, sizeof err);
    if (!s_srv) {
        fprintf(stderr, "fuzz_http: %s\n", err);
        abort();
    }
    s_port = crm_http_port(s_srv);
}

static void s_close_cb(uv_handle_t *h)
{
    s_client_t *c = h->data;
    c->open_handles--;
}

static void s_client_end(s_client_t *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    uv_timer_stop(&c->hang);
    uv_close((uv_handle_t *)&c->hang, s_close_cb);
    if (uv_tcp_close_reset(&c->tcp, s_close_cb) < 0)
        uv_close((uv_handle_t *)&c->tcp, s_close_cb);
}

static void s_hang_cb(uv_timer_t *t)
{
    (void)t;
    crm_fuzz_fail("the server ended the connection", __FILE__, __LINE__);
}

static void s_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    s_client_t *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void s_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0)
        s_client_end(s->data);
}

static void s_write_cb(uv_write_t *req, int status)
{
    (void)req;
    (void)status; /* the server may close before reading everything */
}

static void s_shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

static const uint8_t *s_data;
static size_t s_size;

static void s_connect_cb(uv_connect_t *req, int status)
{
    s_client_t *c = req->data;
    if (status < 0) {
        fprintf(stderr, "fuzz_http: connect: %s\n", uv_strerror(status));
        abort();
    }
    if (s_size) {
        uv_buf_t b = uv_buf_init((char *)s_data, (unsigned int)s_size);
        if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, s_write_cb) < 0) {
            s_client_end(c);
            return;
        }
    }
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, s_shutdown_cb) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, s_alloc_cb, s_read_cb) < 0)
        s_client_end(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static s_client_t c;
    struct sockaddr_in addr;

    /* The request limit is 64 KiB: larger inputs test nothing more. */
    if (size > 128 * 1024)
        return 0;
    s_init();
    memset(&c, 0, sizeof c);
    s_data = data;
    s_size = size;
    if (uv_tcp_init(&s_loop, &c.tcp) < 0 || uv_timer_init(&s_loop, &c.hang) < 0)
        abort();
    c.open_handles = 2;
    c.tcp.data = c.hang.data = c.connect.data = &c;
    uv_timer_start(&c.hang, s_hang_cb, S_HANG_MS, 0);
    uv_ip4_addr("127.0.0.1", s_port, &addr);
    if (uv_tcp_connect(&c.connect, &c.tcp, (const struct sockaddr *)&addr, s_connect_cb) < 0)
        abort();
    while (c.open_handles > 0)
        uv_run(&s_loop, UV_RUN_ONCE);
    /* Let the server release what the connection left (close callbacks). */
    uv_run(&s_loop, UV_RUN_NOWAIT);
    return 0;
}
