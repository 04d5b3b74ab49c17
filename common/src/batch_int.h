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
void crm_batch_query(crm_batch_t *b, const char *sql, int n, const char *const *v, const int *l,
                     const int *f, crm_batch_cb cb);
void crm_batch_fail(crm_batch_t *b, const char *why);
void crm_batch_end(crm_batch_t *b, int committed);
size_t crm_batch_tx_end(const crm_batch_t *b);
void crm_batch_begin(crm_batch_t *b);

/* batch_commit.c */
void crm_batch_finalize(crm_batch_t *b);

#endif
