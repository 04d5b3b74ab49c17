/* every.c: periodic callbacks of a service (crm_service_every).
 *
 * Each service used to start and close its own uv_timer_t for its scans;
 * here the framework owns the timers, so a service names only the period
 * and the callback, and the timers close with the rest of the service. A
 * timer's memory is freed in its close callback (libuv's rule). */
#include "svc_int.h"

#include <errno.h>
#include <stdlib.h>

typedef struct crm_every {
    struct crm_every *next;
    uv_timer_t timer;
    uv_timer_t now; /* one-shot: crm_service_every_now */
    int closing;    /* handles being closed: 2, then 1, then freed */
    crm_service_t *svc;
    crm_every_fn fn;
    void *arg;
} crm_every_t;

static void s_run(crm_every_t *e)
{
    if (!e->svc->stopping)
        e->fn(e->svc, e->arg);
}

static void s_on_timer(uv_timer_t *t)
{
    s_run(t->data);
}

int crm_service_every(crm_service_t *svc, uint64_t period_ms, unsigned flags, crm_every_fn fn,
                      void *arg)
{
    crm_every_t *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->svc = svc;
    e->fn = fn;
    e->arg = arg;
    uv_timer_init(svc->loop, &e->timer);
    uv_timer_init(svc->loop, &e->now);
    e->timer.data = e->now.data = e;
    if (period_ms == 0)
        period_ms = 1;
    uv_timer_start(&e->timer, s_on_timer, flags & CRM_EVERY_AT_START ? 0 : period_ms, period_ms);
    e->next = svc->every;
    svc->every = e;
    return 0;
}

void crm_service_every_now(crm_service_t *svc)
{
    for (crm_every_t *e = svc->every; e; e = e->next)
        uv_timer_start(&e->now, s_on_timer, 0, 0);
}

static void s_closed(uv_handle_t *h)
{
    crm_every_t *e = h->data;
    if (--e->closing == 0)
        free(e);
}

void crm_every_stop(crm_service_t *svc)
{
    crm_every_t *e = svc->every;
    svc->every = NULL;
    while (e) {
        crm_every_t *next = e->next;
        e->closing = 2;
        uv_timer_stop(&e->timer);
        uv_timer_stop(&e->now);
        uv_close((uv_handle_t *)&e->timer, s_closed);
        uv_close((uv_handle_t *)&e->now, s_closed);
        e = next;
    }
}
