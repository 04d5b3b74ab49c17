/* test_pbjson.c: unit tests for crm/pbjson.h and the strict reader of
 * crm/input.h, which is its inverse. Messages come from the
 * test-only schema pbjson_test.proto (package crmtest, proto3); proto2
 * presence (has_ fields, required fields, non-empty defaults) is covered by a
 * small hand-written descriptor in test_pbjson_proto2.c, since protoc-c 1.4
 * cannot generate proto3 `optional` and the test schema is proto3. Run
 * under ASan to check that the error paths free everything. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/input.h"
#include "crm/pbjson.h"
#include "pbjson_test.pb-c.h"

#include "pbjson_helpers.h"

/* ---- message -> JSON ------------------------------------------------- */

static void test_defaults_omitted(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    Crmtest__Inner empty = CRMTEST__INNER__INIT;

    pbt_assert_json(&m.base, "{}");

    /* Explicit zeros and empties are still defaults. */
    m.f_string = "";
    m.f_float = -0.0f;
    m.f_color = CRMTEST__COLOR__COLOR_UNSPECIFIED;
    pbt_assert_json(&m.base, "{}");

    /* A set but empty submessage is present. */
    m.inner = &empty;
    pbt_assert_json(&m.base, "{\"inner\":{}}");
}

static void test_oneof_default_member(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    Crmtest__Inner empty = CRMTEST__INNER__INIT;
    char none[] = "";

    m.choice_case = CRMTEST__ALL_TYPES__CHOICE_C_INT;
    m.c_int = 0;
    pbt_assert_json(&m.base, "{\"c_int\":0}");
    pbt_roundtrip(&m.base);

    m.choice_case = CRMTEST__ALL_TYPES__CHOICE_C_TEXT;
    m.c_text = none;
    pbt_assert_json(&m.base, "{\"c_text\":\"\"}");
    pbt_roundtrip(&m.base);

    m.choice_case = CRMTEST__ALL_TYPES__CHOICE_C_INNER;
    m.c_inner = &empty;
    pbt_assert_json(&m.base, "{\"c_inner\":{}}");
    pbt_roundtrip(&m.base);
}

static void test_json_output(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    Crmtest__Inner inner = CRMTEST__INNER__INIT;
    Crmtest__Inner ri0 = CRMTEST__INNER__INIT, ri1 = CRMTEST__INNER__INIT;
    Crmtest__Inner *rinner[] = {&ri0, &ri1};
    int32_t ri32[] = {1, -2};
    char *rstr[] = {"a", "b"};
    Crmtest__Color rcolor[] = {CRMTEST__COLOR__COLOR_GREEN, (Crmtest__Color)99};
    protobuf_c_boolean rbool[] = {1, 0};
    uint8_t bin[] = {0x00, 0xff, 0x10};

    m.f_int32 = -5;
    m.f_sint32 = INT32_MIN;
    m.f_uint32 = UINT32_MAX;
    m.f_int64 = INT64_MIN;
    m.f_uint64 = UINT64_MAX;
    m.f_sint64 = INT64_MAX;
    m.f_sfixed64 = -1;
    m.f_fixed64 = 1;
    m.f_float = 1.5f;
    m.f_double = -0.25;
    m.f_bool = 1;
    m.f_string = "hi \"q\"";
    m.f_bytes.data = bin;
    m.f_bytes.len = sizeof(bin);
    m.f_color = CRMTEST__COLOR__COLOR_RED;
    inner.name = "n";
    inner.count = 3;
    m.inner = &inner;
    ri0.count = 1;
    m.n_r_inner = 2;
    m.r_inner = rinner;
    m.n_r_int32 = 2;
    m.r_int32 = ri32;
    m.n_r_string = 2;
    m.r_string = rstr;
    m.n_r_color = 2;
    m.r_color = rcolor;
    m.n_r_bool = 2;
    m.r_bool = rbool;
    m.choice_case = CRMTEST__ALL_TYPES__CHOICE_C_INT;
    m.c_int = 0;

    pbt_assert_json(
        &m.base, "{\"c_int\":0,\"f_bool\":true,\"f_bytes\":\"AP8Q\",\"f_color\":\"COLOR_RED\","
                 "\"f_double\":-0.25,\"f_fixed64\":\"1\",\"f_float\":1.5,\"f_int32\":-5,"
                 "\"f_int64\":\"-9223372036854775808\",\"f_sfixed64\":\"-1\","
                 "\"f_sint32\":-2147483648,\"f_sint64\":\"9223372036854775807\","
                 "\"f_string\":\"hi \\\"q\\\"\",\"f_uint32\":4294967295,"
                 "\"f_uint64\":\"18446744073709551615\",\"inner\":{\"count\":3,\"name\":\"n\"},"
                 "\"r_bool\":[true,false],\"r_color\":[\"COLOR_GREEN\",99],"
                 "\"r_inner\":[{\"count\":1},{}],\"r_int32\":[1,-2],\"r_string\":[\"a\",\"b\"]}");
    pbt_roundtrip(&m.base);
}

static void test_base64_vectors(void **state)
{
    /* RFC 4648 section 10. */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    size_t i;

    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
        ProtobufCBinaryData bd = {strlen(plain[i]), (uint8_t *)plain[i]};
        char want[64], in[64];
        Crmtest__AllTypes *back;

        m.n_r_bytes = 1;
        m.r_bytes = &bd;
        snprintf(want, sizeof(want), "{\"r_bytes\":[\"%s\"]}", coded[i]);
        pbt_assert_json(&m.base, want);
        pbt_roundtrip(&m.base);

        snprintf(in, sizeof(in), "{\"f_bytes\":\"%s\"}", coded[i]);
        back = (Crmtest__AllTypes *)pbt_parse(&crmtest__all_types__descriptor, in);
        assert_int_equal(back->f_bytes.len, strlen(plain[i]));
        if (back->f_bytes.len > 0)
            assert_memory_equal(back->f_bytes.data, plain[i], back->f_bytes.len);
        protobuf_c_message_free_unpacked(&back->base, NULL);
    }
}

static void test_base64_lenient_input(void **state)
{
    static const uint8_t want[] = {0xfb, 0xff, 0x66};
    static const char *const forms[] = {"+/9m", "-_9m"};
    static const char *const forms2[] = {"Zm9vYg", "Zm9vYmE", "Zm9vYg=="};
    Crmtest__AllTypes *m;
    size_t i;

    for (i = 0; i < 2; i++) {
        char in[64];
        snprintf(in, sizeof(in), "{\"f_bytes\":\"%s\"}", forms[i]);
        m = (Crmtest__AllTypes *)pbt_parse(&crmtest__all_types__descriptor, in);
        assert_int_equal(m->f_bytes.len, 3);
        assert_memory_equal(m->f_bytes.data, want, 3);
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    for (i = 0; i < 3; i++) {
        char in[64];
        snprintf(in, sizeof(in), "{\"f_bytes\":\"%s\"}", forms2[i]);
        m = (Crmtest__AllTypes *)pbt_parse(&crmtest__all_types__descriptor, in);
        assert_true(m->f_bytes.len == 4 || m->f_bytes.len == 5);
        assert_memory_equal(m->f_bytes.data, "fooba", m->f_bytes.len);
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
}

static void test_enum_values(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    Crmtest__AllTypes *back;

    m.f_color = (Crmtest__Color)42;
    pbt_assert_json(&m.base, "{\"f_color\":42}");
    pbt_roundtrip(&m.base);
    m.f_color = (Crmtest__Color)-3;
    pbt_assert_json(&m.base, "{\"f_color\":-3}");
    pbt_roundtrip(&m.base);

    back = (Crmtest__AllTypes *)pbt_parse(
        &crmtest__all_types__descriptor,
        "{\"f_color\":\"COLOR_GREEN\",\"r_color\":[1,\"COLOR_RED\",7]}");
    assert_int_equal(back->f_color, CRMTEST__COLOR__COLOR_GREEN);
    assert_int_equal(back->n_r_color, 3);
    assert_int_equal(back->r_color[0], CRMTEST__COLOR__COLOR_RED);
    assert_int_equal(back->r_color[1], CRMTEST__COLOR__COLOR_RED);
    assert_int_equal(back->r_color[2], 7);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void test_float_specials(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    float rf[] = {INFINITY, -INFINITY, 0.1f};
    Crmtest__AllTypes *back;

    m.f_double = NAN;
    m.n_r_float = 3;
    m.r_float = rf;
    pbt_assert_json(
        &m.base,
        "{\"f_double\":\"NaN\",\"r_float\":[\"Infinity\",\"-Infinity\",0.10000000149011612]}");
    pbt_roundtrip(&m.base);

    back = (Crmtest__AllTypes *)pbt_parse(&crmtest__all_types__descriptor,
                                          "{\"f_float\":3,\"f_double\":\"-Infinity\"}");
    assert_true(back->f_float == 3.0f);
    assert_true(isinf(back->f_double) && back->f_double < 0);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void test_invalid_utf8_string(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    char bad[] = "a\xff"
                 "b\xc0\x80"
                 "c\xe2\x82";

    m.f_string = bad;
    pbt_assert_json(&m.base, "{\"f_string\":\"a\xef\xbf\xbd"
                             "b\xef\xbf\xbd\xef\xbf\xbd"
                             "c\xef\xbf\xbd\xef\xbf\xbd\"}");
}

static void s_fill_all(Crmtest__AllTypes *m, Crmtest__Inner *inner)
{
    m->f_int32 = INT32_MIN;
    m->f_sint32 = INT32_MAX;
    m->f_sfixed32 = INT32_MIN;
    m->f_uint32 = UINT32_MAX;
    m->f_fixed32 = UINT32_MAX;
    m->f_int64 = INT64_MIN;
    m->f_sint64 = INT64_MIN;
    m->f_sfixed64 = INT64_MAX;
    m->f_uint64 = UINT64_MAX;
    m->f_fixed64 = UINT64_MAX;
    m->f_float = -3.4028234663852886e+38f;
    m->f_double = 2.2250738585072014e-308;
    m->f_bool = 1;
    m->f_string = "h\xc3\xa9llo, \"w\xc3\xb6rld\"\n\t\\";
    m->f_color = CRMTEST__COLOR__COLOR_GREEN;
    inner->name = "inner";
    inner->count = -1;
    m->inner = inner;
}

static void test_roundtrip_everything(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    Crmtest__AllTypes child = CRMTEST__ALL_TYPES__INIT;
    Crmtest__Inner inner = CRMTEST__INNER__INIT, cinner = CRMTEST__INNER__INIT;
    Crmtest__Inner ri0 = CRMTEST__INNER__INIT, ri1 = CRMTEST__INNER__INIT;
    Crmtest__Inner *rinner[] = {&ri0, &ri1};
    uint8_t bin[256];
    uint8_t bin2[] = {0x00};
    ProtobufCBinaryData rbytes[] = {{0, NULL}, {1, bin2}, {2, bin}, {3, bin + 250}};
    int32_t ri32[] = {0, INT32_MIN, INT32_MAX, -1};
    int64_t ri64[] = {INT64_MIN, 0, INT64_MAX, -1};
    uint64_t ru64[] = {0, UINT64_MAX, 1};
    char *rstr[] = {"", "x", "\xe2\x82\xac"};
    Crmtest__Color rcolor[] = {CRMTEST__COLOR__COLOR_UNSPECIFIED, CRMTEST__COLOR__COLOR_RED};
    double rdouble[] = {0.0, -1e-300, 1.7976931348623157e308, 0.1};
    protobuf_c_boolean rbool[] = {0, 1, 1};
    float rfloat[] = {0.0f, 1e-45f, 0.3f};
    size_t i;

    for (i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)(255 - i);
    s_fill_all(&m, &inner);
    m.f_bytes.data = bin;
    m.f_bytes.len = sizeof(bin);
    m.n_r_int32 = 4;
    m.r_int32 = ri32;
    m.n_r_int64 = 4;
    m.r_int64 = ri64;
    m.n_r_uint64 = 3;
    m.r_uint64 = ru64;
    m.n_r_string = 3;
    m.r_string = rstr;
    m.n_r_bytes = 4;
    m.r_bytes = rbytes;
    ri0.name = "zero";
    ri1.count = 1;
    m.n_r_inner = 2;
    m.r_inner = rinner;
    m.n_r_color = 2;
    m.r_color = rcolor;
    m.n_r_double = 4;
    m.r_double = rdouble;
    m.n_r_bool = 3;
    m.r_bool = rbool;
    m.n_r_float = 3;
    m.r_float = rfloat;
    m.choice_case = CRMTEST__ALL_TYPES__CHOICE_C_INNER;
    cinner.name = "c";
    m.c_inner = &cinner;
    child.f_int64 = 5;
    child.choice_case = CRMTEST__ALL_TYPES__CHOICE_C_INT;
    child.c_int = -7;
    m.child = &child;
    pbt_roundtrip(&m.base);

    /* Same through an unpacked message (allocations as protobuf-c makes them). */
    {
        size_t len;
        uint8_t *buf = pbt_pack(&m.base, &len);
        ProtobufCMessage *u =
            protobuf_c_message_unpack(&crmtest__all_types__descriptor, NULL, len, buf);
        assert_non_null(u);
        pbt_roundtrip(u);
        protobuf_c_message_free_unpacked(u, NULL);
        free(buf);
    }
}

static void test_parse_64bit_forms(void **state)
{
    Crmtest__AllTypes *m = (Crmtest__AllTypes *)pbt_parse(&crmtest__all_types__descriptor,
                                                          "{\"f_int64\":-9223372036854775808,"
                                                          "\"f_sint64\":\"-9223372036854775808\","
                                                          "\"f_sfixed64\":\"9223372036854775807\","
                                                          "\"f_uint64\":\"18446744073709551615\","
                                                          "\"f_fixed64\":9223372036854775807,"
                                                          "\"r_int64\":[1,\"-2\",\"007\"],"
                                                          "\"r_uint64\":[\"0\",\"-0\",3]}");

    assert_true(m->f_int64 == INT64_MIN);
    assert_true(m->f_sint64 == INT64_MIN);
    assert_true(m->f_sfixed64 == INT64_MAX);
    assert_true(m->f_uint64 == UINT64_MAX);
    assert_true(m->f_fixed64 == (uint64_t)INT64_MAX);
    assert_int_equal(m->n_r_int64, 3);
    assert_true(m->r_int64[0] == 1 && m->r_int64[1] == -2 && m->r_int64[2] == 7);
    assert_int_equal(m->n_r_uint64, 3);
    assert_true(m->r_uint64[0] == 0 && m->r_uint64[1] == 0 && m->r_uint64[2] == 3);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_parse_nulls_and_empty(void **state)
{
    Crmtest__AllTypes *m = (Crmtest__AllTypes *)pbt_parse(
        &crmtest__all_types__descriptor,
        "{\"f_int32\":null,\"f_string\":null,\"inner\":null,\"r_string\":null,"
        "\"r_inner\":[],\"c_int\":null,\"c_text\":\"t\",\"f_bytes\":\"\"}");

    assert_int_equal(m->f_int32, 0);
    assert_string_equal(m->f_string, "");
    assert_null(m->inner);
    assert_int_equal(m->n_r_string, 0);
    assert_int_equal(m->n_r_inner, 0);
    assert_int_equal(m->choice_case, CRMTEST__ALL_TYPES__CHOICE_C_TEXT);
    assert_string_equal(m->c_text, "t");
    assert_int_equal(m->f_bytes.len, 0);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_deep_nesting(void **state)
{
    enum { N = 150 };
    Crmtest__AllTypes *chain = calloc(N, sizeof(*chain));
    Crmtest__AllTypes init = CRMTEST__ALL_TYPES__INIT;
    json_t *j, *top;
    char err[256];
    size_t i;

    assert_non_null(chain);
    for (i = 0; i < N; i++) {
        chain[i] = init;
        chain[i].child = i + 1 < N ? &chain[i + 1] : NULL;
    }
    /* Too deep to render; a shallower tail of the same chain is fine. */
    assert_null(crm_pbjson_from_message(&chain[0].base));
    j = crm_pbjson_from_message(&chain[N - 50].base);
    assert_non_null(j);
    json_decref(j);
    free(chain);

    top = json_object();
    j = top;
    for (i = 0; i < N; i++) {
        json_t *c = json_object();
        json_object_set_new(j, "child", c);
        j = c;
    }
    assert_null(crm_input_message(&crmtest__all_types__descriptor, top, 0, NULL, err, sizeof(err)));
    /* The path is longer than err; its head gives way, the tail stays. */
    assert_int_equal(strncmp(err, "field \"...", 10), 0);
    assert_non_null(strstr(err, ".child.child\": nested too deeply"));
    assert_true(strlen(err) < sizeof(err));
    json_decref(top);
}

/* ---- JSON -> message errors ------------------------------------------ */

static void test_errors_unknown_field(void **state)
{
    const ProtobufCMessageDescriptor *d = &crmtest__all_types__descriptor;

    pbt_assert_error(d, "{\"x\":1}", "unknown field \"x\"");
    pbt_assert_error(d, "{\"f_int32\":1,\"inner\":{\"name\":\"a\",\"bogus\":true}}",
                     "unknown field \"inner.bogus\"");
    pbt_assert_error(d,
                     "{\"f_string\":\"abc\",\"f_bytes\":\"AAEC\",\"r_string\":[\"a\",\"b\"],"
                     "\"r_inner\":[{\"name\":\"a\"},{\"name\":\"b\",\"bogus\":1}]}",
                     "unknown field \"r_inner[1].bogus\"");
    pbt_assert_error(d, "{\"c_inner\":{\"name\":\"q\",\"x\":{}}}", "unknown field \"c_inner.x\"");
    pbt_assert_error(d, "{\"child\":{\"child\":{\"F_INT32\":1}}}",
                     "unknown field \"child.child.F_INT32\"");
    /* A key with an embedded NUL (the parser refuses them, the API does
     * not) must not alias "f_int32". */
    {
        json_t *j = json_object();
        char err[64];
        assert_non_null(j);
        assert_int_equal(json_object_setn_new(j, "f_int32\0x", 9, json_integer(1)), 0);
        assert_null(crm_input_message(d, j, 0, NULL, err, sizeof(err)));
        assert_string_equal(err, "unknown field \"f_int32\"");
        json_decref(j);
    }
}

static void test_errors_wrong_type(void **state)
{
    const ProtobufCMessageDescriptor *d = &crmtest__all_types__descriptor;

    pbt_assert_error(d, "[]", "expected a JSON object");
    pbt_assert_error(d, "{\"f_int32\":\"1\"}", "field \"f_int32\": expected an integer");
    pbt_assert_error(d, "{\"f_uint32\":1.0}", "field \"f_uint32\": expected an integer");
    pbt_assert_error(d, "{\"inner\":{\"name\":\"n\",\"count\":\"7\"}}",
                     "field \"inner.count\": expected an integer");
    pbt_assert_error(d, "{\"f_int64\":1.5}",
                     "field \"f_int64\": expected an integer or a decimal string");
    pbt_assert_error(d, "{\"f_int64\":\"12x\"}",
                     "field \"f_int64\": expected a decimal integer string");
    pbt_assert_error(d, "{\"f_int64\":\" 12\"}",
                     "field \"f_int64\": expected a decimal integer string");
    pbt_assert_error(d, "{\"f_int64\":\"+12\"}",
                     "field \"f_int64\": expected a decimal integer string");
    pbt_assert_error(d, "{\"f_int64\":\"\"}",
                     "field \"f_int64\": expected a decimal integer string");
    pbt_assert_error(d, "{\"f_int64\":\"-\"}",
                     "field \"f_int64\": expected a decimal integer string");
    pbt_assert_error(d, "{\"f_uint64\":\"1\\u00002\"}",
                     "field \"f_uint64\": expected a decimal integer string");
    pbt_assert_error(d, "{\"f_bool\":1}", "field \"f_bool\": expected a boolean");
    pbt_assert_error(d, "{\"f_string\":5}", "field \"f_string\": expected a string");
    pbt_assert_error(d, "{\"f_string\":\"a\\u0000b\"}",
                     "field \"f_string\": string contains a NUL character");
    pbt_assert_error(d, "{\"f_bytes\":[1]}", "field \"f_bytes\": expected a base64 string");
    pbt_assert_error(d, "{\"f_double\":\"nan\"}", "field \"f_double\": expected a number");
    pbt_assert_error(d, "{\"f_float\":true}", "field \"f_float\": expected a number");
    pbt_assert_error(d, "{\"f_color\":\"COLOR_PURPLE\"}",
                     "field \"f_color\": unknown enum value \"COLOR_PURPLE\"");
    pbt_assert_error(d, "{\"f_color\":true}", "field \"f_color\": expected an enum name or number");
    pbt_assert_error(d, "{\"inner\":[]}", "field \"inner\": expected an object");
    pbt_assert_error(d, "{\"r_int32\":5}", "field \"r_int32\": expected an array");
    pbt_assert_error(d, "{\"r_int32\":[1,\"2\"]}", "field \"r_int32[1]\": expected an integer");
    pbt_assert_error(d, "{\"r_inner\":[{\"count\":1},null]}",
                     "field \"r_inner[1]\": expected an object");
    pbt_assert_error(d, "{\"r_string\":[\"a\",\"b\",3]}",
                     "field \"r_string[2]\": expected a string");
    pbt_assert_error(d, "{\"r_inner\":[{\"name\":\"a\"},{\"name\":\"b\",\"count\":[]}]}",
                     "field \"r_inner[1].count\": expected an integer");
}

static void test_errors_range(void **state)
{
    const ProtobufCMessageDescriptor *d = &crmtest__all_types__descriptor;

    pbt_assert_error(d, "{\"f_int32\":2147483648}",
                     "field \"f_int32\": integer out of range for int32");
    pbt_assert_error(d, "{\"f_sint32\":-2147483649}",
                     "field \"f_sint32\": integer out of range for sint32");
    pbt_assert_error(d, "{\"f_uint32\":-1}", "field \"f_uint32\": integer out of range for uint32");
    pbt_assert_error(d, "{\"f_fixed32\":4294967296}",
                     "field \"f_fixed32\": integer out of range for fixed32");
    pbt_assert_error(d, "{\"f_uint64\":-1}", "field \"f_uint64\": integer out of range for uint64");
    pbt_assert_error(d, "{\"f_fixed64\":\"-1\"}",
                     "field \"f_fixed64\": integer out of range for fixed64");
    pbt_assert_error(d, "{\"f_uint64\":\"18446744073709551616\"}",
                     "field \"f_uint64\": integer out of range for uint64");
    pbt_assert_error(d, "{\"f_int64\":\"9223372036854775808\"}",
                     "field \"f_int64\": integer out of range for int64");
    pbt_assert_error(d, "{\"f_sfixed64\":\"-9223372036854775809\"}",
                     "field \"f_sfixed64\": integer out of range for sfixed64");
    pbt_assert_error(d, "{\"f_color\":4294967296}",
                     "field \"f_color\": integer out of range for enum");
    pbt_assert_error(d, "{\"f_float\":1e300}", "field \"f_float\": number out of range for float");
    pbt_assert_error(d, "{\"r_string\":[\"a\"],\"inner\":{\"count\":2147483648}}",
                     "field \"inner.count\": integer out of range for int32");
}

static void test_errors_base64(void **state)
{
    const ProtobufCMessageDescriptor *d = &crmtest__all_types__descriptor;
    static const char *const bad[] = {"a",      "abcde", "ab=", "a===", "Zg=a",    "@@@@",
                                      "Zm9v\n", "Zm 9v", "=",   "==",   "Zm9vY==="};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_pack("{s:s}", "f_bytes", bad[i]);
        char err[128];
        assert_non_null(j);
        assert_null(crm_input_message(d, j, 0, NULL, err, sizeof(err)));
        assert_string_equal(err, "field \"f_bytes\": invalid base64");
        json_decref(j);
    }
    pbt_assert_error(d, "{\"f_string\":\"s\",\"r_bytes\":[\"AA==\",\"\",\"@@@@\"]}",
                     "field \"r_bytes[2]\": invalid base64");
    pbt_assert_error(d, "{\"c_inner\":{\"name\":\"n\"},\"r_bytes\":[\"AA==\",\"A\"]}",
                     "field \"r_bytes[1]\": invalid base64");
}

static void test_errors_oneof(void **state)
{
    const ProtobufCMessageDescriptor *d = &crmtest__all_types__descriptor;

    pbt_assert_error(d, "{\"c_int\":1,\"c_text\":\"x\"}",
                     "field \"c_text\": oneof member \"c_int\" is already set");
    /* The first member owns memory when the conflict is found. */
    pbt_assert_error(d, "{\"c_text\":\"x\",\"c_inner\":{\"name\":\"y\"}}",
                     "field \"c_inner\": oneof member \"c_text\" is already set");
    pbt_assert_error(d, "{\"c_inner\":{\"name\":\"y\"},\"c_int\":0}",
                     "field \"c_int\": oneof member \"c_inner\" is already set");
    /* A failing member leaves the oneof unset. */
    pbt_assert_error(d, "{\"c_inner\":{\"name\":1}}", "field \"c_inner.name\": expected a string");
}

static void test_error_buffer_edges(void **state)
{
    json_t *j = json_pack("{s:i}", "nope", 1);
    char small[8];

    assert_non_null(j);
    assert_null(crm_input_message(&crmtest__all_types__descriptor, j, 0, NULL, NULL, 0));
    assert_null(
        crm_input_message(&crmtest__all_types__descriptor, j, 0, NULL, small, sizeof(small)));
    assert_string_equal(small, "unknown");
    assert_null(
        crm_input_message(&crmtest__all_types__descriptor, NULL, 0, NULL, small, sizeof(small)));
    assert_null(crm_input_message(NULL, j, 0, NULL, small, sizeof(small)));
    assert_null(crm_pbjson_from_message(NULL));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_omitted),      cmocka_unit_test(test_oneof_default_member),
        cmocka_unit_test(test_json_output),           cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_lenient_input),  cmocka_unit_test(test_enum_values),
        cmocka_unit_test(test_float_specials),        cmocka_unit_test(test_invalid_utf8_string),
        cmocka_unit_test(test_roundtrip_everything),  cmocka_unit_test(test_parse_64bit_forms),
        cmocka_unit_test(test_parse_nulls_and_empty), cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_errors_unknown_field),  cmocka_unit_test(test_errors_wrong_type),
        cmocka_unit_test(test_errors_range),          cmocka_unit_test(test_errors_base64),
        cmocka_unit_test(test_errors_oneof),          cmocka_unit_test(test_error_buffer_edges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
