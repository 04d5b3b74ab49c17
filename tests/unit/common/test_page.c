/* Unit tests for common/src/page.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <crm/page.h>

#include "crm/v1/rpc.pb-c.h"

#define INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define ID "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10"

static void test_size(void **state)
{
    crm_err_t e;
    int n = -1;
    assert_int_equal(crm_page_size(0, &n, &e), 0);
    assert_int_equal(n, CRM_PAGE_DEFAULT);
    assert_int_equal(crm_page_size(1, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(crm_page_size(CRM_PAGE_MAX, &n, &e), 0);
    assert_int_equal(n, CRM_PAGE_MAX);
    assert_int_equal(crm_page_size(CRM_PAGE_MAX + 1, &n, &e), -1);
    assert_int_equal(e.code, INVALID);
    assert_string_equal(e.field, "page_size");
    assert_int_equal(crm_page_size(-1, &n, &e), -1);
}

static void test_token_round_trip(void **state)
{
    crm_err_t e;
    char tok[CRM_PAGE_TOKEN_LEN], id[CRM_UUID_LEN + 1];
    int64_t us = -1;
    crm_page_token_format(1763830415123456, ID, tok, sizeof tok);
    assert_string_equal(tok, "1763830415123456:" ID);
    assert_int_equal(crm_page_token_parse(tok, &us, id, &e), 0);
    assert_int_equal(us, 1763830415123456);
    assert_string_equal(id, ID);
    crm_page_token_format(0, ID, tok, sizeof tok);
    assert_int_equal(crm_page_token_parse(tok, &us, id, &e), 0);
    assert_int_equal(us, 0);
    /* The first page. */
    assert_int_equal(crm_page_token_parse("", &us, id, &e), 0);
    assert_int_equal(us, 0);
    assert_string_equal(id, "");
    assert_int_equal(crm_page_token_parse(NULL, &us, id, &e), 0);
}

static void test_token_malformed(void **state)
{
    crm_err_t e;
    char id[CRM_UUID_LEN + 1];
    int64_t us;
    const char *bad[] = {"x",
                         "12",
                         "12:",
                         "12:nope",
                         ":" ID,
                         "-5:" ID,
                         "+5:" ID,
                         " 5:" ID,
                         "5 :" ID,
                         "5:" ID "x",
                         "9999999999999999999:" ID,
                         NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(crm_page_token_parse(bad[i], &us, id, &e), -1);
        assert_int_equal(e.code, INVALID);
        assert_string_equal(e.field, "page_token");
        assert_string_equal(e.message, "page_token is malformed");
        assert_int_equal(us, 0);
        assert_string_equal(id, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_token_round_trip),
        cmocka_unit_test(test_token_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
