/* sender.c: see sender.h. The glue is libcurl's documented multi_socket
 * pattern: libcurl tells us which sockets to watch (s_socket_cb) and when
 * to call back (s_timer_cb); we tell it what became ready and collect
 * finished transfers after each call. */
#include "sender.h"

#include <crm/log.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_req {
    struct s_req *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    wh_sent_fn cb;
    void *arg;
    char error[CURL_ERROR_SIZE];
} s_req_t;

/* One watched socket; freed in its close callback. */
typedef struct s_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    wh_sender_t *sender;
    struct s_sock *prev, *next; /* watched, not closing */
} s_sock_t;

struct wh_sender {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    long timeout_ms;
    s_req_t *reqs;   /* in flight */
    s_sock_t *socks; /* watched */
    size_t active;
    int closing;
    int open_handles; /* the timer and the polls not yet closed */
};

static void s_maybe_free(wh_sender_t *self)
{
    if (self->closing && self->open_handles == 0)
        free(self);
}

static void s_handle_closed(uv_handle_t *h)
{
    wh_sender_t *self = h->data;
    self->open_handles--;
    s_maybe_free(self);
}

static void s_sock_closed(uv_handle_t *h)
{
    s_sock_t *s = (s_sock_t *)h;
    wh_sender_t *self = s->sender;
    free(s);
    self->open_handles--;
    s_maybe_free(self);
}

/* Stops watching a socket; its memory goes in the close callback. */
static void s_sock_close(wh_sender_t *self, s_sock_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        self->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, s_sock_closed);
}

static void s_unlink(wh_sender_t *self, s_req_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        self->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    self->active--;
}

static void s_req_free(s_req_t *r)
{
    curl_slist_free_all(r->headers);
    curl_easy_cleanup(r->easy);
    free(r);
}

/* Hands every finished transfer to its callback. */
static void s_check_done(wh_sender_t *self)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(self->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        s_req_t *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = m->data.result;
        long status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(self->multi, m->easy_handle);
        s_unlink(self, r);
        const char *err = NULL;
        if (rc != CURLE_OK)
            err = r->error[0] ? r->error : curl_easy_strerror(rc);
        r->cb(r->arg, status, err);
        s_req_free(r);
        if (self->closing)
            return;
    }
}

static void s_on_poll(uv_poll_t *h, int status, int events)
{
    s_sock_t *s = (s_sock_t *)h;
    wh_sender_t *self = s->sender;
    int flags = 0, running = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(self->multi, s->fd, flags, &running);
    s_check_done(self);
}

static void s_on_timer(uv_timer_t *t)
{
    wh_sender_t *self = t->data;
    int running = 0;
    curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(self);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. */
static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    wh_sender_t *self = userp;
    s_sock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(self->multi, fd, NULL);
            s_sock_close(self, s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->sender = self;
        if (uv_poll_init_socket(self->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        self->open_handles++;
        s->next = self->socks;
        if (s->next)
            s->next->prev = s;
        self->socks = s;
        curl_multi_assign(self->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, s_on_poll);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 means "call me soon",
 * which must not recurse into libcurl from here. */
static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    wh_sender_t *self = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&self->timer);
    else
        uv_timer_start(&self->timer, s_on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

wh_sender_t *wh_sender_new(uv_loop_t *loop, long timeout_ms)
{
    wh_sender_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->timeout_ms = timeout_ms;
    self->multi = curl_multi_init();
    if (!self->multi) {
        free(self);
        return NULL;
    }
    uv_timer_init(loop, &self->timer);
    self->timer.data = self;
    self->open_handles = 1;
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
    return self;
}

/* The answer's body is not needed: only its status counts. */
static size_t s_discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

int wh_sender_post(wh_sender_t *self, const char *url, const char *const *headers, size_t n,
                   const char *body, size_t body_len, wh_sent_fn cb, void *arg)
{
    if (self->closing)
        return -EINVAL;
    s_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->cb = cb;
    r->arg = arg;
    r->easy = curl_easy_init();
    int oom = !r->easy;
    for (size_t i = 0; !oom && i < n; i++) {
        struct curl_slist *l = curl_slist_append(r->headers, headers[i]);
        oom = !l;
        if (l)
            r->headers = l;
    }
    if (oom) {
        if (r->easy)
            s_req_free(r);
        else
            free(r);
        return -ENOMEM;
    }
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, self->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, self->timeout_ms);
    /* Redirects are not followed: a receiver answers 2xx or it failed. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "crm-webhooks/1");
    if (curl_multi_add_handle(self->multi, e) != CURLM_OK) {
        s_req_free(r);
        return -ENOMEM;
    }
    r->next = self->reqs;
    if (r->next)
        r->next->prev = r;
    self->reqs = r;
    self->active++;
    return 0;
}

size_t wh_sender_active(const wh_sender_t *self)
{
    return self->active;
}

void wh_sender_close(wh_sender_t **self_p)
{
    wh_sender_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    self->closing = 1;
    while (self->reqs) {
        s_req_t *r = self->reqs;
        curl_multi_remove_handle(self->multi, r->easy); /* may close polls */
        s_unlink(self, r);
        s_req_free(r);
    }
    curl_multi_cleanup(self->multi);
    /* Sockets libcurl kept for reuse and did not report removed. */
    while (self->socks)
        s_sock_close(self, self->socks);
    uv_timer_stop(&self->timer);
    uv_close((uv_handle_t *)&self->timer, s_handle_closed);
}
