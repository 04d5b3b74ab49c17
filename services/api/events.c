/* events.c: GET /v1/events, the event feed as Server-Sent Events. Each
 * event is one CloudEvents 1.0 JSON object (crm/cloudevent.h) in a `data:`
 * line. The feed reads each service's stream with stream.replay, the
 * command every consumer repairs its stream with, from the position the
 * client asked for: the stream is dense per source and replay answers in
 * sequence order, so reading it from a position can neither skip nor
 * repeat an event. Replays run while a source has more, and every
 * S_POLL_MS after it caught up.
 *
 * The SSE id of an event is the position of every source after it,
 * "sales:12,marketing:5": a client that reconnects with that Last-Event-ID
 * (or from=) resumes each source exactly after what it saw, with no gap and
 * no duplicate. `type` (repeatable) keeps events whose type starts with
 * it; `source` (repeatable) limits the feed to those services. */
#include "api.h"

#include <crm/cloudevent.h>
#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_POLL_MS 200
#define S_HEARTBEAT_US (10LL * 1000000LL)
#define S_BATCH 200
#define S_MAX_TYPES 8
#define S_MAX_SOURCES 16

typedef struct api_sse s_sse_t;

struct api_sse {
    s_sse_t *next;
    api_t *api;
    crm_http_req_t *req;
    char principal[128];
    size_t nsrc;
    char src[S_MAX_SOURCES][32];
    uint64_t next_seq[S_MAX_SOURCES]; /* the next sequence wanted */
    int in_flight[S_MAX_SOURCES];
    int more[S_MAX_SOURCES];
    int at_end[S_MAX_SOURCES]; /* from=now: skip to the head first */
    char *types[S_MAX_TYPES];
    size_t ntypes;
    int64_t last_write_us;
    int closed;  /* the client went away */
    int pending; /* replays in flight */
};

static void s_sse_free(s_sse_t *s)
{
    api_t *api = s->api;
    for (s_sse_t **pp = &api->sse; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    if (s->req)
        crm_http_req_stream_end(&s->req);
    for (size_t i = 0; i < s->ntypes; i++)
        free(s->types[i]);
    free(s);
}

static void s_end(s_sse_t *s)
{
    s->closed = 1;
    if (s->pending == 0)
        s_sse_free(s);
}

static void s_on_close(crm_http_req_t *req, void *arg)
{
    (void)req;
    s_end(arg);
}

/* The SSE id: every source's last sequence sent. */
static void s_id(const s_sse_t *s, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->nsrc && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s:%" PRIu64, i ? "," : "", s->src[i],
                                 s->next_seq[i] - 1);
}

static int s_write(s_sse_t *s, const char *data, size_t len)
{
    if (crm_http_req_stream_write(s->req, data, len) < 0) {
        s_end(s);
        return -1;
    }
    s->last_write_us = crm_mono_us();
    return 0;
}

static void s_poll_source(s_sse_t *s, size_t i);

static void s_on_replay(api_t *api, int rc, const Crm__V1__CommandReply *rep, void *arg);

typedef struct {
    s_sse_t *s;
    size_t i;
} s_poll_t;

static void s_on_replay(api_t *api, int rc, const Crm__V1__CommandReply *rep, void *arg)
{
    s_poll_t *p = arg;
    s_sse_t *s = p->s;
    size_t i = p->i;
    free(p);
    s->pending--;
    s->in_flight[i] = 0;
    if (s->closed) {
        if (s->pending == 0)
            s_sse_free(s);
        return;
    }
    if (rc < 0 || (rep->status && rep->status->code != 0)) {
        /* A service that is down or refuses is tried again next poll; a
         * refusal of the caller's rights ends the feed. */
        if (rc == 0 && rep->status->code == CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED) {
            char msg[256];
            int n = snprintf(msg, sizeof msg,
                             "event: error\ndata: {\"title\":\"permission denied\","
                             "\"source\":\"%s\"}\n\n",
                             s->src[i]);
            s_write(s, msg, (size_t)n);
            s_end(s);
        }
        return;
    }
    Crm__V1__ReplayReply *rr = crm__v1__replay_reply__unpack(NULL, rep->body.len, rep->body.data);
    if (!rr)
        return;
    if (s->at_end[i]) {
        /* from=now: only the head was asked for; the feed starts after it. */
        if (rr->head_sequence + 1 > s->next_seq[i])
            s->next_seq[i] = rr->head_sequence + 1;
        s->at_end[i] = 0;
        s->more[i] = 0;
        crm__v1__replay_reply__free_unpacked(rr, NULL);
        return;
    }
    for (size_t k = 0; k < rr->n_events && !s->closed; k++) {
        Crm__V1__Event *ev = crm__v1__event__unpack(NULL, rr->events[k].len, rr->events[k].data);
        if (!ev)
            break; /* stop here: the next poll asks for this one again */
        if (ev->sequence < s->next_seq[i]) {
            crm__v1__event__free_unpacked(ev, NULL);
            continue;
        }
        s->next_seq[i] = ev->sequence + 1;
        crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;
        char *text = crm_cloudevent_write(&b, ev) == 0 ? b.text : NULL;
        if (text) {
            char id[512];
            s_id(s, id, sizeof id);
            size_t n = strlen(text) + strlen(id) + 64;
            char *msg = malloc(n);
            if (msg) {
                int m = snprintf(msg, n, "id: %s\ndata: %s\n\n", id, text);
                if (s_write(s, msg, (size_t)m) == 0)
                    api->m.sse_events++;
                free(msg);
            }
        }
        crm_pbjson_buf_free(&b);
        crm__v1__event__free_unpacked(ev, NULL);
    }
    if (!s->closed && rr->scanned_to_sequence + 1 > s->next_seq[i] && rr->n_events == 0) {
        /* Filtered events advance the position too; tell the client where
         * it is, so a reconnect does not scan them again. */
        s->next_seq[i] = rr->scanned_to_sequence + 1;
    }
    s->more[i] = rr->head_sequence >= s->next_seq[i];
    crm__v1__replay_reply__free_unpacked(rr, NULL);
    if (!s->closed && s->more[i])
        s_poll_source(s, i);
}

static void s_poll_source(s_sse_t *s, size_t i)
{
    if (s->in_flight[i] || s->closed)
        return;
    Crm__V1__ReplayRequest rq = CRM__V1__REPLAY_REQUEST__INIT;
    rq.from_sequence = s->next_seq[i];
    rq.max_events = s->at_end[i] ? 1 : S_BATCH;
    rq.type_prefixes = s->types;
    rq.n_type_prefixes = s->ntypes;
    uint8_t buf[4096];
    size_t n = crm__v1__replay_request__get_packed_size(&rq);
    if (n > sizeof buf)
        return;
    crm__v1__replay_request__pack(&rq, buf);
    s_poll_t *p = malloc(sizeof *p);
    if (!p)
        return;
    p->s = s;
    p->i = i;
    if (api_call(s->api, s->src[i], "stream.replay", buf, n, NULL, s->principal, s_on_replay, p) <
        0) {
        free(p);
        return;
    }
    s->in_flight[i] = 1;
    s->pending++;
}

static void s_tick(uv_timer_t *t)
{
    api_t *api = t->data;
    int64_t now = crm_mono_us();
    s_sse_t *next;
    for (s_sse_t *s = api->sse; s; s = next) {
        next = s->next;
        if (s->closed)
            continue;
        if (now - s->last_write_us > S_HEARTBEAT_US && s_write(s, ": keep-alive\n\n", 14) < 0)
            continue;
        for (size_t i = 0; i < s->nsrc; i++)
            s_poll_source(s, i);
    }
}

/* "sales:12,marketing:5" or a bare number for every source: the last
 * sequence seen of each; "now": the current end of every stream (a live
 * view that does not want the history, the dashboard). */
static int s_positions(s_sse_t *s, const char *v)
{
    char *end;
    if (!*v)
        return 0;
    if (!strcmp(v, "now")) {
        for (size_t i = 0; i < s->nsrc; i++)
            s->at_end[i] = 1;
        return 0;
    }
    if (strchr(v, ':') == NULL) {
        unsigned long long n = strtoull(v, &end, 10);
        if (*end || v[0] == '-')
            return -1;
        /* from=SEQ is the first sequence wanted. */
        for (size_t i = 0; i < s->nsrc; i++)
            s->next_seq[i] = n ? n : 1;
        return 0;
    }
    char *copy = strdup(v), *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *part = copy ? strtok_r(copy, ",", &save) : NULL; part && rc == 0;
         part = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(part, ':');
        if (!colon) {
            rc = -1;
            break;
        }
        *colon = '\0';
        unsigned long long n = strtoull(colon + 1, &end, 10);
        if (*end || colon[1] == '-' || !colon[1]) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < s->nsrc; i++)
            if (!strcmp(s->src[i], part))
                s->next_seq[i] = n + 1;
    }
    free(copy);
    return rc;
}

static int s_hex(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void s_unescape(char *v)
{
    char *o = v;
    for (char *p = v; *p; p++) {
        if (*p == '%' && s_hex(p[1]) >= 0 && s_hex(p[2]) >= 0) {
            *o++ = (char)(s_hex(p[1]) * 16 + s_hex(p[2]));
            p += 2;
        } else {
            *o++ = *p == '+' ? ' ' : *p;
        }
    }
    *o = '\0';
}

void api_events_request(api_t *api, crm_http_req_t **req, api_cred_t *cred)
{
    s_sse_t *s = calloc(1, sizeof *s);
    if (!s) {
        api_problem(api, req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL, NULL);
        return;
    }
    s->api = api;
    snprintf(s->principal, sizeof s->principal, "%s", api_cred_principal(cred));
    char *q = strdup(crm_http_req_query(*req));
    char *save = NULL;
    const char *from = NULL;
    char *sources[S_MAX_SOURCES];
    size_t nsources = 0;
    int bad = !q;
    for (char *kv = q ? strtok_r(q, "&", &save) : NULL; kv && !bad;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        char *v = eq ? eq + 1 : (char *)"";
        if (eq)
            *eq = '\0';
        s_unescape(v);
        if (!strcmp(kv, "from"))
            from = v;
        else if (!strcmp(kv, "type") && s->ntypes < S_MAX_TYPES)
            bad = !(s->types[s->ntypes++] = strdup(v));
        else if (!strcmp(kv, "source") && nsources < S_MAX_SOURCES)
            sources[nsources++] = v;
        else
            bad = 2;
    }
    if (bad) {
        free(q);
        s_sse_free(s);
        api_problem(api, req, API_P_UNKNOWN_FIELD, 400, "unknown query parameter", NULL,
                    "the feed takes from, type and source", NULL, NULL);
        return;
    }
    for (size_t i = 0; i < api_upstream_count(api) && s->nsrc < S_MAX_SOURCES; i++) {
        const char *name = api_upstream_name(api, i);
        int want = nsources == 0;
        for (size_t k = 0; k < nsources; k++)
            want |= !strcmp(sources[k], name);
        if (!want)
            continue;
        snprintf(s->src[s->nsrc], sizeof s->src[0], "%s", name);
        s->next_seq[s->nsrc++] = 1;
    }
    const char *last = crm_http_req_header(*req, "Last-Event-ID");
    int rc = s_positions(s, last ? last : from ? from : "");
    free(q);
    if (rc < 0 || s->nsrc == 0) {
        s_sse_free(s);
        api_problem(api, req, API_P_INVALID_INPUT, 400,
                    rc < 0 ? "invalid position" : "no such source", rc < 0 ? "from" : "source",
                    rc < 0 ? "from and Last-Event-ID take SEQ or source:SEQ,source:SEQ" : NULL,
                    NULL, NULL);
        return;
    }
    s->req = *req;
    *req = NULL;
    crm_http_req_on_close(s->req, s_on_close, s);
    if (crm_http_req_stream_start(s->req, 200, "text/event-stream",
                                  "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n") < 0) {
        s_sse_free(s);
        return;
    }
    s->next = api->sse;
    api->sse = s;
    s->last_write_us = crm_mono_us();
    api->m.sse_clients++;
    s_write(s, "retry: 1000\n\n", 13);
    if (!api->sse_timer_started) {
        uv_timer_init(api->loop, &api->sse_timer);
        api->sse_timer.data = api;
        uv_timer_start(&api->sse_timer, s_tick, S_POLL_MS, S_POLL_MS);
        api->sse_timer_started = 1;
    }
    for (size_t i = 0; i < s->nsrc; i++)
        s_poll_source(s, i);
}

static void s_closed(uv_handle_t *h)
{
    (void)h;
}

void api_events_stop(api_t *api)
{
    while (api->sse) {
        s_sse_t *s = api->sse;
        s->pending = 0; /* upstream.c has answered every call by now */
        s_sse_free(s);
    }
    if (api->sse_timer_started)
        uv_close((uv_handle_t *)&api->sse_timer, s_closed);
    api->sse_timer_started = 0;
}
