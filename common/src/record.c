/* record.c: database records to protobuf messages, and the failures every
 * handler may meet.
 *
 * A store returns each record as a JSON object keyed by the field names of
 * its crm.v1 message (jsonb_build_object in the query), and the one JSON
 * reader (crm/input.h, leniently) fills the message by walking the
 * descriptor: no hand-written column reader per record type, which is where
 * column order mistakes hide. Everything is allocated in the work's arena. */
#include "svc_int.h"

#include <crm/db.h>
#include <crm/input.h>
#include <crm/log.h>
#include <crm/service.h>

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The work's arena as a protobuf-c allocator: records live as long as the
 * attempt, and nothing is freed one by one. */
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
    ProtobufCAllocator arena = crm_work_pb_allocator(w);
    char why[160];
    ProtobufCMessage *m = crm_input_message(d, obj, CRM_INPUT_LENIENT, &arena, why, sizeof why);
    if (!m)
        crm_error("record.invalid", "could not read a %s record: %s", d->short_name, why);
    json_decref(obj);
    return m;
}
