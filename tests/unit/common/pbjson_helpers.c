/* pbjson_helpers.c: see pbjson_helpers.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crm/input.h"
#include "crm/pbjson.h"
#include "pbjson_helpers.h"

#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_COMPACT)

/* ---- helpers --------------------------------------------------------- */

void pbt_assert_same_text(const ProtobufCMessage *m)
{
    json_t *j = crm_pbjson_from_message(m);
    char *want;
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;

    assert_non_null(j);
    want = json_dumps(j, JSON_COMPACT);
    assert_non_null(want);
    json_decref(j);
    /* Written after other text, as a run's events are. */
    assert_int_equal(crm_pbjson_write_raw(&b, "[", 1), 0);
    assert_int_equal(crm_pbjson_write(&b, m), 0);
    assert_int_equal(b.len, strlen(want) + 1);
    assert_int_equal(b.text[b.len], '\0');
    if (memcmp(b.text + 1, want, b.len - 1) != 0)
        fail_msg("crm_pbjson_write:\n  %s\njson_dumps:\n  %s", b.text + 1, want);
    free(want);
    crm_pbjson_buf_free(&b);
}

char *pbt_dump(const ProtobufCMessage *m)
{
    json_t *j = crm_pbjson_from_message(m);
    char *text;

    assert_non_null(j);
    /* Every rendering the tests check is also checked written in one
     * pass (crm_pbjson_write), byte for byte. */
    pbt_assert_same_text(m);
    text = json_dumps(j, DUMP_FLAGS);
    assert_non_null(text);
    json_decref(j);
    return text;
}

void pbt_assert_json(const ProtobufCMessage *m, const char *expected)
{
    char *text = pbt_dump(m);

    assert_string_equal(text, expected);
    free(text);
}

uint8_t *pbt_pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(m);
    buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

/* Parses `text` and converts it to a message of desc; asserts success. */
ProtobufCMessage *pbt_parse(const ProtobufCMessageDescriptor *desc, const char *text)
{
    char err[256] = "";
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &jerr);
    ProtobufCMessage *m;

    assert_non_null(j);
    m = crm_input_message(desc, j, 0, NULL, err, sizeof(err));
    if (m == NULL)
        fail_msg("to_message(%s): %s", text, err);
    json_decref(j);
    return m;
}

/* Asserts that converting `text` fails with exactly `expected`. */
void pbt_assert_error(const ProtobufCMessageDescriptor *desc, const char *text,
                      const char *expected)
{
    char err[256] = "";
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    ProtobufCMessage *m;

    if (j == NULL)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    m = crm_input_message(desc, j, 0, NULL, err, sizeof(err));
    if (m != NULL) {
        protobuf_c_message_free_unpacked(m, NULL);
        fail_msg("to_message(%s) unexpectedly succeeded", text);
    }
    json_decref(j);
    if (strcmp(err, expected) != 0)
        fail_msg("to_message(%s): got error '%s', want '%s'", text, err, expected);
}

/* message -> JSON -> text -> JSON -> message must pack to the same bytes,
 * and the second message must render to the same JSON. */
void pbt_roundtrip(const ProtobufCMessage *m)
{
    size_t alen, blen;
    uint8_t *a = pbt_pack(m, &alen);
    json_t *j1 = crm_pbjson_from_message(m);
    char *text;
    json_t *j2, *j3;
    ProtobufCMessage *back;
    uint8_t *b;
    char err[256] = "";

    pbt_assert_same_text(m);
    assert_non_null(j1);
    text = json_dumps(j1, DUMP_FLAGS);
    assert_non_null(text);
    j2 = json_loads(text, 0, NULL);
    assert_non_null(j2);
    back = crm_input_message(m->descriptor, j2, 0, NULL, err, sizeof(err));
    if (back == NULL)
        fail_msg("round trip of %s: %s", text, err);
    b = pbt_pack(back, &blen);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    j3 = crm_pbjson_from_message(back);
    assert_non_null(j3);
    assert_true(json_equal(j1, j3));

    json_decref(j1);
    json_decref(j2);
    json_decref(j3);
    free(text);
    free(a);
    free(b);
    protobuf_c_message_free_unpacked(back, NULL);
}
