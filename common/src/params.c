/* params.c: statement parameters built in a work's arena. */
#include <crm/params.h>

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_push(crm_params_t *p, const char *s, int alloc_failed)
{
    assert(p->n < CRM_PARAMS_MAX); /* a statement with more is a bug in its store */
    if (alloc_failed)
        p->oom = 1;
    p->v[p->n++] = s;
}

void crm_params_add(crm_params_t *p, const char *s)
{
    s_push(p, s, 0);
}

void crm_params_str(crm_params_t *p, const char *s)
{
    s_push(p, s ? s : "", 0);
}

void crm_params_opt(crm_params_t *p, const char *s)
{
    s_push(p, s && *s ? s : NULL, 0);
}

void crm_params_i64(crm_params_t *p, int64_t v)
{
    char *s = crm_work_printf(p->w, "%" PRId64, v);
    s_push(p, s, !s);
}

void crm_params_opt_i64(crm_params_t *p, int64_t v)
{
    if (v)
        crm_params_i64(p, v);
    else
        s_push(p, NULL, 0);
}

void crm_params_bool(crm_params_t *p, int v)
{
    s_push(p, v ? "true" : "false", 0);
}

void crm_params_textv(crm_params_t *p, char *const *v, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(v[i]) + 3;
    char *s = crm_work_alloc(p->w, cap), *o = s;
    if (!s) {
        s_push(p, NULL, 1);
        return;
    }
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ',';
        *o++ = '"';
        for (const char *c = v[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = 0;
    s_push(p, s, 0);
}

void crm_params_i64v(crm_params_t *p, const int64_t *v, size_t n)
{
    char *s = crm_work_alloc(p->w, 3 + 21 * n), *o = s;
    if (!s) {
        s_push(p, NULL, 1);
        return;
    }
    *o++ = '{';
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%s%" PRId64, i ? "," : "", v[i]);
    *o++ = '}';
    *o = 0;
    s_push(p, s, 0);
}

void crm_params_reach(crm_params_t *p, crm_record_t type, crm_action_t action)
{
    size_t n;
    const char *const *v = crm_work_owners(p->w, type, action, &n);
    if (!v)
        crm_params_add(p, NULL);
    else
        crm_params_textv(p, (char *const *)v, n);
}

void crm_params_json(crm_params_t *p, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    char *s = text ? crm_work_strdup(p->w, text) : NULL;
    free(text);
    s_push(p, s, !s);
}

int crm_params_run(crm_params_t *p, const char *sql, int write, crm_work_cb cb)
{
    if (p->oom) {
        crm_work_fail_nomem(p->w);
        return -1;
    }
    return write ? crm_work_exec(p->w, sql, p->n, p->v, cb)
                 : crm_work_query(p->w, sql, p->n, p->v, cb);
}

int crm_params_run_named(crm_params_t *p, const char *name, const char *sql, int write,
                         crm_work_cb cb)
{
    if (p->oom) {
        crm_work_fail_nomem(p->w);
        return -1;
    }
    return write ? crm_work_exec_named(p->w, name, sql, p->n, p->v, cb)
                 : crm_work_query_named(p->w, name, sql, p->n, p->v, cb);
}
