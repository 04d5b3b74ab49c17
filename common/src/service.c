/* service.c: the wiring every service shares.
 *
 * Start-up runs before the loop and may block (connect, migrate, read the
 * stream head); after that everything is asynchronous on one libuv loop.
 * Teardown is the reverse of set-up and waits for in-flight transactions,
 * bounded by CRM_SHUTDOWN_TIMEOUT_MS. */
#include "access_int.h"
#include "auth.h"
#include "svc_int.h"

#include <crm/log.h>
#include <crm/pbcheck.h>
#include <crm/metrics.h>
#include <crm/util.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

/* Settings every service has. Defaults marked NULL are filled per service. */
static const crm_conf_def_t s_common_conf[] = {
    {"CRM_PG_URL", CRM_CONF_STR, NULL, "libpq connection string of this service's database", 1, 0,
     0},
    {"CRM_PG_PASSWORD", CRM_CONF_STR, "",
     "database password, given only as CRM_PG_PASSWORD_FILE (a file, e.g. a compose secret); "
     "refused in the environment",
     1, 0, 0},
    {"CRM_BIND", CRM_CONF_STR, NULL, "ZeroMQ endpoint for commands and replay (ROUTER, bind)", 0, 0,
     0},
    {"CRM_BUS_PUB_ENDPOINT", CRM_CONF_STR, "tcp://127.0.0.1:7400",
     "bus endpoint publishers connect to (crm-bus XSUB)", 0, 0, 0},
    {"CRM_BUS_SUB_ENDPOINT", CRM_CONF_STR, "tcp://127.0.0.1:7401",
     "bus endpoint subscribers connect to (crm-bus XPUB)", 0, 0, 0},
    {"CRM_PEERS", CRM_CONF_STR, "",
     "command/replay endpoints of the sources consumed: name=endpoint,...", 0, 0, 0},
    {"CRM_HTTP_HOST", CRM_CONF_STR, "127.0.0.1", "address of /livez, /readyz, /metrics", 0, 0, 0},
    {"CRM_HTTP_PORT", CRM_CONF_INT, NULL, "port of /livez, /readyz, /metrics (0 = any)", 0, 0,
     65535},
    {"CRM_HTTP_MAX_CONNECTIONS", CRM_CONF_INT, "256",
     "open HTTP connections; a new one past it closes the oldest", 0, 8, 65536},
    {"CRM_HTTP_MAX_CONNECTIONS_PER_ADDRESS", CRM_CONF_INT, "32",
     "open HTTP connections from one IP address; a new one past it closes that address's oldest", 0,
     1, 65536},
    {"CRM_HTTP_HEAD_TIMEOUT_MS", CRM_CONF_INT, "5000",
     "longest an HTTP request may take from its first byte (not reset by more bytes)", 0, 100,
     600000},
    {"CRM_HTTP_IDLE_TIMEOUT_MS", CRM_CONF_INT, "30000",
     "longest a keep-alive HTTP connection waits for its next request", 0, 100, 3600000},
    {"CRM_LOG_LEVEL", CRM_CONF_STR, "info", "debug, info, warn or error", 0, 0, 0},
    {"CRM_KEY_FILE", CRM_CONF_STR, "", "file of this service's CURVE keypair (mode 0600)", 0, 0, 0},
    {"CRM_DIRECTORY_FILE", CRM_CONF_STR, "",
     "directory of principals: public keys, names, kinds, teams, roles (reread on SIGHUP)", 0, 0,
     0},
    {"CRM_INSECURE_PLAINTEXT", CRM_CONF_BOOL, "0",
     "development only: no CURVE, no authentication on any socket", 0, 0, 0},
    {"CRM_HEARTBEAT_MS", CRM_CONF_INT, "1000", "idle heartbeat period of the stream", 0, 10, 60000},
    {"CRM_RETENTION_DAYS", CRM_CONF_INT, "30", "days events stay replayable", 0, 1, 36500},
    {"CRM_BATCH_MAX", CRM_CONF_INT, "256", "most commands or events in one transaction", 0, 1,
     10000},
    {"CRM_REPLAY_BATCH", CRM_CONF_INT, "500", "events per replay request (consumer credit)", 0, 1,
     10000},
    {"CRM_MAX_FRAME_BYTES", CRM_CONF_INT, "1048576", "largest accepted command frame", 0, 1024,
     67108864},
    {"CRM_MAX_EVENT_BYTES", CRM_CONF_INT, "4194304",
     "largest message accepted from the bus (larger: connection dropped)", 0, 1024, 268435456},
    {"CRM_REPLAY_MAX_BYTES", CRM_CONF_INT, "1048576",
     "events bytes per replay reply served (at least one event)", 0, 65536, 67108864},
    {"CRM_REPLAY_INFLIGHT_PER_PEER", CRM_CONF_INT, "4",
     "replay requests one client may have in flight; more are refused", 0, 1, 10000},
    {"CRM_REPLAY_INFLIGHT_MAX", CRM_CONF_INT, "64",
     "replay requests in flight over all clients; more are refused", 0, 1, 100000},
    {"CRM_COMMAND_DEADLINE_MS", CRM_CONF_INT, "10000",
     "a command queued longer is answered UNAVAILABLE instead of executed", 0, 100, 3600000},
    {"CRM_SEND_HWM", CRM_CONF_INT, "1000",
     "replies queued per client that does not read before they are dropped", 0, 1, 1000000},
    {"CRM_SHUTDOWN_TIMEOUT_MS", CRM_CONF_INT, "5000", "longest graceful shutdown", 0, 100, 600000},
    {"CRM_DB_WAIT_S", CRM_CONF_INT, "30", "how long start-up waits for the database", 0, 0, 3600},
    {"CRM_TEST_CLOCK", CRM_CONF_STR, "",
     "tests only: run the clock this many microseconds ahead and serve crm.clock.set"
     " (empty = off)",
     0, 0, 0},
    {"CRM_TEST_CRASH_AFTER_COMMIT", CRM_CONF_INT, "0",
     "tests only: exit after the Nth commit with events, before publishing (0 = never)", 0, 0,
     1000000},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

static const double s_lat_bounds[CRM_LAT_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                     0.1,    0.2,   0.5,   1,     2,    5,    10};

const char *crm_service_name(const crm_service_t *svc)
{
    return svc->def->name;
}

const crm_config_t *crm_service_config(const crm_service_t *svc)
{
    return svc->config;
}

void crm_service_set_user(crm_service_t *svc, void *user)
{
    svc->user = user;
}

void *crm_service_user(const crm_service_t *svc)
{
    return svc->user;
}

void crm_service_observe_latency(crm_service_t *svc, int64_t us)
{
    double s = (double)us / 1e6;
    int i = 0;
    while (i < CRM_LAT_BUCKETS && s > s_lat_bounds[i])
        i++;
    svc->m.lat_buckets[i]++;
    svc->m.lat_sum += s;
    svc->m.lat_count++;
}

/* ---- replies ------------------------------------------------------------ */

static void s_send_reply(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         uint64_t request_id, const Crm__V1__Status *status, const uint8_t *body,
                         size_t blen)
{
    Crm__V1__CommandReply rep = CRM__V1__COMMAND_REPLY__INIT;
    rep.status = (Crm__V1__Status *)status;
    rep.body.data = (uint8_t *)body;
    rep.body.len = blen;
    rep.request_id = request_id;
    size_t n = crm__v1__command_reply__get_packed_size(&rep);
    uint8_t stack[4096];
    uint8_t *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf)
        return;
    crm__v1__command_reply__pack(&rep, buf);
    if (svc->router) {
        if (zmq_send(svc->router, identity, ilen, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            zmq_send(svc->router, buf, n, ZMQ_DONTWAIT);
        crm_zwatch_kick(svc->router_watch);
    }
    if (buf != stack)
        free(buf);
}

static void s_reply_status(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                           uint64_t request_id, Crm__V1__StatusCode code, const char *field,
                           const char *message, const char *detail, const char *hint)
{
    Crm__V1__Status st = CRM__V1__STATUS__INIT;
    st.code = code;
    st.field = (char *)(field ? field : "");
    st.message = (char *)(message ? message : "");
    st.detail = (char *)(detail ? detail : "");
    st.hint = (char *)(hint ? hint : "");
    s_send_reply(svc, identity, ilen, request_id, &st, NULL, 0);
    svc->m.commands_total++;
    svc->m.commands_failed++;
}

void crm_service_reply(crm_service_t *svc, crm_work_t *w)
{
    if (w->replied || w->kind == CRM_WORK_EVT)
        return;
    w->replied = 1;
    if (!w->identity) {
        /* Submitted by the service itself: report to the submitter. */
        if (w->state == WS_FAILED)
            crm_warn("submit.failed", "%s: %s: %s", w->submit_def.name, w->status.message,
                     w->status.detail);
        if (w->submit_done)
            w->submit_done(svc, w->state == WS_OK ? 0 : -EIO, w->submit_arg);
        return;
    }
    const crm_work_t *src = w->dup_of ? w->dup_of : w;
    Crm__V1__Status ok = CRM__V1__STATUS__INIT;
    const Crm__V1__Status *st = src->state == WS_FAILED ? &src->status : &ok;
    if (src->state != WS_FAILED && src->state != WS_OK) {
        /* The batch ended without an outcome (connection lost): retryable. */
        ok.code = CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE;
        ok.message = "database unavailable, outcome unknown";
        ok.hint = "retry with the same idempotency key";
    }
    s_send_reply(svc, w->identity, w->identity_len, w->request_id, st, st->code ? NULL : src->reply,
                 st->code ? 0 : src->reply_len);
    svc->m.commands_total++;
    if (st->code)
        svc->m.commands_failed++;
    if (w->cached)
        svc->m.commands_cached++;
    crm_service_observe_latency(svc, crm_mono_us() - w->received_us);
}

/* ---- command batches ---------------------------------------------------- */

static void s_cmd_kick(crm_service_t *svc);

uv_loop_t *crm_service_loop(crm_service_t *svc)
{
    return svc->loop;
}

int crm_service_submit(crm_service_t *svc, const char *name, crm_work_fn fn, void *arg,
                       crm_submit_done_fn done)
{
    if (svc->stopping)
        return -ESHUTDOWN;
    crm_work_t *w = crm_work_new(svc, CRM_WORK_CMD);
    if (!w)
        return -ENOMEM;
    w->submit_def.name = name;
    w->submit_def.fn = fn;
    w->cmd = &w->submit_def;
    w->fn = fn;
    w->submit_arg = arg;
    w->submit_done = done;
    w->received_us = crm_mono_us();
    w->actor = strdup(crm_service_name(svc));
    w->correlation_id = strdup("");
    if (!w->actor || !w->correlation_id) {
        crm_work_destroy(&w);
        return -ENOMEM;
    }
    if (crm_fairq_push(svc->cmdq, w) < 0) {
        crm_work_destroy(&w);
        return -ENOMEM;
    }
    s_cmd_kick(svc);
    return 0;
}

static void s_cmd_kick(crm_service_t *svc);

static void s_on_cmd_batch(crm_batch_t *b, int committed)
{
    crm_service_t *svc = b->svc;
    svc->cmd_batch = NULL;
    svc->m.batches++;
    for (size_t i = 0; i < b->n; i++) {
        crm_work_t *w = b->works[i];
        /* Not committed (connection lost, maybe during COMMIT): whatever the
         * handler said, the outcome is unknown; the client retries with the
         * same key and the idempotency record tells. */
        if (!committed && !w->replied)
            crm_work_force_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE,
                                "database unavailable, outcome unknown", b->abort_reason,
                                "retry with the same idempotency key");
        crm_service_reply(svc, w); /* no-op for works answered at their commit */
        crm_work_destroy(&b->works[i]);
    }
    crm_batch_destroy(&b);
    crm_service_maybe_finish(svc);
    s_cmd_kick(svc);
}

/* Commands wait for the database this long before "unavailable". */
#define CRM_CMD_WAIT_US 5000000

static void s_cmd_fail(crm_service_t *svc, crm_work_t *w, const char *message, const char *detail,
                       const char *hint)
{
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL, message, detail, hint);
    crm_service_reply(svc, w);
    crm_work_destroy(&w);
}

static void s_cmd_kick(crm_service_t *svc)
{
    if (!svc->cmdq)
        return;
    /* A command that waited past the deadline is answered, not executed
     * late: its client has probably given up, or is about to retry. */
    int64_t now = crm_mono_us();
    crm_work_t *w;
    while ((w = crm_fairq_expired(svc->cmdq, now - svc->cmd_deadline_us))) {
        svc->m.commands_expired++;
        s_cmd_fail(svc, w, "service overloaded", "the command waited past CRM_COMMAND_DEADLINE_MS",
                   "retry later with the same idempotency key");
    }
    if (svc->cmd_batch || crm_fairq_len(svc->cmdq) == 0)
        return;
    if (!crm_db_connected(svc->writer) || svc->stopping) {
        /* While the database reconnects, commands wait a little: most
         * outages are a restart. The housekeeping timer calls us again. */
        if (!svc->stopping && now - crm_fairq_oldest(svc->cmdq)->received_us < CRM_CMD_WAIT_US &&
            crm_fairq_len(svc->cmdq) < 100000)
            return;
        while ((w = crm_fairq_pop(svc->cmdq)))
            s_cmd_fail(svc, w, svc->stopping ? "service is shutting down" : "database unavailable",
                       NULL, "retry the command with the same idempotency key");
        return;
    }
    crm_batch_t *b = crm_batch_new(svc, svc->writer, CRM_WORK_CMD);
    if (!b)
        return;
    /* One command from each client in turn. */
    while (b->n < svc->batch_max && (w = crm_fairq_pop(svc->cmdq)))
        crm_batch_add(b, w);
    svc->cmd_batch = b;
    crm_batch_start(b, s_on_cmd_batch);
}

/* ---- built-in commands -------------------------------------------------- */

/* Head, epoch, epoch start and first retained sequence of our stream. */
static const char s_stream_head_sql[] =
    "SELECT head_seq, epoch::text, epoch_start_seq,"
    " COALESCE((SELECT min(seq) FROM crm_outbox), head_seq + 1) FROM crm_stream";

typedef struct {
    crm_service_t *svc;
    uint8_t *identity;
    size_t ilen;
    uint64_t request_id;
    int inflight; /* counted in svc->replay_inflight */
    Crm__V1__ReplayRequest *rq;
    Crm__V1__ReplayReply rr;
    int64_t received_us;
} s_sys_t;

static void s_sys_free(s_sys_t *s)
{
    if (s->rq)
        crm__v1__replay_request__free_unpacked(s->rq, NULL);
    if (s->inflight)
        crm_inflight_give(s->svc->replay_inflight, s->identity, s->ilen);
    free(s->identity);
    free(s);
}

static void s_sys_fail(s_sys_t *s, const char *what, const char *error)
{
    /* The server's text names tables: the log gets it, the client not. */
    crm_warn("command.failed", "%s: %s", what, error);
    s_reply_status(s->svc, s->identity, s->ilen, s->request_id,
                   CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL, what, NULL, "retry later");
    s_sys_free(s);
}

static void s_sys_ok(s_sys_t *s, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) {
        protobuf_c_message_pack(msg, buf);
        Crm__V1__Status ok = CRM__V1__STATUS__INIT;
        s_send_reply(s->svc, s->identity, s->ilen, s->request_id, &ok, buf, n);
        s->svc->m.commands_total++;
        crm_service_observe_latency(s->svc, crm_mono_us() - s->received_us);
        free(buf);
    }
    s_sys_free(s);
}

static int s_prefix_ok(const Crm__V1__ReplayRequest *rq, const char *type)
{
    if (rq->n_type_prefixes == 0)
        return 1;
    for (size_t i = 0; i < rq->n_type_prefixes; i++)
        if (!strncmp(type, rq->type_prefixes[i], strlen(rq->type_prefixes[i])))
            return 1;
    return 0;
}

static void s_on_replay_rows(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_sys_t *s = arg;
    if (error) {
        s_sys_fail(s, "could not read the outbox", error);
        return;
    }
    int n = PQntuples(res);
    size_t limit = s->rq->max_events;
    size_t bytes = 0, cap = (size_t)crm_config_int(s->svc->config, "CRM_REPLAY_MAX_BYTES");
    ProtobufCBinaryData *ev = calloc((size_t)n + 1, sizeof *ev);
    if (!ev) {
        s_sys_fail(s, "out of memory", NULL);
        return;
    }
    s->rr.events = ev;
    s->rr.scanned_to_sequence = s->rq->from_sequence ? s->rq->from_sequence - 1 : 0;
    int complete = 1;
    for (int i = 0; i < n; i++) {
        uint64_t seq = be64toh(*(const uint64_t *)(const void *)PQgetvalue(res, i, 0));
        size_t len = (size_t)PQgetlength(res, i, 2);
        /* At least one event per reply, however large, or replay would
         * stall on it forever. */
        if (s->rr.n_events >= limit || (s->rr.n_events > 0 && bytes + len > cap)) {
            complete = 0;
            break;
        }
        s->rr.scanned_to_sequence = seq;
        if (!s_prefix_ok(s->rq, PQgetvalue(res, i, 1)))
            continue;
        ev[s->rr.n_events].data = (uint8_t *)PQgetvalue(res, i, 2);
        ev[s->rr.n_events].len = len;
        s->rr.n_events++;
        bytes += len;
    }
    /* Fewer rows than asked for: everything up to the head was examined. */
    if (complete && (size_t)n < limit * 4 && s->rr.scanned_to_sequence < s->rr.head_sequence)
        s->rr.scanned_to_sequence = s->rr.head_sequence;
    s->svc->m.replays_served++;
    s_sys_ok(s, &s->rr.base);
    free(ev);
}

static void s_on_replay_head(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_sys_t *s = arg;
    if (error || PQntuples(res) != 1) {
        s_sys_fail(s, "could not read the stream head", error);
        return;
    }
    crm__v1__replay_reply__init(&s->rr);
    s->rr.head_sequence = (uint64_t)crm_db_get_int(res, 0, 0);
    snprintf(s->svc->epoch, sizeof s->svc->epoch, "%s", crm_db_get_str(res, 0, 1));
    s->rr.epoch = s->svc->epoch;
    s->rr.epoch_start_sequence = (uint64_t)crm_db_get_int(res, 0, 2);
    s->rr.first_retained_sequence = (uint64_t)crm_db_get_int(res, 0, 3);
    uint64_t from = s->rq->from_sequence ? s->rq->from_sequence : 1;
    if (from > s->rr.head_sequence) {
        s->rr.scanned_to_sequence = s->rr.head_sequence;
        s_sys_ok(s, &s->rr.base);
        return;
    }
    /* Filtering happens here, so read a few times the credit in rows. */
    char v0[24], v1[24], v2[24];
    snprintf(v0, sizeof v0, "%" PRIu64, from);
    snprintf(v1, sizeof v1, "%" PRIu64, s->rr.head_sequence);
    snprintf(v2, sizeof v2, "%u", s->rq->max_events * 4);
    const char *v[3] = {v0, v1, v2};
    if (crm_db_query(s->svc->reader,
                     "SELECT seq, type, event FROM crm_outbox WHERE seq >= $1 AND seq <= $2"
                     " ORDER BY seq LIMIT $3",
                     3, v, NULL, NULL, 1, s_on_replay_rows, s) < 0)
        s_sys_fail(s, "database unavailable", NULL);
}

static s_sys_t *s_sys_new(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                          uint64_t request_id)
{
    s_sys_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->svc = svc;
    s->identity = malloc(ilen ? ilen : 1);
    if (!s->identity) {
        free(s);
        return NULL;
    }
    memcpy(s->identity, identity, ilen);
    s->ilen = ilen;
    s->request_id = request_id;
    s->received_us = crm_mono_us();
    return s;
}

static void s_cmd_replay(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         const Crm__V1__CommandRequest *cr)
{
    Crm__V1__ReplayRequest *rq = crm__v1__replay_request__unpack(NULL, cr->body.len, cr->body.data);
    if (!rq) {
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, "body",
                       "malformed replay request", NULL, "send a crm.v1.ReplayRequest");
        return;
    }
    uint32_t cap = (uint32_t)crm_config_int(svc->config, "CRM_REPLAY_BATCH");
    if (rq->max_events == 0 || rq->max_events > cap)
        rq->max_events = cap;
    /* Each replay in flight holds a query and its rows: a client that asks
     * without waiting for the replies gets a short refusal instead. */
    if (crm_inflight_take(svc->replay_inflight, identity, ilen) < 0) {
        crm__v1__replay_request__free_unpacked(rq, NULL);
        svc->m.replays_refused++;
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL,
                       "too many replay requests in flight",
                       "CRM_REPLAY_INFLIGHT_PER_PEER or CRM_REPLAY_INFLIGHT_MAX reached",
                       "wait for the replies to earlier requests, then ask again");
        return;
    }
    s_sys_t *s = s_sys_new(svc, identity, ilen, cr->request_id);
    if (!s) {
        crm_inflight_give(svc->replay_inflight, identity, ilen);
        crm__v1__replay_request__free_unpacked(rq, NULL);
        return;
    }
    s->inflight = 1;
    s->rq = rq;
    if (crm_db_query(svc->reader, s_stream_head_sql, 0, NULL, NULL, NULL, 0, s_on_replay_head, s) <
        0)
        s_sys_fail(s, "database unavailable", NULL);
}

static void s_on_info(crm_db_t *db, PGresult *res, const char *error, void *arg);

/* Unresolved dead letters per consumer, then the stream itself. */
static void s_on_info_dead(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_sys_t *s = arg;
    crm_service_t *svc = s->svc;
    if (error) {
        s_sys_fail(s, "could not count dead letters", error);
        return;
    }
    for (size_t i = 0; i < svc->n_consumers; i++) {
        svc->consumers[i].dead_letters = 0;
        for (int r = 0; r < PQntuples(res); r++)
            if (!strcmp(PQgetvalue(res, r, 0), svc->consumers[i].def->name))
                svc->consumers[i].dead_letters = crm_db_get_int(res, r, 1);
    }
    if (crm_db_query(svc->reader, s_stream_head_sql, 0, NULL, NULL, NULL, 0, s_on_info, s) < 0)
        s_sys_fail(s, "database unavailable", NULL);
}

static void s_on_info(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_sys_t *s = arg;
    crm_service_t *svc = s->svc;
    if (error) {
        s_sys_fail(s, "could not read the stream", error);
        return;
    }
    Crm__V1__StreamInfoReply r = CRM__V1__STREAM_INFO_REPLY__INIT;
    r.service = (char *)crm_service_name(svc);
    r.version = (char *)crm_version();
    r.schema = (char *)crm_schema_hash();
    r.head_sequence = (uint64_t)crm_db_get_int(res, 0, 0);
    r.epoch = (char *)crm_db_get_str(res, 0, 1);
    r.epoch_start_sequence = (uint64_t)crm_db_get_int(res, 0, 2);
    r.first_retained_sequence = (uint64_t)crm_db_get_int(res, 0, 3);
    r.published_sequence = svc->relay ? crm_relay_published(svc->relay) : 0;
    r.ready = crm_db_connected(svc->writer) && crm_db_connected(svc->reader) && svc->bus_connected;
    size_t n = 0;
    for (size_t i = 0; i < svc->n_consumers; i++)
        n += svc->consumers[i].n_pos;
    Crm__V1__ConsumerInfo *ci = calloc(n + 1, sizeof *ci);
    Crm__V1__ConsumerInfo **cp = calloc(n + 1, sizeof *cp);
    if (ci && cp) {
        size_t k = 0;
        for (size_t i = 0; i < svc->n_consumers; i++) {
            crm_consumer_t *c = &svc->consumers[i];
            for (size_t j = 0; j < c->n_pos; j++, k++) {
                crm_src_pos_t *p = &c->pos[j];
                crm__v1__consumer_info__init(&ci[k]);
                ci[k].consumer = (char *)c->def->name;
                ci[k].source = p->source;
                ci[k].position = p->applied;
                ci[k].source_head = p->head;
                ci[k].lag = crm__pos_lag(p);
                ci[k].dead_letters = c->dead_letters;
                ci[k].replays = p->replays;
                ci[k].conflict = p->conflict;
                ci[k].forged = p->forged;
                cp[k] = &ci[k];
            }
        }
        r.consumers = cp;
        r.n_consumers = n;
    }
    s_sys_ok(s, &r.base);
    free(ci);
    free(cp);
}

static void s_cmd_info(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                       const Crm__V1__CommandRequest *cr)
{
    s_sys_t *s = s_sys_new(svc, identity, ilen, cr->request_id);
    if (!s)
        return;
    if (crm_db_query(svc->reader,
                     "SELECT consumer, count(*) FROM crm_dead_letter WHERE NOT resolved"
                     " GROUP BY consumer",
                     0, NULL, NULL, NULL, 0, s_on_info_dead, s) < 0)
        s_sys_fail(s, "database unavailable", NULL);
}

static void s_on_dl_list(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_sys_t *s = arg;
    if (error) {
        s_sys_fail(s, "could not read dead letters", error);
        return;
    }
    int n = PQntuples(res);
    Crm__V1__DeadLetter *d = calloc((size_t)n + 1, sizeof *d);
    Crm__V1__DeadLetter **dp = calloc((size_t)n + 1, sizeof *dp);
    Crm__V1__DeadLetterListReply r = CRM__V1__DEAD_LETTER_LIST_REPLY__INIT;
    if (d && dp) {
        for (int i = 0; i < n; i++) {
            crm__v1__dead_letter__init(&d[i]);
            d[i].id = crm_db_get_int(res, i, 0);
            d[i].consumer = PQgetvalue(res, i, 1);
            d[i].source = PQgetvalue(res, i, 2);
            d[i].sequence = (uint64_t)crm_db_get_int(res, i, 3);
            d[i].type = PQgetvalue(res, i, 4);
            d[i].error = PQgetvalue(res, i, 5);
            d[i].failed_at_us = crm_db_get_int(res, i, 6);
            d[i].attempts = (int32_t)crm_db_get_int(res, i, 7);
            dp[i] = &d[i];
        }
        r.dead_letters = dp;
        r.n_dead_letters = (size_t)n;
    }
    s_sys_ok(s, &r.base);
    free(d);
    free(dp);
}

static void s_cmd_dl_list(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                          const Crm__V1__CommandRequest *cr)
{
    Crm__V1__DeadLetterListRequest *rq =
        crm__v1__dead_letter_list_request__unpack(NULL, cr->body.len, cr->body.data);
    if (!rq) {
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, "body",
                       "malformed dead-letter list request", NULL, NULL);
        return;
    }
    char lim[16];
    snprintf(lim, sizeof lim, "%d", rq->limit > 0 && rq->limit <= 10000 ? rq->limit : 100);
    const char *v[2] = {rq->consumer, lim};
    s_sys_t *s = s_sys_new(svc, identity, ilen, cr->request_id);
    if (s && crm_db_query(svc->reader,
                          "SELECT id, consumer, source, seq, type, error,"
                          " (extract(epoch FROM failed_at) * 1000000)::bigint, attempts"
                          " FROM crm_dead_letter WHERE NOT resolved"
                          " AND ($1 = '' OR consumer = $1) ORDER BY id LIMIT $2",
                          2, v, NULL, NULL, 0, s_on_dl_list, s) < 0)
        s_sys_fail(s, "database unavailable", NULL);
    crm__v1__dead_letter_list_request__free_unpacked(rq, NULL);
}

/* stream.rotate_epoch: a work in the writer's batch like any command. */
static void s_rotated(crm_work_t *w, PGresult *res)
{
    Crm__V1__RotateEpochReply r = CRM__V1__ROTATE_EPOCH_REPLY__INIT;
    r.epoch = PQgetvalue(res, 0, 0);
    r.epoch_start_sequence = (uint64_t)crm_db_get_int(res, 0, 1);
    crm_warn("stream.epoch", "new stream epoch %s after sequence %" PRIu64, r.epoch,
             r.epoch_start_sequence);
    crm_work_ok(w, &r.base);
}

static void s_rotate_epoch(crm_work_t *w)
{
    crm_work_exec(w,
                  "WITH s AS (UPDATE crm_stream SET epoch = gen_random_uuid(),"
                  " epoch_start_seq = head_seq RETURNING epoch, epoch_start_seq)"
                  " INSERT INTO crm_stream_epoch (epoch, start_seq)"
                  " SELECT epoch, epoch_start_seq FROM s RETURNING epoch::text, start_seq",
                  0, NULL, s_rotated);
}

/* deadletter.retry: reads the dead letters and queues them for their
 * consumer; each retry commits with its effects (work.c marks it resolved
 * only if it was still unresolved, so a retry applies at most once). */
static void s_dl_rows(crm_work_t *w, PGresult *res)
{
    crm_service_t *svc = crm_work_service(w);
    Crm__V1__DeadLetterRetryReply r = CRM__V1__DEAD_LETTER_RETRY_REPLY__INIT;
    for (int i = 0; i < PQntuples(res); i++) {
        size_t len = 0;
        unsigned char *ev = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 2), &len);
        if (ev && crm_consumer_requeue(svc, PQgetvalue(res, i, 1), crm_db_get_int(res, i, 0), ev,
                                       len) == 0)
            r.queued++;
        PQfreemem(ev);
    }
    crm_work_ok(w, &r.base);
}

static void s_dl_retry(crm_work_t *w)
{
    const Crm__V1__DeadLetterRetryRequest *rq = (const void *)crm_work_request(w);
    char *ids = crm_work_alloc(w, rq->n_ids * 24 + 3);
    if (!ids) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, NULL, "out of memory", NULL,
                      NULL);
        return;
    }
    size_t at = (size_t)sprintf(ids, "{");
    for (size_t i = 0; i < rq->n_ids; i++)
        at += (size_t)sprintf(ids + at, "%s%" PRId64, i ? "," : "", rq->ids[i]);
    sprintf(ids + at, "}");
    const char *v[2] = {rq->consumer, ids};
    crm_work_query(w,
                   "SELECT id, consumer, event FROM crm_dead_letter WHERE NOT resolved"
                   " AND ($1 = '' OR consumer = $1)"
                   " AND (cardinality($2::bigint[]) = 0 OR id = ANY($2::bigint[])) ORDER BY id",
                   2, v, s_dl_rows);
}

static const crm_command_def_t s_builtin[] = {
    {"stream.rotate_epoch", &crm__v1__rotate_epoch_request__descriptor, s_rotate_epoch, 0,
     CRM_REC_CONFIG, CRM_ACT_EDIT},
    {"deadletter.retry", &crm__v1__dead_letter_retry_request__descriptor, s_dl_retry, 0,
     CRM_REC_CONFIG, CRM_ACT_EDIT},
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};

/* ---- the ROUTER --------------------------------------------------------- */

static const crm_command_def_t *s_find_command(const crm_service_t *svc, const char *name)
{
    for (const crm_command_def_t *c = s_builtin; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    for (const crm_command_def_t *c = svc->def->commands; c && c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return crm_clock_command(svc, name);
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
        s_reply_status(svc, identity, ilen, cr->request_id,
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
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED, "command",
                       "permission denied", detail, "use a staff or service key for this command");
        return 0;
    }
    return 1;
}

static void s_on_request(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         const crm_principal_t *who, const char *user, const uint8_t *data,
                         size_t len)
{
    if (len > svc->max_frame) {
        char detail[96];
        snprintf(detail, sizeof detail, "frame of %zu bytes, limit %zu", len, svc->max_frame);
        s_reply_status(svc, identity, ilen, 0, CRM__V1__STATUS_CODE__STATUS_CODE_TOO_LARGE, NULL,
                       "request too large", detail,
                       "split the request or raise CRM_MAX_FRAME_BYTES");
        svc->m.commands_rejected++;
        return;
    }
    Crm__V1__CommandRequest *cr = crm__v1__command_request__unpack(NULL, len, data);
    if (!cr) {
        s_reply_status(svc, identity, ilen, 0, CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, NULL,
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
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, bad, "malformed request",
                       "a text field is not UTF-8 or holds a NUL byte",
                       "send text fields as UTF-8 without NUL bytes");
        svc->m.commands_rejected++;
        goto done;
    }
    if (!s_authorised(svc, identity, ilen, who, user, cr))
        goto done;
    if (svc->stopping) {
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL,
                       "service is shutting down", NULL, "retry with the same idempotency key");
        goto done;
    }
    if (!strcmp(cr->command, "stream.replay")) {
        s_cmd_replay(svc, identity, ilen, cr);
        goto done;
    }
    if (!strcmp(cr->command, "stream.info")) {
        s_cmd_info(svc, identity, ilen, cr);
        goto done;
    }
    if (!strcmp(cr->command, "deadletter.list")) {
        s_cmd_dl_list(svc, identity, ilen, cr);
        goto done;
    }
    const crm_command_def_t *def = s_find_command(svc, cr->command);
    if (!def) {
        char detail[160];
        snprintf(detail, sizeof detail, "command \"%.100s\" is not known to %s", cr->command,
                 crm_service_name(svc));
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_UNKNOWN_COMMAND, "command",
                       "unknown command", detail, "check the command name and the service");
        svc->m.commands_rejected++;
        goto done;
    }
    if (!def->readonly && !*cr->idempotency_key) {
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "idempotency_key",
                       "idempotency key is required", cr->command,
                       "send a unique key per request, and the same key when retrying it");
        goto done;
    }
    if (strlen(cr->idempotency_key) > 200) {
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "idempotency_key",
                       "idempotency key is too long", "at most 200 bytes", NULL);
        goto done;
    }
    if (def->request) {
        /* Check the body now so malformed input never reaches a batch. */
        ProtobufCMessage *m =
            protobuf_c_message_unpack(def->request, NULL, cr->body.len, cr->body.data);
        if (!m) {
            s_reply_status(svc, identity, ilen, cr->request_id,
                           CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, "body",
                           "malformed command body", def->request->name,
                           "send the body as the command's request message");
            svc->m.commands_rejected++;
            goto done;
        }
        protobuf_c_message_free_unpacked(m, NULL);
        if (crm_pb_check_strings(def->request, cr->body.data, cr->body.len, bad, sizeof bad) < 0) {
            s_reply_status(
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
        s_reply_status(svc, identity, ilen, cr->request_id,
                       CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED, "command",
                       "permission denied", denied,
                       "ask an operator for a role that grants it (docs/operations.md)");
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
    if (cr->body.len)
        memcpy(w->input, cr->body.data, cr->body.len);
    w->input_len = cr->body.len;
    w->request_hash = crm_hash64(crm_hash64(CRM_HASH_SEED, def->name, strlen(def->name)),
                                 cr->body.data, cr->body.len);
    if (crm_fairq_push(svc->cmdq, w) < 0)
        crm_work_destroy(&w);
done:
    crm__v1__command_request__free_unpacked(cr, NULL);
}

static int s_on_router(crm_zwatch_t *zw, void *zsock, int cap, void *arg)
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
            s_reply_status(svc, zmq_msg_data(&id), zmq_msg_size(&id), 0,
                           CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED, NULL, "too many frames",
                           "a request is exactly one frame",
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
    s_cmd_kick(svc);
    return n;
}

/* ---- bus connection monitor ---------------------------------------------- */

static int s_on_monitor(crm_zwatch_t *zw, void *zsock, int cap, void *arg)
{
    crm_service_t *svc = arg;
    int n = 0;
    for (; n < cap; n++) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            break;
        }
        uint16_t code = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&code, zmq_msg_data(&ev), 2);
        if (zmq_msg_more(&ev)) {
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, zsock, 0);
            zmq_msg_close(&addr);
        }
        zmq_msg_close(&ev);
        if (code == ZMQ_EVENT_CONNECTED) {
            svc->bus_connected = 1;
            crm_info("bus.connected", "connected to the bus");
        } else if (code == ZMQ_EVENT_DISCONNECTED) {
            svc->bus_connected = 0;
            crm_warn("bus.disconnected", "lost the bus; reconnecting");
        }
    }
    return n;
}

/* ---- HTTP ---------------------------------------------------------------- */

static void s_metrics(crm_service_t *svc, crm_http_response_t *res)
{
    const char *n = crm_service_name(svc);
    const crm_metrics_t *m = &svc->m;
    crm_http_response_content_type(res, "text/plain; version=0.0.4; charset=utf-8");
    crm_metrics_write_std(res);
#define COUNTER(name, help, v)                                                                     \
    crm_http_response_printf(res,                                                                  \
                             "# HELP " name " " help "\n# TYPE " name " counter\n" name            \
                             "{crm_service=\"%s\"} %" PRId64 "\n",                                 \
                             n, (int64_t)(v))
#define GAUGE(name, help, v)                                                                       \
    crm_http_response_printf(res,                                                                  \
                             "# HELP " name " " help "\n# TYPE " name " gauge\n" name              \
                             "{crm_service=\"%s\"} %" PRId64 "\n",                                 \
                             n, (int64_t)(v))
    crm_auth_metrics(svc->auth, res, n);
    COUNTER("crm_commands_total", "Commands answered.", m->commands_total);
    COUNTER("crm_commands_failed_total", "Commands answered with an error.", m->commands_failed);
    COUNTER("crm_commands_idempotent_replays_total", "Retried commands answered from the record.",
            m->commands_cached);
    COUNTER("crm_commands_rejected_total", "Malformed, oversized or unknown requests.",
            m->commands_rejected);
    COUNTER("crm_frames_dropped_total", "Malformed frames dropped on any socket.",
            m->frames_dropped);
    COUNTER("crm_bus_events_refused_total",
            "Live events or heartbeats whose topic does not match their source and type.",
            m->events_refused);
    COUNTER("crm_batches_total", "Command transactions committed or ended.", m->batches);
    COUNTER("crm_batch_retries_total", "Batches rolled back and retried one by one.",
            m->batch_retries);
    COUNTER("crm_events_emitted_total", "Events committed to the outbox.", m->events_emitted);
    COUNTER("crm_events_published_total", "Events sent to the bus.", m->events_published);
    COUNTER("crm_events_consumed_total", "Events applied or dead-lettered by consumers.",
            m->events_consumed);
    COUNTER("crm_heartbeats_sent_total", "Stream heartbeats sent.", m->heartbeats_sent);
    COUNTER("crm_replays_served_total", "Replay requests answered.", m->replays_served);
    COUNTER("crm_replays_refused_total",
            "Replay requests refused: too many in flight for the client or in all.",
            m->replays_refused);
    GAUGE("crm_stream_head_sequence", "Highest committed sequence known.",
          svc->relay ? crm_relay_head(svc->relay) : 0);
    GAUGE("crm_stream_published_sequence", "Highest sequence published.",
          svc->relay ? crm_relay_published(svc->relay) : 0);
    GAUGE("crm_bus_connected", "1 when connected to the bus.", svc->bus_connected);
    GAUGE("crm_db_up", "1 when the writer connection is up.", crm_db_connected(svc->writer));
    GAUGE("crm_command_queue", "Commands waiting for the next batch.",
          svc->cmdq ? crm_fairq_len(svc->cmdq) : 0);
    COUNTER("crm_commands_expired_total",
            "Commands answered UNAVAILABLE after waiting past CRM_COMMAND_DEADLINE_MS.",
            m->commands_expired);
    crm_http_response_printf(res, "# HELP crm_command_latency_seconds Receive to reply.\n"
                                  "# TYPE crm_command_latency_seconds histogram\n");
    int64_t cum = 0;
    for (int i = 0; i < CRM_LAT_BUCKETS; i++) {
        cum += m->lat_buckets[i];
        crm_http_response_printf(res,
                                 "crm_command_latency_seconds_bucket{crm_service=\"%s\",le=\"%g\"} "
                                 "%" PRId64 "\n",
                                 n, s_lat_bounds[i], cum);
    }
    cum += m->lat_buckets[CRM_LAT_BUCKETS];
    crm_http_response_printf(res,
                             "crm_command_latency_seconds_bucket{crm_service=\"%s\",le=\"+Inf\"} "
                             "%" PRId64
                             "\ncrm_command_latency_seconds_sum{crm_service=\"%s\"} %.6f\n"
                             "crm_command_latency_seconds_count{crm_service=\"%s\"} %" PRId64 "\n",
                             n, cum, n, m->lat_sum, n, m->lat_count);
    static const char *const per[] = {
        "crm_consumer_position",
        "gauge",
        "Last applied sequence per source.",
        "crm_consumer_lag",
        "gauge",
        ("Events of the source not yet applied (events the consumer's filter skips count once "
         "passed)."),
        "crm_consumer_replays_total",
        "counter",
        "Replay requests sent.",
        "crm_consumer_gaps_total",
        "counter",
        "Gaps detected on the live stream.",
        "crm_consumer_lost_events_total",
        "counter",
        "Events gone past retention before applied.",
        "crm_consumer_conflicts_total",
        "counter",
        "Applied events the source does not have (the consumer stopped applying the source).",
        "crm_consumer_forged_total",
        "counter",
        "Live events whose id differs from the source's event at that sequence (dropped).",
    };
    for (int k = 0; k < 7; k++) {
        crm_http_response_printf(res, "# HELP %s %s\n# TYPE %s %s\n", per[3 * k], per[3 * k + 2],
                                 per[3 * k], per[3 * k + 1]);
        for (size_t i = 0; i < svc->n_consumers; i++)
            for (size_t j = 0; j < svc->consumers[i].n_pos; j++) {
                const crm_src_pos_t *p = &svc->consumers[i].pos[j];
                int64_t v = k == 0   ? (int64_t)p->applied
                            : k == 1 ? (int64_t)crm__pos_lag(p)
                            : k == 2 ? p->replays
                            : k == 3 ? p->gaps
                            : k == 4 ? p->lost
                            : k == 5 ? p->conflicts
                                     : p->forged;
                crm_http_response_printf(
                    res, "%s{crm_service=\"%s\",consumer=\"%s\",source=\"%s\"} %" PRId64 "\n",
                    per[3 * k], n, svc->consumers[i].def->name, p->source, v);
            }
    }
    crm_http_response_printf(res, "# HELP crm_consumer_dead_letters_total Events dead-lettered.\n"
                                  "# TYPE crm_consumer_dead_letters_total counter\n");
    for (size_t i = 0; i < svc->n_consumers; i++)
        crm_http_response_printf(
            res,
            "crm_consumer_dead_letters_total{crm_service=\"%s\",consumer=\"%s\"} "
            "%" PRId64 "\n",
            n, svc->consumers[i].def->name, svc->consumers[i].dead_letters_total);
    crm_http_metrics(svc->http, n, res);
#undef COUNTER
#undef GAUGE
}

static void s_on_http(const char *method, const char *path, crm_http_response_t *res, void *arg)
{
    crm_service_t *svc = arg;
    if (!strcmp(path, "/livez")) {
        crm_http_response_printf(res, "ok\n");
    } else if (!strcmp(path, "/readyz")) {
        int db = crm_db_connected(svc->writer) && crm_db_connected(svc->reader);
        if (db && svc->bus_connected && !svc->stopping) {
            crm_http_response_printf(res, "ready\n");
        } else {
            crm_http_response_status(res, 503);
            crm_http_response_printf(res, "not ready:%s%s%s\n", db ? "" : " database",
                                     svc->bus_connected ? "" : " bus",
                                     svc->stopping ? " stopping" : "");
        }
    } else if (!strcmp(path, "/metrics")) {
        s_metrics(svc, res);
    } else {
        crm_http_response_status(res, 404);
        crm_http_response_printf(res, "not found\n");
    }
}

/* ---- retention ------------------------------------------------------------ */

static void s_on_retention_done(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    if (error)
        crm_warn("retention", "could not apply retention: %s", error);
    else if (atoi(PQcmdTuples(res)) > 0)
        crm_info("retention", "removed %s expired rows", PQcmdTuples(res));
}

static void s_log_ready(crm_service_t *svc)
{
    if (svc->announced || !crm_db_connected(svc->writer) || !crm_db_connected(svc->reader))
        return;
    svc->announced = 1;
    /* The endpoint as bound: with port 0 or * in CRM_BIND the system chose
     * the port, and whoever started the service reads it here. */
    char bound[256];
    size_t blen = sizeof bound;
    if (zmq_getsockopt(svc->router, ZMQ_LAST_ENDPOINT, bound, &blen) < 0 || !bound[0])
        snprintf(bound, sizeof bound, "%s", crm_config_str(svc->config, "CRM_BIND"));
    crm_info("service.ready", "%s serving commands on %s, http on %s:%d, publishing to %s",
             crm_service_name(svc), bound, crm_config_str(svc->config, "CRM_HTTP_HOST"),
             crm_http_port(svc->http), crm_config_str(svc->config, "CRM_BUS_PUB_ENDPOINT"));
}

static void s_on_db_state(crm_db_t *db, int connected, void *arg)
{
    crm_service_t *svc = arg;
    if (!connected || svc->stopping)
        return;
    s_log_ready(svc);
    s_cmd_kick(svc);
}

static void s_on_housekeeping(uv_timer_t *t)
{
    crm_service_t *svc = t->data;
    s_cmd_kick(svc);
}

static void s_on_retention(uv_timer_t *t)
{
    crm_service_t *svc = t->data;
    char days[16];
    snprintf(days, sizeof days, "%" PRId64, crm_config_int(svc->config, "CRM_RETENTION_DAYS"));
    const char *v[1] = {days};
    /* Never drop what the relay has not published yet. */
    crm_db_query(svc->reader,
                 "DELETE FROM crm_outbox WHERE created_at < now() - make_interval(days => $1::int)"
                 " AND seq <= (SELECT published_seq FROM crm_relay)",
                 1, v, NULL, NULL, 0, s_on_retention_done, NULL);
    crm_db_query(svc->reader,
                 "DELETE FROM crm_idempotency"
                 " WHERE created_at < now() - make_interval(days => $1::int)",
                 1, v, NULL, NULL, 0, s_on_retention_done, NULL);
}

/* ---- start and stop --------------------------------------------------------- */

static void s_handle_closed(uv_handle_t *h)
{
}

/* Closes h unless it was never initialised: a start that fails half-way
 * (the HTTP port taken) tears down before the timers and signals exist,
 * and uv_close on a zeroed handle aborts. */
static void s_close_if_open(uv_handle_t *h)
{
    if (h->type != UV_UNKNOWN_HANDLE && !uv_is_closing(h))
        uv_close(h, s_handle_closed);
}

static void s_teardown(crm_service_t *svc)
{
    if (svc->def->on_stop)
        svc->def->on_stop(svc);
    crm_every_stop(svc);
    if (svc->relay)
        crm_relay_flush(svc->relay);
    crm_http_destroy(&svc->http);
    crm_relay_destroy(&svc->relay);
    crm_consumers_stop(svc);
    crm_zwatch_destroy(&svc->router_watch);
    crm_zwatch_destroy(&svc->monitor_watch);
    crm_auth_destroy(&svc->auth);
    crm_db_destroy(&svc->writer);
    crm_db_destroy(&svc->reader);
    s_close_if_open((uv_handle_t *)&svc->housekeeping_timer);
    s_close_if_open((uv_handle_t *)&svc->shutdown_timer);
    s_close_if_open((uv_handle_t *)&svc->retention_timer);
    s_close_if_open((uv_handle_t *)&svc->sigterm);
    s_close_if_open((uv_handle_t *)&svc->sigint);
}

static void s_on_finish(uv_timer_t *t)
{
    crm_service_t *svc = t->data;
    crm_info("service.stop", "in-flight work finished; stopping");
    s_teardown(svc);
}

/* Called from completion callbacks, i.e. from inside a connection's own
 * callback: teardown (which destroys connections) runs on the next pass. */
void crm_service_maybe_finish(crm_service_t *svc)
{
    if (svc->stopping == 1 && !svc->cmd_batch && crm_consumers_idle(svc)) {
        svc->stopping = 2;
        uv_timer_stop(&svc->shutdown_timer);
        uv_timer_start(&svc->shutdown_timer, s_on_finish, 0, 0);
    }
}

static void s_on_shutdown_timeout(uv_timer_t *t)
{
    crm_service_t *svc = t->data;
    if (svc->stopping == 1) {
        crm_warn("service.stop", "shutdown timeout: abandoning in-flight work (not committed)");
        svc->stopping = 2;
        s_teardown(svc);
    }
}

static void s_on_signal(uv_signal_t *h, int signum)
{
    crm_service_t *svc = h->data;
    if (svc->stopping)
        return;
    crm_info("service.signal", "received %s; finishing in-flight work",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    svc->stopping = 1;
    s_cmd_kick(svc); /* answers queued commands "unavailable" */
    uv_timer_start(&svc->shutdown_timer, s_on_shutdown_timeout,
                   (uint64_t)crm_config_int(svc->config, "CRM_SHUTDOWN_TIMEOUT_MS"), 0);
    crm_service_maybe_finish(svc);
}

/* A database restored from a backup holds an older stream than consumers
 * may have seen, and would hand out sequence numbers they already applied.
 * The restore changes the database's incarnation (its OID after pg_restore,
 * the cluster's system identifier in a new cluster, the timeline after
 * point-in-time recovery or a failover), so a change starts a new epoch:
 * consumers then rewind to the epoch's start instead of dropping the new
 * events as duplicates. A needless new epoch costs nothing (consumers
 * rewind to min(position, epoch start)). */
static int s_check_incarnation(PGconn *conn)
{
    PGresult *r =
        PQexec(conn, "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())"
                     "::text || ':' || (SELECT system_identifier FROM pg_control_system())"
                     "::text || ':' || (SELECT timeline_id FROM pg_control_checkpoint())::text");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        /* Without access to pg_control_*: the database OID alone. */
        PQclear(r);
        r = PQexec(conn, "SELECT oid::text FROM pg_database WHERE datname = current_database()");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            crm_error("db.stream", "could not read the database incarnation: %s",
                      PQresultErrorMessage(r));
            PQclear(r);
            return -1;
        }
    }
    const char *v[1] = {PQgetvalue(r, 0, 0)};
    PGresult *u = PQexecParams(
        conn,
        "WITH old AS (SELECT incarnation FROM crm_stream FOR UPDATE),"
        " s AS (UPDATE crm_stream SET incarnation = $1,"
        "   epoch = CASE WHEN old.incarnation IS NULL OR old.incarnation = $1 THEN epoch"
        "                ELSE gen_random_uuid() END,"
        "   epoch_start_seq = CASE WHEN old.incarnation IS NULL OR old.incarnation = $1"
        "                 THEN epoch_start_seq ELSE head_seq END"
        "   FROM old RETURNING crm_stream.epoch, crm_stream.epoch_start_seq,"
        "   old.incarnation IS NOT NULL AND old.incarnation <> $1 AS rotated, old.incarnation),"
        " e AS (INSERT INTO crm_stream_epoch (epoch, start_seq) SELECT epoch, epoch_start_seq"
        "   FROM s WHERE rotated ON CONFLICT DO NOTHING)"
        " SELECT rotated, epoch::text, epoch_start_seq, COALESCE(incarnation, '') FROM s",
        1, NULL, v, NULL, NULL, 0);
    int ok = PQresultStatus(u) == PGRES_TUPLES_OK && PQntuples(u) == 1;
    if (!ok)
        crm_error("db.stream", "could not check the database incarnation: %s",
                  PQresultErrorMessage(u));
    else if (!strcmp(PQgetvalue(u, 0, 0), "t"))
        crm_warn("stream.epoch",
                 "database incarnation changed (%s -> %s): restored or moved; new stream epoch %s "
                 "after sequence %s",
                 PQgetvalue(u, 0, 3), v[0], PQgetvalue(u, 0, 1), PQgetvalue(u, 0, 2));
    PQclear(u);
    PQclear(r);
    return ok ? 0 : -1;
}

/* Blocking start-up: wait for the database, migrate, read the stream. */
static int s_prepare_db(crm_service_t *svc, uint64_t *published, uint64_t *head)
{
    const char *url = svc->pg_conninfo;
    int64_t wait_us = crm_config_int(svc->config, "CRM_DB_WAIT_S") * 1000000;
    int64_t t0 = crm_mono_us();
    PGconn *conn = NULL;
    for (;;) {
        conn = PQconnectdb(url);
        if (PQstatus(conn) == CONNECTION_OK)
            break;
        if (crm_mono_us() - t0 >= wait_us) {
            crm_error("db.connect", "could not connect to the database: %s", PQerrorMessage(conn));
            PQfinish(conn);
            return -1;
        }
        PQfinish(conn);
        usleep(200000); /* before the loop exists; nothing else to serve yet */
    }
    char err[1024];
    if (crm_migrate(conn, "common", crm_common_migrations, err, sizeof err) < 0 ||
        (svc->def->migrations &&
         crm_migrate(conn, svc->def->name, svc->def->migrations, err, sizeof err) < 0)) {
        crm_error("db.migrate", "%s", err);
        PQfinish(conn);
        return -1;
    }
    const char *v[1] = {svc->def->name};
    PGresult *r = PQexecParams(conn,
                               "WITH s AS (INSERT INTO crm_stream (source, epoch)"
                               " VALUES ($1, gen_random_uuid()) ON CONFLICT DO NOTHING"
                               " RETURNING epoch, epoch_start_seq)"
                               " INSERT INTO crm_stream_epoch (epoch, start_seq)"
                               " SELECT epoch, epoch_start_seq FROM s",
                               1, NULL, v, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (ok && s_check_incarnation(conn) < 0)
        ok = 0;
    r = PQexec(conn, "SELECT s.head_seq, s.epoch::text, s.epoch_start_seq, r.published_seq,"
                     " s.source FROM crm_stream s, crm_relay r");
    if (!ok || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        crm_error("db.stream", "could not initialise the stream: %s", PQerrorMessage(conn));
        PQclear(r);
        PQfinish(conn);
        return -1;
    }
    if (strcmp(PQgetvalue(r, 0, 4), svc->def->name)) {
        crm_error("db.stream", "this database holds the stream of \"%s\", not \"%s\"",
                  PQgetvalue(r, 0, 4), svc->def->name);
        PQclear(r);
        PQfinish(conn);
        return -1;
    }
    *head = (uint64_t)crm_db_get_int(r, 0, 0);
    snprintf(svc->epoch, sizeof svc->epoch, "%s", PQgetvalue(r, 0, 1));
    svc->epoch_start = (uint64_t)crm_db_get_int(r, 0, 2);
    *published = (uint64_t)crm_db_get_int(r, 0, 3);
    PQclear(r);
    /* Every consumer has a position row per source, so updates can be
     * conditional on the previous position. */
    for (const crm_consumer_def_t *c = svc->def->consumers; c && c->name; c++)
        for (const char *const *t = c->type_prefixes; *t; t++) {
            char src[64];
            const char *s = *t + 4, *dot = strchr(s, '.');
            if (strncmp(*t, "crm.", 4) || !dot || (size_t)(dot - s) >= sizeof src)
                continue;
            memcpy(src, s, (size_t)(dot - s));
            src[dot - s] = 0;
            const char *pv[2] = {c->name, src};
            r = PQexecParams(conn,
                             "INSERT INTO crm_consumer_position (consumer, source) VALUES ($1, $2)"
                             " ON CONFLICT DO NOTHING",
                             2, NULL, pv, NULL, NULL, 0);
            PQclear(r);
        }
    PQfinish(conn);
    crm_info("db.ready", "stream %s epoch %s head %" PRIu64 " published %" PRIu64, svc->def->name,
             svc->epoch, *head, *published);
    return 0;
}

/* `healthcheck`: exit 0 if /readyz of the local instance answers 200. */
static int s_healthcheck(const crm_config_t *cfg)
{
    char port[16];
    snprintf(port, sizeof port, "%d", (int)crm_config_int(cfg, "CRM_HTTP_PORT"));
    const char *host = crm_config_str(cfg, "CRM_HTTP_HOST");
    if (!strcmp(host, "0.0.0.0"))
        host = "127.0.0.1";
    else if (!strcmp(host, "::"))
        host = "::1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "healthcheck: could not resolve %s\n", host);
        return 1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 3};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        fprintf(stderr, "healthcheck: could not connect to %s port %s\n", host, port);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return 1;
    }
    freeaddrinfo(ai);
    static const char rq[] = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    char buf[256] = {0};
    ssize_t n = -1;
    if (write(fd, rq, sizeof rq - 1) == (ssize_t)(sizeof rq - 1))
        n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 12 && !strncmp(buf + 9, "200", 3))
        return 0;
    fprintf(stderr, "healthcheck: not ready: %.*s\n", n > 0 ? (int)n : 0, buf);
    return 1;
}

static crm_conf_def_t *s_conf_table(const crm_service_def_t *def, char *bind_default,
                                    char *port_default)
{
    size_t n1 = 0, n2 = 0;
    while (s_common_conf[n1].name)
        n1++;
    while (def->config && def->config[n2].name)
        n2++;
    crm_conf_def_t *t = calloc(n1 + n2 + 1, sizeof *t);
    if (!t)
        return NULL;
    memcpy(t, s_common_conf, n1 * sizeof *t);
    if (n2)
        memcpy(t + n1, def->config, n2 * sizeof *t);
    for (size_t i = 0; i < n1; i++) {
        if (!strcmp(t[i].name, "CRM_BIND"))
            t[i].def = bind_default;
        if (!strcmp(t[i].name, "CRM_HTTP_PORT"))
            t[i].def = port_default;
    }
    return t;
}

int crm_service_main(const crm_service_def_t *def, int argc, char **argv)
{
    static crm_service_t svc_storage;
    crm_service_t *svc = &svc_storage;
    memset(svc, 0, sizeof *svc);
    svc->def = def;
    char port_default[16];
    snprintf(port_default, sizeof port_default, "%d", def->default_http_port);
    svc->conf_defs = s_conf_table(def, (char *)def->default_bind, port_default);
    if (!svc->conf_defs)
        return 1;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: %s [healthcheck]\n\nSettings (environment):\n", argv[0]);
        crm_config_print_help(svc->conf_defs);
        free(svc->conf_defs);
        return 0;
    }
    char err[512];
    if (argc > 1 && !strcmp(argv[1], "healthcheck")) {
        /* Only the HTTP address matters here: no database settings needed. */
        const crm_conf_def_t hc[] = {
            {"CRM_HTTP_HOST", CRM_CONF_STR, "127.0.0.1", "", 0, 0, 0},
            {"CRM_HTTP_PORT", CRM_CONF_INT, port_default, "", 0, 0, 65535},
            {NULL, 0, NULL, NULL, 0, 0, 0},
        };
        crm_config_t *cfg = crm_config_load(hc, err, sizeof err);
        int rc = cfg ? s_healthcheck(cfg) : 2;
        if (!cfg)
            fprintf(stderr, "%s: %s\n", def->name, err);
        crm_config_destroy(&cfg);
        free(svc->conf_defs);
        return rc;
    }
    /* Any process of the same user can read another's environment
     * (/proc/<pid>/environ, crash reports, child processes): the password
     * comes from a file only. */
    if (getenv("CRM_PG_PASSWORD")) {
        fprintf(stderr,
                "%s: CRM_PG_PASSWORD is set in the environment, where it can be read by others\n"
                "hint: put the password in a file (a compose secret) and name it in "
                "CRM_PG_PASSWORD_FILE\n",
                def->name);
        free(svc->conf_defs);
        return 2;
    }
    svc->config = crm_config_load(svc->conf_defs, err, sizeof err);
    if (!svc->config) {
        fprintf(stderr, "%s: %s\n", def->name, err);
        free(svc->conf_defs);
        return 2;
    }
    int level = crm_log_level_parse(crm_config_str(svc->config, "CRM_LOG_LEVEL"));
    crm_log_init(def->name, level < 0 ? CRM_LOG_INFO : (crm_log_level_t)level);
    crm_config_log(svc->config);
    if (crm_db_conninfo_has_password(getenv("CRM_PG_URL")))
        crm_warn("config", "CRM_PG_URL holds a password, which can be read from the process "
                           "environment; move it to the file named by CRM_PG_PASSWORD_FILE");
    svc->pg_conninfo =
        crm_db_conninfo(crm_config_str(svc->config, "CRM_PG_URL"),
                        crm_config_str(svc->config, "CRM_PG_PASSWORD"), err, sizeof err);
    if (!svc->pg_conninfo) {
        crm_error("config", "CRM_PG_URL: %s", err);
        crm_config_destroy(&svc->config);
        free(svc->conf_defs);
        return 2;
    }
    svc->batch_max = (size_t)crm_config_int(svc->config, "CRM_BATCH_MAX");
    svc->max_frame = (size_t)crm_config_int(svc->config, "CRM_MAX_FRAME_BYTES");
    svc->crash_after_commit = (int)crm_config_int(svc->config, "CRM_TEST_CRASH_AFTER_COMMIT");
    if (crm_clock_init(svc) < 0) {
        crm_config_destroy(&svc->config);
        free(svc->conf_defs);
        return 2;
    }

    int rc = 1;
    uint64_t published = 0, head = 0;
    if (s_prepare_db(svc, &published, &head) < 0)
        goto out_config;

    uv_loop_t loop;
    uv_loop_init(&loop);
    svc->loop = &loop;
    svc->zctx = zmq_ctx_new();
    /* Signals are ours: libzmq must not install handlers. */
    svc->auth = crm_auth_new(&loop, svc->zctx, svc->config, err, sizeof err);
    if (!svc->auth)
        crm_error("auth.start", "%s", err);
    void *pub = zmq_socket(svc->zctx, ZMQ_PUB);
    if (!svc->auth || crm_auth_client(svc->auth, pub, "bus") < 0)
        goto out_zmq;
    int hwm = 100000, linger = 1000;
    /* The PUB receives only subscriptions from the bus, which passes on
     * topics of at most CRM_BUS_MAX_TOPIC bytes. */
    int64_t pub_max = 65536;
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_MAXMSGSIZE, &pub_max, sizeof pub_max);
    char mon[96];
    snprintf(mon, sizeof mon, "inproc://crm-monitor-%s", def->name);
    zmq_socket_monitor(pub, mon, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED);
    svc->monitor = zmq_socket(svc->zctx, ZMQ_PAIR);
    zmq_connect(svc->monitor, mon);
    if (zmq_connect(pub, crm_config_str(svc->config, "CRM_BUS_PUB_ENDPOINT")) < 0) {
        crm_error("bus.connect", "could not connect to %s: %s",
                  crm_config_str(svc->config, "CRM_BUS_PUB_ENDPOINT"), zmq_strerror(errno));
        goto out_zmq;
    }
    svc->router = zmq_socket(svc->zctx, ZMQ_ROUTER);
    int64_t maxmsg = (int64_t)svc->max_frame * 4;
    int rlinger = 500;
    zmq_setsockopt(svc->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(svc->router, ZMQ_LINGER, &rlinger, sizeof rlinger);
    /* Per client: replies to one that does not read are dropped past this
     * many, so it holds at most CRM_SEND_HWM replies of this service's
     * memory (replays: CRM_REPLAY_MAX_BYTES each at most). */
    int send_hwm = (int)crm_config_int(svc->config, "CRM_SEND_HWM");
    zmq_setsockopt(svc->router, ZMQ_SNDHWM, &send_hwm, sizeof send_hwm);
    svc->cmdq = crm_fairq_new();
    svc->cmd_deadline_us = crm_config_int(svc->config, "CRM_COMMAND_DEADLINE_MS") * 1000;
    if (!svc->cmdq)
        goto out_zmq;
    svc->replay_inflight =
        crm_inflight_new((size_t)crm_config_int(svc->config, "CRM_REPLAY_INFLIGHT_PER_PEER"),
                         (size_t)crm_config_int(svc->config, "CRM_REPLAY_INFLIGHT_MAX"));
    if (!svc->replay_inflight)
        goto out_zmq;
    if (crm_auth_server(svc->auth, svc->router, CRM_ZAP_COMMANDS) < 0)
        goto out_zmq;
    if (zmq_bind(svc->router, crm_config_str(svc->config, "CRM_BIND")) < 0) {
        crm_error("command.bind", "could not bind %s: %s", crm_config_str(svc->config, "CRM_BIND"),
                  zmq_strerror(errno));
        goto out_zmq;
    }
    char wname[96], rname[96];
    snprintf(wname, sizeof wname, "%s-writer", def->name);
    snprintf(rname, sizeof rname, "%s-reader", def->name);
    const char *url = svc->pg_conninfo;
    svc->writer = crm_db_new(&loop, url, wname);
    svc->reader = crm_db_new(&loop, url, rname);
    svc->relay = crm_relay_new(svc, pub, published, head);
    svc->monitor_watch = crm_zwatch_new(&loop, svc->monitor, 64, s_on_monitor, svc);
    if (!svc->writer || !svc->reader || !svc->relay || crm_consumers_start(svc) < 0)
        goto out_loop;
    svc->router_watch = crm_zwatch_new(&loop, svc->router, 256, s_on_router, svc);
    svc->http = crm_http_new(&loop, crm_config_str(svc->config, "CRM_HTTP_HOST"),
                             (int)crm_config_int(svc->config, "CRM_HTTP_PORT"), s_on_http, svc, err,
                             sizeof err);
    if (!svc->http) {
        crm_error("http.listen", "%s", err);
        goto out_loop;
    }
    crm_http_set_limits(
        svc->http,
        &(crm_http_limits_t){
            .max_conns = (size_t)crm_config_int(svc->config, "CRM_HTTP_MAX_CONNECTIONS"),
            .max_conns_per_addr =
                (size_t)crm_config_int(svc->config, "CRM_HTTP_MAX_CONNECTIONS_PER_ADDRESS"),
            .head_timeout_ms = (uint32_t)crm_config_int(svc->config, "CRM_HTTP_HEAD_TIMEOUT_MS"),
            .idle_timeout_ms = (uint32_t)crm_config_int(svc->config, "CRM_HTTP_IDLE_TIMEOUT_MS"),
        });
    uv_signal_init(&loop, &svc->sigterm);
    uv_signal_init(&loop, &svc->sigint);
    svc->sigterm.data = svc->sigint.data = svc;
    uv_signal_start(&svc->sigterm, s_on_signal, SIGTERM);
    uv_signal_start(&svc->sigint, s_on_signal, SIGINT);
    uv_timer_init(&loop, &svc->shutdown_timer);
    uv_timer_init(&loop, &svc->retention_timer);
    svc->shutdown_timer.data = svc->retention_timer.data = svc;
    uv_timer_start(&svc->retention_timer, s_on_retention, 60000, 3600000);
    uv_timer_init(&loop, &svc->housekeeping_timer);
    svc->housekeeping_timer.data = svc;
    uv_timer_start(&svc->housekeeping_timer, s_on_housekeeping, 500, 500);
    crm_db_on_state(svc->writer, s_on_db_state, svc);
    crm_db_on_state(svc->reader, s_on_db_state, svc);
    int start_failed = 0;
    if (def->on_start && def->on_start(svc) != 0) {
        crm_error("service.start", "start hook failed");
        svc->stopping = 2;
        start_failed = 1;
        s_teardown(svc);
    } else {
        s_log_ready(svc); /* or later, once both connections are up */
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = svc->stopping == 2 && !start_failed ? 0 : 1;
    goto out_close;
out_loop:
    svc->stopping = 2;
    s_teardown(svc);
    uv_run(&loop, UV_RUN_DEFAULT);
out_close:
    svc->relay = NULL;
out_zmq:
    crm_auth_destroy(&svc->auth);
    if (svc->router)
        zmq_close(svc->router);
    if (svc->monitor)
        zmq_close(svc->monitor);
    zmq_socket_monitor(pub, NULL, 0);
    zmq_close(pub);
    zmq_ctx_term(svc->zctx);
    if (uv_loop_close(&loop) != 0)
        uv_run(&loop, UV_RUN_DEFAULT), uv_loop_close(&loop);
    crm_inflight_destroy(&svc->replay_inflight);
    crm_fairq_destroy(&svc->cmdq);
out_config:
    crm_config_destroy(&svc->config);
    free(svc->pg_conninfo);
    free(svc->conf_defs);
    crm_info("service.exit", "exit code %d", rc);
    return rc;
}
