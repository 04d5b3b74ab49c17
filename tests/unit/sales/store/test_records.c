/* Unit tests for services/sales/store/records.h: every key of the jsonb
 * expressions that turn rows into records names a field of the crm.v1
 * message it becomes (crm_work_record reads them by name, so a misspelt
 * key would silently drop the field), and no key is given twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "store/records.h"

/* Calls fn(key, depth, arg) for each 'key' that starts an argument pair
 * of a jsonb_build_object in `expr`: a quoted lower-case name followed by
 * a comma. depth counts the parentheses around it (1: the record's own
 * object; more: an object nested in it). Returns how many there were. */
static int s_keys(const char *expr, void (*fn)(const char *key, int depth, void *arg), void *arg)
{
    int n = 0, depth = 0;
    for (const char *p = expr; *p; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if (*p != '\'')
            continue;
        const char *e = strchr(p + 1, '\'');
        assert_non_null(e); /* quotes come in pairs */
        size_t len = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
        if (len > 0 && p + 1 + len == e && e[1] == ',') {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)len, p + 1);
            fn(key, depth, arg);
            n++;
        }
        p = e;
    }
    return n;
}

/* A key is a field of d or of one of d's message fields (the nested
 * objects: a pipeline's stages, an order's items). */
static int s_is_field(const ProtobufCMessageDescriptor *d, const char *key)
{
    if (protobuf_c_message_descriptor_get_field_by_name(d, key))
        return 1;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE &&
            protobuf_c_message_descriptor_get_field_by_name(d->fields[i].descriptor, key))
            return 1;
    return 0;
}

typedef struct {
    const ProtobufCMessageDescriptor *d;
    char seen[64][64];
    int n_seen;
} s_check_t;

static void s_check_key(const char *key, int depth, void *arg)
{
    s_check_t *c = arg;
    if (!s_is_field(c->d, key))
        fail_msg("'%s' is not a field of %s", key, c->d->name);
    /* Nested objects repeat their own keys; the record's own must not. */
    if (depth == 1) {
        if (!protobuf_c_message_descriptor_get_field_by_name(c->d, key))
            fail_msg("'%s' is not a field of %s", key, c->d->name);
        for (int i = 0; i < c->n_seen; i++)
            if (!strcmp(c->seen[i], key))
                fail_msg("'%s' is given twice for %s", key, c->d->name);
        assert_true(c->n_seen < 64);
        snprintf(c->seen[c->n_seen++], sizeof c->seen[0], "%s", key);
    }
}

static void s_check(const char *expr, const ProtobufCMessageDescriptor *d, int min_keys)
{
    s_check_t c = {.d = d};
    assert_true(s_keys(expr, s_check_key, &c) >= min_keys);
}

static void test_person(void **state)
{
    (void)state;
    s_check(SALES_PERSON_J, &crm__v1__person__descriptor, 16);
}

static void test_org(void **state)
{
    (void)state;
    s_check(SALES_ORG_J, &crm__v1__organization__descriptor, 8);
}

static void test_lead(void **state)
{
    (void)state;
    s_check(SALES_LEAD_J, &crm__v1__lead__descriptor, 17);
}

static void test_pipeline(void **state)
{
    (void)state;
    s_check(SALES_PIPELINE_J, &crm__v1__pipeline__descriptor, 6);
}

static void test_deal(void **state)
{
    (void)state;
    s_check(SALES_DEAL_J, &crm__v1__deal__descriptor, 18);
}

static void test_order(void **state)
{
    (void)state;
    s_check(SALES_ORDER_J(SALES_ORDER_ITEMS_J), &crm__v1__order__descriptor, 12);
}

static void test_activity(void **state)
{
    (void)state;
    s_check(SALES_ACTIVITY_J, &crm__v1__activity__descriptor, 15);
}

/* The scanner itself: a key is a quoted name followed by a comma, not
 * any quoted text. */
static void s_count(const char *key, int depth, void *arg)
{
    (void)key;
    if (depth == 1)
        (*(int *)arg)++;
}

static void test_scanner(void **state)
{
    (void)state;
    int n = 0;
    assert_int_equal(
        s_keys("jsonb_build_object('a', x, 'b_c', y) || '[]' || 'X', 'no'", s_count, &n), 2);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner),  cmocka_unit_test(test_person),
        cmocka_unit_test(test_org),      cmocka_unit_test(test_lead),
        cmocka_unit_test(test_pipeline), cmocka_unit_test(test_deal),
        cmocka_unit_test(test_order),    cmocka_unit_test(test_activity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
