/* bridge.c: publishes consumed events into JetStream and brings the
 * acknowledgements back to the loop.
 *
 * Why the work waits: the consumer's position commits with the work, so a
 * work must not end before JetStream has the event. The handler publishes
 * with js_PublishMsgAsync (it only queues bytes for libnats' flusher
 * thread), suspends the work (crm_work_suspend) and returns; libnats calls
 * s_on_ack on its own thread, which hands the outcome to the loop through
 * `async`; there the work ends and resumes (crm_work_resume), and the batch
 * commits the new position. Works of one consumer run one after another, so
 * at most one event per source is in flight: order per source holds even
 * across retries. An event acknowledged but not yet committed when the
 * process dies is published again on the next start with the same
 * Nats-Msg-Id, and JetStream drops it as a duplicate within its window. */
#include "bridge.h"
#include "ce.h"

#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRIDGE_MAX_PENDING 1024

/* One event being published: parked until the stream exists or until the
 * retry pause after an error has passed, in flight after that. Each send
 * builds its message afresh from `body`, which lives in the work's arena as
 * long as the work waits: no message is shared with libnats' threads. */
typedef struct s_pub {
    struct s_pub *next;
    crm_work_t *w;
    const Crm__V1__Event *ev; /* the work's */
    const uint8_t *body;      /* the serialised event, in the work's arena */
    size_t len;
    char id[64];
    char subject[256];
    int cloudevents; /* body is a CloudEvent (CRM_BRIDGE_FORMAT) */
    int in_flight;
    uint64_t sent_ms;     /* in flight since */
    uint64_t retry_at_ms; /* parked until */
    int warned;
} s_pub_t;

/* An outcome from s_on_ack, on its way to the loop. */
typedef struct s_ack {
    struct s_ack *next;
    natsMsg *msg;
    int ok;
    char error[160];
} s_ack_t;

struct bridge {
    uv_loop_t *loop;
    bridge_opts_t opts;
    char *url, *stream;
    natsConnection *conn;
    jsCtx *js;
    s_pub_t *pubs;
    int ready;       /* stream set up: publishing may start */
    int closing;     /* bridge_destroy ran: nothing more is published */
    atomic_int stop; /* read by the setup thread */
    int setup_running;
    uv_work_t setup_req;
    uv_work_t close_req;
    uv_async_t async;
    uv_timer_t retry_timer;
    /* Shared with libnats' threads. */
    pthread_mutex_t mu;
    s_ack_t *acks, *acks_tail;
    int async_live; /* cleared under mu before `async` is closed */
    char setup_error[200];
};

/* Static: libnats may call s_on_ack from its threads until the connection
 * is destroyed, so the bridge must outlive every handle and thread. */
static bridge_t s_bridge;

int bridge_subject(const char *type, const char *source, char *out, size_t len)
{
    size_t sl = strlen(source);
    if (!type || strncmp(type, "crm.", 4) || strncmp(type + 4, source, sl) || type[4 + sl] != '.')
        return -EINVAL;
    /* Tokens are the parts between dots: none empty; no wildcard character
     * (NATS gives '*' and '>' a meaning as whole tokens; we refuse them
     * anywhere, so no reader can mistake one), whitespace or control byte. */
    size_t tok = 0;
    for (const char *p = type;; p++) {
        if (*p == '.' || *p == 0) {
            if (tok == 0)
                return -EINVAL;
            if (*p == 0)
                break;
            tok = 0;
            continue;
        }
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '*' || *p == '>')
            return -EINVAL;
        tok++;
    }
    if (strlen(type) >= len)
        return -ENOSPC;
    memcpy(out, type, strlen(type) + 1);
    return 0;
}

/* ---- libnats' threads ---------------------------------------------------- */

static void s_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    bridge_t *b = closure;
    s_ack_t *a = calloc(1, sizeof *a);
    if (!a) {
        /* The outcome is lost: s_on_retry sends the event again once it has
         * been in flight for longer than any acknowledgement takes. */
        natsMsg_Destroy(msg);
        return;
    }
    a->msg = msg;
    a->ok = pa != NULL;
    if (pae) {
        const char *st = natsStatus_GetText(pae->Err);
        int more = pae->ErrText && strcmp(pae->ErrText, st) != 0;
        snprintf(a->error, sizeof a->error, "%s%s%s", st, more ? ": " : "",
                 more ? pae->ErrText : "");
    }
    pthread_mutex_lock(&b->mu);
    if (!b->async_live) {
        pthread_mutex_unlock(&b->mu);
        natsMsg_Destroy(msg);
        free(a);
        return;
    }
    if (b->acks_tail)
        b->acks_tail->next = a;
    else
        b->acks = a;
    b->acks_tail = a;
    uv_async_send(&b->async);
    pthread_mutex_unlock(&b->mu);
}

/* Thread pool: connect (libnats retries in the background when the server
 * is not there yet) and create or update the stream, again and again until
 * it works or the bridge stops. */
static void s_setup_work(uv_work_t *req)
{
    bridge_t *b = req->data;
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, b->url);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, "crm-bridge-nats");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 500);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 2000);
    if (s != NATS_OK) {
        natsOptions_Destroy(o);
        snprintf(b->setup_error, sizeof b->setup_error, "could not set NATS options: %s",
                 natsStatus_GetText(s));
        return;
    }
    /* Our own loop for the first connection, not libnats' retry-on-failed-
     * connect: with a host that does not resolve, that one retries inside
     * natsConnection_Connect forever, and this thread could never see
     * `stop`. Once connected, libnats reconnects on its own. */
    int logged = 0;
    while (!atomic_load(&b->stop)) {
        s = natsConnection_Connect(&b->conn, o);
        if (s == NATS_OK)
            break;
        if (!logged++)
            crm_warn("bridge.connect", "could not connect to NATS: %s; retrying",
                     natsStatus_GetText(s));
        nats_Sleep(500);
    }
    natsOptions_Destroy(o);
    if (!b->conn) {
        snprintf(b->setup_error, sizeof b->setup_error, "stopped before connecting to NATS");
        return;
    }
    jsOptions jo;
    if (s == NATS_OK)
        s = jsOptions_Init(&jo);
    if (s == NATS_OK) {
        jo.Wait = 2000;
        jo.PublishAsync.MaxPending = BRIDGE_MAX_PENDING;
        jo.PublishAsync.AckHandler = s_on_ack;
        jo.PublishAsync.AckHandlerClosure = b;
        s = natsConnection_JetStream(&b->js, b->conn, &jo);
    }
    if (s != NATS_OK) {
        snprintf(b->setup_error, sizeof b->setup_error, "could not create the connection: %s",
                 natsStatus_GetText(s));
        return;
    }
    jsStreamConfig cfg;
    const char *subjects[] = {"crm.>"};
    jsStreamConfig_Init(&cfg);
    cfg.Name = b->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = b->opts.replicas;
    cfg.MaxAge = b->opts.max_age_s * 1000000000LL;
    cfg.Duplicates = b->opts.dup_window_s * 1000000000LL;
    logged = 0;
    while (!atomic_load(&b->stop)) {
        jsErrCode jerr = 0;
        jsStreamInfo *si = NULL;
        s = js_AddStream(&si, b->js, &cfg, NULL, &jerr);
        if (s != NATS_OK && jerr == JSStreamNameExistErr)
            s = js_UpdateStream(&si, b->js, &cfg, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        if (s == NATS_OK) {
            b->setup_error[0] = 0;
            return;
        }
        if (!logged) {
            const char *last = nats_GetLastError(NULL);
            crm_warn("bridge.stream", "could not create or update stream %s: %s (%d)%s%s; retrying",
                     b->stream, natsStatus_GetText(s), (int)jerr, last ? ": " : "",
                     last ? last : "");
            logged = 1;
        }
        nats_Sleep(500);
    }
    snprintf(b->setup_error, sizeof b->setup_error, "stopped before the stream was set up");
}

static void s_after_close(uv_work_t *req, int status)
{
    (void)status;
    bridge_t *b = req->data;
    free(b->url);
    free(b->stream);
    b->url = b->stream = NULL;
}

static void s_close_work(uv_work_t *req)
{
    bridge_t *b = req->data;
    jsCtx_Destroy(b->js);
    b->js = NULL;
    if (b->conn) {
        natsConnection_Close(b->conn);
        natsConnection_Destroy(b->conn);
    }
    b->conn = NULL;
}

/* ---- the loop ------------------------------------------------------------ */

static uint64_t s_now_ms(const bridge_t *b)
{
    return uv_now(b->loop);
}

/* The message for one send: the event's bytes and headers. */
static natsStatus s_msg(const s_pub_t *p, natsMsg **m)
{
    const Crm__V1__Event *ev = p->ev;
    char seq[24];
    snprintf(seq, sizeof seq, "%" PRIu64, ev->sequence);
    natsStatus s = natsMsg_Create(m, p->subject, NULL, (const char *)p->body, (int)p->len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(*m, "Nats-Msg-Id", p->id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(*m, "Content-Type",
                              p->cloudevents ? BRIDGE_CE_CONTENT_TYPE
                                             : "application/protobuf; proto=crm.v1.Event");
    if (s == NATS_OK)
        s = natsMsgHeader_Set(*m, "Crm-Source", ev->source);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(*m, "Crm-Sequence", seq);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(*m, "Crm-Epoch", ev->epoch ? ev->epoch : "");
    return s;
}

static void s_send(bridge_t *b, s_pub_t *p)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = b->opts.ack_timeout_ms;
    natsMsg *m = NULL;
    natsStatus s = s_msg(p, &m);
    if (s == NATS_OK)
        s = js_PublishMsgAsync(b->js, &m, &po); /* takes m (NULLs it) on success */
    if (s == NATS_OK) {
        p->in_flight = 1;
        p->sent_ms = s_now_ms(b);
        return;
    }
    natsMsg_Destroy(m);
    p->in_flight = 0;
    p->retry_at_ms = s_now_ms(b) + (uint64_t)b->opts.retry_ms;
    if (!p->warned++)
        crm_warn("bridge.publish", "could not publish %s: %s; retrying", p->subject,
                 natsStatus_GetText(s));
}

static void s_pub_remove(bridge_t *b, s_pub_t *p)
{
    for (s_pub_t **pp = &b->pubs; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    free(p);
}

static s_pub_t *s_pub_find(bridge_t *b, natsMsg *msg)
{
    const char *id = NULL;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK || !id)
        return NULL;
    for (s_pub_t *p = b->pubs; p; p = p->next)
        if (!strcmp(p->id, id))
            return p;
    return NULL;
}

static void s_on_async(uv_async_t *h)
{
    bridge_t *b = h->data;
    pthread_mutex_lock(&b->mu);
    s_ack_t *list = b->acks;
    b->acks = b->acks_tail = NULL;
    pthread_mutex_unlock(&b->mu);
    while (list) {
        s_ack_t *a = list;
        list = a->next;
        s_pub_t *p = b->closing ? NULL : s_pub_find(b, a->msg);
        /* A success ends the work even when it answers an earlier attempt. */
        if (p && (a->ok || p->in_flight)) {
            if (a->ok) {
                crm_work_t *w = p->w;
                if (p->warned)
                    crm_info("bridge.publish", "published %s after %d retries", p->subject,
                             p->warned);
                s_pub_remove(b, p);
                crm_work_ok(w, NULL);
                crm_work_resume(w);
            } else {
                /* The retry sends the same bytes and id. */
                p->in_flight = 0;
                p->retry_at_ms = s_now_ms(b) + (uint64_t)b->opts.retry_ms;
                if (!p->warned++)
                    crm_warn("bridge.publish", "JetStream did not acknowledge %s: %s; retrying",
                             p->subject, a->error);
            }
        }
        natsMsg_Destroy(a->msg);
        free(a);
    }
}

static void s_on_retry(uv_timer_t *t)
{
    bridge_t *b = t->data;
    if (!b->ready || b->closing)
        return;
    uint64_t now = s_now_ms(b);
    /* libnats reports a missing acknowledgement after ack_timeout_ms; an
     * event in flight for much longer lost its outcome on the way to us. */
    uint64_t lost = (uint64_t)b->opts.ack_timeout_ms + 5000;
    for (s_pub_t *p = b->pubs; p; p = p->next)
        if ((!p->in_flight && p->retry_at_ms <= now) || (p->in_flight && now - p->sent_ms > lost))
            s_send(b, p);
}

static void s_after_setup(uv_work_t *req, int status)
{
    bridge_t *b = req->data;
    b->setup_running = 0;
    if (b->closing) {
        /* bridge_destroy waited for us to close the connection. */
        uv_queue_work(b->loop, &b->close_req, s_close_work, s_after_close);
        return;
    }
    if (status < 0 || b->setup_error[0]) {
        crm_error("bridge.setup", "%s", status < 0 ? uv_strerror(status) : b->setup_error);
        return;
    }
    crm_info("bridge.ready",
             "stream %s on crm.> (replicas %d, max age %" PRId64 " s, duplicate window %" PRId64
             " s)",
             b->stream, b->opts.replicas, b->opts.max_age_s, b->opts.dup_window_s);
    b->ready = 1;
    for (s_pub_t *p = b->pubs; p; p = p->next)
        if (!p->in_flight)
            s_send(b, p);
}

bridge_t *bridge_new(uv_loop_t *loop, const bridge_opts_t *opts)
{
    bridge_t *b = &s_bridge;
    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->opts = *opts;
    b->url = strdup(opts->url);
    b->stream = strdup(opts->stream);
    if (!b->url || !b->stream || pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b->url);
        free(b->stream);
        return NULL;
    }
    if (uv_async_init(loop, &b->async, s_on_async) < 0) {
        pthread_mutex_destroy(&b->mu);
        free(b->url);
        free(b->stream);
        return NULL;
    }
    b->async.data = b;
    b->async_live = 1;
    uv_timer_init(loop, &b->retry_timer);
    b->retry_timer.data = b;
    uint64_t tick = (uint64_t)(opts->retry_ms < 100 ? opts->retry_ms : 100);
    uv_timer_start(&b->retry_timer, s_on_retry, tick, tick);
    b->setup_req.data = b->close_req.data = b;
    b->setup_running = 1;
    if (uv_queue_work(loop, &b->setup_req, s_setup_work, s_after_setup) < 0) {
        b->setup_running = 0;
        crm_error("bridge.setup", "could not start the setup thread");
    }
    return b;
}

void bridge_destroy(bridge_t **self_p)
{
    bridge_t *b = *self_p;
    if (!b)
        return;
    *self_p = NULL;
    b->closing = 1;
    atomic_store(&b->stop, 1);
    pthread_mutex_lock(&b->mu);
    b->async_live = 0;
    pthread_mutex_unlock(&b->mu);
    uv_close((uv_handle_t *)&b->async, NULL);
    uv_timer_stop(&b->retry_timer);
    uv_close((uv_handle_t *)&b->retry_timer, NULL);
    /* Suspended works stay suspended: the teardown abandons their batches
     * uncommitted. */
    while (b->pubs)
        s_pub_remove(b, b->pubs);
    pthread_mutex_lock(&b->mu);
    while (b->acks) {
        s_ack_t *a = b->acks;
        b->acks = a->next;
        natsMsg_Destroy(a->msg);
        free(a);
    }
    b->acks_tail = NULL;
    pthread_mutex_unlock(&b->mu);
    /* Closing flushes and joins libnats' threads: not on the loop. */
    if (!b->setup_running)
        uv_queue_work(b->loop, &b->close_req, s_close_work, s_after_close);
}

/* ---- the handler's half -------------------------------------------------- */

void bridge_publish(bridge_t *b, crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    s_pub_t *p = calloc(1, sizeof *p);
    if (!p) {
        crm_work_fail_nomem(w);
        return;
    }
    if (bridge_subject(ev->type, ev->source, p->subject, sizeof p->subject) < 0 || !ev->id ||
        !ev->id[0] || strlen(ev->id) >= sizeof p->id) {
        free(p);
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "type",
                      "event cannot be published to NATS", ev->type,
                      "event types are crm.<source>.<name> with non-empty dot-separated tokens,"
                      " no whitespace and no wildcards");
        return;
    }
    snprintf(p->id, sizeof p->id, "%s", ev->id);
    const uint8_t *body = NULL;
    uint8_t *raw = NULL;
    if (b->opts.cloudevents) {
        p->cloudevents = 1;
        if (bridge_ce_pack(w, ev, &body, &p->len) < 0) {
            free(p);
            crm_work_fail_nomem(w);
            return;
        }
    } else {
        p->len = crm__v1__event__get_packed_size(ev);
        body = raw = crm_work_alloc(w, p->len ? p->len : 1);
        if (!raw) {
            free(p);
            crm_work_fail_nomem(w);
            return;
        }
    }
    if (crm_work_suspend(w) < 0) {
        free(p);
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "could not wait for JetStream's acknowledgement", "work is not running",
                      NULL);
        return;
    }
    if (raw)
        crm__v1__event__pack(ev, raw);
    p->body = body;
    p->ev = ev;
    p->w = w;
    p->next = b->pubs;
    b->pubs = p;
    if (b->ready && !b->closing)
        s_send(b, p);
}
