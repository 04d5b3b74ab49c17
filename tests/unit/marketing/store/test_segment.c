/* Unit tests for services/marketing/store/segment.c: the SQL condition of
 * every segment rule kind. The only SQL the store builds from pieces is
 * this one, formatted with parameter numbers, so each kind of the proto
 * enum is checked: it has a condition, its operands are all referenced
 * (PostgreSQL must infer every parameter's type), nothing but the
 * parameter numbers is formatted in, and it fits the buffer it is
 * formatted into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* The size of the buffer s_conditions formats a condition into. */
#define COND_MAX 512

static void s_check_kind(int kind)
{
    const char *ops = NULL;
    const char *frag = mkt_store_rule_sql(kind, &ops);
    assert_non_null(frag);
    assert_non_null(ops);
    assert_true(strcmp(ops, "v") == 0 || strcmp(ops, "a") == 0 || strcmp(ops, "va") == 0);
    /* The first operand always, the second exactly when there is one. */
    assert_non_null(strstr(frag, "$%1$d"));
    assert_true((strstr(frag, "$%2$d") != NULL) == (strlen(ops) == 2));
    /* Every directive is a parameter number. */
    for (const char *c = strchr(frag, '%'); c; c = strchr(c + 1, '%'))
        assert_true(strncmp(c, "%1$d", 4) == 0 || strncmp(c, "%2$d", 4) == 0);
    /* Fits with parameter numbers far larger than a statement uses (a
     * segment has at most 16 rules of at most two operands each). */
    char cond[COND_MAX];
    int n = snprintf(cond, sizeof cond, frag, 999, 1000);
    assert_true(n > 0 && n < COND_MAX);
}

static void test_every_kind(void **state)
{
    const ProtobufCEnumDescriptor *d = &crm__v1__segment_rule_kind__descriptor;
    unsigned checked = 0;
    for (unsigned i = 0; i < d->n_values; i++) {
        if (d->values[i].value == 0)
            continue; /* UNSPECIFIED: below */
        s_check_kind(d->values[i].value);
        checked++;
    }
    assert_true(checked >= 13);
}

static void test_unknown_kind(void **state)
{
    const char *ops;
    assert_null(mkt_store_rule_sql(0, &ops));
    assert_null(mkt_store_rule_sql(-1, &ops));
    assert_null(mkt_store_rule_sql(100000, &ops));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_unknown_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
