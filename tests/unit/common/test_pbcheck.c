/* test_pbcheck.c: unit test of crm/pbcheck.h: strings protobuf-c accepts
 * but a service must refuse (a NUL byte, bytes that are not UTF-8), found
 * at any depth and named by their field path; everything else passes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <crm/pbcheck.h>
#include <crm/v1/rpc.pb-c.h>
#include <crm/v1/sales.pb-c.h>

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    assert_int_equal(protobuf_c_message_pack(m, b), *len);
    return b;
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(crm_utf8_valid((const uint8_t *)"", 0));
    assert_true(crm_utf8_valid((const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_false(crm_utf8_valid((const uint8_t *)"a\0b", 3));             /* NUL */
    assert_false(crm_utf8_valid((const uint8_t *)"\xff", 1));             /* never UTF-8 */
    assert_false(crm_utf8_valid((const uint8_t *)"\x81", 1));             /* lone continuation */
    assert_false(crm_utf8_valid((const uint8_t *)"\xc3", 1));             /* cut short */
    assert_false(crm_utf8_valid((const uint8_t *)"\xc0\xaf", 2));         /* overlong "/" */
    assert_false(crm_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));     /* overlong */
    assert_false(crm_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
    assert_false(crm_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_true(crm_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
}

static void test_valid_request_passes(void **state)
{
    Crm__V1__CommandRequest rq = CRM__V1__COMMAND_REQUEST__INIT;
    char field[64] = "x";
    size_t len;

    (void)state;
    rq.command = "sales.person.register";
    rq.idempotency_key = "k-\xc3\xa9";
    rq.actor = "";
    rq.request_id = 7;
    uint8_t *b = s_pack(&rq.base, &len);
    assert_int_equal(
        crm_pb_check_strings(&crm__v1__command_request__descriptor, b, len, field, sizeof field),
        0);
    assert_string_equal(field, "");
    free(b);
}

/* The bytes protobuf-c accepts: a key with a NUL inside, which a service
 * would see cut to "k". */
static void test_nul_in_key(void **state)
{
    static const uint8_t wire[] = {0x12, 3, 'k', 0, 'a'}; /* idempotency_key = 2 */
    char field[64];

    (void)state;
    Crm__V1__CommandRequest *rq = crm__v1__command_request__unpack(NULL, sizeof wire, wire);
    assert_non_null(rq);                           /* accepted by protobuf-c... */
    assert_string_equal(rq->idempotency_key, "k"); /* ...and cut */
    crm__v1__command_request__free_unpacked(rq, NULL);
    assert_int_equal(crm_pb_check_strings(&crm__v1__command_request__descriptor, wire, sizeof wire,
                                          field, sizeof field),
                     -EILSEQ);
    assert_string_equal(field, "idempotency_key");
}

static void test_nested_person(void **state)
{
    Crm__V1__Person person = CRM__V1__PERSON__INIT;
    Crm__V1__RegisterPersonRequest rq = CRM__V1__REGISTER_PERSON_REQUEST__INIT;
    char *emails[] = {"a@example.com", "b\xff@example.com"};
    char field[64];
    size_t len;

    (void)state;
    person.name = "Ren\xc3\xa9";
    person.n_emails = 2;
    person.emails = emails;
    rq.person = &person;
    uint8_t *b = s_pack(&rq.base, &len);
    assert_int_equal(crm_pb_check_strings(&crm__v1__register_person_request__descriptor, b, len,
                                          field, sizeof field),
                     -EILSEQ);
    assert_string_equal(field, "person.emails");
    free(b);
    emails[1] = "b@example.com";
    b = s_pack(&rq.base, &len);
    assert_int_equal(crm_pb_check_strings(&crm__v1__register_person_request__descriptor, b, len,
                                          field, sizeof field),
                     0);
    free(b);
}

static void test_bytes_and_unknown_fields_pass(void **state)
{
    /* body (bytes, field 3) may hold anything, a NUL too; an
     * unknown length-delimited field 99 is skipped unread. */
    Crm__V1__CommandRequest rq = CRM__V1__COMMAND_REQUEST__INIT;
    size_t len;
    uint8_t raw[] = {0, 0xff, 0xfe};

    (void)state;
    rq.command = "x";
    rq.body.data = raw;
    rq.body.len = sizeof raw;
    uint8_t *b = s_pack(&rq.base, &len);
    uint8_t *more = malloc(len + 6);
    assert_non_null(more);
    memcpy(more, b, len);
    /* field 99, wire type 2: key 99 << 3 | 2 = 794 = 0x9a 0x06 */
    memcpy(more + len, "\x9a\x06\x02\xff\x00", 5);
    assert_int_equal(
        crm_pb_check_strings(&crm__v1__command_request__descriptor, more, len + 5, NULL, 0), 0);
    free(more);
    free(b);
}

static void test_malformed(void **state)
{
    (void)state;
    assert_int_equal(crm_pb_check_strings(&crm__v1__command_request__descriptor,
                                          (const uint8_t *)"\x0a\x05"
                                                           "ab",
                                          4, NULL, 0),
                     -EBADMSG);
    assert_int_equal(crm_pb_check_strings(&crm__v1__command_request__descriptor,
                                          (const uint8_t *)"\x0b", 1, NULL, 0),
                     -EBADMSG);
    /* Field number 0, spelled in two bytes: protobuf-c takes it. */
    assert_int_equal(crm_pb_check_strings(&crm__v1__command_request__descriptor,
                                          (const uint8_t *)"\x80\x00\x07", 3, NULL, 0),
                     -EBADMSG);
    assert_int_equal(crm_pb_check_strings(NULL, NULL, 0, NULL, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_valid_request_passes),
        cmocka_unit_test(test_nul_in_key),
        cmocka_unit_test(test_nested_person),
        cmocka_unit_test(test_bytes_and_unknown_fields_pass),
        cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests_name("pbcheck", tests, NULL, NULL);
}
