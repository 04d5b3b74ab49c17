/* crm/alias.h: merged people, the same in every service (sales.person.merge,
 * crm.sales.person.merged.v1; docs/architecture.md, "Personal data",
 * "Merge").
 *
 * Each service keeps crm_alias (common/sql/0006_alias.sql): a dropped id
 * and its survivor. A trigger on every column that names a person
 * (crm_alias_attach) writes the survivor instead of a dropped id, so a
 * late event about the dropped person lands on the survivor without any
 * code in the handlers. The ids that alias a survivor are the dropped id
 * and the ids the customer-id rule (crm/identity.h) derives from the
 * dropped record's emails, so a later registration or ticket with one of
 * them finds the survivor. */
#ifndef CRM_ALIAS_H
#define CRM_ALIAS_H

#include <crm/service.h>

#include <stddef.h>

/* The ids that name `survivor_id` once `dropped_id` is merged into it: the
 * dropped id first, then the customer ids derived from `emails` (the
 * dropped record's; invalid ones skipped), without the survivor's own id
 * or repeats. In the work's arena; *n of them. NULL with the work failed
 * when memory ran out. */
char **crm_alias_ids(crm_work_t *w, const char *survivor_id, const char *dropped_id,
                     char *const *emails, size_t n_emails, size_t *n);

/* A consumer applying crm.sales.person.merged.v1 (the work's event): runs
 * `merge_sql` in the work's transaction with $1 the survivor, $2 the
 * dropped id and $3 the alias ids (crm_alias_ids, as text[]), then cb with
 * its result. An event without two valid, different ids is logged and the
 * work ends without a change. The SQL must outlive the work (a string
 * literal). */
void crm_alias_consume(crm_work_t *w, const char *merge_sql, crm_work_cb cb);

#endif
