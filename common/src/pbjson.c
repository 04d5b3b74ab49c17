/* pbjson.c: protobuf-c messages <-> jansson JSON objects, driven only by the
 * message descriptors, so tools (crmctl tail, debugging endpoints, tests) can
 * print and build any event without per-type code.
 *
 * The mapping is the one documented in crm/pbjson.h. Presence follows what
 * protobuf_c_message_pack() would put on the wire, so that
 * message -> JSON -> message packs to the same bytes:
 *   - proto3 plain fields (LABEL_NONE) are written unless zero/empty;
 *   - proto2 optional scalars/bytes/enums are written when has_x is set;
 *     optional strings/messages when the pointer is neither NULL nor the
 *     descriptor's default;
 *   - required fields are always written;
 *   - the set member of a oneof is written even at its default value (a
 *     string/message member whose pointer is NULL or the shared default is
 *     not packed by protobuf-c either, so it is not written).
 * Floats that JSON cannot express are written as "NaN", "Infinity" and
 * "-Infinity" (as in the proto3 JSON mapping) and accepted back. Strings that
 * are not valid UTF-8 are written with U+FFFD replacing the bad bytes.
 * Bytes are read in standard or URL-safe base64, padded or not.
 *
 * Nesting is limited to PBJSON_MAX_DEPTH levels in both directions so that a
 * recursive message type cannot exhaust the stack. */
#include "crm/pbjson.h"
#include "pbdesc.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBJSON_MAX_DEPTH 100
#define PBJSON_PATH_MAX 256

/* Address of a member of a message at a descriptor offset. */
#define PBJSON_AT(base, off) ((void *)((char *)(base) + (off)))
#define PBJSON_CAT(base, off) ((const void *)((const char *)(base) + (off)))

/* Mirrors protobuf-c's "zeroish" test for proto3 plain fields. */
static bool s_is_zeroish(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)p == 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int32_t *)p == 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)p == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return *(const int64_t *)p == 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)p == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const ProtobufCMessage *const *)p == NULL;
    }
    return true;
}

/* Whether a non-repeated field would be packed (see the file comment). */
static bool s_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const void *member = PBJSON_CAT(msg, f->offset);

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)PBJSON_CAT(msg, f->quantifier_offset) != f->id)
            return false;
        if (crm_pb_is_pointer_type(f->type)) {
            const void *ptr = *(const void *const *)member;
            return ptr != NULL && ptr != f->default_value;
        }
        return true;
    }
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        if (crm_pb_is_pointer_type(f->type))
            return *(const void *const *)member != NULL;
        return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (crm_pb_is_pointer_type(f->type)) {
            const void *ptr = *(const void *const *)member;
            return ptr != NULL && ptr != f->default_value;
        }
        return *(const protobuf_c_boolean *)PBJSON_CAT(msg, f->quantifier_offset) != 0;
    case PROTOBUF_C_LABEL_NONE:
        return !s_is_zeroish(f, member);
    case PROTOBUF_C_LABEL_REPEATED:
        break;
    }
    return false;
}

/* ---- base64 ---------------------------------------------------------- */

static json_t *s_b64_encode(const uint8_t *data, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen, i, o = 0;
    char *buf;
    json_t *j;

    if (data == NULL)
        len = 0;
    if (len > (SIZE_MAX / 4 - 1) * 3)
        return NULL;
    olen = (len + 2) / 3 * 4;
    buf = malloc(olen + 1);
    if (buf == NULL)
        return NULL;
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        buf[o++] = tbl[v >> 18 & 63];
        buf[o++] = tbl[v >> 12 & 63];
        buf[o++] = tbl[v >> 6 & 63];
        buf[o++] = tbl[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        buf[o++] = tbl[v >> 18 & 63];
        buf[o++] = tbl[v >> 12 & 63];
        buf[o++] = '=';
        buf[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        buf[o++] = tbl[v >> 18 & 63];
        buf[o++] = tbl[v >> 12 & 63];
        buf[o++] = tbl[v >> 6 & 63];
        buf[o++] = '=';
    }
    buf[o] = '\0';
    j = json_stringn_nocheck(buf, o);
    free(buf);
    return j;
}

/* Standard and URL-safe alphabets both decode; -1 for anything else. */

/* ---- message -> JSON ------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p, or 0 if it is malformed. */
static size_t s_utf8_seq(const unsigned char *p, size_t avail)
{
    uint32_t cp, min;
    size_t n, i;

    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = p[0] & 0x1F;
        min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = p[0] & 0x0F;
        min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = p[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n > avail)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* A JSON string for `s`, replacing malformed UTF-8 with U+FFFD. */
static json_t *s_json_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len, i = 0, o = 0;
    char *buf;
    json_t *j;

    j = json_string(s);
    if (j != NULL)
        return j;
    len = strlen(s);
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    buf = malloc(len * 3 + 1);
    if (buf == NULL)
        return NULL;
    while (i < len) {
        size_t n = s_utf8_seq(p + i, len - i);
        if (n == 0) {
            buf[o++] = (char)0xEF;
            buf[o++] = (char)0xBF;
            buf[o++] = (char)0xBD;
            i++;
        } else {
            memcpy(buf + o, p + i, n);
            o += n;
            i += n;
        }
    }
    j = json_stringn_nocheck(buf, o);
    free(buf);
    return j;
}

static json_t *s_json_double(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

static json_t *s_message_to_json(const ProtobufCMessage *msg, int depth);

/* One value (a singular field or one element of a repeated field) at p. */
static json_t *s_value_to_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    char num[32];

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(num, sizeof(num), "%" PRId64, *(const int64_t *)p);
        return json_string_nocheck(num);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(num, sizeof(num), "%" PRIu64, *(const uint64_t *)p);
        return json_string_nocheck(num);
    case PROTOBUF_C_TYPE_FLOAT:
        return s_json_double(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_json_double(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p != 0);
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t v = *(const int32_t *)p;
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        const ProtobufCEnumValue *ev = NULL;
        if (ed != NULL && ed->magic == PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC)
            ev = protobuf_c_enum_descriptor_get_value(ed, v);
        if (ev != NULL && ev->name != NULL)
            return s_json_text(ev->name);
        return json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return s != NULL ? s_json_text(s) : json_null();
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        return s_b64_encode(bd->data, bd->len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
        return m != NULL ? s_message_to_json(m, depth + 1) : json_null();
    }
    }
    return NULL;
}

static json_t *s_repeated_to_json(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                                  int depth)
{
    size_t n = *(const size_t *)PBJSON_CAT(msg, f->quantifier_offset);
    const char *arr = *(const void *const *)PBJSON_CAT(msg, f->offset);
    size_t size = crm_pb_elem_size(f->type);
    json_t *ja;
    size_t i;

    if (size == 0)
        return NULL;
    ja = json_array();
    if (ja == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        json_t *v = s_value_to_json(f, arr + i * size, depth);
        if (v == NULL || json_array_append_new(ja, v) != 0) {
            json_decref(ja);
            return NULL;
        }
    }
    return ja;
}

static json_t *s_message_to_json(const ProtobufCMessage *msg, int depth)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *obj;
    unsigned i;

    if (depth > PBJSON_MAX_DEPTH || !crm_pb_desc_ok(desc))
        return NULL;
    obj = json_object();
    if (obj == NULL)
        return NULL;
    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        json_t *v;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (*(const size_t *)PBJSON_CAT(msg, f->quantifier_offset) == 0 ||
                *(const void *const *)PBJSON_CAT(msg, f->offset) == NULL)
                continue;
            v = s_repeated_to_json(msg, f, depth);
        } else {
            if (!s_field_present(msg, f))
                continue;
            v = s_value_to_json(f, PBJSON_CAT(msg, f->offset), depth);
        }
        if (v == NULL || json_object_set_new(obj, f->name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *crm_pbjson_from_message(const ProtobufCMessage *msg)
{
    if (msg == NULL)
        return NULL;
    return s_message_to_json(msg, 0);
}
