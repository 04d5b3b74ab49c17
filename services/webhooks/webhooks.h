/* webhooks.h: the context of crm-webhooks and its tables of commands and
 * consumers (commands.c; handlers in handlers/).
 *
 * One wh_t per process, the service's user pointer. The database holds
 * everything that must survive (subscriptions, the delivery queue and its
 * state); the context holds only what is in flight: the requests being
 * sent and the outcomes not yet written back (pump.c). */
#ifndef WEBHOOKS_WEBHOOKS_H
#define WEBHOOKS_WEBHOOKS_H

#include "rules.h"
#include "sender.h"

#include <crm/service.h>
#include <stdint.h>
#include <uv.h>

#define WH_EV_SUBSCRIPTION_DISABLED "crm.webhooks.subscription.disabled.v1"

/* One delivery attempt, from its claim to its outcome being committed. */
typedef struct wh_attempt {
    struct wh_attempt *next;
    /* The subscription's following deliveries claimed with this one, sent
     * after it, one at a time, while each is delivered (pump.c). */
    struct wh_attempt *chain;
    struct wh_ctx *ctx;
    char id[40];           /* the delivery */
    char subscription[40]; /* its subscription */
    char *url, *event_id, *body;
    uint8_t key[WH_KEY_MAX];
    size_t keylen;
    int attempts; /* made before this one */
    /* outcome */
    int ok;
    long http_status;
    char error[200];
    int64_t next_us; /* when a failure is tried again */
} wh_attempt_t;

typedef struct wh_ctx {
    crm_service_t *svc;
    wh_sender_t *sender;
    int max_in_flight;     /* CRM_WEBHOOK_MAX_IN_FLIGHT */
    int batch;             /* CRM_WEBHOOK_BATCH */
    int64_t base_ms;       /* CRM_WEBHOOK_BACKOFF_BASE_MS */
    int64_t cap_ms;        /* CRM_WEBHOOK_BACKOFF_CAP_MS */
    int64_t disable_us;    /* CRM_WEBHOOK_DISABLE_AFTER (s) in us */
    int max_body;          /* CRM_WEBHOOK_MAX_BODY */
    wh_attempt_t *flying;  /* being sent */
    wh_attempt_t *done;    /* sent, outcome not written yet */
    wh_attempt_t *taken;   /* outcomes the running pump writes */
    wh_attempt_t *claimed; /* claimed by the running pump */
    int started, pumping, pump_again, stopping;
    int64_t wake_us; /* earliest retry seen by the last pump; 0 = none */
    uv_timer_t wake;
    uint64_t rng_state; /* CRM_WEBHOOK_JITTER_SEED, 0 = from libsodium */
    /* metrics */
    uint64_t n_delivered, n_failed;
} wh_t;

extern const crm_command_def_t webhooks_commands[];
extern const crm_consumer_def_t webhooks_consumers[];

static inline wh_t *wh_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

/* pump.c: starts the engine (on_start) and stops it (on_stop). */
int wh_pump_start(wh_t *ctx);
void wh_pump_stop(wh_t *ctx);
/* Runs a pump soon: new deliveries may be waiting. */
void wh_pump_kick(wh_t *ctx);

#endif
