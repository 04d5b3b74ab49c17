/* erase.c: one person's personal data out of a service's database, its
 * stored events included (crm/erase.h). Events are rewritten rather than
 * deleted so that every stream stays dense from sequence 1; the bytes of
 * idempotency replies are masked in place, since their message type is not
 * recorded with them and a mask of the same length keeps them decodable. */
#include <crm/erase.h>

#include <crm/util.h>

#include <ctype.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/event.pb-c.h"
#include "crm/v1/person.pb-c.h"

#include <crm/pbjson.h>

#include "work_int.h"

#define S_MIN 4 /* shorter strings would erase far more than one person */

/* Personal fields, by message type: what an event about the person holds
 * of them beyond the strings the service knows (an address, a note, a
 * message body). Keep in step with docs/architecture.md, "Personal data". */
static const struct {
    const char *type, *field;
} s_personal[] = {
    {"crm.v1.Person", "name"},
    {"crm.v1.Person", "emails"},
    {"crm.v1.Person", "phones"},
    {"crm.v1.Person", "title"},
    {"crm.v1.Person", "address"},
    {"crm.v1.Person", "fax"},
    {"crm.v1.CustomField", "value"},
    {"crm.v1.Lead", "name"},
    {"crm.v1.Lead", "email"},
    {"crm.v1.Lead", "phone"},
    {"crm.v1.Lead", "notes"},
    {"crm.v1.Activity", "body"},
    {"crm.v1.CampaignResponseRecorded", "email"},
    {"crm.v1.CampaignResponseRecorded", "name"},
    {"crm.v1.CampaignResponseRecorded", "note"},
    {"crm.v1.Ticket", "requester_email"},
    {"crm.v1.Ticket", "requester_name"},
    {"crm.v1.Ticket", "description"},
    {"crm.v1.TicketMessage", "body"},
    {"crm.v1.TicketResolution", "text"},
    {"crm.v1.TicketSatisfaction", "comment"},
    {"crm.v1.TicketRated", "comment"},
    {"crm.v1.AddressState", "address"},
    {"crm.v1.AddressState", "last_error"},
    {"crm.v1.DeliveryRecorded", "error"},
    {"crm.v1.PersonMerged", "dropped_emails"},
};

int crm_erase_personal(const char *type, const char *field)
{
    for (size_t i = 0; i < sizeof s_personal / sizeof s_personal[0]; i++)
        if (!strcmp(s_personal[i].type, type) && !strcmp(s_personal[i].field, field))
            return 1;
    return 0;
}

/* ASCII case-insensitive search of needle (length nl) in hay. */
static const char *s_find(const char *hay, const char *needle, size_t nl)
{
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, nl))
            return hay;
    return NULL;
}

/* *sp with every occurrence of the strings replaced by the marker: 1 when
 * it changed, 0 when not, -ENOMEM. */
static int s_scrub(char **sp, ProtobufCAllocator *a, const char *const *pii, size_t n)
{
    int changed = 0;
    for (size_t i = 0; *sp && i < n; i++) {
        size_t nl = strlen(pii[i]);
        if (nl < S_MIN || !s_find(*sp, pii[i], nl))
            continue;
        size_t cap = strlen(*sp) * (sizeof CRM_ERASED) + 1, k = 0;
        char *out = a->alloc(a->allocator_data, cap);
        if (!out)
            return -ENOMEM;
        for (const char *s = *sp; *s;) {
            if (!strncasecmp(s, pii[i], nl)) {
                memcpy(out + k, CRM_ERASED, sizeof CRM_ERASED - 1);
                k += sizeof CRM_ERASED - 1;
                s += nl;
            } else
                out[k++] = *s++;
        }
        out[k] = 0;
        *sp = out;
        changed = 1;
    }
    return changed;
}

static int s_erase(ProtobufCMessage *m, ProtobufCAllocator *a, const char *const *pii, size_t n,
                   int about)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    int count = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *base = (char *)m;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(uint32_t *)(void *)(base + f->quantifier_offset) != f->id)
            continue;
        int personal = about && crm_erase_personal(d->name, f->name);
        size_t cnt = 1;
        void *slot = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            cnt = *(size_t *)(void *)(base + f->quantifier_offset);
            slot = *(void **)slot;
        }
        for (size_t j = 0; slot && j < cnt; j++) {
            int rc = 0;
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                char **sp = (char **)slot + j;
                if (personal && *sp && **sp && strcmp(*sp, CRM_ERASED)) {
                    *sp = (char *)CRM_ERASED; /* static: the arena never frees */
                    rc = 1;
                } else if (!personal)
                    rc = s_scrub(sp, a, pii, n);
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                ProtobufCMessage *sub = ((ProtobufCMessage **)slot)[j];
                if (sub)
                    rc = s_erase(sub, a, pii, n, about);
            }
            if (rc < 0)
                return rc;
            count += rc;
        }
    }
    return count;
}

int crm_erase_message(ProtobufCMessage *m, ProtobufCAllocator *a, const char *const *pii, size_t n,
                      int about)
{
    return s_erase(m, a, pii, n, about);
}

/* 1 when a string of m (or of a message it holds) is exactly `id`. */
static int s_holds(const ProtobufCMessage *m, const char *id)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
            continue;
        size_t cnt = 1;
        const void *slot = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            cnt = *(const size_t *)(const void *)(base + f->quantifier_offset);
            slot = *(void *const *)slot;
        }
        for (size_t j = 0; slot && j < cnt; j++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *v = ((char *const *)slot)[j];
                if (v && !strcmp(v, id))
                    return 1;
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *sub = ((ProtobufCMessage *const *)slot)[j];
                if (sub && s_holds(sub, id))
                    return 1;
            }
        }
    }
    return 0;
}

int crm_erase_event(Crm__V1__Event *ev, ProtobufCAllocator *a, const char *id,
                    const char *const *pii, size_t n)
{
    int about = !strcmp(ev->subject, id) || s_holds(&ev->base, id);
    return s_erase(&ev->base, a, pii, n, about);
}

/* ---- in a work --------------------------------------------------------- */

typedef struct {
    char *subject;
    char *pii;            /* the strings as a text[] literal */
    const char **strings; /* and as C strings, each also in lower case */
    size_t n;
    crm_erase_done_fn done;
    void *caller_data;
    uint32_t rewritten;
    ProtobufCAllocator alloc;
} s_erase_t;

/* s as an element of a text[] literal, appended at *k. */
static void s_literal_put(char *out, size_t *k, const char *s)
{
    out[(*k)++] = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            out[(*k)++] = '\\';
        out[(*k)++] = *s;
    }
    out[(*k)++] = '"';
}

static char *s_hex(crm_work_t *w, const uint8_t *b, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = crm_work_alloc(w, 2 * len + 1);
    for (size_t i = 0; out && i < len; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    if (out)
        out[2 * len] = 0;
    return out;
}

/* Rows (key, event hex) to the text[] literals *keys and *events. */
typedef struct {
    char *keys, *events;
    size_t kk, ek, kcap, ecap;
    size_t rows;
} s_batch_t;

static int s_batch_put(crm_work_t *w, s_batch_t *b, const char *key, const char *hex)
{
    size_t kl = strlen(key) * 2 + 3, hl = strlen(hex) + 3;
    if (b->kk + kl + 2 > b->kcap || b->ek + hl + 2 > b->ecap) {
        size_t kcap = (b->kcap + kl + 2) * 2, ecap = (b->ecap + hl + 2) * 2;
        char *k = crm_work_alloc(w, kcap), *e = crm_work_alloc(w, ecap);
        if (!k || !e)
            return -ENOMEM;
        if (b->kk)
            memcpy(k, b->keys, b->kk);
        if (b->ek)
            memcpy(e, b->events, b->ek);
        b->keys = k, b->events = e, b->kcap = kcap, b->ecap = ecap;
    }
    b->keys[b->kk++] = b->rows ? ',' : '{';
    b->events[b->ek++] = b->rows ? ',' : '{';
    s_literal_put(b->keys, &b->kk, key);
    s_literal_put(b->events, &b->ek, hex);
    b->rows++;
    return 0;
}

static int s_batch_end(s_batch_t *b)
{
    if (!b->rows)
        return 0;
    b->keys[b->kk++] = '}';
    b->keys[b->kk] = 0;
    b->events[b->ek++] = '}';
    b->events[b->ek] = 0;
    return 1;
}

static void s_finish(crm_work_t *w)
{
    s_erase_t *st = crm_work_data(w);
    crm_work_set_data(w, st->caller_data);
    st->done(w, st->rewritten);
}

/* Rewrites the events in column 1 of res (keys in column 0) and builds
 * the batch for the UPDATE; -1 with the work failed. */
static int s_rewrite_rows(crm_work_t *w, s_erase_t *st, PGresult *res, s_batch_t *b)
{
    memset(b, 0, sizeof *b);
    for (int i = 0; i < PQntuples(res); i++) {
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 1), &len);
        if (!raw) {
            crm_work_fail_nomem(w);
            return -1;
        }
        Crm__V1__Event *ev = crm__v1__event__unpack(&st->alloc, len, raw);
        PQfreemem(raw);
        if (!ev) {
            /* Never leave a stored event unreadable or half-erased. */
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                          "a stored event could not be decoded for erasure",
                          crm_work_printf(w, "row %s", PQgetvalue(res, i, 0)),
                          "see the service log; nothing was erased");
            return -1;
        }
        int rc = crm_erase_event(ev, &st->alloc, st->subject, st->strings, st->n);
        if (rc < 0) {
            crm_work_fail_nomem(w);
            return -1;
        }
        if (rc == 0)
            continue;
        size_t n = crm__v1__event__get_packed_size(ev);
        uint8_t *buf = crm_work_alloc(w, n ? n : 1);
        char *hex = buf ? s_hex(w, buf, crm__v1__event__pack(ev, buf)) : NULL;
        if (!hex || s_batch_put(w, b, PQgetvalue(res, i, 0), hex) < 0) {
            crm_work_fail_nomem(w);
            return -1;
        }
        st->rewritten++;
    }
    return s_batch_end(b);
}

static void s_idem_updated(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_finish(w);
}

/* Idempotency replies: the strings' bytes masked with '*' (same length,
 * so the encoding stays valid), keys that hold one renamed. */
static void s_idem_found(crm_work_t *w, PGresult *res)
{
    s_erase_t *st = crm_work_data(w);
    s_batch_t b;
    memset(&b, 0, sizeof b);
    for (int i = 0; i < PQntuples(res); i++) {
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 1), &len);
        char *hex = NULL;
        if (raw) {
            for (size_t p = 0; p < st->n; p++) {
                size_t nl = strlen(st->strings[p]);
                for (size_t at = 0; nl >= S_MIN && at + nl <= len; at++)
                    if (!memcmp(raw + at, st->strings[p], nl))
                        memset(raw + at, '*', nl);
            }
            hex = s_hex(w, raw, len);
            PQfreemem(raw);
        }
        if (!hex || s_batch_put(w, &b, PQgetvalue(res, i, 0), hex) < 0) {
            crm_work_fail_nomem(w);
            return;
        }
        st->rewritten++;
    }
    if (!s_batch_end(&b)) {
        s_finish(w);
        return;
    }
    const char *p[] = {b.keys, b.events, st->pii};
    crm_work_exec(w,
                  "UPDATE crm_idempotency i SET reply = decode(v.r, 'hex'),"
                  " key = CASE WHEN EXISTS (SELECT 1 FROM unnest($3::text[]) s"
                  "  WHERE length(s) >= 4 AND strpos(lower(i.key), lower(s)) > 0)"
                  "  THEN 'erased:' || md5(i.key) ELSE i.key END"
                  " FROM unnest($1::text[], $2::text[]) v(k, r) WHERE i.key = v.k",
                  3, p, s_idem_updated);
}

static void s_dead_updated(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_erase_t *st = crm_work_data(w);
    const char *p[] = {st->pii};
    crm_work_query(
        w,
        "SELECT key, reply FROM crm_idempotency WHERE EXISTS (SELECT 1 FROM"
        " unnest($1::text[]) s WHERE length(s) >= 4 AND (strpos(lower(key), lower(s)) > 0"
        " OR position(convert_to(s, 'UTF8') IN reply) > 0))",
        1, p, s_idem_found);
}

static void s_dead_found(crm_work_t *w, PGresult *res)
{
    s_erase_t *st = crm_work_data(w);
    s_batch_t b;
    int rc = s_rewrite_rows(w, st, res, &b);
    if (rc < 0)
        return;
    if (rc == 0) {
        s_dead_updated(w, NULL);
        return;
    }
    const char *p[] = {b.keys, b.events};
    crm_work_exec(w,
                  "UPDATE crm_dead_letter d SET event = decode(v.e, 'hex')"
                  " FROM unnest($1::bigint[], $2::text[]) v(id, e) WHERE d.id = v.id",
                  2, p, s_dead_updated);
}

static void s_outbox_updated(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_erase_t *st = crm_work_data(w);
    const char *p[] = {st->subject, st->pii};
    crm_work_query(w,
                   "SELECT id, event FROM crm_dead_letter"
                   " WHERE position(convert_to($1, 'UTF8') IN event) > 0 OR EXISTS (SELECT 1 FROM"
                   " unnest($2::text[]) s WHERE length(s) >= 4"
                   " AND position(convert_to(s, 'UTF8') IN event) > 0) ORDER BY id",
                   2, p, s_dead_found);
}

static void s_outbox_found(crm_work_t *w, PGresult *res)
{
    s_erase_t *st = crm_work_data(w);
    s_batch_t b;
    int rc = s_rewrite_rows(w, st, res, &b);
    if (rc < 0)
        return;
    if (rc == 0) {
        s_outbox_updated(w, NULL);
        return;
    }
    /* In place: the sequence, the epoch and the event id stay. The runtime
     * role holds UPDATE on every table (common/src/migrate.c). A replay
     * must never hand out the old bytes again, so the relay's memory of
     * what it published goes once this commits (outbox_rewritten). */
    w->outbox_rewritten = 1;
    const char *p[] = {b.keys, b.events};
    crm_work_exec(w,
                  "UPDATE crm_outbox o SET event = decode(v.e, 'hex')"
                  " FROM unnest($1::bigint[], $2::text[]) v(seq, e) WHERE o.seq = v.seq",
                  2, p, s_outbox_updated);
}

static void s_scrubbed(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_erase_t *st = crm_work_data(w);
    const char *p[] = {st->subject, st->pii};
    crm_work_query(w,
                   "SELECT seq, event FROM crm_outbox WHERE subject = $1"
                   " OR position(convert_to($1, 'UTF8') IN event) > 0 OR EXISTS (SELECT 1 FROM"
                   " unnest($2::text[]) s WHERE length(s) >= 4"
                   " AND position(convert_to(s, 'UTF8') IN event) > 0) ORDER BY seq",
                   2, p, s_outbox_found);
}

void crm_erase_person(crm_work_t *w, const char *subject, const char *const *pii, size_t n,
                      crm_erase_done_fn done)
{
    s_erase_t *st = crm_work_alloc(w, sizeof *st);
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * (4 * strlen(pii[i]) + 4);
    char *lit = crm_work_alloc(w, cap);
    const char **v = crm_work_alloc(w, (2 * n + 1) * sizeof *v);
    if (!st || !lit || !v || !(st->subject = crm_work_strdup(w, subject))) {
        crm_work_fail_nomem(w);
        return;
    }
    size_t k = 0, m = 0;
    lit[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (strlen(pii[i]) < S_MIN || !strcmp(pii[i], CRM_ERASED))
            continue;
        char *lower = crm_work_strdup(w, pii[i]);
        if (!lower) {
            crm_work_fail_nomem(w);
            return;
        }
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        v[m++] = pii[i];
        if (m > 1 || k > 1)
            lit[k++] = ',';
        s_literal_put(lit, &k, pii[i]);
        if (strcmp(lower, pii[i])) {
            v[m++] = lower;
            lit[k++] = ',';
            s_literal_put(lit, &k, lower);
        }
    }
    lit[k++] = '}';
    lit[k] = 0;
    st->pii = lit;
    st->strings = v;
    st->n = m;
    st->done = done;
    st->caller_data = crm_work_data(w);
    st->alloc = crm_work_pb_allocator(w);
    crm_work_set_data(w, st);
    const char *p[] = {lit};
    crm_work_exec(w, "SELECT crm_erase_scrub($1::text[])", 1, p, s_scrubbed);
}

const char **crm_erase_strings(crm_work_t *w, const char *json, size_t *n)
{
    json_error_t err;
    json_t *a = json_loads(json ? json : "[]", 0, &err);
    size_t len = json_is_array(a) ? json_array_size(a) : 0;
    const char **v = json_is_array(a) ? crm_work_alloc(w, (len + 1) * sizeof *v) : NULL;
    for (size_t i = 0; v && i < len; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !(v[i] = crm_work_strdup(w, s)))
            v = NULL;
    }
    json_decref(a);
    if (!v) {
        crm_work_fail_unreadable(w);
        return NULL;
    }
    *n = len;
    return v;
}

/* ---- a consumer applying person.erased -------------------------------- */

typedef struct {
    const char *id, *blank_sql;
    const char **pii;
    size_t n;
} s_consume_t;

static void s_consume_done(crm_work_t *w, uint32_t rewritten)
{
    (void)rewritten;
    crm_work_ok(w, NULL);
}

static void s_consume_blanked(crm_work_t *w, PGresult *res)
{
    (void)res;
    s_consume_t *st = crm_work_data(w);
    crm_erase_person(w, st->id, st->pii, st->n, s_consume_done);
}

static void s_consume_locked(crm_work_t *w, PGresult *res)
{
    s_consume_t *st = crm_work_data(w);
    if (PQntuples(res) > 0 && PQgetvalue(res, 0, 1)[0] == 't') {
        crm_work_ok(w, NULL); /* erased here before: a replay */
        return;
    }
    st->n = 0;
    if (PQntuples(res) > 0 && !(st->pii = crm_erase_strings(w, PQgetvalue(res, 0, 0), &st->n)))
        return;
    const char *p[] = {st->id};
    crm_work_exec(w, st->blank_sql, 1, p, s_consume_blanked);
}

void crm_erase_consume(crm_work_t *w, const char *lock_sql, const char *blank_sql)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    s_consume_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!ev || !crm_uuid_valid(ev->subject)) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "subject",
                      "person.erased names no valid person id",
                      ev ? crm_work_printf(w, "got \"%.80s\"", ev->subject) : "no event",
                      "the producer must send the person's id as the subject");
        return;
    }
    st->id = ev->subject;
    st->blank_sql = blank_sql;
    crm_work_set_data(w, st);
    const char *p[] = {st->id};
    crm_work_query(w, lock_sql, 1, p, s_consume_locked);
}

/* ---- export ------------------------------------------------------------ */

typedef struct {
    const char *id;
    json_t *doc;
    int not_found; /* NOT_FOUND when the service knows nothing of them */
} s_export_t;

static void s_export_reply(crm_work_t *w, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    json_decref(doc);
    if (!copy) {
        crm_work_fail_nomem(w);
        return;
    }
    Crm__V1__ExportPersonReply r = CRM__V1__EXPORT_PERSON_REPLY__INIT;
    r.service = (char *)crm_service_name(crm_work_service(w));
    r.json = copy;
    crm_work_ok(w, &r.base);
}

static void s_export_events(crm_work_t *w, PGresult *res)
{
    s_export_t *st = crm_work_data(w);
    json_t *evs = json_array();
    for (int i = 0; evs && i < PQntuples(res); i++) {
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 0), &len);
        Crm__V1__Event *ev = raw ? crm__v1__event__unpack(NULL, len, raw) : NULL;
        PQfreemem(raw);
        json_t *j = ev ? crm_pbjson_from_message(&ev->base) : NULL;
        if (ev)
            crm__v1__event__free_unpacked(ev, NULL);
        if (!j || json_array_append_new(evs, j) < 0) {
            json_decref(evs);
            json_decref(st->doc);
            crm_work_fail_unreadable(w);
            return;
        }
    }
    if (!evs || json_object_set_new(st->doc, "events", evs) < 0) {
        json_decref(st->doc);
        crm_work_fail_nomem(w);
        return;
    }
    s_export_reply(w, st->doc);
}

static void s_export_records(crm_work_t *w, PGresult *res)
{
    s_export_t *st = crm_work_data(w);
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        if (st->not_found) {
            crm_work_fail_not_found(w, "id", "person", st->id,
                                    "list people with sales.person.list");
            return;
        }
    }
    json_t *rec = PQntuples(res) && !PQgetisnull(res, 0, 0)
                      ? json_loads(PQgetvalue(res, 0, 0), 0, NULL)
                      : json_object();
    if (!rec) {
        crm_work_fail_unreadable(w);
        return;
    }
    json_t *erasure = json_object_get(rec, "erasure");
    if (erasure && !json_is_null(erasure)) {
        /* An erased person: that erasure happened, when, by whom, why. */
        json_t *doc = json_pack("{s:O}", "erasure", erasure);
        json_decref(rec);
        if (!doc) {
            crm_work_fail_nomem(w);
            return;
        }
        s_export_reply(w, doc);
        return;
    }
    json_object_del(rec, "erasure");
    st->doc = json_pack("{s:o}", "records", rec);
    if (!st->doc) {
        crm_work_fail_nomem(w);
        return;
    }
    const char *p[] = {st->id};
    /* The events about ids merged into the person (crm_alias) are theirs
     * too. */
    crm_work_query(w,
                   "SELECT o.event FROM crm_outbox o WHERE o.subject = $1"
                   " OR position(convert_to($1, 'UTF8') IN o.event) > 0"
                   " OR EXISTS (SELECT 1 FROM crm_alias a WHERE a.survivor_id = $1"
                   "  AND (o.subject = a.dropped_id"
                   "   OR position(convert_to(a.dropped_id, 'UTF8') IN o.event) > 0))"
                   " ORDER BY o.seq",
                   1, p, s_export_events);
}

void crm_export_person(crm_work_t *w, const char *records_sql, int not_found)
{
    const Crm__V1__ExportPersonRequest *rq = (const void *)crm_work_request(w);
    s_export_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!rq || !crm_uuid_valid(rq->id)) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "id",
                      "id must be a person's id (a UUID)",
                      rq ? crm_work_printf(w, "got \"%.80s\"", rq->id) : "no request",
                      "find it with crmctl person list or person show --email");
        return;
    }
    st->id = rq->id;
    st->doc = NULL;
    st->not_found = not_found;
    crm_work_set_data(w, st);
    const char *p[] = {st->id};
    crm_work_query(w, records_sql, 1, p, s_export_records);
}
