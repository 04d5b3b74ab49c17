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

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rows per multi-row INSERT: 5 parameters a row stays far below 65535. */
#define CRM_ROWS_PER_INSERT 200

/* Row counts up to this are prepared, one statement per count (kind
 * "outbox" or "idem"): the usual batch sizes, a bounded number of
 * statements per connection; larger batches amortise their parse. */
#define CRM_PREPARED_ROWS 64

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

/* ---- finalize: outbox, idempotency, positions, commit ------------------ */

enum { F_CHECK, F_STREAM, F_OUTBOX, F_IDEM, F_DEAD, F_POS, F_COMMIT };

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
    /* The outbox rows and COMMIT went out behind the UPDATE already. */
}

static void s_fin_continue(crm_batch_t *b, PGresult *res)
{
    s_fin_next(b);
}

/* Appends "(n,$k::t1,$k+1::t2,...)" to the VALUES of an outbox INSERT:
 * n is the row's place in the statement, k counts from `first`. */
static size_t s_values(char *sql, size_t at, size_t row, int first, const char *const *types,
                       int ncols)
{
    at += (size_t)sprintf(sql + at, "%s(%zu", row ? "," : "", row + 1);
    for (int c = 0; c < ncols; c++)
        at += (size_t)sprintf(sql + at, ",$%zu::%s",
                              row * (size_t)ncols + (size_t)c + (size_t)first, types[c]);
    sql[at++] = ')';
    sql[at] = 0;
    return at;
}

/* Appends "($k,$k+1,...)" groups to an INSERT. */
static size_t s_params(char *sql, size_t at, size_t row, int ncols)
{
    at += (size_t)sprintf(sql + at, "%s(", row ? "," : "");
    for (int c = 0; c < ncols; c++)
        at +=
            (size_t)sprintf(sql + at, "%s$%zu", c ? "," : "", row * (size_t)ncols + (size_t)c + 1);
    sql[at++] = ')';
    sql[at] = 0;
    return at;
}

static void s_fin_sent(crm_batch_t *b, PGresult *res)
{
    /* pipelined behind the others: a failure is handled in batch.c */
}

/* Sends a multi-row INSERT of `rows` rows of `ncols` parameters (or nothing
 * when rows is 0) and takes `sql`; the next statement goes out without
 * waiting for its answer. Returns 1 if sent, 0 if there was nothing, -2 if
 * the batch failed (it may be gone). */
static int s_insert_rows(crm_batch_t *b, const char *kind, char *sql, size_t rows, int ncols,
                         const char *const *v, const int *l, const int *f)
{
    int rc = 0;
    if (rows > 0) {
        char name[40];
        snprintf(name, sizeof name, "crm_%s_%zu", kind, rows);
        b->fin_cursor += rows;
        rc = crm_batch_query_named(b, rows <= CRM_PREPARED_ROWS ? name : NULL, sql,
                                   (int)rows * ncols, v, l, f, s_fin_sent) < 0
                 ? -2
                 : 1;
    }
    free(sql);
    return rc;
}

/* Inserts the next chunk of outbox rows; returns 0 when none were left.
 * Each row's sequence is the one the batch's UPDATE of crm_stream (just
 * before, in the same transaction) handed out for it, and crm_seal
 * appends it and the epoch to the event as s_emit_seal does in memory. */
static int s_outbox_chunk(crm_batch_t *b)
{
    const char *v[2 + CRM_ROWS_PER_INSERT * 4];
    int l[2 + CRM_ROWS_PER_INSERT * 4], f[2 + CRM_ROWS_PER_INSERT * 4];
    static const char *const types[4] = {"text", "text", "bytea", "text"};
    static const char head[] =
        "INSERT INTO crm_outbox (seq, type, subject, event, actor)"
        " SELECT h.head_seq - $1::bigint + $2::bigint + r.n, r.t, r.s,"
        " crm_seal(r.e, h.head_seq - $1::bigint + $2::bigint + r.n, h.epoch::text), r.a"
        " FROM crm_stream h, (VALUES ";
    static const char tail[] = ") AS r(n, t, s, e, a)";
    char *sql = malloc(sizeof head + sizeof tail + CRM_ROWS_PER_INSERT * 80);
    if (!sql)
        return -1;
    char total[24], offset[24];
    snprintf(total, sizeof total, "%zu", b->fin_emits);
    snprintf(offset, sizeof offset, "%zu", b->fin_cursor);
    v[0] = total, l[0] = 0, f[0] = 0;
    v[1] = offset, l[1] = 0, f[1] = 0;
    size_t at = (size_t)sprintf(sql, "%s", head);
    size_t row = 0, k = 0;
    for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b) && row < CRM_ROWS_PER_INSERT; i++) {
        crm_work_t *w = b->works[i];
        if (w->state != WS_OK)
            continue;
        for (crm_emit_t *e = w->emits; e && row < CRM_ROWS_PER_INSERT; e = e->next) {
            if (k++ < b->fin_cursor)
                continue;
            size_t p = 2 + row * 4;
            v[p] = e->type, l[p] = 0, f[p] = 0;
            v[p + 1] = e->subject, l[p + 1] = 0, f[p + 1] = 0;
            v[p + 2] = (const char *)e->bytes, l[p + 2] = (int)e->len, f[p + 2] = 1;
            v[p + 3] = e->actor, l[p + 3] = 0, f[p + 3] = 0;
            at = s_values(sql, at, row, 3, types, 4);
            row++;
        }
    }
    memcpy(sql + at, tail, sizeof tail);
    if (row == 0) {
        free(sql);
        return 0;
    }
    char name[40];
    snprintf(name, sizeof name, "crm_outbox_%zu", row);
    b->fin_cursor += row;
    int rc = crm_batch_query_named(b, row <= CRM_PREPARED_ROWS ? name : NULL, sql, 2 + (int)row * 4,
                                   v, l, f, s_fin_sent) < 0
                 ? -2
                 : 1;
    free(sql);
    return rc;
}

static int s_idem_wanted(const crm_work_t *w)
{
    return w->state == WS_OK && !w->cached && !w->dup_of && w->idem_key && !w->cmd->readonly;
}

int crm_batch_check_wanted(const crm_work_t *w)
{
    return w->idem_key && !w->cached && !w->dup_of && !s_idem_wanted(w);
}

static void s_on_check(crm_batch_t *b, PGresult *res)
{
    crm_batch_idem_apply(b, res, 1);
    s_fin_goto(b, F_IDEM);
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
    for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b) && row < CRM_ROWS_PER_INSERT; i++) {
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
        at = s_params(sql, at, row, 4);
        row++;
    }
    return s_insert_rows(b, "idem", sql, row, 4, v, l, f);
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

static void s_on_pos(crm_batch_t *b, PGresult *res)
{
    if (strcmp(PQcmdTuples(res), "1")) {
        b->give_up = 1;
        crm_batch_fail(b, "consumer position moved under us (another instance is running?)");
        return;
    }
    s_fin_next(b);
}

/* One conditional position update per source touched by the transaction. */
static int s_pos_next(crm_batch_t *b)
{
    const char *source;
    uint64_t applied;
    while (b->owner->position(b->arg, b->fin_cursor, &source, &applied)) {
        b->fin_cursor++;
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
        crm_batch_query_named(
            b, "crm_position_move",
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
    case F_CHECK:
        if (!s_check(b))
            s_fin_goto(b, F_IDEM);
        return;
    case F_STREAM:
        /* Counted here, after the check may have answered works from
         * their records instead. */
        b->fin_emits = 0;
        for (size_t i = s_fin_from(b); i < crm_batch_tx_end(b); i++)
            if (b->works[i]->state == WS_OK)
                b->fin_emits += b->works[i]->n_emits;
        if (b->fin_emits) {
            char n[24];
            snprintf(n, sizeof n, "%zu", b->fin_emits);
            const char *v[1] = {n};
            /* Its answer seals the events in memory; the outbox rows
             * take their numbers from it in the database, so they go
             * out behind it at once (s_outbox_chunk). */
            if (crm_batch_query_named(b, "crm_stream_take",
                                      "UPDATE crm_stream SET head_seq = head_seq + $1"
                                      " RETURNING head_seq, epoch::text, epoch_start_seq",
                                      1, v, NULL, NULL, s_on_stream) < 0)
                return;
        }
        s_fin_goto(b, F_OUTBOX);
        return;
    case F_OUTBOX:
        /* The outbox and idempotency inserts and COMMIT go out together. */
        do
            rc = b->fin_emits ? s_outbox_chunk(b) : 0;
        while (rc == 1);
        if (rc == 0)
            s_fin_goto(b, b->kind == CRM_WORK_EVT ? F_DEAD : F_COMMIT);
        break;
    case F_IDEM:
        do
            rc = s_idem_chunk(b);
        while (rc == 1);
        if (rc == 0)
            s_fin_goto(b, F_STREAM);
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
        if (crm_batch_query(b, "COMMIT", 0, NULL, NULL, NULL, s_on_commit) == 0 &&
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
    /* Commands: the idempotency records before the crm_stream row lock, so
     * the lock is held only for the outbox rows and COMMIT (another writer
     * waits for it), never while waiting for another transaction's key. */
    s_fin_goto(b, b->kind == CRM_WORK_CMD ? F_CHECK : F_STREAM);
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
