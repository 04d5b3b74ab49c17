/* stream.c: `crmctl stream rotate-epoch`, over the built-in
 * "stream.rotate_epoch" command.
 *
 * Operators run it after restoring a service's database from an older
 * backup: the restored stream reuses sequence numbers that consumers may
 * already have applied, and the new epoch tells them to rewind to its start
 * instead of skipping what comes. */
#include "crmctl.h"

#include <crm/util.h>

#include <inttypes.h>
#include <stdio.h>

const crmctl_opt_t crmctl_stream_rotate_epoch_opts[] = {
    {"service", 's', "NAME", "the service whose stream starts a new epoch (required)", 0},
    {NULL, 0, NULL, NULL, 0},
};

int crmctl_stream_rotate_epoch(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *name = crmctl_arg(args, "service");
    if (!name)
        return crmctl_usage_error(ctl, "--service is required");
    crmctl_service_t *svc = crmctl_service_require(ctl, name);
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    /* One key per invocation: a lost request retried by the client rotates
     * once; running the verb again rotates again. */
    char key[CRM_UUID_LEN + 1];
    crm_uuid_new(key);
    Crm__V1__RotateEpochRequest rq = CRM__V1__ROTATE_EPOCH_REQUEST__INIT;
    ProtobufCMessage *m = NULL;
    int rc = crmctl_call(ctl, svc, "stream.rotate_epoch", &rq.base, key, CRMCTL_TIMEOUT_MS,
                         CRMCTL_ATTEMPTS, &crm__v1__rotate_epoch_reply__descriptor, &m, 0, NULL);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const Crm__V1__RotateEpochReply *r = (const void *)m;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        if (crmctl_json_line(json_pack("{s:s, s:s, s:o}", "service", svc->name, "epoch", r->epoch,
                                       "epoch_start_sequence",
                                       crmctl_json_u64(r->epoch_start_sequence))) < 0)
            rc = CRMCTL_EXIT_FAILED;
    } else {
        printf("%s: new stream epoch %s; it starts after sequence %" PRIu64 "\n", svc->name,
               r->epoch, r->epoch_start_sequence);
        fflush(stdout);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}
