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

#include "crm/v1/rpc.pb-c.h"
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

/* A failed statement: the status by SQLSTATE, the server's text only in
 * the log detail, and never a quoted value of a data exception. */
static void test_error_mapping(void **state)
{
    static const struct {
        const char *sqlstate;
        int code;
        int retry;
    } cases[] = {
        {"23505", CRM__V1__STATUS_CODE__STATUS_CODE_ALREADY_EXISTS, 0},
        {"23503", CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION, 0},
        {"23514", CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, 0},
        {"23502", CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, 0},
        {"22P02", CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, 0},
        {"40001", CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, 1},
        {"40P01", CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, 1},
        {"57014", CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, 0},
        {"08006", CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, 0},
        {"42P01", CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, 0},
        {"XX000", CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, 0},
    };
    crm_err_t e;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(crm_db_error_from(cases[i].sqlstate,
                                           "duplicate key value violates unique constraint "
                                           "\"person_email_key\"",
                                           "INSERT INTO person (email)\n   VALUES ($1)", &e),
                         cases[i].retry);
        assert_int_equal(e.code, cases[i].code);
        assert_non_null(e.message[0] ? e.message : NULL);
        assert_null(strstr(e.message, "person"));
        assert_null(strstr(e.detail, "person"));
        assert_null(strstr(e.hint, "person"));
        assert_non_null(strstr(e.log_detail, cases[i].sqlstate));
        assert_non_null(strstr(e.log_detail, "INSERT INTO person (email) VALUES ($1)"));
    }
    crm_db_error_from("23505", "duplicate key value violates unique constraint \"k\"\nDETAIL: x",
                      "INSERT", &e);
    assert_string_equal(e.log_detail, "SQLSTATE 23505 in \"INSERT\": duplicate key value "
                                      "violates unique constraint \"k\"");
    crm_db_error_from("22P02", "invalid input syntax for type uuid: \"ada@example.com\"", "SELECT",
                      &e);
    assert_null(strstr(e.log_detail, "ada@example.com"));
    crm_db_error_from(NULL, NULL, NULL, &e);
    assert_int_equal(e.code, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE);
}

/* The owner role's connection string (CRM_PG_MIGRATE_USER): same server
 * and database, its own user, never the runtime role's password. */
static void test_conninfo_as_another_role(void **state)
{
    (void)state;
    char err[256];
    char *ci = crm_db_conninfo_as("host=/run/pg port=5433 user=crm_sales dbname=crm_sales "
                                  "password=app-secret",
                                  "crm_sales_owner", NULL, err, sizeof err);
    assert_non_null(ci);
    assert_non_null(strstr(ci, "user='crm_sales_owner'"));
    assert_non_null(strstr(ci, "dbname='crm_sales'"));
    assert_non_null(strstr(ci, "port='5433'"));
    assert_null(strstr(ci, "app-secret"));
    assert_null(strstr(ci, "password"));
    free(ci);
    ci = crm_db_conninfo_as("postgresql://crm_sales@db:5432/crm_sales", "crm_sales_owner",
                            "own'er\\pw", err, sizeof err);
    assert_non_null(ci);
    assert_non_null(strstr(ci, "user='crm_sales_owner'"));
    assert_null(strstr(ci, "user='crm_sales'"));
    assert_non_null(strstr(ci, "password='own\\'er\\\\pw'"));
    free(ci);
    /* No other role: crm_db_conninfo. */
    ci = crm_db_conninfo_as("dbname=x", "", NULL, err, sizeof err);
    assert_string_equal(ci, "dbname=x");
    free(ci);
    assert_null(crm_db_conninfo_as("host='unterminated", "r", NULL, err, sizeof err));
}

/* A set-based statement's rows, each with its element's ordinal first:
 * row i pairs with element i only when it says i + 1. */
static void test_row_is_ordinal(void **state)
{
    (void)state;
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att[2];
    memset(att, 0, sizeof att);
    att[0].name = (char *)"o_ord";
    att[1].name = (char *)"v";
    assert_true(PQsetResultAttrs(res, 2, att));
    assert_true(PQsetvalue(res, 0, 0, (char *)"1", 1));
    assert_true(PQsetvalue(res, 1, 0, (char *)"3", 1));
    assert_true(PQsetvalue(res, 2, 0, NULL, -1)); /* SQL NULL */
    assert_true(PQsetvalue(res, 3, 0, (char *)"4", 1));
    assert_int_equal(crm_db_row_is_ordinal(res, 0), 1);
    assert_int_equal(crm_db_row_is_ordinal(res, 1), 0);
    assert_int_equal(crm_db_row_is_ordinal(res, 2), 0);
    assert_int_equal(crm_db_row_is_ordinal(res, 3), 1);
    assert_int_equal(crm_db_row_is_ordinal(res, 4), 0); /* no such row */
    assert_int_equal(crm_db_row_is_ordinal(res, -1), 0);
    PQclear(res);
    res = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK); /* no columns */
    assert_int_equal(crm_db_row_is_ordinal(res, 0), 0);
    PQclear(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_copies_parameters),
        cmocka_unit_test(test_query_out_of_memory),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_conninfo_as_another_role),
        cmocka_unit_test(test_row_is_ordinal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
