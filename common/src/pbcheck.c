/* pbcheck.c: the string checks protobuf-c leaves out (see crm/pbcheck.h).
 * It reads the wire format directly, because once unpacked a string cut
 * at a NUL byte cannot be told from a shorter one. */
#include <crm/pbcheck.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int crm_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0; /* a continuation byte, an overlong lead (c0, c1) or past f4 */
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

static int s_varint(const uint8_t *d, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -EBADMSG;
        uint8_t b = d[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -EBADMSG;
}

/* Appends ".name" (or "name" at the top) to the field path. */
static void s_path(char *field, size_t fieldlen, const char *name)
{
    if (!field || !fieldlen)
        return;
    size_t have = strnlen(field, fieldlen);
    snprintf(field + have, fieldlen - have, "%s%s", have ? "." : "", name);
}

static int s_check(const ProtobufCMessageDescriptor *desc, const uint8_t *d, size_t len, int depth,
                   char *field, size_t fieldlen)
{
    size_t pos = 0;
    if (depth > CRM_PB_CHECK_DEPTH)
        return -ELOOP;
    while (pos < len) {
        uint64_t key, n;
        int rc = s_varint(d, len, &pos, &key);
        if (rc < 0)
            return rc;
        uint32_t num = (uint32_t)(key >> 3);
        /* Field number 0 does not exist; protobuf-c accepts it when the key
         * is spelled in more bytes than needed (0x80 0x00), found by
         * tests/fuzz, and then cannot read back what it writes. */
        if (num == 0 || key >> 3 > 0x1fffffff)
            return -EBADMSG;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, num);
        switch (key & 7) {
        case 0:
            rc = s_varint(d, len, &pos, &n);
            if (rc < 0)
                return rc;
            break;
        case 1:
            if (len - pos < 8)
                return -EBADMSG;
            pos += 8;
            break;
        case 5:
            if (len - pos < 4)
                return -EBADMSG;
            pos += 4;
            break;
        case 2:
            rc = s_varint(d, len, &pos, &n);
            if (rc < 0)
                return rc;
            if (n > len - pos)
                return -EBADMSG;
            if (f && f->type == PROTOBUF_C_TYPE_STRING && !crm_utf8_valid(d + pos, (size_t)n)) {
                s_path(field, fieldlen, f->name);
                return -EILSEQ;
            }
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                rc = s_check(f->descriptor, d + pos, (size_t)n, depth + 1, field, fieldlen);
                if (rc < 0) {
                    /* The outer name goes first: shift the inner path. */
                    if (field && fieldlen) {
                        char inner[256];
                        snprintf(inner, sizeof inner, "%s", field);
                        snprintf(field, fieldlen, "%s%s%s", f->name, inner[0] ? "." : "", inner);
                    }
                    return rc;
                }
            }
            pos += (size_t)n;
            break;
        default:
            return -EBADMSG; /* groups (3, 4) are not proto3; 6 and 7 do not exist */
        }
    }
    return 0;
}

int crm_pb_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                         char *field, size_t fieldlen)
{
    if (field && fieldlen)
        field[0] = '\0';
    if (!desc || (!data && len))
        return -EINVAL;
    return s_check(desc, data, len, 0, field, fieldlen);
}
