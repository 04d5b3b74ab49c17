/* fuzz_command.c: a command request as a service receives it on its ROUTER
 * (common/src/service_command.c, s_on_request): the frame-size limit, the
 * crm.v1.CommandRequest envelope, the checks on its strings, then the body
 * decoded as the request message of the command it names. Which message
 * type that is depends on the service's command table; here the command
 * name picks one of every crm.v1 message type, so the fuzzer reaches them
 * all by mutating the name. What decodes must encode again to the same
 * bytes. */
#include "fuzz.h"

#include <string.h>

#include <crm/v1/rpc.pb-c.h>

/* CRM_MAX_FRAME_BYTES' default: larger frames are refused unread. */
#define S_MAX_FRAME 1048576

static size_t s_pick(const char *name)
{
    /* FNV-1a: a stable choice for a given name. */
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % crm_fuzz_ndescriptors;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > S_MAX_FRAME)
        return 0;
    Crm__V1__CommandRequest *cr = crm__v1__command_request__unpack(NULL, size, data);
    if (!cr)
        return 0;
    /* protobuf-c promises NUL-terminated strings, never NULL. */
    CRM_FUZZ_CHECK(cr->command && cr->idempotency_key && cr->actor && cr->correlation_id);
    crm_fuzz_roundtrip(&cr->base, data, size);
    const ProtobufCMessageDescriptor *d = crm_fuzz_descriptors[s_pick(cr->command)];
    ProtobufCMessage *body = protobuf_c_message_unpack(d, NULL, cr->body.len, cr->body.data);
    if (body) {
        crm_fuzz_roundtrip(body, cr->body.data, cr->body.len);
        protobuf_c_message_free_unpacked(body, NULL);
    }
    crm__v1__command_request__free_unpacked(cr, NULL);
    return 0;
}
