/* batch_int.h: a batch (works sharing one transaction) as its owner sees
 * it. Owners: the command path (service_command.c) and each consumer
 * (consumer.c). The owner fills a batch with works and starts it; the
 * batch runs them against its database connection and reports back only
 * through crm_batch_owner_t. It never calls the service, the relay or the
 * consumer: replies and publishing are the owner's. How a batch runs:
 * batch_run.h, private to work.c, batch.c and batch_commit.c. */
#ifndef CRM_BATCH_INT_H
#define CRM_BATCH_INT_H

#include "work_int.h"

#include <crm/db.h>
#include <crm/service.h>

#include <stddef.h>
#include <stdint.h>

typedef struct crm_batch crm_batch_t;

/* What the batches of one service share: settings read once at start and
 * the counters the metrics show. Owned by the service; its batches only
 * point at it. */
typedef struct crm_batch_env {
    const crm_service_def_t *def; /* consumer_batch, consumer_alone, command_batches */
    int consumer_runs;            /* CRM_CONSUMER_RUNS */
    size_t max_event_bytes;       /* CRM_MAX_EVENT_BYTES */
    int crash_after_commit;       /* CRM_TEST_CRASH_AFTER_COMMIT: fault injection */
    int64_t retries;              /* batches rolled back and retried one by one */
    int64_t events_emitted;       /* events committed to the outbox */
    int64_t command_runs;         /* set-based runs of commands started (any outcome) */
    int64_t command_run_works;    /* the commands in them */
} crm_batch_env_t;

/* How a batch reports to its owner; `arg` is the owner's, from
 * crm_batch_new. */
typedef struct crm_batch_owner {
    /* A transaction of the batch committed, or (retrying one by one) a
     * command failed for good: works[0, n) have their outcome. `emits`
     * holds the events that transaction committed, sealed with their
     * sequences, in sequence order, or is NULL: the owner takes the list
     * (it feeds the relay, which frees it). The works stay the owner's,
     * as ever: they are freed in `done`. Called before the batch goes on,
     * so the owner answers before the next transaction begins. */
    void (*settled)(crm_batch_t *b, void *arg, crm_work_t *const *works, size_t n,
                    crm_emit_t *emits);
    /* Called once, when COMMIT first goes out: the owner may start the
     * next batch on another connection while this one flushes. May be NULL. */
    void (*committing)(crm_batch_t *b, void *arg);
    /* The batch is over (committed: its last transaction committed; 0: its
     * outcome is unknown, e.g. the connection was lost). Nothing of the
     * batch is in flight any more: the owner frees the works
     * (crm_batch_works) and the batch. */
    void (*done)(crm_batch_t *b, void *arg, int committed);
    /* Batches of events: the consumer's committed position in its i-th
     * source, for the conditional position update; returns 0 past the
     * last source. NULL for commands. */
    int (*position)(void *arg, size_t i, const char **source, uint64_t *applied);
} crm_batch_owner_t;

/* A batch on `db` of works of `kind`. `consumer`: the consumer's name
 * (dead letters and positions), NULL for commands. */
crm_batch_t *crm_batch_new(crm_batch_env_t *env, crm_db_t *db, crm_work_kind_t kind,
                           const char *consumer, const crm_batch_owner_t *owner, void *arg);
/* Borrows w until `done`; 0 or -ENOMEM. */
int crm_batch_add(crm_batch_t *b, crm_work_t *w);
void crm_batch_start(crm_batch_t *b);
/* The works added, in order (the owner's to free once done). */
crm_work_t **crm_batch_works(const crm_batch_t *b, size_t *n);
/* Why the batch last rolled back ("" if it did not). */
const char *crm_batch_abort_reason(const crm_batch_t *b);
int64_t crm_batch_started_us(const crm_batch_t *b);
int crm_batch_commit_sent(const crm_batch_t *b);
/* Frees the batch, not its works. */
void crm_batch_destroy(crm_batch_t **b_p);

#endif
