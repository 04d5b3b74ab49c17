/* service_router.c: a request on the ROUTER, up to its queue.
 *
 * A request is checked (frame, envelope, text fields, the principal's right
 * to run it, idempotency key, body) before it is queued, so malformed input
 * never reaches a batch; past the queue's bound it is answered UNAVAILABLE
 * with a retry hint at once. The queue and the batches are
 * service_command.c's. */
#include "access_int.h"
#include "auth.h"
#include "svc_int.h"

#include <crm/log.h>
#include <crm/pbcheck.h>
#include <crm/util.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---- the ROUTER --------------------------------------------------------- */

/* A ROUTER identity (at most 255 bytes), a NUL and a principal's name. */
#define CRM_FAIR_ID_MAX 512

static const crm_command_def_t *s_find_command(const crm_service_t *svc, const char *name)
{
    for (const crm_command_def_t *c = crm_builtin_commands; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    for (const crm_command_def_t *c = svc->def->commands; c && c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return crm_clock_command(svc, name);
}

/* The keys function of a command, or NULL: it runs alone in its batch. */
static crm_command_keys_fn s_keys_of(const crm_service_t *svc, const char *name)
{
    for (const crm_command_keys_t *k = svc->def->command_keys; k && k->command; k++)
        if (!strcmp(k->command, name))
            return k->keys;
    return NULL;
}

/* Whether principal `who` may run `command`: subscriber keys read streams
 * and nothing else; a principal revoked since its handshake runs nothing.
 * Replies and returns 0 when not. */
static int s_authorised(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                        const crm_principal_t *who, const char *user,
                        const Crm__V1__CommandRequest *cr)
{
    if (!who) {
        crm_auth_refuse(svc->auth, CRM_AUTH_REVOKED, user, "a command");
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_UNAUTHENTICATED, NULL,
                                 "key is not in the directory of principals",
                                 "the key this connection was opened with has been revoked",
                                 "ask an operator for a key listed in the directory");
        return 0;
    }
    if (who->kind == CRM_KIND_SUBSCRIBER && strcmp(cr->command, "stream.info") != 0 &&
        strcmp(cr->command, "stream.replay") != 0) {
        char detail[200];
        snprintf(detail, sizeof detail,
                 "subscriber keys may run stream.info and stream.replay, "
                 "not \"%.100s\"",
                 cr->command);
        crm_auth_refuse(svc->auth, CRM_AUTH_FORBIDDEN, who->name, "a command");
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED, "command",
                                 "permission denied", detail,
                                 "use a staff or service key for this command");
        return 0;
    }
    return 1;
}

/* A gateway (crm-api) runs commands on behalf of the staff principal its
 * caller authenticated as, named in `actor`: the command is authorised
 * with that principal's roles and recorded as theirs, never with the
 * gateway's own. Only a gateway key may delegate so; from any other kind
 * `actor` is ignored, so a staff key cannot act as someone else. Returns the
 * principal to act as, or NULL after replying. */
static const crm_principal_t *s_delegate(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                                         const crm_principal_t *gateway,
                                         const Crm__V1__CommandRequest *cr)
{
    const crm_directory_t *dir = crm_auth_directory(svc->auth);
    const crm_principal_t *p = dir ? crm_directory_by_name(dir, cr->actor) : NULL;
    if (!dir)
        return gateway; /* plaintext development mode: no principals */
    if (!p || p->kind != CRM_KIND_STAFF) {
        char detail[200];
        snprintf(detail, sizeof detail, "gateway %.60s named \"%.80s\", not a staff principal",
                 gateway->name, cr->actor);
        crm_auth_refuse(svc->auth, CRM_AUTH_FORBIDDEN, gateway->name, "a delegated command");
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_UNAUTHENTICATED, "actor",
                                 "actor is not a staff principal", detail,
                                 "the directory of principals must list the caller as staff");
        return NULL;
    }
    return p;
}

/* The queue is full: answered at once, so a client learns "busy" in a
 * round trip instead of a timeout, with the time the queue takes to drain
 * at the writers' recent pace as the hint. */
static void s_overloaded(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         uint64_t request_id)
{
    size_t queued = crm_fairq_len(svc->cmdq);
    int64_t ms = crm_service_retry_ms(svc);
    char detail[200], hint[120];
    snprintf(detail, sizeof detail,
             "%zu commands queued, about %lld ms of work; limits CRM_COMMAND_QUEUE_MAX,"
             " CRM_COMMAND_QUEUE_WAIT_MS",
             queued, (long long)crm_service_queue_wait_ms(svc));
    snprintf(hint, sizeof hint, "retry after %lld ms with the same idempotency key", (long long)ms);
    Crm__V1__Status st = CRM__V1__STATUS__INIT;
    st.code = CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE;
    st.message = (char *)"service overloaded";
    st.detail = detail;
    st.hint = hint;
    st.retry_after_ms = (uint32_t)ms;
    crm_service_send_reply(svc, identity, ilen, request_id, &st, NULL, 0);
    svc->m.commands_total++;
    svc->m.commands_failed++;
    svc->m.commands_shed++;
}

/* A precondition names a read-only command of this service with a body
 * that decodes, an ETag, and a read the caller may run. Returns 1 with
 * *pre_def set, or 0 after replying. */
static int s_precondition_ok(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                             const crm_principal_t *who, const crm_command_def_t *def,
                             const Crm__V1__CommandRequest *cr, const crm_command_def_t **pre_def)
{
    const Crm__V1__Precondition *pc = cr->precondition;
    const crm_command_def_t *rd = s_find_command(svc, pc->read);
    char detail[200];
    if (def->readonly || !rd || !rd->readonly || !rd->request || !rd->fn) {
        snprintf(detail, sizeof detail, "\"%.80s\" is not a read command of %s", pc->read,
                 crm_service_name(svc));
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT,
                                 "precondition.read", "invalid precondition", detail,
                                 "name the command that reads the record this command changes");
        return 0;
    }
    size_t el = strlen(pc->etag);
    if (el == 0 || el > 64) {
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT,
                                 "precondition.etag", "invalid precondition",
                                 "the ETag is empty or longer than 64 bytes",
                                 "send the ETag the read answered with, or \"*\"");
        return 0;
    }
    ProtobufCMessage *m =
        protobuf_c_message_unpack(rd->request, NULL, pc->read_body.len, pc->read_body.data);
    if (!m) {
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED,
                                 "precondition.read_body", "malformed precondition",
                                 rd->request->name, "send the read command's request message");
        svc->m.commands_rejected++;
        return 0;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    char bad[128];
    if (crm_pb_check_strings(rd->request, pc->read_body.data, pc->read_body.len, bad, sizeof bad) <
        0) {
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED,
                                 "precondition.read_body", "malformed precondition",
                                 "a text field is not UTF-8 or holds a NUL byte",
                                 "send text fields as UTF-8 without NUL bytes");
        svc->m.commands_rejected++;
        return 0;
    }
    /* The read shows the record to the caller: it needs their right to it. */
    crm_grant_t *g = NULL;
    char denied[300];
    int admit = crm_access_admit(svc, who, rd, &g, denied, sizeof denied);
    crm_grant_destroy(&g);
    if (admit != 0) {
        if (admit == -1)
            crm_auth_refuse(svc->auth, CRM_AUTH_FORBIDDEN, who->name, "a command");
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 admit == -1 ? CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED
                                             : CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL,
                                 "precondition.read",
                                 admit == -1 ? "permission denied" : "out of memory",
                                 admit == -1 ? denied : NULL, NULL);
        return 0;
    }
    *pre_def = rd;
    return 1;
}

static void s_on_request(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         const crm_principal_t *who, const char *user, const uint8_t *data,
                         size_t len)
{
    if (len > svc->max_frame) {
        char detail[96];
        snprintf(detail, sizeof detail, "frame of %zu bytes, limit %zu", len, svc->max_frame);
        crm_service_reply_status(
            svc, identity, ilen, 0, CRM__V1__STATUS_CODE__STATUS_CODE_TOO_LARGE, NULL,
            "request too large", detail, "split the request or raise CRM_MAX_FRAME_BYTES");
        svc->m.commands_rejected++;
        return;
    }
    ProtobufCMessage *m = NULL; /* the body, once checked */
    Crm__V1__CommandRequest *cr = crm__v1__command_request__unpack(NULL, len, data);
    if (!cr) {
        crm_service_reply_status(svc, identity, ilen, 0,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, NULL,
                                 "malformed request", "the frame is not a crm.v1.CommandRequest",
                                 "send one frame holding a serialised crm.v1.CommandRequest");
        svc->m.commands_rejected++;
        return;
    }
    /* protobuf-c takes a string with a NUL or bad UTF-8 and cuts it at the
     * NUL: "k\0a" and "k\0b" would be one idempotency key (crm/pbcheck.h). */
    char bad[128];
    if (crm_pb_check_strings(&crm__v1__command_request__descriptor, data, len, bad, sizeof bad) <
        0) {
        crm_service_reply_status(
            svc, identity, ilen, cr->request_id, CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, bad,
            "malformed request", "a text field is not UTF-8 or holds a NUL byte",
            "send text fields as UTF-8 without NUL bytes");
        svc->m.commands_rejected++;
        goto done;
    }
    if (!s_authorised(svc, identity, ilen, who, user, cr))
        goto done;
    /* The client for fairness and the queue bound: the connection, or for
     * a gateway's delegated command the caller behind it, so that callers
     * sharing the gateway's one connection are served in turn like
     * clients of their own. */
    uint8_t fair[CRM_FAIR_ID_MAX];
    size_t fair_len = 0;
    if (who->kind == CRM_KIND_GATEWAY && *cr->actor) {
        who = s_delegate(svc, identity, ilen, who, cr);
        if (!who)
            goto done;
        size_t al = strlen(who->name);
        if (ilen + 1 + al <= sizeof fair) {
            memcpy(fair, identity, ilen);
            fair[ilen] = 0;
            memcpy(fair + ilen + 1, who->name, al);
            fair_len = ilen + 1 + al;
        }
    }
    if (svc->stopping) {
        crm_service_reply_status(
            svc, identity, ilen, cr->request_id, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE,
            NULL, "service is shutting down", NULL, "retry with the same idempotency key");
        goto done;
    }
    if (!strcmp(cr->command, "stream.replay")) {
        crm_builtin_replay(svc, identity, ilen, cr);
        goto done;
    }
    if (!strcmp(cr->command, "stream.info")) {
        crm_builtin_info(svc, identity, ilen, cr);
        goto done;
    }
    if (!strcmp(cr->command, "deadletter.list")) {
        /* Dead letters hold whole events, personal data included: listing
         * them is an operator's task and needs the cell that retrying them
         * needs (config.edit), not the read every role has. */
        static const crm_command_def_t dl_list = {
            .name = "deadletter.list", .record = CRM_REC_CONFIG, .action = CRM_ACT_EDIT};
        crm_grant_t *g = NULL;
        char denied[300];
        int admit = crm_access_admit(svc, who, &dl_list, &g, denied, sizeof denied);
        crm_grant_destroy(&g);
        if (admit == -1) {
            crm_auth_refuse(svc->auth, CRM_AUTH_FORBIDDEN, who->name, "a command");
            crm_service_reply_status(
                svc, identity, ilen, cr->request_id,
                CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED, "command", "permission denied",
                denied, "ask an operator for a role that grants it (docs/operations.md)");
            goto done;
        }
        crm_builtin_dl_list(svc, identity, ilen, cr);
        goto done;
    }
    const crm_command_def_t *def = s_find_command(svc, cr->command);
    if (!def) {
        char detail[160];
        snprintf(detail, sizeof detail, "command \"%.100s\" is not known to %s", cr->command,
                 crm_service_name(svc));
        crm_service_reply_status(
            svc, identity, ilen, cr->request_id, CRM__V1__STATUS_CODE__STATUS_CODE_UNKNOWN_COMMAND,
            "command", "unknown command", detail, "check the command name and the service");
        svc->m.commands_rejected++;
        goto done;
    }
    if (!def->readonly && !*cr->idempotency_key) {
        crm_service_reply_status(
            svc, identity, ilen, cr->request_id, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT,
            "idempotency_key", "idempotency key is required", cr->command,
            "send a unique key per request, and the same key when retrying it");
        goto done;
    }
    if (strlen(cr->idempotency_key) > 200) {
        crm_service_reply_status(
            svc, identity, ilen, cr->request_id, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT,
            "idempotency_key", "idempotency key is too long", "at most 200 bytes", NULL);
        goto done;
    }
    if (def->request) {
        /* Check the body now so malformed input never reaches a batch. */
        m = protobuf_c_message_unpack(def->request, NULL, cr->body.len, cr->body.data);
        if (!m) {
            crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                     CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, "body",
                                     "malformed command body", def->request->name,
                                     "send the body as the command's request message");
            svc->m.commands_rejected++;
            goto done;
        }
        if (crm_pb_check_strings(def->request, cr->body.data, cr->body.len, bad, sizeof bad) < 0) {
            crm_service_reply_status(
                svc, identity, ilen, cr->request_id, CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED,
                bad, "malformed command body", "a text field is not UTF-8 or holds a NUL byte",
                "send text fields as UTF-8 without NUL bytes");
            svc->m.commands_rejected++;
            goto done;
        }
    }
    /* Roles (access_work.c): refused before the handler runs. */
    crm_grant_t *grant = NULL;
    char denied[300];
    int admit = crm_access_admit(svc, who, def, &grant, denied, sizeof denied);
    if (admit == -1) {
        crm_auth_refuse(svc->auth, CRM_AUTH_FORBIDDEN, who->name, "a command");
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
                                 CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED, "command",
                                 "permission denied", denied,
                                 "ask an operator for a role that grants it (docs/operations.md)");
        goto done;
    }
    const crm_command_def_t *pre_def = NULL;
    if (admit == 0 && cr->precondition &&
        !s_precondition_ok(svc, identity, ilen, who, def, cr, &pre_def)) {
        crm_grant_destroy(&grant);
        goto done;
    }
    /* Past the bound (a count, or the queue's expected wait: its length
     * over the drain rate) only a client with nothing queued gets in: a
     * flood is refused, a quiet client is not (the queue stays under the
     * bound plus one command per client). One batch's worth is always let
     * in: the next batch takes it whole, so a pipelining client's burst is
     * not refused for a rate measured when the writers were not the limit. */
    size_t queued = crm_fairq_len(svc->cmdq);
    /* What is let in must not expire: the wait bound is at most what the
     * queue's deadline leaves (the deadline less a batch's recent time). */
    int64_t wait_ms = crm_service_queue_deadline_us(svc) / 1000;
    if (wait_ms > (int64_t)svc->cmd_queue_wait_ms)
        wait_ms = (int64_t)svc->cmd_queue_wait_ms;
    if (admit == 0 &&
        (queued >= svc->cmd_queue_max ||
         (queued >= crm_service_batch_cap(svc) && crm_service_queue_wait_ms(svc) >= wait_ms)) &&
        crm_fairq_has(svc->cmdq, fair_len ? fair : identity, fair_len ? fair_len : ilen)) {
        s_overloaded(svc, identity, ilen, cr->request_id);
        crm_grant_destroy(&grant);
        goto done;
    }
    crm_work_t *w = admit == 0 ? crm_work_new(svc, CRM_WORK_CMD) : NULL;
    if (!w) {
        crm_grant_destroy(&grant);
        goto done;
    }
    w->grant = grant;
    w->cmd = def;
    w->fn = def->fn;
    w->keys_fn = s_keys_of(svc, def->name);
    /* Decoded once: the work keeps the body checked above. */
    w->request = m;
    m = NULL;
    if (w->keys_fn) {
        w->n_keys = w->keys_fn(w->request, w->keys, CRM_COMMAND_KEYS_MAX);
        if (w->n_keys > CRM_COMMAND_KEYS_MAX)
            w->n_keys = -1;
    }
    w->received_us = crm_mono_us();
    w->request_id = cr->request_id;
    w->identity = malloc(ilen ? ilen : 1);
    w->input = malloc(cr->body.len ? cr->body.len : 1);
    w->actor = strdup(who->name); /* the verified principal, never the request's word */
    w->correlation_id = strdup(cr->correlation_id);
    if (*cr->idempotency_key)
        w->idem_key = strdup(cr->idempotency_key);
    if (!w->identity || !w->input || !w->actor || !w->correlation_id ||
        (*cr->idempotency_key && !w->idem_key)) {
        crm_work_destroy(&w);
        goto done;
    }
    memcpy(w->identity, identity, ilen);
    w->identity_len = ilen;
    if (fair_len) {
        w->fair_id = malloc(fair_len);
        if (!w->fair_id) {
            crm_work_destroy(&w);
            goto done;
        }
        memcpy(w->fair_id, fair, fair_len);
        w->fair_len = fair_len;
    }
    if (cr->body.len)
        memcpy(w->input, cr->body.data, cr->body.len);
    w->input_len = cr->body.len;
    w->request_hash = crm_hash64(crm_hash64(CRM_HASH_SEED, def->name, strlen(def->name)),
                                 cr->body.data, cr->body.len);
    if (pre_def) {
        const Crm__V1__Precondition *pc = cr->precondition;
        w->pre_def = pre_def;
        w->pre_body = malloc(pc->read_body.len ? pc->read_body.len : 1);
        w->pre_etag = strdup(pc->etag);
        if (!w->pre_body || !w->pre_etag) {
            crm_work_destroy(&w);
            goto done;
        }
        if (pc->read_body.len)
            memcpy(w->pre_body, pc->read_body.data, pc->read_body.len);
        w->pre_len = pc->read_body.len;
        /* The same key with another precondition is another request. */
        w->request_hash =
            crm_hash64(crm_hash64(crm_hash64(w->request_hash, pc->read, strlen(pc->read)),
                                  pc->read_body.data, pc->read_body.len),
                       pc->etag, strlen(pc->etag));
    }
    if (crm_fairq_push(svc->cmdq, w) < 0)
        crm_work_destroy(&w);
done:
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    crm__v1__command_request__free_unpacked(cr, NULL);
}

int crm_service_on_router(crm_zwatch_t *zw, void *zsock, int cap, void *arg)
{
    crm_service_t *svc = arg;
    int n = 0;
    for (; n < cap; n++) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            break;
        }
        if (!zmq_msg_more(&id)) { /* cannot happen on ROUTER; be safe */
            zmq_msg_close(&id);
            svc->m.frames_dropped++;
            continue;
        }
        zmq_msg_init(&body);
        zmq_msg_recv(&body, zsock, 0);
        int frames = 1;
        while (zmq_msg_more(&body)) {
            zmq_msg_close(&body);
            zmq_msg_init(&body);
            zmq_msg_recv(&body, zsock, 0);
            frames++;
        }
        if (frames != 1) {
            svc->m.frames_dropped++;
            svc->m.commands_rejected++;
            crm_service_reply_status(svc, zmq_msg_data(&id), zmq_msg_size(&id), 0,
                                     CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, NULL,
                                     "too many frames", "a request is exactly one frame",
                                     "send one frame holding a serialised crm.v1.CommandRequest");
        } else {
            const char *user = zmq_msg_gets(&body, "User-Id");
            s_on_request(svc, zmq_msg_data(&id), zmq_msg_size(&id),
                         crm_auth_sender(svc->auth, &body), user ? user : "(none)",
                         zmq_msg_data(&body), zmq_msg_size(&body));
        }
        zmq_msg_close(&body);
        zmq_msg_close(&id);
    }
    /* Everything that arrived together goes into one transaction. */
    crm_service_cmd_kick(svc);
    return n;
}
