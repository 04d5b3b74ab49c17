/* Unit tests for services/sales/handlers/common.c, the prelude the handler
 * files share: the request readers (sales_in_*), how they fail the work,
 * and the paging of list commands. The work is a stand-in defined here
 * (crm_work_t is opaque to handlers), so nothing runs but common.c and the
 * rules; an allocation can be made to fail on purpose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"

#define INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define INTERNAL CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL

/* ---- the stand-in work ---------------------------------------------------- */

struct crm_work {
    void *blocks[256];
    int n_blocks;
    int fail_alloc_at; /* the allocation (1-based) that fails; 0 = none */
    int n_allocs;
    void *data;
    int failed;
    int nomem;
    int code;
    char field[128], message[256];
};

static sales_t s_sales_ctx;

void *crm_work_alloc(crm_work_t *w, size_t size)
{
    if (++w->n_allocs == w->fail_alloc_at || w->n_blocks == 256)
        return NULL;
    return w->blocks[w->n_blocks++] = calloc(1, size ? size : 1);
}

char *crm_work_strdup(crm_work_t *w, const char *s)
{
    char *c = crm_work_alloc(w, strlen(s) + 1);
    if (c)
        strcpy(c, s);
    return c;
}

void crm_work_fail(crm_work_t *w, Crm__V1__StatusCode code, const char *field, const char *message,
                   const char *detail, const char *hint)
{
    (void)detail;
    (void)hint;
    w->failed++;
    w->code = code;
    snprintf(w->field, sizeof w->field, "%s", field ? field : "");
    snprintf(w->message, sizeof w->message, "%s", message ? message : "");
}

void crm_work_fail_nomem(crm_work_t *w)
{
    w->nomem = 1;
    crm_work_fail(w, INTERNAL, NULL, "out of memory", NULL, NULL);
}

void crm_work_set_data(crm_work_t *w, void *data)
{
    w->data = data;
}

void *crm_work_data(crm_work_t *w)
{
    return w->data;
}

crm_service_t *crm_work_service(crm_work_t *w)
{
    (void)w;
    return NULL;
}

void *crm_service_user(const crm_service_t *svc)
{
    (void)svc;
    return &s_sales_ctx;
}

/* One (empty) message per row, as the real one returns for readable rows. */
void **crm_work_records(crm_work_t *w, const ProtobufCMessageDescriptor *d, const PGresult *res,
                        int col, int n)
{
    (void)d;
    (void)res;
    (void)col;
    return crm_work_alloc(w, (size_t)(n ? n : 1) * sizeof(void *));
}

static int s_setup(void **state)
{
    *state = calloc(1, sizeof(crm_work_t));
    return *state ? 0 : -1;
}

static int s_teardown(void **state)
{
    crm_work_t *w = *state;
    for (int i = 0; i < w->n_blocks; i++)
        free(w->blocks[i]);
    free(w);
    return 0;
}

/* ---- readers ---------------------------------------------------------------- */

static void test_ctx(void **state)
{
    assert_ptr_equal(sales_ctx(*state), &s_sales_ctx);
}

static void test_text_trimmed(void **state)
{
    sales_in_t in = {.w = *state};
    char *out = NULL;
    assert_int_equal(sales_in_text(&in, "  Ada Lovelace \t", SALES_NAME_MAX, "person.name", &out),
                     0);
    assert_string_equal(out, "Ada Lovelace");
    assert_int_equal(sales_in_text(&in, "", SALES_NAME_MAX, "person.title", &out), 0);
    assert_string_equal(out, "");
    assert_int_equal(sales_in_done(&in, 0), 0);
    assert_int_equal(((crm_work_t *)*state)->failed, 0);
}

static void test_required(void **state)
{
    crm_work_t *w = *state;
    sales_in_t in = {.w = w};
    char *out = NULL;
    int rc = sales_in_required(&in, "   ", SALES_NAME_MAX, "organization.name", &out);
    assert_int_equal(rc, -1);
    assert_ptr_equal(out, NULL); /* nothing is written on a violation */
    /* The violation fails the work once, with the rule's error. */
    assert_int_equal(sales_in_done(&in, rc), -1);
    assert_int_equal(w->failed, 1);
    assert_int_equal(w->code, INVALID);
    assert_string_equal(w->field, "organization.name");
}

static void test_id(void **state)
{
    crm_work_t *w = *state;
    sales_in_t in = {.w = w};
    char *out = NULL;
    assert_int_equal(sales_in_id(&in, " 6f1c0a52-3b7d-4f7e-9a43-0d6a1a2b3c4d ", 1, "id", &out), 0);
    assert_string_equal(out, "6f1c0a52-3b7d-4f7e-9a43-0d6a1a2b3c4d");
    assert_int_equal(sales_in_id(&in, "", 0, "deal.person_id", &out), 0);
    assert_string_equal(out, "");
    assert_int_equal(sales_in_id(&in, "not-a-uuid", 0, "deal.person_id", &out), -1);
    assert_int_equal(sales_in_done(&in, -1), -1);
    assert_int_equal(w->code, INVALID);
    assert_string_equal(w->field, "deal.person_id");
}

static void test_tags(void **state)
{
    crm_work_t *w = *state;
    sales_in_t in = {.w = w};
    char *src[] = {" vip ", "VIP", "partner", "Vip"};
    char **out = NULL;
    size_t n = 99;
    /* Repeats are dropped case-insensitively; the first spelling stays. */
    assert_int_equal(sales_in_tags(&in, src, 4, "organization", &out, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0], "vip");
    assert_string_equal(out[1], "partner");
    assert_int_equal(sales_in_tags(&in, src, 0, "organization", &out, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sales_in_done(&in, 0), 0);
}

static void test_tags_too_many(void **state)
{
    crm_work_t *w = *state;
    sales_in_t in = {.w = w};
    char *src[SALES_LIST_MAX + 1];
    char **out = NULL;
    size_t n = 0;
    for (int i = 0; i <= SALES_LIST_MAX; i++)
        src[i] = (char *)"t";
    assert_int_equal(sales_in_tags(&in, src, SALES_LIST_MAX + 1, "person", &out, &n), -1);
    assert_int_equal(sales_in_done(&in, -1), -1);
    assert_string_equal(w->field, "person.tags");
    assert_string_equal(w->message, "too many tags");
}

/* Out of memory is remembered: the readers carry on with "" and the work
 * fails once, as INTERNAL, at the end. */
static void test_out_of_memory(void **state)
{
    crm_work_t *w = *state;
    sales_in_t in = {.w = w};
    char *a = NULL, *b = NULL;
    w->fail_alloc_at = 1;
    assert_int_equal(sales_in_text(&in, "first", SALES_NAME_MAX, "a", &a), 0);
    assert_string_equal(a, "");
    assert_int_equal(sales_in_text(&in, "second", SALES_NAME_MAX, "b", &b), 0);
    assert_string_equal(b, "second");
    assert_non_null(sales_in_array(&in, 0, 8)); /* an empty array is still a block */
    assert_int_equal(sales_in_done(&in, 0), -1);
    assert_int_equal(w->failed, 1);
    assert_int_equal(w->nomem, 1);
}

/* ---- paging ----------------------------------------------------------------- */

static void test_list_start(void **state)
{
    crm_work_t *w = *state;
    sales_list_t *l = sales_list_start(w, 0, "");
    assert_non_null(l);
    assert_ptr_equal(w->data, l);
    assert_int_equal(l->page_size, SALES_PAGE_DEFAULT);
    assert_int_equal(l->page.limit, SALES_PAGE_DEFAULT + 1);
    assert_int_equal(l->page.after_us, 0);
    assert_string_equal(l->page.after_id, "");

    char tok[SALES_TOKEN_LEN];
    sales_page_token_format(1700000000000000LL, "6f1c0a52-3b7d-4f7e-9a43-0d6a1a2b3c4d", tok,
                            sizeof tok);
    l = sales_list_start(w, 2, tok);
    assert_non_null(l);
    assert_int_equal(l->page.limit, 3);
    assert_int_equal(l->page.after_us, 1700000000000000LL);
    assert_string_equal(l->page.after_id, "6f1c0a52-3b7d-4f7e-9a43-0d6a1a2b3c4d");
    assert_int_equal(w->failed, 0);
}

static void test_list_start_invalid(void **state)
{
    crm_work_t *w = *state;
    assert_null(sales_list_start(w, SALES_PAGE_MAX + 1, ""));
    assert_int_equal(w->code, INVALID);
    assert_string_equal(w->field, "page_size");
    assert_null(sales_list_start(w, 10, "garbage"));
    assert_int_equal(w->failed, 2);
    assert_string_equal(w->field, "page_token");
}

/* A result of `rows` rows (json, created_us, id). */
static PGresult *s_rows(int rows)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att[3];
    memset(att, 0, sizeof att);
    att[0].name = (char *)"json";
    att[1].name = (char *)"created_us";
    att[2].name = (char *)"id";
    assert_true(PQsetResultAttrs(res, 3, att));
    for (int i = 0; i < rows; i++) {
        char us[32], id[64];
        snprintf(us, sizeof us, "%d", 1000 + i);
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
        assert_true(PQsetvalue(res, i, 0, (char *)"{}", 2));
        assert_true(PQsetvalue(res, i, 1, us, (int)strlen(us)));
        assert_true(PQsetvalue(res, i, 2, id, (int)strlen(id)));
    }
    return res;
}

static void test_list_rows(void **state)
{
    crm_work_t *w = *state;
    void **items = NULL;
    size_t n = 0;
    char *token = NULL, expect[SALES_TOKEN_LEN];
    assert_non_null(sales_list_start(w, 2, ""));

    /* page_size + 1 rows: a full page, and the token points after its last. */
    PGresult *res = s_rows(3);
    assert_int_equal(sales_list_rows(w, res, &crm__v1__person__descriptor, &items, &n, &token), 0);
    assert_int_equal(n, 2);
    assert_non_null(items);
    sales_page_token_format(1001, "00000000-0000-4000-8000-000000000001", expect, sizeof expect);
    assert_string_equal(token, expect);
    PQclear(res);

    /* At most page_size rows: the last page, with no token. */
    res = s_rows(2);
    assert_int_equal(sales_list_rows(w, res, &crm__v1__person__descriptor, &items, &n, &token), 0);
    assert_int_equal(n, 2);
    assert_string_equal(token, "");
    PQclear(res);
    assert_int_equal(w->failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ctx, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_text_trimmed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_required, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_id, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tags, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tags_too_many, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_list_start, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_list_start_invalid, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_list_rows, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
