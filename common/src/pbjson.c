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
 * recursive message type cannot exhaust the stack.
 *
 * crm_pbjson_write (at the end) writes the same JSON as text in one pass,
 * for hot paths: byte for byte what json_dumps(..., JSON_COMPACT) gives of
 * the tree, so the presence rules and string handling above are shared. */
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

/* Standard padded base64 of data into out (room for (len + 2) / 3 * 4
 * bytes); returns the length written. */
static size_t s_b64(const uint8_t *data, size_t len, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
        out[o++] = tbl[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
        out[o++] = '=';
    }
    return o;
}

static json_t *s_b64_encode(const uint8_t *data, size_t len)
{
    size_t olen;
    char *buf;
    json_t *j;

    if (data == NULL)
        len = 0;
    if (len > (SIZE_MAX / 4 - 1) * 3)
        return NULL;
    buf = malloc((len + 2) / 3 * 4 + 1);
    if (buf == NULL)
        return NULL;
    olen = s_b64(data, len, buf);
    j = json_stringn_nocheck(buf, olen);
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

/* The name of an enum field's value v, NULL if it has none (an unknown
 * value is written as its number). */
static const char *s_enum_name(const ProtobufCFieldDescriptor *f, int32_t v)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    const ProtobufCEnumValue *ev = NULL;

    if (ed != NULL && ed->magic == PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC)
        ev = protobuf_c_enum_descriptor_get_value(ed, v);
    return ev != NULL ? ev->name : NULL;
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
        const char *name = s_enum_name(f, v);
        return name != NULL ? s_json_text(name) : json_integer(v);
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

/* ---- message -> JSON text, in one pass ------------------------------- */

/* Each writer below appends exactly what json_dumps(..., JSON_COMPACT)
 * writes for the value s_value_to_json would build (jansson 2.14's
 * dump.c and strconv.c): objects keep their keys in insertion order,
 * strings escape '"', '\\' and the control characters (the short forms,
 * else \u00XX in upper case) and nothing else, reals are "%.17g" with
 * ".0" added to integral values and the exponent's '+' and leading zeros
 * dropped. The text is NUL-terminated only by the public functions. */

/* Room for n more bytes and a NUL. */
static int s_reserve(crm_pbjson_buf_t *b, size_t n)
{
    size_t cap;
    char *t;

    if (b->cap - b->len > n)
        return 0;
    if (n > SIZE_MAX / 4 - b->len)
        return -1;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n)
        cap *= 2;
    t = realloc(b->text, cap);
    if (t == NULL)
        return -1;
    b->text = t;
    b->cap = cap;
    return 0;
}

static int s_put(crm_pbjson_buf_t *b, const char *s, size_t n)
{
    if (s_reserve(b, n) < 0)
        return -1;
    memcpy(b->text + b->len, s, n);
    b->len += n;
    return 0;
}

static int s_putc(crm_pbjson_buf_t *b, char c)
{
    if (b->cap - b->len <= 1 && s_reserve(b, 1) < 0)
        return -1;
    b->text[b->len++] = c;
    return 0;
}

/* Decimal digits of v, as "%" PRIu64 / "%" PRId64 would print them. */
static int s_put_u64(crm_pbjson_buf_t *b, uint64_t v, bool neg)
{
    char d[24];
    size_t i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (neg)
        d[--i] = '-';
    return s_put(b, d + i, sizeof(d) - i);
}

static int s_put_i64(crm_pbjson_buf_t *b, int64_t v)
{
    return v < 0 ? s_put_u64(b, 0 - (uint64_t)v, true) : s_put_u64(b, (uint64_t)v, false);
}

/* s as a JSON string; malformed UTF-8 is replaced with U+FFFD when
 * `replace` (as s_json_text does), else refused (as json_string does). */
static int s_put_text(crm_pbjson_buf_t *b, const char *s, bool replace)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, from = 0;

    if (s_reserve(b, len + 2) < 0 || s_putc(b, '"') < 0)
        return -1;
    while (i < len) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char u[6];
        size_t n, elen = 2;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80) {
            n = s_utf8_seq(p + i, len - i);
            if (n != 0) {
                i += n;
                continue;
            }
            if (!replace)
                return -1;
            esc = "\xEF\xBF\xBD";
            elen = 3;
        } else {
            switch (c) {
            case '"':
                esc = "\\\"";
                break;
            case '\\':
                esc = "\\\\";
                break;
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            default:
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                esc = u;
                elen = 6;
                break;
            }
        }
        if (s_put(b, s + from, i - from) < 0 || s_put(b, esc, elen) < 0)
            return -1;
        from = ++i;
    }
    if (s_put(b, s + from, i - from) < 0)
        return -1;
    return s_putc(b, '"');
}

/* A real as jansson dumps it (jsonp_dtostr with precision 17; the
 * services keep the "C" locale, so the decimal point is '.'). */
static int s_put_double(crm_pbjson_buf_t *b, double v)
{
    char buf[48];
    char *e;
    int n;

    if (isnan(v))
        return s_put(b, "\"NaN\"", 5);
    if (isinf(v))
        return v > 0 ? s_put(b, "\"Infinity\"", 10) : s_put(b, "\"-Infinity\"", 11);
    n = snprintf(buf, sizeof(buf) - 3, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof(buf) - 3)
        return -1;
    if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    e = strchr(buf, 'e');
    if (e != NULL) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)n - (size_t)(end - buf) + 1);
            n -= (int)(end - start);
        }
    }
    return s_put(b, buf, (size_t)n);
}

static int s_write_message(crm_pbjson_buf_t *b, const ProtobufCMessage *msg, int depth);

/* One value, as s_value_to_json builds it. */
static int s_write_value(crm_pbjson_buf_t *b, const ProtobufCFieldDescriptor *f, const void *p,
                         int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return s_put_i64(b, *(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return s_put_u64(b, *(const uint32_t *)p, false);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return s_putc(b, '"') < 0 || s_put_i64(b, *(const int64_t *)p) < 0 ? -1 : s_putc(b, '"');
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return s_putc(b, '"') < 0 || s_put_u64(b, *(const uint64_t *)p, false) < 0 ? -1
                                                                                   : s_putc(b, '"');
    case PROTOBUF_C_TYPE_FLOAT:
        return s_put_double(b, *(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_put_double(b, *(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)p != 0 ? s_put(b, "true", 4) : s_put(b, "false", 5);
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t v = *(const int32_t *)p;
        const char *name = s_enum_name(f, v);
        return name != NULL ? s_put_text(b, name, true) : s_put_i64(b, v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return s != NULL ? s_put_text(b, s, true) : s_put(b, "null", 4);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        size_t len = bd->data != NULL ? bd->len : 0;
        if (len > (SIZE_MAX / 4 - 1) * 3 || s_reserve(b, (len + 2) / 3 * 4 + 2) < 0)
            return -1;
        b->text[b->len++] = '"';
        b->len += s_b64(bd->data, len, b->text + b->len);
        b->text[b->len++] = '"';
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
        return m != NULL ? s_write_message(b, m, depth + 1) : s_put(b, "null", 4);
    }
    }
    return -1;
}

static int s_write_message(crm_pbjson_buf_t *b, const ProtobufCMessage *msg, int depth)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    bool first = true;
    unsigned i;

    if (depth > PBJSON_MAX_DEPTH || !crm_pb_desc_ok(desc) || s_putc(b, '{') < 0)
        return -1;
    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (*(const size_t *)PBJSON_CAT(msg, f->quantifier_offset) == 0 ||
                *(const void *const *)PBJSON_CAT(msg, f->offset) == NULL)
                continue;
        } else if (!s_field_present(msg, f)) {
            continue;
        }
        if ((!first && s_putc(b, ',') < 0) || s_put_text(b, f->name, false) < 0 ||
            s_putc(b, ':') < 0)
            return -1;
        first = false;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)PBJSON_CAT(msg, f->quantifier_offset), k;
            const char *arr = *(const void *const *)PBJSON_CAT(msg, f->offset);
            size_t size = crm_pb_elem_size(f->type);
            if (size == 0 || s_putc(b, '[') < 0)
                return -1;
            for (k = 0; k < n; k++)
                if ((k > 0 && s_putc(b, ',') < 0) || s_write_value(b, f, arr + k * size, depth) < 0)
                    return -1;
            if (s_putc(b, ']') < 0)
                return -1;
        } else if (s_write_value(b, f, PBJSON_CAT(msg, f->offset), depth) < 0) {
            return -1;
        }
    }
    return s_putc(b, '}');
}

/* Ends a public write: the NUL on success, the old length on failure. */
static int s_done(crm_pbjson_buf_t *b, size_t mark, int rc)
{
    if (rc < 0)
        b->len = mark;
    if (b->text != NULL)
        b->text[b->len] = '\0';
    return rc < 0 ? -1 : 0;
}

int crm_pbjson_write(crm_pbjson_buf_t *b, const ProtobufCMessage *msg)
{
    size_t mark = b->len;
    return s_done(b, mark, msg != NULL ? s_write_message(b, msg, 0) : -1);
}

int crm_pbjson_write_string(crm_pbjson_buf_t *b, const char *s)
{
    size_t mark = b->len;
    return s_done(b, mark, s != NULL ? s_put_text(b, s, false) : -1);
}

int crm_pbjson_write_int(crm_pbjson_buf_t *b, int64_t v)
{
    size_t mark = b->len;
    return s_done(b, mark, s_put_i64(b, v));
}

int crm_pbjson_write_raw(crm_pbjson_buf_t *b, const char *text, size_t n)
{
    size_t mark = b->len;
    return s_done(b, mark, s_put(b, text, n));
}

void crm_pbjson_buf_free(crm_pbjson_buf_t *b)
{
    free(b->text);
    b->text = NULL;
    b->len = b->cap = 0;
}
