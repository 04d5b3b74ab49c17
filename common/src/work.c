/* work.c: a work, i.e. one command or event on its way through a handler.
 *
 * What a handler sees of it (crm/service.h): its request or event, memory
 * that lives as long as the attempt, statements run in the batch's
 * transaction, the events it emits and its answer. A work is reset and run
 * afresh when its batch is retried (batch.c). */
#include "batch_run.h"

#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- works ------------------------------------------------------------- */

crm_work_t *crm_work_new(crm_service_t *svc, crm_work_kind_t kind)
{
    crm_work_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->svc = svc;
    w->kind = kind;
    w->n_keys = -2;
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

void crm_emits_free(crm_emit_t *e)
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

/* Ends the precondition's read: the command's own definition and request
 * are back in place. */
static void s_pre_restore(crm_work_t *w)
{
    if (!w->pre_cmd)
        return;
    if (w->request)
        protobuf_c_message_free_unpacked(w->request, NULL);
    w->request = w->pre_request;
    w->cmd = w->pre_cmd;
    w->pre_request = NULL;
    w->pre_cmd = NULL;
}

void crm_work_reset(crm_work_t *w)
{
    s_pre_restore(w);
    w->pre_go = 0;
    w->pre_now[0] = 0;
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
    crm_emits_free(w->emits);
    w->emits = w->emits_tail = NULL;
    w->n_emits = 0;
    free(w->reply);
    w->reply = NULL;
    w->reply_len = 0;
    s_status_clear(&w->status);
    w->state = WS_NEW;
    w->writes = 0;
    w->outbox_rewritten = 0;
    w->data = NULL;
    w->cb = NULL;
    w->pending = 0;
    w->auto_ok = 0;
    w->cached = 0;
    w->dup_of = NULL;
    w->batch = NULL;
    w->sql[0] = 0;
    w->conflict = 0;
    w->run = NULL;
    w->run_n = 0;
}

void crm_work_destroy(crm_work_t **w_p)
{
    crm_work_t *w = *w_p;
    if (!w)
        return;
    crm_work_reset(w);
    free(w->input);
    free(w->pre_body);
    free(w->pre_etag);
    free(w->identity);
    free(w->fair_id);
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

static void *s_pb_alloc(void *w, size_t size)
{
    return crm_work_alloc(w, size);
}

static void s_pb_free(void *w, void *p)
{
    (void)w;
    (void)p; /* freed with the work's arena */
}

ProtobufCAllocator crm_work_pb_allocator(crm_work_t *w)
{
    return (ProtobufCAllocator){s_pb_alloc, s_pb_free, w};
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
    s_pre_restore(w); /* the read failed (not found...): the command fails with it */
    w->pre_go = 0;
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

/* The precondition's read answered `reply`: the command goes on only if
 * the record is still the one the caller saw. The handler is not started
 * from here, inside the read's callback, but by crm_work_pre_continue once
 * that callback has returned. */
static void s_pre_answered(crm_work_t *w, const ProtobufCMessage *reply)
{
    char now[CRM_ETAG_LEN];
    size_t n = reply ? protobuf_c_message_get_packed_size(reply) : 0;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL, "out of memory", NULL,
                      NULL);
        return;
    }
    if (reply)
        n = protobuf_c_message_pack(reply, buf);
    crm_etag(buf, n, now);
    free(buf);
    s_pre_restore(w);
    if (strcmp(w->pre_etag, "*") != 0 && strcmp(w->pre_etag, now) != 0) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION, "precondition.etag",
                      "the record has changed",
                      crm_work_printf(w, "the precondition names ETag %.40s, the record's is %s",
                                      w->pre_etag, now),
                      "read the record again and retry with its ETag");
        memcpy(w->pre_now, now, sizeof now);
        return;
    }
    w->data = NULL; /* the read's; the handler sets its own */
    w->pre_go = 1;
    w->pending = 1; /* nobody takes the work for finished meanwhile */
}

void crm_work_pre_run(crm_work_t *w)
{
    ProtobufCMessage *rq =
        protobuf_c_message_unpack(w->pre_def->request, NULL, w->pre_len, w->pre_body);
    if (!rq) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, "precondition.read_body",
                      "malformed precondition", w->pre_def->request->name,
                      "send the read command's request message");
        return;
    }
    w->pre_cmd = w->cmd;
    w->pre_request = w->request;
    w->cmd = w->pre_def;
    w->request = rq;
    w->pre_def->fn(w);
}

void crm_work_pre_continue(crm_work_t *w)
{
    if (!w->pre_go)
        return;
    w->pre_go = 0;
    w->pending = 0;
    if (w->state == WS_RUNNING)
        w->fn(w);
}

void crm_work_ok(crm_work_t *w, const ProtobufCMessage *reply)
{
    if (w->state != WS_RUNNING)
        return;
    if (w->pre_cmd) {
        s_pre_answered(w, reply);
        return;
    }
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
    ev->actor = (char *)crm_work_principal(w);
    if (!ev->subject)
        ev->subject = (char *)protobuf_c_empty_string;
    size_t n = crm__v1__event__get_packed_size(ev);
    /* Larger events would make the bus and the subscribers drop the
     * connection they came on (ZMQ_MAXMSGSIZE), again at every replay. */
    if (n + 64 > w->batch->env->max_event_bytes) {
        ev->id = (char *)protobuf_c_empty_string;
        ev->actor = (char *)protobuf_c_empty_string;
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_TOO_LARGE, NULL, "event too large",
                      crm_work_printf(w, "%s of %zu bytes, limit CRM_MAX_EVENT_BYTES", ev->type, n),
                      "send less data in one command");
        return -EFBIG;
    }
    size_t al = strlen(ev->actor);
    crm_emit_t *e = calloc(1, sizeof *e + al + 1);
    if (!e)
        goto nomem;
    e->actor = memcpy(e + 1, ev->actor, al + 1);
    e->bytes = malloc(n + 64);
    e->type = strdup(ev->type);
    e->subject = strdup(ev->subject);
    if (!e->bytes || !e->type || !e->subject) {
        crm_emits_free(e);
        goto nomem;
    }
    e->len = crm__v1__event__pack(ev, e->bytes);
    /* Do not leave pointers to our stack in the caller's struct. */
    ev->id = (char *)protobuf_c_empty_string;
    ev->actor = (char *)protobuf_c_empty_string;
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

/* ---- queries ----------------------------------------------------------- */

/* A set-based run's write goes through one of its works but writes for
 * every one still running: each of them now fails only with the whole
 * transaction (batch.c aborts it and retries one by one), so a failed
 * command never keeps rows the run's statement wrote for it. */
static void s_run_writes(crm_work_t *w)
{
    for (size_t i = 0; i < w->run_n; i++)
        if (w->run[i] != w && w->run[i]->state == WS_RUNNING)
            w->run[i]->writes++;
}

/* After a statement of a run answered: a work of the run left running with
 * nothing in flight in the whole run would wait forever. */
static void s_run_check(crm_work_t *w)
{
    for (size_t i = 0; i < w->run_n; i++)
        if (w->run[i]->pending)
            return;
    for (size_t i = 0; i < w->run_n; i++)
        if (w->run[i]->state == WS_RUNNING)
            crm_work_fail(w->run[i], CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                          "handler neither answered nor continued", w->run[i]->cmd->name, NULL);
}

static void s_on_query(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    crm_work_t *w = arg;
    crm_batch_t *b = w->batch;
    crm_work_cb cb = w->cb;
    w->cb = NULL;
    w->pending = 0;
    if (!crm_batch_answered(b, 0))
        return; /* the transaction is gone: so is this attempt */
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
        crm_work_pre_continue(w);
    }
    if (w->state == WS_RUNNING && !w->pending)
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "handler neither answered nor continued", w->cmd ? w->cmd->name : NULL, NULL);
    if (w->run && !error)
        s_run_check(w); /* a failed statement aborts the batch as it is */
    crm_batch_step(b);
}

static int s_work_query(crm_work_t *w, const char *name, const char *sql, int n,
                        const char *const *params, crm_work_cb cb, int write)
{
    if (w->state != WS_RUNNING || w->pending || w->batch->aborting || w->batch->ending)
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
    if (write && w->run)
        s_run_writes(w);
    int rc = crm_db_query_named(w->batch->db, name, sql, n, params, NULL, NULL, 0, s_on_query, w);
    if (rc == 0)
        w->batch->inflight++;
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
    return s_work_query(w, NULL, sql, nparams, params, cb, 0);
}

int crm_work_exec(crm_work_t *w, const char *sql, int nparams, const char *const *params,
                  crm_work_cb cb)
{
    return s_work_query(w, NULL, sql, nparams, params, cb, 1);
}

int crm_work_query_named(crm_work_t *w, const char *name, const char *sql, int nparams,
                         const char *const *params, crm_work_cb cb)
{
    return s_work_query(w, name, sql, nparams, params, cb, 0);
}

int crm_work_exec_named(crm_work_t *w, const char *name, const char *sql, int nparams,
                        const char *const *params, crm_work_cb cb)
{
    return s_work_query(w, name, sql, nparams, params, cb, 1);
}

/* The answer to a work's last write (crm_work_exec_last): the work was
 * ended already, so only a failure matters. It fails the work (a retry of
 * it alone then dead-letters it, as for any failed write) and the
 * transaction, whose later statements the server skipped. */
static void s_on_last(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    (void)db;
    crm_work_t *w = arg;
    crm_batch_t *b = w->batch;
    if (!crm_batch_answered(b, 0) || !error)
        return;
    if (!res)
        b->lost_connection = 1;
    crm_err_t e;
    w->conflict = crm_db_error(res, w->sql, &e);
    free(w->reply);
    w->reply = NULL;
    w->reply_len = 0;
    w->state = WS_RUNNING;
    crm_work_fail_err(w, &e);
    crm_batch_fail(b, b->lost_connection ? "database connection lost" : e.message);
}

int crm_work_exec_last(crm_work_t *w, const char *name, const char *sql, int n,
                       const char *const *params)
{
    if (w->state != WS_RUNNING || w->pending || w->batch->aborting || w->batch->ending)
        return -EINVAL;
    if (w->cmd && w->cmd->readonly) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "read-only command tried to write", w->cmd->name, NULL);
        return -EINVAL;
    }
    snprintf(w->sql, sizeof w->sql, "%s", sql);
    w->writes++;
    int rc = crm_db_query_named(w->batch->db, name, sql, n, params, NULL, NULL, 0, s_on_last, w);
    if (rc == 0) {
        w->batch->inflight++;
        return 0;
    }
    if (rc == -ENOTCONN)
        w->batch->lost_connection = 1;
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL, "database unavailable",
                  strerror(-rc), "retry the command");
    return rc;
}

int crm_work_suspend(crm_work_t *w)
{
    if (w->state != WS_RUNNING || w->pending)
        return -EINVAL;
    /* `pending` is what makes crm_batch_step wait; no query callback will clear it. */
    w->cb = NULL;
    w->auto_ok = 0;
    w->pending = 1;
    return 0;
}

void crm_work_resume(crm_work_t *w)
{
    if (!w->pending || w->cb)
        return; /* not suspended: waiting on a query of its own */
    if (w->pre_go) {
        crm_work_pre_continue(w);
        if (w->state != WS_RUNNING || w->pending) {
            crm_batch_step(w->batch);
            return;
        }
    }
    w->pending = 0;
    if (w->state == WS_RUNNING)
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                      "handler neither answered nor continued", NULL, NULL);
    crm_batch_step(w->batch);
}
