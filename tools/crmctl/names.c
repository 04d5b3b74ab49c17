/* names.c: customers' names in readable output (issue 20).
 *
 * Replies name customers by id (an order's person_id, a segment's
 * customer_ids); people read names. Before a reply is printed as text, the
 * ids it holds are looked up with sales.person.show, which owns the names,
 * and the printers show the name (the id when it could not be found). -o
 * json is not touched: it stays what the service answered.
 *
 * The lookups are best effort and bounded: only when sales is configured,
 * one call per distinct id (at most REQ_NAMES_MAX), a short deadline, and
 * no more calls after one that fails for any reason other than NOT_FOUND
 * (sales down, or the caller not allowed to read people): the output then
 * shows ids, as before.
 *
 * Pipelines the same way, for the pipeline report: analytics names a
 * pipeline from sales' pipeline events, and the default pipeline sales
 * makes in its first migration has none. */
#include "request.h"

#include "crm/v1/sales.pb-c.h"

#include <crm/util.h>

#include <stdlib.h>
#include <string.h>

/* The most customers looked up for one reply (a longer list shows ids past it). */
#define REQ_NAMES_MAX 200
/* Deadline of one lookup: a name is a nicety, not worth the 5 s of a command. */
#define REQ_NAMES_TIMEOUT_MS 2000

/* id -> name (a JSON object as a small map); process-wide, since printers get no context. */
static json_t *s_names;

static int s_is_id_key(const char *key)
{
    return !strcmp(key, "person_id") || !strcmp(key, "customer_id");
}

/* The ids of customers anywhere in v, into the object `ids` (as keys). */
static void s_collect(const json_t *v, json_t *ids)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) s_collect(x, ids);
        return;
    }
    json_object_foreach((json_t *)v, key, x)
    {
        if (json_object_size(ids) >= REQ_NAMES_MAX)
            return;
        if (json_is_string(x) && s_is_id_key(key) && crm_uuid_valid(json_string_value(x)))
            json_object_set_new(ids, json_string_value(x), json_null());
        else if (!strcmp(key, "customer_ids") && json_is_array(x))
            for (i = 0; i < json_array_size(x) && json_object_size(ids) < REQ_NAMES_MAX; i++) {
                const char *s = json_string_value(json_array_get(x, i));
                if (s && crm_uuid_valid(s))
                    json_object_set_new(ids, s, json_null());
            }
        else if (json_is_object(x) || json_is_array(x))
            s_collect(x, ids);
    }
}

void req_names_resolve(crmctl_t *ctl, const json_t *reply)
{
    crmctl_service_t *sales = crmctl_service_find(ctl, "sales");
    if (!sales || crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return;
    if (!s_names && !(s_names = json_object()))
        return;
    json_t *ids = json_object();
    if (!ids)
        return;
    s_collect(reply, ids);
    const char *id;
    json_t *unused;
    json_object_foreach(ids, id, unused)
    {
        if (json_object_get(s_names, id))
            continue;
        Crm__V1__ShowPersonRequest req = CRM__V1__SHOW_PERSON_REQUEST__INIT;
        req.id = (char *)id;
        ProtobufCMessage *rep = NULL;
        Crm__V1__CommandReply *err = NULL;
        int rc = crmctl_call(ctl, sales, "sales.person.show", &req.base, NULL, REQ_NAMES_TIMEOUT_MS,
                             1, &crm__v1__person_reply__descriptor, &rep, CRMCTL_CALL_QUIET, &err);
        int not_found =
            err && err->status && err->status->code == CRM__V1__STATUS_CODE__STATUS_CODE_NOT_FOUND;
        if (err)
            crm__v1__command_reply__free_unpacked(err, NULL);
        if (rc != CRMCTL_EXIT_OK) {
            if (!not_found)
                break;
            continue;
        }
        const Crm__V1__PersonReply *pr = (const void *)rep;
        if (pr->person && pr->person->name && *pr->person->name)
            json_object_set_new(s_names, id, json_string(pr->person->name));
        protobuf_c_message_free_unpacked(rep, NULL);
    }
    json_decref(ids);
}

void req_pipeline_names(crmctl_t *ctl, json_t *rows)
{
    crmctl_service_t *sales = crmctl_service_find(ctl, "sales");
    size_t i;
    json_t *row;
    int unnamed = 0;
    json_array_foreach(rows, i, row) unnamed |=
        !strcmp(req_str(row, "pipeline"), req_str(row, "pipeline_id"));
    if (!sales || !unnamed)
        return;
    Crm__V1__ListPipelinesRequest req = CRM__V1__LIST_PIPELINES_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    if (crmctl_call(ctl, sales, "sales.pipeline.list", &req.base, NULL, REQ_NAMES_TIMEOUT_MS, 1,
                    &crm__v1__list_pipelines_reply__descriptor, &rep, CRMCTL_CALL_QUIET,
                    NULL) != CRMCTL_EXIT_OK)
        return;
    const Crm__V1__ListPipelinesReply *lp = (const void *)rep;
    json_array_foreach(rows, i, row)
    {
        const char *id = req_str(row, "pipeline_id");
        for (size_t k = 0; k < lp->n_pipelines; k++)
            if (!strcmp(req_str(row, "pipeline"), id) && !strcmp(lp->pipelines[k]->id, id) &&
                *lp->pipelines[k]->name)
                json_object_set_new(row, "pipeline", json_string(lp->pipelines[k]->name));
    }
    protobuf_c_message_free_unpacked(rep, NULL);
}

const char *req_name_of(const char *id)
{
    return id ? json_string_value(json_object_get(s_names, id)) : NULL;
}

void req_names_clear(void)
{
    json_decref(s_names);
    s_names = NULL;
}
