/* crm/input.h: JSON to protobuf messages, the one reader of libcrm.
 *
 * Requests written as JSON (crmctl) and the records the services' SQL
 * returns as JSON objects (jsonb_build_object keyed by the message's field
 * names) are both read here, by walking the message descriptor: no
 * hand-written reader per type. The mapping is the inverse of
 * crm_pbjson_from_message (crm/pbjson.h): names as in the .proto, 64-bit
 * integers as numbers or decimal strings, bytes as base64, enums by name
 * or number, repeated fields as arrays, nested messages as objects; null
 * means "not set". */
#ifndef CRM_INPUT_H
#define CRM_INPUT_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Records from the service's own database: unknown keys are skipped, a
 * value that does not fit its field leaves the field at its default, and
 * numbers and text convert (a number into a string field, a real or a
 * decimal string into an integer, a number into a bool). Without it every
 * one of those is an error. */
#define CRM_INPUT_LENIENT 1u

/* Builds a message of `desc` from the JSON object `obj`. Memory comes from
 * `alloc` (NULL: malloc); the caller frees the result with
 * protobuf_c_message_free_unpacked(msg, alloc) (nothing to do for an
 * arena). On failure returns NULL, frees what it took, and writes the
 * offending field path and the problem to err (may be NULL). */
ProtobufCMessage *crm_input_message(const ProtobufCMessageDescriptor *desc, const json_t *obj,
                                    unsigned flags, ProtobufCAllocator *alloc, char *err,
                                    size_t errlen);

#endif
