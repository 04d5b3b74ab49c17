/* consumer_replay.c: asking a source for its events (DEALER to its
 * ROUTER, stream.replay) and taking its replies into the queue. */
#include "consumer_int.h"
#include "svc_int.h"

#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

/* ---- replay ------------------------------------------------------------ */

static size_t s_credit(const crm_service_t *svc)
{
    return svc->replay_batch;
}

void crm_consumer_replay(crm_consumer_t *c, crm_src_pos_t *p)
{
    crm_service_t *svc = c->svc;
    crm_peer_t *peer = crm_consumer_peer(svc, p->source);
    if (!peer) {
        crm_error("consumer.nopeer", "%s: no endpoint for source %s; set CRM_PEERS", c->def->name,
                  p->source);
        return;
    }
    if (p->conflict)
        return;
    size_t credit = s_credit(svc);
    if (c->queued >= credit)
        return; /* asked again from crm_consumer_kick once the queue drains */
    Crm__V1__ReplayRequest rq = CRM__V1__REPLAY_REQUEST__INIT;
    rq.from_sequence = p->verify_applied ? p->applied : p->expected;
    p->hinted = 0;
    rq.max_events = (uint32_t)(credit - c->queued);
    rq.n_type_prefixes = 0;
    const char *pre[16];
    for (const char *const *t = c->def->type_prefixes; *t && rq.n_type_prefixes < 16; t++) {
        char src[64];
        if (crm_prefix_source(*t, src, sizeof src) == 0 && !strcmp(src, p->source))
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
    crm_debug("consumer.replay.sent", "%s: %s from %" PRIu64 " at %" PRId64 " us", c->def->name,
              p->source, rq.from_sequence, p->replay_sent_us);
    p->replays++;
}

/* The source's replay holds, at p->expected, an event we cannot take. It
 * came from the source's own outbox over an authenticated link, so this is
 * corruption or a broken source, not a forger: skipping it would lose it
 * and every event after it in the reply, and asking again would get the
 * same bytes. The source stops, as on a conflict, until an operator looks
 * (docs/operations.md, "Conflicts and forged events"). Returns 1. */
static int s_unreadable(crm_consumer_t *c, crm_src_pos_t *p, const char *what)
{
    p->conflict = 1;
    p->conflicts++;
    p->replaying = 0;
    p->n_hints = 0;
    crm_error("consumer.unreadable",
              "%s: the replay from %s holds an event that %s where sequence %" PRIu64
              " is expected; not applying %s any further until an operator resolves it"
              " (see docs/operations.md)",
              c->def->name, p->source, what, p->expected, p->source);
    return 1;
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
        crm_consumer_queue_reset(c);
        if (rewind < p->expected)
            p->expected = rewind;
        snprintf(p->epoch, sizeof p->epoch, "%s", rr->epoch);
        crm__v1__replay_reply__free_unpacked(rr, NULL);
        crm_consumer_replay(c, p);
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
    crm_debug("consumer.replay.reply",
              "%s: %s %zu events to %" PRIu64 " head %" PRIu64 " at %" PRId64 " us sent %" PRId64
              " us",
              c->def->name, p->source, rr->n_events, rr->scanned_to_sequence, rr->head_sequence,
              crm_mono_us(), p->replay_sent_us);
    int verify = p->verify_applied;
    p->verify_applied = 0;
    /* Set when the loop stops before the reply's end: the events after
     * that point were not queued, so `expected` must not pass them. */
    int cut = 0;
    for (size_t i = 0; i < rr->n_events; i++) {
        Crm__V1__Event *ev = crm__v1__event__unpack(NULL, rr->events[i].len, rr->events[i].data);
        if (!ev) {
            cut = s_unreadable(c, p, "does not decode");
            break;
        }
        if (strcmp(ev->source, p->source)) {
            svc->m.events_refused++;
            crm__v1__event__free_unpacked(ev, NULL);
            cut = s_unreadable(c, p, "names another source");
            break;
        }
        if (verify && ev->sequence == p->applied && crm_pos_check_applied(c, p, ev) < 0) {
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
        crm_pos_settle_hints(c, p, ev);
        crm_pos_remember(p, ev);
        int r = crm_consumer_offer(c, p, &ev, rr->events[i].data, rr->events[i].len);
        if (ev)
            crm__v1__event__free_unpacked(ev, NULL);
        if (r < 0) {
            cut = 1; /* not queued (out of memory): asked for again below */
            break;
        }
    }
    if (!cut && rr->scanned_to_sequence + 1 > p->expected)
        p->expected = rr->scanned_to_sequence + 1;
    crm_pos_drop_passed_hints(p);
    /* Caught up, unless live events told us of more meanwhile. */
    if (p->expected > rr->head_sequence && !p->hinted)
        p->replaying = 0;
    crm__v1__replay_reply__free_unpacked(rr, NULL);
    if (p->replaying)
        crm_consumer_replay(c, p);
    crm_consumer_kick(c);
}

int crm_consumer_on_dealer(crm_zwatch_t *w, void *zsock, int cap, void *arg)
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
