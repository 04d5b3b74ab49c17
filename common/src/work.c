/* work.c: works and batches, i.e. group commit with exactly-once effects.
 *
 * A batch runs its works one after another inside one transaction, then
 * writes their events to the outbox, their idempotency records (commands) or
 * the consumer's new positions and dead letters (events), and commits. Only
 * then are clients answered and events published.
 *
 * There are no savepoints: a work that fails after writing, or any failed
 * statement, aborts the batch; it is rolled back and its works are retried
 * one transaction each ("single" mode), where a failure costs only itself.
 * That keeps the common case (everything succeeds) at one round trip per
 * statement plus a handful per batch.
 *
 * Sequence numbers: the batch takes the crm_stream row lock with an UPDATE
 * just before committing, so sequences are dense and in commit order, and a
 * transaction that rolls back never consumed any. */
#include "svc_int.h"

#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rows per multi-row INSERT: 4 parameters a row stays far below 65535. */
#define CRM_ROWS_PER_INSERT 200
/* Attempts of a work alone after a serialization failure or deadlock. */
#define CRM_CONFLICT_RETRIES 3

static void s_step(crm_batch_t *b);
static void s_finalize(crm_batch_t *b);
static void s_fin_next(crm_batch_t *b);

/* ---- works ------------------------------------------------------------- */

crm_work_t *crm_work_new(crm_service_t *svc, crm_work_kind_t kind)
{
    crm_work_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->svc = svc;
    w->kind = kind;
    crm__v1__status__init(&w->status);
    return w;
}

static void s_status_clear(Crm__V1__Status *st)
{
    if (st->message != protobuf_c_empty_string)
        free(st->message);
    if (st->detail != protobuf_c_empty_string)
        free(st->detail);
    if (st->hint != protobuf_c_empty_string)
        free(st->hint);
    if (st->field != protobuf_c_empty_string)
        free(st->field);
    crm__v1__status__init(st);
}

static void s_emits_free(crm_emit_t *e)
{
    while (e) {
        crm_emit_t *next = e->next;
        free(e->type);
        free(e->subject);
        free(e->bytes);
        free(e);
        e = next;
    }
}

void crm_work_reset(crm_work_t *w)
{
    while (w->arena) {
        crm_arena_block_t *next = w->arena->next;
        free(w->arena);
        w->arena = next;
    }
    if (w->request)
        protobuf_c_message_free_unpacked(w->request, NULL);
    w->request = NULL;
    if (w->event)
        crm__v1__event__free_unpacked(w->event, NULL);
    w->event = NULL;
    s_emits_free(w->emits);
    w->emits = w->emits_tail = NULL;
    w->n_emits = 0;
    free(w->reply);
    w->reply = NULL;
    w->reply_len = 0;
    s_status_clear(&w->status);
    w->state = WS_NEW;
    w->writes = 0;
    w->data = NULL;
    w->cb = NULL;
    w->pending = 0;
    w->auto_ok = 0;
    w->cached = 0;
    w->dup_of = NULL;
    w->batch = NULL;
    w->sql[0] = 0;
    w->conflict = 0;
}

void crm_work_destroy(crm_work_t **w_p)
{
    crm_work_t *w = *w_p;
    if (!w)
        return;
    crm_work_reset(w);
    free(w->input);
    free(w->identity);
    free(w->idem_key);
    free(w->actor);
    crm_grant_destroy(&w->grant);
    free(w->correlation_id);
    free(w->source);
    free(w->epoch);
    free(w->event_id);
    free(w);
    *w_p = NULL;
}

crm_service_t *crm_work_service(crm_work_t *w)
{
    return w->svc;
}

const ProtobufCMessage *crm_work_request(crm_work_t *w)
{
    return w->request;
}

const Crm__V1__Event *crm_work_event(crm_work_t *w)
{
    return w->event;
}

const char *crm_work_actor(crm_work_t *w)
{
    if (w->kind == CRM_WORK_EVT)
        return w->source ? w->source : "";
    return w->actor ? w->actor : "";
}

void *crm_work_alloc(crm_work_t *w, size_t size)
{
    crm_arena_block_t *b = calloc(1, sizeof *b + size + 16);
    if (!b)
        return NULL;
    b->next = w->arena;
    w->arena = b;
    return (char *)(b + 1) + 16 - sizeof *b % 16;
}

char *crm_work_strdup(crm_work_t *w, const char *s)
{
    size_t n = strlen(s);
    char *p = crm_work_alloc(w, n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

char *crm_work_printf(crm_work_t *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = crm_work_alloc(w, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void crm_work_set_data(crm_work_t *w, void *data)
{
    w->data = data;
}

void *crm_work_data(crm_work_t *w)
{
    return w->data;
}

static char *s_dup_or_empty(const char *s)
{
    return (char *)((s && *s) ? strdup(s) : protobuf_c_empty_string);
}

void crm_work_fail(crm_work_t *w, Crm__V1__StatusCode code, const char *field, const char *message,
                   const char *detail, const char *hint)
{
    if (w->state != WS_RUNNING && w->state != WS_NEW)
        return;
    s_status_clear(&w->status);
    w->status.code = code;
    w->status.message = s_dup_or_empty(message);
    w->status.detail = s_dup_or_empty(detail);
    w->status.hint = s_dup_or_empty(hint);
    w->status.field = s_dup_or_empty(field);
    w->state = WS_FAILED;
    w->cb = NULL;
}

/* Fails a work whatever its state: used when its transaction did not commit
 * after the handler had already succeeded. */
void crm_work_force_fail(crm_work_t *w, Crm__V1__StatusCode code, const char *message,
                         const char *detail, const char *hint)
{
    free(w->reply);
    w->reply = NULL;
    w->reply_len = 0;
    w->cached = 0;
    w->state = WS_RUNNING;
    crm_work_fail(w, code, NULL, message, detail, hint);
}

void crm_work_ok(crm_work_t *w, const ProtobufCMessage *reply)
{
    if (w->state != WS_RUNNING)
        return;
    if (reply) {
        size_t n = protobuf_c_message_get_packed_size(reply);
        w->reply = malloc(n ? n : 1);
        if (!w->reply) {
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL, "out of memory",
                          NULL, NULL);
            return;
        }
        w->reply_len = protobuf_c_message_pack(reply, w->reply);
    }
    w->state = WS_OK;
    w->cb = NULL;
}

int crm_work_emit(crm_work_t *w, Crm__V1__Event *ev)
{
    const char *name = crm_service_name(w->svc);
    size_t nl = strlen(name);
    if (w->state != WS_RUNNING || (w->cmd && w->cmd->readonly))
        return -EINVAL;
    if (!ev->type || strncmp(ev->type, "crm.", 4) || strncmp(ev->type + 4, name, nl) ||
        ev->type[4 + nl] != '.' || strlen(ev->type) >= CRM_TOPIC_MAX) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL, "invalid event type",
                      ev->type, "event types start with crm.<service>.");
        return -EINVAL;
    }
    char id[CRM_UUID_LEN + 1];
    crm_uuid_new(id);
    ev->id = id;
    ev->source = (char *)name;
    ev->time_us = crm_now_us();
    ev->sequence = 0;
    ev->epoch = (char *)protobuf_c_empty_string;
    if (w->kind == CRM_WORK_EVT && w->event) {
        ev->correlation_id = *w->event->correlation_id ? w->event->correlation_id : w->event->id;
        ev->causation_id = w->event->id;
    } else {
        ev->correlation_id = w->correlation_id && *w->correlation_id ? w->correlation_id
                             : w->idem_key                           ? w->idem_key
                                                                     : (char *)"";
        ev->causation_id = w->idem_key ? w->idem_key : (char *)"";
    }
    if (!ev->subject)
        ev->subject = (char *)protobuf_c_empty_string;
    size_t n = crm__v1__event__get_packed_size(ev);
    /* Larger events would make the bus and the subscribers drop the
     * connection they came on (ZMQ_MAXMSGSIZE), again at every replay. */
    if (n + 64 > (size_t)crm_config_int(crm_service_config(w->svc), "CRM_MAX_EVENT_BYTES")) {
        ev->id = (char *)protobuf_c_empty_string;
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_TOO_LARGE, NULL, "event too large",
                      crm_work_printf(w, "%s of %zu bytes, limit CRM_MAX_EVENT_BYTES", ev->type, n),
                      "send less data in one command");
        return -EFBIG;
    }
    crm_emit_t *e = calloc(1, sizeof *e);
    if (!e)
        goto nomem;
    e->bytes = malloc(n + 64);
    e->type = strdup(ev->type);
    e->subject = strdup(ev->subject);
    if (!e->bytes || !e->type || !e->subject) {
        s_emits_free(e);
        goto nomem;
    }
    e->len = crm__v1__event__pack(ev, e->bytes);
    /* Do not leave pointers to our stack in the caller's struct. */
    ev->id = (char *)protobuf_c_empty_string;
    if (w->emits_tail)
        w->emits_tail->next = e;
    else
        w->emits = e;
    w->emits_tail = e;
    w->n_emits++;
    return 0;
nomem:
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL, "out of memory", NULL, NULL);
    return -ENOMEM;
}

/* Appends sequence (field 6) and epoch (field 7) to a packed envelope:
 * protobuf parsers merge concatenated messages, so the sequence is added
 * after the lock that hands it out, without re-packing the payload. */
static size_t s_put_varint(uint8_t *p, uint64_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (uint8_t)v;
    return i;
}

static void s_emit_seal(crm_emit_t *e, uint64_t seq, const char *epoch)
{
    size_t el = strlen(epoch);
    e->seq = seq;
    uint8_t *p = e->bytes + e->len;
    *p++ = (6 << 3) | 0;
    p += s_put_varint(p, seq);
    *p++ = (7 << 3) | 2;
    p += s_put_varint(p, el);
    memcpy(p, epoch, el);
    p += el;
    e->len = (size_t)(p - e->bytes);
}

/* ---- queries ----------------------------------------------------------- */

static void s_on_query(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    crm_work_t *w = arg;
    crm_batch_t *b = w->batch;
    crm_work_cb cb = w->cb;
    w->cb = NULL;
    w->pending = 0;
    if (error) {
        if (!res)
            b->lost_connection = 1;
        /* Any failed statement aborts the transaction: the batch cannot go on.
         * The server's text stays in the log (crm_db_error). */
        w->writes++;
        crm_err_t e;
        w->conflict = crm_db_error(res, w->sql, &e);
        crm_work_fail_err(w, &e);
    } else if (w->state == WS_RUNNING) {
        if (cb)
            cb(w, res);
        else if (w->auto_ok)
            crm_work_ok(w, NULL);
    }
    if (w->state == WS_RUNNING && !w->pending)
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "handler neither answered nor continued", w->cmd ? w->cmd->name : NULL, NULL);
    s_step(b);
}

static int s_work_query(crm_work_t *w, const char *sql, int n, const char *const *params,
                        crm_work_cb cb, int write)
{
    if (w->state != WS_RUNNING || w->pending)
        return -EINVAL;
    if (write && w->cmd && w->cmd->readonly) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "read-only command tried to write", w->cmd->name, NULL);
        return -EINVAL;
    }
    w->cb = cb;
    w->auto_ok = cb == NULL;
    w->pending = 1;
    /* The start of the statement, for the log if it fails. */
    snprintf(w->sql, sizeof w->sql, "%s", sql);
    if (write)
        w->writes++;
    int rc = crm_db_query(w->batch->db, sql, n, params, NULL, NULL, 0, s_on_query, w);
    if (rc < 0) {
        w->cb = NULL;
        w->pending = 0;
        if (rc == -ENOTCONN)
            w->batch->lost_connection = 1;
        w->writes++;
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL,
                      "database unavailable", strerror(-rc), "retry the command");
    }
    return rc;
}

int crm_work_query(crm_work_t *w, const char *sql, int nparams, const char *const *params,
                   crm_work_cb cb)
{
    return s_work_query(w, sql, nparams, params, cb, 0);
}

int crm_work_exec(crm_work_t *w, const char *sql, int nparams, const char *const *params,
                  crm_work_cb cb)
{
    return s_work_query(w, sql, nparams, params, cb, 1);
}

int crm_work_suspend(crm_work_t *w)
{
    if (w->state != WS_RUNNING || w->pending)
        return -EINVAL;
    /* `pending` is what makes s_step wait; no query callback will clear it. */
    w->cb = NULL;
    w->auto_ok = 0;
    w->pending = 1;
    return 0;
}

void crm_work_resume(crm_work_t *w)
{
    if (!w->pending || w->cb)
        return; /* not suspended: waiting on a query of its own */
    w->pending = 0;
    if (w->state == WS_RUNNING)
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "handler neither answered nor continued", NULL, NULL);
    s_step(w->batch);
}

/* ---- batches ----------------------------------------------------------- */

crm_batch_t *crm_batch_new(crm_service_t *svc, crm_db_t *db, crm_work_kind_t kind)
{
    crm_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->svc = svc;
    b->db = db;
    b->kind = kind;
    return b;
}

int crm_batch_add(crm_batch_t *b, crm_work_t *w)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        crm_work_t **p = realloc(b->works, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        b->works = p;
        b->cap = cap;
    }
    b->works[b->n++] = w;
    return 0;
}

void crm_batch_destroy(crm_batch_t **b_p)
{
    crm_batch_t *b = *b_p;
    if (!b)
        return;
    free(b->works);
    free(b);
    *b_p = NULL;
}

/* Internal statements of the batch: continuation by step number. */
typedef void (*s_batch_cb)(crm_batch_t *b, PGresult *res);
typedef struct {
    crm_batch_t *b;
    s_batch_cb cb;
} s_bq_t;

static void s_fail_batch(crm_batch_t *b, const char *why);

static void s_on_batch_query(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_bq_t *q = arg;
    crm_batch_t *b = q->b;
    s_batch_cb cb = q->cb;
    free(q);
    if (error) {
        if (!res)
            b->lost_connection = 1;
        /* The reason may reach a client: the server's text only to the log. */
        crm_err_t e;
        crm_db_error(res, NULL, &e);
        crm_warn("batch.statement", "%s: %s", crm_db_name(b->db), e.log_detail);
        s_fail_batch(b, e.message);
        return;
    }
    cb(b, res);
}

static void s_bquery(crm_batch_t *b, const char *sql, int n, const char *const *v, const int *l,
                     const int *f, s_batch_cb cb)
{
    s_bq_t *q = malloc(sizeof *q);
    int rc = -ENOMEM;
    if (q) {
        q->b = b;
        q->cb = cb;
        rc = crm_db_query(b->db, sql, n, v, l, f, 0, s_on_batch_query, q);
    }
    if (rc < 0) {
        free(q);
        if (rc == -ENOTCONN)
            b->lost_connection = 1;
        s_fail_batch(b, strerror(-rc));
    }
}

static void s_done(crm_batch_t *b, int committed)
{
    b->done(b, committed);
}

static void s_after_rollback(crm_batch_t *b, PGresult *res);

/* A statement of the batch itself failed, or COMMIT did. */
static void s_fail_batch(crm_batch_t *b, const char *why)
{
    snprintf(b->abort_reason, sizeof b->abort_reason, "%s", why);
    if (b->lost_connection) {
        crm_warn("batch.lost", "%s: batch of %zu lost with its connection: %s", crm_db_name(b->db),
                 b->n, why);
        s_done(b, 0);
        return;
    }
    b->aborting = 1;
    s_bquery(b, "ROLLBACK", 0, NULL, NULL, NULL, s_after_rollback);
}

static size_t s_tx_end(const crm_batch_t *b)
{
    return b->single ? b->idx + 1 : b->n;
}

static void s_begin(crm_batch_t *b);

static void s_finalize_cb(crm_batch_t *b, PGresult *res)
{
    s_finalize(b);
}

static void s_after_rollback(crm_batch_t *b, PGresult *res)
{
    b->aborting = 0;
    if (b->give_up) {
        /* Not worth retrying here (a consumer position moved under us, or a
         * work failed twice): the owner starts over from the database. */
        s_done(b, 0);
        return;
    }
    if (!b->single) {
        /* Retry each work on its own, so one bad work costs only itself. */
        crm_debug("batch.retry", "%s: batch of %zu aborted (%s); retrying one by one",
                  crm_db_name(b->db), b->n, b->abort_reason);
        b->svc->m.batch_retries++;
        b->single = 1;
        b->idx = 0;
        b->dl_pass = 0;
        for (size_t i = 0; i < b->n; i++)
            crm_work_reset(b->works[i]);
        s_begin(b);
        return;
    }
    crm_work_t *w = b->works[b->idx];
    if (w->state == WS_FAILED && w->conflict && w->conflict_retries < CRM_CONFLICT_RETRIES) {
        /* A serialization failure or deadlock: the same work may well
         * succeed in a fresh transaction. */
        w->conflict_retries++;
        crm_work_reset(w);
        s_begin(b);
        return;
    }
    s_emits_free(w->emits);
    w->emits = w->emits_tail = NULL;
    w->n_emits = 0;
    w->writes = 0;
    if (b->kind == CRM_WORK_EVT) {
        if (w->state == WS_OK && w->dead_letter_id > 0 && w->stale) {
            b->idx++; /* another retry resolved this dead letter first */
            b->dl_pass = 0;
            if (b->idx >= b->n)
                s_done(b, 1);
            else
                s_begin(b);
            return;
        }
        if (w->state == WS_OK || b->dl_pass) {
            /* The effects were fine but the commit failed, or recording the
             * failure failed too: reload the position and replay. */
            crm_warn("consumer.retry",
                     "%s: could not commit event %" PRIu64 " of %s: %s;"
                     " reloading position",
                     crm_db_name(b->db), w->seq, w->source, b->abort_reason);
            s_done(b, 0);
            return;
        }
        /* The handler failed after writing: its writes are gone; record the
         * dead letter and move the position, in a transaction of their own. */
        b->dl_pass = 1;
        s_bquery(b, "BEGIN", 0, NULL, NULL, NULL, s_finalize_cb);
        return;
    }
    if (w->state == WS_OK)
        crm_work_force_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE,
                            "could not commit the change", b->abort_reason,
                            "retry with the same idempotency key");
    else if (w->state != WS_FAILED)
        crm_work_force_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL,
                            "could not commit the change", b->abort_reason,
                            "retry with the same idempotency key");
    crm_service_reply(b->svc, w);
    b->idx++;
    if (b->idx >= b->n) {
        s_done(b, 1);
        return;
    }
    s_begin(b);
}

/* Builds a PostgreSQL text array literal {"a","b"} of the batch's keys. */
static char *s_key_array(crm_batch_t *b, size_t from, size_t to)
{
    size_t cap = 3;
    for (size_t i = from; i < to; i++)
        if (b->works[i]->idem_key)
            cap += 2 * strlen(b->works[i]->idem_key) + 3;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    *p++ = '{';
    int first = 1;
    for (size_t i = from; i < to; i++) {
        const char *k = b->works[i]->idem_key;
        if (!k)
            continue;
        if (!first)
            *p++ = ',';
        first = 0;
        *p++ = '"';
        for (; *k; k++) {
            if (*k == '"' || *k == '\\')
                *p++ = '\\';
            *p++ = *k;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = 0;
    return s;
}

static void s_on_idem(crm_batch_t *b, PGresult *res)
{
    size_t end = s_tx_end(b);
    for (int r = 0; r < PQntuples(res); r++) {
        const char *key = PQgetvalue(res, r, 0);
        const char *command = PQgetvalue(res, r, 1);
        uint64_t hash = (uint64_t)strtoll(PQgetvalue(res, r, 2), NULL, 10);
        size_t blen = 0;
        unsigned char *reply = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, 3), &blen);
        for (size_t i = b->idx; i < end; i++) {
            crm_work_t *w = b->works[i];
            if (!w->idem_key || strcmp(w->idem_key, key) || w->state != WS_NEW)
                continue;
            if (hash == w->request_hash && !strcmp(command, w->cmd->name)) {
                w->reply = malloc(blen ? blen : 1);
                if (w->reply && blen)
                    memcpy(w->reply, reply, blen);
                w->reply_len = blen;
                w->cached = 1;
                w->state = WS_OK;
            } else {
                crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_IDEMPOTENCY_CONFLICT,
                              "idempotency_key", "idempotency key was used for a different request",
                              w->idem_key, "use a new key for a new request");
            }
        }
        PQfreemem(reply);
    }
    /* The same key twice in this batch: the later one waits for the first. */
    for (size_t i = b->idx; i < end; i++) {
        crm_work_t *w = b->works[i];
        if (!w->idem_key || w->state != WS_NEW)
            continue;
        for (size_t j = b->idx; j < i; j++) {
            crm_work_t *o = b->works[j];
            if (o->idem_key && !strcmp(o->idem_key, w->idem_key) && !o->dup_of) {
                if (o->request_hash == w->request_hash)
                    w->dup_of = o;
                else
                    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_IDEMPOTENCY_CONFLICT,
                                  "idempotency_key",
                                  "idempotency key was used for a different request", w->idem_key,
                                  "use a new key for a new request");
                break;
            }
        }
        if (w->dup_of)
            w->state = WS_OK;
    }
    s_step(b);
}

static void s_on_begin(crm_batch_t *b, PGresult *res)
{
    if (b->kind == CRM_WORK_CMD) {
        char *keys = s_key_array(b, b->idx, s_tx_end(b));
        if (!keys) {
            s_fail_batch(b, "out of memory");
            return;
        }
        if (strcmp(keys, "{}")) {
            const char *v[1] = {keys};
            s_bquery(b,
                     "SELECT key, command, request_hash, reply FROM crm_idempotency"
                     " WHERE key = ANY($1::text[])",
                     1, v, NULL, NULL, s_on_idem);
            free(keys);
            return;
        }
        free(keys);
    }
    s_step(b);
}

static void s_begin(crm_batch_t *b)
{
    s_bquery(b, "BEGIN", 0, NULL, NULL, NULL, s_on_begin);
}

void crm_batch_start(crm_batch_t *b, crm_batch_done_fn done)
{
    b->done = done;
    b->idx = 0;
    b->single = b->n == 1;
    b->started_us = crm_mono_us();
    for (size_t i = 0; i < b->n; i++)
        b->works[i]->batch = b;
    s_begin(b);
}

static int s_decode(crm_work_t *w)
{
    if (w->kind == CRM_WORK_CMD && w->cmd->request) {
        w->request = protobuf_c_message_unpack(w->cmd->request, NULL, w->input_len, w->input);
        if (!w->request) {
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, "body",
                          "malformed command body", w->cmd->request->name,
                          "send the body as the command's request message");
            return -1;
        }
    } else if (w->kind == CRM_WORK_EVT) {
        w->event = crm__v1__event__unpack(NULL, w->input_len, w->input);
        if (!w->event) {
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, NULL, "malformed event",
                          NULL, NULL);
            return -1;
        }
    }
    return 0;
}

/* Runs works until one goes asynchronous or the transaction's works are done. */
static void s_step(crm_batch_t *b)
{
    size_t end = s_tx_end(b);
    while (b->idx < end) {
        crm_work_t *w = b->works[b->idx];
        if (w->pending)
            return; /* s_on_query steps again */
        if (w->state == WS_NEW && w->stale)
            w->state = WS_OK; /* a dead-letter retry that lost the race: nothing to do */
        if (w->state == WS_NEW) {
            w->batch = b;
            w->state = WS_RUNNING;
            if (w->submit_arg)
                w->data = w->submit_arg;
            if (s_decode(w) == 0) {
                w->fn(w);
                if (w->state == WS_RUNNING && !w->pending)
                    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                                  "handler neither answered nor continued",
                                  w->cmd ? w->cmd->name : NULL, NULL);
            }
            if (w->state == WS_RUNNING || w->pending)
                return; /* s_on_query resumes */
        }
        if (w->state == WS_RUNNING)
            return;
        if (w->state == WS_FAILED && w->writes > 0) {
            if (b->lost_connection) {
                s_fail_batch(b, "database connection lost");
                return;
            }
            s_fail_batch(b, w->status.message);
            return;
        }
        b->idx++;
    }
    if (b->single)
        b->idx--; /* finalize works on [idx, idx+1) */
    s_finalize(b);
}

/* ---- finalize: outbox, idempotency, positions, commit ------------------ */

enum { F_STREAM, F_OUTBOX, F_IDEM, F_DEAD, F_POS, F_COMMIT };

static size_t s_fin_from(const crm_batch_t *b)
{
    return b->single ? b->idx : 0;
}

static void s_fin_goto(crm_batch_t *b, int step)
{
    b->fin_step = step;
    b->fin_cursor = 0;
    s_fin_next(b);
}

static void s_on_stream(crm_batch_t *b, PGresult *res)
{
    uint64_t head = (uint64_t)crm_db_get_int(res, 0, 0);
    snprintf(b->epoch, sizeof b->epoch, "%s", crm_db_get_str(res, 0, 1));
    uint64_t seq = head - b->fin_emits + 1;
    b->first_seq = seq;
    b->last_seq = head;
    for (size_t i = s_fin_from(b); i < s_tx_end(b); i++) {
        crm_work_t *w = b->works[i];
        if (w->state != WS_OK)
            continue;
        for (crm_emit_t *e = w->emits; e; e = e->next)
            s_emit_seal(e, seq++, b->epoch);
    }
    s_fin_goto(b, F_OUTBOX);
}

static void s_fin_continue(crm_batch_t *b, PGresult *res)
{
    s_fin_next(b);
}

/* Appends "($k,$k+1,...)" groups to an INSERT. */
static size_t s_values(char *sql, size_t at, size_t row, int ncols)
{
    at += (size_t)sprintf(sql + at, "%s(", row ? "," : "");
    for (int c = 0; c < ncols; c++)
        at +=
            (size_t)sprintf(sql + at, "%s$%zu", c ? "," : "", row * (size_t)ncols + (size_t)c + 1);
    sql[at++] = ')';
    sql[at] = 0;
    return at;
}

/* Sends a multi-row INSERT of `rows` rows of 4 parameters (or nothing when
 * rows is 0) and takes `sql`. Returns 1 if sent, 0 if there was nothing. */
static int s_insert_rows(crm_batch_t *b, char *sql, size_t rows, const char *const *v, const int *l,
                         const int *f)
{
    if (rows > 0) {
        b->fin_cursor += rows;
        s_bquery(b, sql, (int)rows * 4, v, l, f, s_fin_continue);
    }
    free(sql);
    return rows > 0;
}

/* Inserts the next chunk of outbox rows; returns 0 when none were left. */
static int s_outbox_chunk(crm_batch_t *b)
{
    const char *v[CRM_ROWS_PER_INSERT * 4];
    int l[CRM_ROWS_PER_INSERT * 4], f[CRM_ROWS_PER_INSERT * 4];
    char seqs[CRM_ROWS_PER_INSERT][24];
    static const char head[] = "INSERT INTO crm_outbox (seq, type, subject, event) VALUES ";
    char *sql = malloc(sizeof head + CRM_ROWS_PER_INSERT * 40);
    if (!sql)
        return -1;
    size_t at = (size_t)sprintf(sql, "%s", head);
    size_t row = 0, k = 0;
    for (size_t i = s_fin_from(b); i < s_tx_end(b) && row < CRM_ROWS_PER_INSERT; i++) {
        crm_work_t *w = b->works[i];
        if (w->state != WS_OK)
            continue;
        for (crm_emit_t *e = w->emits; e && row < CRM_ROWS_PER_INSERT; e = e->next) {
            if (k++ < b->fin_cursor)
                continue;
            snprintf(seqs[row], sizeof seqs[row], "%" PRIu64, e->seq);
            size_t p = row * 4;
            v[p] = seqs[row], l[p] = 0, f[p] = 0;
            v[p + 1] = e->type, l[p + 1] = 0, f[p + 1] = 0;
            v[p + 2] = e->subject, l[p + 2] = 0, f[p + 2] = 0;
            v[p + 3] = (const char *)e->bytes, l[p + 3] = (int)e->len, f[p + 3] = 1;
            at = s_values(sql, at, row, 4);
            row++;
        }
    }
    return s_insert_rows(b, sql, row, v, l, f);
}

static int s_idem_wanted(const crm_work_t *w)
{
    return w->state == WS_OK && !w->cached && !w->dup_of && w->idem_key && !w->cmd->readonly;
}

static int s_idem_chunk(crm_batch_t *b)
{
    const char *v[CRM_ROWS_PER_INSERT * 4];
    int l[CRM_ROWS_PER_INSERT * 4], f[CRM_ROWS_PER_INSERT * 4];
    char hashes[CRM_ROWS_PER_INSERT][24];
    static const char head[] =
        "INSERT INTO crm_idempotency (key, command, request_hash, reply) VALUES ";
    char *sql = malloc(sizeof head + CRM_ROWS_PER_INSERT * 40);
    if (!sql)
        return -1;
    size_t at = (size_t)sprintf(sql, "%s", head);
    size_t row = 0, k = 0;
    for (size_t i = s_fin_from(b); i < s_tx_end(b) && row < CRM_ROWS_PER_INSERT; i++) {
        crm_work_t *w = b->works[i];
        if (!s_idem_wanted(w) || k++ < b->fin_cursor)
            continue;
        snprintf(hashes[row], sizeof hashes[row], "%" PRId64, (int64_t)w->request_hash);
        size_t p = row * 4;
        v[p] = w->idem_key, l[p] = 0, f[p] = 0;
        v[p + 1] = w->cmd->name, l[p + 1] = 0, f[p + 1] = 0;
        v[p + 2] = hashes[row], l[p + 2] = 0, f[p + 2] = 0;
        v[p + 3] = w->reply ? (const char *)w->reply : "", l[p + 3] = (int)w->reply_len;
        f[p + 3] = 1;
        at = s_values(sql, at, row, 4);
        row++;
    }
    return s_insert_rows(b, sql, row, v, l, f);
}

/* A retried dead letter must still be unresolved when its effects commit,
 * or two retries would apply it twice. */
static void s_on_resolved(crm_batch_t *b, PGresult *res)
{
    if (strcmp(PQcmdTuples(res), "1")) {
        b->fin_work->stale = 1;
        s_fail_batch(b, "dead letter already resolved by another retry");
        return;
    }
    s_fin_next(b);
}

/* One dead letter (or dead-letter retry outcome) per statement: rare. */
static int s_dead_next(crm_batch_t *b)
{
    size_t end = s_tx_end(b);
    for (size_t i = s_fin_from(b) + b->fin_cursor; i < end; i++) {
        crm_work_t *w = b->works[i];
        b->fin_cursor++;
        char seq[24], id[24];
        snprintf(seq, sizeof seq, "%" PRIu64, w->seq);
        snprintf(id, sizeof id, "%" PRId64, w->dead_letter_id);
        if (w->dead_letter_id > 0) {
            const char *v[2] = {id, w->status.message};
            if (w->stale)
                continue;
            b->fin_work = w;
            if (w->state == WS_OK)
                s_bquery(b,
                         "UPDATE crm_dead_letter SET resolved = true"
                         " WHERE id = $1 AND NOT resolved",
                         1, v, NULL, NULL, s_on_resolved);
            else
                s_bquery(b,
                         "UPDATE crm_dead_letter SET attempts = attempts + 1, error = $2,"
                         " failed_at = now() WHERE id = $1",
                         2, v, NULL, NULL, s_fin_continue);
            return 1;
        }
        if (w->state != WS_FAILED)
            continue;
        char err[1024];
        snprintf(err, sizeof err, "%s%s%s", w->status.message, *w->status.detail ? ": " : "",
                 w->status.detail);
        const char *type = w->event ? w->event->type : "";
        const char *v[6] = {w->consumer->def->name, w->source, seq, type,
                            (const char *)w->input, err};
        int l[6] = {0, 0, 0, 0, (int)w->input_len, 0}, f[6] = {0, 0, 0, 0, 1, 0};
        s_bquery(b,
                 "INSERT INTO crm_dead_letter (consumer, source, seq, type, event, error)"
                 " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consumer, source, seq) DO UPDATE"
                 " SET attempts = crm_dead_letter.attempts + 1, error = EXCLUDED.error,"
                 " failed_at = now(), resolved = false",
                 6, v, l, f, s_fin_continue);
        return 1;
    }
    return 0;
}

static void s_on_pos(crm_batch_t *b, PGresult *res)
{
    if (strcmp(PQcmdTuples(res), "1")) {
        b->give_up = 1;
        s_fail_batch(b, "consumer position moved under us (another instance is running?)");
        return;
    }
    s_fin_next(b);
}

/* One conditional position update per source touched by the transaction. */
static int s_pos_next(crm_batch_t *b)
{
    crm_consumer_t *c = b->consumer;
    while (b->fin_cursor < c->n_pos) {
        crm_src_pos_t *p = &c->pos[b->fin_cursor++];
        uint64_t top = 0;
        const char *epoch = NULL, *event_id = NULL;
        for (size_t i = s_fin_from(b); i < s_tx_end(b); i++) {
            crm_work_t *w = b->works[i];
            if (w->dead_letter_id == 0 && !strcmp(w->source, p->source) && w->seq > top) {
                top = w->seq;
                epoch = w->epoch;
                event_id = w->event_id;
            }
        }
        if (!top)
            continue;
        char from[24], to[24];
        snprintf(from, sizeof from, "%" PRIu64, p->applied);
        snprintf(to, sizeof to, "%" PRIu64, top);
        /* The event id goes with the position: a later replay that shows
         * another event at that sequence is a conflict (consumer.c). */
        const char *v[6] = {c->def->name, p->source,
                            to,           epoch && *epoch ? epoch : NULL,
                            from,         event_id && *event_id ? event_id : NULL};
        s_bquery(b,
                 "UPDATE crm_consumer_position SET seq = $3, epoch = $4, event_id = $6,"
                 " updated_at = now() WHERE consumer = $1 AND source = $2 AND seq = $5",
                 6, v, NULL, NULL, s_on_pos);
        return 1;
    }
    return 0;
}

static void s_on_commit(crm_batch_t *b, PGresult *res);

static void s_fin_next(crm_batch_t *b)
{
    int rc = 0;
    switch (b->fin_step) {
    case F_STREAM:
        if (b->fin_emits) {
            char n[24];
            snprintf(n, sizeof n, "%zu", b->fin_emits);
            const char *v[1] = {n};
            s_bquery(b,
                     "UPDATE crm_stream SET head_seq = head_seq + $1"
                     " RETURNING head_seq, epoch::text, epoch_start_seq",
                     1, v, NULL, NULL, s_on_stream);
            return;
        }
        s_fin_goto(b, F_OUTBOX);
        return;
    case F_OUTBOX:
        rc = b->fin_emits ? s_outbox_chunk(b) : 0;
        if (rc == 0)
            s_fin_goto(b, b->kind == CRM_WORK_EVT ? F_DEAD : F_IDEM);
        break;
    case F_IDEM:
        rc = s_idem_chunk(b);
        if (rc == 0)
            s_fin_goto(b, F_COMMIT);
        break;
    case F_DEAD:
        rc = s_dead_next(b);
        if (rc == 0)
            s_fin_goto(b, F_POS);
        break;
    case F_POS:
        rc = s_pos_next(b);
        if (rc == 0)
            s_fin_goto(b, F_COMMIT);
        break;
    case F_COMMIT:
        s_bquery(b, "COMMIT", 0, NULL, NULL, NULL, s_on_commit);
        return;
    }
    if (rc < 0)
        s_fail_batch(b, "out of memory");
}

static void s_finalize(crm_batch_t *b)
{
    b->fin_emits = 0;
    for (size_t i = s_fin_from(b); i < s_tx_end(b); i++)
        if (b->works[i]->state == WS_OK)
            b->fin_emits += b->works[i]->n_emits;
    s_fin_goto(b, F_STREAM);
}

static void s_on_commit(crm_batch_t *b, PGresult *res)
{
    size_t from = s_fin_from(b), end = s_tx_end(b);
    /* Hand the committed events to the relay, in sequence order. */
    crm_emit_t *list = NULL, *tail = NULL;
    for (size_t i = from; i < end; i++) {
        crm_work_t *w = b->works[i];
        if (w->state == WS_OK && w->emits) {
            if (tail)
                tail->next = w->emits;
            else
                list = w->emits;
            tail = w->emits_tail;
            b->svc->m.events_emitted += (int64_t)w->n_emits;
            w->emits = w->emits_tail = NULL;
        }
    }
    if (list && b->svc->crash_after_commit > 0 && --b->svc->crash_after_commit == 0) {
        /* Fault injection for the conformance tests (CRM_TEST_CRASH_AFTER_COMMIT):
         * die after COMMIT and before anything is published. */
        crm_error("test.crash",
                  "crashing between commit and publish (events %" PRIu64 "..%" PRIu64 " committed)",
                  b->first_seq, b->last_seq);
        _exit(70);
    }
    if (list)
        crm_relay_committed(b->svc->relay, list);
    if (b->kind == CRM_WORK_EVT) {
        crm_consumer_t *c = b->consumer;
        for (size_t i = from; i < end; i++) {
            crm_work_t *w = b->works[i];
            if (w->dead_letter_id)
                continue;
            for (size_t k = 0; k < c->n_pos; k++)
                if (!strcmp(c->pos[k].source, w->source)) {
                    c->pos[k].applied = w->seq;
                    snprintf(c->pos[k].applied_id, sizeof c->pos[k].applied_id, "%s",
                             w->event_id ? w->event_id : "");
                    if (w->epoch && *w->epoch)
                        snprintf(c->pos[k].epoch, sizeof c->pos[k].epoch, "%s", w->epoch);
                }
            if (w->state != WS_OK)
                c->dead_letters_total++;
        }
    } else {
        for (size_t i = from; i < end; i++)
            crm_service_reply(b->svc, b->works[i]);
    }
    if (b->single && b->idx + 1 < b->n) {
        b->idx++;
        b->dl_pass = 0;
        s_begin(b);
        return;
    }
    s_done(b, 1);
}
