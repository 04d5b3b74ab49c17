/* batch.c: works and batches, i.e. group commit with exactly-once effects.
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
 * How a batch commits: batch_commit.c. */
#include "batch_run.h"

#include <crm/log.h>
#include <crm/pbcheck.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Attempts of a work alone after a serialization failure or deadlock. */
#define CRM_CONFLICT_RETRIES 3

/* ---- batches ----------------------------------------------------------- */

crm_batch_t *crm_batch_new(crm_batch_env_t *env, crm_db_t *db, crm_work_kind_t kind,
                           const char *consumer, const crm_batch_owner_t *owner, void *arg)
{
    crm_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->env = env;
    b->db = db;
    b->kind = kind;
    b->consumer = consumer;
    b->owner = owner;
    b->arg = arg;
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

crm_work_t **crm_batch_works(const crm_batch_t *b, size_t *n)
{
    *n = b->n;
    return b->works;
}

const char *crm_batch_abort_reason(const crm_batch_t *b)
{
    return b->abort_reason;
}

int64_t crm_batch_started_us(const crm_batch_t *b)
{
    return b->started_us;
}

int crm_batch_commit_sent(const crm_batch_t *b)
{
    return b->commit_sent;
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

typedef struct {
    crm_batch_t *b;
    crm_batch_cb cb;
    int rollback; /* answered even while the batch is aborting */
} s_bq_t;

/* Every answer to a statement of the batch (its own or a work's) comes
 * through here first. Statements are pipelined, so answers may still be
 * on their way when the batch aborts or ends: those are dropped, and an
 * ended batch is handed to its owner only once the last one arrived. */
int crm_batch_answered(crm_batch_t *b, int rollback)
{
    b->inflight--;
    if (b->ending) {
        if (b->inflight == 0)
            b->owner->done(b, b->arg, b->end_committed);
        return 0;
    }
    return !b->aborting || rollback;
}

static void s_on_batch_query(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_bq_t *q = arg;
    crm_batch_t *b = q->b;
    crm_batch_cb cb = q->cb;
    int rollback = q->rollback;
    free(q);
    if (!crm_batch_answered(b, rollback))
        return;
    if (error) {
        if (!res)
            b->lost_connection = 1;
        /* The reason may reach a client: the server's text only to the log. */
        crm_err_t e;
        crm_db_error(res, NULL, &e);
        /* The batch's own statements clash on a unique key only in
         * crm_idempotency: another writer committed the same key after
         * this transaction looked it up. Run again, the record answers. */
        if (b->kind == CRM_WORK_CMD && !strcmp(crm_db_sqlstate(res), "23505"))
            b->key_clash = 1;
        if (b->kind == CRM_WORK_EVT && !strcmp(crm_db_sqlstate(res), CRM_SQLSTATE_POSITION_MOVED)) {
            /* Not worth retrying one by one: the owner starts over from
             * the positions in the database. */
            b->give_up = 1;
            crm_warn("batch.position", "%s: consumer %s: position moved under its transaction",
                     crm_db_name(b->db), b->consumer);
            crm_batch_fail(b, "consumer position moved under us (another instance is running?)");
            return;
        }
        crm_warn("batch.statement", "%s: %s", crm_db_name(b->db), e.log_detail);
        crm_batch_fail(b, e.message);
        return;
    }
    cb(b, res);
}

static int s_batch_query(crm_batch_t *b, const char *name, const char *sql, int n,
                         const char *const *v, const int *l, const int *f, crm_batch_cb cb,
                         int rollback)
{
    s_bq_t *q = malloc(sizeof *q);
    int rc = -ENOMEM;
    if (q) {
        q->b = b;
        q->cb = cb;
        q->rollback = rollback;
        rc = crm_db_query_named(b->db, name, sql, n, v, l, f, 0, s_on_batch_query, q);
    }
    if (rc == 0)
        b->inflight++;
    if (rc < 0) {
        free(q);
        if (rc == -ENOTCONN)
            b->lost_connection = 1;
        crm_batch_fail(b, strerror(-rc));
    }
    return rc;
}

int crm_batch_query(crm_batch_t *b, const char *sql, int n, const char *const *v, const int *l,
                    const int *f, crm_batch_cb cb)
{
    return s_batch_query(b, NULL, sql, n, v, l, f, cb, 0);
}

int crm_batch_query_named(crm_batch_t *b, const char *name, const char *sql, int n,
                          const char *const *v, const int *l, const int *f, crm_batch_cb cb)
{
    return s_batch_query(b, name, sql, n, v, l, f, cb, 0);
}

void crm_batch_end(crm_batch_t *b, int committed)
{
    if (b->inflight > 0) {
        b->ending = 1;
        b->end_committed = committed;
        return;
    }
    b->owner->done(b, b->arg, committed);
}

static void s_after_rollback(crm_batch_t *b, PGresult *res);

/* A statement of the batch itself failed, or COMMIT did. */
void crm_batch_fail(crm_batch_t *b, const char *why)
{
    snprintf(b->abort_reason, sizeof b->abort_reason, "%s", why);
    if (b->lost_connection) {
        crm_warn("batch.lost", "%s: batch of %zu lost with its connection: %s", crm_db_name(b->db),
                 b->n, why);
        crm_batch_end(b, 0);
        return;
    }
    b->aborting = 1;
    s_batch_query(b, NULL, "ROLLBACK", 0, NULL, NULL, NULL, s_after_rollback, 1);
}

size_t crm_batch_tx_end(const crm_batch_t *b)
{
    return b->single ? b->idx + 1 : b->n;
}

static void s_finalize_cb(crm_batch_t *b, PGresult *res)
{
    crm_batch_finalize(b);
}

static void s_after_rollback(crm_batch_t *b, PGresult *res)
{
    b->aborting = 0;
    b->lookup = 1; /* every attempt after a rollback looks its keys up first */
    if (b->give_up) {
        /* Not worth retrying here (a consumer position moved under us, or a
         * work failed twice): the owner starts over from the database. */
        crm_batch_end(b, 0);
        return;
    }
    if (!b->single) {
        /* Retry each work on its own, so one bad work costs only itself. */
        crm_debug("batch.retry", "%s: batch of %zu aborted (%s); retrying one by one",
                  crm_db_name(b->db), b->n, b->abort_reason);
        b->env->retries++;
        b->single = 1;
        b->idx = 0;
        b->dl_pass = 0;
        for (size_t i = 0; i < b->n; i++)
            crm_work_reset(b->works[i]);
        crm_batch_begin(b);
        return;
    }
    crm_work_t *w = b->works[b->idx];
    if (((w->state == WS_FAILED && w->conflict) || b->key_clash) &&
        w->conflict_retries < CRM_CONFLICT_RETRIES) {
        /* A serialization failure or deadlock: the same work may well
         * succeed in a fresh transaction. */
        w->conflict_retries++;
        crm_work_reset(w);
        crm_batch_begin(b);
        return;
    }
    crm_emits_free(w->emits);
    w->emits = w->emits_tail = NULL;
    w->n_emits = 0;
    w->writes = 0;
    w->outbox_rewritten = 0;
    if (b->kind == CRM_WORK_EVT) {
        if (w->state == WS_OK && w->dead_letter_id > 0 && w->stale) {
            b->idx++; /* another retry resolved this dead letter first */
            b->dl_pass = 0;
            if (b->idx >= b->n)
                crm_batch_end(b, 1);
            else
                crm_batch_begin(b);
            return;
        }
        if (w->state == WS_OK || b->dl_pass) {
            /* The effects were fine but the commit failed, or recording the
             * failure failed too: reload the position and replay. */
            crm_warn("consumer.retry",
                     "%s: could not commit event %" PRIu64 " of %s: %s;"
                     " reloading position",
                     crm_db_name(b->db), w->seq, w->source, b->abort_reason);
            crm_batch_end(b, 0);
            return;
        }
        /* The handler failed after writing: its writes are gone; record the
         * dead letter and move the position, in a transaction of their own. */
        b->dl_pass = 1;
        crm_batch_query_named(b, "crm_begin", "BEGIN", 0, NULL, NULL, NULL, s_finalize_cb);
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
    /* Answered now, before the next work's transaction. */
    b->owner->settled(b, b->arg, &b->works[b->idx], 1, NULL);
    b->idx++;
    if (b->idx >= b->n) {
        crm_batch_end(b, 1);
        return;
    }
    crm_batch_begin(b);
}

/* Builds a PostgreSQL text array literal {"a","b"} of the batch's keys
 * (late: only those crm_batch_check_wanted). */
char *crm_batch_key_array(crm_batch_t *b, size_t from, size_t to, int late)
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
        if (!k || (late && !crm_batch_check_wanted(b->works[i])))
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

/* The works of [b->idx, end) that the idempotency lookup is about: those
 * not started yet (the lookup before the works), or, for the check at the
 * end of a batch that ran without it, those that will store no record of
 * their own (crm_batch_check_wanted). */
static int s_idem_subject(const crm_batch_t *b, const crm_work_t *w, int late)
{
    if (!w->idem_key)
        return 0;
    return late ? crm_batch_check_wanted(w) : w->state == WS_NEW;
}

void crm_batch_idem_apply(crm_batch_t *b, PGresult *res, int late)
{
    size_t end = crm_batch_tx_end(b);
    for (int r = 0; r < PQntuples(res); r++) {
        const char *key = PQgetvalue(res, r, 0);
        const char *command = PQgetvalue(res, r, 1);
        uint64_t hash = (uint64_t)strtoll(PQgetvalue(res, r, 2), NULL, 10);
        size_t blen = 0;
        unsigned char *reply = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, 3), &blen);
        for (size_t i = b->idx; i < end; i++) {
            crm_work_t *w = b->works[i];
            if (!s_idem_subject(b, w, late) || strcmp(w->idem_key, key))
                continue;
            /* Late: the work failed without writing, or only read; the key's
             * record answers instead of it. */
            if (late)
                crm_work_reset(w);
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
}

/* The same key twice in this transaction: the later one waits for the
 * first (and answers with its reply). */
static void s_mark_dups(crm_batch_t *b)
{
    size_t end = crm_batch_tx_end(b);
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
}

static void s_on_idem(crm_batch_t *b, PGresult *res)
{
    crm_batch_idem_apply(b, res, 0);
    s_mark_dups(b);
    crm_batch_step(b);
}

static void s_ignore(crm_batch_t *b, PGresult *res)
{
    /* pipelined: a failure is handled in s_on_batch_query */
}

/* BEGIN, the merge guard and the idempotency lookup go out together
 * (pipeline mode). The guard (common/sql/0008_merge_guard.sql) is taken
 * shared before anything else: a merge applied beside this transaction
 * waits for it to commit, or is committed before it writes, so a row it
 * writes about the dropped person still reaches the survivor. Taken before
 * any row lock, it never waits while holding one. BEGIN and the guard are
 * prepared once per connection, like COMMIT: sent unnamed, each was parsed
 * and planned again in every transaction, and the guard was a PL/pgSQL
 * call (crm_merge_guard(false)) around the same lock function.
 * The first attempt of a batch does without the lookup: a key seldom
 * comes back, and when it does the batch learns it at its end, from the
 * record's unique index (the batch is then retried one by one, with the
 * lookup) or from the check of the works that store no record
 * (batch_commit.c). That saves a round trip before the works start. */
void crm_batch_begin(crm_batch_t *b)
{
    b->started = b->idx;
    b->key_clash = 0;
    if (crm_batch_query_named(b, "crm_begin", "BEGIN", 0, NULL, NULL, NULL, s_ignore) < 0 ||
        crm_batch_query_named(b, "crm_guard", CRM_MERGE_GUARD_SHARED, 0, NULL, NULL, NULL,
                              s_ignore) < 0)
        return; /* the batch failed; it may be gone */
    if (b->kind == CRM_WORK_CMD && !b->lookup) {
        s_mark_dups(b);
    } else if (b->kind == CRM_WORK_CMD) {
        char *keys = crm_batch_key_array(b, b->idx, crm_batch_tx_end(b), 0);
        if (!keys) {
            crm_batch_fail(b, "out of memory");
            return;
        }
        if (strcmp(keys, "{}")) {
            const char *v[1] = {keys};
            crm_batch_query_named(b, "crm_idem_lookup",
                                  "SELECT key, command, request_hash, reply FROM crm_idempotency"
                                  " WHERE key = ANY($1::text[])",
                                  1, v, NULL, NULL, s_on_idem);
            free(keys);
            return;
        }
        free(keys);
    }
    crm_batch_step(b);
}

void crm_batch_start(crm_batch_t *b)
{
    b->idx = 0;
    b->single = b->n == 1;
    b->started_us = crm_mono_us();
    for (size_t i = 0; i < b->n; i++)
        b->works[i]->batch = b;
    crm_batch_begin(b);
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
        /* protobuf-c takes a text field that is not UTF-8 or holds a NUL
         * (crm/pbcheck.h): the handler would see it cut or the database
         * refuse it. Dead-lettered like an event that does not decode, with
         * its text kept out of the dead letter and the position: a statement
         * would fail on it at every retry, and the consumer never get past. */
        char bad[128], detail[200];
        if (crm_pb_check_strings(&crm__v1__event__descriptor, w->input, w->input_len, bad,
                                 sizeof bad) < 0) {
            crm__v1__event__free_unpacked(w->event, NULL);
            w->event = NULL;
            if (w->event_id)
                w->event_id[0] = 0;
            snprintf(detail, sizeof detail, "text field %s is not UTF-8 or holds a NUL byte", bad);
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, bad, "malformed event",
                          detail, NULL);
            return -1;
        }
    }
    return 0;
}

/* Whether a statement of a work in [from, to) is in flight. */
static int s_any_pending(const crm_batch_t *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (b->works[i]->pending)
            return 1;
    return 0;
}

/* Whether w may start while the works in [idx, started) run: a keyed
 * command (its keys computed when it was queued) beside other keyed ones
 * that share no key with it; any work once nothing else runs. */
static int s_may_start(crm_batch_t *b, crm_work_t *w)
{
    if (w->state != WS_NEW)
        return 1; /* answered already (idempotency): nothing to run */
    for (size_t i = b->idx; i < b->started; i++) {
        crm_work_t *o = b->works[i];
        if (o->state != WS_RUNNING && !o->pending)
            continue;
        if (w->n_keys < 0 || o->n_keys < 0)
            return 0;
        for (int k = 0; k < w->n_keys; k++)
            for (int j = 0; j < o->n_keys; j++)
                if (w->keys[k] == o->keys[j])
                    return 0;
    }
    return 1;
}

static void s_run(crm_batch_t *b, crm_work_t *w)
{
    if (w->state == WS_NEW && w->stale)
        w->state = WS_OK; /* a dead-letter retry that lost the race: nothing to do */
    if (w->state != WS_NEW)
        return;
    w->batch = b;
    w->state = WS_RUNNING;
    if (w->submit_arg)
        w->data = w->submit_arg;
    if (w->request || w->event || s_decode(w) == 0) {
        if (w->pre_def) {
            crm_work_pre_run(w);
            crm_work_pre_continue(w);
        } else {
            w->fn(w);
        }
        if (w->state == WS_RUNNING && !w->pending)
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                          "handler neither answered nor continued", w->cmd ? w->cmd->name : NULL,
                          NULL);
    }
}

/* The service applies consumed events a run at a time
 * (crm_service_def_t.consumer_batch): decodes the works from b->started on
 * that may run together (events of a consumer, not answered yet, not run
 * alone) and hands them over at once. Returns 0 if the first work is not
 * one of those (it then runs alone through s_run). */
static int s_run_events(crm_batch_t *b, size_t end)
{
    const crm_service_def_t *def = b->env->def;
    size_t from = b->started, to = from;
    if (!def->consumer_batch || !b->env->consumer_runs || b->kind != CRM_WORK_EVT)
        return 0;
    while (to < end) {
        crm_work_t *w = b->works[to];
        if (!w->consumer || w->state != WS_NEW || w->stale || (!w->event && s_decode(w) < 0) ||
            (def->consumer_alone && def->consumer_alone(w->event)))
            break;
        to++;
    }
    if (to == from)
        return 0;
    for (size_t i = from; i < to; i++) {
        b->works[i]->batch = b;
        b->works[i]->state = WS_RUNNING;
    }
    b->started = to;
    def->consumer_batch(b->works + from, to - from);
    for (size_t i = from; i < to && !b->aborting && !b->ending; i++) {
        crm_work_t *w = b->works[i];
        if (w->state == WS_RUNNING && !w->pending && !s_any_pending(b, from, to))
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                          "handler neither answered nor continued", NULL, NULL);
    }
    return 1;
}

/* The set-based form of w's command (crm_service_def_t.command_batches),
 * or NULL. */
static crm_command_batch_fn s_batch_form(const crm_batch_t *b, const crm_work_t *w)
{
    const crm_command_batch_t *t = b->env->def ? b->env->def->command_batches : NULL;
    if (!t || b->kind != CRM_WORK_CMD || !w->cmd || w->cmd == &w->submit_def || w->pre_def)
        return NULL;
    for (; t->command; t++)
        if (!strcmp(t->command, w->cmd->name))
            return t->batch;
    return NULL;
}

/* Whether w's keys (it has some, n_keys >= 0) meet one of works[from, to). */
static int s_keys_meet(crm_batch_t *b, const crm_work_t *w, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const crm_work_t *o = b->works[i];
        for (int k = 0; k < w->n_keys; k++)
            for (int j = 0; j < o->n_keys; j++)
                if (w->keys[k] == o->keys[j])
                    return 1;
    }
    return 0;
}

/* Commands whose type has a set-based form: the works from b->started on
 * of that type that may run together (new, decoded, keyed and sharing no
 * key with one another; the first one may start beside what runs) go to
 * the form at once. Returns 0 if the first work is not one of those (it
 * then runs through s_run). */
static int s_run_commands(crm_batch_t *b, size_t end)
{
    size_t from = b->started, to = from;
    crm_work_t *first = b->works[from];
    crm_command_batch_fn form = s_batch_form(b, first);
    if (!form || first->state != WS_NEW || first->stale)
        return 0;
    while (to < end) {
        crm_work_t *w = b->works[to];
        if (to > from &&
            (w->cmd != first->cmd || w->pre_def || w->n_keys < 0 || first->n_keys < 0 ||
             w->state != WS_NEW || w->stale || !s_may_start(b, w) || s_keys_meet(b, w, from, to)))
            break;
        if (!w->request && s_decode(w) < 0)
            break;
        to++;
    }
    if (to == from)
        return 0; /* the first does not decode: s_run answers it */
    for (size_t i = from; i < to; i++) {
        crm_work_t *w = b->works[i];
        w->batch = b;
        w->state = WS_RUNNING;
        w->run = b->works + from;
        w->run_n = to - from;
    }
    b->started = to;
    b->env->command_runs++;
    b->env->command_run_works += (int64_t)(to - from);
    form(b->works + from, to - from);
    for (size_t i = from; i < to && !b->aborting && !b->ending; i++) {
        crm_work_t *w = b->works[i];
        if (w->state == WS_RUNNING && !w->pending && !s_any_pending(b, from, to))
            crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL,
                          "handler neither answered nor continued", w->cmd->name, NULL);
    }
    return 1;
}

/* Starts the works that may start, in order, and finalizes the
 * transaction once all of its works are done. Works of keyed commands run
 * interleaved: each one's statements go out while the others' are in
 * flight (pipeline mode), and their answers come back in order. */
void crm_batch_step(crm_batch_t *b)
{
    if (b->aborting || b->ending)
        return;
    size_t end = crm_batch_tx_end(b);
    for (;;) {
        while (b->started < end && s_may_start(b, b->works[b->started])) {
            if (s_run_events(b, end) || s_run_commands(b, end)) {
                if (b->aborting || b->ending)
                    return;
                continue;
            }
            s_run(b, b->works[b->started++]);
            if (b->aborting || b->ending)
                return;
        }
        int busy = 0;
        for (size_t i = b->idx; i < b->started; i++) {
            crm_work_t *w = b->works[i];
            if (w->state == WS_RUNNING || w->pending) {
                busy = 1;
                continue;
            }
            if (w->state == WS_FAILED && w->writes > 0) {
                /* Its writes are in the transaction: all of it goes. */
                b->idx = i;
                crm_batch_fail(b,
                               b->lost_connection ? "database connection lost" : w->status.message);
                return;
            }
        }
        while (b->idx < b->started && b->works[b->idx]->state != WS_RUNNING &&
               !b->works[b->idx]->pending)
            b->idx++;
        if (busy)
            return; /* an answer steps again */
        if (b->started >= end)
            break;
    }
    if (b->single)
        b->idx = end - 1; /* finalize works on [idx, idx+1) */
    crm_batch_finalize(b);
}
