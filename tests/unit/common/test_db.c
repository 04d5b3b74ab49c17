/* Unit tests for common/src/db.c: building a queued statement when memory
 * runs out. calloc and malloc are wrapped at link time (-Wl,--wrap), so
 * the n-th allocation can be made to fail; no server is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "db_int.h"

void *__real_calloc(size_t n, size_t size);
void *__real_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);

/* Allocations left before one fails; -1 = never fail. Counts calls only. */
static int s_fail_after = -1;
static int s_calls;

static int s_should_fail(void)
{
    s_calls++;
    if (s_fail_after < 0)
        return 0;
    return s_fail_after-- == 0;
}

void *__wrap_calloc(size_t n, size_t size)
{
    return s_should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_malloc(size_t size)
{
    return s_should_fail() ? NULL : __real_malloc(size);
}

static const char *const s_values[] = {"ada@example.com", NULL, "42"};

static void test_query_copies_parameters(void **state)
{
    s_fail_after = -1;
    crm_query_t *q = crm_db_query_new("SELECT $1, $2, $3", 3, s_values, NULL, NULL);
    assert_non_null(q);
    assert_string_equal(q->sql, "SELECT $1, $2, $3");
    assert_int_equal(q->nparams, 3);
    assert_string_equal(q->values[0], "ada@example.com");
    assert_null(q->values[1]);
    assert_int_equal(q->lengths[2], 2);
    crm_db_query_free(q);
}

/* Every allocation of crm_db_query_new fails in turn: each time it returns
 * NULL and frees what it had (the arrays were freed through nparams before
 * they existed: a NULL dereference). */
static void test_query_out_of_memory(void **state)
{
    s_fail_after = -1;
    s_calls = 0;
    crm_query_t *q = crm_db_query_new("SELECT $1, $2, $3", 3, s_values, NULL, NULL);
    int total = s_calls;
    crm_db_query_free(q);
    assert_true(total >= 5);
    for (int k = 0; k < total; k++) {
        s_fail_after = k;
        q = crm_db_query_new("SELECT $1, $2, $3", 3, s_values, NULL, NULL);
        s_fail_after = -1;
        /* strdup's allocation is not wrapped (inside the C library), so
         * one of the first calls may not be ours: only NULL or whole. */
        if (q) {
            assert_int_equal(q->nparams, 3);
            crm_db_query_free(q);
        }
    }
    crm_db_query_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_copies_parameters),
        cmocka_unit_test(test_query_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
