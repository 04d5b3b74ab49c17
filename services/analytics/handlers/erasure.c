/* handlers/erasure.c: crm.sales.person.erased.v1 applied to analytics
 * (crm/erase.h; docs/architecture.md, "Personal data"). Analytics keeps
 * whole events as JSON (customer_event.payload) and the profile each
 * source gave (customer.contributions); each is read back into its
 * message, erased by the same rule the producers applied to their stored
 * events, and written again, so that a rebuild from the rewritten log
 * equals what is erased here live. Then the tables are scrubbed and the
 * event is folded like any other (the timeline says "person erased"). */
#include "handlers.h"

#include <crm/erase.h>
#include <crm/input.h>
#include <crm/pbjson.h>

#include <stdlib.h>
#include <string.h>

#include "crm/v1/person.pb-c.h"

typedef struct {
    const char *id;
    const char **pii;
    size_t n;
    char *pii_json;
    crm_work_fn next;
    ProtobufCAllocator alloc;
} s_erase_t;

/* obj read as `d`, erased, and rendered again; NULL when unreadable. */
static json_t *s_erase_json(s_erase_t *st, const ProtobufCMessageDescriptor *d, json_t *obj,
                            int about_subject)
{
    ProtobufCMessage *m = crm_input_message(d, obj, CRM_INPUT_LENIENT, &st->alloc, NULL, 0);
    if (!m)
        return NULL;
    int rc = d == &crm__v1__event__descriptor
                 ? crm_erase_event((Crm__V1__Event *)m, &st->alloc, st->id, st->pii, st->n)
                 : crm_erase_message(m, &st->alloc, st->pii, st->n, about_subject);
    if (rc < 0)
        return NULL;
    return crm_pbjson_from_message(m);
}

static void s_done(crm_work_t *w, uint32_t rewritten)
{
    (void)rewritten;
    s_erase_t *st = crm_work_data(w);
    crm_work_set_data(w, NULL);
    st->next(w);
}

static void s_rows_updated(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_erase_t *st = crm_work_data(w);
    crm_erase_person(w, st->id, st->pii, st->n, s_done);
}

/* Every row of the person's timeline, and any other holding their
 * strings, erased as the producers erased the events themselves. */
static void s_rows_found(crm_work_t *w, PGresult *res)
{
    s_erase_t *st = crm_work_data(w);
    json_t *out = json_array();
    for (int i = 0; out && i < PQntuples(res); i++) {
        json_t *ev = json_loads(PQgetvalue(res, i, 2), 0, NULL);
        json_t *erased = ev ? s_erase_json(st, &crm__v1__event__descriptor, ev, 0) : NULL;
        char *text = erased ? json_dumps(erased, JSON_COMPACT) : NULL;
        json_decref(ev);
        json_decref(erased);
        if (!text) {
            json_decref(out);
            crm_work_fail(
                w, S_INTERNAL, NULL, "a recorded event could not be erased",
                crm_work_printf(w, "%s #%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)),
                "nothing was erased; see the log");
            return;
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "source", PQgetvalue(res, i, 0),
                                             "seq", PQgetvalue(res, i, 1), "p", text));
        free(text);
    }
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    const char *p[] = {copy};
    crm_work_exec(w,
                  "UPDATE customer_event e SET payload = v.p::jsonb"
                  " FROM jsonb_to_recordset($1::jsonb) v(source text, seq bigint, p text)"
                  " WHERE e.source = v.source AND e.seq = v.seq",
                  1, p, s_rows_updated);
}

static void s_profile_updated(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_erase_t *st = crm_work_data(w);
    const char *p[] = {st->id, st->pii_json};
    crm_work_query(w,
                   "SELECT source, seq::text, payload::text FROM customer_event"
                   " WHERE customer_id = $1 OR strpos(payload::text, $1) > 0"
                   " OR EXISTS (SELECT 1 FROM jsonb_array_elements_text($2::jsonb) s"
                   "  WHERE length(s) >= 4 AND strpos(lower(payload::text), lower(s)) > 0)",
                   2, p, s_rows_found);
}

/* The strings the customer had here, and the profile each source gave. */
static void s_customer_found(crm_work_t *w, PGresult *res)
{
    s_erase_t *st = crm_work_data(w);
    st->pii_json = crm_work_strdup(w, PQntuples(res) ? PQgetvalue(res, 0, 0) : "[]");
    if (!st->pii_json || !(st->pii = crm_erase_strings(w, st->pii_json, &st->n)))
        return;
    json_t *c = PQntuples(res) ? json_loads(PQgetvalue(res, 0, 1), 0, NULL) : json_object();
    const char *src;
    json_t *v;
    json_object_foreach(c, src, v)
    {
        json_t *e = s_erase_json(st, &crm__v1__person__descriptor, v, 1);
        if (e)
            json_object_set_new(c, src, e);
    }
    char *text = c ? json_dumps(c, JSON_COMPACT) : NULL;
    json_decref(c);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    const char *p[] = {st->id, copy};
    crm_work_exec(w, "UPDATE customer SET contributions = $2::jsonb WHERE id = $1", 2, p,
                  s_profile_updated);
}

void analytics_person_erased(crm_work_t *w, crm_work_fn next)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    s_erase_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    st->id = ev->subject;
    st->next = next;
    st->alloc = crm_work_pb_allocator(w);
    crm_work_set_data(w, st);
    const char *p[] = {st->id};
    crm_work_query(w,
                   "SELECT array_to_json(ARRAY(SELECT DISTINCT s FROM"
                   "  unnest(ARRAY[crm_erase_name(c.name)] || c.emails || c.phones) s"
                   "  WHERE s <> '' AND s <> '[erased]'))::text, c.contributions::text"
                   " FROM customer c WHERE c.id = $1 FOR UPDATE",
                   1, p, s_customer_found);
}

/* analytics.person.export: analytics' profile of the customer, their
 * figures (orders, deals, tickets, campaigns), their health with its
 * reasons, and analytics' stored events about them (health changes, churn
 * risks, data-quality findings). The events of the other services are in
 * their own parts of the export. */
void analytics_person_export(crm_work_t *w)
{
    crm_export_person(
        w,
        "SELECT jsonb_build_object("
        " 'customer', (SELECT to_jsonb(c) - 'fv' FROM customer c WHERE c.id = $1),"
        " 'health', (SELECT to_jsonb(h) FROM health h WHERE h.customer_id = $1),"
        " 'orders', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM sale_order x"
        "   WHERE x.customer_id = $1), '[]'),"
        " 'deals', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM deal x WHERE x.customer_id = $1),"
        "   '[]'),"
        " 'tickets', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM ticket x"
        "   WHERE x.customer_id = $1), '[]'),"
        " 'campaign_responses', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM campaign_response x"
        "   WHERE x.customer_id = $1), '[]'))::text",
        0);
}
