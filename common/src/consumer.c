/* consumer.c: events from the bus and from replay into exactly-once effects.
 *
 * Per consumer and source we keep `applied` (committed with the effects)
 * and `expected` (the next sequence to queue). On start, and whenever the
 * database connection comes back, positions are read from the database and
 * every source is replayed from there. Events are applied only as the source
 * itself hands them out by replay: anyone who can publish on the bus could
 * write a live event with the next sequence number, so a live event (or a
 * heartbeat) is a notification that the source has something new, and is
 * checked against the replay once that brings its sequence. Replay is pulled
 * in chunks the size of our credit, and the next chunk is asked for only when
 * the queue has room: flow control without a window protocol.
 *
 * The first replay after positions are loaded starts at the applied
 * sequence, not after it, and compares that event's id with the one recorded
 * with the position. A different id is a conflict: we applied something the
 * source never wrote. The consumer then stops applying that source until an
 * operator resolves it; it never drops or overwrites silently.
 *
 * Here: the queue of events waiting for a batch, the batches, positions
 * and set-up. Live events: consumer_live.c; replay: consumer_replay.c;
 * the checks against forged events: consumer_verify.c. */
#include "auth.h"
#include "consumer_int.h"
#include "svc_int.h"

#include <crm/log.h>
#include <crm/pbcheck.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define CRM_REPLAY_TIMEOUT_US 3000000

/* "crm.sales.deal." -> "sales" into out; returns 0 or -1. */
int crm_prefix_source(const char *prefix, char *out, size_t len)
{
    if (strncmp(prefix, "crm.", 4))
        return -1;
    const char *s = prefix + 4, *dot = strchr(s, '.');
    if (!dot || dot == s || (size_t)(dot - s) >= len)
        return -1;
    memcpy(out, s, (size_t)(dot - s));
    out[dot - s] = 0;
    return 0;
}

static int s_matches(const crm_consumer_t *c, const char *type)
{
    for (const char *const *p = c->def->type_prefixes; *p; p++)
        if (!strncmp(type, *p, strlen(*p)))
            return 1;
    return 0;
}

crm_src_pos_t *crm_consumer_pos(crm_consumer_t *c, const char *source)
{
    for (size_t i = 0; i < c->n_pos; i++)
        if (!strcmp(c->pos[i].source, source))
            return &c->pos[i];
    return NULL;
}

crm_peer_t *crm_consumer_peer(crm_service_t *svc, const char *source)
{
    for (size_t i = 0; i < svc->n_peers; i++)
        if (!strcmp(svc->peers[i].source, source))
            return &svc->peers[i];
    return NULL;
}

static void s_queue_clear(crm_consumer_t *c);

/* Drops queued (not in-flight) events of every source and asks each source
 * again from its committed position. */
void crm_consumer_queue_reset(crm_consumer_t *c)
{
    s_queue_clear(c);
    for (size_t i = 0; i < c->n_pos; i++) {
        c->pos[i].expected = c->pos[i].applied + 1;
        c->pos[i].queued_to = c->pos[i].applied;
        c->pos[i].replaying = 1;
        c->pos[i].replay_req = 0;
    }
}

static void s_queue_clear(crm_consumer_t *c)
{
    while (c->queue) {
        crm_work_t *w = c->queue;
        c->queue = w->next;
        crm_work_destroy(&w);
    }
    c->queue_tail = NULL;
    c->queued = 0;
}

/* Queues an event for the handler; `bytes` are copied, and *take (the
 * decoded event, may be NULL) is kept by the work when it can be. */
static int s_enqueue(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev,
                     const void *bytes, size_t len, int front, int64_t dead_letter_id,
                     Crm__V1__Event **take)
{
    crm_work_t *w = crm_work_new(c->svc, CRM_WORK_EVT);
    if (!w)
        return -ENOMEM;
    w->fn = c->def->fn;
    w->consumer = c;
    w->source = strdup(p ? p->source : ev->source);
    /* The position records the epoch we follow, not the one the event was
     * born in (events before an epoch's start keep their old epoch). */
    w->epoch = strdup(p && p->epoch[0] ? p->epoch : ev->epoch ? ev->epoch : "");
    w->seq = ev->sequence;
    w->event_id = strdup(ev->id ? ev->id : "");
    w->dead_letter_id = dead_letter_id;
    w->input = malloc(len ? len : 1);
    if (!w->source || !w->epoch || !w->event_id || !w->input) {
        crm_work_destroy(&w);
        return -ENOMEM;
    }
    memcpy(w->input, bytes, len);
    w->input_len = len;
    /* Decoded once: the work keeps the event its caller decoded, if its
     * text fields pass the check the batch would make (crm/pbcheck.h);
     * otherwise the batch decodes it again and dead-letters it. */
    if (take && *take &&
        crm_pb_check_strings(&crm__v1__event__descriptor, bytes, len, NULL, 0) == 0) {
        w->event = *take;
        *take = NULL;
    }
    if (front) {
        w->next = c->queue;
        c->queue = w;
        if (!c->queue_tail)
            c->queue_tail = w;
    } else {
        if (c->queue_tail)
            c->queue_tail->next = w;
        else
            c->queue = w;
        c->queue_tail = w;
    }
    c->queued++;
    return 0;
}

/* An event for (c, p) from replay. Returns 1 if it was the next expected
 * sequence (queued or skipped by filter), 0 if old, -1 on a gap. */
int crm_consumer_offer(crm_consumer_t *c, crm_src_pos_t *p, Crm__V1__Event **evp, const void *bytes,
                       size_t len)
{
    const Crm__V1__Event *ev = *evp;
    if (ev->sequence < p->expected)
        return 0; /* at-least-once wire: already queued or applied */
    if (ev->sequence > p->expected)
        return -1;
    if (s_matches(c, ev->type)) {
        if (s_enqueue(c, p, ev, bytes, len, 0, 0, evp) < 0)
            return -1;
        p->queued_to = ev->sequence;
    }
    p->expected = ev->sequence + 1;
    if (!p->epoch[0])
        snprintf(p->epoch, sizeof p->epoch, "%s", ev->epoch);
    if (ev->sequence > p->head)
        p->head = ev->sequence;
    return 1;
}

/* ---- applying ---------------------------------------------------------- */

/* Drops what we believe about positions: queued events, the outstanding
 * replays (their replies are ignored), and `loaded`, so that the timer reads
 * positions again from the database and replays from there. */
static void s_forget(crm_consumer_t *c)
{
    c->loaded = 0;
    c->reload = 0;
    s_queue_clear(c);
    for (size_t i = 0; i < c->n_pos; i++) {
        c->pos[i].replay_req = 0;
        c->pos[i].replaying = 1;
    }
}

/* A transaction of c's batch committed: its events go to the relay, and
 * the positions it moved in the database move here. */
static void s_on_batch_settled(crm_batch_t *b, void *arg, crm_work_t *const *works, size_t n,
                               crm_emit_t *emits)
{
    crm_consumer_t *c = arg;
    for (size_t i = 0; i < n; i++)
        if (works[i]->outbox_rewritten && c->svc->relay)
            crm_relay_forget_recent(c->svc->relay);
    if (emits)
        crm_relay_committed(c->svc->relay, emits);
    for (size_t i = 0; i < n; i++) {
        crm_work_t *w = works[i];
        if (w->dead_letter_id)
            continue;
        for (size_t k = 0; k < c->n_pos; k++)
            if (!strcmp(c->pos[k].source, w->source)) {
                c->pos[k].applied = w->seq;
                snprintf(c->pos[k].applied_id, sizeof c->pos[k].applied_id, "%s",
                         w->event_id ? w->event_id : "");
                if (w->epoch && *w->epoch)
                    snprintf(c->pos[k].epoch, sizeof c->pos[k].epoch, "%s", w->epoch);
            }
        if (w->state != WS_OK)
            c->dead_letters_total++;
    }
}

static int s_batch_position(void *arg, size_t i, const char **source, uint64_t *applied)
{
    crm_consumer_t *c = arg;
    if (i >= c->n_pos)
        return 0;
    *source = c->pos[i].source;
    *applied = c->pos[i].applied;
    return 1;
}

static void s_on_batch_done(crm_batch_t *b, void *arg, int committed)
{
    crm_consumer_t *c = arg;
    c->batch = NULL;
    size_t n;
    crm_work_t **works = crm_batch_works(b, &n);
    if (n)
        crm_debug("consumer.batch.done",
                  "%s: %zu events %s %" PRIu64 "..%" PRIu64 " %s at %" PRId64 " us", c->def->name,
                  n, works[0]->source, works[0]->seq, works[n - 1]->seq,
                  committed ? "committed" : "not committed", crm_mono_us());
    for (size_t i = 0; i < n; i++) {
        if (committed)
            c->svc->m.events_consumed++;
        crm_work_destroy(&works[i]);
    }
    crm_batch_destroy(&b);
    if (!committed || c->reload) {
        /* Unknown outcome, or positions rewritten under us
         * (crm_consumer_reload): read them again when the connection is
         * up. */
        s_forget(c);
    }
    c->ended(c->svc);
    crm_consumer_kick(c);
}

static const crm_batch_owner_t s_batch_owner = {
    .settled = s_on_batch_settled,
    .done = s_on_batch_done,
    .position = s_batch_position,
};

void crm_consumer_kick(crm_consumer_t *c)
{
    crm_service_t *svc = c->svc;
    if (c->batch || !c->loaded || !crm_db_connected(c->db))
        return;
    if (!c->queue) {
        /* Replays paused for room can go on now. */
        for (size_t i = 0; i < c->n_pos; i++)
            if (c->pos[i].replaying && !c->pos[i].replay_req)
                crm_consumer_replay(c, &c->pos[i]);
        return;
    }
    if (svc->stopping)
        return;
    crm_batch_t *b =
        crm_batch_new(&svc->batch_env, c->db, CRM_WORK_EVT, c->def->name, &s_batch_owner, c);
    if (!b)
        return;
    uint64_t first = c->queue->seq, last = first;
    size_t n = 0;
    for (; c->queue && n < svc->batch_max; n++) {
        crm_work_t *w = c->queue;
        c->queue = w->next;
        w->next = NULL;
        c->queued--;
        last = w->seq;
        crm_batch_add(b, w);
    }
    crm_debug("consumer.batch.start", "%s: %zu events %" PRIu64 "..%" PRIu64 " at %" PRId64 " us",
              c->def->name, n, first, last, crm_mono_us());
    if (!c->queue)
        c->queue_tail = NULL;
    c->batch = b;
    crm_batch_start(b);
    for (size_t i = 0; i < c->n_pos; i++)
        if (c->pos[i].replaying && !c->pos[i].replay_req)
            crm_consumer_replay(c, &c->pos[i]);
}

static void s_on_positions(crm_db_t *db, PGresult *res, const char *error, void *arg)
{
    crm_consumer_t *c = arg;
    if (error) {
        crm_warn("consumer.load", "%s: could not read positions: %s", c->def->name, error);
        return;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        crm_src_pos_t *p = crm_consumer_pos(c, PQgetvalue(res, r, 0));
        if (!p)
            continue;
        snprintf(p->epoch, sizeof p->epoch, "%s", PQgetvalue(res, r, 1));
        p->applied = (uint64_t)crm_db_get_int(res, r, 2);
        snprintf(p->applied_id, sizeof p->applied_id, "%s", PQgetvalue(res, r, 3));
        p->verify_applied = p->applied > 0 && p->applied_id[0];
        p->conflict = 0;
        p->n_hints = 0;
        p->expected = p->applied + 1;
        p->queued_to = p->applied;
        p->replaying = 1;
        p->replay_req = 0;
    }
    c->loaded = 1;
    crm_info("consumer.start", "%s: positions loaded; replaying before going live", c->def->name);
    for (size_t i = 0; i < c->n_pos; i++)
        if (c->pos[i].replaying)
            crm_consumer_replay(c, &c->pos[i]);
}

static void s_load(crm_consumer_t *c)
{
    const char *v[1] = {c->def->name};
    crm_db_query(c->db,
                 "SELECT source, COALESCE(epoch::text, ''), seq, COALESCE(event_id, '')"
                 " FROM crm_consumer_position"
                 " WHERE consumer = $1",
                 1, v, NULL, NULL, 0, s_on_positions, c);
}

static void s_on_db_state(crm_db_t *db, int connected, void *arg)
{
    crm_consumer_t *c = arg;
    if (connected && !c->loaded && !c->batch)
        s_load(c);
}

static void s_on_timer(uv_timer_t *t)
{
    crm_service_t *svc = t->data;
    int64_t now = crm_mono_us();
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (!c->loaded) {
            if (crm_db_connected(c->db) && !c->batch && crm_db_pending(c->db) == 0)
                s_load(c);
            continue;
        }
        for (size_t k = 0; k < c->n_pos; k++) {
            crm_src_pos_t *p = &c->pos[k];
            if (p->replaying && p->replay_req && now - p->replay_sent_us > CRM_REPLAY_TIMEOUT_US) {
                /* The peer may be down or the reply lost: ask again. Say so
                 * once per outage, not on every attempt. */
                if (p->replay_timeouts++ == 0)
                    crm_warn("consumer.replay",
                             "%s: source %s does not answer replay requests;"
                             " retrying every %d s",
                             c->def->name, p->source, CRM_REPLAY_TIMEOUT_US / 1000000);
                crm_consumer_replay(c, p);
            }
        }
        crm_consumer_kick(c);
    }
}

/* ---- set-up ------------------------------------------------------------ */

static int s_add_source(crm_consumer_t *c, const char *source)
{
    if (crm_consumer_pos(c, source))
        return 0;
    crm_src_pos_t *np = realloc(c->pos, (c->n_pos + 1) * sizeof *np);
    if (!np)
        return -ENOMEM;
    c->pos = np;
    memset(&c->pos[c->n_pos], 0, sizeof *np);
    c->pos[c->n_pos].source = strdup(source);
    c->pos[c->n_pos].expected = 1;
    return c->pos[c->n_pos++].source ? 0 : -ENOMEM;
}

/* CRM_PEERS: "sales=tcp://host:7410,marketing=tcp://host:7420". */
static int s_parse_peers(crm_service_t *svc, const char *spec)
{
    char *copy = strdup(spec ? spec : ""), *save = NULL;
    if (!copy)
        return -ENOMEM;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            crm_error("config", "CRM_PEERS entry \"%s\" is not source=endpoint", tok);
            free(copy);
            return -EINVAL;
        }
        *eq = 0;
        crm_peer_t *np = realloc(svc->peers, (svc->n_peers + 1) * sizeof *np);
        if (!np) {
            free(copy);
            return -ENOMEM;
        }
        svc->peers = np;
        crm_peer_t *peer = &svc->peers[svc->n_peers++];
        memset(peer, 0, sizeof *peer);
        peer->source = strdup(tok);
        peer->endpoint = strdup(eq + 1);
    }
    free(copy);
    return 0;
}

int crm_consumers_start(crm_service_t *svc, void (*ended)(crm_service_t *svc))
{
    const crm_consumer_def_t *defs = svc->def->consumers;
    size_t n = 0;
    while (defs && defs[n].name)
        n++;
    if (n == 0)
        return 0;
    if (s_parse_peers(svc, crm_config_str(svc->config, "CRM_PEERS")) < 0)
        return -1;
    svc->consumers = calloc(n, sizeof *svc->consumers);
    if (!svc->consumers)
        return -1;
    svc->n_consumers = n;
    /* Initialised first: crm_consumers_stop closes it after any failure below. */
    uv_timer_init(svc->loop, &svc->consumer_timer);
    svc->consumer_timer.data = svc;
    svc->sub = zmq_socket(svc->zctx, ZMQ_SUB);
    int hwm = 100000;
    /* A message over the limit drops the connection before it is
     * buffered; the SUB reconnects and the consumer replays what it missed. */
    int64_t max_event = crm_config_int(svc->config, "CRM_MAX_EVENT_BYTES");
    zmq_setsockopt(svc->sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(svc->sub, ZMQ_MAXMSGSIZE, &max_event, sizeof max_event);
    if (crm_auth_client(svc->auth, svc->sub, "bus") < 0)
        return -1;
    if (zmq_connect(svc->sub, crm_config_str(svc->config, "CRM_BUS_SUB_ENDPOINT")) < 0) {
        crm_error("bus.connect", "could not connect to %s: %s",
                  crm_config_str(svc->config, "CRM_BUS_SUB_ENDPOINT"), zmq_strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        c->svc = svc;
        c->def = &defs[i];
        c->ended = ended;
        for (const char *const *t = defs[i].type_prefixes; *t; t++) {
            char src[64], topic[80];
            if (crm_prefix_source(*t, src, sizeof src) < 0) {
                crm_error("config",
                          "consumer %s: type prefix \"%s\" must start with"
                          " crm.<source>.",
                          defs[i].name, *t);
                return -1;
            }
            if (s_add_source(c, src) < 0)
                return -1;
            /* Subscribe to the whole source: sequences are dense per source,
             * so gap detection needs every event; filtering is ours. */
            snprintf(topic, sizeof topic, "crm.%s.", src);
            zmq_setsockopt(svc->sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
            if (!crm_consumer_peer(svc, src)) {
                crm_error("config", "consumer %s needs source %s: add %s=<endpoint> to CRM_PEERS",
                          defs[i].name, src, src);
                return -1;
            }
        }
        char name[128];
        snprintf(name, sizeof name, "%s-consumer-%s", crm_service_name(svc), defs[i].name);
        c->db = crm_db_new(svc->loop, svc->pg_conninfo, name);
        if (!c->db)
            return -1;
        crm_db_grouped(c->db); /* batches, and the positions read alone */
        crm_db_on_state(c->db, s_on_db_state, c);
    }
    for (size_t i = 0; i < svc->n_peers; i++) {
        crm_peer_t *peer = &svc->peers[i];
        peer->dealer = zmq_socket(svc->zctx, ZMQ_DEALER);
        int linger = 0;
        /* Replay replies: events up to the source's CRM_REPLAY_MAX_BYTES
         * plus one event, in an envelope; the same settings on every
         * service keep this true. */
        int64_t max_reply = crm_config_int(svc->config, "CRM_REPLAY_MAX_BYTES") + max_event + 65536;
        zmq_setsockopt(peer->dealer, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(peer->dealer, ZMQ_MAXMSGSIZE, &max_reply, sizeof max_reply);
        if (crm_auth_client(svc->auth, peer->dealer, peer->source) < 0)
            return -1;
        if (zmq_connect(peer->dealer, peer->endpoint) < 0) {
            crm_error("config", "could not connect to peer %s at %s: %s", peer->source,
                      peer->endpoint, zmq_strerror(errno));
            return -1;
        }
        peer->watch = crm_zwatch_new(svc->loop, peer->dealer, 64, crm_consumer_on_dealer, svc);
    }
    svc->sub_watch = crm_zwatch_new(svc->loop, svc->sub, 256, crm_consumer_on_sub, svc);
    uv_timer_start(&svc->consumer_timer, s_on_timer, 500, 500);
    return 0;
}

int crm_consumers_idle(crm_service_t *svc)
{
    for (size_t i = 0; i < svc->n_consumers; i++)
        if (svc->consumers[i].batch)
            return 0;
    return 1;
}

static void s_timer_closed(uv_handle_t *h)
{
}

void crm_consumers_stop(crm_service_t *svc)
{
    if (svc->n_consumers == 0)
        return;
    /* Not initialised when the start failed before it (a peer refused). */
    if (svc->consumer_timer.type != UV_UNKNOWN_HANDLE)
        uv_close((uv_handle_t *)&svc->consumer_timer, s_timer_closed);
    crm_zwatch_destroy(&svc->sub_watch);
    for (size_t i = 0; i < svc->n_peers; i++) {
        crm_zwatch_destroy(&svc->peers[i].watch);
        if (svc->peers[i].dealer)
            zmq_close(svc->peers[i].dealer);
        free(svc->peers[i].source);
        free(svc->peers[i].endpoint);
    }
    free(svc->peers);
    svc->peers = NULL;
    svc->n_peers = 0;
    if (svc->sub)
        zmq_close(svc->sub);
    svc->sub = NULL;
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        s_queue_clear(c);
        crm_db_destroy(&c->db);
        for (size_t k = 0; k < c->n_pos; k++)
            free(c->pos[k].source);
        free(c->pos);
    }
    free(svc->consumers);
    svc->consumers = NULL;
    svc->n_consumers = 0;
}

/* Queues dead letters read by the deadletter.retry command (service_builtin.c). */
int crm_consumer_requeue(crm_service_t *svc, const char *consumer, int64_t id, const void *bytes,
                         size_t len)
{
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (strcmp(c->def->name, consumer))
            continue;
        Crm__V1__Event *ev = crm__v1__event__unpack(NULL, len, bytes);
        if (!ev)
            return -EINVAL;
        int rc = s_enqueue(c, crm_consumer_pos(c, ev->source), ev, bytes, len, 1, id, NULL);
        crm__v1__event__free_unpacked(ev, NULL);
        crm_consumer_kick(c);
        return rc;
    }
    return -ENOENT;
}

int crm_consumer_reload(crm_service_t *svc, const char *consumer)
{
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (strcmp(c->def->name, consumer))
            continue;
        if (c->batch)
            c->reload = 1; /* s_on_batch_done forgets once it settles */
        else
            s_forget(c);
        return 0;
    }
    return -ENOENT;
}

uint64_t crm__pos_lag(const crm_src_pos_t *p)
{
    uint64_t done = p->queued_to <= p->applied ? p->expected - 1 : p->applied;
    if (done < p->applied)
        done = p->applied;
    return p->head > done ? p->head - done : 0;
}

int crm_consumer_progress(crm_service_t *svc, const char *consumer, const char *source,
                          uint64_t *applied, uint64_t *head)
{
    for (size_t i = 0; i < svc->n_consumers; i++) {
        crm_consumer_t *c = &svc->consumers[i];
        if (strcmp(c->def->name, consumer))
            continue;
        crm_src_pos_t *p = crm_consumer_pos(c, source);
        if (!p)
            return -ENOENT;
        *applied = p->applied;
        *head = p->head;
        return 0;
    }
    return -ENOENT;
}
