/* batch_int.h: what work.c, batch.c and batch_commit.c share of a batch
 * in flight; private to those three. */
#ifndef CRM_BATCH_INT_H
#define CRM_BATCH_INT_H

#include "svc_int.h"

/* Internal statements of the batch: continuation by step number. */
typedef void (*crm_batch_cb)(crm_batch_t *b, PGresult *res);

/* work.c */
void crm_emits_free(crm_emit_t *e);

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
