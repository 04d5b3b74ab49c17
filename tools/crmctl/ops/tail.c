/* tail.c: `crmctl tail`, the event stream on a terminal or in a pipe, like
 * `kcat -C`.
 *
 * It follows the consumer protocol of common/src/consumer*.c, minus the
 * database: subscribe to the bus first, then replay each selected source
 * from the requested sequence through "stream.replay" until the head, then
 * print live events. Per source we keep `expected`, the next sequence to
 * print; a live event beyond it, a heartbeat whose head has reached it, or a
 * new epoch starts a replay from it. So the output has no gaps and no
 * duplicates whatever the bus drops. Sequences that the --type filter skips
 * still advance `expected`: the bus delivers every event of a source (the
 * subscription is per source) and replay reports what it scanned.
 *
 * Blocking code is fine here; SIGINT/SIGTERM stop it promptly: the live
 * wait is interrupted by the signal, and a signal during a blocking call to
 * a service ends the process at once (nothing is half-written then, as
 * every line is flushed when printed). */
#include "crmctl.h"

#include <crm/cloudevent.h>
#include <crm/pbjson.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "crm/v1/event.pb-c.h"

#define TAIL_REPLAY_MAX 500  /* events per stream.replay request */
#define TAIL_TIMEOUT_MS 3000 /* per attempt of a replay request */
#define TAIL_ATTEMPTS 2
#define TAIL_RETRY_US 1000000   /* after a failed repair */
#define TAIL_SILENCE_US 5000000 /* no event nor heartbeat: ask the source */
#define TAIL_DRAIN_MAX 1000     /* live messages per loop pass */
#define TAIL_SUB_HWM 100000

const crmctl_opt_t crmctl_tail_opts[] = {
    {"type", 't', "PREFIX", "only events whose type starts with PREFIX (may be repeated)", 1},
    {"source", 's', "NAME", "only this source (may be repeated or comma-separated; default: all)",
     1},
    {"from", 'f', "WHERE", "beginning, now (the default) or a sequence number", 0},
    {"count", 'n', "COUNT", "exit after printing COUNT events", 0},
    {"exit", 'e', NULL, "exit once every source has been replayed up to its head", 0},
    {"verbose", 'v', NULL, "say on stderr when and why a source is replayed", 0},
    {NULL, 0, NULL, NULL, 0},
};

/* Set by the signal handler; the only state it touches. */
static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_in_call;

static void s_on_signal(int sig)
{
    (void)sig;
    if (s_in_call)
        _exit(CRMCTL_EXIT_OK); /* stdout holds no partial line: it is flushed per line */
    s_stop = 1;
}

typedef struct {
    crmctl_service_t *svc;
    char epoch[64];
    uint64_t expected;   /* next sequence to print */
    uint64_t head;       /* highest head the source reported */
    int replaying;       /* live events are ignored until replay reaches the head */
    int caught_up;       /* replay reached the head at least once (-e) */
    int warned;          /* a failed repair was reported */
    int64_t retry_at_us; /* after a failed repair, not before this */
    int64_t heard_us;    /* last event or heartbeat from the bus */
} s_src_t;

typedef struct {
    crmctl_t *ctl;
    s_src_t *src;
    size_t n_src;
    char **types; /* --type prefixes, into types_buf */
    size_t n_types;
    char *types_buf;
    int json;
    uint64_t limit; /* -n; 0 = no limit */
    uint64_t printed;
    int exit_at_end;
    int verbose;
    int done; /* -n reached */
    int rc;   /* exit code once done */
    void *sub;
} s_tail_t;

/* ---- printing --------------------------------------------------------- */

static int s_type_ok(const s_tail_t *t, const char *type)
{
    if (t->n_types == 0)
        return 1;
    for (size_t i = 0; i < t->n_types; i++)
        if (!strncmp(type, t->types[i], strlen(t->types[i])))
            return 1;
    return 0;
}

/* The payload as JSON for the readable format; JSON null when there is none,
 * e.g. a payload this build of crmctl does not know. */
static json_t *s_payload_json(const Crm__V1__Event *ev)
{
    const ProtobufCMessage *sub = crm_cloudevent_payload(ev);
    json_t *j = sub ? crm_pbjson_from_message(sub) : NULL;
    return j ? j : json_null();
}

/* Prints one event if it passes the type filter; sets t->done when -n is
 * reached or stdout is gone. */
static void s_print(s_tail_t *t, const Crm__V1__Event *ev)
{
    if (t->done || !s_type_ok(t, ev->type))
        return;
    int ok;
    if (t->json) {
        json_t *o = crm_cloudevent_json(ev);
        ok = o && crmctl_json_line(o) == 0;
    } else {
        char when[40];
        crm_time_format(ev->time_us, when, sizeof when);
        json_t *data = s_payload_json(ev);
        char *d = data && !json_is_null(data)
                      ? json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
                      : NULL;
        json_decref(data);
        ok = printf("%s  %s  %" PRIu64 "  %s  %s  %s\n", when, ev->source, ev->sequence, ev->type,
                    ev->subject && *ev->subject ? ev->subject : "-", d ? d : "-") > 0 &&
             fflush(stdout) == 0;
        free(d);
    }
    if (!ok && s_stop) {
        t->done = 1; /* the signal interrupted a blocked write */
        t->rc = CRMCTL_EXIT_OK;
        return;
    }
    if (!ok) {
        crmctl_error(NULL, NULL, "could not write to standard output: %s", strerror(errno));
        t->done = 1;
        t->rc = CRMCTL_EXIT_FAILED;
        return;
    }
    t->printed++;
    if (t->limit && t->printed >= t->limit) {
        t->done = 1;
        t->rc = CRMCTL_EXIT_OK;
    }
}

/* ---- replay ----------------------------------------------------------- */

static int s_call(s_tail_t *t, s_src_t *s, const char *command, const ProtobufCMessage *body,
                  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **reply, int flags)
{
    s_in_call = 1;
    if (s_stop)
        _exit(CRMCTL_EXIT_OK);
    int rc = crmctl_call(t->ctl, s->svc, command, body, NULL, TAIL_TIMEOUT_MS, TAIL_ATTEMPTS, desc,
                         reply, flags, NULL);
    s_in_call = 0;
    return rc;
}

/* --from now: the position is the head the source reports now. */
static int s_start_at_head(s_tail_t *t, s_src_t *s)
{
    Crm__V1__StreamInfoRequest rq = CRM__V1__STREAM_INFO_REQUEST__INIT;
    ProtobufCMessage *m = NULL;
    int rc = s_call(t, s, "stream.info", &rq.base, &crm__v1__stream_info_reply__descriptor, &m, 0);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const Crm__V1__StreamInfoReply *r = (const void *)m;
    snprintf(s->epoch, sizeof s->epoch, "%s", r->epoch);
    s->head = r->head_sequence;
    s->expected = r->head_sequence + 1;
    s->replaying = 0;
    s->caught_up = 1;
    protobuf_c_message_free_unpacked(m, NULL);
    return CRMCTL_EXIT_OK;
}

/* One stream.replay round trip for source s. Returns 0, or an exit code when
 * the first replay of a source fails (later failures are retried). */
static int s_replay_step(s_tail_t *t, s_src_t *s)
{
    Crm__V1__ReplayRequest rq = CRM__V1__REPLAY_REQUEST__INIT;
    rq.from_sequence = s->expected;
    rq.max_events = TAIL_REPLAY_MAX;
    rq.type_prefixes = t->types;
    rq.n_type_prefixes = t->n_types;
    ProtobufCMessage *m = NULL;
    int rc = s_call(t, s, "stream.replay", &rq.base, &crm__v1__replay_reply__descriptor, &m,
                    s->caught_up ? CRMCTL_CALL_QUIET : 0);
    if (rc != CRMCTL_EXIT_OK) {
        if (!s->caught_up)
            return rc; /* crmctl_call said why */
        if (!s->warned)
            crmctl_warn("could not replay %s from %s to repair the live stream; retrying",
                        s->svc->name, s->svc->endpoint);
        s->warned = 1;
        s->retry_at_us = crm_mono_us() + TAIL_RETRY_US;
        return 0;
    }
    if (s->warned)
        crmctl_warn("replay of %s works again", s->svc->name);
    s->warned = 0;
    const Crm__V1__ReplayReply *rr = (const void *)m;
    if (s->epoch[0] && strcmp(s->epoch, rr->epoch)) {
        /* A new epoch: the source was restored and reuses the sequences
         * after epoch_start_sequence. Go on from there, as consumers do. */
        uint64_t rewind = rr->epoch_start_sequence + 1;
        crmctl_warn("source %s started epoch %s after sequence %" PRIu64 " (was epoch %s);"
                    " continuing at sequence %" PRIu64,
                    s->svc->name, rr->epoch, rr->epoch_start_sequence, s->epoch,
                    rewind < s->expected ? rewind : s->expected);
        if (rewind < s->expected)
            s->expected = rewind;
        snprintf(s->epoch, sizeof s->epoch, "%s", rr->epoch);
        s->replaying = 1;
        protobuf_c_message_free_unpacked(m, NULL);
        return 0; /* the next pass replays the new epoch */
    }
    if (!s->epoch[0])
        snprintf(s->epoch, sizeof s->epoch, "%s", rr->epoch);
    if (rr->head_sequence > s->head)
        s->head = rr->head_sequence;
    if (rr->first_retained_sequence > s->expected) {
        crmctl_warn("events %" PRIu64 "..%" PRIu64 " of %s are no longer retained; continuing"
                    " at %" PRIu64,
                    s->expected, rr->first_retained_sequence - 1, s->svc->name,
                    rr->first_retained_sequence);
        s->expected = rr->first_retained_sequence;
    }
    uint64_t before = s->expected;
    if (t->verbose)
        fprintf(stderr,
                "crmctl: replay of %s from sequence %" PRIu64 ": %zu events, scanned to %" PRIu64
                ", head %" PRIu64 "\n",
                s->svc->name, s->expected, rr->n_events, rr->scanned_to_sequence,
                rr->head_sequence);
    for (size_t i = 0; i < rr->n_events && !t->done; i++) {
        Crm__V1__Event *ev = crm__v1__event__unpack(NULL, rr->events[i].len, rr->events[i].data);
        if (!ev) {
            crmctl_warn("skipped an undecodable event of %s in replay after sequence %" PRIu64,
                        s->svc->name, s->expected - 1);
            continue;
        }
        if (ev->sequence >= s->expected) {
            /* Sequences in between were filtered out by the source. */
            s->expected = ev->sequence + 1;
            s_print(t, ev);
        }
        crm__v1__event__free_unpacked(ev, NULL);
    }
    if (!t->done && rr->scanned_to_sequence + 1 > s->expected)
        s->expected = rr->scanned_to_sequence + 1;
    if (s->expected > rr->head_sequence) {
        s->replaying = 0;
        s->caught_up = 1;
    } else if (s->expected == before && rr->n_events == 0) {
        /* No progress: do not spin; the next heartbeat asks again. */
        crmctl_warn("replay of %s made no progress at sequence %" PRIu64 " (head %" PRIu64 ")",
                    s->svc->name, s->expected, rr->head_sequence);
        s->replaying = 0;
        s->caught_up = 1;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

/* ---- live ------------------------------------------------------------- */

static s_src_t *s_find(s_tail_t *t, const char *source)
{
    for (size_t i = 0; i < t->n_src; i++)
        if (!strcmp(t->src[i].svc->name, source))
            return &t->src[i];
    return NULL;
}

static void s_gap(const s_tail_t *t, s_src_t *s, const char *why, uint64_t seq)
{
    if (t->verbose)
        fprintf(stderr, "crmctl: replaying %s from sequence %" PRIu64 ": %s %" PRIu64 "\n",
                s->svc->name, s->expected, why, seq);
    s->replaying = 1;
    s->retry_at_us = 0;
}

static void s_on_heartbeat(s_tail_t *t, const void *data, size_t len)
{
    Crm__V1__Heartbeat *hb = crm__v1__heartbeat__unpack(NULL, len, data);
    if (!hb)
        return;
    s_src_t *s = s_find(t, hb->source);
    if (s) {
        s->heard_us = crm_mono_us();
        if (hb->head_sequence > s->head)
            s->head = hb->head_sequence;
        if (!s->replaying && s->epoch[0] && strcmp(s->epoch, hb->epoch))
            s_gap(t, s, "heartbeat of a new epoch after sequence", hb->epoch_start_sequence);
        else if (!s->replaying && hb->head_sequence >= s->expected)
            s_gap(t, s, "heartbeat with head", hb->head_sequence);
    }
    crm__v1__heartbeat__free_unpacked(hb, NULL);
}

static void s_on_live(s_tail_t *t, const char *topic, size_t tlen, const void *data, size_t len)
{
    if (tlen > 4 && !memcmp(topic + tlen - 4, "._hb", 4)) {
        s_on_heartbeat(t, data, len);
        return;
    }
    Crm__V1__Event *ev = crm__v1__event__unpack(NULL, len, data);
    if (!ev)
        return; /* replay will bring the real one if a sequence was lost */
    s_src_t *s = s_find(t, ev->source);
    if (s) {
        s->heard_us = crm_mono_us();
        if (ev->sequence > s->head)
            s->head = ev->sequence;
        if (s->replaying) {
            /* replay brings it */
        } else if (s->epoch[0] && strcmp(s->epoch, ev->epoch)) {
            /* replay decides where the new epoch starts */
            s_gap(t, s, "live event of another epoch at sequence", ev->sequence);
        } else if (ev->sequence > s->expected) {
            s_gap(t, s, "live event at sequence", ev->sequence);
        } else if (ev->sequence == s->expected) {
            s->expected++;
            s_print(t, ev);
        } /* else printed already */
    }
    crm__v1__event__free_unpacked(ev, NULL);
}

/* Reads what the SUB socket holds, at most TAIL_DRAIN_MAX messages. */
static void s_drain(s_tail_t *t)
{
    for (int n = 0; n < TAIL_DRAIN_MAX && !t->done && !s_stop; n++) {
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        if (zmq_msg_recv(&topic, t->sub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&topic);
            return;
        }
        if (!zmq_msg_more(&topic)) {
            zmq_msg_close(&topic);
            continue;
        }
        zmq_msg_init(&body);
        zmq_msg_recv(&body, t->sub, 0);
        int extra = 0;
        while (zmq_msg_more(&body)) {
            zmq_msg_t more;
            zmq_msg_init(&more);
            zmq_msg_recv(&more, t->sub, 0);
            int m = zmq_msg_more(&more);
            zmq_msg_close(&more);
            extra = 1;
            if (!m)
                break;
        }
        if (!extra)
            s_on_live(t, zmq_msg_data(&topic), zmq_msg_size(&topic), zmq_msg_data(&body),
                      zmq_msg_size(&body));
        zmq_msg_close(&body);
        zmq_msg_close(&topic);
    }
}

/* ---- set-up ----------------------------------------------------------- */

/* 1 if events of `source` can match one of the --type prefixes (types
 * always start with "crm.<source>."). */
static int s_source_relevant(const s_tail_t *t, const char *source)
{
    if (t->n_types == 0)
        return 1;
    char sp[160];
    snprintf(sp, sizeof sp, "crm.%s.", source);
    size_t sl = strlen(sp);
    for (size_t i = 0; i < t->n_types; i++) {
        size_t pl = strlen(t->types[i]);
        if (!strncmp(sp, t->types[i], pl < sl ? pl : sl))
            return 1;
    }
    return 0;
}

static int s_split_types(s_tail_t *t, const crmctl_t *ctl, const char *list)
{
    if (!list)
        return 0;
    t->types_buf = strdup(list);
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    t->types = calloc(n + 1, sizeof *t->types);
    if (!t->types_buf || !t->types) {
        crmctl_error(NULL, NULL, "out of memory");
        return CRMCTL_EXIT_FAILED;
    }
    /* Split on ',' keeping empty pieces visible, so "--type ''" is caught. */
    char *p = t->types_buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        if (!*p)
            return crmctl_usage_error(ctl, "--type needs a non-empty prefix such as"
                                           " \"crm.sales.\"");
        t->types[t->n_types++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static void s_tail_free(s_tail_t *t)
{
    if (t->sub)
        zmq_close(t->sub);
    free(t->src);
    free(t->types);
    free(t->types_buf);
}

static int s_all_caught_up(const s_tail_t *t)
{
    for (size_t i = 0; i < t->n_src; i++)
        if (!t->src[i].caught_up)
            return 0;
    return 1;
}

static int s_run(s_tail_t *t)
{
    for (;;) {
        if (s_stop)
            return CRMCTL_EXIT_OK;
        if (t->done)
            return t->rc;
        if (t->exit_at_end && s_all_caught_up(t))
            return CRMCTL_EXIT_OK;
        int64_t now = crm_mono_us();
        long wait_ms = 500;
        for (size_t i = 0; i < t->n_src && !t->done && !s_stop; i++) {
            s_src_t *s = &t->src[i];
            if (!s->replaying && s->caught_up && now - s->heard_us > TAIL_SILENCE_US) {
                /* Neither events nor heartbeats: the bus may be down or slow
                 * to connect. Ask the source itself. */
                s->heard_us = now;
                s_gap(t, s, "nothing heard on the bus for 5 s; head was", s->head);
            }
            if (!s->replaying)
                continue;
            if (s->retry_at_us > now) {
                long left = (long)((s->retry_at_us - now) / 1000) + 1;
                if (left < wait_ms)
                    wait_ms = left;
                continue;
            }
            int rc = s_replay_step(t, s);
            if (rc != 0)
                return rc;
            if (s->replaying && s->retry_at_us <= crm_mono_us())
                wait_ms = 0; /* more to replay: just drain the bus meanwhile */
        }
        if (t->done || s_stop)
            continue;
        zmq_pollitem_t it = {t->sub, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, wait_ms);
        if (n < 0 && errno != EINTR) {
            crmctl_error(NULL, NULL, "could not wait for the bus: %s", zmq_strerror(errno));
            return CRMCTL_EXIT_FAILED;
        }
        if (n > 0)
            s_drain(t);
    }
}

int crmctl_tail(crmctl_t *ctl, const crmctl_args_t *args)
{
    s_tail_t t;
    memset(&t, 0, sizeof t);
    t.ctl = ctl;
    t.json = crmctl_output(ctl) == CRMCTL_OUT_JSON;
    t.exit_at_end = crmctl_arg(args, "exit") != NULL;
    t.verbose = crmctl_arg(args, "verbose") != NULL;
    int rc = s_split_types(&t, ctl, crmctl_arg(args, "type"));
    if (rc)
        goto done;

    /* --from */
    const char *from = crmctl_arg(args, "from");
    uint64_t from_seq = 0; /* 0 = now */
    if (!from || !strcmp(from, "now")) {
        from_seq = 0;
    } else if (!strcmp(from, "beginning")) {
        from_seq = 1;
    } else if (from[0] < '0' || from[0] > '9') {
        rc = crmctl_usage_error(ctl,
                                "invalid value \"%s\" for --from: expected beginning, now or"
                                " a sequence number",
                                from);
        goto done;
    } else if (crmctl_parse_u64(ctl, "--from", from, 1, &from_seq) < 0) {
        rc = CRMCTL_EXIT_USAGE;
        goto done;
    }
    const char *count = crmctl_arg(args, "count");
    if (count) {
        int64_t c;
        if (crmctl_parse_int(ctl, "-n", count, 1, INT64_MAX, &c) < 0) {
            rc = CRMCTL_EXIT_USAGE;
            goto done;
        }
        t.limit = (uint64_t)c;
    }

    /* Sources: --source, else every service that can emit a --type. */
    size_t n_all = crmctl_n_services(ctl);
    crmctl_service_t **sel = calloc(n_all + 1, sizeof *sel);
    t.src = calloc(n_all + 1, sizeof *t.src);
    if (!sel || !t.src) {
        free(sel);
        crmctl_error(NULL, NULL, "out of memory");
        rc = CRMCTL_EXIT_FAILED;
        goto done;
    }
    const char *only = crmctl_arg(args, "source");
    int n = crmctl_select_services(ctl, only, "source", sel);
    if (n < 0) {
        free(sel);
        rc = CRMCTL_EXIT_USAGE;
        goto done;
    }
    for (int i = 0; i < n; i++)
        if (only || s_source_relevant(&t, sel[i]->name))
            t.src[t.n_src++].svc = sel[i];
    free(sel);
    if (t.n_src == 0) {
        crmctl_error("Event types start with \"crm.<source>.\", and none of the configured"
                     " services matches.",
                     "Check the prefix, or name the source with --source.",
                     "no configured service emits events of type %s", crmctl_arg(args, "type"));
        rc = CRMCTL_EXIT_USAGE;
        goto done;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the live wait returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Subscribe first, so that nothing committed after the replay is
     * missed; what arrives twice is dropped by sequence. */
    t.sub = zmq_socket(crmctl_zctx(ctl), ZMQ_SUB);
    int linger = 0, hwm = TAIL_SUB_HWM;
    if (t.sub) {
        zmq_setsockopt(t.sub, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(t.sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    }
    if (t.sub && crmctl_secure(ctl, t.sub, "bus") < 0) {
        rc = CRMCTL_EXIT_USAGE;
        goto done;
    }
    if (!t.sub || zmq_connect(t.sub, crmctl_bus_endpoint(ctl)) < 0) {
        crmctl_error(NULL,
                     "Write the endpoint as tcp://HOST:PORT in CRM_BUS_SUB_ENDPOINT or"
                     " --bus.",
                     "could not connect to the bus at \"%s\": %s", crmctl_bus_endpoint(ctl),
                     zmq_strerror(errno));
        rc = CRMCTL_EXIT_USAGE;
        goto done;
    }
    int64_t now = crm_mono_us();
    for (size_t i = 0; i < t.n_src; i++) {
        char topic[160];
        snprintf(topic, sizeof topic, "crm.%s.", t.src[i].svc->name);
        zmq_setsockopt(t.sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
        t.src[i].heard_us = now;
    }
    for (size_t i = 0; i < t.n_src; i++) {
        s_src_t *s = &t.src[i];
        if (from_seq == 0) {
            rc = s_start_at_head(&t, s);
            if (rc)
                goto done;
        } else {
            s->expected = from_seq;
            s->replaying = 1;
        }
    }
    rc = s_run(&t);
done:
    s_tail_free(&t);
    return rc;
}
