/* crm/pbjson.h: protobuf-c messages rendered as JSON from their descriptors,
 * so tools (crmctl tail) print any event without knowing its type. The way
 * back, JSON to a message, is crm/input.h.
 *
 * Mapping follows the proto3 JSON mapping where it is cheap to do so:
 * lowerCamelCase names are NOT used; we keep the proto field names
 * (snake_case) as `protoc --preserving_proto_field_names` does; 64-bit
 * integers become JSON strings; bytes become base64; enums become their
 * value names; fields at their default value are omitted, except members of
 * a oneof that is set (so presence is visible); repeated fields become
 * arrays; nested messages become objects. */
#ifndef CRM_PBJSON_H
#define CRM_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Returns a new JSON object (caller owns the reference) or NULL on ENOMEM. */
json_t *crm_pbjson_from_message(const ProtobufCMessage *msg);

/* ---- the same JSON as text, in one pass ----------------------------------
 * For hot paths (crm-analytics hands every event to SQL as JSON): the text
 * is appended straight from the descriptors to a growable buffer, without
 * a jansson tree. crm_pbjson_write gives exactly the bytes of
 * json_dumps(crm_pbjson_from_message(msg), JSON_COMPACT) (tests/unit/common/
 * test_pbjson.c compares them), so the two can be used interchangeably.
 *
 * A buffer starts as CRM_PBJSON_BUF_INIT. After a successful write, text
 * holds len bytes and a NUL; a write that fails (ENOMEM, nesting deeper
 * than the tree's limit, a string that is not UTF-8) returns -1 and leaves
 * len as it was, so the caller may go on. Setting len back to an earlier
 * value (with text[len] = '\0') drops what was written since. */
typedef struct {
    char *text;
    size_t len, cap;
} crm_pbjson_buf_t;

#define CRM_PBJSON_BUF_INIT                                                                        \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* msg as a JSON object. */
int crm_pbjson_write(crm_pbjson_buf_t *b, const ProtobufCMessage *msg);
/* s as a JSON string as json_dumps writes json_string(s); -1 if s is not
 * valid UTF-8 (json_string refuses it too). */
int crm_pbjson_write_string(crm_pbjson_buf_t *b, const char *s);
/* v as a JSON integer, as json_dumps writes json_integer(v). */
int crm_pbjson_write_int(crm_pbjson_buf_t *b, int64_t v);
/* n bytes of text as they are (punctuation, keys known to need no escape). */
int crm_pbjson_write_raw(crm_pbjson_buf_t *b, const char *text, size_t n);
void crm_pbjson_buf_free(crm_pbjson_buf_t *b);

#endif
