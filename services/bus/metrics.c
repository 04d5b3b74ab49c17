/* metrics.c: crm-bus's HTTP endpoint on a thread of its own (why: metrics.h). */
#include "metrics.h"

#include <crm/log.h>
#include <crm/metrics.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The figures of /metrics, in the order of crm_bus_stats_t's counters. */
enum {
    S_FORWARDED,
    S_MISMATCH,
    S_UNAUTHORISED,
    S_MALFORMED,
    S_TOPIC_TOO_LONG,
    S_SUBSCRIPTION_CAP,
    S_SUBSCRIPTIONS,
    S_NFIGURES
};

struct crm_bus_metrics {
    uv_loop_t loop;
    uv_async_t stop;
    crm_http_t *http;
    pthread_t thread;
    int port;
    _Atomic int64_t fig[S_NFIGURES];
    _Atomic int64_t refused[CRM_AUTH_REASONS];
    _Atomic int ready;
};

#define S_LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define S_STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

static void s_metrics(crm_bus_metrics_t *m, crm_http_response_t *res)
{
    static const char *const reasons[] = {
        [S_MISMATCH] = "mismatch",
        [S_UNAUTHORISED] = "unauthorised",
        [S_MALFORMED] = "malformed",
        [S_TOPIC_TOO_LONG] = "topic_too_long",
        [S_SUBSCRIPTION_CAP] = "subscription_cap",
    };

    crm_http_response_content_type(res, "text/plain; version=0.0.4; charset=utf-8");
    crm_metrics_write_std(res);
    crm_http_response_printf(res,
                             "# HELP crm_bus_forwarded_total Events and heartbeats passed on to "
                             "subscribers.\n"
                             "# TYPE crm_bus_forwarded_total counter\n"
                             "crm_bus_forwarded_total{crm_service=\"bus\"} %" PRId64 "\n",
                             S_LOAD(m->fig[S_FORWARDED]));
    crm_http_response_printf(res, "# HELP crm_bus_dropped_total Publications and subscriptions "
                                  "the bus did not pass on, by reason.\n"
                                  "# TYPE crm_bus_dropped_total counter\n");
    for (int i = S_MISMATCH; i <= S_SUBSCRIPTION_CAP; i++)
        crm_http_response_printf(
            res, "crm_bus_dropped_total{crm_service=\"bus\",reason=\"%s\"} %" PRId64 "\n",
            reasons[i], S_LOAD(m->fig[i]));
    crm_http_response_printf(res,
                             "# HELP crm_bus_subscriptions Distinct topics subscribed upstream "
                             "now.\n"
                             "# TYPE crm_bus_subscriptions gauge\n"
                             "crm_bus_subscriptions{crm_service=\"bus\"} %" PRId64 "\n",
                             S_LOAD(m->fig[S_SUBSCRIPTIONS]));
    crm_http_response_printf(res, "# HELP crm_auth_refused_total Connections and messages "
                                  "refused by authentication or authorisation.\n"
                                  "# TYPE crm_auth_refused_total counter\n");
    for (int r = 0; r < CRM_AUTH_REASONS; r++)
        crm_http_response_printf(
            res, "crm_auth_refused_total{crm_service=\"bus\",reason=\"%s\"} %" PRId64 "\n",
            crm_auth_reason_name((crm_auth_reason_t)r), S_LOAD(m->refused[r]));
    crm_http_metrics(m->http, "bus", res);
}

static void s_on_http(const char *method, const char *path, crm_http_response_t *res, void *arg)
{
    crm_bus_metrics_t *m = arg;

    (void)method;
    if (!strcmp(path, "/livez")) {
        crm_http_response_printf(res, "ok\n");
    } else if (!strcmp(path, "/readyz")) {
        if (S_LOAD(m->ready)) {
            crm_http_response_printf(res, "ready\n");
        } else {
            crm_http_response_status(res, 503);
            crm_http_response_printf(res, "not ready: not forwarding\n");
        }
    } else if (!strcmp(path, "/metrics")) {
        s_metrics(m, res);
    } else {
        crm_http_response_status(res, 404);
        crm_http_response_printf(res, "not found\n");
    }
}

static void s_on_stop(uv_async_t *h)
{
    crm_bus_metrics_t *m = h->data;

    crm_http_destroy(&m->http);
    uv_close((uv_handle_t *)&m->stop, NULL);
}

static void *s_thread(void *arg)
{
    crm_bus_metrics_t *m = arg;

    uv_run(&m->loop, UV_RUN_DEFAULT);
    return NULL;
}

crm_bus_metrics_t *crm_bus_metrics_start(const char *host, int port,
                                         const crm_http_limits_t *limits, char *err, size_t errlen)
{
    crm_bus_metrics_t *m = calloc(1, sizeof *m);

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (uv_loop_init(&m->loop) != 0) {
        snprintf(err, errlen, "could not start an event loop");
        free(m);
        return NULL;
    }
    /* Bound here, on the calling thread, so a port in use is an error of
     * the start, not of a thread. */
    m->http = crm_http_new(&m->loop, host, port, s_on_http, m, err, errlen);
    if (m->http)
        crm_http_set_limits(m->http, limits);
    if (!m->http || uv_async_init(&m->loop, &m->stop, s_on_stop) != 0) {
        if (m->http)
            snprintf(err, errlen, "could not start the HTTP thread");
        crm_http_destroy(&m->http);
        uv_run(&m->loop, UV_RUN_DEFAULT); /* close callbacks */
        uv_loop_close(&m->loop);
        free(m);
        return NULL;
    }
    m->stop.data = m;
    m->port = crm_http_port(m->http);
    if (pthread_create(&m->thread, NULL, s_thread, m) != 0) {
        snprintf(err, errlen, "could not start the HTTP thread");
        s_on_stop(&m->stop);
        uv_run(&m->loop, UV_RUN_DEFAULT);
        uv_loop_close(&m->loop);
        free(m);
        return NULL;
    }
    return m;
}

int crm_bus_metrics_port(const crm_bus_metrics_t *self)
{
    return self ? self->port : -1;
}

void crm_bus_metrics_publish(void *arg, const crm_bus_stats_t *st, const crm_zap_t *zap, int ready)
{
    crm_bus_metrics_t *self = arg;

    if (!self)
        return;
    S_STORE(self->fig[S_FORWARDED], st->forwarded);
    S_STORE(self->fig[S_MISMATCH], st->refused);
    S_STORE(self->fig[S_UNAUTHORISED], st->unauthorised);
    S_STORE(self->fig[S_MALFORMED], st->malformed);
    S_STORE(self->fig[S_TOPIC_TOO_LONG], st->subs_too_long);
    S_STORE(self->fig[S_SUBSCRIPTION_CAP], st->subs_over_cap);
    S_STORE(self->fig[S_SUBSCRIPTIONS], st->subscriptions);
    for (int r = 0; zap && r < CRM_AUTH_REASONS; r++)
        S_STORE(self->refused[r], crm_zap_refused(zap, (crm_auth_reason_t)r));
    S_STORE(self->ready, ready);
}

void crm_bus_metrics_stop(crm_bus_metrics_t **self_p)
{
    crm_bus_metrics_t *m;

    if (!self_p || !*self_p)
        return;
    m = *self_p;
    *self_p = NULL;
    uv_async_send(&m->stop);
    pthread_join(m->thread, NULL);
    uv_loop_close(&m->loop);
    free(m);
}
