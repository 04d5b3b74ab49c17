/* fuzz_event.c: what a consumer decodes from the bus and from replay
 * (common/src/consumer_live.c, consumer_replay.c): a live message is a topic and a payload, a
 * crm.v1.Heartbeat when the topic ends in "._hb" and a crm.v1.Event
 * otherwise; a replay answer is a crm.v1.ReplayReply whose events are
 * decoded one by one. Decoded events are rendered as JSON as crmctl tail
 * prints them. Input: one byte of topic length, the topic, the payload;
 * a topic of "replay" means the payload is a ReplayReply. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <crm/pbjson.h>
#include <crm/v1/event.pb-c.h>
#include <crm/v1/rpc.pb-c.h>

static void s_event(const uint8_t *data, size_t len)
{
    Crm__V1__Event *ev = crm__v1__event__unpack(NULL, len, data);
    if (!ev)
        return;
    CRM_FUZZ_CHECK(ev->source && ev->type && ev->id);
    crm_fuzz_roundtrip(&ev->base, data, len);
    json_t *j = crm_pbjson_from_message(&ev->base);
    if (j) {
        char *text = json_dumps(j, JSON_COMPACT);
        free(text);
        json_decref(j);
    }
    crm__v1__event__free_unpacked(ev, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || (size_t)data[0] + 1 > size)
        return 0;
    size_t tlen = data[0];
    const char *topic = (const char *)data + 1;
    const uint8_t *payload = data + 1 + tlen;
    size_t len = size - 1 - tlen;

    if (tlen == 6 && !memcmp(topic, "replay", 6)) {
        Crm__V1__ReplayReply *rr = crm__v1__replay_reply__unpack(NULL, len, payload);
        if (!rr)
            return 0;
        for (size_t i = 0; i < rr->n_events; i++)
            s_event(rr->events[i].data, rr->events[i].len);
        crm__v1__replay_reply__free_unpacked(rr, NULL);
    } else if (tlen > 4 && !memcmp(topic + tlen - 4, "._hb", 4)) {
        Crm__V1__Heartbeat *hb = crm__v1__heartbeat__unpack(NULL, len, payload);
        if (hb) {
            CRM_FUZZ_CHECK(hb->source && hb->epoch);
            crm_fuzz_roundtrip(&hb->base, payload, len);
            crm__v1__heartbeat__free_unpacked(hb, NULL);
        }
    } else {
        s_event(payload, len);
    }
    return 0;
}
