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

/* ---- errors ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void s_err(char *err, size_t errlen, const char *fmt,
                                                        ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Writes `field "path": problem`. If err is too small for both, the head of
 * the path gives way to "..." so the innermost field and the problem stay. */
__attribute__((format(printf, 4, 5))) static void
s_field_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    static const char pre[] = "field \"", post[] = "\": ";
    char problem[192];
    size_t plen = strlen(path), fixed, room;
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof(problem), fmt, ap);
    va_end(ap);
    fixed = sizeof(pre) - 1 + sizeof(post) - 1 + strlen(problem) + 1;
    room = errlen > fixed ? errlen - fixed : 0;
    if (plen <= room || room < 4)
        snprintf(err, errlen, "%s%s%s%s", pre, path, post, problem);
    else
        snprintf(err, errlen, "%s...%s%s%s", pre, path + plen - (room - 3), post, problem);
}

/* Writes prefix + sep + key into out (size >= 4). When that is too long the
 * head is replaced by "..." so the innermost part of the path survives. */
static void s_path_make(char *out, size_t size, const char *prefix, const char *sep,
                        const char *key)
{
    size_t lp = strlen(prefix), ls = strlen(sep), lk = strlen(key);
    size_t total = lp + ls + lk, from, i, o = 0;

    if (total < size) {
        memcpy(out, prefix, lp);
        memcpy(out + lp, sep, ls);
        memcpy(out + lp + ls, key, lk + 1);
        return;
    }
    memcpy(out, "...", 3);
    o = 3;
    from = total - (size - 4);
    for (i = from; i < total; i++) {
        if (i < lp)
            out[o++] = prefix[i];
        else if (i < lp + ls)
            out[o++] = sep[i - lp];
        else
            out[o++] = key[i - lp - ls];
    }
    out[o] = '\0';
}

/* ---- descriptor helpers ---------------------------------------------- */

/* Size of one element of a repeated field of `type`; 0 for an unknown type. */
static size_t s_elem_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static const char *s_type_name(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
        return "int32";
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT:
        return "float";
    case PROTOBUF_C_TYPE_DOUBLE:
        return "double";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    }
    return "unknown";
}

static bool s_is_pointer_type(ProtobufCType type)
{
    return type == PROTOBUF_C_TYPE_STRING || type == PROTOBUF_C_TYPE_MESSAGE;
}

static bool s_desc_ok(const ProtobufCMessageDescriptor *desc)
{
    return desc != NULL && desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC;
}

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
        if (s_is_pointer_type(f->type)) {
            const void *ptr = *(const void *const *)member;
            return ptr != NULL && ptr != f->default_value;
        }
        return true;
    }
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        if (s_is_pointer_type(f->type))
            return *(const void *const *)member != NULL;
        return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (s_is_pointer_type(f->type)) {
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
static int s_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* 0 on success (out owns a malloc'd buffer, or is empty), -1 if `s` is not
 * base64, -2 on ENOMEM. */
static int s_b64_decode(const char *s, size_t len, ProtobufCBinaryData *out)
{
    size_t pad = 0, olen, i, o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    uint8_t *buf;

    while (len > 0 && pad < 2 && s[len - 1] == '=') {
        len--;
        pad++;
    }
    if (pad > 0 && (len + pad) % 4 != 0)
        return -1;
    if (len % 4 == 1)
        return -1;
    olen = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    if (olen == 0) {
        out->len = 0;
        out->data = NULL;
        return 0;
    }
    buf = malloc(olen);
    if (buf == NULL)
        return -2;
    for (i = 0; i < len; i++) {
        int v = s_b64_value((unsigned char)s[i]);
        if (v < 0) {
            free(buf);
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out->len = olen;
    out->data = buf;
    return 0;
}

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
    size_t size = s_elem_size(f->type);
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

    if (depth > PBJSON_MAX_DEPTH || !s_desc_ok(desc))
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

/* ---- JSON -> message ------------------------------------------------- */

/* Strict decimal: optional '-', then digits, nothing else (no blanks, no
 * '+'). 0 on success, -1 if not a decimal integer, -2 if out of range
 * (which includes any negative value for an unsigned type). */
static int s_parse_decimal(const char *s, size_t len, bool is_signed, int64_t *sv, uint64_t *uv)
{
    size_t i = 0;
    char *end;

    if (strlen(s) != len)
        return -1;
    if (s[0] == '-')
        i = 1;
    if (i == len)
        return -1;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
    }
    if (!is_signed && s[0] == '-') {
        /* strtoull would wrap "-1" around; only "-0..." is in range. */
        if (strspn(s + 1, "0") != len - 1)
            return -2;
        *uv = 0;
        return 0;
    }
    errno = 0;
    if (is_signed) {
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
            return -2;
        *sv = (int64_t)v;
    } else {
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
            return -2;
        *uv = (uint64_t)v;
    }
    if (*end != '\0')
        return -1;
    return 0;
}

static bool s_get_int64(const ProtobufCFieldDescriptor *f, const json_t *j, bool is_signed,
                        int64_t *sv, uint64_t *uv, const char *path, char *err, size_t errlen)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        if (is_signed) {
            *sv = (int64_t)v;
        } else {
            if (v < 0)
                goto range;
            *uv = (uint64_t)v;
        }
        return true;
    }
    if (json_is_string(j)) {
        int rc = s_parse_decimal(json_string_value(j), json_string_length(j), is_signed, sv, uv);
        if (rc == -2)
            goto range;
        if (rc != 0) {
            s_field_err(err, errlen, path, "expected a decimal integer string");
            return false;
        }
        return true;
    }
    s_field_err(err, errlen, path, "expected an integer or a decimal string");
    return false;
range:
    s_field_err(err, errlen, path, "integer out of range for %s", s_type_name(f->type));
    return false;
}

static bool s_get_double(const json_t *j, double *out)
{
    const char *s;

    if (json_is_number(j)) {
        *out = json_number_value(j);
        return true;
    }
    if (!json_is_string(j))
        return false;
    s = json_string_value(j);
    if (strlen(s) != json_string_length(j))
        return false;
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -INFINITY;
    else
        return false;
    return true;
}

static ProtobufCMessage *s_message_from_json(const ProtobufCMessageDescriptor *desc,
                                             const json_t *obj, const char *prefix, int depth,
                                             char *err, size_t errlen);

/* Converts one value into *dst. dst is written only on success, so on
 * failure nothing new is owned by the message. */
static bool s_value_from_json(const ProtobufCFieldDescriptor *f, const json_t *j, void *dst,
                              const char *path, int depth, char *err, size_t errlen)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        json_int_t v;
        if (!json_is_integer(j)) {
            s_field_err(err, errlen, path, "expected an integer");
            return false;
        }
        v = json_integer_value(j);
        if (v < INT32_MIN || v > INT32_MAX) {
            s_field_err(err, errlen, path, "integer out of range for %s", s_type_name(f->type));
            return false;
        }
        *(int32_t *)dst = (int32_t)v;
        return true;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        json_int_t v;
        if (!json_is_integer(j)) {
            s_field_err(err, errlen, path, "expected an integer");
            return false;
        }
        v = json_integer_value(j);
        if (v < 0 || v > UINT32_MAX) {
            s_field_err(err, errlen, path, "integer out of range for %s", s_type_name(f->type));
            return false;
        }
        *(uint32_t *)dst = (uint32_t)v;
        return true;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v = 0;
        if (!s_get_int64(f, j, true, &v, NULL, path, err, errlen))
            return false;
        *(int64_t *)dst = v;
        return true;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = 0;
        if (!s_get_int64(f, j, false, NULL, &v, path, err, errlen))
            return false;
        *(uint64_t *)dst = v;
        return true;
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        if (!s_get_double(j, &v)) {
            s_field_err(err, errlen, path, "expected a number");
            return false;
        }
        if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
            *(double *)dst = v;
            return true;
        }
        if (isfinite(v) && fabs(v) > FLT_MAX) {
            s_field_err(err, errlen, path, "number out of range for float");
            return false;
        }
        *(float *)dst = (float)v;
        return true;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(j)) {
            s_field_err(err, errlen, path, "expected a boolean");
            return false;
        }
        *(protobuf_c_boolean *)dst = json_is_true(j) ? 1 : 0;
        return true;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (json_is_string(j)) {
            const char *name = json_string_value(j);
            const ProtobufCEnumValue *ev = NULL;
            if (ed != NULL && ed->magic == PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC &&
                strlen(name) == json_string_length(j))
                ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
            if (ev == NULL) {
                s_field_err(err, errlen, path, "unknown enum value \"%s\"", name);
                return false;
            }
            *(int32_t *)dst = (int32_t)ev->value;
            return true;
        }
        if (json_is_integer(j)) {
            json_int_t v = json_integer_value(j);
            if (v < INT32_MIN || v > INT32_MAX) {
                s_field_err(err, errlen, path, "integer out of range for enum");
                return false;
            }
            *(int32_t *)dst = (int32_t)v;
            return true;
        }
        s_field_err(err, errlen, path, "expected an enum name or number");
        return false;
    }
    case PROTOBUF_C_TYPE_STRING: {
        size_t len;
        char *s;
        if (!json_is_string(j)) {
            s_field_err(err, errlen, path, "expected a string");
            return false;
        }
        len = json_string_length(j);
        if (strlen(json_string_value(j)) != len) {
            s_field_err(err, errlen, path, "string contains a NUL character");
            return false;
        }
        s = malloc(len + 1);
        if (s == NULL) {
            s_field_err(err, errlen, path, "out of memory");
            return false;
        }
        memcpy(s, json_string_value(j), len + 1);
        *(char **)dst = s;
        return true;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData bd;
        int rc;
        if (!json_is_string(j)) {
            s_field_err(err, errlen, path, "expected a base64 string");
            return false;
        }
        rc = s_b64_decode(json_string_value(j), json_string_length(j), &bd);
        if (rc != 0) {
            s_field_err(err, errlen, path, "%s", rc == -2 ? "out of memory" : "invalid base64");
            return false;
        }
        *(ProtobufCBinaryData *)dst = bd;
        return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub;
        if (!json_is_object(j)) {
            s_field_err(err, errlen, path, "expected an object");
            return false;
        }
        if (depth + 1 > PBJSON_MAX_DEPTH) {
            s_field_err(err, errlen, path, "nested too deeply");
            return false;
        }
        sub = s_message_from_json(f->descriptor, j, path, depth + 1, err, errlen);
        if (sub == NULL)
            return false;
        *(ProtobufCMessage **)dst = sub;
        return true;
    }
    }
    s_field_err(err, errlen, path, "unsupported field type");
    return false;
}

/* Fills a repeated field. The array is attached to the message before the
 * elements are converted and the count grows one complete element at a
 * time, so protobuf_c_message_free_unpacked() cleans up after a failure. */
static bool s_repeated_from_json(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                                 const json_t *ja, const char *path, int depth, char *err,
                                 size_t errlen)
{
    size_t *count = PBJSON_AT(msg, f->quantifier_offset);
    size_t n, size, i;
    char *arr;

    if (!json_is_array(ja)) {
        s_field_err(err, errlen, path, "expected an array");
        return false;
    }
    n = json_array_size(ja);
    if (n == 0)
        return true;
    size = s_elem_size(f->type);
    if (size == 0) {
        s_field_err(err, errlen, path, "unsupported field type");
        return false;
    }
    arr = calloc(n, size);
    if (arr == NULL) {
        s_field_err(err, errlen, path, "out of memory");
        return false;
    }
    *(void **)PBJSON_AT(msg, f->offset) = arr;
    *count = 0;
    for (i = 0; i < n; i++) {
        char epath[PBJSON_PATH_MAX], index[32];
        snprintf(index, sizeof(index), "[%zu]", i);
        s_path_make(epath, sizeof(epath), path, index, "");
        if (!s_value_from_json(f, json_array_get(ja, i), arr + i * size, epath, depth, err, errlen))
            return false;
        *count = i + 1;
    }
    return true;
}

/* Name of the oneof member with id `id` sharing f's case member. */
static const char *s_oneof_member_name(const ProtobufCMessageDescriptor *desc,
                                       const ProtobufCFieldDescriptor *f, uint32_t id)
{
    unsigned i;

    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *o = &desc->fields[i];
        if ((o->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            o->quantifier_offset == f->quantifier_offset && o->id == id)
            return o->name;
    }
    return "?";
}

static bool s_field_from_json(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                              const json_t *val, const char *path, int depth, char *err,
                              size_t errlen)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    if (json_is_null(val))
        return true;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return s_repeated_from_json(msg, f, val, path, depth, err, errlen);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = PBJSON_AT(msg, f->quantifier_offset);
        if (*which != 0) {
            s_field_err(err, errlen, path, "oneof member \"%s\" is already set",
                        s_oneof_member_name(desc, f, *which));
            return false;
        }
        if (!s_value_from_json(f, val, PBJSON_AT(msg, f->offset), path, depth, err, errlen))
            return false;
        *which = f->id;
        return true;
    }
    /* Whatever a singular pointer member holds now is the descriptor default
     * from message_init (object keys are unique), never an allocation. */
    if (!s_value_from_json(f, val, PBJSON_AT(msg, f->offset), path, depth, err, errlen))
        return false;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !s_is_pointer_type(f->type))
        *(protobuf_c_boolean *)PBJSON_AT(msg, f->quantifier_offset) = 1;
    return true;
}

static ProtobufCMessage *s_message_from_json(const ProtobufCMessageDescriptor *desc,
                                             const json_t *obj, const char *prefix, int depth,
                                             char *err, size_t errlen)
{
    ProtobufCMessage *msg;
    void *it;

    if (!s_desc_ok(desc) || desc->sizeof_message < sizeof(ProtobufCMessage)) {
        if (prefix[0] != '\0')
            s_field_err(err, errlen, prefix, "invalid message descriptor");
        else
            s_err(err, errlen, "invalid message descriptor");
        return NULL;
    }
    msg = malloc(desc->sizeof_message);
    if (msg == NULL) {
        s_err(err, errlen, "out of memory");
        return NULL;
    }
    protobuf_c_message_init(desc, msg);

    for (it = json_object_iter((json_t *)obj); it != NULL;
         it = json_object_iter_next((json_t *)obj, it)) {
        const char *key = json_object_iter_key(it);
        const ProtobufCFieldDescriptor *f = NULL;
        char path[PBJSON_PATH_MAX];

        s_path_make(path, sizeof(path), prefix, prefix[0] != '\0' ? "." : "", key);
        /* A key with an embedded NUL must not alias a real field name. */
        if (strlen(key) == json_object_iter_key_len(it))
            f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
        if (f == NULL) {
            s_err(err, errlen, "unknown field \"%s\"", path);
            goto fail;
        }
        if (!s_field_from_json(msg, f, json_object_iter_value(it), path, depth, err, errlen))
            goto fail;
    }
    return msg;

fail:
    protobuf_c_message_free_unpacked(msg, NULL);
    return NULL;
}

ProtobufCMessage *crm_pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *obj,
                                        char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (!json_is_object(obj)) {
        s_err(err, errlen, "expected a JSON object");
        return NULL;
    }
    return s_message_from_json(desc, obj, "", 0, err, errlen);
}
