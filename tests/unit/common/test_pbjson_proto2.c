/* test_pbjson_proto2.c: proto2 presence in crm/pbjson.h and the strict
 * reader of crm/input.h (has_ fields, required fields, non-empty defaults),
 * through a small hand-written descriptor: protoc-c 1.4 cannot generate
 * proto3 `optional`, and the test schema pbjson_test.proto is proto3. */
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

/* ---- proto2 presence, through a hand-written descriptor --------------- */

/* message P2 {
 *   required int32 req = 1;
 *   optional int32 opt = 2 [default = 7];
 *   optional string name = 3 [default = "anon"];
 *   optional bytes blob = 4;
 *   optional Inner sub = 5;
 * } */
typedef struct {
    ProtobufCMessage base;
    int32_t req;
    protobuf_c_boolean has_opt;
    int32_t opt;
    char *name;
    protobuf_c_boolean has_blob;
    ProtobufCBinaryData blob;
    Crmtest__Inner *sub;
} P2;

static const int32_t s_p2_opt_default = 7;
static const char s_p2_name_default[] = "anon";
static const ProtobufCMessageDescriptor s_p2_descriptor;

static void s_p2_init(ProtobufCMessage *m)
{
    P2 init = {PROTOBUF_C_MESSAGE_INIT(&s_p2_descriptor),
               0,
               0,
               7,
               (char *)s_p2_name_default,
               0,
               {0, NULL},
               NULL};
    *(P2 *)m = init;
}

static const ProtobufCFieldDescriptor s_p2_fields[] = {
    {"req", 1, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_INT32, 0, offsetof(P2, req), NULL, NULL,
     0, 0, NULL, NULL},
    {"opt", 2, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT32, offsetof(P2, has_opt),
     offsetof(P2, opt), NULL, &s_p2_opt_default, 0, 0, NULL, NULL},
    {"name", 3, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_STRING, 0, offsetof(P2, name), NULL,
     s_p2_name_default, 0, 0, NULL, NULL},
    {"blob", 4, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_BYTES, offsetof(P2, has_blob),
     offsetof(P2, blob), NULL, NULL, 0, 0, NULL, NULL},
    {"sub", 5, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof(P2, sub),
     &crmtest__inner__descriptor, NULL, 0, 0, NULL, NULL},
};
static const unsigned s_p2_by_name[] = {3, 2, 1, 0, 4};
static const ProtobufCIntRange s_p2_ranges[] = {{1, 0}, {0, 5}};
static const ProtobufCMessageDescriptor s_p2_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                           "crmtest.P2",
                                                           "P2",
                                                           "P2",
                                                           "crmtest",
                                                           sizeof(P2),
                                                           5,
                                                           s_p2_fields,
                                                           s_p2_by_name,
                                                           1,
                                                           s_p2_ranges,
                                                           s_p2_init,
                                                           NULL,
                                                           NULL,
                                                           NULL};

static void test_proto2_presence(void **state)
{
    P2 m;
    Crmtest__Inner sub = CRMTEST__INNER__INIT;
    uint8_t one = 1;
    char other[] = "anon";
    P2 *back;

    s_p2_init(&m.base);
    /* Required fields are always present; unset optionals are not. */
    pbt_assert_json(&m.base, "{\"req\":0}");
    pbt_roundtrip(&m.base);

    /* has_ decides, not the value: default-valued and zero optionals show. */
    m.has_opt = 1;
    m.has_blob = 1;
    pbt_assert_json(&m.base, "{\"blob\":\"\",\"opt\":7,\"req\":0}");
    pbt_roundtrip(&m.base);
    m.opt = 0;
    m.blob.len = 1;
    m.blob.data = &one;
    pbt_assert_json(&m.base, "{\"blob\":\"AQ==\",\"opt\":0,\"req\":0}");
    pbt_roundtrip(&m.base);
    /* A value without has_ is not present. */
    m.has_opt = 0;
    m.opt = 5;
    pbt_assert_json(&m.base, "{\"blob\":\"AQ==\",\"req\":0}");

    /* Strings: the shared default pointer means unset, any other is set. */
    m.name = other;
    m.sub = &sub;
    pbt_assert_json(&m.base, "{\"blob\":\"AQ==\",\"name\":\"anon\",\"req\":0,\"sub\":{}}");
    pbt_roundtrip(&m.base);

    /* Parsing sets has_ and leaves unset members at their defaults, which
     * free_unpacked must not free. */
    back = (P2 *)pbt_parse(&s_p2_descriptor, "{\"req\":-1,\"opt\":0}");
    assert_int_equal(back->req, -1);
    assert_true(back->has_opt);
    assert_int_equal(back->opt, 0);
    assert_ptr_equal(back->name, s_p2_name_default);
    assert_false(back->has_blob);
    assert_null(back->sub);
    protobuf_c_message_free_unpacked(&back->base, NULL);

    back = (P2 *)pbt_parse(&s_p2_descriptor, "{\"name\":\"z\",\"blob\":\"\"}");
    assert_false(back->has_opt);
    assert_int_equal(back->opt, 7);
    assert_string_equal(back->name, "z");
    assert_true(back->has_blob);
    assert_int_equal(back->blob.len, 0);
    protobuf_c_message_free_unpacked(&back->base, NULL);

    pbt_assert_error(&s_p2_descriptor, "{\"name\":\"z\",\"sub\":{\"x\":1}}",
                     "unknown field \"sub.x\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto2_presence),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
