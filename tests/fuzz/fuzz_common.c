/* fuzz_common.c: helpers of the fuzz targets (see fuzz.h). */
#include "fuzz.h"

#include <crm/pbcheck.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void crm_fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: property does not hold: %s\n", file, line, what);
    abort();
}

void crm_fuzz_roundtrip(const ProtobufCMessage *m, const uint8_t *wire, size_t len)
{
    /* Strings protobuf-c accepts but a service refuses (a NUL byte, bytes
     * that are not UTF-8: README.md, "Findings") are cut in the C view, so
     * only messages that pass the check must survive a round trip. */
    if (crm_pb_check_strings(m->descriptor, wire, len, NULL, 0) != 0)
        return;
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *a = malloc(n ? n : 1);
    CRM_FUZZ_CHECK(a != NULL);
    CRM_FUZZ_CHECK(protobuf_c_message_pack(m, a) == n);
    ProtobufCMessage *again = protobuf_c_message_unpack(m->descriptor, NULL, n, a);
    CRM_FUZZ_CHECK(again != NULL);
    size_t n2 = protobuf_c_message_get_packed_size(again);
    uint8_t *b = malloc(n2 ? n2 : 1);
    CRM_FUZZ_CHECK(b != NULL);
    CRM_FUZZ_CHECK(protobuf_c_message_pack(again, b) == n2);
    CRM_FUZZ_CHECK(n == n2 && memcmp(a, b, n) == 0);
    protobuf_c_message_free_unpacked(again, NULL);
    free(a);
    free(b);
}
