/* upstream.c: commands to the services crm-api fronts. One DEALER per
 * service (CRM_PEERS), a CURVE client holding the gateway's key; every
 * request carries the caller's staff principal as `actor`, which the
 * services honour only from a gateway key (common/src/service_command.c).
 * Replies are matched to their request by request_id; a request without a
 * reply within API_COMMAND_TIMEOUT_MS is answered -ETIMEDOUT (the caller
 * may retry with the same Idempotency-Key and is answered once). */
#include "api.h"

#include <crm/log.h>
#include <crm/util.h>
#include <crm/zwatch.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_BUCKETS 4096

typedef struct s_call {
    struct s_call *next_in_bucket;
    struct s_call *prev, *next; /* in send order, oldest first */
    uint64_t request_id;
    int64_t deadline_us;
    api_reply_fn fn;
    void *arg;
} s_call_t;

struct api_upstream {
    api_t *api;
    char *name;
    char *endpoint;
    void *dealer;
    crm_zwatch_t *watch;
};

typedef struct {
    s_call_t *buckets[S_BUCKETS];
    s_call_t *head, *tail;
} s_calls_t;

static s_calls_t s_calls;

static void s_unlink(s_call_t *c)
{
    s_call_t **pp = &s_calls.buckets[c->request_id % S_BUCKETS];
    while (*pp && *pp != c)
        pp = &(*pp)->next_in_bucket;
    if (*pp)
        *pp = c->next_in_bucket;
    if (c->prev)
        c->prev->next = c->next;
    else
        s_calls.head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s_calls.tail = c->prev;
}

static s_call_t *s_find(uint64_t id)
{
    for (s_call_t *c = s_calls.buckets[id % S_BUCKETS]; c; c = c->next_in_bucket)
        if (c->request_id == id)
            return c;
    return NULL;
}

static int s_on_reply(crm_zwatch_t *zw, void *zsock, int cap, void *arg)
{
    api_t *api = arg;
    (void)zw;
    int n = 0;
    for (; n < cap; n++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        Crm__V1__CommandReply *rep =
            crm__v1__command_reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        if (!rep)
            continue;
        s_call_t *c = s_find(rep->request_id);
        if (c) {
            s_unlink(c);
            if (c->fn)
                c->fn(api, 0, rep, c->arg);
            free(c);
        }
        crm__v1__command_reply__free_unpacked(rep, NULL);
    }
    return n;
}

static void s_sweep(uv_timer_t *t)
{
    api_t *api = t->data;
    int64_t now = crm_mono_us();
    while (s_calls.head && s_calls.head->deadline_us <= now) {
        s_call_t *c = s_calls.head;
        s_unlink(c);
        api->m.upstream_timeouts++;
        if (c->fn)
            c->fn(api, -ETIMEDOUT, NULL, c->arg);
        free(c);
    }
}

int api_call(api_t *api, const char *service, const char *command, const uint8_t *body, size_t len,
             const char *idempotency_key, const char *actor, api_reply_fn fn, void *arg)
{
    return api_call_if(api, service, command, body, len, idempotency_key, actor, NULL, fn, arg);
}

int api_call_if(api_t *api, const char *service, const char *command, const uint8_t *body,
                size_t len, const char *idempotency_key, const char *actor,
                const Crm__V1__Precondition *pre, api_reply_fn fn, void *arg)
{
    api_upstream_t *up = NULL;
    for (size_t i = 0; i < api->n_ups; i++)
        if (!strcmp(api->ups[i].name, service))
            up = &api->ups[i];
    if (!up)
        return -ENOENT;
    s_call_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    Crm__V1__CommandRequest cr = CRM__V1__COMMAND_REQUEST__INIT;
    char corr[CRM_UUID_LEN + 1];
    crm_uuid_new(corr);
    cr.command = (char *)command;
    cr.idempotency_key = (char *)(idempotency_key ? idempotency_key : "");
    cr.body.data = (uint8_t *)body;
    cr.body.len = len;
    cr.request_id = ++api->next_request_id;
    cr.correlation_id = corr;
    cr.actor = (char *)(actor ? actor : "");
    cr.precondition = (Crm__V1__Precondition *)pre;
    size_t n = crm__v1__command_request__get_packed_size(&cr);
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, n) < 0) {
        free(c);
        return -ENOMEM;
    }
    crm__v1__command_request__pack(&cr, zmq_msg_data(&msg));
    /* DONTWAIT: a service that is down queues up to the high-water mark,
     * then refuses at once rather than blocking the loop. */
    if (zmq_msg_send(&msg, up->dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        free(c);
        return -EAGAIN;
    }
    crm_zwatch_kick(up->watch);
    c->request_id = cr.request_id;
    c->deadline_us = crm_mono_us() + api->command_timeout_ms * 1000;
    c->fn = fn;
    c->arg = arg;
    c->next_in_bucket = s_calls.buckets[c->request_id % S_BUCKETS];
    s_calls.buckets[c->request_id % S_BUCKETS] = c;
    c->prev = s_calls.tail;
    if (s_calls.tail)
        s_calls.tail->next = c;
    else
        s_calls.head = c;
    s_calls.tail = c;
    return 0;
}

void api_call_cancel(api_t *api, void *arg)
{
    (void)api;
    for (s_call_t *c = s_calls.head; c; c = c->next)
        if (c->arg == arg)
            c->fn = NULL;
}

int api_upstreams_start(api_t *api)
{
    char **items = NULL;
    size_t n = 0;
    if (crm_config_list(crm_service_config(api->svc), "CRM_PEERS", &items, &n) < 0)
        return -1;
    api->ups = calloc(n ? n : 1, sizeof *api->ups);
    if (!api->ups) {
        crm_config_list_free(&items, n);
        return -1;
    }
    api->next_request_id = (uint64_t)crm_mono_us();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *eq = strchr(items[i], '=');
        if (!eq) {
            crm_error("config", "CRM_PEERS: \"%s\" is not name=endpoint", items[i]);
            rc = -1;
            break;
        }
        *eq = '\0';
        api_upstream_t *up = &api->ups[api->n_ups++];
        up->api = api;
        up->name = strdup(items[i]);
        up->endpoint = strdup(eq + 1);
        up->dealer = zmq_socket(crm_service_zctx(api->svc), ZMQ_DEALER);
        int linger = 0, hwm = 10000;
        int64_t maxmsg = 64 * 1024 * 1024;
        if (!up->name || !up->endpoint || !up->dealer) {
            rc = -1;
            break;
        }
        zmq_setsockopt(up->dealer, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(up->dealer, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(up->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
        if (crm_service_curve_client(api->svc, up->dealer, up->name) < 0 ||
            zmq_connect(up->dealer, up->endpoint) < 0) {
            crm_error("config", "could not connect to %s at %s", up->name, up->endpoint);
            rc = -1;
            break;
        }
        up->watch = crm_zwatch_new(api->loop, up->dealer, 256, s_on_reply, api);
        if (!up->watch)
            rc = -1;
    }
    crm_config_list_free(&items, n);
    if (rc < 0)
        return -1;
    uv_timer_init(api->loop, &api->sweep);
    api->sweep.data = api;
    api->sweep_started = 1;
    uv_timer_start(&api->sweep, s_sweep, 50, 50);
    return 0;
}

static void s_closed(uv_handle_t *h)
{
    (void)h;
}

void api_upstreams_stop(api_t *api)
{
    /* Requests still waiting are answered as timed out: their HTTP
     * connections are closing with the server anyway. */
    while (s_calls.head) {
        s_call_t *c = s_calls.head;
        s_unlink(c);
        if (c->fn)
            c->fn(api, -ETIMEDOUT, NULL, c->arg);
        free(c);
    }
    if (api->sweep_started)
        uv_close((uv_handle_t *)&api->sweep, s_closed);
    api->sweep_started = 0;
    for (size_t i = 0; i < api->n_ups; i++) {
        crm_zwatch_destroy(&api->ups[i].watch);
        if (api->ups[i].dealer)
            zmq_close(api->ups[i].dealer);
        free(api->ups[i].name);
        free(api->ups[i].endpoint);
    }
    free(api->ups);
    api->ups = NULL;
    api->n_ups = 0;
}

size_t api_upstream_count(const api_t *api)
{
    return api->n_ups;
}

const char *api_upstream_name(const api_t *api, size_t i)
{
    return i < api->n_ups ? api->ups[i].name : NULL;
}
