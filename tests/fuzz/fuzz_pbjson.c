/* fuzz_pbjson.c: the protobuf <-> JSON mapping (common/src/pbjson.c).
 * Input: a mode byte, two bytes choosing one of every crm.v1 message type,
 * then the data (JSON read by crm/input.h). Mode even: the data is protobuf; a message that decodes
 * is rendered as JSON, and that JSON must read back into a message (what we print we can parse).
 * Mode odd: the data is JSON text, as a tool reads a body from a user; a message that reads is
 * rendered again. */
#include "fuzz.h"

#include <stdlib.h>

#include <crm/input.h>
#include <crm/pbjson.h>

static void s_render(const ProtobufCMessage *m, int must_parse)
{
    json_t *j = crm_pbjson_from_message(m);
    if (!j)
        return; /* out of memory */
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    free(text);
    if (must_parse) {
        char err[256];
        ProtobufCMessage *back = crm_input_message(m->descriptor, j, 0, NULL, err, sizeof err);
        CRM_FUZZ_CHECK(back != NULL);
        protobuf_c_message_free_unpacked(back, NULL);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int mode = data[0] & 1;
    const ProtobufCMessageDescriptor *d =
        crm_fuzz_descriptors[((size_t)data[1] << 8 | data[2]) % crm_fuzz_ndescriptors];
    data += 3;
    size -= 3;
    if (mode == 0) {
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size, data);
        if (!m)
            return 0;
        s_render(m, 1);
        protobuf_c_message_free_unpacked(m, NULL);
    } else {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
        if (!j)
            return 0;
        char err[256];
        ProtobufCMessage *m = crm_input_message(d, j, 0, NULL, err, sizeof err);
        json_decref(j);
        if (!m)
            return 0;
        s_render(m, 0);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return 0;
}
