/* cloudevent.c: crm.v1.Event -> CloudEvents 1.0 structured JSON (see
 * crm/cloudevent.h). The payload is found through the Event descriptor (the
 * field whose number is payload_case), so new event types render without
 * changes here. */
#include "crm/cloudevent.h"

#include "crm/pbjson.h"
#include "crm/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sets key to s unless s is NULL or empty. A string that is not UTF-8 is
 * written with '?' for its bytes outside printable ASCII. Returns 0 or -1
 * (ENOMEM). */
static int s_set_str(json_t *o, const char *key, const char *s)
{
    if (!s || !*s)
        return 0;
    json_t *j = json_string(s);
    if (!j) {
        char *copy = strdup(s);
        if (!copy)
            return -1;
        for (unsigned char *p = (unsigned char *)copy; *p; p++)
            if (*p >= 0x80 || *p < 0x20)
                *p = '?';
        j = json_string(copy);
        free(copy);
    }
    return j ? json_object_set_new(o, key, j) : -1;
}

const ProtobufCMessage *crm_cloudevent_payload(const Crm__V1__Event *ev)
{
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD__NOT_SET)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(ev->base.descriptor, (unsigned)ev->payload_case);
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(ProtobufCMessage *const *)(const void *)((const char *)ev + f->offset);
}

json_t *crm_cloudevent_json(const Crm__V1__Event *ev)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    char when[40], seq[24], schema[256];
    snprintf(seq, sizeof seq, "%" PRIu64, ev->sequence);
    int rc = json_object_set_new(o, "specversion", json_string(CRM_CLOUDEVENT_SPECVERSION));
    rc |= s_set_str(o, "id", ev->id);
    rc |= s_set_str(o, "source", ev->source);
    rc |= s_set_str(o, "type", ev->type);
    rc |= s_set_str(o, "subject", ev->subject);
    if (ev->time_us)
        rc |= s_set_str(o, "time", crm_time_format(ev->time_us, when, sizeof when));
    if (ev->sequence)
        rc |= s_set_str(o, "sequence", seq);
    rc |= s_set_str(o, "epoch", ev->epoch);
    rc |= s_set_str(o, "correlationid", ev->correlation_id);
    rc |= s_set_str(o, "causationid", ev->causation_id);
    rc |= s_set_str(o, "actor", ev->actor);
    const ProtobufCMessage *payload = crm_cloudevent_payload(ev);
    if (payload) {
        json_t *data = crm_pbjson_from_message(payload);
        if (!data) {
            json_decref(o);
            return NULL;
        }
        snprintf(schema, sizeof schema, "%s%s", CRM_CLOUDEVENT_SCHEMA_PREFIX,
                 payload->descriptor->name);
        rc |= s_set_str(o, "datacontenttype", "application/json");
        rc |= s_set_str(o, "dataschema", schema);
        rc |= json_object_set_new(o, "data", data);
    }
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the same as text, in one pass ------------------------------------ */

/* ,"key":"s" unless s is NULL or empty, as s_set_str sets it (the '?'
 * copy for a string that is not UTF-8). */
static int s_put_str(crm_pbjson_buf_t *b, const char *key, const char *s)
{
    if (!s || !*s)
        return 0;
    if (crm_pbjson_write_raw(b, ",\"", 2) < 0 || crm_pbjson_write_raw(b, key, strlen(key)) < 0 ||
        crm_pbjson_write_raw(b, "\":", 2) < 0)
        return -1;
    if (crm_pbjson_write_string(b, s) == 0)
        return 0;
    char *copy = strdup(s);
    if (!copy)
        return -1;
    for (unsigned char *p = (unsigned char *)copy; *p; p++)
        if (*p >= 0x80 || *p < 0x20)
            *p = '?';
    int rc = crm_pbjson_write_string(b, copy);
    free(copy);
    return rc;
}

int crm_cloudevent_write(crm_pbjson_buf_t *b, const Crm__V1__Event *ev)
{
    char when[40], seq[24], schema[256];
    size_t mark = b->len;
    snprintf(seq, sizeof seq, "%" PRIu64, ev->sequence);
    int rc = crm_pbjson_write_raw(b, "{\"specversion\":", 15);
    rc |= crm_pbjson_write_string(b, CRM_CLOUDEVENT_SPECVERSION);
    rc |= s_put_str(b, "id", ev->id);
    rc |= s_put_str(b, "source", ev->source);
    rc |= s_put_str(b, "type", ev->type);
    rc |= s_put_str(b, "subject", ev->subject);
    if (ev->time_us)
        rc |= s_put_str(b, "time", crm_time_format(ev->time_us, when, sizeof when));
    if (ev->sequence)
        rc |= s_put_str(b, "sequence", seq);
    rc |= s_put_str(b, "epoch", ev->epoch);
    rc |= s_put_str(b, "correlationid", ev->correlation_id);
    rc |= s_put_str(b, "causationid", ev->causation_id);
    rc |= s_put_str(b, "actor", ev->actor);
    const ProtobufCMessage *payload = crm_cloudevent_payload(ev);
    if (payload) {
        snprintf(schema, sizeof schema, "%s%s", CRM_CLOUDEVENT_SCHEMA_PREFIX,
                 payload->descriptor->name);
        rc |= s_put_str(b, "datacontenttype", "application/json");
        rc |= s_put_str(b, "dataschema", schema);
        rc |= crm_pbjson_write_raw(b, ",\"data\":", 8);
        rc |= crm_pbjson_write(b, payload);
    }
    rc |= crm_pbjson_write_raw(b, "}", 1);
    if (rc) {
        b->len = mark;
        if (b->text)
            b->text[mark] = '\0';
        return -1;
    }
    return 0;
}
