/* Unit tests for common/src/input.c: the JSON reader with a caller's
 * allocator (a service's work arena) and in the lenient mode that reads
 * the services' records. The strict mapping and its round trip with the
 * renderer are tested in test_pbjson.c. Run under ASan to check that the
 * error paths give back everything they took. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <crm/input.h>

#include "pbjson_test.pb-c.h"

#define D (&crmtest__all_types__descriptor)

/* A counting allocator: what a read took and gave back. */
typedef struct {
    int taken, given;
} s_count_t;

static void *s_count_alloc(void *data, size_t size)
{
    ((s_count_t *)data)->taken++;
    return malloc(size);
}

static void s_count_free(void *data, void *p)
{
    if (p)
        ((s_count_t *)data)->given++;
    free(p);
}

static Crmtest__AllTypes *s_read(const char *text, unsigned flags, ProtobufCAllocator *a, char *err,
                                 size_t errlen)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    ProtobufCMessage *m = crm_input_message(D, j, flags, a, err, errlen);
    json_decref(j);
    return (Crmtest__AllTypes *)m;
}

static void test_allocator_used_and_given_back(void **state)
{
    s_count_t c = {0, 0};
    ProtobufCAllocator a = {s_count_alloc, s_count_free, &c};
    char err[160];
    Crmtest__AllTypes *m = s_read("{\"f_string\":\"ada\",\"r_string\":[\"a\",\"b\"],"
                                  "\"inner\":{\"name\":\"x\",\"count\":2},\"f_bytes\":\"AAEC\"}",
                                  0, &a, err, sizeof err);
    assert_non_null(m);
    assert_string_equal(m->f_string, "ada");
    assert_int_equal(m->n_r_string, 2);
    assert_int_equal(m->inner->count, 2);
    assert_int_equal(m->f_bytes.len, 3);
    assert_true(c.taken >= 6);
    protobuf_c_message_free_unpacked(&m->base, &a);
    assert_int_equal(c.given, c.taken);
    /* A failure half-way gives back what it took. */
    c.taken = c.given = 0;
    m = s_read("{\"f_string\":\"ada\",\"r_string\":[\"a\",7]}", 0, &a, err, sizeof err);
    assert_null(m);
    assert_non_null(strstr(err, "r_string[1]"));
    assert_int_equal(c.given, c.taken);
}

static void test_strict_refuses(void **state)
{
    char err[160];
    const char *bad[] = {"{\"nope\":1}",
                         "{\"f_string\":7}",
                         "{\"f_int32\":1.5}",
                         "{\"f_bool\":1}",
                         "{\"r_int32\":3}",
                         "{\"inner\":[]}",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        assert_null(s_read(bad[i], 0, NULL, err, sizeof err));
        assert_true(err[0] != 0);
    }
}

/* What the services' records have always been read with. */
static void test_lenient_records(void **state)
{
    char err[160];
    Crmtest__AllTypes *m =
        s_read("{\"nope\":1,\"f_string\":7,\"f_int32\":\"42\",\"f_int64\":1763830415123456.0,"
               "\"f_uint32\":true,\"f_bool\":1,\"r_int32\":3,\"f_color\":\"COLOR_GREEN\","
               "\"f_sint32\":\"x\",\"f_double\":\"y\",\"r_string\":[\"a\"],\"c_int\":5}",
               CRM_INPUT_LENIENT, NULL, err, sizeof err);
    assert_non_null(m);
    assert_string_equal(m->f_string, "7");
    assert_int_equal(m->f_int32, 42);
    assert_int_equal(m->f_int64, 1763830415123456LL);
    assert_int_equal(m->f_uint32, 1);
    assert_true(m->f_bool);
    assert_int_equal(m->n_r_int32, 0);
    assert_int_equal(m->f_color, CRMTEST__COLOR__COLOR_GREEN);
    assert_int_equal(m->f_sint32, 0);
    assert_int_equal(m->n_r_string, 1);
    assert_int_equal(m->choice_case, CRMTEST__ALL_TYPES__CHOICE_C_INT);
    assert_int_equal(m->c_int, 5);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    /* A nested record that is not an object is still unreadable. */
    assert_null(s_read("{\"inner\":\"x\"}", CRM_INPUT_LENIENT, NULL, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocator_used_and_given_back),
        cmocka_unit_test(test_strict_refuses),
        cmocka_unit_test(test_lenient_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
