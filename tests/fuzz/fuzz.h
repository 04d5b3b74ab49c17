/* fuzz.h: what the fuzz targets of tests/fuzz share. Each target is one
 * file defining LLVMFuzzerTestOneInput; built with clang and
 * -fsanitize=fuzzer (CRM_FUZZ=ON, `make fuzz`) it is a libFuzzer binary,
 * built with replay_main.c it replays the seed corpus in `make test`. */
#ifndef CRM_FUZZ_H
#define CRM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every message type of proto/crm/v1 (generated list, descriptors.c). */
extern const ProtobufCMessageDescriptor *const crm_fuzz_descriptors[];
extern const size_t crm_fuzz_ndescriptors;

/* A property the code under test must keep does not hold: abort, so that
 * libFuzzer records the input (and the replay test fails). */
#define CRM_FUZZ_CHECK(cond)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            crm_fuzz_fail(#cond, __FILE__, __LINE__);                                              \
    } while (0)

void crm_fuzz_fail(const char *what, const char *file, int line) __attribute__((noreturn));

/* When the wire bytes `wire` of `m` pass crm_pb_check_strings: packs `m`,
 * unpacks the bytes again and checks they pack to the same bytes (what a
 * service accepts it can always encode again). */
void crm_fuzz_roundtrip(const ProtobufCMessage *m, const uint8_t *wire, size_t len);

#endif
