/* call.c: calling services: one call with a deadline and retries, the
 * same call on several services at once (a thread each), and failures
 * printed in one style. */
#include "main.h"

#include <crm/util.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- calling services ------------------------------------------------- */

void crmctl_print_status(const crmctl_service_t *svc, const char *command,
                         const Crm__V1__Status *st)
{
    int code = st ? (int)st->code : CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL;
    const char *msg = st && st->message && *st->message ? st->message : "no message";
    fflush(stdout);
    fprintf(stderr, "crmctl: %s on %s failed: %s: %s\n", command, svc->name, crm_status_name(code),
            msg);
    if (st && st->field && *st->field)
        fprintf(stderr, "FIELD:  %s\n", st->field);
    crmctl_detail_hint(st ? st->detail : NULL, st ? st->hint : NULL);
}

void crmctl_print_unreachable(const crmctl_service_t *svc, const char *command, int err)
{
    char detail[400];
    if (svc->waited_ms > 0)
        snprintf(detail, sizeof detail, "No reply to %s from %s within %d.%03d s.", command,
                 svc->endpoint, svc->waited_ms / 1000, svc->waited_ms % 1000);
    else
        snprintf(detail, sizeof detail, "No reply to %s from %s.", command, svc->endpoint);
    crmctl_error(detail,
                 "Check that the service is running and that CRM_SERVICES (or --services, or the"
                 " context) names its command endpoint; --timeout sets how long to wait.",
                 "could not reach %s at %s: %s", svc->name, svc->endpoint,
                 err == -ETIMEDOUT ? "timeout" : strerror(-err));
}

int crmctl_call(crmctl_t *ctl, crmctl_service_t *svc, const char *command,
                const ProtobufCMessage *body, const char *idempotency_key, int timeout_ms,
                int attempts, const ProtobufCMessageDescriptor *reply_desc,
                ProtobufCMessage **reply_p, int flags, Crm__V1__CommandReply **status_p)
{
    int quiet = flags & CRMCTL_CALL_QUIET;
    if (reply_p)
        *reply_p = NULL;
    if (status_p)
        *status_p = NULL;
    if (!svc->client) {
        if (quiet ? !crmctl_creds(ctl) : crmctl_secure(ctl, NULL, svc->name) < 0)
            return CRMCTL_EXIT_USAGE;
        svc->client = crm_client_new(ctl->zctx, svc->endpoint, ctl->creds, svc->name);
        if (!svc->client) {
            /* zmq_connect refused the endpoint (errno is gone by now). */
            crmctl_result_t r = {CRMCTL_EXIT_USAGE, NULL, NULL};
            if (!quiet)
                crmctl_print_result(svc, command, &r);
            return CRMCTL_EXIT_USAGE;
        }
    }
    if (ctl->timeout_ms > 0) {
        /* --timeout is the whole wait: as many attempts of the usual length
         * as fit in it (at least one, at most the verb's), sharing it. */
        int fit = (ctl->timeout_ms + CRMCTL_TIMEOUT_MS - 1) / CRMCTL_TIMEOUT_MS;
        attempts = fit < attempts ? fit : attempts;
        if (attempts < 1)
            attempts = 1;
        timeout_ms = ctl->timeout_ms / attempts;
        if (timeout_ms < 1)
            timeout_ms = 1;
    }
    svc->waited_ms = timeout_ms * (attempts > 0 ? attempts : 1);
    Crm__V1__CommandReply *rep = NULL;
    int rc =
        crm_client_call(svc->client, command, body, idempotency_key, timeout_ms, attempts, &rep);
    if (rc < 0 || !rep) {
        if (!quiet && !(flags & CRMCTL_CALL_QUIET_DOWN))
            crmctl_print_unreachable(svc, command, rc < 0 ? rc : -ETIMEDOUT);
        return CRMCTL_EXIT_UNREACHABLE;
    }
    if (rep->status && rep->status->code != CRM__V1__STATUS_CODE__STATUS_CODE_OK) {
        if (!quiet)
            crmctl_print_status(svc, command, rep->status);
        if (status_p)
            *status_p = rep;
        else
            crm__v1__command_reply__free_unpacked(rep, NULL);
        return CRMCTL_EXIT_FAILED;
    }
    if (reply_desc && reply_p) {
        *reply_p = protobuf_c_message_unpack(reply_desc, NULL, rep->body.len, rep->body.data);
        if (!*reply_p) {
            if (!quiet) {
                char detail[200];
                snprintf(detail, sizeof detail, "The body of %zu bytes is not a %s.", rep->body.len,
                         reply_desc->name);
                crmctl_error(detail, "Check that crmctl and the service are of the same version.",
                             "could not decode the reply of %s to %s", svc->name, command);
            }
            crm__v1__command_reply__free_unpacked(rep, NULL);
            return CRMCTL_EXIT_FAILED;
        }
    }
    crm__v1__command_reply__free_unpacked(rep, NULL);
    return CRMCTL_EXIT_OK;
}

typedef struct {
    crmctl_t *ctl;
    crmctl_service_t *svc;
    const char *command;
    const ProtobufCMessage *body;
    int timeout_ms, attempts;
    const ProtobufCMessageDescriptor *reply_desc;
    crmctl_result_t *result;
    pthread_t thread;
    int threaded;
} s_call_job_t;

static void *s_call_job(void *arg)
{
    s_call_job_t *j = arg;
    j->result->rc =
        crmctl_call(j->ctl, j->svc, j->command, j->body, NULL, j->timeout_ms, j->attempts,
                    j->reply_desc, &j->result->reply, CRMCTL_CALL_QUIET, &j->result->error);
    return NULL;
}

void crmctl_call_all(crmctl_t *ctl, crmctl_service_t *const *svcs, size_t n, const char *command,
                     const ProtobufCMessage *body, int timeout_ms, int attempts,
                     const ProtobufCMessageDescriptor *reply_desc, crmctl_result_t *results)
{
    s_call_job_t *jobs = calloc(n + 1, sizeof *jobs);
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        s_call_job_t one;
        memset(&one, 0, sizeof one);
        one.ctl = ctl;
        one.svc = svcs[i];
        one.command = command;
        one.body = body;
        one.timeout_ms = timeout_ms;
        one.attempts = attempts;
        one.reply_desc = reply_desc;
        one.result = &results[i];
        if (!jobs) { /* no memory for threads: one after the other */
            s_call_job(&one);
            continue;
        }
        jobs[i] = one;
        jobs[i].threaded = pthread_create(&jobs[i].thread, NULL, s_call_job, &jobs[i]) == 0;
        if (!jobs[i].threaded)
            s_call_job(&jobs[i]);
    }
    /* Joining is the memory barrier that hands each socket back to us. */
    for (size_t i = 0; jobs && i < n; i++)
        if (jobs[i].threaded)
            pthread_join(jobs[i].thread, NULL);
    free(jobs);
}

void crmctl_print_result(const crmctl_service_t *svc, const char *command, const crmctl_result_t *r)
{
    if (r->rc == CRMCTL_EXIT_UNREACHABLE)
        crmctl_print_unreachable(svc, command, -ETIMEDOUT);
    else if (r->rc == CRMCTL_EXIT_USAGE)
        crmctl_error(NULL, "Write endpoints as tcp://HOST:PORT.",
                     "could not connect to %s at \"%s\": invalid endpoint", svc->name,
                     svc->endpoint);
    else if (r->error)
        crmctl_print_status(svc, command, r->error->status);
    else if (r->rc != CRMCTL_EXIT_OK)
        crmctl_error(NULL, "Check that crmctl and the service are of the same version.",
                     "could not decode the reply of %s to %s", svc->name, command);
}

void crmctl_result_clear(crmctl_result_t *r)
{
    if (r->reply)
        protobuf_c_message_free_unpacked(r->reply, NULL);
    if (r->error)
        crm__v1__command_reply__free_unpacked(r->error, NULL);
    memset(r, 0, sizeof *r);
}
