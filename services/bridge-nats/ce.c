/* ce.c: the CloudEvents protobuf format for the bridge (issue #18).
 *
 * CloudEvents tooling reads io.cloudevents.v1.CloudEvent, not our envelope,
 * so with CRM_BRIDGE_FORMAT=cloudevents each message in JetStream is one
 * CloudEvent built from the crm.v1.Event. The attributes are the ones the
 * JSON rendering (common/src/cloudevent.c) gives, so a reader of either
 * format sees the same names; only the typing differs where the protobuf
 * format has a type of its own (time is a Timestamp, dataschema a URI).
 * crm.v1.Event stays as it is on the bus: this is an output format only. */
#include "ce.h"

#include <crm/cloudevent.h>

#include "cloudevents.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef Io__Cloudevents__V1__CloudEvent s_ce_t;
typedef Io__Cloudevents__V1__CloudEvent__AttributesEntry s_entry_t;
typedef Io__Cloudevents__V1__CloudEvent__CloudEventAttributeValue s_value_t;

/* Every attribute this file sets (see s_add calls below). */
#define S_MAX_ATTRS 12

typedef struct {
    s_entry_t entries[S_MAX_ATTRS];
    s_value_t values[S_MAX_ATTRS];
    s_entry_t *ptrs[S_MAX_ATTRS];
    size_t n;
} s_attrs_t;

static s_value_t *s_add(s_attrs_t *a, const char *key)
{
    size_t i = a->n++;
    io__cloudevents__v1__cloud_event__attributes_entry__init(&a->entries[i]);
    io__cloudevents__v1__cloud_event__cloud_event_attribute_value__init(&a->values[i]);
    a->entries[i].key = (char *)key;
    a->entries[i].value = &a->values[i];
    a->ptrs[i] = &a->entries[i];
    return &a->values[i];
}

/* CloudEvents forbids empty attribute values: an empty one is left out. */
static void s_add_str(s_attrs_t *a, const char *key, const char *v)
{
    if (!v || !*v)
        return;
    s_value_t *val = s_add(a, key);
    val->attr_case = IO__CLOUDEVENTS__V1__CLOUD_EVENT__CLOUD_EVENT_ATTRIBUTE_VALUE__ATTR_CE_STRING;
    val->ce_string = (char *)v;
}

int bridge_ce_pack(crm_work_t *w, const Crm__V1__Event *ev, const uint8_t **out, size_t *len)
{
    s_attrs_t a = {.n = 0};
    Google__Protobuf__Timestamp ts;
    Google__Protobuf__Any any;
    s_ce_t ce;
    /* The init functions, not the INIT macros: those brace an anonymous
     * union in a way -Wmissing-braces rejects. */
    google__protobuf__timestamp__init(&ts);
    google__protobuf__any__init(&any);
    io__cloudevents__v1__cloud_event__init(&ce);
    char seq[24], schema[300], type_url[300];

    s_add_str(&a, "subject", ev->subject);
    if (ev->time_us) {
        /* Timestamp nanos count forward from the (floored) second, also
         * before 1970. */
        int64_t s = ev->time_us / 1000000, us = ev->time_us % 1000000;
        if (us < 0)
            s -= 1, us += 1000000;
        ts.seconds = s;
        ts.nanos = (int32_t)(us * 1000);
        s_value_t *v = s_add(&a, "time");
        v->attr_case =
            IO__CLOUDEVENTS__V1__CLOUD_EVENT__CLOUD_EVENT_ATTRIBUTE_VALUE__ATTR_CE_TIMESTAMP;
        v->ce_timestamp = &ts;
    }
    s_add_str(&a, "correlationid", ev->correlation_id);
    s_add_str(&a, "causationid", ev->causation_id);
    s_add_str(&a, "actor", ev->actor);
    if (ev->sequence) {
        /* A string, as in the JSON rendering: CloudEvents integers are
         * 32-bit, sequences are 64-bit. */
        snprintf(seq, sizeof seq, "%" PRIu64, ev->sequence);
        s_add_str(&a, "sequence", seq);
    }
    s_add_str(&a, "epoch", ev->epoch);

    ce.id = ev->id;
    ce.source = ev->source;
    ce.spec_version = (char *)CRM_CLOUDEVENT_SPECVERSION;
    ce.type = ev->type;

    const ProtobufCMessage *payload = crm_cloudevent_payload(ev);
    uint8_t *data = NULL;
    if (payload) {
        const char *name = payload->descriptor->name; /* full name, crm.v1.X */
        size_t plen = protobuf_c_message_get_packed_size(payload);
        data = crm_work_alloc(w, plen ? plen : 1);
        if (!data)
            return -1;
        protobuf_c_message_pack(payload, data);
        /* The type URL form google.protobuf.Any's own libraries resolve. */
        snprintf(type_url, sizeof type_url, "type.googleapis.com/%s", name);
        any.type_url = type_url;
        any.value.data = data;
        any.value.len = plen;
        ce.data_case = IO__CLOUDEVENTS__V1__CLOUD_EVENT__DATA_PROTO_DATA;
        ce.proto_data = &any;
        s_add_str(&a, "datacontenttype", "application/protobuf");
        snprintf(schema, sizeof schema, "%s%s", CRM_CLOUDEVENT_SCHEMA_PREFIX, name);
        s_value_t *v = s_add(&a, "dataschema");
        v->attr_case = IO__CLOUDEVENTS__V1__CLOUD_EVENT__CLOUD_EVENT_ATTRIBUTE_VALUE__ATTR_CE_URI;
        v->ce_uri = schema;
    }
    ce.n_attributes = a.n;
    ce.attributes = a.ptrs;

    size_t n = io__cloudevents__v1__cloud_event__get_packed_size(&ce);
    uint8_t *buf = crm_work_alloc(w, n ? n : 1);
    if (!buf)
        return -1;
    io__cloudevents__v1__cloud_event__pack(&ce, buf);
    *out = buf;
    *len = n;
    return 0;
}
