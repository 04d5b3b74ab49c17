/* client.c: request/reply with deadlines and retries over a DEALER socket. */
#include <crm/client.h>
#include <crm/util.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <zmq.h>

struct crm_client {
    void *zctx;
    int own_ctx;
    void *dealer;
    char *endpoint;
    char *actor;
    const crm_creds_t *creds;
    char *server;
    uint64_t next_id;
};

static void *s_connect(crm_client_t *self)
{
    void *s = zmq_socket(self->zctx, ZMQ_DEALER);
    if (!s)
        return NULL;
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    char err[256];
    if (crm_creds_client(self->creds, s, self->server, err, sizeof err) != 0 ||
        zmq_connect(s, self->endpoint) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

crm_client_t *crm_client_new(void *zctx, const char *endpoint, const crm_creds_t *creds,
                             const char *server)
{
    crm_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->own_ctx = zctx == NULL;
    self->zctx = zctx ? zctx : zmq_ctx_new();
    self->endpoint = strdup(endpoint);
    self->creds = creds;
    self->server = strdup(server);
    const char *user = getenv("USER");
    self->actor = strdup(user && *user ? user : "crmctl");
    self->next_id = (uint64_t)crm_now_us();
    if (self->zctx && self->endpoint && self->server && self->actor &&
        (self->dealer = s_connect(self)))
        return self;
    crm_client_destroy(&self);
    return NULL;
}

void crm_client_destroy(crm_client_t **self_p)
{
    crm_client_t *self = *self_p;
    if (!self)
        return;
    if (self->dealer)
        zmq_close(self->dealer);
    if (self->own_ctx && self->zctx)
        zmq_ctx_term(self->zctx);
    free(self->endpoint);
    free(self->actor);
    free(self->server);
    free(self);
    *self_p = NULL;
}

void crm_client_set_actor(crm_client_t *self, const char *actor)
{
    char *a = strdup(actor);
    if (a) {
        free(self->actor);
        self->actor = a;
    }
}

/* Answered before the command was queued, so sending it again cannot
 * apply it twice (and the same idempotency key makes sure of it anyway). */
int crm_client_busy(const Crm__V1__CommandReply *rep)
{
    return rep->status && rep->status->code == CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE &&
           rep->status->retry_after_ms > 0;
}

int64_t crm_client_retry_ms(int attempt, uint32_t hint_ms)
{
    int64_t cap = 20LL << (attempt < 7 ? attempt : 7);
    if (cap > 2000)
        cap = 2000;
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint64_t)crm_mono_us();
    return (int64_t)hint_ms + (int64_t)(r % (uint64_t)(cap + 1));
}

/* A blocking client: sleeping is fine here. */
static void s_backoff(int attempt, uint32_t hint_ms)
{
    int64_t ms = crm_client_retry_ms(attempt, hint_ms);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Packs and sends one request without waiting (ZMQ_DONTWAIT). */
static int s_send(crm_client_t *self, const Crm__V1__CommandRequest *rq)
{
    size_t n = crm__v1__command_request__get_packed_size(rq);
    uint8_t stack[4096];
    uint8_t *buf = n > sizeof stack ? malloc(n) : stack;
    if (!buf)
        return -ENOMEM;
    crm__v1__command_request__pack(rq, buf);
    int sent = zmq_send(self->dealer, buf, n, ZMQ_DONTWAIT);
    if (buf != stack)
        free(buf);
    return sent < 0 ? -errno : 0;
}

void *crm_client_socket(crm_client_t *self)
{
    return self->dealer;
}

int crm_client_send(crm_client_t *self, const char *command, const uint8_t *body, size_t len,
                    const char *idempotency_key, uint64_t *request_id)
{
    char key[CRM_UUID_LEN + 1];
    if (!idempotency_key) {
        crm_uuid_new(key);
        idempotency_key = key;
    }
    Crm__V1__CommandRequest rq = CRM__V1__COMMAND_REQUEST__INIT;
    rq.command = (char *)command;
    rq.idempotency_key = (char *)idempotency_key;
    rq.body.data = (uint8_t *)body;
    rq.body.len = len;
    rq.actor = self->actor;
    rq.correlation_id = (char *)idempotency_key;
    rq.request_id = ++self->next_id;
    *request_id = rq.request_id;
    return s_send(self, &rq);
}

int crm_client_recv(crm_client_t *self, Crm__V1__CommandReply **reply_p)
{
    *reply_p = NULL;
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->dealer, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close(&msg);
            return e == EAGAIN ? 0 : -e;
        }
        int more = zmq_msg_more(&msg);
        Crm__V1__CommandReply *rep =
            more ? NULL
                 : crm__v1__command_reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        while (more) { /* not a reply: drop the rest of it */
            zmq_msg_init(&msg);
            zmq_msg_recv(&msg, self->dealer, 0);
            more = zmq_msg_more(&msg);
            zmq_msg_close(&msg);
        }
        if (rep) {
            *reply_p = rep;
            return 1;
        }
    }
}

int crm_client_call_raw(crm_client_t *self, const char *command, const uint8_t *body, size_t len,
                        const char *idempotency_key, int timeout_ms, int attempts,
                        Crm__V1__CommandReply **reply_p)
{
    *reply_p = NULL;
    char key[CRM_UUID_LEN + 1];
    if (!idempotency_key) {
        crm_uuid_new(key);
        idempotency_key = key;
    }
    for (int a = 0; a < (attempts < 1 ? 1 : attempts); a++) {
        uint64_t request_id = 0;
        int sent = crm_client_send(self, command, body, len, idempotency_key, &request_id);
        if (sent == -ENOMEM)
            return sent;
        if (sent < 0 && a > 0) {
            /* A wedged pipe: start over on a fresh socket. */
            zmq_close(self->dealer);
            self->dealer = s_connect(self);
            if (!self->dealer)
                return -ECONNREFUSED;
            continue;
        }
        int64_t deadline = crm_mono_us() + (int64_t)timeout_ms * 1000;
        for (;;) {
            Crm__V1__CommandReply *rep = NULL;
            if (crm_client_recv(self, &rep) <= 0) {
                int64_t left = (deadline - crm_mono_us()) / 1000;
                if (left <= 0)
                    break;
                zmq_pollitem_t it = {self->dealer, 0, ZMQ_POLLIN, 0};
                if (zmq_poll(&it, 1, (long)left) < 0)
                    return -errno; /* -EINTR lets a tool stop promptly on a signal */
                continue;
            }
            /* request_id 0: the service could not read our request at all. */
            if (rep->request_id == request_id || rep->request_id == 0) {
                if (crm_client_busy(rep) && a + 1 < attempts) {
                    /* Overloaded: wait and send again with the same key. */
                    s_backoff(a, rep->status->retry_after_ms);
                    crm__v1__command_reply__free_unpacked(rep, NULL);
                    break;
                }
                *reply_p = rep;
                return 0;
            }
            crm__v1__command_reply__free_unpacked(rep, NULL); /* stale */
        }
    }
    return -ETIMEDOUT;
}

int crm_client_call(crm_client_t *self, const char *command, const ProtobufCMessage *body,
                    const char *idempotency_key, int timeout_ms, int attempts,
                    Crm__V1__CommandReply **reply_p)
{
    uint8_t stack[4096], *buf = NULL;
    size_t n = 0;
    if (body) {
        n = protobuf_c_message_get_packed_size(body);
        buf = n > sizeof stack ? malloc(n) : stack;
        if (!buf)
            return -ENOMEM;
        protobuf_c_message_pack(body, buf);
    }
    int rc =
        crm_client_call_raw(self, command, buf, n, idempotency_key, timeout_ms, attempts, reply_p);
    if (buf && buf != stack)
        free(buf);
    return rc;
}

const char *crm_status_name(int code)
{
    static const char *const names[] = {"ok",
                                        "invalid_argument",
                                        "not_found",
                                        "already_exists",
                                        "failed_precondition",
                                        "idempotency_conflict",
                                        "unavailable",
                                        "internal",
                                        "unknown_command",
                                        "malformed",
                                        "too_large",
                                        "deadline_exceeded",
                                        "permission_denied",
                                        "unauthenticated"};
    if (code >= 0 && code < (int)(sizeof names / sizeof names[0]))
        return names[code];
    return "unknown";
}
