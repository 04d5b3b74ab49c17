/* input.c: JSON objects to protobuf-c messages, the one reader (see
 * crm/input.h), driven only by the message descriptors.
 *
 * The mapping is the one crm/pbjson.h renders, so message -> JSON ->
 * message is the identity: names as in the .proto; 64-bit integers as
 * numbers or decimal strings; bytes as base64 (standard or URL-safe,
 * padded or not); enums by name or number; floats also as "NaN",
 * "Infinity", "-Infinity"; a oneof takes one member. Strict by default:
 * an unknown key or a value of the wrong type is an error naming the field
 * path. CRM_INPUT_LENIENT is for records the services' own SQL built
 * (jsonb_build_object): unknown keys and values that do not fit are
 * skipped, numbers and text convert where they always did.
 *
 * Memory comes from the caller's ProtobufCAllocator (NULL: malloc), so a
 * service reads a record into a work's arena; on failure everything taken
 * is given back through protobuf_c_message_free_unpacked with the same
 * allocator. Nesting is limited to INPUT_MAX_DEPTH levels so that a
 * recursive message type cannot exhaust the stack. */
#include <crm/input.h>

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

/* One read: where memory comes from, the flags, where errors go. */
typedef struct {
    ProtobufCAllocator *alloc;
    unsigned flags;
    char *err;
    size_t errlen;
} s_in_t;

static void *s_alloc(s_in_t *in, size_t size)
{
    if (in->alloc)
        return in->alloc->alloc(in->alloc->allocator_data, size ? size : 1);
    return malloc(size ? size : 1);
}

static void s_free(s_in_t *in, void *p)
{
    if (in->alloc)
        in->alloc->free(in->alloc->allocator_data, p);
    else
        free(p);
}

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
static int s_b64_decode(s_in_t *in, const char *s, size_t len, ProtobufCBinaryData *out)
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
    buf = s_alloc(in, olen);
    if (buf == NULL)
        return -2;
    for (i = 0; i < len; i++) {
        int v = s_b64_value((unsigned char)s[i]);
        if (v < 0) {
            s_free(in, buf);
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
                        int64_t *sv, uint64_t *uv, const char *path, s_in_t *in)
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
            s_field_err(in->err, in->errlen, path, "expected a decimal integer string");
            return false;
        }
        return true;
    }
    s_field_err(in->err, in->errlen, path, "expected an integer or a decimal string");
    return false;
range:
    s_field_err(in->err, in->errlen, path, "integer out of range for %s",
                crm_pb_type_name(f->type));
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
                                             s_in_t *in);

/* Converts one value into *dst. dst is written only on success, so on
 * failure nothing new is owned by the message. */
static bool s_value_strict(const ProtobufCFieldDescriptor *f, const json_t *j, void *dst,
                           const char *path, int depth, s_in_t *in)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        json_int_t v;
        if (!json_is_integer(j)) {
            s_field_err(in->err, in->errlen, path, "expected an integer");
            return false;
        }
        v = json_integer_value(j);
        if (v < INT32_MIN || v > INT32_MAX) {
            s_field_err(in->err, in->errlen, path, "integer out of range for %s",
                        crm_pb_type_name(f->type));
            return false;
        }
        *(int32_t *)dst = (int32_t)v;
        return true;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        json_int_t v;
        if (!json_is_integer(j)) {
            s_field_err(in->err, in->errlen, path, "expected an integer");
            return false;
        }
        v = json_integer_value(j);
        if (v < 0 || v > UINT32_MAX) {
            s_field_err(in->err, in->errlen, path, "integer out of range for %s",
                        crm_pb_type_name(f->type));
            return false;
        }
        *(uint32_t *)dst = (uint32_t)v;
        return true;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v = 0;
        if (!s_get_int64(f, j, true, &v, NULL, path, in))
            return false;
        *(int64_t *)dst = v;
        return true;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = 0;
        if (!s_get_int64(f, j, false, NULL, &v, path, in))
            return false;
        *(uint64_t *)dst = v;
        return true;
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        if (!s_get_double(j, &v)) {
            s_field_err(in->err, in->errlen, path, "expected a number");
            return false;
        }
        if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
            *(double *)dst = v;
            return true;
        }
        if (isfinite(v) && fabs(v) > FLT_MAX) {
            s_field_err(in->err, in->errlen, path, "number out of range for float");
            return false;
        }
        *(float *)dst = (float)v;
        return true;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(j)) {
            s_field_err(in->err, in->errlen, path, "expected a boolean");
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
                s_field_err(in->err, in->errlen, path, "unknown enum value \"%s\"", name);
                return false;
            }
            *(int32_t *)dst = (int32_t)ev->value;
            return true;
        }
        if (json_is_integer(j)) {
            json_int_t v = json_integer_value(j);
            if (v < INT32_MIN || v > INT32_MAX) {
                s_field_err(in->err, in->errlen, path, "integer out of range for enum");
                return false;
            }
            *(int32_t *)dst = (int32_t)v;
            return true;
        }
        s_field_err(in->err, in->errlen, path, "expected an enum name or number");
        return false;
    }
    case PROTOBUF_C_TYPE_STRING: {
        size_t len;
        char *s;
        if (!json_is_string(j)) {
            s_field_err(in->err, in->errlen, path, "expected a string");
            return false;
        }
        len = json_string_length(j);
        if (strlen(json_string_value(j)) != len) {
            s_field_err(in->err, in->errlen, path, "string contains a NUL character");
            return false;
        }
        s = s_alloc(in, len + 1);
        if (s == NULL) {
            s_field_err(in->err, in->errlen, path, "out of memory");
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
            s_field_err(in->err, in->errlen, path, "expected a base64 string");
            return false;
        }
        rc = s_b64_decode(in, json_string_value(j), json_string_length(j), &bd);
        if (rc != 0) {
            s_field_err(in->err, in->errlen, path, "%s",
                        rc == -2 ? "out of memory" : "invalid base64");
            return false;
        }
        *(ProtobufCBinaryData *)dst = bd;
        return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub;
        if (!json_is_object(j)) {
            s_field_err(in->err, in->errlen, path, "expected an object");
            return false;
        }
        if (depth + 1 > PBJSON_MAX_DEPTH) {
            s_field_err(in->err, in->errlen, path, "nested too deeply");
            return false;
        }
        sub = s_message_from_json(f->descriptor, j, path, depth + 1, in);
        if (sub == NULL)
            return false;
        *(ProtobufCMessage **)dst = sub;
        return true;
    }
    }
    s_field_err(in->err, in->errlen, path, "unsupported field type");
    return false;
}

/* CRM_INPUT_LENIENT: a value of another JSON type that a record has always
 * been read from (a number for a string, a real or a decimal string for an
 * integer, a number for a boolean) becomes one of the field's type, held in
 * *tmp; a value that still does not fit returns NULL and the field keeps
 * its default. */
static const json_t *s_lenient(const ProtobufCFieldDescriptor *f, const json_t *j, json_t **tmp)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (json_is_integer(j))
            return *tmp = json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return json_is_string(j) ? j : NULL;
    case PROTOBUF_C_TYPE_BOOL:
        if (json_is_integer(j))
            return *tmp = json_boolean(json_integer_value(j) != 0);
        return json_is_boolean(j) ? j : NULL;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_is_number(j) ? j : NULL;
    case PROTOBUF_C_TYPE_BYTES:
        return json_is_string(j) ? j : NULL;
    case PROTOBUF_C_TYPE_MESSAGE:
        return j; /* not an object is an error, as it always was */
    case PROTOBUF_C_TYPE_ENUM:
        if (json_is_string(j) && f->descriptor &&
            protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(j)))
            return j;
        /* a number, or a number as text, as for the integers */
        __attribute__((fallthrough));
    default: /* the integers */
        if (json_is_integer(j))
            return j;
        if (json_is_real(j))
            return *tmp = json_integer((json_int_t)json_real_value(j));
        if (json_is_boolean(j))
            return *tmp = json_integer(json_is_true(j));
        if (json_is_string(j)) {
            char *end = NULL;
            errno = 0;
            long long v = strtoll(json_string_value(j), &end, 10);
            if (errno || end == json_string_value(j) || *end)
                return NULL;
            return *tmp = json_integer((json_int_t)v);
        }
        return NULL;
    }
}

static bool s_value_from_json(const ProtobufCFieldDescriptor *f, const json_t *j, void *dst,
                              const char *path, int depth, s_in_t *in)
{
    if (!(in->flags & CRM_INPUT_LENIENT))
        return s_value_strict(f, j, dst, path, depth, in);
    json_t *tmp = NULL;
    const json_t *v = s_lenient(f, j, &tmp);
    bool ok = v == NULL || s_value_strict(f, v, dst, path, depth, in);
    json_decref(tmp);
    return ok;
}

/* Fills a repeated field. The array is attached to the message before the
 * elements are converted and the count grows one complete element at a
 * time, so protobuf_c_message_free_unpacked() cleans up after a failure. */
static bool s_repeated_from_json(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                                 const json_t *ja, const char *path, int depth, s_in_t *in)
{
    size_t *count = PBJSON_AT(msg, f->quantifier_offset);
    size_t n, size, i;
    char *arr;

    if (!json_is_array(ja) && (in->flags & CRM_INPUT_LENIENT))
        return true;
    if (!json_is_array(ja)) {
        s_field_err(in->err, in->errlen, path, "expected an array");
        return false;
    }
    n = json_array_size(ja);
    if (n == 0)
        return true;
    size = crm_pb_elem_size(f->type);
    if (size == 0) {
        s_field_err(in->err, in->errlen, path, "unsupported field type");
        return false;
    }
    arr = s_alloc(in, n * size);
    if (arr != NULL)
        memset(arr, 0, n * size);
    if (arr == NULL) {
        s_field_err(in->err, in->errlen, path, "out of memory");
        return false;
    }
    *(void **)PBJSON_AT(msg, f->offset) = arr;
    *count = 0;
    for (i = 0; i < n; i++) {
        char epath[PBJSON_PATH_MAX], index[32];
        snprintf(index, sizeof(index), "[%zu]", i);
        s_path_make(epath, sizeof(epath), path, index, "");
        if (!s_value_from_json(f, json_array_get(ja, i), arr + i * size, epath, depth, in))
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
                              const json_t *val, const char *path, int depth, s_in_t *in)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    if (json_is_null(val))
        return true;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return s_repeated_from_json(msg, f, val, path, depth, in);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = PBJSON_AT(msg, f->quantifier_offset);
        if (*which != 0) {
            s_field_err(in->err, in->errlen, path, "oneof member \"%s\" is already set",
                        s_oneof_member_name(desc, f, *which));
            return false;
        }
        if (!s_value_from_json(f, val, PBJSON_AT(msg, f->offset), path, depth, in))
            return false;
        *which = f->id;
        return true;
    }
    /* Whatever a singular pointer member holds now is the descriptor default
     * from message_init (object keys are unique), never an allocation. */
    if (!s_value_from_json(f, val, PBJSON_AT(msg, f->offset), path, depth, in))
        return false;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !crm_pb_is_pointer_type(f->type))
        *(protobuf_c_boolean *)PBJSON_AT(msg, f->quantifier_offset) = 1;
    return true;
}

static ProtobufCMessage *s_message_from_json(const ProtobufCMessageDescriptor *desc,
                                             const json_t *obj, const char *prefix, int depth,
                                             s_in_t *in)
{
    ProtobufCMessage *msg;
    void *it;

    if (!crm_pb_desc_ok(desc) || desc->sizeof_message < sizeof(ProtobufCMessage)) {
        if (prefix[0] != '\0')
            s_field_err(in->err, in->errlen, prefix, "invalid message descriptor");
        else
            s_err(in->err, in->errlen, "invalid message descriptor");
        return NULL;
    }
    msg = s_alloc(in, desc->sizeof_message);
    if (msg == NULL) {
        s_err(in->err, in->errlen, "out of memory");
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
        if (f == NULL && (in->flags & CRM_INPUT_LENIENT))
            continue;
        if (f == NULL) {
            s_err(in->err, in->errlen, "unknown field \"%s\"", path);
            goto fail;
        }
        if (!s_field_from_json(msg, f, json_object_iter_value(it), path, depth, in))
            goto fail;
    }
    return msg;

fail:
    protobuf_c_message_free_unpacked(msg, in->alloc);
    return NULL;
}

ProtobufCMessage *crm_input_message(const ProtobufCMessageDescriptor *desc, const json_t *obj,
                                    unsigned flags, ProtobufCAllocator *alloc, char *err,
                                    size_t errlen)
{
    s_in_t in = {alloc, flags, err, errlen};
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (!json_is_object(obj)) {
        s_err(err, errlen, "expected a JSON object");
        return NULL;
    }
    return s_message_from_json(desc, obj, "", 0, &in);
}
