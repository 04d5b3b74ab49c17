/* pbdesc.h: private helpers on protobuf-c descriptors, shared by the JSON
 * renderer (pbjson.c) and the JSON reader (input.c). */
#ifndef CRM_PBDESC_H
#define CRM_PBDESC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

/* Size of one element of a repeated field of `type`; 0 for an unknown type. */
size_t crm_pb_elem_size(ProtobufCType type);
/* The .proto name of `type` ("int64"), for messages. */
const char *crm_pb_type_name(ProtobufCType type);
/* Strings and messages are pointers in a message. */
bool crm_pb_is_pointer_type(ProtobufCType type);
/* desc is a message descriptor (its magic number). */
bool crm_pb_desc_ok(const ProtobufCMessageDescriptor *desc);

#endif
