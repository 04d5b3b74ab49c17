/* http_int.h: what http.c (connections and requests), http_accept.c
 * (accepting and the connection limits) and http_response.c (responses and
 * metrics) share; private to common/src. */
#ifndef CRM_HTTP_INT_H
#define CRM_HTTP_INT_H

#include <crm/http.h>

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>
#include <uv.h>

#define S_DEFAULT_TYPE "text/plain; charset=utf-8"

struct crm_http_response {
    int status;
    const char *content_type;
    char *body;
    size_t len;
    size_t cap;
    int oom; /* an append failed: the response becomes a 500 */
};

/* The reason phrase of an HTTP status code ("Unknown" for others). */
const char *crm__http_reason(int status);

/* Fixed limits of the endpoint; the settable ones are crm_http_limits_t. */
#define S_MAX_URL 8192
#define S_MAX_REQUEST (64 * 1024)
#define S_LINGER_MS 2000
#define S_READ_BUF (16 * 1024)
/* A client that pipelines requests without reading the answers is not read
 * from while more than this is queued for it, and again once it drains. */
#define S_WRITE_HIGH_WATER (1024 * 1024)
#define S_WRITE_LOW_WATER (256 * 1024)
#define S_BACKLOG 511

typedef struct http_conn http_conn_t;

/* Application mode (http_app.c): the head's header lines, kept as
 * "name\0value\0" pairs. */
#define S_MAX_HEADERS 64
#define S_HEADER_BYTES 8192

/* What the connection's timer is waiting for, to count the right crossing. */
typedef enum { S_TIMER_HEAD, S_TIMER_IDLE, S_TIMER_OTHER } s_timer_kind_t;

struct crm_http {
    uv_loop_t *loop;
    uv_tcp_t listener;
    llhttp_settings_t settings; /* shared by every connection's parser */
    crm_http_handler_fn handler;
    void *arg;
    crm_http_limits_t limits;
    crm_http_stats_t stats;  /* stats.open is nlive, filled in on demand */
    http_conn_t *conns;      /* every connection not yet released, oldest first */
    http_conn_t *conns_tail; /* the newest */
    size_t nconns;           /* in the list, closing or not */
    int accept_held;         /* a connection waits in the listen queue */
    size_t nlive;            /* in the list and not closing */
    int port;
    int destroyed;
    int listener_closed;
    crm_http_app_fn app; /* application mode when not NULL */
    size_t max_body;     /* application mode */
    size_t max_request;  /* bytes of one request, head and body */
};

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    crm_http_t *server;
    http_conn_t *prev;
    http_conn_t *next;
    llhttp_t parser;
    int open_handles;     /* handles whose close callback is still due */
    int closing;          /* uv_close called */
    int finishing;        /* no more requests: shutdown queued, input discarded */
    int shutdown_done;    /* the shutdown completed */
    int eof;              /* the peer closed its side */
    int reading;          /* uv_read_start is in effect */
    int throttled;        /* reading paused until the write backlog drains */
    int message_complete; /* set by on_message_complete, consumed by s_conn_process */
    int keep_alive;       /* of the request just completed */
    int url_too_long;
    int in_head;     /* a request is under way: the head deadline runs */
    int timer_kind;  /* s_timer_kind_t */
    int addr_family; /* AF_UNSPEC when the peer address is unknown */
    uint8_t addr[16];
    uint8_t method;
    size_t req_bytes; /* bytes fed to the parser since the last complete request */
    size_t url_len;
    size_t rpos; /* unparsed input is rbuf[rpos, rlen) */
    size_t rlen;
    /* application mode: the request being read and the one outstanding */
    crm_http_req_t *pending;
    int dispatching;     /* inside the application's callback */
    int header_value;    /* the last header callback was a value */
    int header_overflow; /* too many or too long header lines */
    int body_too_large;
    size_t nhdr;
    size_t hlen;
    char *body;
    size_t body_len;
    size_t body_cap;
    char hbuf[S_HEADER_BYTES];
    char url[S_MAX_URL + 1];
    char rbuf[S_READ_BUF];
};

typedef struct http_write {
    uv_write_t req;
    size_t len;
    char data[];
} http_write_t;

/* Connections (http.c), for http_accept.c. */
void crm__http_conn_close(http_conn_t *conn);
void crm__http_conn_close_cb(uv_handle_t *handle);
void crm__http_conn_begin_request(http_conn_t *conn);
void crm__http_conn_start_reading(http_conn_t *conn);
/* Handles input that has already arrived on `conn` without waiting for the
 * loop to report it (one non-blocking recv). */
void crm__http_conn_poll_input(http_conn_t *conn);

/* Queues bytes on the connection; 0 or a negative error (then the
 * connection is closed). */
int crm__http_conn_write(http_conn_t *conn, const char *data, size_t len);
/* Queues one complete response (http.c). */
int crm__http_conn_send(http_conn_t *conn, int status, const char *type, const char *body,
                        size_t body_len, int head, int keep_alive, const char *extra);
/* After a response: keep-alive or finish, then go on with buffered input. */
void crm__http_conn_after_response(http_conn_t *conn);
void crm__http_conn_finish(http_conn_t *conn);

/* Application mode (http_app.c): parser callbacks, and the dispatch of a
 * complete request; returns 1 when the answer is still outstanding. */
void crm__http_app_settings(llhttp_settings_t *settings);
int crm__http_app_dispatch(http_conn_t *conn);
/* The connection is closing: the outstanding request loses it. */
void crm__http_app_conn_gone(http_conn_t *conn);
void crm__http_app_reset(http_conn_t *conn);

/* The listener's connection callback (http_accept.c); also called when a
 * close makes room for a connection held in the listen queue. */
void crm__http_connection_cb(uv_stream_t *listener, int status);

#endif
