/* pbjson_helpers.h: assertions shared by the crm/pbjson.h tests
 * (test_pbjson.c, test_pbjson_proto2.c). */
#ifndef CRM_TEST_PBJSON_HELPERS_H
#define CRM_TEST_PBJSON_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* crm_pbjson_write(m) is byte for byte json_dumps(crm_pbjson_from_message(m),
 * JSON_COMPACT). */
void pbt_assert_same_text(const ProtobufCMessage *m);
char *pbt_dump(const ProtobufCMessage *m);
void pbt_assert_json(const ProtobufCMessage *m, const char *expected);
uint8_t *pbt_pack(const ProtobufCMessage *m, size_t *len);
ProtobufCMessage *pbt_parse(const ProtobufCMessageDescriptor *desc, const char *text);
void pbt_assert_error(const ProtobufCMessageDescriptor *desc, const char *text,
                      const char *expected);
void pbt_roundtrip(const ProtobufCMessage *m);

#endif
