/* db.c: asynchronous libpq on a libuv poll handle.
 *
 * State machine: CONNECTING (PQconnectPoll driven by the socket) -> READY
 * (libpq pipeline mode: each query is sent at once with a sync of its own,
 * results read in order as the socket becomes readable) -> on any
 * connection failure, DOWN with a backoff timer, then CONNECTING again.
 *
 * Pipeline mode removes the wait for each result before the next
 * statement; a sync after every statement keeps the semantics of one
 * statement at a time (an error ends only its own statement; the
 * transaction it was in is aborted as before). A connection that runs
 * only transactions (crm_db_grouped: the writers, the consumers) instead
 * sends one sync and one write for all the statements queued in a pass of
 * the loop: inside a transaction an error aborts the statements after it
 * anyway, and the server then answers them all in one write too.
 * Statements named with crm_db_query_named are prepared once per
 * connection and then sent by name: no parse, no plan per call.
 * The poll handle is bound to a socket, and the socket
 * changes on every connection, so each connection gets its own handle. */
#include "db_int.h"

#include <crm/db.h>
#include <crm/log.h>

#include "crm/v1/rpc.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_DOWN, S_CONNECTING, S_READY } s_state_t;

typedef struct {
    uv_poll_t poll;
    crm_db_t *db; /* NULL once the db let go of it */
} s_poll_t;

struct crm_db {
    uv_loop_t *loop;
    char *conninfo;
    char *name;
    PGconn *conn;
    s_poll_t *poll;
    int poll_events;
    uv_timer_t *timer;
    s_state_t state;
    int backoff_ms;
    crm_query_t *head, *tail; /* sent, waiting for their results, in order */
    PGresult *result;         /* last result of the query at the head */
    size_t pending;
    crm_db_state_cb state_cb;
    void *state_arg;
    int destroying;
    int down_pending;      /* a send failed; go down from the timer, not the caller */
    int grouped;           /* one sync per pass of the loop (crm_db_grouped) */
    int unsynced;          /* statements sent since the last sync */
    uv_prepare_t *prepare; /* syncs and flushes before the loop waits */
    char **prepared;       /* names prepared on this connection */
    size_t n_prepared, cap_prepared;
};

static void s_connect(crm_db_t *self);
static void s_on_poll(uv_poll_t *h, int status, int events);
static void s_defer_down(crm_db_t *self);
static void s_poll_set(crm_db_t *self, int events);

void crm_db_query_free(crm_query_t *q)
{
    if (!q)
        return;
    for (int i = 0; q->values && i < q->nparams; i++)
        free(q->values[i]);
    free(q->values);
    free(q->lengths);
    free(q->formats);
    free(q->sql);
    free(q);
}

static void s_poll_closed(uv_handle_t *h)
{
    free(h->data);
}

static void s_timer_closed(uv_handle_t *h)
{
    free(h);
}

/* Before the loop waits: one sync for the statements of this pass, and
 * what libpq buffered goes out in one write. */
static void s_on_prepare(uv_prepare_t *h)
{
    crm_db_t *self = h->data;
    uv_prepare_stop(h);
    if (!self || self->state != S_READY || !self->unsynced || self->down_pending)
        return;
    self->unsynced = 0;
    if (!PQpipelineSync(self->conn)) {
        s_defer_down(self);
        return;
    }
    int f = PQflush(self->conn);
    if (f < 0) {
        s_defer_down(self);
        return;
    }
    s_poll_set(self, UV_READABLE | (f == 1 ? UV_WRITABLE : 0));
}

static void s_poll_release(crm_db_t *self)
{
    if (self->poll) {
        self->poll->db = NULL;
        uv_poll_stop(&self->poll->poll);
        uv_close((uv_handle_t *)&self->poll->poll, s_poll_closed);
        self->poll = NULL;
    }
    self->poll_events = 0;
}

static void s_poll_set(crm_db_t *self, int events)
{
    if (!self->poll) {
        s_poll_t *p = calloc(1, sizeof *p);
        if (!p)
            return;
        if (uv_poll_init_socket(self->loop, &p->poll, PQsocket(self->conn)) != 0) {
            free(p);
            return;
        }
        p->poll.data = p;
        p->db = self;
        self->poll = p;
        self->poll_events = 0;
    }
    if (events != self->poll_events) {
        uv_poll_start(&self->poll->poll, events, s_on_poll);
        self->poll_events = events;
    }
}

/* Completes the query at the head of the queue and removes it. */
static void s_complete_head(crm_db_t *self, PGresult *res, const char *error)
{
    crm_query_t *q = self->head;
    self->head = q->next;
    if (!self->head)
        self->tail = NULL;
    self->pending--;
    q->cb(self, res, error, q->arg);
    crm_db_query_free(q);
}

static void s_fail_all(crm_db_t *self, const char *why)
{
    while (self->head) {
        if (self->result) {
            PQclear(self->result);
            self->result = NULL;
        }
        s_complete_head(self, NULL, why);
    }
}

static void s_set_down(crm_db_t *self, const char *why);

static void s_on_timer(uv_timer_t *t)
{
    crm_db_t *self = t->data;
    if (self->down_pending) {
        self->down_pending = 0;
        s_set_down(self, PQerrorMessage(self->conn));
        return;
    }
    s_connect(self);
}

/* Called where a caller may be on the stack (crm_db_query): callbacks must
 * not fire from inside the caller, so the failure is handled on the next
 * loop pass. */
static void s_defer_down(crm_db_t *self)
{
    self->down_pending = 1;
    uv_timer_start(self->timer, s_on_timer, 0, 0);
}

static void s_forget_prepared(crm_db_t *self)
{
    for (size_t i = 0; i < self->n_prepared; i++)
        free(self->prepared[i]);
    self->n_prepared = 0;
}

static void s_set_down(crm_db_t *self, const char *why)
{
    int was_ready = self->state == S_READY;
    s_forget_prepared(self);
    self->unsynced = 0;
    crm_warn("db.down", "%s: connection lost or refused: %s", self->name, why);
    s_poll_release(self);
    if (self->conn) {
        PQfinish(self->conn);
        self->conn = NULL;
    }
    if (self->result) {
        PQclear(self->result);
        self->result = NULL;
    }
    self->state = S_DOWN;
    self->down_pending = 0;
    s_fail_all(self, "database connection lost");
    if (was_ready && self->state_cb)
        self->state_cb(self, 0, self->state_arg);
    if (self->destroying)
        return;
    self->backoff_ms = self->backoff_ms ? self->backoff_ms * 2 : 100;
    if (self->backoff_ms > 5000)
        self->backoff_ms = 5000;
    uv_timer_start(self->timer, s_on_timer, (uint64_t)self->backoff_ms, 0);
}

static void s_on_ready(crm_db_t *self)
{
    int was = self->state;
    self->state = S_READY;
    self->backoff_ms = 0;
    PQsetnonblocking(self->conn, 1);
    if (!PQenterPipelineMode(self->conn)) {
        s_set_down(self, PQerrorMessage(self->conn));
        return;
    }
    s_poll_set(self, UV_READABLE);
    crm_info("db.connected", "%s: connected", self->name);
    if (was != S_READY && self->state_cb)
        self->state_cb(self, 1, self->state_arg);
}

static void s_connect_poll(crm_db_t *self)
{
    switch (PQconnectPoll(self->conn)) {
    case PGRES_POLLING_READING:
        s_poll_set(self, UV_READABLE);
        break;
    case PGRES_POLLING_WRITING:
        s_poll_set(self, UV_WRITABLE);
        break;
    case PGRES_POLLING_OK:
        s_on_ready(self);
        break;
    default:
        s_set_down(self, PQerrorMessage(self->conn));
        break;
    }
}

static void s_connect(crm_db_t *self)
{
    /* The name shows in pg_stat_activity, so operators see which
     * connection of which service is doing what.
     *
     * JIT is off: every statement a service runs touches a batch's rows,
     * where compiling a plan to machine code never pays back, and the
     * planner's guesses can still cross jit_above_cost. The outbox INSERT
     * of a batch of 1,000 events, costed with crm_stream's never-analysed
     * guess of 650 rows, compiled 24 functions in 110 to 230 ms, most of
     * marketing's first send batch (issue 15, eighth session). "options"
     * comes before "dbname" so that options in the configured URL, which
     * dbname expands to, override it. */
    const char *const keys[] = {"options", "dbname", "application_name", NULL};
    const char *const vals[] = {"-c jit=off", self->conninfo, self->name, NULL};
    self->conn = PQconnectStartParams(keys, vals, 1);
    if (!self->conn || PQstatus(self->conn) == CONNECTION_BAD) {
        s_set_down(self, self->conn ? PQerrorMessage(self->conn) : "out of memory");
        return;
    }
    self->state = S_CONNECTING;
    s_connect_poll(self);
}

static void s_read(crm_db_t *self)
{
    if (!PQconsumeInput(self->conn)) {
        s_set_down(self, PQerrorMessage(self->conn));
        return;
    }
    while (self->head && !PQisBusy(self->conn)) {
        PGresult *r = PQgetResult(self->conn);
        if (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            continue;
        }
        if (r) {
            /* COPY is never used; keep the last result of the statement. */
            if (self->result)
                PQclear(self->result);
            self->result = r;
            continue;
        }
        /* The end of one statement's results. Every statement has at least
         * one (an aborted one PGRES_PIPELINE_ABORTED), so a NULL without
         * one is not the end of the head's. */
        if (!self->result)
            continue;
        PGresult *res = self->result;
        self->result = NULL;
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        const char *err = NULL;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            err = res ? PQresultErrorMessage(res) : "no result";
        s_complete_head(self, res, err);
        if (res)
            PQclear(res);
        if (self->state != S_READY)
            return;
    }
    if (PQstatus(self->conn) == CONNECTION_BAD)
        s_set_down(self, PQerrorMessage(self->conn));
}

static void s_on_poll(uv_poll_t *h, int status, int events)
{
    s_poll_t *p = h->data;
    crm_db_t *self = p->db;
    if (!self)
        return;
    if (self->state == S_CONNECTING) {
        s_connect_poll(self);
        return;
    }
    if (self->state != S_READY)
        return;
    if (status < 0) {
        s_set_down(self, uv_strerror(status));
        return;
    }
    if (events & UV_WRITABLE) {
        int f = PQflush(self->conn);
        if (f < 0) {
            s_set_down(self, PQerrorMessage(self->conn));
            return;
        }
        s_poll_set(self, UV_READABLE | (f == 1 ? UV_WRITABLE : 0));
    }
    if (events & UV_READABLE)
        s_read(self);
}

/* Appends `keyword='value'` (libpq quoting: backslash and single quote
 * escaped) to the string being built. Returns 0 or -ENOMEM. */
static int s_conninfo_add(char **buf, size_t *len, size_t *cap, const char *key, const char *val)
{
    size_t need = strlen(key) + 2 * strlen(val) + 5;
    if (*len + need >= *cap) {
        size_t ncap = (*len + need) * 2;
        char *p = realloc(*buf, ncap);
        if (!p)
            return -ENOMEM;
        *buf = p;
        *cap = ncap;
    }
    char *o = *buf + *len;
    if (*len)
        *o++ = ' ';
    o += sprintf(o, "%s='", key);
    for (const char *v = val; *v; v++) {
        if (*v == '\\' || *v == '\'')
            *o++ = '\\';
        *o++ = *v;
    }
    *o++ = '\'';
    *o = '\0';
    *len = (size_t)(o - *buf);
    return 0;
}

char *crm_db_conninfo(const char *conninfo, const char *password, char *err, size_t errlen)
{
    return crm_db_conninfo_as(conninfo, NULL, password, err, errlen);
}

char *crm_db_conninfo_as(const char *conninfo, const char *user, const char *password, char *err,
                         size_t errlen)
{
    if (!conninfo) {
        snprintf(err, errlen, "no connection string");
        return NULL;
    }
    int as_other = user && *user;
    if (!as_other && (!password || !*password)) {
        char *copy = strdup(conninfo);
        if (!copy)
            snprintf(err, errlen, "out of memory");
        return copy;
    }
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        /* libpq's message names the offending part only, never a value. */
        snprintf(err, errlen, "the connection string does not parse: %s",
                 perr ? perr : "out of memory");
        PQfreemem(perr);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    /* Another role never inherits this one's password: it has its own, or
     * none (peer, trust, ~/.pgpass). */
    for (PQconninfoOption *o = opts; o->keyword && rc == 0; o++)
        if (o->val && strcmp(o->keyword, "password") != 0 &&
            !(as_other && !strcmp(o->keyword, "user")))
            rc = s_conninfo_add(&buf, &len, &cap, o->keyword, o->val);
    if (rc == 0 && as_other)
        rc = s_conninfo_add(&buf, &len, &cap, "user", user);
    if (rc == 0 && password && *password)
        rc = s_conninfo_add(&buf, &len, &cap, "password", password);
    PQconninfoFree(opts);
    if (rc < 0) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return buf;
}

int crm_db_conninfo_has_password(const char *conninfo)
{
    PQconninfoOption *opts = conninfo ? PQconninfoParse(conninfo, NULL) : NULL;
    int has = 0;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "password") && o->val && *o->val)
            has = 1;
    PQconninfoFree(opts);
    return has;
}

crm_db_t *crm_db_new(uv_loop_t *loop, const char *conninfo, const char *name)
{
    crm_db_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->conninfo = strdup(conninfo);
    self->name = strdup(name);
    self->timer = calloc(1, sizeof *self->timer);
    if (!self->conninfo || !self->name || !self->timer) {
        free(self->conninfo);
        free(self->name);
        free(self->timer);
        free(self);
        return NULL;
    }
    uv_timer_init(loop, self->timer);
    self->timer->data = self;
    s_connect(self);
    return self;
}

void crm_db_grouped(crm_db_t *self)
{
    if (self->prepare)
        return;
    self->prepare = calloc(1, sizeof *self->prepare);
    if (!self->prepare)
        return; /* a sync per statement, as before */
    uv_prepare_init(self->loop, self->prepare);
    self->prepare->data = self;
    self->grouped = 1;
}

void crm_db_destroy(crm_db_t **self_p)
{
    crm_db_t *self = *self_p;
    if (!self)
        return;
    self->destroying = 1;
    self->state_cb = NULL;
    s_poll_release(self);
    if (self->result)
        PQclear(self->result);
    self->result = NULL;
    s_fail_all(self, "database connection closed");
    if (self->conn)
        PQfinish(self->conn);
    uv_timer_stop(self->timer);
    uv_close((uv_handle_t *)self->timer, s_timer_closed);
    if (self->prepare) {
        self->prepare->data = NULL;
        uv_prepare_stop(self->prepare);
        uv_close((uv_handle_t *)self->prepare, s_timer_closed);
    }
    s_forget_prepared(self);
    free(self->prepared);
    free(self->conninfo);
    free(self->name);
    free(self);
    *self_p = NULL;
}

void crm_db_on_state(crm_db_t *self, crm_db_state_cb cb, void *arg)
{
    self->state_cb = cb;
    self->state_arg = arg;
}

int crm_db_connected(const crm_db_t *self)
{
    return self->state == S_READY;
}

const char *crm_db_name(const crm_db_t *self)
{
    return self->name;
}

size_t crm_db_pending(const crm_db_t *self)
{
    return self->pending;
}

crm_query_t *crm_db_query_new(const char *sql, int nparams, const char *const *values,
                              const int *lengths, const int *formats)
{
    crm_query_t *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->sql = strdup(sql);
    if (!q->sql)
        goto fail;
    if (nparams > 0) {
        q->values = calloc((size_t)nparams, sizeof(char *));
        q->lengths = calloc((size_t)nparams, sizeof(int));
        q->formats = calloc((size_t)nparams, sizeof(int));
        if (!q->values || !q->lengths || !q->formats)
            goto fail;
        /* Counted only once values exists: crm_db_query_free walks it. */
        q->nparams = nparams;
        for (int i = 0; i < nparams; i++) {
            if (!values[i])
                continue; /* SQL NULL */
            int bin = formats && formats[i];
            size_t len = bin ? (size_t)lengths[i] : strlen(values[i]);
            q->values[i] = malloc(len + 1);
            if (!q->values[i])
                goto fail;
            memcpy(q->values[i], values[i], len);
            q->values[i][len] = 0;
            q->lengths[i] = (int)len;
            q->formats[i] = bin;
        }
    }
    return q;
fail:
    crm_db_query_free(q);
    return NULL;
}

/* The answer to a PREPARE: a failure reaches the caller with its
 * statement's answer; the name is forgotten so the next use prepares it
 * again (it fails in an aborted transaction, for instance). */
static void s_on_prepared(crm_db_t *self, PGresult *res, const char *error, void *arg)
{
    char *name = arg;
    for (size_t i = 0; error && i < self->n_prepared; i++)
        if (!strcmp(self->prepared[i], name)) {
            free(self->prepared[i]);
            self->prepared[i] = self->prepared[--self->n_prepared];
            break;
        }
    free(name);
}

static int s_enqueue(crm_db_t *self, crm_db_cb cb, void *arg, int binary_result)
{
    crm_query_t *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->cb = cb;
    q->arg = arg;
    q->binary_result = binary_result;
    if (self->tail)
        self->tail->next = q;
    else
        self->head = q;
    self->tail = q;
    self->pending++;
    return 0;
}

/* Whether `name` was prepared on this connection; if not, remembers it
 * (the PREPARE goes out now, ahead of its first use). -ENOMEM: use the
 * statement unnamed. */
static int s_was_prepared(crm_db_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_prepared; i++)
        if (!strcmp(self->prepared[i], name))
            return 1;
    if (self->n_prepared == self->cap_prepared) {
        size_t cap = self->cap_prepared ? self->cap_prepared * 2 : 16;
        char **p = realloc(self->prepared, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        self->prepared = p;
        self->cap_prepared = cap;
    }
    if (!(self->prepared[self->n_prepared] = strdup(name)))
        return -ENOMEM;
    self->n_prepared++;
    return 0;
}

int crm_db_query_named(crm_db_t *self, const char *name, const char *sql, int nparams,
                       const char *const *values, const int *lengths, const int *formats,
                       int binary_result, crm_db_cb cb, void *arg)
{
    if (self->state != S_READY || self->destroying || self->down_pending)
        return -ENOTCONN;
    /* Sent at once: libpq copies the statement and its parameters into
     * its buffer, so the queue keeps only the callback. */
    int prepared = name ? s_was_prepared(self, name) : -ENOMEM;
    int ok = 1;
    if (prepared == 0) {
        /* Its own answer comes first; a failure shows in the statement's. */
        char *copy = strdup(name);
        if (!copy || s_enqueue(self, s_on_prepared, copy, 0) < 0) {
            free(copy);
            self->n_prepared--;
            free(self->prepared[self->n_prepared]);
            return -ENOMEM;
        }
        ok = PQsendPrepare(self->conn, name, sql, nparams, NULL) &&
             (self->grouped || PQpipelineSync(self->conn));
    }
    if (s_enqueue(self, cb, arg, binary_result) < 0) {
        s_defer_down(self); /* the PREPARE's answer would have no statement */
        return 0;
    }
    if (ok)
        ok = prepared >= 0 ? PQsendQueryPrepared(self->conn, name, nparams, values, lengths,
                                                 formats, binary_result)
                           : PQsendQueryParams(self->conn, sql, nparams, NULL, values, lengths,
                                               formats, binary_result);
    if (ok && self->grouped) {
        self->unsynced++;
        uv_prepare_start(self->prepare, s_on_prepare);
        return 0;
    }
    if (!ok || !PQpipelineSync(self->conn)) {
        /* The callback fires from the timer, never from inside the caller. */
        s_defer_down(self);
        return 0;
    }
    int f = PQflush(self->conn);
    if (f < 0) {
        s_defer_down(self);
        return 0;
    }
    s_poll_set(self, UV_READABLE | (f == 1 ? UV_WRITABLE : 0));
    return 0;
}

int crm_db_query(crm_db_t *self, const char *sql, int nparams, const char *const *values,
                 const int *lengths, const int *formats, int binary_result, crm_db_cb cb, void *arg)
{
    return crm_db_query_named(self, NULL, sql, nparams, values, lengths, formats, binary_result, cb,
                              arg);
}

const char *crm_db_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* The start of a statement for a log line: its first 60 bytes with runs
 * of white space as one blank. Statements are the services' constant SQL
 * with out-of-line parameters, so this holds no request value. */
static void s_statement_head(const char *sql, char *out, size_t len)
{
    size_t n = 0;
    int blank = 0;
    for (; sql && *sql && n + 4 < len && n < 60; sql++) {
        int sp = *sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r';
        if (sp && (blank || n == 0))
            continue;
        blank = sp;
        out[n++] = sp ? ' ' : *sql;
    }
    if (sql && *sql)
        out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = 0;
}

int crm_db_error_from(const char *sqlstate, const char *primary, const char *sql, crm_err_t *e)
{
    const char *st = sqlstate ? sqlstate : "";
    char head[72];
    int code = CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, retry = 0;
    const char *message = "database statement failed";
    const char *hint = "report this; the service log has the details";
    if (!strcmp(st, "23505")) {
        code = CRM__V1__STATUS_CODE__STATUS_CODE_ALREADY_EXISTS;
        message = "a record with the same key exists already";
        hint = "change the value that must be unique, or use the existing record";
    } else if (!strcmp(st, "23503")) {
        code = CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION;
        message = "the change would break a reference between records";
        hint = "check that the records the request names exist and are not in use";
    } else if (!strcmp(st, "23514") || !strcmp(st, "23502") || !strncmp(st, "22", 2)) {
        code = CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT;
        message = "a value was refused by the database";
        hint = "check the request's values";
    } else if (!strcmp(st, "40001") || !strcmp(st, "40P01")) {
        code = CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE;
        message = "the change conflicted with a concurrent one";
        hint = "retry with the same idempotency key";
        retry = 1;
    } else if (!*st || !strcmp(st, "57014") || !strncmp(st, "57P", 3) || !strncmp(st, "08", 2) ||
               !strncmp(st, "53", 2)) {
        code = CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE;
        message = "database unavailable";
        hint = "retry the command";
    }
    crm_err_set(e, code, NULL, message, hint, NULL);
    s_statement_head(sql, head, sizeof head);
    /* Data exceptions (class 22) quote the offending value in their primary
     * message: that may be personal data, so only their SQLSTATE is kept. */
    int quote_primary = primary && *primary && strncmp(st, "22", 2);
    size_t pn = quote_primary ? strcspn(primary, "\n") : 0;
    crm_err_log_detail(e, "SQLSTATE %s in \"%s\"%s%.*s", *st ? st : "none", head,
                       quote_primary ? ": " : "", (int)pn, quote_primary ? primary : "");
    return retry;
}

int crm_db_error(const PGresult *res, const char *sql, crm_err_t *e)
{
    if (!res)
        return crm_db_error_from("08006", "connection lost", sql, e);
    return crm_db_error_from(PQresultErrorField(res, PG_DIAG_SQLSTATE),
                             PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), sql, e);
}

long long crm_db_get_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *crm_db_get_str(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col);
}

const char *crm_db_get_opt(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int crm_db_get_bool(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

int crm_db_row_is_ordinal(const PGresult *res, int row)
{
    return row >= 0 && row < PQntuples(res) && PQnfields(res) > 0 && !PQgetisnull(res, row, 0) &&
           crm_db_get_int(res, row, 0) == (long long)row + 1;
}
