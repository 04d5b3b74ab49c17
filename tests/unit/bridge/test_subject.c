/* Unit tests for the subject rule of services/bridge-nats/bridge.c: the
 * subject is the event type, which must start with crm.<source>. and be a
 * valid NATS subject. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "bridge.h"

static void test_subject_is_the_type(void **state)
{
    char out[64];
    assert_int_equal(bridge_subject("crm.sales.deal.won.v1", "sales", out, sizeof out), 0);
    assert_string_equal(out, "crm.sales.deal.won.v1");
    assert_int_equal(bridge_subject("crm.analytics.x", "analytics", out, sizeof out), 0);
    assert_string_equal(out, "crm.analytics.x");
}

static void test_subject_needs_its_source(void **state)
{
    char out[64];
    assert_int_equal(bridge_subject("crm.sales.deal.won", "support", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("crm.salesx.deal", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("crm.sales", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("other.sales.x", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject(NULL, "sales", out, sizeof out), -EINVAL);
}

static void test_subject_must_be_valid_nats(void **state)
{
    char out[64];
    assert_int_equal(bridge_subject("crm.sales.", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("crm.sales..x", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("crm.sales.deal won", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("crm.sales.*", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("crm.sales.x.>", "sales", out, sizeof out), -EINVAL);
    assert_int_equal(bridge_subject("crm.sales.x\t", "sales", out, sizeof out), -EINVAL);
    /* Wildcard characters are refused inside a token too. */
    assert_int_equal(bridge_subject("crm.sales.a*b", "sales", out, sizeof out), -EINVAL);
}

static void test_subject_too_long(void **state)
{
    char out[16];
    assert_int_equal(bridge_subject("crm.sales.deal.won.v1", "sales", out, sizeof out), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subject_is_the_type),
        cmocka_unit_test(test_subject_needs_its_source),
        cmocka_unit_test(test_subject_must_be_valid_nats),
        cmocka_unit_test(test_subject_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
