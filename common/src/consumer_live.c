/* consumer_live.c: events and heartbeats from the bus (SUB).
 *
 * A live event is a notification that its source has something new: it is
 * checked (consumer_verify.c) and makes us ask the source by replay, but is
 * never applied itself. */
#include "consumer_int.h"
#include "svc_int.h"

#include <crm/log.h>
#include <crm/pbcheck.h>
#include <crm/util.h>

#include <inttypes.h>

#include <string.h>
#include <zmq.h>

static void s_gap(crm_consumer_t *c, crm_src_pos_t *p)
{
    if (p->replaying || p->conflict)
        return;
    p->gaps++;
    p->replaying = 1;
    crm_consumer_replay(c, p);
}

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
    if (!crm_topic_names(topic, tlen, hb->source)) {
        svc->m.events_refused++;
        crm__v1__heartbeat__free_unpacked(hb, NULL);
        return;
    }
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        crm_src_pos_t *p = crm_consumer_pos(c, hb->source);
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
    /* A text field that is not UTF-8 or holds a NUL (crm/pbcheck.h) makes
     * the event as malformed as one that does not decode. */
    if (ev && crm_pb_check_strings(&crm__v1__event__descriptor, data, len, NULL, 0) < 0) {
        crm__v1__event__free_unpacked(ev, NULL);
        ev = NULL;
    }
    if (!ev) {
        svc->m.frames_dropped++;
        crm_warn("consumer.malformed", "dropped a malformed event on topic %.*s",
                 (int)(tlen > 200 ? 200 : tlen), topic);
        return;
    }
    if (strlen(ev->type) != tlen || memcmp(ev->type, topic, tlen) ||
        !crm_topic_names(topic, tlen, ev->source)) {
        /* Our relay publishes every event under its type, which names its
         * source. */
        char src[CRM_EVENT_ID_MAX + 1];
        if (svc->m.events_refused++ % 1000 == 0)
            crm_warn("consumer.refused",
                     "dropped a live event whose topic does not match its source \"%s\" and type",
                     crm_printable_id(src, ev->source));
        crm__v1__event__free_unpacked(ev, NULL);
        return;
    }
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        crm_src_pos_t *p = crm_consumer_pos(c, ev->source);
        if (!p || !c->loaded || p->conflict)
            continue;
        if (ev->sequence < p->expected) {
            crm_pos_check_recent(c, p, ev);
            continue;
        }
        /* Not applied from here: the source is asked for it (one request
         * in flight per source, however many live events arrive). */
        crm_debug("consumer.live", "%s: %s %" PRIu64 " at %" PRId64 " us", c->def->name, p->source,
                  ev->sequence, crm_mono_us());
        crm_pos_hint(p, ev);
        if (p->replay_req)
            p->hinted = 1;
        else if (!p->replaying) {
            p->replaying = 1;
            crm_consumer_replay(c, p);
        }
    }
    crm__v1__event__free_unpacked(ev, NULL);
}

int crm_consumer_on_sub(crm_zwatch_t *w, void *zsock, int cap, void *arg)
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
