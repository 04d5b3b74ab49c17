/* Unit tests for services/marketing/handlers/shared.c: reading a channel
 * array as PostgreSQL prints an int[] ("{1,3}"), which the send scan, the
 * message and the response handlers all depend on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handlers/handlers.h"

static void test_channels_parse(void **state)
{
    int ch[4] = {0};
    assert_int_equal(mkt_channels_parse("{1,3}", ch, 4), 2);
    assert_int_equal(ch[0], 1);
    assert_int_equal(ch[1], 3);
    /* Numbers of more than one digit, and a single element. */
    assert_int_equal(mkt_channels_parse("{12,4}", ch, 4), 2);
    assert_int_equal(ch[0], 12);
    assert_int_equal(ch[1], 4);
    assert_int_equal(mkt_channels_parse("{2}", ch, 4), 1);
    assert_int_equal(ch[0], 2);
}

static void test_channels_parse_empty(void **state)
{
    int ch[2] = {7, 7};
    /* An empty array, an empty text and NULL (a NULL column) read as none,
     * and leave out untouched. */
    assert_int_equal(mkt_channels_parse("{}", ch, 2), 0);
    assert_int_equal(mkt_channels_parse("", ch, 2), 0);
    assert_int_equal(mkt_channels_parse(NULL, ch, 2), 0);
    assert_int_equal(ch[0], 7);
    assert_int_equal(ch[1], 7);
}

static void test_channels_parse_max(void **state)
{
    int ch[3] = {0, 0, -1};
    /* At most max are read: the third is not written. */
    assert_int_equal(mkt_channels_parse("{1,2,3}", ch, 2), 2);
    assert_int_equal(ch[0], 1);
    assert_int_equal(ch[1], 2);
    assert_int_equal(ch[2], -1);
    assert_int_equal(mkt_channels_parse("{1,2,3}", ch, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channels_parse),
        cmocka_unit_test(test_channels_parse_empty),
        cmocka_unit_test(test_channels_parse_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
