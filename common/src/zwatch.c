/* zwatch.c: edge-triggered ZMQ_FD on level-triggered thinking, done once. */
#include <crm/zwatch.h>

#include <stdlib.h>
#include <zmq.h>

struct crm_zwatch {
    uv_poll_t poll;
    uv_idle_t idle;
    void *zsock;
    int cap;
    crm_zwatch_fn fn;
    void *arg;
    int closing;
    int open_handles;
};

static void s_closed(uv_handle_t *h)
{
    crm_zwatch_t *self = h->data;
    if (--self->open_handles == 0)
        free(self);
}

static void s_on_idle(uv_idle_t *h);

/* One pass: the owner drains the socket with ZMQ_DONTWAIT until it is
 * empty or the cap is reached. No ZMQ_EVENTS check before or after: a
 * receive that finds nothing has libzmq process the socket's pending
 * commands first, exactly as ZMQ_EVENTS would (each costs a getpid and a
 * poll(0) system call in libzmq 4.3), and it leaves the mailbox drained, so
 * the next message or command raises ZMQ_FD again. Checking ZMQ_EVENTS
 * around the drain added two such checks per wake-up for nothing. */
static void s_run(crm_zwatch_t *self)
{
    if (self->closing)
        return;
    int took = self->fn(self, self->zsock, self->cap, self->arg);
    if (self->closing)
        return;
    if (took >= self->cap)
        uv_idle_start(&self->idle, s_on_idle); /* bounded work per pass: more next pass */
}

static void s_on_idle(uv_idle_t *h)
{
    crm_zwatch_t *self = h->data;
    uv_idle_stop(h);
    s_run(self);
}

static void s_on_poll(uv_poll_t *h, int status, int events)
{
    s_run(h->data);
}

crm_zwatch_t *crm_zwatch_new(uv_loop_t *loop, void *zsock, int cap, crm_zwatch_fn fn, void *arg)
{
    int fd;
    size_t len = sizeof fd;
    if (zmq_getsockopt(zsock, ZMQ_FD, &fd, &len) != 0)
        return NULL;
    crm_zwatch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->zsock = zsock;
    self->cap = cap > 0 ? cap : 1;
    self->fn = fn;
    self->arg = arg;
    if (uv_poll_init(loop, &self->poll, fd) != 0) {
        free(self);
        return NULL;
    }
    uv_idle_init(loop, &self->idle);
    self->poll.data = self;
    self->idle.data = self;
    self->open_handles = 2;
    uv_poll_start(&self->poll, UV_READABLE, s_on_poll);
    /* Messages may already be queued: their edge happened before we looked. */
    crm_zwatch_kick(self);
    return self;
}

void crm_zwatch_kick(crm_zwatch_t *self)
{
    if (self && !self->closing)
        uv_idle_start(&self->idle, s_on_idle);
}

void crm_zwatch_destroy(crm_zwatch_t **self_p)
{
    crm_zwatch_t *self = *self_p;
    if (!self)
        return;
    self->closing = 1;
    uv_poll_stop(&self->poll);
    uv_idle_stop(&self->idle);
    uv_close((uv_handle_t *)&self->poll, s_closed);
    uv_close((uv_handle_t *)&self->idle, s_closed);
    *self_p = NULL;
}
