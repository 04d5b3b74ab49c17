/* crm/pbcheck.h: checks protobuf-c does not make on bytes from outside.
 *
 * protobuf-c accepts a proto3 `string` field that holds a NUL byte or bytes
 * that are not UTF-8 (the reference implementation refuses both), and the C
 * string a handler sees is cut at the first NUL: "k\0a" and "k\0b" are the
 * same idempotency key, and a name is stored shorter than it was sent,
 * without an error. Found by tests/fuzz (README.md, "Findings"). A decoder
 * of outside input calls crm_pb_check_strings on the bytes it has just
 * unpacked, and answers MALFORMED when it fails. */
#ifndef CRM_PBCHECK_H
#define CRM_PBCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Nesting deeper than this is refused (the check recurses). */
#define CRM_PB_CHECK_DEPTH 32

/* Walks the wire bytes of a message of type `desc`: every string field, in
 * nested messages too, must be valid UTF-8 without a NUL byte. Unknown
 * fields are skipped. Returns 0; or -EILSEQ for a bad string, -EBADMSG for
 * bytes that are not a message (field number 0 included, which protobuf-c
 * accepts when spelled 0x80 0x00), -ELOOP past CRM_PB_CHECK_DEPTH, with the
 * dotted field name ("person.name") in `field` when given. */
int crm_pb_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                         char *field, size_t fieldlen);

/* 1 when s[0..len) is valid UTF-8 (no overlong forms, no surrogates, at
 * most U+10FFFF) without a NUL byte, else 0. */
int crm_utf8_valid(const uint8_t *s, size_t len);

#endif
