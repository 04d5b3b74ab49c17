/* batch_run.h: what work.c, batch.c and batch_commit.c share of a batch
 * in flight; private to those three (the batch layer). Its owner sees
 * batch_int.h only. The layer depends on the database (crm/db.h) and the
 * service's definition (crm/service.h), nothing else of the runtime. */
#ifndef CRM_BATCH_RUN_H
#define CRM_BATCH_RUN_H

#include "batch_int.h"

struct crm_batch {
    crm_batch_env_t *env;
    crm_db_t *db;
    crm_work_kind_t kind;
    const char *consumer; /* batches of events: the consumer's name */
    const crm_batch_owner_t *owner;
    void *arg; /* the owner's */
    crm_work_t **works;
    size_t n, cap, idx;
    int single; /* retrying works one per transaction */
    int lookup; /* look the idempotency keys up before the works (a retry) */
    int aborting;
    int lost_connection;
    char abort_reason[256];
    uint64_t first_seq, last_seq;
    char epoch[40];
    int commit_sent;
    int64_t started_us;
    int fin_step;
    size_t fin_cursor;
    size_t fin_emits;
    crm_work_t *fin_work;
    int give_up;       /* after rollback, end the batch uncommitted */
    int dl_pass;       /* single mode: recording a failed event's dead letter */
    size_t started;    /* works [idx, started) have been started, in order */
    size_t inflight;   /* statements of this batch sent, not yet answered */
    int ending;        /* ended: waiting for `inflight` to drain */
    int key_clash;     /* an idempotency record clashed with another writer's */
    int end_committed; /* the outcome to report once drained */
};

/* The merge guard taken shared, what crm_merge_guard(false) does
 * (common/sql/0008_merge_guard.sql, whose key this is), without the
 * PL/pgSQL call: every batch's transaction begins with it (batch.c). */
#define CRM_MERGE_GUARD_SHARED "SELECT pg_advisory_xact_lock_shared(74061516)"

/* The SQLSTATE crm_position_move raises when a consumer's position moved
 * under its transaction (common/sql/0016_position_move.sql). */
#define CRM_SQLSTATE_POSITION_MOVED "CRMPM"

/* Internal statements of the batch: continuation by step number. */
typedef void (*crm_batch_cb)(crm_batch_t *b, PGresult *res);

/* work.c */
/* Runs the precondition's read (w->pre_def) in place of the handler; once
 * it answers, crm_work_pre_continue starts the handler (or the work has
 * failed FAILED_PRECONDITION). Both from the batch, work.c. */
void crm_work_pre_run(crm_work_t *w);
void crm_work_pre_continue(crm_work_t *w);

/* batch.c */
void crm_batch_step(crm_batch_t *b);
/* Sends a statement of the batch itself; returns 0, or a negative error
 * after failing the batch (which may then be gone). */
int crm_batch_query(crm_batch_t *b, const char *sql, int n, const char *const *v, const int *l,
                    const int *f, crm_batch_cb cb);
/* crm_batch_query for a fixed statement, prepared once per connection
 * under `name` (crm_db_query_named). */
int crm_batch_query_named(crm_batch_t *b, const char *name, const char *sql, int n,
                          const char *const *v, const int *l, const int *f, crm_batch_cb cb);
/* Called first by every answer to a statement of the batch; 0: drop it
 * (the batch is aborting or ending). `rollback`: the answer to ROLLBACK. */
int crm_batch_answered(crm_batch_t *b, int rollback);
void crm_batch_fail(crm_batch_t *b, const char *why);
void crm_batch_end(crm_batch_t *b, int committed);
size_t crm_batch_tx_end(const crm_batch_t *b);
void crm_batch_begin(crm_batch_t *b);
/* The idempotency lookup's rows applied to the works they are about
 * (late: the check at the end of a batch that ran without the lookup). */
void crm_batch_idem_apply(crm_batch_t *b, PGresult *res, int late);
/* A text array literal of the idempotency keys of works [from, to). */
char *crm_batch_key_array(crm_batch_t *b, size_t from, size_t to, int late);
/* Whether w has a key but stores no idempotency record of its own (it
 * failed without writing, or only read): checked at the end of a batch
 * that ran without the lookup. */
int crm_batch_check_wanted(const crm_work_t *w);

/* batch_commit.c */
void crm_batch_finalize(crm_batch_t *b);

#endif
