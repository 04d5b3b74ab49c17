/* test_http.c: unit test of crm/http.h. The server listens on 127.0.0.1 with
 * an ephemeral port and is driven by uv_tcp clients on the same loop, so the
 * test needs no threads and no sleeps; responses are parsed with llhttp in
 * response mode. Every test ends by destroying the server, letting the loop
 * run dry and checking that uv_loop_close() succeeds (no handle left). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_harness.h"

/* ---- tests -------------------------------------------------------------- */

static void test_get_livez(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c, "GET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0);
    client_start(f, c);
    run(f);
    assert_true(c->eof);
    assert_false(c->parse_error);
    assert_int_equal(c->nresp, 1);
    assert_string_equal(c->raw, "HTTP/1.1 200 OK\r\n"
                                "Content-Type: text/plain; charset=utf-8\r\n"
                                "Content-Length: 3\r\n"
                                "Connection: close\r\n"
                                "\r\n"
                                "ok\n");
    assert_int_equal(f->calls, 1);
    assert_string_equal(f->last_method, "GET");
    assert_string_equal(f->last_path, "/livez");
}

static void test_query_stripped(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c, "GET /echo?x=1&y=/z HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0);
    client_start(f, c);
    run(f);
    assert_int_equal(c->nresp, 1);
    assert_int_equal(c->resp[0].status, 200);
    assert_string_equal(c->resp[0].body, "GET /echo");
    assert_string_equal(f->last_path, "/echo");
}

static void test_head(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c, "HEAD /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0);
    c->head_mask = 1;
    client_start(f, c);
    run(f);
    assert_true(c->eof);
    assert_int_equal(c->nresp, 1);
    assert_int_equal(c->resp[0].status, 200);
    assert_string_equal(c->resp[0].content_length, "3");
    assert_int_equal(c->resp[0].body_len, 0);
    /* Nothing follows the header block on the wire. */
    assert_true(c->raw_len >= 4);
    assert_memory_equal(c->raw + c->raw_len - 4, "\r\n\r\n", 4);
    assert_string_equal(f->last_method, "HEAD");
}

static void test_post_405(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c,
               "POST /livez HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
               "GET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
               0);
    client_start(f, c);
    run(f);
    assert_int_equal(c->nresp, 2);
    assert_int_equal(c->resp[0].status, 405);
    assert_string_equal(c->resp[0].allow, "GET, HEAD");
    /* The body was skipped, the connection stayed usable. */
    assert_string_equal(c->resp[0].connection, "keep-alive");
    assert_int_equal(c->resp[1].status, 200);
    assert_int_equal(f->calls, 1);
}

static void test_garbage_400(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c, "\x01\x02 garbage \xff\r\n\r\n", 0);
    client_start(f, c);
    run(f);
    assert_true(c->eof);
    assert_int_equal(c->nresp, 1);
    assert_int_equal(c->resp[0].status, 400);
    assert_string_equal(c->resp[0].connection, "close");
    assert_int_equal(f->calls, 0);
}

static void test_pipelined(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c,
               "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /echo?q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
               0);
    client_start(f, c);
    run(f);
    assert_true(c->eof);
    assert_int_equal(c->nresp, 2);
    assert_int_equal(c->resp[0].status, 200);
    assert_string_equal(c->resp[0].body, "ok\n");
    assert_string_equal(c->resp[0].connection, "keep-alive");
    assert_int_equal(c->resp[1].status, 200);
    assert_string_equal(c->resp[1].body, "GET /echo");
    assert_string_equal(c->resp[1].connection, "close");
    assert_int_equal(f->calls, 2);
}

static void test_keep_alive_sequential(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    client_add(c, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", 1);
    client_add(c, "GET /empty HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 2);
    client_start(f, c);
    run(f);
    assert_int_equal(c->nresp, 3);
    assert_int_equal(c->resp[0].status, 200);
    assert_string_equal(c->resp[0].content_type, "text/plain; version=0.0.4");
    assert_non_null(c->resp[0].body);
    assert_int_equal(strtoul(c->resp[0].content_length, NULL, 10), c->resp[0].body_len);
    assert_non_null(strstr(c->resp[0].body, "crm_test_metric{i=\"1999\"} 1999\n"));
    assert_string_equal(c->resp[0].connection, "keep-alive");
    assert_int_equal(c->resp[1].status, 404);
    assert_int_equal(c->resp[2].status, 204);
    assert_string_equal(c->resp[2].content_length, "");
    assert_int_equal(c->resp[2].body_len, 0);
}

static void test_http10_closes(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c, "GET /livez HTTP/1.0\r\n\r\n", 0);
    client_start(f, c);
    run(f);
    assert_true(c->eof);
    assert_int_equal(c->nresp, 1);
    assert_string_equal(c->resp[0].connection, "close");
}

static void test_half_close(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    /* Keep-alive request, then the client shuts its write side: the answer
     * still arrives, then the server closes. */
    client_add(c, "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    c->half_close = 1;
    client_start(f, c);
    run(f);
    assert_true(c->eof);
    assert_int_equal(c->nresp, 1);
    assert_string_equal(c->resp[0].connection, "keep-alive");
    assert_string_equal(c->resp[0].body, "ok\n");
}

static void test_uri_too_long(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);
    size_t n = 9000;
    char *req = malloc(n + 64);

    assert_non_null(req);
    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', n);
    strcpy(req + 5 + n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    client_add(c, req, 0);
    client_start(f, c);
    run(f);
    free(req);
    assert_int_equal(c->nresp, 1);
    assert_int_equal(c->resp[0].status, 414);
    assert_string_equal(c->resp[0].connection, "close");
    assert_int_equal(f->calls, 0);
}

static void test_request_too_large(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);
    size_t n = 100000;
    const char *head = "GET /livez HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n";
    size_t hl = strlen(head);
    char *req = malloc(hl + n + 1);

    assert_non_null(req);
    memcpy(req, head, hl);
    memset(req + hl, 'b', n);
    req[hl + n] = '\0';
    client_add(c, req, 0);
    client_start(f, c);
    run(f);
    free(req);
    assert_int_equal(c->nresp, 1);
    assert_int_equal(c->resp[0].status, 413);
    assert_int_equal(f->calls, 0);
}

static void test_destroy_with_open_connection(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    /* After the first answer the server is destroyed while the connection
     * is idle in keep-alive: the client sees the connection end and the
     * loop still runs dry. */
    client_add(c, "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    c->destroy_after = 1;
    client_start(f, c);
    run(f);
    assert_int_equal(c->nresp, 1);
    assert_true(c->eof || c->read_error);
}

/* Backpressure: many pipelined requests for a large body while the client
 * does not read. The server stops taking requests once its write backlog is
 * big and resumes when it drains; every answer still arrives, whole and in
 * order. (The delay only makes the backlog likely; correctness does not
 * depend on it.) */
#define PIPELINED 150

static void delay_cb(uv_timer_t *t)
{
    fixture_t *f = t->data;
    client_t *c = &f->clients[0];

    if (!c->closing)
        assert_int_equal(uv_read_start((uv_stream_t *)&c->tcp, client_alloc_cb, client_read_cb), 0);
}

static void test_pipelined_backpressure(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);
    static const char one[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
    static const char last[] = "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    char *req = NULL;
    size_t len = 0;

    for (int i = 0; i < PIPELINED - 1; i++)
        append(&req, &len, one, sizeof one - 1);
    append(&req, &len, last, sizeof last - 1);
    client_add(c, req, 0);
    c->read_delay = 1;
    assert_int_equal(uv_timer_init(&f->loop, &f->delay), 0);
    f->delay_used = 1;
    f->delay.data = f;
    assert_int_equal(uv_timer_start(&f->delay, delay_cb, 100, 0), 0);
    client_start(f, c);
    run(f);
    free(req);
    assert_false(c->parse_error);
    assert_true(c->eof);
    assert_int_equal(c->nresp, PIPELINED);
    assert_int_equal(c->bad_length, 0);
    assert_int_equal(f->calls, PIPELINED);
    /* The last answer is the one to the last request. */
    assert_string_equal(c->resp[MAX_RESP].body, "GET /echo");
    assert_string_equal(c->resp[MAX_RESP].connection, "close");
}

/* Connection limit: 256 connections each get an answer and stay open; the
 * 257th (a health probe, say) still gets in and is answered, and the oldest
 * of the others is closed to make room. */
#define LIMIT 256

static void limit_on_response(fixture_t *f, client_t *c)
{
    if (++f->max_answered == LIMIT)
        client_start(f, &f->clients[LIMIT]);
    if (c == &f->clients[LIMIT]) {
        crm_http_stats_t st;

        crm_http_stats(f->srv, &st);
        assert_int_equal(st.evicted_total, 1);
        assert_int_equal(st.evicted_per_addr, 0);
        assert_int_equal(st.open, LIMIT);
        crm_http_destroy(&f->srv);
    }
}

static void test_connection_limit(void **state)
{
    fixture_t *f = *state;
    client_t *cs = clients_new(f, LIMIT + 1);

    assert_int_equal(crm_http_set_limits(f->srv, &(crm_http_limits_t){.max_conns = LIMIT,
                                                                      .max_conns_per_addr = 1000}),
                     0);
    f->on_response = limit_on_response;
    for (size_t i = 0; i < LIMIT; i++) {
        client_add(&cs[i], "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n", 0);
        client_start(f, &cs[i]);
    }
    client_add(&cs[LIMIT], "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    run(f);
    for (size_t i = 0; i <= LIMIT; i++)
        assert_int_equal(cs[i].nresp, 1);
    assert_int_equal(f->calls, LIMIT + 1);
}

/* Per-address limit: with a limit of 2, a third keep-alive connection from
 * 127.0.0.1 is answered and the first one is closed for it. Each client
 * starts once the one before it has its answer, so the order is known. */
static void per_addr_on_response(fixture_t *f, client_t *c)
{
    size_t i = (size_t)(c - f->clients);
    crm_http_stats_t st;

    if (i + 1 < f->nclients) {
        client_start(f, &f->clients[i + 1]);
        return;
    }
    crm_http_stats(f->srv, &st);
    assert_int_equal(st.evicted_per_addr, 1);
    assert_int_equal(st.evicted_total, 0);
    assert_int_equal(st.open, 2);
    /* The oldest connection is the one closed; it has seen its end or is
     * about to. */
    crm_http_destroy(&f->srv);
}

static void test_per_address_limit(void **state)
{
    fixture_t *f = *state;
    client_t *cs = clients_new(f, 3);

    assert_int_equal(crm_http_set_limits(f->srv, &(crm_http_limits_t){.max_conns_per_addr = 2}), 0);
    f->on_response = per_addr_on_response;
    for (size_t i = 0; i < 3; i++)
        client_add(&cs[i], "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    client_start(f, &cs[0]);
    run(f);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(cs[i].nresp, 1);
    assert_int_equal(f->calls, 3);
}

/* A probe whose request is already there when a burst of newer connections
 * arrives: the loop accepts the probe and the whole burst in one pass,
 * before it reports the probe's request, so the probe becomes the oldest
 * connection while its limit is crossed again and again. Its request is
 * read and answered before it could be closed for room; the burst's
 * connections, which sent nothing, are the ones closed. The clients are
 * plain blocking sockets: the kernel completes their handshakes into the
 * listen queue before the loop runs, which fixes the order. */
#define BURST 20

typedef struct {
    fixture_t *f;
    uv_poll_t poll;
    int probe;
    int burst[BURST];
    char buf[4096];
    size_t len;
    crm_http_stats_t stats;
} burst_t;

static int connect_blocking(int port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(uv_ip4_addr("127.0.0.1", port, &addr), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    return fd;
}

static void burst_poll_cb(uv_poll_t *h, int status, int events)
{
    burst_t *b = h->data;
    ssize_t n = -1;

    (void)events;
    if (status == 0)
        n = recv(b->probe, b->buf + b->len, sizeof b->buf - 1 - b->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n > 0) {
        b->len += (size_t)n;
        b->buf[b->len] = '\0';
        if (b->len < sizeof b->buf - 1)
            return;
    }
    /* End of the answer (the server closes after it), a reset or an error. */
    crm_http_stats(b->f->srv, &b->stats);
    uv_close((uv_handle_t *)&b->poll, NULL);
    crm_http_destroy(&b->f->srv);
    teardown_all(b->f);
}

static void burst_run(fixture_t *f, const crm_http_limits_t *limits, burst_t *b)
{
    static const char req[] = "GET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

    assert_int_equal(crm_http_set_limits(f->srv, limits), 0);
    b->f = f;
    b->probe = connect_blocking(f->port);
    assert_int_equal(send(b->probe, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    for (int i = 0; i < BURST; i++)
        b->burst[i] = connect_blocking(f->port);
    assert_int_equal(uv_poll_init(&f->loop, &b->poll, b->probe), 0);
    b->poll.data = b;
    assert_int_equal(uv_poll_start(&b->poll, UV_READABLE, burst_poll_cb), 0);
    run(f);
    close(b->probe);
    for (int i = 0; i < BURST; i++)
        close(b->burst[i]);
    assert_non_null(strstr(b->buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(b->buf, "\r\n\r\nok\n"));
}

static void test_probe_behind_burst(void **state)
{
    burst_t b = {0};

    burst_run(*state, &(crm_http_limits_t){.max_conns = 8, .max_conns_per_addr = 1000}, &b);
    /* The probe plus BURST, eight kept: the rest were closed for room. */
    assert_true(b.stats.evicted_total >= BURST + 1 - 8);
    assert_int_equal(b.stats.evicted_per_addr, 0);
}

static void test_probe_behind_burst_same_addr(void **state)
{
    burst_t b = {0};

    burst_run(*state, &(crm_http_limits_t){.max_conns_per_addr = 4}, &b);
    assert_true(b.stats.evicted_per_addr >= BURST + 1 - 4);
    assert_int_equal(b.stats.evicted_total, 0);
}

/* Head deadline: a client that trickles one header byte every 20 ms is
 * closed when the request deadline passes, although it is never idle for
 * long; the deadline is not reset by each byte. */
#define TRICKLE_MS 20
#define HEAD_MS 300

static void trickle_cb(uv_timer_t *t)
{
    fixture_t *f = t->data;
    client_t *c = &f->clients[0];
    uv_buf_t b = uv_buf_init("X", 1);

    if (c->closing) {
        uv_timer_stop(t);
        return;
    }
    if (c->connected)
        (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
}

static void stats_on_close(fixture_t *f, client_t *c)
{
    (void)c;
    crm_http_stats(f->srv, &f->closed_stats);
    f->closed_at = uv_now(&f->loop);
}

static void test_head_deadline(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);
    uint64_t start;

    assert_int_equal(crm_http_set_limits(f->srv, &(crm_http_limits_t){.head_timeout_ms = HEAD_MS}),
                     0);
    f->on_close = stats_on_close;
    client_add(c, "GET /livez HTTP/1.1\r\nX-Slow: ", 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->delay), 0);
    f->delay_used = 1;
    f->delay.data = f;
    assert_int_equal(uv_timer_start(&f->delay, trickle_cb, TRICKLE_MS, TRICKLE_MS), 0);
    uv_update_time(&f->loop);
    start = uv_now(&f->loop);
    client_start(f, c);
    run(f);
    assert_int_equal(c->nresp, 0);
    assert_int_equal(f->calls, 0);
    assert_true(c->eof || c->read_error);
    assert_int_equal(f->closed_stats.head_timeouts, 1);
    assert_int_equal(f->closed_stats.idle_timeouts, 0);
    assert_true(f->closed_at - start >= HEAD_MS - 10);
    assert_true(f->closed_at - start < WATCHDOG_MS / 2);
}

/* Idle timeout: after its answer a keep-alive connection that asks nothing
 * more is closed once the idle time passes, counted as idle, not as a slow
 * request. */
static void test_idle_timeout(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    assert_int_equal(crm_http_set_limits(f->srv, &(crm_http_limits_t){.idle_timeout_ms = 200}), 0);
    f->on_close = stats_on_close;
    client_add(c, "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    client_start(f, c);
    run(f);
    assert_int_equal(c->nresp, 1);
    assert_true(c->eof);
    assert_int_equal(f->closed_stats.idle_timeouts, 1);
    assert_int_equal(f->closed_stats.head_timeouts, 0);
}

/* The Prometheus lines name every counter with the service label. */
static void test_metrics_text(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);
    const char *text;

    client_add(c, "GET /httpmetrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0);
    client_start(f, c);
    run(f);
    assert_int_equal(c->nresp, 1);
    text = c->resp[0].body;
    assert_non_null(text);
    assert_non_null(strstr(text, "crm_http_connections{crm_service=\"sales\"} 1\n"));
    assert_non_null(strstr(text, "crm_http_evicted_total{crm_service=\"sales\"} 0\n"));
    assert_non_null(strstr(text, "crm_http_evicted_per_address_total{crm_service=\"sales\"} 0\n"));
    assert_non_null(strstr(text, "crm_http_head_timeouts_total{crm_service=\"sales\"} 0\n"));
    assert_non_null(strstr(text, "crm_http_idle_timeouts_total{crm_service=\"sales\"} 0\n"));
    assert_non_null(strstr(text, "# TYPE crm_http_rejected_total counter\n"));
}

static void test_destroy_from_handler(void **state)
{
    fixture_t *f = *state;
    client_t *c = one_client(f);

    client_add(c,
               "GET /quit HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n",
               0);
    client_start(f, c);
    run(f);
    assert_int_equal(f->calls, 1);
    assert_int_equal(c->nresp, 0);
    assert_true(c->eof || c->read_error);
}

static void test_new_port_in_use(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";

    /* Same loop, same port as the fixture's server: refused, with a reason,
     * and nothing is left behind once the loop has run. */
    assert_null(crm_http_new(&f->loop, "127.0.0.1", f->port, handler, f, err, sizeof err));
    assert_non_null(strstr(err, "127.0.0.1"));
    f->open_clients = 0;
    crm_http_destroy(&f->srv);
    teardown_all(f);
    run(f);
}

static void test_new_rejects_bad_host(void **state)
{
    uv_loop_t loop;
    char err[128] = "";

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_null(crm_http_new(&loop, "not-an-address", 0, handler, NULL, err, sizeof err));
    assert_true(err[0] != '\0');
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    crm_http_destroy(NULL);
}

static void test_ipv6_and_destroy_idle(void **state)
{
    uv_loop_t loop;
    char err[128] = "";
    crm_http_t *srv;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    srv = crm_http_new(&loop, "::1", 0, handler, NULL, err, sizeof err);
    if (srv) { /* a host without IPv6 may refuse ::1 */
        assert_true(crm_http_port(srv) > 0);
    }
    crm_http_destroy(&srv);
    assert_null(srv);
    crm_http_destroy(&srv);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_livez, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_stripped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_400, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_sequential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_with_open_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_address_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_behind_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_behind_burst_same_addr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_from_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_port_in_use, setup, teardown),
        cmocka_unit_test(test_new_rejects_bad_host),
        cmocka_unit_test(test_ipv6_and_destroy_idle),
    };

    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
