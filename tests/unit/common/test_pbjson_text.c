/* test_pbjson_text.c: crm_pbjson_write (crm/pbjson.h), the one-pass
 * writer crm-analytics hands its runs to SQL with, gives exactly the bytes
 * of json_dumps(crm_pbjson_from_message(m), JSON_COMPACT): for every event
 * of the bus (crm.v1.Event with each payload member), filled from the
 * descriptors with edge and random values (escapes, control characters,
 * UTF-8 good and bad, empty and unset fields, 64-bit extremes, enums known
 * and unknown, nested and repeated fields), for the test schema's
 * AllTypes (floats, doubles, bytes), and for the string and integer
 * writers. test_pbjson.c's cases check the same through pbjson_helpers.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crm/cloudevent.h"
#include "crm/pbjson.h"
#include "crm/v1/event.pb-c.h"
#include "pbdesc.h"
#include "pbjson_helpers.h"
#include "pbjson_test.pb-c.h"

/* ---- random messages from the descriptors ------------------------------ */

typedef struct {
    uint64_t s;
    void **mem;
    size_t n, cap;
} s_gen_t;

static uint64_t s_rand(s_gen_t *g)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return g->s;
}

static unsigned s_below(s_gen_t *g, unsigned n)
{
    return (unsigned)(s_rand(g) % n);
}

static void *s_alloc(s_gen_t *g, size_t size)
{
    void *p = calloc(1, size ? size : 1);
    assert_non_null(p);
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->mem = realloc(g->mem, g->cap * sizeof(*g->mem));
        assert_non_null(g->mem);
    }
    g->mem[g->n++] = p;
    return p;
}

static void s_free_all(s_gen_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->mem[i]);
    free(g->mem);
    g->mem = NULL;
    g->n = g->cap = 0;
}

static const char *const s_texts[] = {
    "",
    "plain",
    "quote \" backslash \\ slash /",
    "\b\f\n\r\t",
    "\x01\x02\x1f\x7f",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8",
    "bad \xff byte",
    "overlong \xc0\x80 and \xe0\x80\x80",
    "surrogate \xed\xa0\x80",
    "truncated \xe2\x82",
    "too big \xf4\x90\x80\x80 \xf5\x80\x80\x80",
    "lone continuation \x80\xbf",
    "0123e4567-e89b-12d3-a456-426614174000",
    "x@example.com",
};

/* A string: one of the edge texts, or random bytes (any but NUL). */
static char *s_text(s_gen_t *g)
{
    size_t n, i;
    char *s;

    if (s_below(g, 3) != 0)
        return (char *)s_texts[s_below(g, sizeof(s_texts) / sizeof(s_texts[0]))];
    n = s_below(g, 12);
    s = s_alloc(g, n + 1);
    for (i = 0; i < n; i++)
        s[i] = (char)(1 + s_below(g, 255));
    return s;
}

static int64_t s_int(s_gen_t *g)
{
    static const int64_t edges[] = {0,
                                    1,
                                    -1,
                                    9,
                                    10,
                                    -10,
                                    INT32_MAX,
                                    INT32_MIN,
                                    INT64_MAX,
                                    INT64_MIN,
                                    (int64_t)1 << 53,
                                    ((int64_t)1 << 53) + 1};
    if (s_below(g, 2))
        return edges[s_below(g, sizeof(edges) / sizeof(edges[0]))];
    return (int64_t)s_rand(g) >> s_below(g, 64);
}

static double s_real(s_gen_t *g)
{
    static const double edges[] = {0.0,
                                   -0.0,
                                   0.1,
                                   1.5,
                                   1e20,
                                   1e21,
                                   1e-5,
                                   1e-7,
                                   1e100,
                                   -1e-100,
                                   5e-324,
                                   DBL_MAX,
                                   DBL_MIN,
                                   123456.0,
                                   1e16,
                                   1.0 / 3.0,
                                   9007199254740993.0,
                                   NAN,
                                   INFINITY,
                                   -INFINITY};
    uint64_t bits;
    double d;

    if (s_below(g, 2))
        return edges[s_below(g, sizeof(edges) / sizeof(edges[0]))];
    bits = s_rand(g);
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static ProtobufCMessage *s_message(s_gen_t *g, const ProtobufCMessageDescriptor *d, int depth,
                                   unsigned force);

/* A random value of f's type at p. */
static void s_value(s_gen_t *g, const ProtobufCFieldDescriptor *f, void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(int32_t *)p = (int32_t)s_int(g);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(int64_t *)p = s_int(g);
        break;
    case PROTOBUF_C_TYPE_FLOAT: {
        double d = s_real(g);
        if (isfinite(d) && fabs(d) > FLT_MAX)
            d = copysign(FLT_MAX, d); /* (out of range, the conversion is undefined) */
        *(float *)p = (float)d;
        break;
    }
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)p = s_real(g);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = (protobuf_c_boolean)s_below(g, 2);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        *(int32_t *)p =
            s_below(g, 4) ? ed->values[s_below(g, ed->n_values)].value : (int32_t)s_int(g);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        *(char **)p = s_below(g, 20) ? s_text(g) : NULL;
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = p;
        bd->len = s_below(g, 8);
        bd->data = s_alloc(g, bd->len);
        for (size_t i = 0; i < bd->len; i++)
            bd->data[i] = (uint8_t)s_rand(g);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)p =
            depth < 3 && s_below(g, 10) ? s_message(g, f->descriptor, depth + 1, 0) : NULL;
        break;
    }
}

/* A message of d with random fields; the oneof member numbered `force`
 * (0: any or none) is set. */
static ProtobufCMessage *s_message(s_gen_t *g, const ProtobufCMessageDescriptor *d, int depth,
                                   unsigned force)
{
    ProtobufCMessage *m = s_alloc(g, d->sizeof_message);

    protobuf_c_message_init(d, m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *at = (char *)m + f->offset;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (force ? f->id != force : s_below(g, 4) != 0)
                continue;
            *(uint32_t *)((char *)m + f->quantifier_offset) = f->id;
            s_value(g, f, at, depth);
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = s_below(g, 3) ? 0 : s_below(g, 4), size = crm_pb_elem_size(f->type);
            char *arr = s_alloc(g, n * size);
            for (size_t k = 0; k < n; k++)
                s_value(g, f, arr + k * size, depth);
            *(size_t *)((char *)m + f->quantifier_offset) = n;
            *(void **)at = arr;
        } else if (s_below(g, 4) != 0) {
            if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
                *(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
            s_value(g, f, at, depth);
        }
    }
    return m;
}

/* ---- the tests ------------------------------------------------------- */

static void test_every_event_type(void **state)
{
    const ProtobufCMessageDescriptor *d = &crm__v1__event__descriptor;
    s_gen_t g = {.s = 0x9E3779B97F4A7C15ULL};
    unsigned types = 0;

    (void)state;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        types++;
        for (int k = 0; k < 300; k++) {
            pbt_assert_same_text(s_message(&g, d, 0, f->id));
            s_free_all(&g);
        }
    }
    assert_true(types >= 40);
    /* No payload at all, and an empty envelope. */
    Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    pbt_assert_same_text(&ev.base);
}

static void test_random_all_types(void **state)
{
    s_gen_t g = {.s = 42};

    (void)state;
    for (int k = 0; k < 5000; k++) {
        pbt_assert_same_text(s_message(&g, &crmtest__all_types__descriptor, 0, 0));
        s_free_all(&g);
    }
}

static void test_strings(void **state)
{
    Crmtest__AllTypes m = CRMTEST__ALL_TYPES__INIT;
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;
    char s[4] = "";

    (void)state;
    /* Every byte alone and after a two-byte lead, as the field's text. */
    for (int c = 1; c < 256; c++) {
        s[0] = (char)c;
        s[1] = '\0';
        m.f_string = s;
        pbt_assert_same_text(&m.base);
        s[0] = (char)0xC3;
        s[1] = (char)c;
        m.f_string = s;
        pbt_assert_same_text(&m.base);
    }
    /* The strict writer: what json_string accepts, written as json_dumps
     * writes it; the rest refused, the buffer as it was. */
    for (size_t i = 0; i < sizeof(s_texts) / sizeof(s_texts[0]); i++) {
        json_t *j = json_string(s_texts[i]);
        size_t len = b.len;
        if (j == NULL) {
            assert_int_equal(crm_pbjson_write_string(&b, s_texts[i]), -1);
            assert_int_equal(b.len, len);
            continue;
        }
        char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_int_equal(crm_pbjson_write_string(&b, s_texts[i]), 0);
        assert_string_equal(b.text + len, want);
        free(want);
        json_decref(j);
    }
    crm_pbjson_buf_free(&b);
}

static void test_integers(void **state)
{
    static const int64_t v[] = {0, 1, -1, 10, -10, INT32_MIN, UINT32_MAX, INT64_MAX, INT64_MIN};
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        json_t *j = json_integer(v[i]);
        char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        b.len = 0;
        assert_int_equal(crm_pbjson_write_int(&b, v[i]), 0);
        assert_string_equal(b.text, want);
        free(want);
        json_decref(j);
    }
    crm_pbjson_buf_free(&b);
}

/* A run of events as crm-analytics hands it to an_apply_run
 * (services/analytics/handlers/fold.c): the array of {"s","q","e","m"}
 * that it built as a jansson tree, written in one pass. */
static void test_run_envelope(void **state)
{
    const ProtobufCMessageDescriptor *d = &crm__v1__event__descriptor;
    s_gen_t g = {.s = 7};
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;

    (void)state;
    for (int k = 0; k < 500; k++) {
        json_t *evs = json_array();
        assert_int_equal(crm_pbjson_write_raw(&b, "[", 1), 0);
        for (int i = 0; i < 5; i++) {
            Crm__V1__Event *ev = (Crm__V1__Event *)s_message(&g, d, 0, 0);
            ev->sequence = (uint64_t)s_int(&g);
            if (!ev->source)
                ev->source = (char *)"";
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(d, (unsigned)ev->payload_case);
            json_t *e = json_pack("{s:s, s:I, s:o}", "s", ev->source, "q", (json_int_t)ev->sequence,
                                  "e", crm_pbjson_from_message(&ev->base));
            if (e && f)
                assert_int_equal(json_object_set_new(e, "m", json_string(f->name)), 0);
            size_t mark = b.len;
            int rc = crm_pbjson_write_raw(&b, json_array_size(evs) ? ",{\"s\":" : "{\"s\":",
                                          json_array_size(evs) ? 6 : 5) < 0 ||
                             crm_pbjson_write_string(&b, ev->source) < 0 ||
                             crm_pbjson_write_raw(&b, ",\"q\":", 5) < 0 ||
                             crm_pbjson_write_int(&b, (int64_t)ev->sequence) < 0 ||
                             crm_pbjson_write_raw(&b, ",\"e\":", 5) < 0 ||
                             crm_pbjson_write(&b, &ev->base) < 0 ||
                             (f && (crm_pbjson_write_raw(&b, ",\"m\":", 5) < 0 ||
                                    crm_pbjson_write_string(&b, f->name) < 0)) ||
                             crm_pbjson_write_raw(&b, "}", 1) < 0
                         ? -1
                         : 0;
            /* A source that is not UTF-8: refused both ways. */
            assert_int_equal(rc == 0, e != NULL);
            if (e)
                assert_int_equal(json_array_append_new(evs, e), 0);
            else
                b.len = mark;
        }
        assert_int_equal(crm_pbjson_write_raw(&b, "]", 1), 0);
        char *want = json_dumps(evs, JSON_COMPACT);
        assert_string_equal(b.text, want);
        free(want);
        json_decref(evs);
        b.len = 0;
        s_free_all(&g);
    }
    crm_pbjson_buf_free(&b);
}

/* crm_cloudevent_write (crm/cloudevent.h, the webhooks' bodies and the
 * API's event feed): the bytes of json_dumps(crm_cloudevent_json(ev),
 * JSON_COMPACT), envelope strings that are not UTF-8 included. */
static void test_cloudevent(void **state)
{
    const ProtobufCMessageDescriptor *d = &crm__v1__event__descriptor;
    s_gen_t g = {.s = 1234567};
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;

    (void)state;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        for (int k = 0; k < 40; k++) {
            Crm__V1__Event *ev = (Crm__V1__Event *)s_message(&g, d, 0, k % 8 ? f->id : 0);
            json_t *j = crm_cloudevent_json(ev);
            assert_non_null(j);
            char *want = json_dumps(j, JSON_COMPACT);
            b.len = 0;
            assert_int_equal(crm_cloudevent_write(&b, ev), 0);
            assert_string_equal(b.text, want);
            free(want);
            json_decref(j);
            s_free_all(&g);
        }
    }
    crm_pbjson_buf_free(&b);
}

static void test_too_deep(void **state)
{
    enum { N = 150 };
    Crmtest__AllTypes *chain = calloc(N, sizeof(*chain));
    Crmtest__AllTypes init = CRMTEST__ALL_TYPES__INIT;
    crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;

    (void)state;
    assert_non_null(chain);
    for (size_t i = 0; i < N; i++) {
        chain[i] = init;
        chain[i].f_int32 = (int32_t)i;
        chain[i].child = i + 1 < N ? &chain[i + 1] : NULL;
    }
    /* Refused as crm_pbjson_from_message refuses it; what was written
     * before stays. */
    assert_int_equal(crm_pbjson_write_raw(&b, "[", 1), 0);
    assert_int_equal(crm_pbjson_write(&b, &chain[0].base), -1);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.text, "[");
    pbt_assert_same_text(&chain[N - 50].base);
    crm_pbjson_buf_free(&b);
    free(chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_event_type), cmocka_unit_test(test_random_all_types),
        cmocka_unit_test(test_strings),          cmocka_unit_test(test_integers),
        cmocka_unit_test(test_too_deep),         cmocka_unit_test(test_run_envelope),
        cmocka_unit_test(test_cloudevent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
