/* record.c: database records to protobuf messages.
 *
 * A store returns each record as a JSON object keyed by the field names of
 * its crm.v1 message (jsonb_build_object in the query), and this reader
 * fills the message by walking the descriptor: one generic reader instead of
 * one hand-written column reader per record type, which is where column
 * order mistakes hide. Everything is allocated in the work's arena. */
#include "svc_int.h"

#include <crm/db.h>
#include <crm/log.h>
#include <crm/service.h>

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ProtobufCMessage *s_message(crm_work_t *w, const ProtobufCMessageDescriptor *d,
                                   const json_t *obj);

static size_t s_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4; /* 32-bit integers, enums, protobuf_c_boolean, float */
    }
}

static int64_t s_int(const json_t *v)
{
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    if (json_is_true(v))
        return 1;
    return 0;
}

/* Stores one value into `slot`; 0, or -1 when out of memory or when a
 * nested message is not an object. */
static int s_value(crm_work_t *w, const ProtobufCFieldDescriptor *f, void *slot, const json_t *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        char num[32];
        const char *s = num;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            return 0; /* leave the default */
        char *c = crm_work_strdup(w, s);
        if (!c)
            return -1;
        *(char **)slot = c;
        return 0;
    }
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        *(int32_t *)slot = (int32_t)s_int(v);
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)slot = (uint32_t)s_int(v);
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)slot = s_int(v);
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)slot = (uint64_t)s_int(v);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)slot = json_is_true(v) || (json_is_integer(v) && s_int(v) != 0);
        return 0;
    case PROTOBUF_C_TYPE_MESSAGE: {
        if (!json_is_object(v))
            return -1;
        ProtobufCMessage *m = s_message(w, f->descriptor, v);
        if (!m)
            return -1;
        *(ProtobufCMessage **)slot = m;
        return 0;
    }
    default:
        return 0; /* floats and bytes: no record uses them yet */
    }
}

static ProtobufCMessage *s_message(crm_work_t *w, const ProtobufCMessageDescriptor *d,
                                   const json_t *obj)
{
    ProtobufCMessage *m = crm_work_alloc(w, d->sizeof_message);
    if (!m)
        return NULL;
    d->message_init(m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const json_t *v = json_object_get(obj, f->name);
        if (!v || json_is_null(v) || f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            continue;
        char *base = (char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (!json_is_array(v) || json_array_size(v) == 0)
                continue;
            size_t n = json_array_size(v), es = s_elem_size(f->type);
            char *arr = crm_work_alloc(w, n * es);
            if (!arr)
                return NULL;
            for (size_t k = 0; k < n; k++)
                if (s_value(w, f, arr + k * es, json_array_get(v, k)) < 0)
                    return NULL;
            *(size_t *)(base + f->quantifier_offset) = n;
            *(void **)(base + f->offset) = arr;
        } else if (s_value(w, f, base + f->offset, v) < 0) {
            return NULL;
        }
    }
    return m;
}

void crm_work_fail_err(crm_work_t *w, const crm_err_t *e)
{
    if (e->log_detail[0]) {
        const char *name = w->cmd                            ? w->cmd->name
                           : w->consumer && w->consumer->def ? w->consumer->def->name
                           : w->kind == CRM_WORK_SYS         ? w->submit_def.name
                                                             : "work";
        crm_warn("work.failed", "%s: %s: %s", name ? name : "work", e->message, e->log_detail);
    }
    crm_work_fail(w, (Crm__V1__StatusCode)e->code, e->field, e->message, e->detail, e->hint);
}

void crm_work_fail_nomem(crm_work_t *w)
{
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL, "out of memory", NULL, NULL);
}

void crm_work_fail_unreadable(crm_work_t *w)
{
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                  "could not read a stored record", NULL,
                  "report this; the service log has the details");
}

void *crm_work_returned(crm_work_t *w, const ProtobufCMessageDescriptor *d, const PGresult *res)
{
    void *m = PQntuples(res) >= 1 ? crm_work_record(w, d, crm_db_get_opt(res, 0, 0)) : NULL;
    if (!m)
        crm_work_fail_unreadable(w);
    return m;
}

void crm_work_fail_not_found(crm_work_t *w, const char *field, const char *what, const char *id,
                             const char *hint)
{
    char msg[96], detail[160];
    snprintf(msg, sizeof msg, "%s does not exist", what);
    snprintf(detail, sizeof detail, "no %s with id \"%.80s\"", what, id);
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_NOT_FOUND, field, msg, detail, hint);
}

void **crm_work_records(crm_work_t *w, const ProtobufCMessageDescriptor *d, const PGresult *res,
                        int col, int n)
{
    void **v = crm_work_alloc(w, (size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (!(v[i] = crm_work_record(w, d, crm_db_get_opt(res, i, col)))) {
            crm_work_fail_unreadable(w);
            return NULL;
        }
    return v;
}

void *crm_work_record(crm_work_t *w, const ProtobufCMessageDescriptor *d, const char *text)
{
    json_error_t err;
    json_t *obj = text ? json_loads(text, JSON_DECODE_ANY, &err) : NULL;
    if (!obj || !json_is_object(obj)) {
        crm_error("record.invalid", "could not read a %s record: %s", d->short_name,
                  obj    ? "not an object"
                  : text ? err.text
                         : "no value");
        json_decref(obj);
        return NULL;
    }
    ProtobufCMessage *m = s_message(w, d, obj);
    json_decref(obj);
    return m;
}
