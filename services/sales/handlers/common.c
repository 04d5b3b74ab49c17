/* handlers/common.c: the prelude every handler file shares: reading a
 * request into the work's arena with the rules (sales_in_*), failing the
 * work with a rule's error, and the keyset paging of the list commands. */
#include "handlers.h"

#include <crm/db.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

sales_t *sales_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

void sales_invalid(crm_work_t *w, const char *field, const char *message, const char *hint)
{
    crm_work_fail(w, SALES_INVALID, field, message, NULL, hint);
}

char *sales_in_copy(sales_in_t *in, const char *s, size_t n)
{
    char *c = crm_work_alloc(in->w, n + 1);
    if (!c) {
        in->oom = 1;
        return (char *)"";
    }
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

/* The trimmed text of s. */
char *sales_in_trimmed(sales_in_t *in, const char *s)
{
    const char *t;
    size_t n = sales_trim(s, &t);
    return sales_in_copy(in, t, n);
}

void *sales_in_array(sales_in_t *in, size_t n, size_t size)
{
    void *p = crm_work_alloc(in->w, (n ? n : 1) * size);
    if (!p)
        in->oom = 1;
    return p;
}

/* Ends validation: fails the work on a rule violation or out of memory. */
int sales_in_done(sales_in_t *in, int rc)
{
    if (in->oom) {
        crm_work_fail_nomem(in->w);
        return -1;
    }
    if (rc < 0) {
        sales_fail(in->w, &in->e);
        return -1;
    }
    return 0;
}

/* Trimmed text of at most max bytes into *out. */
int sales_in_text(sales_in_t *in, const char *s, size_t max, const char *field, char **out)
{
    if (sales_check_text(s, max, field, &in->e) < 0)
        return -1;
    *out = sales_in_trimmed(in, s);
    return 0;
}

int sales_in_required(sales_in_t *in, const char *s, size_t max, const char *field, char **out)
{
    if (sales_check_required(s, max, field, &in->e) < 0)
        return -1;
    *out = sales_in_trimmed(in, s);
    return 0;
}

int sales_in_id(sales_in_t *in, const char *s, int required, const char *field, char **out)
{
    const char *t;
    size_t n = sales_trim(s, &t);
    char *v = sales_in_copy(in, t, n);
    if (sales_check_id(v, required, field, &in->e) < 0)
        return -1;
    *out = v;
    return 0;
}

char *sales_col_text(crm_work_t *w, const PGresult *res, int col)
{
    return sales_cell_text(w, res, 0, col);
}

char *sales_cell_text(crm_work_t *w, const PGresult *res, int row, int col)
{
    const char *v = crm_db_get_opt(res, row, col);
    char *c = crm_work_strdup(w, v ? v : "");
    if (!c)
        crm_work_fail_nomem(w);
    return c;
}

int sales_in_tags(sales_in_t *in, char *const *src, size_t n, const char *prefix, char ***out,
                  size_t *n_out)
{
    char field[160];
    if (n > SALES_LIST_MAX) {
        snprintf(field, sizeof field, "%s.tags", prefix);
        return sales_err_set(&in->e, SALES_INVALID, field, "too many tags", "send at most 50",
                             "got %zu", n);
    }
    char **v = sales_in_array(in, n, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < n; i++) {
        const char *t;
        size_t len;
        snprintf(field, sizeof field, "%s.tags[%zu]", prefix, i);
        if (sales_check_tag(src[i], &t, &len, field, &in->e) < 0)
            return -1;
        size_t j = 0;
        while (j < k && !(strlen(v[j]) == len && !strncasecmp(v[j], t, len)))
            j++;
        if (j == k)
            v[k++] = sales_in_copy(in, t, len);
    }
    *out = v;
    *n_out = k;
    return 0;
}

/* Checks page_size and page_token and keeps them for sales_list_rows. */
sales_list_t *sales_list_start(crm_work_t *w, int32_t page_size, const char *token)
{
    sales_list_t *l = crm_work_alloc(w, sizeof *l);
    char *id = crm_work_alloc(w, CRM_UUID_LEN + 1);
    sales_err_t e;
    if (!l || !id) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    if (crm_page_size(page_size, &l->page_size, &e) < 0 ||
        crm_page_token_parse(token, &l->page.after_us, id, &e) < 0) {
        sales_fail(w, &e);
        return NULL;
    }
    l->page.after_id = id;
    l->page.limit = l->page_size + 1;
    crm_work_set_data(w, l);
    return l;
}

/* Rows (json, created_us, id) into messages of type d and the next page
 * token ("" on the last page). Returns 0, or -1 with the work failed. */
int sales_list_rows(crm_work_t *w, PGresult *res, const ProtobufCMessageDescriptor *d,
                    void *items_p, size_t *n_items, char **token)
{
    sales_list_t *l = crm_work_data(w);
    int rows = PQntuples(res);
    int n = rows > l->page_size ? l->page_size : rows;
    void **items = crm_work_records(w, d, res, 0, n);
    if (!items)
        return -1;
    *(void ***)items_p = items;
    *n_items = (size_t)n;
    *token = (char *)"";
    if (rows > l->page_size) {
        char tok[CRM_PAGE_TOKEN_LEN];
        crm_page_token_format(strtoll(PQgetvalue(res, n - 1, 1), NULL, 10),
                              PQgetvalue(res, n - 1, 2), tok, sizeof tok);
        if (!(*token = crm_work_strdup(w, tok))) {
            crm_work_fail_nomem(w);
            return -1;
        }
    }
    return 0;
}
