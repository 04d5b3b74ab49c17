/* relay.c: from the outbox to the bus, in sequence order.
 *
 * Committed events arrive from memory (crm_relay_committed) right after
 * their COMMIT, which is the fast path. Whatever memory does not have
 * (events committed before a crash, or by another instance) is read back
 * from crm_outbox. The published position is saved now and then, so a
 * restarted process republishes at most a few already-sent events, which
 * consumers drop as duplicates. When idle the relay sends a heartbeat with
 * its last published sequence, so subscribers notice loss at the tail.
 *
 * The events it published from memory stay in a ring (crm_relay_recent) a
 * little longer: a consumer told of them by the bus asks for them by
 * replay at once, and stream.replay answers from here instead of reading
 * the outbox back (service_builtin.c). They are the bytes the outbox holds
 * (sealed the same way), the ring is contiguous in sequence and holds one
 * epoch, and it is emptied whenever that is no longer sure: an event that
 * came from the outbox, a gap, another epoch, the reader's connection down. */
#include "relay_int.h"

#include <crm/log.h>
#include <crm/util.h>

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define CRM_RELAY_FETCH 1000
/* The ring: at 1,000 events/s a second of them, far more than the few
 * milliseconds between a publish and the consumers' requests; bounded in
 * bytes too, against the RSS budget (crm_relay_recent). */
#define CRM_RELAY_RING 1024
#define CRM_RELAY_RING_BYTES (1024 * 1024)

struct crm_relay {
    uv_loop_t *loop;
    crm_db_t *reader;
    char *source;
    char epoch[40];
    uint64_t epoch_start;
    int64_t events_published, heartbeats_sent;
    void *pub;
    uint64_t published, head, persisted;
    crm_emit_t *pending;
    int fetching, persisting, ticking;
    uv_timer_t timer;
    int64_t last_send_us;
    int64_t hb_us;
    int closing;
    /* published lately, from memory: ring[(ring_at + i) % CRM_RELAY_RING]
     * holds sequence ring_first + i, for i < ring_n */
    crm_emit_t *ring[CRM_RELAY_RING];
    size_t ring_at, ring_n, ring_bytes;
    uint64_t ring_first;
    char ring_epoch[40];     /* the epoch sealed into the ring's events */
    uint64_t first_retained; /* the outbox's first sequence, last read (0: unknown) */
};

/* One event out of any list (the relay's queue, the ring). */
static void s_emit_free(crm_emit_t *e)
{
    e->next = NULL;
    crm_emits_free(e);
}

static void s_ring_clear(crm_relay_t *r)
{
    for (size_t i = 0; i < r->ring_n; i++)
        s_emit_free(r->ring[(r->ring_at + i) % CRM_RELAY_RING]);
    r->ring_n = r->ring_bytes = 0;
    r->ring_at = 0;
    r->ring_epoch[0] = 0;
}

static void s_ring_drop_oldest(crm_relay_t *r)
{
    crm_emit_t *e = r->ring[r->ring_at];
    r->ring_bytes -= e->len;
    s_emit_free(e);
    r->ring_at = (r->ring_at + 1) % CRM_RELAY_RING;
    r->ring_first++;
    r->ring_n--;
}

/* Keeps e, just published from memory, in the ring (or frees it). */
static void s_ring_push(crm_relay_t *r, crm_emit_t *e)
{
    char epoch[40];
    if (crm_emit_sealed_epoch(e, epoch, sizeof epoch) < 0 || e->len > CRM_RELAY_RING_BYTES) {
        s_ring_clear(r);
        s_emit_free(e);
        return;
    }
    if (r->ring_n && (e->seq != r->ring_first + r->ring_n || strcmp(epoch, r->ring_epoch)))
        s_ring_clear(r);
    while (r->ring_n &&
           (r->ring_n == CRM_RELAY_RING || r->ring_bytes + e->len > CRM_RELAY_RING_BYTES))
        s_ring_drop_oldest(r);
    if (!r->ring_n) {
        r->ring_first = e->seq;
        r->ring_at = 0;
        snprintf(r->ring_epoch, sizeof r->ring_epoch, "%s", epoch);
    }
    e->next = NULL;
    r->ring[(r->ring_at + r->ring_n) % CRM_RELAY_RING] = e;
    r->ring_n++;
    r->ring_bytes += e->len;
}

static void s_pump(crm_relay_t *r);

static int s_send(crm_relay_t *r, const char *topic, const void *data, size_t len)
{
    if (zmq_send(r->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(r->pub, data, len, ZMQ_DONTWAIT) < 0) {
        /* PUB never blocks; an error here is a closed socket or ENOMEM. */
        crm_warn("relay.send", "could not publish on %s: %s", topic, zmq_strerror(errno));
        return -1;
    }
    r->last_send_us = crm_mono_us();
    return 0;
}

static void s_publish(crm_relay_t *r, uint64_t seq, const char *type, const void *data, size_t len)
{
    s_send(r, type, data, len);
    crm_debug("relay.publish", "%" PRIu64 " at %" PRId64 " us", seq, r->last_send_us);
    r->published = seq;
    r->events_published++;
}

static void s_on_fetch(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    crm_relay_t *r = arg;
    r->fetching = 0;
    if (error || r->closing)
        return; /* the next tick tries again */
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        uint64_t seq = be64toh(*(const uint64_t *)(const void *)PQgetvalue(res, i, 0));
        if (seq <= r->published)
            continue;
        /* From the outbox, not from memory: the ring starts again after it. */
        s_ring_clear(r);
        if (seq != r->published + 1)
            crm_warn("relay.skip",
                     "outbox has no events %" PRIu64 "..%" PRIu64
                     " (removed by retention); continuing at %" PRIu64,
                     r->published + 1, seq - 1, seq);
        s_publish(r, seq, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                  (size_t)PQgetlength(res, i, 2));
    }
    if (n == 0 && r->head > r->published) {
        crm_warn("relay.skip",
                 "outbox ends before head %" PRIu64 "; nothing to publish after %" PRIu64, r->head,
                 r->published);
        r->published = r->head;
        s_ring_clear(r);
    }
    s_pump(r);
}

static void s_fetch(crm_relay_t *r)
{
    if (r->fetching || !crm_db_connected(r->reader))
        return;
    char from[24], lim[16];
    snprintf(from, sizeof from, "%" PRIu64, r->published);
    snprintf(lim, sizeof lim, "%d", CRM_RELAY_FETCH);
    const char *v[2] = {from, lim};
    if (crm_db_query(r->reader,
                     "SELECT seq, type, event FROM crm_outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                     2, v, NULL, NULL, 1, s_on_fetch, r) == 0)
        r->fetching = 1;
}

static void s_pump(crm_relay_t *r)
{
    while (r->pending) {
        crm_emit_t *e = r->pending;
        if (e->seq > r->published + 1)
            break;
        r->pending = e->next;
        if (e->seq == r->published + 1) {
            s_publish(r, e->seq, e->type, e->bytes, e->len);
            s_ring_push(r, e);
        } else {
            s_emit_free(e);
        }
    }
    if (r->head > r->published && !(r->pending && r->pending->seq == r->published + 1))
        s_fetch(r);
}

void crm_relay_committed(crm_relay_t *r, crm_emit_t *list)
{
    /* Merge, keeping `pending` sorted: two connections may commit in one
     * order and report in the other. */
    crm_emit_t **pp = &r->pending;
    while (list) {
        crm_emit_t *e = list;
        list = list->next;
        if (e->seq > r->head)
            r->head = e->seq;
        while (*pp && (*pp)->seq < e->seq)
            pp = &(*pp)->next;
        e->next = *pp;
        *pp = e;
        pp = &e->next;
    }
    s_pump(r);
}

static void s_send_heartbeat(crm_relay_t *r)
{
    Crm__V1__Heartbeat hb = CRM__V1__HEARTBEAT__INIT;
    hb.source = r->source;
    hb.epoch = r->epoch;
    hb.head_sequence = r->published;
    hb.epoch_start_sequence = r->epoch_start;
    hb.time_us = crm_now_us();
    uint8_t buf[256];
    size_t n = crm__v1__heartbeat__get_packed_size(&hb);
    if (n > sizeof buf)
        return;
    crm__v1__heartbeat__pack(&hb, buf);
    char topic[CRM_TOPIC_MAX];
    snprintf(topic, sizeof topic, "crm.%s._hb", hb.source);
    if (s_send(r, topic, buf, n) == 0)
        r->heartbeats_sent++;
}

static void s_on_persist(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    crm_relay_t *r = arg;
    r->persisting = 0;
}

static void s_on_head(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    crm_relay_t *r = arg;
    r->ticking = 0;
    if (error || r->closing || PQntuples(res) != 1)
        return;
    uint64_t head = (uint64_t)crm_db_get_int(res, 0, 0);
    if (head > r->head)
        r->head = head;
    crm_relay_set_epoch(r, crm_db_get_str(res, 0, 1), (uint64_t)crm_db_get_int(res, 0, 2), 0);
    s_pump(r);
}

static void s_on_timer(uv_timer_t *t)
{
    crm_relay_t *r = t->data;
    if (!crm_db_connected(r->reader)) {
        /* What the database holds once it is back is read from it (it
         * may have been restored meanwhile). */
        s_ring_clear(r);
        return;
    }
    if (!r->ticking &&
        crm_db_query(r->reader, "SELECT head_seq, epoch::text, epoch_start_seq FROM crm_stream", 0,
                     NULL, NULL, NULL, 0, s_on_head, r) == 0)
        r->ticking = 1;
    if (crm_mono_us() - r->last_send_us >= r->hb_us)
        s_send_heartbeat(r);
    if (r->published > r->persisted && !r->persisting) {
        char v0[24];
        snprintf(v0, sizeof v0, "%" PRIu64, r->published);
        const char *v[1] = {v0};
        if (crm_db_query(r->reader,
                         "UPDATE crm_relay SET published_seq = $1 WHERE published_seq < $1", 1, v,
                         NULL, NULL, 0, s_on_persist, r) == 0) {
            r->persisting = 1;
            r->persisted = r->published;
        }
    }
}

crm_relay_t *crm_relay_new(const crm_relay_conf_t *conf)
{
    crm_relay_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (!(r->source = strdup(conf->source))) {
        free(r);
        return NULL;
    }
    r->loop = conf->loop;
    r->reader = conf->reader;
    snprintf(r->epoch, sizeof r->epoch, "%s", conf->epoch);
    r->epoch_start = conf->epoch_start;
    r->pub = conf->pub;
    r->published = r->persisted = conf->published;
    r->head = conf->head;
    r->hb_us = conf->heartbeat_ms * 1000;
    uv_timer_init(r->loop, &r->timer);
    r->timer.data = r;
    /* Tick at a quarter of the heartbeat interval: catch-up and head checks
     * stay prompt while an idle stream still sends one heartbeat per period. */
    uint64_t every = (uint64_t)(r->hb_us / 4000);
    uv_timer_start(&r->timer, s_on_timer, 0, every ? every : 1);
    return r;
}

uint64_t crm_relay_published(const crm_relay_t *r)
{
    return r->published;
}

uint64_t crm_relay_head(const crm_relay_t *r)
{
    return r->head;
}

void crm_relay_set_epoch(crm_relay_t *r, const char *epoch, uint64_t epoch_start,
                         uint64_t first_retained)
{
    snprintf(r->epoch, sizeof r->epoch, "%s", epoch);
    r->epoch_start = epoch_start;
    if (first_retained)
        r->first_retained = first_retained;
}

int crm_relay_recent(crm_relay_t *r, uint64_t from, crm_relay_recent_t *out)
{
    /* Only while the ring's epoch is the stream's, as last read from the
     * database (a rotation is seen by the next tick or replay), and the
     * reader is up. */
    if (!r->ring_n || r->closing || !crm_db_connected(r->reader) || strcmp(r->ring_epoch, r->epoch))
        return 0;
    uint64_t last = r->ring_first + r->ring_n - 1;
    if (from < r->ring_first || from > last + 1 || (from > last && r->head > last))
        return 0;
    out->first = r->ring_first;
    out->last = last;
    out->head = r->head > last ? r->head : last;
    out->epoch = r->epoch;
    out->epoch_start = r->epoch_start;
    out->first_retained =
        r->first_retained && r->first_retained <= r->ring_first ? r->first_retained : r->ring_first;
    return 1;
}

void crm_relay_forget_recent(crm_relay_t *r)
{
    s_ring_clear(r);
}

const crm_emit_t *crm_relay_recent_event(const crm_relay_t *r, uint64_t seq)
{
    if (seq < r->ring_first || seq - r->ring_first >= r->ring_n)
        return NULL;
    return r->ring[(r->ring_at + (seq - r->ring_first)) % CRM_RELAY_RING];
}

int64_t crm_relay_events_published(const crm_relay_t *r)
{
    return r->events_published;
}

int64_t crm_relay_heartbeats_sent(const crm_relay_t *r)
{
    return r->heartbeats_sent;
}

/* Publishes what memory holds; used at shutdown (no new database reads). */
void crm_relay_flush(crm_relay_t *r)
{
    s_pump(r);
}

static void s_closed(uv_handle_t *h)
{
    crm_relay_t *r = h->data;
    crm_emits_free(r->pending);
    s_ring_clear(r);
    free(r->source);
    free(r);
}

void crm_relay_destroy(crm_relay_t **r_p)
{
    crm_relay_t *r = *r_p;
    if (!r)
        return;
    r->closing = 1;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, s_closed);
    *r_p = NULL;
}
