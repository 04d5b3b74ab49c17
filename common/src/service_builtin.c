/* service_builtin.c: the commands every service serves beside its own.
 *
 * stream.replay, stream.info and deadletter.list read from the reader
 * connection and are answered at once, outside any batch; stream.rotate_epoch
 * and deadletter.retry are works in the writer's batch like any command
 * (crm_builtin_commands). */
#include "svc_int.h"

#include <crm/log.h>
#include <crm/metrics.h>
#include <crm/util.h>

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char epoch[40]; /* rr.epoch */
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
    crm_service_reply_status(s->svc, s->identity, s->ilen, s->request_id,
                             CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL, what, NULL,
                             "retry later");
    s_sys_free(s);
}

static void s_sys_ok(s_sys_t *s, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) {
        protobuf_c_message_pack(msg, buf);
        Crm__V1__Status ok = CRM__V1__STATUS__INIT;
        crm_service_send_reply(s->svc, s->identity, s->ilen, s->request_id, &ok, buf, n);
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

/* One row of the outbox, from the database or from the relay's memory. */
typedef struct {
    uint64_t seq;
    const char *type;
    const uint8_t *event;
    size_t len;
} s_row_t;

typedef int (*s_row_fn)(void *src, size_t i, s_row_t *row);

/* The reply's events from n rows read from s->rq->from_sequence up to
 * `end` (at most max_events * 4 of them; `end` is the head, or less when
 * memory holds less), and sends it: the same answer whether the rows came
 * from the outbox or from memory. */
static void s_replay_fill(s_sys_t *s, size_t n, s_row_fn get, void *src, uint64_t end, int memory)
{
    size_t limit = s->rq->max_events;
    size_t bytes = 0, cap = (size_t)crm_config_int(s->svc->config, "CRM_REPLAY_MAX_BYTES");
    ProtobufCBinaryData *ev = calloc(n + 1, sizeof *ev);
    if (!ev) {
        s_sys_fail(s, "out of memory", NULL);
        return;
    }
    s->rr.events = ev;
    s->rr.scanned_to_sequence = s->rq->from_sequence ? s->rq->from_sequence - 1 : 0;
    int complete = 1;
    for (size_t i = 0; i < n; i++) {
        s_row_t row;
        if (get(src, i, &row) < 0) {
            complete = 0;
            break;
        }
        /* At least one event per reply, however large, or replay would
         * stall on it forever. */
        if (s->rr.n_events >= limit || (s->rr.n_events > 0 && bytes + row.len > cap)) {
            complete = 0;
            break;
        }
        s->rr.scanned_to_sequence = row.seq;
        if (!s_prefix_ok(s->rq, row.type))
            continue;
        ev[s->rr.n_events].data = (uint8_t *)row.event;
        ev[s->rr.n_events].len = row.len;
        s->rr.n_events++;
        bytes += row.len;
    }
    /* Fewer rows than asked for: everything up to the end was examined. */
    if (complete && n < limit * 4 && s->rr.scanned_to_sequence < end)
        s->rr.scanned_to_sequence = end;
    s->svc->m.replays_served++;
    crm_debug("replay.served",
              "from %" PRIu64 " %zu events to %" PRIu64 " received at %" PRId64
              " us answered at %" PRId64 " us memory %d",
              s->rq->from_sequence, s->rr.n_events, s->rr.scanned_to_sequence, s->received_us,
              crm_mono_us(), memory);
    s_sys_ok(s, &s->rr.base);
    free(ev);
}

static int s_db_row(void *src, size_t i, s_row_t *row)
{
    PGresult *res = src;
    row->seq = be64toh(*(const uint64_t *)(const void *)PQgetvalue(res, (int)i, 0));
    row->type = PQgetvalue(res, (int)i, 1);
    row->event = (const uint8_t *)PQgetvalue(res, (int)i, 2);
    row->len = (size_t)PQgetlength(res, (int)i, 2);
    return 0;
}

static void s_on_replay_rows(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    s_sys_t *s = arg;
    if (error) {
        s_sys_fail(s, "could not read the outbox", error);
        return;
    }
    s_replay_fill(s, (size_t)PQntuples(res), s_db_row, res, s->rr.head_sequence, 0);
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
    snprintf(s->epoch, sizeof s->epoch, "%s", crm_db_get_str(res, 0, 1));
    s->rr.epoch = s->epoch;
    /* After stream.rotate_epoch the relay's heartbeats carry the new
     * epoch from now on, as the replies do. */
    s->rr.epoch_start_sequence = (uint64_t)crm_db_get_int(res, 0, 2);
    s->rr.first_retained_sequence = (uint64_t)crm_db_get_int(res, 0, 3);
    if (s->svc->relay)
        crm_relay_set_epoch(s->svc->relay, s->epoch, s->rr.epoch_start_sequence,
                            s->rr.first_retained_sequence);
    uint64_t from = s->rq->from_sequence ? s->rq->from_sequence : 1;
    if (from > s->rr.head_sequence) {
        s->rr.scanned_to_sequence = s->rr.head_sequence;
        s->svc->m.replays_served++;
        crm_debug("replay.served",
                  "from %" PRIu64 " 0 events to %" PRIu64 " received at %" PRId64
                  " us answered at %" PRId64 " us memory 0",
                  s->rq->from_sequence, s->rr.scanned_to_sequence, s->received_us, crm_mono_us());
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

typedef struct {
    crm_relay_t *relay;
    uint64_t from;
} s_mem_t;

static int s_mem_row(void *src, size_t i, s_row_t *row)
{
    s_mem_t *m = src;
    const crm_emit_t *e = crm_relay_recent_event(m->relay, m->from + i);
    if (!e)
        return -1;
    row->seq = e->seq;
    row->type = e->type;
    row->event = e->bytes;
    row->len = e->len;
    return 0;
}

/* A replay of events the relay has just published is answered from its
 * memory: what the database would answer (the same sealed bytes, the head
 * and epoch it last read), without the two queries on the reader that
 * every live event's replay used to cost. Returns 0 if it answered. */
static int s_replay_from_memory(s_sys_t *s)
{
    crm_relay_recent_t m;
    uint64_t from = s->rq->from_sequence ? s->rq->from_sequence : 1;
    if (!s->svc->relay || !crm_relay_recent(s->svc->relay, from, &m))
        return -1;
    crm__v1__replay_reply__init(&s->rr);
    s->rr.head_sequence = m.head;
    snprintf(s->epoch, sizeof s->epoch, "%s", m.epoch);
    s->rr.epoch = s->epoch;
    s->rr.epoch_start_sequence = m.epoch_start;
    s->rr.first_retained_sequence = m.first_retained;
    /* The rows the outbox query would read (at most max_events * 4 from
     * `from`, up to the head), of which memory holds those up to m.last. */
    uint64_t to = m.last;
    if (to - from + 1 > (uint64_t)s->rq->max_events * 4)
        to = from + (uint64_t)s->rq->max_events * 4 - 1;
    size_t n = from > to ? 0 : (size_t)(to - from + 1);
    s_mem_t src = {s->svc->relay, from};
    /* When the head is past memory (events committed, not yet published),
     * the reply says so and stops at m.last: the consumer asks again, and
     * the database answers that. */
    s_replay_fill(s, n, s_mem_row, &src, m.last, 1);
    return 0;
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

void crm_builtin_replay(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                        const Crm__V1__CommandRequest *cr)
{
    Crm__V1__ReplayRequest *rq = crm__v1__replay_request__unpack(NULL, cr->body.len, cr->body.data);
    if (!rq) {
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
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
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
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
    if (s_replay_from_memory(s) == 0)
        return;
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

void crm_builtin_info(crm_service_t *svc, const uint8_t *identity, size_t ilen,
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

void crm_builtin_dl_list(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         const Crm__V1__CommandRequest *cr)
{
    Crm__V1__DeadLetterListRequest *rq =
        crm__v1__dead_letter_list_request__unpack(NULL, cr->body.len, cr->body.data);
    if (!rq) {
        crm_service_reply_status(svc, identity, ilen, cr->request_id,
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
 * consumer; each retry commits with its effects (batch_commit.c marks it resolved
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

const crm_command_def_t crm_builtin_commands[] = {
    {"stream.rotate_epoch", &crm__v1__rotate_epoch_request__descriptor, s_rotate_epoch, 0,
     CRM_REC_CONFIG, CRM_ACT_EDIT},
    {"deadletter.retry", &crm__v1__dead_letter_retry_request__descriptor, s_dl_retry, 0,
     CRM_REC_CONFIG, CRM_ACT_EDIT},
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};
