/* crm/params.h: out-of-line statement parameters for a work's queries.
 *
 * Stores build a statement's parameters in order and run it through the
 * work; values are text (the server casts them: $1::uuid, $2::bigint...),
 * allocated in the work's arena. An allocation failure is remembered and
 * reported once, when the statement is run. */
#ifndef CRM_PARAMS_H
#define CRM_PARAMS_H

#include <crm/service.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CRM_PARAMS_MAX 48

typedef struct {
    crm_work_t *w;
    const char *v[CRM_PARAMS_MAX];
    int n;
    int oom;
} crm_params_t;

/* crm_params_t p = CRM_PARAMS(w); */
#define CRM_PARAMS(w_)                                                                             \
    {                                                                                              \
        .w = (w_)                                                                                  \
    }

/* Appends a text value as is; NULL is SQL NULL. More than CRM_PARAMS_MAX
 * parameters is a programmer error (asserts). */
void crm_params_add(crm_params_t *p, const char *s);
/* The text; NULL becomes "". */
void crm_params_str(crm_params_t *p, const char *s);
/* "" or NULL (not given) becomes SQL NULL. */
void crm_params_opt(crm_params_t *p, const char *s);
void crm_params_i64(crm_params_t *p, int64_t v);
/* 0 (not given) becomes SQL NULL. */
void crm_params_opt_i64(crm_params_t *p, int64_t v);
void crm_params_bool(crm_params_t *p, int v);
/* A text[] literal of n strings, quoted and escaped. */
void crm_params_textv(crm_params_t *p, char *const *v, size_t n);
/* A bigint[] (or int[]) literal of n integers. */
void crm_params_i64v(crm_params_t *p, const int64_t *v, size_t n);
/* The owners whose records the work's principal reaches for (type,
 * action) as a text[], or NULL when it reaches every record
 * (crm_work_owners): for a list's "($n::text[] IS NULL OR owner =
 * ANY($n::text[]))". */
void crm_params_reach(crm_params_t *p, crm_record_t type, crm_action_t action);
/* A JSON value as text; takes the reference to `j` (NULL = out of memory). */
void crm_params_json(crm_params_t *p, json_t *j);

/* Runs `sql` with the parameters through crm_work_exec (write) or
 * crm_work_query; on an earlier allocation failure fails the work instead.
 * Returns what those return, or -1. */
int crm_params_run(crm_params_t *p, const char *sql, int write, crm_work_cb cb);
/* The same for a hot statement of constant text, prepared once per
 * connection under `name` (crm_work_exec_named / crm_work_query_named: one
 * SQL text per name in the service). Only for statements whose one generic
 * plan is right for every value, such as a call of a PL/pgSQL function. */
int crm_params_run_named(crm_params_t *p, const char *name, const char *sql, int write,
                         crm_work_cb cb);

#endif
