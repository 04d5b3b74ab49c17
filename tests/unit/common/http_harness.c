/* http_harness.c: the server handler, the clients and the fixture of
 * test_http.c (see http_harness.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_harness.h"

/* ---- server side -------------------------------------------------------- */

void handler(const char *method, const char *path, crm_http_response_t *res, void *arg)
{
    fixture_t *f = arg;

    f->calls++;
    snprintf(f->last_method, sizeof f->last_method, "%s", method);
    snprintf(f->last_path, sizeof f->last_path, "%s", path);
    if (strcmp(path, "/livez") == 0) {
        assert_int_equal(crm_http_response_append(res, "ok\n", 3), 0);
    } else if (strcmp(path, "/echo") == 0) {
        assert_int_equal(crm_http_response_printf(res, "%s %s", method, path), 0);
    } else if (strcmp(path, "/metrics") == 0) {
        crm_http_response_content_type(res, "text/plain; version=0.0.4");
        for (int i = 0; i < 2000; i++)
            assert_int_equal(crm_http_response_printf(res, "crm_test_metric{i=\"%d\"} %d\n", i, i),
                             0);
    } else if (strcmp(path, "/httpmetrics") == 0) {
        assert_int_equal(crm_http_metrics(f->srv, "sales", res), 0);
    } else if (strcmp(path, "/quit") == 0) {
        /* Destroying the server from its own handler: nothing is sent. */
        assert_int_equal(crm_http_response_append(res, "bye\n", 4), 0);
        crm_http_destroy(&f->srv);
    } else if (strcmp(path, "/empty") == 0) {
        crm_http_response_status(res, 204);
    } else {
        crm_http_response_status(res, 404);
        assert_int_equal(crm_http_response_append(res, "not found\n", 10), 0);
    }
}

/* ---- client side -------------------------------------------------------- */

void append(char **buf, size_t *len, const char *data, size_t n)
{
    char *p = realloc(*buf, *len + n + 1);

    assert_non_null(p);
    memcpy(p + *len, data, n);
    *len += n;
    p[*len] = '\0';
    *buf = p;
}

static void client_close_cb(uv_handle_t *h)
{
    client_t *c = h->data;
    fixture_t *f = c->f;

    if (f->on_close)
        f->on_close(f, c);
    f->open_clients--;
    if (f->destroy_on_close == c || f->open_clients == 0)
        crm_http_destroy(&f->srv);
    if (f->open_clients == 0)
        teardown_all(f);
}

static void client_close(client_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, client_close_cb);
}

static void client_write_cb(uv_write_t *req, int status)
{
    (void)req;
    (void)status; /* the server may close before it has read everything */
}

static void client_shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

static void client_send_ready(client_t *c)
{
    while (!c->closing && c->next < c->nchunks && c->wait[c->next] <= c->nresp) {
        size_t i = c->next++;
        uv_buf_t b = uv_buf_init((char *)c->chunks[i], (unsigned int)c->chunk_len[i]);

        assert_int_equal(uv_write(&c->write_req[i], (uv_stream_t *)&c->tcp, &b, 1, client_write_cb),
                         0);
        if (c->next == c->nchunks && c->half_close)
            assert_int_equal(
                uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, client_shutdown_cb), 0);
    }
}

static resp_t *cur_resp(client_t *c)
{
    return &c->resp[c->nresp < MAX_RESP ? c->nresp : MAX_RESP];
}

static int is_head(const client_t *c)
{
    return c->nresp < 32 && ((c->head_mask >> c->nresp) & 1u);
}

static int on_resp_begin(llhttp_t *p)
{
    client_t *c = p->data;
    resp_t *r = cur_resp(c);

    free(r->body);
    memset(r, 0, sizeof *r);
    c->field_len = 0;
    c->in_value = 0;
    return 0;
}

static int on_resp_field(llhttp_t *p, const char *at, size_t len)
{
    client_t *c = p->data;

    if (c->in_value) {
        c->field_len = 0;
        c->in_value = 0;
    }
    assert_true(c->field_len + len < sizeof c->field);
    memcpy(c->field + c->field_len, at, len);
    c->field_len += len;
    c->field[c->field_len] = '\0';
    return 0;
}

static void cat(char *dst, size_t cap, const char *at, size_t len)
{
    size_t have = strlen(dst);

    assert_true(have + len < cap);
    memcpy(dst + have, at, len);
    dst[have + len] = '\0';
}

static int on_resp_value(llhttp_t *p, const char *at, size_t len)
{
    client_t *c = p->data;
    resp_t *r = cur_resp(c);

    c->in_value = 1;
    if (strcasecmp(c->field, "Content-Length") == 0)
        cat(r->content_length, sizeof r->content_length, at, len);
    else if (strcasecmp(c->field, "Content-Type") == 0)
        cat(r->content_type, sizeof r->content_type, at, len);
    else if (strcasecmp(c->field, "Connection") == 0)
        cat(r->connection, sizeof r->connection, at, len);
    else if (strcasecmp(c->field, "Allow") == 0)
        cat(r->allow, sizeof r->allow, at, len);
    return 0;
}

static int on_resp_headers_complete(llhttp_t *p)
{
    client_t *c = p->data;

    cur_resp(c)->status = p->status_code;
    /* A response to HEAD has no body whatever Content-Length says. */
    return is_head(c) ? 1 : 0;
}

static int on_resp_body(llhttp_t *p, const char *at, size_t len)
{
    client_t *c = p->data;
    resp_t *r = cur_resp(c);

    append(&r->body, &r->body_len, at, len);
    return 0;
}

static int on_resp_complete(llhttp_t *p)
{
    client_t *c = p->data;
    resp_t *r = cur_resp(c);

    if (!(is_head(c)) && r->content_length[0] &&
        strtoul(r->content_length, NULL, 10) != r->body_len)
        c->bad_length++;
    c->nresp++;
    return 0;
}

void client_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    client_t *c = h->data;

    (void)suggested;
    *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

void client_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client_t *c = s->data;
    fixture_t *f = c->f;
    int before = c->nresp;

    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        if (nread == UV_EOF)
            c->eof = 1;
        else
            c->read_error = (int)nread;
        client_close(c);
        return;
    }
    /* The raw bytes are only compared in small tests; keep the first 64 KiB
     * (growing a big buffer read by read is quadratic under ASan). */
    if (c->raw_len < 64 * 1024)
        append(&c->raw, &c->raw_len, buf->base, (size_t)nread);
    if (llhttp_execute(&c->parser, buf->base, (size_t)nread) != HPE_OK) {
        c->parse_error = 1;
        client_close(c);
        return;
    }
    if (c->nresp != before && f->on_response)
        f->on_response(f, c);
    if (c->destroy_after && c->nresp >= c->destroy_after)
        crm_http_destroy(&f->srv);
    client_send_ready(c);
}

static void client_connect_cb(uv_connect_t *req, int status)
{
    client_t *c = req->data;

    if (c->closing)
        return;
    if (status < 0) {
        c->read_error = status;
        client_close(c);
        return;
    }
    c->connected = 1;
    if (!c->read_delay)
        assert_int_equal(uv_read_start((uv_stream_t *)&c->tcp, client_alloc_cb, client_read_cb), 0);
    client_send_ready(c);
}

void client_start(fixture_t *f, client_t *c)
{
    struct sockaddr_in addr;

    c->f = f;
    llhttp_settings_init(&c->settings);
    c->settings.on_message_begin = on_resp_begin;
    c->settings.on_header_field = on_resp_field;
    c->settings.on_header_value = on_resp_value;
    c->settings.on_headers_complete = on_resp_headers_complete;
    c->settings.on_body = on_resp_body;
    c->settings.on_message_complete = on_resp_complete;
    llhttp_init(&c->parser, HTTP_RESPONSE, &c->settings);
    c->parser.data = c;
    assert_int_equal(uv_tcp_init(&f->loop, &c->tcp), 0);
    c->tcp.data = c;
    c->connect_req.data = c;
    f->open_clients++;
    assert_int_equal(uv_ip4_addr("127.0.0.1", f->port, &addr), 0);
    assert_int_equal(
        uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&addr, client_connect_cb),
        0);
}

void client_add(client_t *c, const char *chunk, int wait)
{
    assert_true(c->nchunks < MAX_CHUNKS);
    c->chunks[c->nchunks] = chunk;
    c->chunk_len[c->nchunks] = strlen(chunk);
    c->wait[c->nchunks] = wait;
    c->nchunks++;
}

static void client_free(client_t *c)
{
    for (int i = 0; i <= MAX_RESP; i++)
        free(c->resp[i].body);
    free(c->raw);
}

/* ---- fixture ------------------------------------------------------------ */

static void watchdog_cb(uv_timer_t *t)
{
    fixture_t *f = t->data;

    f->timed_out = 1;
    crm_http_destroy(&f->srv);
    for (size_t i = 0; i < f->nclients; i++)
        client_close(&f->clients[i]);
    if (f->open_clients == 0)
        teardown_all(f);
}

void teardown_all(fixture_t *f)
{
    if (f->delay_used && !uv_is_closing((uv_handle_t *)&f->delay))
        uv_close((uv_handle_t *)&f->delay, NULL);
    if (!uv_is_closing((uv_handle_t *)&f->watchdog))
        uv_close((uv_handle_t *)&f->watchdog, NULL);
}

int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[256] = "";

    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->srv = crm_http_new(&f->loop, "127.0.0.1", 0, handler, f, err, sizeof err);
    assert_non_null(f->srv);
    f->port = crm_http_port(f->srv);
    assert_true(f->port > 0 && f->port < 65536);
    assert_int_equal(uv_timer_init(&f->loop, &f->watchdog), 0);
    f->watchdog.data = f;
    assert_int_equal(uv_timer_start(&f->watchdog, watchdog_cb, WATCHDOG_MS, 0), 0);
    *state = f;
    return 0;
}

int teardown(void **state)
{
    fixture_t *f = *state;

    for (size_t i = 0; i < f->nclients; i++)
        client_free(&f->clients[i]);
    free(f->clients);
    free(f);
    return 0;
}

client_t *clients_new(fixture_t *f, size_t n)
{
    f->clients = calloc(n, sizeof *f->clients);
    assert_non_null(f->clients);
    f->nclients = n;
    return f->clients;
}

/* Runs the loop until every handle is gone: the clients close on EOF, the
 * last one destroys the server, then the watchdog goes too. */
void run(fixture_t *f)
{
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_false(f->timed_out);
    assert_null(f->srv);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* One client, its chunks already added, run to completion. */
client_t *one_client(fixture_t *f)
{
    return clients_new(f, 1);
}
