/* events.c: records to protobuf messages, and the events sales emits.
 *
 * Records arrive from the store as JSON objects keyed by field name (one
 * jsonb_build_object per record type in store.c), and are turned into
 * messages by walking the message descriptor: one generic reader instead of
 * one hand-written column reader per record type, which is where column
 * order mistakes would hide. Everything is allocated in the work's arena. */
#include "events.h"

#include "rules.h"

#include <crm/log.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON to message ------------------------------------------------------ */

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
        return 0; /* floats and bytes: not used by sales records */
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

void *sales_msg_from_json(crm_work_t *w, const ProtobufCMessageDescriptor *d, const char *text)
{
    json_error_t err;
    json_t *obj = text ? json_loads(text, JSON_DECODE_ANY, &err) : NULL;
    if (!obj || !json_is_object(obj)) {
        crm_error("sales.record", "could not read a %s record: %s", d->short_name,
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

/* ---- emitters ------------------------------------------------------------- */

/* Wraps a payload in an Event and emits it. `member` names the payload's
 * oneof field, so the compiler checks each payload's type. */
#define S_EMIT(w, type_, subject_, case_, member, payload)                                         \
    do {                                                                                           \
        Crm__V1__Event ev = CRM__V1__EVENT__INIT;                                                  \
        ev.type = (char *)(type_);                                                                 \
        ev.subject = (char *)((subject_) ? (subject_) : "");                                       \
        ev.payload_case = (case_);                                                                 \
        ev.member = (payload);                                                                     \
        return crm_work_emit((w), &ev);                                                            \
    } while (0)

int sales_emit_person_registered(crm_work_t *w, Crm__V1__Person *p)
{
    Crm__V1__PersonRegistered pl = CRM__V1__PERSON_REGISTERED__INIT;
    pl.person = p;
    S_EMIT(w, SALES_EV_PERSON_REGISTERED, p->id, CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED,
           person_registered, &pl);
}

int sales_emit_person_updated(crm_work_t *w, Crm__V1__Person *p, unsigned changed)
{
    Crm__V1__PersonUpdated pl = CRM__V1__PERSON_UPDATED__INIT;
    char *names[SALES_PF_COUNT];
    size_t n = 0;
    for (int i = 0; i < SALES_PF_COUNT; i++)
        if (changed & (1u << i))
            names[n++] = (char *)sales_person_field_name(i);
    pl.person = p;
    pl.changed_fields = names;
    pl.n_changed_fields = n;
    S_EMIT(w, SALES_EV_PERSON_UPDATED, p->id, CRM__V1__EVENT__PAYLOAD_PERSON_UPDATED,
           person_updated, &pl);
}

int sales_emit_org_created(crm_work_t *w, Crm__V1__Organization *o)
{
    Crm__V1__OrganizationCreated pl = CRM__V1__ORGANIZATION_CREATED__INIT;
    pl.organization = o;
    S_EMIT(w, SALES_EV_ORG_CREATED, "", CRM__V1__EVENT__PAYLOAD_ORGANIZATION_CREATED,
           organization_created, &pl);
}

int sales_emit_lead_created(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadCreated pl = CRM__V1__LEAD_CREATED__INIT;
    pl.lead = l;
    S_EMIT(w, SALES_EV_LEAD_CREATED, l->person_id, CRM__V1__EVENT__PAYLOAD_LEAD_CREATED,
           lead_created, &pl);
}

int sales_emit_lead_qualified(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadQualified pl = CRM__V1__LEAD_QUALIFIED__INIT;
    pl.lead = l;
    S_EMIT(w, SALES_EV_LEAD_QUALIFIED, l->person_id, CRM__V1__EVENT__PAYLOAD_LEAD_QUALIFIED,
           lead_qualified, &pl);
}

int sales_emit_lead_converted(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadConverted pl = CRM__V1__LEAD_CONVERTED__INIT;
    pl.lead = l;
    pl.person_id = l->person_id;
    pl.organization_id = l->organization_id;
    pl.deal_id = l->deal_id;
    S_EMIT(w, SALES_EV_LEAD_CONVERTED, l->person_id, CRM__V1__EVENT__PAYLOAD_LEAD_CONVERTED,
           lead_converted, &pl);
}

int sales_emit_lead_disqualified(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadDisqualified pl = CRM__V1__LEAD_DISQUALIFIED__INIT;
    pl.lead = l;
    pl.reason = l->disqualify_reason;
    S_EMIT(w, SALES_EV_LEAD_DISQUALIFIED, l->person_id, CRM__V1__EVENT__PAYLOAD_LEAD_DISQUALIFIED,
           lead_disqualified, &pl);
}

int sales_emit_pipeline_created(crm_work_t *w, Crm__V1__Pipeline *p)
{
    Crm__V1__PipelineCreated pl = CRM__V1__PIPELINE_CREATED__INIT;
    pl.pipeline = p;
    S_EMIT(w, SALES_EV_PIPELINE_CREATED, "", CRM__V1__EVENT__PAYLOAD_PIPELINE_CREATED,
           pipeline_created, &pl);
}

int sales_emit_deal_created(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealCreated pl = CRM__V1__DEAL_CREATED__INIT;
    pl.deal = d;
    S_EMIT(w, SALES_EV_DEAL_CREATED, d->person_id, CRM__V1__EVENT__PAYLOAD_DEAL_CREATED,
           deal_created, &pl);
}

int sales_emit_deal_stage_changed(crm_work_t *w, Crm__V1__Deal *d, const char *from, const char *to)
{
    Crm__V1__DealStageChanged pl = CRM__V1__DEAL_STAGE_CHANGED__INIT;
    pl.deal = d;
    pl.from_stage = (char *)from;
    pl.to_stage = (char *)to;
    S_EMIT(w, SALES_EV_DEAL_STAGE_CHANGED, d->person_id, CRM__V1__EVENT__PAYLOAD_DEAL_STAGE_CHANGED,
           deal_stage_changed, &pl);
}

int sales_emit_deal_won(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealWon pl = CRM__V1__DEAL_WON__INIT;
    pl.deal = d;
    S_EMIT(w, SALES_EV_DEAL_WON, d->person_id, CRM__V1__EVENT__PAYLOAD_DEAL_WON, deal_won, &pl);
}

int sales_emit_deal_lost(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealLost pl = CRM__V1__DEAL_LOST__INIT;
    pl.deal = d;
    pl.reason = d->lost_reason;
    S_EMIT(w, SALES_EV_DEAL_LOST, d->person_id, CRM__V1__EVENT__PAYLOAD_DEAL_LOST, deal_lost, &pl);
}

int sales_emit_order_placed(crm_work_t *w, Crm__V1__Order *o)
{
    Crm__V1__OrderPlaced pl = CRM__V1__ORDER_PLACED__INIT;
    pl.order = o;
    S_EMIT(w, SALES_EV_ORDER_PLACED, o->person_id, CRM__V1__EVENT__PAYLOAD_ORDER_PLACED,
           order_placed, &pl);
}

int sales_emit_activity_scheduled(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityScheduled pl = CRM__V1__ACTIVITY_SCHEDULED__INIT;
    pl.activity = a;
    S_EMIT(w, SALES_EV_ACTIVITY_SCHEDULED, a->person_id, CRM__V1__EVENT__PAYLOAD_ACTIVITY_SCHEDULED,
           activity_scheduled, &pl);
}

int sales_emit_activity_completed(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityCompleted pl = CRM__V1__ACTIVITY_COMPLETED__INIT;
    pl.activity = a;
    S_EMIT(w, SALES_EV_ACTIVITY_COMPLETED, a->person_id, CRM__V1__EVENT__PAYLOAD_ACTIVITY_COMPLETED,
           activity_completed, &pl);
}

int sales_emit_activity_due(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityDue pl = CRM__V1__ACTIVITY_DUE__INIT;
    pl.activity = a;
    S_EMIT(w, SALES_EV_ACTIVITY_DUE, a->person_id, CRM__V1__EVENT__PAYLOAD_ACTIVITY_DUE,
           activity_due, &pl);
}

int sales_emit_note_added(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__NoteAdded pl = CRM__V1__NOTE_ADDED__INIT;
    pl.activity = a;
    S_EMIT(w, SALES_EV_NOTE_ADDED, a->person_id, CRM__V1__EVENT__PAYLOAD_NOTE_ADDED, note_added,
           &pl);
}
