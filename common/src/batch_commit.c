/* batch_commit.c: the end of a batch's transaction, i.e. what makes its
 * works' effects exactly-once: the events into the outbox with their
 * sequence numbers, the idempotency records (commands) or the dead letters
 * and the consumer's new positions (events), then COMMIT. Only then does
 * the batch hand the works and their sealed events to its owner
 * (crm_batch_owner_t.settled), which answers the clients and feeds the
 * relay.
 *
 * Sequence numbers: the batch takes the crm_stream row lock with an UPDATE
 * just before committing, so sequences are dense and in commit order, and a
 * transaction that rolls back never consumed any. */
#include "batch_run.h"

#include <crm/log.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Element type OIDs of the binary arrays (PostgreSQL's pg_type). */
#define S_OID_BYTEA 17
#define S_OID_INT8 20
#define S_OID_TEXT 25

static void s_fin_next(crm_batch_t *b);

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

int crm_emit_sealed_epoch(const crm_emit_t *e, char *out, size_t outlen)
{
    /* The tail s_emit_seal appended for e->seq, with an epoch of el bytes. */
    uint8_t head[16];
    head[0] = (6 << 3) | 0;
    size_t hl = 1 + s_put_varint(head + 1, e->seq);
    head[hl++] = (7 << 3) | 2;
    for (size_t el = 1; el < 128 && el < outlen; el++) {
        if (e->len < hl + 1 + el)
            break;
        const uint8_t *t = e->bytes + e->len - el - 1 - hl;
        if (t[hl] == el && !memcmp(t, head, hl)) {
            memcpy(out, e->bytes + e->len - el, el);
            out[el] = 0;
            return 0;
        }
    }
    return -1;
}

/* ---- finalize: outbox, idempotency, positions, commit ------------------ */

enum { F_CHECK, F_FINISH, F_DEAD, F_POS, F_COMMIT };

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
    for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++) {
        crm_work_t *w = b->works[i];
        if (w->state != WS_OK)
            continue;
        for (crm_emit_t *e = w->emits; e; e = e->next)
            s_emit_seal(e, seq++, b->epoch);
    }
    /* COMMIT went out behind the statement already. */
}

static void s_fin_sent(crm_batch_t *b, PGresult *res)
{
    /* pipelined behind the others: a failure is handled in batch.c */
}

/* ---- one-dimensional arrays in PostgreSQL's binary format ---------------
 * The rows of a batch go out as arrays, one per column, that the statement
 * unnests: one prepared statement for any number of rows, and the event
 * bytes as they are (in text format a bytea array is hex). The format is
 * array_recv's: ndim, has-nulls, element type, then per dimension its
 * length and lower bound, then each element as a length and its bytes,
 * integers in network order. No element is ever NULL here. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} s_arr_t;

static void s_arr_put(s_arr_t *a, const void *data, size_t n)
{
    if (a->oom)
        return;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        while (cap < a->len + n)
            cap *= 2;
        uint8_t *p = realloc(a->p, cap);
        if (!p) {
            a->oom = 1;
            return;
        }
        a->p = p;
        a->cap = cap;
    }
    memcpy(a->p + a->len, data, n);
    a->len += n;
}

static void s_arr_u32(s_arr_t *a, uint32_t v)
{
    uint32_t n = htonl(v);
    s_arr_put(a, &n, 4);
}

static void s_arr_begin(s_arr_t *a, uint32_t oid, size_t n)
{
    s_arr_u32(a, n ? 1 : 0); /* an empty array has no dimension */
    s_arr_u32(a, 0);
    s_arr_u32(a, oid);
    if (n) {
        s_arr_u32(a, (uint32_t)n);
        s_arr_u32(a, 1);
    }
}

static void s_arr_elem(s_arr_t *a, const void *data, size_t n)
{
    s_arr_u32(a, (uint32_t)n);
    s_arr_put(a, data, n);
}

static void s_arr_str(s_arr_t *a, const char *s)
{
    s_arr_elem(a, s, strlen(s));
}

static void s_arr_int8(s_arr_t *a, int64_t v)
{
    uint64_t u = (uint64_t)v;
    s_arr_u32(a, (uint32_t)(u >> 32));
    s_arr_u32(a, (uint32_t)u);
}

static int s_idem_wanted(const crm_work_t *w)
{
    return w->state == WS_OK && !w->cached && !w->dup_of && w->idem_key && !w->cmd->readonly;
}

/* The four arrays of the idempotency records (key, command, request hash,
 * reply) of the works in the transaction that store one; their count. */
static size_t s_idem_arrays(crm_batch_t *b, s_arr_t a[4])
{
    size_t n = 0;
    for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++)
        n += s_idem_wanted(b->works[i]) != 0;
    s_arr_begin(&a[0], S_OID_TEXT, n);
    s_arr_begin(&a[1], S_OID_TEXT, n);
    s_arr_begin(&a[2], S_OID_INT8, n);
    s_arr_begin(&a[3], S_OID_BYTEA, n);
    for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++) {
        crm_work_t *w = b->works[i];
        if (!s_idem_wanted(w))
            continue;
        s_arr_str(&a[0], w->idem_key);
        s_arr_str(&a[1], w->cmd->name);
        s_arr_u32(&a[2], 8);
        s_arr_int8(&a[2], (int64_t)w->request_hash);
        s_arr_elem(&a[3], w->reply ? w->reply : (const uint8_t *)"", w->reply_len);
    }
    return n;
}

/* The four arrays of the outbox rows (type, subject, event, actor), in
 * sequence order: the works' order, each work's events in its order. */
static void s_outbox_arrays(crm_batch_t *b, s_arr_t a[4])
{
    s_arr_begin(&a[0], S_OID_TEXT, b->fin_emits);
    s_arr_begin(&a[1], S_OID_TEXT, b->fin_emits);
    s_arr_begin(&a[2], S_OID_BYTEA, b->fin_emits);
    s_arr_begin(&a[3], S_OID_TEXT, b->fin_emits);
    for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++) {
        crm_work_t *w = b->works[i];
        if (w->state != WS_OK)
            continue;
        for (crm_emit_t *e = w->emits; e; e = e->next) {
            s_arr_str(&a[0], e->type);
            s_arr_str(&a[1], e->subject);
            s_arr_elem(&a[2], e->bytes, e->len);
            s_arr_str(&a[3], e->actor);
        }
    }
}

/* The end of a transaction's writes, in one statement: the idempotency
 * records, the crm_stream UPDATE that hands out the sequences, and the
 * outbox rows, numbered from it and sealed by crm_seal as s_emit_seal
 * seals the relay's copy (its answer, the new head and the epoch, does
 * that in memory). Before, these were three statements (and one per
 * row count prepared for each INSERT).
 * The records go in first, before the row lock: an INSERT that waits for
 * another writer's uncommitted record of the same key (a client's retry
 * while the first attempt is in flight) must not wait holding the lock
 * that writer needs to commit. Writable CTEs run as their results are
 * read: the main query counts i's rows before its LATERAL subquery (kept
 * apart by OFFSET 0) reads h, so the UPDATE runs after the last record;
 * o, read by nobody, runs after the main query. Were that order ever
 * different, the wait would end in PostgreSQL's deadlock detection and a
 * retry one by one, never in a lost or doubled write. */
static const char s_finish_sql[] =
    "WITH i AS (INSERT INTO crm_idempotency (key, command, request_hash, reply)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[]) RETURNING 1),"
    " h AS (UPDATE crm_stream SET head_seq = head_seq + $5::bigint"
    " RETURNING head_seq - $5::bigint AS base, head_seq, epoch::text AS epoch),"
    " o AS (INSERT INTO crm_outbox (seq, type, subject, event, actor)"
    " SELECT h.base + r.n, r.t, r.s, crm_seal(r.e, h.base + r.n, h.epoch), r.a"
    " FROM h, unnest($6::text[], $7::text[], $8::bytea[], $9::text[])"
    " WITH ORDINALITY AS r(t, s, e, a, n))"
    " SELECT h.head_seq, h.epoch FROM (SELECT count(*) AS n FROM i) c,"
    " LATERAL (SELECT head_seq, epoch FROM h WHERE c.n >= 0 OFFSET 0) h";

/* Sends the transaction's idempotency records, sequences and outbox rows
 * (s_finish_sql), or the records alone when it emitted nothing (no
 * crm_stream lock then). Returns 0, -1 out of memory, or -2 if the batch
 * failed (it may be gone). */
static int s_finish(crm_batch_t *b)
{
    s_arr_t a[8];
    memset(a, 0, sizeof a);
    size_t idem = b->kind == CRM_WORK_CMD ? s_idem_arrays(b, a) : 0;
    if (b->kind != CRM_WORK_CMD)
        for (int k = 0; k < 4; k++)
            s_arr_begin(&a[k], k == 2 ? S_OID_INT8 : k == 3 ? S_OID_BYTEA : S_OID_TEXT, 0);
    if (b->fin_emits)
        s_outbox_arrays(b, a + 4);
    int rc = 0, oom = 0;
    for (int k = 0; k < 8; k++)
        oom |= a[k].oom;
    char n[24];
    snprintf(n, sizeof n, "%zu", b->fin_emits);
    const char *v[9];
    int l[9], f[9];
    for (int k = 0, p = 0; k < 9; k++) {
        if (k == 4) {
            v[k] = n, l[k] = 0, f[k] = 0;
            continue;
        }
        v[k] = (const char *)a[p].p, l[k] = (int)a[p].len, f[k] = 1;
        p++;
    }
    if (oom)
        rc = -1;
    else if (b->fin_emits)
        rc = crm_batch_query_named(b, "crm_finish", s_finish_sql, 9, v, l, f, s_on_stream) < 0 ? -2
                                                                                               : 0;
    else if (idem)
        rc = crm_batch_query_named(b, "crm_idem_insert",
                                   "INSERT INTO crm_idempotency (key, command, request_hash, reply)"
                                   " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[],"
                                   " $4::bytea[])",
                                   4, v, l, f, s_fin_sent) < 0
                 ? -2
                 : 0;
    for (int k = 0; k < 8; k++)
        free(a[k].p);
    return rc;
}

static void s_fin_continue(crm_batch_t *b, PGresult *res)
{
    s_fin_next(b);
}

int crm_batch_check_wanted(const crm_work_t *w)
{
    return w->idem_key && !w->cached && !w->dup_of && !s_idem_wanted(w);
}

static void s_on_check(crm_batch_t *b, PGresult *res)
{
    crm_batch_idem_apply(b, res, 1);
    s_fin_goto(b, F_FINISH);
}

/* A batch that ran without the idempotency lookup: a work that stores a
 * record finds a clash on its unique index; one that stores none (failed
 * without writing, read only) has its key looked up here, so a command
 * retried after its success is answered with that success. One round trip,
 * only when such works have keys. Returns 1 if sent. */
static int s_check(crm_batch_t *b)
{
    if (b->lookup)
        return 0;
    size_t n = 0;
    for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++)
        n += crm_batch_check_wanted(b->works[i]) != 0;
    if (n == 0)
        return 0;
    char *keys = crm_batch_key_array(b, s_fin_from(b), crm_batch_tx_end(b), 1);
    if (!keys) {
        crm_batch_fail(b, "out of memory");
        return 1;
    }
    const char *v[1] = {keys};
    crm_batch_query_named(b, "crm_idem_lookup",
                          "SELECT key, command, request_hash, reply FROM crm_idempotency"
                          " WHERE key = ANY($1::text[])",
                          1, v, NULL, NULL, s_on_check);
    free(keys);
    return 1;
}

/* A retried dead letter must still be unresolved when its effects commit,
 * or two retries would apply it twice. */
static void s_on_resolved(crm_batch_t *b, PGresult *res)
{
    if (strcmp(PQcmdTuples(res), "1")) {
        b->fin_work->stale = 1;
        crm_batch_fail(b, "dead letter already resolved by another retry");
        return;
    }
    s_fin_next(b);
}

/* One dead letter (or dead-letter retry outcome) per statement: rare. */
static int s_dead_next(crm_batch_t *b)
{
    size_t end = crm_batch_tx_end(b);
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
                crm_batch_query(b,
                                "UPDATE crm_dead_letter SET resolved = true"
                                " WHERE id = $1 AND NOT resolved",
                                1, v, NULL, NULL, s_on_resolved);
            else
                crm_batch_query(b,
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
        const char *v[6] = {b->consumer, w->source, seq, type, (const char *)w->input, err};
        int l[6] = {0, 0, 0, 0, (int)w->input_len, 0}, f[6] = {0, 0, 0, 0, 1, 0};
        crm_batch_query(
            b,
            "INSERT INTO crm_dead_letter (consumer, source, seq, type, event, error)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consumer, source, seq) DO UPDATE"
            " SET attempts = crm_dead_letter.attempts + 1, error = EXCLUDED.error,"
            " failed_at = now(), resolved = false",
            6, v, l, f, s_fin_continue);
        return 1;
    }
    return 0;
}

/* Every conditional position update of the transaction, one per source it
 * touched, pipelined: crm_position_move fails the transaction in the
 * server when a position moved since it was read (SQLSTATE
 * CRM_SQLSTATE_POSITION_MOVED, seen in batch.c), so COMMIT goes out right
 * behind the updates instead of a round trip later. Returns 0, or -2 if
 * the batch failed (it may be gone). */
static int s_positions(crm_batch_t *b)
{
    const char *source;
    uint64_t applied;
    for (size_t k = 0; b->owner->position(b->arg, k, &source, &applied); k++) {
        uint64_t top = 0;
        const char *epoch = NULL, *event_id = NULL;
        for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++) {
            crm_work_t *w = b->works[i];
            if (w->dead_letter_id == 0 && !strcmp(w->source, source) && w->seq > top) {
                top = w->seq;
                epoch = w->epoch;
                event_id = w->event_id;
            }
        }
        if (!top)
            continue;
        char from[24], to[24];
        snprintf(from, sizeof from, "%" PRIu64, applied);
        snprintf(to, sizeof to, "%" PRIu64, top);
        /* The event id goes with the position: a later replay that shows
         * another event at that sequence is a conflict (consumer_verify.c). */
        const char *v[6] = {b->consumer, source,
                            to,          epoch && *epoch ? epoch : NULL,
                            from,        event_id && *event_id ? event_id : NULL};
        if (crm_batch_query_named(b, "crm_position_move",
                                  "SELECT crm_position_move($1, $2, $3, $4, $5, $6)", 6, v, NULL,
                                  NULL, s_fin_sent) < 0)
            return -2;
    }
    return 0;
}

static void s_on_commit(crm_batch_t *b, PGresult *res);

static void s_fin_next(crm_batch_t *b)
{
    int rc = 0;
    switch (b->fin_step) {
    case F_CHECK:
        if (!s_check(b))
            s_fin_goto(b, F_FINISH);
        return;
    case F_FINISH:
        /* Counted here, after the check may have answered works from
         * their records instead. The statement's answer seals the events
         * in memory; COMMIT goes out behind it at once. */
        b->fin_emits = 0;
        for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++)
            if (b->works[i]->state == WS_OK)
                b->fin_emits += b->works[i]->n_emits;
        rc = s_finish(b);
        if (rc == 0)
            s_fin_goto(b, b->kind == CRM_WORK_EVT ? F_DEAD : F_COMMIT);
        break;
    case F_DEAD:
        rc = s_dead_next(b);
        if (rc == 0)
            s_fin_goto(b, F_POS);
        break;
    case F_POS:
        rc = s_positions(b);
        if (rc == 0)
            s_fin_goto(b, F_COMMIT);
        break;
    case F_COMMIT:
        if (crm_batch_query_named(b, "crm_commit", "COMMIT", 0, NULL, NULL, NULL, s_on_commit) ==
                0 &&
            b->owner->committing && !b->commit_sent) {
            b->commit_sent = 1;
            b->owner->committing(b, b->arg);
        }
        return;
    }
    if (rc == -1)
        crm_batch_fail(b, "out of memory");
}

void crm_batch_finalize(crm_batch_t *b)
{
    s_fin_goto(b, b->kind == CRM_WORK_CMD ? F_CHECK : F_FINISH);
}

static void s_on_commit(crm_batch_t *b, PGresult *res)
{
    size_t from = s_fin_from(b), end = crm_batch_tx_end(b);
    /* The committed events, in sequence order, for the owner to publish. */
    crm_emit_t *list = NULL, *tail = NULL;
    for (size_t i = from; i < end; i++) {
        crm_work_t *w = b->works[i];
        if (w->state == WS_OK && w->emits) {
            if (tail)
                tail->next = w->emits;
            else
                list = w->emits;
            tail = w->emits_tail;
            b->env->events_emitted += (int64_t)w->n_emits;
            w->emits = w->emits_tail = NULL;
        }
    }
    if (list && b->env->crash_after_commit > 0 && --b->env->crash_after_commit == 0) {
        /* Fault injection for the conformance tests (CRM_TEST_CRASH_AFTER_COMMIT):
         * die after COMMIT and before anything is answered or published. */
        crm_error("test.crash",
                  "crashing between commit and publish (events %" PRIu64 "..%" PRIu64 " committed)",
                  b->first_seq, b->last_seq);
        _exit(70);
    }
    /* The owner answers the clients first (what they wait for), then hands
     * the events to the relay; or moves its positions. */
    b->owner->settled(b, b->arg, b->works + from, end - from, list);
    if (b->single && b->idx + 1 < b->n) {
        b->idx++;
        b->dl_pass = 0;
        crm_batch_begin(b);
        return;
    }
    crm_batch_end(b, 1);
}
