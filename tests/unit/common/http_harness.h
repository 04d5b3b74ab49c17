/* http_harness.h: an HTTP server of crm/http.h on a loop of its own and
 * uv_tcp clients on the same loop, for test_http.c: no threads, no sleeps.
 * Responses are parsed with llhttp in response mode. */
#ifndef CRM_TEST_HTTP_HARNESS_H
#define CRM_TEST_HTTP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>
#include <uv.h>

#include <crm/http.h>

#define MAX_CHUNKS 4
#define MAX_RESP 8
#define WATCHDOG_MS 10000

typedef struct fixture fixture_t;

typedef struct {
    int status;
    char *body;
    size_t body_len;
    char content_length[32];
    char content_type[64];
    char connection[32];
    char allow[32];
} resp_t;

typedef struct client {
    fixture_t *f;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req[MAX_CHUNKS];
    uv_shutdown_t shutdown_req;
    const char *chunks[MAX_CHUNKS];
    size_t chunk_len[MAX_CHUNKS];
    int wait[MAX_CHUNKS]; /* responses needed before chunk i is sent */
    size_t nchunks;
    size_t next;
    int half_close;     /* shut the write side down after the last chunk */
    unsigned head_mask; /* bit i: response i answers a HEAD */
    int destroy_after;  /* destroy the server after this many responses */
    llhttp_t parser;
    llhttp_settings_t settings;
    resp_t resp[MAX_RESP + 1]; /* the last slot is reused past MAX_RESP */
    int nresp;
    int bad_length; /* responses whose body did not match Content-Length */
    int read_delay; /* start reading only when the fixture's delay timer fires */
    char field[64];
    size_t field_len;
    int in_value;
    char *raw;
    size_t raw_len;
    int eof;
    int read_error;
    int parse_error;
    int connected;
    int closing;
    char rbuf[16 * 1024];
} client_t;

struct fixture {
    uv_loop_t loop;
    crm_http_t *srv;
    int port;
    uv_timer_t watchdog;
    int timed_out;
    client_t *clients;
    size_t nclients;
    size_t open_clients;
    client_t *destroy_on_close; /* NULL: destroy once every client closed */
    void (*on_response)(fixture_t *f, client_t *c);
    int calls;
    char last_method[16];
    char last_path[256];
    size_t max_answered; /* used by the connection-limit test */
    uv_timer_t delay;
    int delay_used;
    void (*on_close)(fixture_t *f, client_t *c); /* before the server may go */
    crm_http_stats_t closed_stats;
    uint64_t closed_at;
};

void handler(const char *method, const char *path, crm_http_response_t *res, void *arg);
void append(char **buf, size_t *len, const char *data, size_t n);
void teardown_all(fixture_t *f);
void client_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
void client_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
void client_start(fixture_t *f, client_t *c);
void client_add(client_t *c, const char *chunk, int wait);
int setup(void **state);
int teardown(void **state);
client_t *clients_new(fixture_t *f, size_t n);
void run(fixture_t *f);
client_t *one_client(fixture_t *f);

#endif
