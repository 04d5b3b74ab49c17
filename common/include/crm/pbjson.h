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

/* Returns a new JSON object (caller owns the reference) or NULL on ENOMEM. */
json_t *crm_pbjson_from_message(const ProtobufCMessage *msg);

#endif
