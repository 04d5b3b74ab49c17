/* consumer.c: events from the bus and from replay into exactly-once effects.
 *
 * Per consumer and source we keep `applied` (committed with the effects)
 * and `expected` (the next sequence to queue). On start, and whenever the
 * database connection comes back, positions are read from the database and
 * every source is replayed from there. Events are applied only as the source
 * itself hands them out by replay: anyone who can publish on the bus could
 * write a live event with the next sequence number, so a live event (or a
 * heartbeat) is a notification that the source has something new, and is
 * checked against the replay once that brings its sequence. Replay is pulled
 * in chunks the size of our credit, and the next chunk is asked for only when
 * the queue has room: flow control without a window protocol.
 *
 * The first replay after positions are loaded starts at the applied
 * sequence, not after it, and compares that event's id with the one recorded
 * with the position. A different id is a conflict: we applied something the
 * source never wrote. The consumer then stops applying that source until an
 * operator resolves it; it never drops or overwrites silently. */
#include "auth.h"
#include "svc_int.h"

#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define CRM_REPLAY_TIMEOUT_US 3000000

static void s_kick(crm_consumer_t *c);
static void s_replay(crm_consumer_t *c, crm_src_pos_t *p);

/* "crm.sales.deal." -> "sales" into out; returns 0 or -1. */
static int s_prefix_source(const char *prefix, char *out, size_t len)
{
    if (strncmp(prefix, "crm.", 4))
        return -1;
    const char *s = prefix + 4, *dot = strchr(s, '.');
    if (!dot || dot == s || (size_t)(dot - s) >= len)
        return -1;
    memcpy(out, s, (size_t)(dot - s));
    out[dot - s] = 0;
    return 0;
}

static int s_matches(const crm_consumer_t *c, const char *type)
{
    for (const char *const *p = c->def->type_prefixes; *p; p++)
        if (!strncmp(type, *p, strlen(*p)))
            return 1;
    return 0;
}

static crm_src_pos_t *s_pos(crm_consumer_t *c, const char *source)
{
    for (size_t i = 0; i < c->n_pos; i++)
        if (!strcmp(c->pos[i].source, source))
            return &c->pos[i];
    return NULL;
}

static crm_peer_t *s_peer(crm_service_t *svc, const char *source)
{
    for (size_t i = 0; i < svc->n_peers; i++)
        if (!strcmp(svc->peers[i].source, source))
            return &svc->peers[i];
    return NULL;
}

static void s_queue_clear(crm_consumer_t *c);

/* Drops queued (not in-flight) events of every source and asks each source
 * again from its committed position. */
static void s_queue_reset(crm_consumer_t *c)
{
    s_queue_clear(c);
    for (size_t i = 0; i < c->n_pos; i++) {
        c->pos[i].expected = c->pos[i].applied + 1;
        c->pos[i].queued_to = c->pos[i].applied;
        c->pos[i].replaying = 1;
        c->pos[i].replay_req = 0;
    }
}

static void s_queue_clear(crm_consumer_t *c)
{
    while (c->queue) {
        crm_work_t *w = c->queue;
        c->queue = w->next;
        crm_work_destroy(&w);
    }
    c->queue_tail = NULL;
    c->queued = 0;
}

/* Queues an event for the handler; `bytes` are copied. */
static int s_enqueue(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev,
                     const void *bytes, size_t len, int front, int64_t dead_letter_id)
{
    crm_work_t *w = crm_work_new(c->svc, CRM_WORK_EVT);
    if (!w)
        return -ENOMEM;
    w->fn = c->def->fn;
    w->consumer = c;
    w->source = strdup(p ? p->source : ev->source);
    /* The position records the epoch we follow, not the one the event was
     * born in (events before an epoch's start keep their old epoch). */
    w->epoch = strdup(p && p->epoch[0] ? p->epoch : ev->epoch ? ev->epoch : "");
    w->seq = ev->sequence;
    w->event_id = strdup(ev->id ? ev->id : "");
    w->dead_letter_id = dead_letter_id;
    w->input = malloc(len ? len : 1);
    if (!w->source || !w->epoch || !w->event_id || !w->input) {
        crm_work_destroy(&w);
        return -ENOMEM;
    }
    memcpy(w->input, bytes, len);
    w->input_len = len;
    if (front) {
        w->next = c->queue;
        c->queue = w;
        if (!c->queue_tail)
            c->queue_tail = w;
    } else {
        if (c->queue_tail)
            c->queue_tail->next = w;
        else
            c->queue = w;
        c->queue_tail = w;
    }
    c->queued++;
    return 0;
}

/* An event for (c, p) from replay. Returns 1 if it was the next expected
 * sequence (queued or skipped by filter), 0 if old, -1 on a gap. */
static int s_offer(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev, const void *bytes,
                   size_t len)
{
    if (ev->sequence < p->expected)
        return 0; /* at-least-once wire: already queued or applied */
    if (ev->sequence > p->expected)
        return -1;
    if (s_matches(c, ev->type)) {
        if (s_enqueue(c, p, ev, bytes, len, 0, 0) < 0)
            return -1;
        p->queued_to = ev->sequence;
    }
    p->expected = ev->sequence + 1;
    if (!p->epoch[0])
        snprintf(p->epoch, sizeof p->epoch, "%s", ev->epoch);
    if (ev->sequence > p->head)
        p->head = ev->sequence;
    return 1;
}

/* ---- verification ------------------------------------------------------ */

/* The topic is the event's type, and the type names the source:
 * crm.<source>.<rest>. A message that disagrees with itself was not written
 * by our relay. */
static int s_topic_names(const char *topic, size_t tlen, const char *source)
{
    size_t sl = strlen(source);
    return sl > 0 && tlen > 5 + sl && !memcmp(topic, "crm.", 4) && !memcmp(topic + 4, source, sl) &&
           topic[4 + sl] == '.';
}

/* Ids are compared as far as we keep them (UUIDs fit whole). */
static int s_same_id(const char *kept, const char *id)
{
    return !strncmp(kept, id ? id : "", CRM_EVENT_ID_MAX - 1);
}

static void s_remember(crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    crm_seq_id_t *r = &p->recent[p->recent_next++ % CRM_RECENT];
    r->seq = ev->sequence;
    snprintf(r->id, sizeof r->id, "%s", ev->id ? ev->id : "");
}

/* An id from the network, fit for a log line: at most 40 characters, and
 * anything but letters, digits and dashes shown as '?' (the log must stay
 * valid UTF-8). */
static const char *s_printable(char out[CRM_EVENT_ID_MAX + 1], const char *id)
{
    size_t i = 0;
    for (; id && id[i] && i < CRM_EVENT_ID_MAX; i++) {
        char ch = id[i];
        out[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                         ch == '-'
                     ? ch
                     : '?';
    }
    out[i] = 0;
    return out;
}

static void s_forged(crm_consumer_t *c, crm_src_pos_t *p, uint64_t seq, const char *live_id,
                     const char *true_id)
{
    char a[CRM_EVENT_ID_MAX + 1], b[CRM_EVENT_ID_MAX + 1];
    /* Said at error level, but not for every copy a flood repeats. */
    if (p->forged++ % 1000 == 0)
        crm_error("consumer.forged",
                  "%s: a live event claiming to be %s sequence %" PRIu64
                  " has id %s, but the source's event there is %s; dropped (%" PRId64
                  " so far). Someone publishes on the bus as %s",
                  c->def->name, p->source, seq, s_printable(a, live_id), s_printable(b, true_id),
                  p->forged, p->source);
}

/* A live event at or below what we already took from the source: compare
 * with what the source gave us for that sequence, if we still know it. */
static void s_check_recent(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    for (size_t i = 0; i < CRM_RECENT; i++) {
        const crm_seq_id_t *r = &p->recent[i];
        if (r->seq == ev->sequence && r->id[0]) {
            if (!s_same_id(r->id, ev->id))
                s_forged(c, p, ev->sequence, ev->id, r->id);
            return;
        }
    }
}

/* A live event ahead of us: kept until replay brings that sequence. The
 * oldest hint gives way when a flood fills the table. */
static void s_hint(crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    for (size_t i = 0; i < p->n_hints; i++)
        if (p->hints[i].seq == ev->sequence && s_same_id(p->hints[i].id, ev->id))
            return;
    if (p->n_hints == CRM_HINTS) {
        memmove(p->hints, p->hints + 1, (CRM_HINTS - 1) * sizeof *p->hints);
        p->n_hints--;
    }
    p->hints[p->n_hints].seq = ev->sequence;
    snprintf(p->hints[p->n_hints].id, sizeof p->hints[p->n_hints].id, "%s", ev->id);
    p->n_hints++;
}

/* The source's own event `ev` settles the hints for its sequence. */
static void s_settle_hints(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_hints; i++) {
        if (p->hints[i].seq == ev->sequence) {
            if (!s_same_id(p->hints[i].id, ev->id))
                s_forged(c, p, ev->sequence, p->hints[i].id, ev->id);
            continue;
        }
        p->hints[k++] = p->hints[i];
    }
    p->n_hints = k;
}

/* Hints the replay went past without showing: their sequence holds an event
 * of a type this consumer does not take, so they were not applied either. */
static void s_drop_passed_hints(crm_src_pos_t *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_hints; i++)
        if (p->hints[i].seq >= p->expected)
            p->hints[k++] = p->hints[i];
    p->n_hints = k;
}

/* We applied `applied_id` at p->applied; the source says `ev` is there. */
static int s_check_applied(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    if (s_same_id(p->applied_id, ev->id))
        return 0;
    char a[CRM_EVENT_ID_MAX + 1], b[CRM_EVENT_ID_MAX + 1];
    p->conflict = 1;
    p->conflicts++;
    p->replaying = 0;
    p->n_hints = 0;
    crm_error("consumer.conflict",
              "%s: applied event %s as %s sequence %" PRIu64
              ", but the source has event %s there; not applying %s any further until an"
              " operator resolves the conflict (see docs/operations.md)",
              c->def->name, s_printable(a, p->applied_id), p->source, p->applied,
              s_printable(b, ev->id), p->source);
    return -1;
}

static void s_gap(crm_consumer_t *c, crm_src_pos_t *p)
{
    if (p->replaying || p->conflict)
        return;
    p->gaps++;
    p->replaying = 1;
    s_replay(c, p);
}

static size_t s_credit(const crm_service_t *svc);

/* ---- live -------------------------------------------------------------- */

/* A heartbeat only makes us ask the source: the head it claims is not
 * believed (lag is computed from what replay says). */
static void s_on_heartbeat(crm_service_t *svc, const char *topic, size_t tlen, const void *data,
                           size_t len)
{
    Crm__V1__Heartbeat *hb = crm__v1__heartbeat__unpack(NULL, len, data);
    if (!hb) {
        svc->m.frames_dropped++;
        return;
    }
    if (!s_topic_names(topic, tlen, hb->source)) {
        svc->m.events_refused++;
        crm__v1__heartbeat__free_unpacked(hb, NULL);
        return;
    }
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        crm_src_pos_t *p = s_pos(c, hb->source);
        if (!p || !c->loaded || p->conflict)
            continue;
        if ((p->epoch[0] && strcmp(p->epoch, hb->epoch)) || hb->head_sequence >= p->expected)
            s_gap(c, p);
    }
    crm__v1__heartbeat__free_unpacked(hb, NULL);
}

static void s_on_live(crm_service_t *svc, const char *topic, size_t tlen, const void *data,
                      size_t len)
{
    if (tlen > 4 && !memcmp(topic + tlen - 4, "._hb", 4)) {
        s_on_heartbeat(svc, topic, tlen, data, len);
        return;
    }
    Crm__V1__Event *ev = crm__v1__event__unpack(NULL, len, data);
    if (!ev) {
        svc->m.frames_dropped++;
        crm_warn("consumer.malformed", "dropped a malformed event on topic %.*s",
                 (int)(tlen > 200 ? 200 : tlen), topic);
        return;
    }
    if (strlen(ev->type) != tlen || memcmp(ev->type, topic, tlen) ||
        !s_topic_names(topic, tlen, ev->source)) {
        /* Our relay publishes every event under its type, which names its
         * source. */
        char src[CRM_EVENT_ID_MAX + 1];
        if (svc->m.events_refused++ % 1000 == 0)
            crm_warn("consumer.refused",
                     "dropped a live event whose topic does not match its source \"%s\" and type",
                     s_printable(src, ev->source));
        crm__v1__event__free_unpacked(ev, NULL);
        return;
    }
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        crm_src_pos_t *p = s_pos(c, ev->source);
        if (!p || !c->loaded || p->conflict)
            continue;
        if (ev->sequence < p->expected) {
            s_check_recent(c, p, ev);
            continue;
        }
        /* Not applied from here: the source is asked for it (one request
         * in flight per source, however many live events arrive). */
        s_hint(p, ev);
        if (p->replay_req)
            p->hinted = 1;
        else if (!p->replaying) {
            p->replaying = 1;
            s_replay(c, p);
        }
    }
    crm__v1__event__free_unpacked(ev, NULL);
}

static int s_on_sub(crm_zwatch_t *w, void *zsock, int cap, void *arg)
{
    crm_service_t *svc = arg;
    int n = 0;
    for (; n < cap; n++) {
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        if (zmq_msg_recv(&topic, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&topic);
            break;
        }
        if (!zmq_msg_more(&topic)) {
            svc->m.frames_dropped++;
            zmq_msg_close(&topic);
            continue;
        }
        zmq_msg_init(&body);
        zmq_msg_recv(&body, zsock, 0);
        int extra = 0;
        while (zmq_msg_more(&body)) {
            /* Drain and drop any further frames of a malformed message. */
            zmq_msg_t more;
            zmq_msg_init(&more);
            zmq_msg_recv(&more, zsock, 0);
            int m = zmq_msg_more(&more);
            zmq_msg_close(&more);
            extra = 1;
            if (!m)
                break;
        }
        if (extra)
            svc->m.frames_dropped++;
        else
            s_on_live(svc, zmq_msg_data(&topic), zmq_msg_size(&topic), zmq_msg_data(&body),
                      zmq_msg_size(&body));
        zmq_msg_close(&body);
        zmq_msg_close(&topic);
    }
    return n;
}

/* ---- replay ------------------------------------------------------------ */

static size_t s_credit(const crm_service_t *svc)
{
    return (size_t)crm_config_int(svc->config, "CRM_REPLAY_BATCH");
}

static void s_replay(crm_consumer_t *c, crm_src_pos_t *p)
{
    crm_service_t *svc = c->svc;
    crm_peer_t *peer = s_peer(svc, p->source);
    if (!peer) {
        crm_error("consumer.nopeer", "%s: no endpoint for source %s; set CRM_PEERS", c->def->name,
                  p->source);
        return;
    }
    if (p->conflict)
        return;
    size_t credit = s_credit(svc);
    if (c->queued >= credit)
        return; /* asked again from s_kick once the queue drains */
    Crm__V1__ReplayRequest rq = CRM__V1__REPLAY_REQUEST__INIT;
    rq.from_sequence = p->verify_applied ? p->applied : p->expected;
    p->hinted = 0;
    rq.max_events = (uint32_t)(credit - c->queued);
    rq.n_type_prefixes = 0;
    const char *pre[16];
    for (const char *const *t = c->def->type_prefixes; *t && rq.n_type_prefixes < 16; t++) {
        char src[64];
        if (s_prefix_source(*t, src, sizeof src) == 0 && !strcmp(src, p->source))
            pre[rq.n_type_prefixes++] = *t;
    }
    rq.type_prefixes = (char **)pre;
    uint8_t body[2048];
    size_t blen = crm__v1__replay_request__get_packed_size(&rq);
    if (blen > sizeof body)
        return;
    crm__v1__replay_request__pack(&rq, body);
    Crm__V1__CommandRequest cr = CRM__V1__COMMAND_REQUEST__INIT;
    cr.command = "stream.replay";
    cr.body.data = body;
    cr.body.len = blen;
    cr.request_id = ++svc->next_request_id;
    cr.actor = (char *)crm_service_name(svc);
    uint8_t buf[2200];
    size_t n = crm__v1__command_request__pack(&cr, buf);
    if (zmq_send(peer->dealer, buf, n, ZMQ_DONTWAIT) < 0) {
        crm_warn("consumer.replay", "%s: could not ask %s for replay: %s", c->def->name, p->source,
                 zmq_strerror(errno));
    }
    crm_zwatch_kick(peer->watch);
    p->replay_req = cr.request_id;
    p->replay_sent_us = crm_mono_us();
    p->replays++;
}

static void s_on_replay(crm_service_t *svc, const Crm__V1__CommandReply *rep)
{
    crm_consumer_t *c = NULL;
    crm_src_pos_t *p = NULL;
    for (size_t i = 0; i < svc->n_consumers && !p; i++)
        for (size_t k = 0; k < svc->consumers[i].n_pos; k++)
            if (svc->consumers[i].pos[k].replay_req == rep->request_id &&
                svc->consumers[i].pos[k].replaying) {
                c = &svc->consumers[i];
                p = &c->pos[k];
                break;
            }
    if (!p)
        return; /* stale: an earlier attempt that timed out */
    p->replay_req = 0;
    if (p->replay_timeouts) {
        crm_info("consumer.replay", "%s: source %s answers again", c->def->name, p->source);
        p->replay_timeouts = 0;
    }
    if (!rep->status || rep->status->code != CRM__V1__STATUS_CODE__STATUS_CODE_OK) {
        crm_warn("consumer.replay", "%s: replay from %s failed: %s", c->def->name, p->source,
                 rep->status ? rep->status->message : "no status");
        return; /* the timer asks again */
    }
    Crm__V1__ReplayReply *rr = crm__v1__replay_reply__unpack(NULL, rep->body.len, rep->body.data);
    if (!rr) {
        svc->m.frames_dropped++;
        return;
    }
    if (p->epoch[0] && strcmp(p->epoch, rr->epoch)) {
        /* The source was restored and started a new epoch after
         * epoch_start: what we applied beyond it no longer exists there, and
         * what it writes now reuses those numbers. Rewind, and let the next
         * replay fetch the new epoch's events. */
        if (c->batch) {
            /* Let the batch in flight settle first; asked again after it. */
            crm__v1__replay_reply__free_unpacked(rr, NULL);
            return;
        }
        uint64_t rewind = rr->epoch_start_sequence + 1;
        /* Events after the epoch start legitimately differ now. */
        p->verify_applied = 0;
        crm_warn("consumer.epoch",
                 "%s: source %s changed epoch %s -> %s; continuing at %" PRIu64 " (was %" PRIu64
                 "); effects of events after %" PRIu64 " of the old epoch stay",
                 c->def->name, p->source, p->epoch, rr->epoch,
                 rewind < p->expected ? rewind : p->expected, p->expected,
                 rr->epoch_start_sequence);
        /* Queued events may belong to the old epoch: start over from the
         * committed positions. */
        s_queue_reset(c);
        if (rewind < p->expected)
            p->expected = rewind;
        snprintf(p->epoch, sizeof p->epoch, "%s", rr->epoch);
        crm__v1__replay_reply__free_unpacked(rr, NULL);
        s_replay(c, p);
        return;
    }
    if (!p->epoch[0])
        snprintf(p->epoch, sizeof p->epoch, "%s", rr->epoch);
    if (rr->head_sequence > p->head)
        p->head = rr->head_sequence;
    if (rr->first_retained_sequence > p->expected) {
        crm_error("consumer.lost",
                  "%s: events %" PRIu64 "..%" PRIu64 " of %s are past retention"
                  " and will not be applied",
                  c->def->name, p->expected, rr->first_retained_sequence - 1, p->source);
        p->lost += (int64_t)(rr->first_retained_sequence - p->expected);
        p->expected = rr->first_retained_sequence;
    }
    int verify = p->verify_applied;
    p->verify_applied = 0;
    for (size_t i = 0; i < rr->n_events; i++) {
        Crm__V1__Event *ev = crm__v1__event__unpack(NULL, rr->events[i].len, rr->events[i].data);
        if (!ev)
            break;
        if (strcmp(ev->source, p->source)) {
            svc->m.events_refused++;
            crm__v1__event__free_unpacked(ev, NULL);
            break;
        }
        if (verify && ev->sequence == p->applied && s_check_applied(c, p, ev) < 0) {
            crm__v1__event__free_unpacked(ev, NULL);
            crm__v1__replay_reply__free_unpacked(rr, NULL);
            return;
        }
        if (ev->sequence < p->expected) {
            crm__v1__event__free_unpacked(ev, NULL);
            continue;
        }
        /* Filtered-out sequences in between are skipped by the server. */
        if (ev->sequence > p->expected)
            p->expected = ev->sequence;
        s_settle_hints(c, p, ev);
        s_remember(p, ev);
        int r = s_offer(c, p, ev, rr->events[i].data, rr->events[i].len);
        crm__v1__event__free_unpacked(ev, NULL);
        if (r < 0)
            break;
    }
    if (rr->scanned_to_sequence + 1 > p->expected)
        p->expected = rr->scanned_to_sequence + 1;
    s_drop_passed_hints(p);
    /* Caught up, unless live events told us of more meanwhile. */
    if (p->expected > rr->head_sequence && !p->hinted)
        p->replaying = 0;
    crm__v1__replay_reply__free_unpacked(rr, NULL);
    if (p->replaying)
        s_replay(c, p);
    s_kick(c);
}

static int s_on_dealer(crm_zwatch_t *w, void *zsock, int cap, void *arg)
{
    crm_service_t *svc = arg;
    int n = 0;
    for (; n < cap; n++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        if (!zmq_msg_more(&msg)) {
            Crm__V1__CommandReply *rep =
                crm__v1__command_reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
            if (rep) {
                s_on_replay(svc, rep);
                crm__v1__command_reply__free_unpacked(rep, NULL);
            } else {
                svc->m.frames_dropped++;
            }
        } else {
            svc->m.frames_dropped++;
            while (zmq_msg_more(&msg)) {
                zmq_msg_close(&msg);
                zmq_msg_init(&msg);
                zmq_msg_recv(&msg, zsock, 0);
            }
        }
        zmq_msg_close(&msg);
    }
    return n;
}

/* ---- applying ---------------------------------------------------------- */

/* Drops what we believe about positions: queued events, the outstanding
 * replays (their replies are ignored), and `loaded`, so that the timer reads
 * positions again from the database and replays from there. */
static void s_forget(crm_consumer_t *c)
{
    c->loaded = 0;
    c->reload = 0;
    s_queue_clear(c);
    for (size_t i = 0; i < c->n_pos; i++) {
        c->pos[i].replay_req = 0;
        c->pos[i].replaying = 1;
    }
}

static void s_on_batch_done(crm_batch_t *b, int committed)
{
    crm_consumer_t *c = b->consumer;
    c->batch = NULL;
    for (size_t i = 0; i < b->n; i++) {
        if (committed)
            c->svc->m.events_consumed++;
        crm_work_destroy(&b->works[i]);
    }
    crm_batch_destroy(&b);
    if (!committed || c->reload) {
        /* Unknown outcome, or positions rewritten under us
         * (crm_consumer_reload): read them again when the connection is
         * up. */
        s_forget(c);
    }
    crm_service_maybe_finish(c->svc);
    s_kick(c);
}

static void s_kick(crm_consumer_t *c)
{
    crm_service_t *svc = c->svc;
    if (c->batch || !c->loaded || !crm_db_connected(c->db))
        return;
    if (!c->queue) {
        /* Replays paused for room can go on now. */
        for (size_t i = 0; i < c->n_pos; i++)
            if (c->pos[i].replaying && !c->pos[i].replay_req)
                s_replay(c, &c->pos[i]);
        return;
    }
    if (svc->stopping)
        return;
    crm_batch_t *b = crm_batch_new(svc, c->db, CRM_WORK_EVT);
    if (!b)
        return;
    b->consumer = c;
    while (c->queue && b->n < svc->batch_max) {
        crm_work_t *w = c->queue;
        c->queue = w->next;
        w->next = NULL;
        c->queued--;
        crm_batch_add(b, w);
    }
    if (!c->queue)
        c->queue_tail = NULL;
    c->batch = b;
    crm_batch_start(b, s_on_batch_done);
    for (size_t i = 0; i < c->n_pos; i++)
        if (c->pos[i].replaying && !c->pos[i].replay_req)
            s_replay(c, &c->pos[i]);
}

static void s_on_positions(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    crm_consumer_t *c = arg;
    if (error) {
        crm_warn("consumer.load", "%s: could not read positions: %s", c->def->name, error);
        return;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        crm_src_pos_t *p = s_pos(c, PQgetvalue(res, r, 0));
        if (!p)
            continue;
        snprintf(p->epoch, sizeof p->epoch, "%s", PQgetvalue(res, r, 1));
        p->applied = (uint64_t)crm_db_get_int(res, r, 2);
        snprintf(p->applied_id, sizeof p->applied_id, "%s", PQgetvalue(res, r, 3));
        p->verify_applied = p->applied > 0 && p->applied_id[0];
        p->conflict = 0;
        p->n_hints = 0;
        p->expected = p->applied + 1;
        p->queued_to = p->applied;
        p->replaying = 1;
        p->replay_req = 0;
    }
    c->loaded = 1;
    crm_info("consumer.start", "%s: positions loaded; replaying before going live", c->def->name);
    for (size_t i = 0; i < c->n_pos; i++)
        if (c->pos[i].replaying)
            s_replay(c, &c->pos[i]);
}

static void s_load(crm_consumer_t *c)
{
    const char *v[1] = {c->def->name};
    crm_db_query(c->db,
                 "SELECT source, COALESCE(epoch::text, ''), seq, COALESCE(event_id, '')"
                 " FROM crm_consumer_position"
                 " WHERE consumer = $1",
                 1, v, NULL, NULL, 0, s_on_positions, c);
}

static void s_on_db_state(crm_db_t *db, int connected, void *arg)
{
    crm_consumer_t *c = arg;
    if (connected && !c->loaded && !c->batch)
        s_load(c);
}

static void s_on_timer(uv_timer_t *t)
{
    crm_service_t *svc = t->data;
    int64_t now = crm_mono_us();
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (!c->loaded) {
            if (crm_db_connected(c->db) && !c->batch && crm_db_pending(c->db) == 0)
                s_load(c);
            continue;
        }
        for (size_t k = 0; k < c->n_pos; k++) {
            crm_src_pos_t *p = &c->pos[k];
            if (p->replaying && p->replay_req && now - p->replay_sent_us > CRM_REPLAY_TIMEOUT_US) {
                /* The peer may be down or the reply lost: ask again. Say so
                 * once per outage, not on every attempt. */
                if (p->replay_timeouts++ == 0)
                    crm_warn("consumer.replay",
                             "%s: source %s does not answer replay requests;"
                             " retrying every %d s",
                             c->def->name, p->source, CRM_REPLAY_TIMEOUT_US / 1000000);
                s_replay(c, p);
            }
        }
        s_kick(c);
    }
}

/* ---- set-up ------------------------------------------------------------ */

static int s_add_source(crm_consumer_t *c, const char *source)
{
    if (s_pos(c, source))
        return 0;
    crm_src_pos_t *np = realloc(c->pos, (c->n_pos + 1) * sizeof *np);
    if (!np)
        return -ENOMEM;
    c->pos = np;
    memset(&c->pos[c->n_pos], 0, sizeof *np);
    c->pos[c->n_pos].source = strdup(source);
    c->pos[c->n_pos].expected = 1;
    return c->pos[c->n_pos++].source ? 0 : -ENOMEM;
}

/* CRM_PEERS: "sales=tcp://host:7410,marketing=tcp://host:7420". */
static int s_parse_peers(crm_service_t *svc, const char *spec)
{
    char *copy = strdup(spec ? spec : ""), *save = NULL;
    if (!copy)
        return -ENOMEM;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            crm_error("config", "CRM_PEERS entry \"%s\" is not source=endpoint", tok);
            free(copy);
            return -EINVAL;
        }
        *eq = 0;
        crm_peer_t *np = realloc(svc->peers, (svc->n_peers + 1) * sizeof *np);
        if (!np) {
            free(copy);
            return -ENOMEM;
        }
        svc->peers = np;
        crm_peer_t *peer = &svc->peers[svc->n_peers++];
        memset(peer, 0, sizeof *peer);
        peer->source = strdup(tok);
        peer->endpoint = strdup(eq + 1);
    }
    free(copy);
    return 0;
}

int crm_consumers_start(crm_service_t *svc)
{
    const crm_consumer_def_t *defs = svc->def->consumers;
    size_t n = 0;
    while (defs && defs[n].name)
        n++;
    if (n == 0)
        return 0;
    if (s_parse_peers(svc, crm_config_str(svc->config, "CRM_PEERS")) < 0)
        return -1;
    svc->consumers = calloc(n, sizeof *svc->consumers);
    if (!svc->consumers)
        return -1;
    svc->n_consumers = n;
    /* Initialised first: crm_consumers_stop closes it after any failure below. */
    uv_timer_init(svc->loop, &svc->consumer_timer);
    svc->consumer_timer.data = svc;
    svc->sub = zmq_socket(svc->zctx, ZMQ_SUB);
    int hwm = 100000;
    /* A message over the limit drops the connection before it is
     * buffered; the SUB reconnects and the consumer replays what it missed. */
    int64_t max_event = crm_config_int(svc->config, "CRM_MAX_EVENT_BYTES");
    zmq_setsockopt(svc->sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(svc->sub, ZMQ_MAXMSGSIZE, &max_event, sizeof max_event);
    if (crm_auth_client(svc->auth, svc->sub, "bus") < 0)
        return -1;
    if (zmq_connect(svc->sub, crm_config_str(svc->config, "CRM_BUS_SUB_ENDPOINT")) < 0) {
        crm_error("bus.connect", "could not connect to %s: %s",
                  crm_config_str(svc->config, "CRM_BUS_SUB_ENDPOINT"), zmq_strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        c->svc = svc;
        c->def = &defs[i];
        for (const char *const *t = defs[i].type_prefixes; *t; t++) {
            char src[64], topic[80];
            if (s_prefix_source(*t, src, sizeof src) < 0) {
                crm_error("config",
                          "consumer %s: type prefix \"%s\" must start with"
                          " crm.<source>.",
                          defs[i].name, *t);
                return -1;
            }
            if (s_add_source(c, src) < 0)
                return -1;
            /* Subscribe to the whole source: sequences are dense per source,
             * so gap detection needs every event; filtering is ours. */
            snprintf(topic, sizeof topic, "crm.%s.", src);
            zmq_setsockopt(svc->sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
            if (!s_peer(svc, src)) {
                crm_error("config", "consumer %s needs source %s: add %s=<endpoint> to CRM_PEERS",
                          defs[i].name, src, src);
                return -1;
            }
        }
        char name[128];
        snprintf(name, sizeof name, "%s-consumer-%s", crm_service_name(svc), defs[i].name);
        c->db = crm_db_new(svc->loop, svc->pg_conninfo, name);
        if (!c->db)
            return -1;
        crm_db_on_state(c->db, s_on_db_state, c);
    }
    for (size_t i = 0; i < svc->n_peers; i++) {
        crm_peer_t *peer = &svc->peers[i];
        peer->dealer = zmq_socket(svc->zctx, ZMQ_DEALER);
        int linger = 0;
        /* Replay replies: events up to the source's CRM_REPLAY_MAX_BYTES
         * plus one event, in an envelope; the same settings on every
         * service keep this true. */
        int64_t max_reply = crm_config_int(svc->config, "CRM_REPLAY_MAX_BYTES") + max_event + 65536;
        zmq_setsockopt(peer->dealer, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(peer->dealer, ZMQ_MAXMSGSIZE, &max_reply, sizeof max_reply);
        if (crm_auth_client(svc->auth, peer->dealer, peer->source) < 0)
            return -1;
        if (zmq_connect(peer->dealer, peer->endpoint) < 0) {
            crm_error("config", "could not connect to peer %s at %s: %s", peer->source,
                      peer->endpoint, zmq_strerror(errno));
            return -1;
        }
        peer->watch = crm_zwatch_new(svc->loop, peer->dealer, 64, s_on_dealer, svc);
    }
    svc->sub_watch = crm_zwatch_new(svc->loop, svc->sub, 256, s_on_sub, svc);
    uv_timer_start(&svc->consumer_timer, s_on_timer, 500, 500);
    return 0;
}

int crm_consumers_idle(crm_service_t *svc)
{
    for (size_t i = 0; i < svc->n_consumers; i++)
        if (svc->consumers[i].batch)
            return 0;
    return 1;
}

static void s_timer_closed(uv_handle_t *h)
{
}

void crm_consumers_stop(crm_service_t *svc)
{
    if (svc->n_consumers == 0)
        return;
    /* Not initialised when the start failed before it (a peer refused). */
    if (svc->consumer_timer.type != UV_UNKNOWN_HANDLE)
        uv_close((uv_handle_t *)&svc->consumer_timer, s_timer_closed);
    crm_zwatch_destroy(&svc->sub_watch);
    for (size_t i = 0; i < svc->n_peers; i++) {
        crm_zwatch_destroy(&svc->peers[i].watch);
        if (svc->peers[i].dealer)
            zmq_close(svc->peers[i].dealer);
        free(svc->peers[i].source);
        free(svc->peers[i].endpoint);
    }
    free(svc->peers);
    svc->peers = NULL;
    svc->n_peers = 0;
    if (svc->sub)
        zmq_close(svc->sub);
    svc->sub = NULL;
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        s_queue_clear(c);
        crm_db_destroy(&c->db);
        for (size_t k = 0; k < c->n_pos; k++)
            free(c->pos[k].source);
        free(c->pos);
    }
    free(svc->consumers);
    svc->consumers = NULL;
    svc->n_consumers = 0;
}

/* Queues dead letters read by the deadletter.retry command (service.c). */
int crm_consumer_requeue(crm_service_t *svc, const char *consumer, int64_t id, const void *bytes,
                         size_t len)
{
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (strcmp(c->def->name, consumer))
            continue;
        Crm__V1__Event *ev = crm__v1__event__unpack(NULL, len, bytes);
        if (!ev)
            return -EINVAL;
        int rc = s_enqueue(c, s_pos(c, ev->source), ev, bytes, len, 1, id);
        crm__v1__event__free_unpacked(ev, NULL);
        s_kick(c);
        return rc;
    }
    return -ENOENT;
}

int crm_consumer_reload(crm_service_t *svc, const char *consumer)
{
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (strcmp(c->def->name, consumer))
            continue;
        if (c->batch)
            c->reload = 1; /* s_on_batch_done forgets once it settles */
        else
            s_forget(c);
        return 0;
    }
    return -ENOENT;
}

uint64_t crm__pos_lag(const crm_src_pos_t *p)
{
    uint64_t done = p->queued_to <= p->applied ? p->expected - 1 : p->applied;
    if (done < p->applied)
        done = p->applied;
    return p->head > done ? p->head - done : 0;
}

int crm_consumer_progress(crm_service_t *svc, const char *consumer, const char *source,
                          uint64_t *applied, uint64_t *head)
{
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (strcmp(c->def->name, consumer))
            continue;
        crm_src_pos_t *p = s_pos(c, source);
        if (!p)
            return -ENOENT;
        *applied = p->applied;
        *head = p->head;
        return 0;
    }
    return -ENOENT;
}
