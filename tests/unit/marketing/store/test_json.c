/* Unit tests for services/marketing/store/json.c: the JSON array
 * parameters (channels, ids, tags) that the store's statements unpack with
 * jsonb_array_elements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "store/store_int.h"

/* The compact text of a, which is freed. */
static char *s_dump(json_t *a)
{
    assert_non_null(a);
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    assert_non_null(text);
    return text;
}

static void test_ints(void **state)
{
    const int v[] = {1, 3, -2};
    char *text = s_dump(mkt_store_ints(v, 3));
    assert_string_equal(text, "[1,3,-2]");
    free(text);
    /* Only the first n. */
    text = s_dump(mkt_store_ints(v, 1));
    assert_string_equal(text, "[1]");
    free(text);
    text = s_dump(mkt_store_ints(NULL, 0));
    assert_string_equal(text, "[]");
    free(text);
}

static void test_strings(void **state)
{
    char *v[] = {"a1", "tag \"x\"", ""};
    char *text = s_dump(mkt_store_strings(v, 3));
    /* Quotes are escaped by jansson, never by hand. */
    assert_string_equal(text, "[\"a1\",\"tag \\\"x\\\"\",\"\"]");
    free(text);
    text = s_dump(mkt_store_strings(NULL, 0));
    assert_string_equal(text, "[]");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
