/* handlers/handlers.h: what the handler files share, private to them.
 *
 * handlers/ holds sales' business rules, one file per aggregate and one
 * function per command or consumed event; commands.c names them in its
 * tables. Every handler follows the same shape: check the whole request
 * with the rules (rules.c) before touching the database; read what the
 * decision needs; write; emit the events; answer. A failure before the
 * first write costs only this work (its batch carries on); all statements
 * go through store.h. State that must survive a continuation lives in a
 * struct in the work's arena (crm_work_set_data), never in globals.
 *
 * This header is the prelude they share (common.c): reading request values
 * through the rules into the arena, failing the work, and paging lists. */
#ifndef SALES_HANDLERS_H
#define SALES_HANDLERS_H

#include "sales.h"

#include "events.h"
#include "rules.h"
#include "store.h"

#include <crm/db.h>
#include <crm/identity.h>
#include <crm/log.h>
#include <crm/util.h>

#include <stddef.h>
#include <stdint.h>

#include "crm/v1/analytics.pb-c.h"
#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/support.pb-c.h"

#define SALES_CODE(x) CRM__V1__STATUS_CODE__STATUS_CODE_##x
#define SALES_INVALID SALES_CODE(INVALID_ARGUMENT)

/* The service context (sales.h) of the work's service. */
sales_t *sales_ctx(crm_work_t *w);

/* A check's error to the client (crm_work_fail_err). */
#define sales_fail crm_work_fail_err
/* Fails the work with INVALID_ARGUMENT on `field`. */
void sales_invalid(crm_work_t *w, const char *field, const char *message, const char *hint);

/* The owner of a record being created or reassigned (crm/access.h): a
 * principal below level all for (type, action) owns what it creates
 * unless it names an owner, and may name only owners in its reach.
 * Returns 0 (*owner set), or -1 with the work failed (PERMISSION_DENIED
 * on `field`). A record out of reach otherwise answers NOT_FOUND, as if
 * it did not exist (docs/architecture.md, "Security"). */
int sales_owner(crm_work_t *w, crm_record_t type, crm_action_t action, const char *field,
                char **owner);

/* Validation input: copies into the arena; an allocation failure is
 * remembered (and "" returned) so the checks read straight through and
 * report it once at the end. */
typedef struct {
    crm_work_t *w;
    sales_err_t e;
    int oom;
} sales_in_t;

/* A copy of s[0..n) in the arena (never NULL: "" when out of memory). */
char *sales_in_copy(sales_in_t *in, const char *s, size_t n);
/* The trimmed text of s, copied as sales_in_copy does. */
char *sales_in_trimmed(sales_in_t *in, const char *s);
/* An array of n (at least one) elements of `size` bytes, or NULL (out of
 * memory, remembered for sales_in_done). */
void *sales_in_array(sales_in_t *in, size_t n, size_t size);
/* Ends validation: 0, or -1 with the work failed on the rule violation
 * (rc < 0, in->e) or on out of memory. */
int sales_in_done(sales_in_t *in, int rc);

/* Readers of one value: 0 with *out set (trimmed, in the arena), or -1
 * with in->e set. `field` names the value in the error. */
int sales_in_text(sales_in_t *in, const char *s, size_t max, const char *field, char **out);
int sales_in_required(sales_in_t *in, const char *s, size_t max, const char *field, char **out);
int sales_in_id(sales_in_t *in, const char *s, int required, const char *field, char **out);

/* Column `col` of row 0 of `res` as text in the work's arena: "" for
 * NULL; NULL (the work is failed) when out of memory. */
char *sales_col_text(crm_work_t *w, const PGresult *res, int col);
/* The same for row `row`. */
char *sales_cell_text(crm_work_t *w, const PGresult *res, int row, int col);
/* Tags, distinct case-insensitively, at most SALES_LIST_MAX. */
int sales_in_tags(sales_in_t *in, char *const *src, size_t n, const char *prefix, char ***out,
                  size_t *n_out);

/* A list command's page, kept as the work's data between its calls. */
typedef struct {
    int page_size;
    sales_page_t page;
} sales_list_t;

/* Checks page_size and page_token and keeps them (crm_work_set_data) for
 * sales_list_rows. NULL with the work failed on a bad value. */
sales_list_t *sales_list_start(crm_work_t *w, int32_t page_size, const char *token);

/* Rows (json, created_us, id) into messages of type d and the next page
 * token ("" on the last page). Returns 0, or -1 with the work failed. */
int sales_list_rows(crm_work_t *w, PGresult *res, const ProtobufCMessageDescriptor *d,
                    void *items_p, size_t *n_items, char **token);

/* A set-based run (crm_command_batch_fn): the commands of the run that
 * passed their checks, each with its record (the work's data once the
 * run's statement answered). Lives in the memory of the run's first work,
 * which lasts as long as the run's statement. */
typedef struct {
    crm_work_t **works;
    void **recs;
    size_t n;
} sales_run_t;

/* An empty run with room for n commands, or NULL with every work of
 * works[0..n) failed (out of memory). */
sales_run_t *sales_run_new(crm_work_t *const *works, size_t n);
/* Appends w with its record. */
void sales_run_add(sales_run_t *run, crm_work_t *w, void *rec);
/* The run's statement answered on its first work (`lead`, whose data is
 * the run): gives each work its record back and returns the run, or NULL
 * with every work of it failed unless row i of `res` is command i's, its
 * ordinal i + 1 (from 1) in column 0. */
sales_run_t *sales_run_answered(crm_work_t *lead, const PGresult *res);

#endif
