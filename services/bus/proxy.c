/* proxy.c: the bus's forwarding loop.
 *
 * zmq_proxy would pass on anything. This loop passes on a publisher's message
 * only when it is [topic][Event] whose topic is the event's type and names
 * the event's source (or [crm.<source>._hb][Heartbeat] of that source), so a
 * subscriber never sees a message that disagrees with itself. It reads only
 * the envelope's top level in the wire format (s_scan), which keeps the bus
 * near zmq_proxy's speed; consumers decode and check the rest. It does not
 * make a forger honest: anyone who may publish can still write a
 * well-formed event under any source. Consumers therefore apply only what
 * the source hands out by replay (docs/architecture.md, "Forged events"), and
 * s_publisher_may() checks the authenticated publisher (CURVE): its ZAP
 * identity must be a service principal still in the directory whose name is
 * the source. The verdict is cached per sender key and directory
 * generation, so the check costs a 40-byte comparison per message.
 *
 * Subscriptions come up from the XPUB (verbose, so every subscribe and
 * unsubscribe, including those of a peer that left, is seen here). Each
 * topic is counted; a topic is passed upstream when its first subscriber
 * arrives and withdrawn when its last one leaves, and no more than
 * max_subscriptions distinct topics are passed upstream at once, so a peer
 * that subscribes to thousands of topics cannot grow every publisher's
 * subscription table. Topic length is bounded by
 * the proxy's own check (s_on_subscription) and, from 1024 bytes, by
 * ZMQ_MAXMSGSIZE on the XPUB (main.c; the floor lets a CURVE handshake
 * through).
 *
 * Not bounded here: the XPUB itself stores every subscription a peer sends
 * (libzmq's trie, before this loop sees it, in ZMQ_XPUB_MANUAL mode too),
 * and a subscription message carries no identity of its peer, so there is no
 * per-peer cap and no way to drop one peer. The ZAP handler refuses keys not
 * in the directory at the handshake, so only listed principals subscribe;
 * keep the XPUB port reachable by the services and operators only all the
 * same (docs/operations.md, "Limits"). */
#include "proxy.h"

#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---- subscription counts ------------------------------------------------ */

typedef struct s_sub {
    struct s_sub *next;
    size_t count; /* subscribers holding it */
    size_t len;
    unsigned char topic[];
} s_sub_t;

#define S_BUCKETS 4096

typedef struct {
    s_sub_t *buckets[S_BUCKETS];
    size_t distinct;
} s_subs_t;

static s_sub_t **s_find(s_subs_t *t, const unsigned char *topic, size_t len)
{
    s_sub_t **pp = &t->buckets[crm_hash64(CRM_HASH_SEED, topic, len) % S_BUCKETS];
    while (*pp && ((*pp)->len != len || memcmp((*pp)->topic, topic, len)))
        pp = &(*pp)->next;
    return pp;
}

static void s_subs_clear(s_subs_t *t)
{
    for (size_t i = 0; i < S_BUCKETS; i++)
        while (t->buckets[i]) {
            s_sub_t *s = t->buckets[i];
            t->buckets[i] = s->next;
            free(s);
        }
    t->distinct = 0;
}

/* One subscription message from the XPUB: 1 or 0, then the topic. Passed
 * upstream only when it changes what publishers must send. */
static void s_on_subscription(s_subs_t *t, void *xsub, zmq_msg_t *msg, const crm_bus_limits_t *lim,
                              crm_bus_stats_t *st)
{
    const unsigned char *d = zmq_msg_data(msg);
    size_t n = zmq_msg_size(msg);
    if (n < 1 || d[0] > 1 || n - 1 > lim->max_topic) {
        st->subs_too_long++;
        return;
    }
    s_sub_t **pp = s_find(t, d + 1, n - 1);
    int forward = 0;
    if (d[0] == 1) {
        if (*pp) {
            (*pp)->count++;
        } else if (t->distinct >= lim->max_subscriptions) {
            /* Not remembered either: the table stays bounded. Its
             * unsubscribe later finds nothing and is ignored. */
            if (st->subs_over_cap++ % 1000 == 0)
                crm_warn("bus.subscriptions",
                         "refused a subscription: %zu distinct topics are subscribed"
                         " (CRM_BUS_MAX_SUBSCRIPTIONS)",
                         t->distinct);
            return;
        } else {
            s_sub_t *s = malloc(sizeof *s + n - 1);
            if (!s) {
                st->subs_over_cap++; /* out of memory: refused like one over the cap */
                return;
            }
            s->next = NULL;
            s->count = 1;
            s->len = n - 1;
            memcpy(s->topic, d + 1, n - 1);
            *pp = s;
            t->distinct++;
            forward = 1;
        }
    } else {
        if (!*pp)
            return;
        if (--(*pp)->count == 0) {
            s_sub_t *s = *pp;
            *pp = s->next;
            free(s);
            t->distinct--;
            forward = 1;
        }
    }
    st->subscriptions = (int64_t)t->distinct;
    if (forward)
        zmq_send(xsub, d, n, ZMQ_DONTWAIT);
}

/* ---- events ------------------------------------------------------------- */

typedef struct {
    crm_zap_t *zap;
    char key[CRM_KEY_Z85_LEN + 1]; /* the last sender */
    char name[64];                 /* its service name, or "" when it may not publish */
    unsigned generation;
    int valid;
} s_cache_t;

/* Whether the sender of `topic` (its ZAP identity) may publish as `source`:
 * a service principal still in the directory, named `source`. */
static int s_publisher_may(s_cache_t *c, zmq_msg_t *topic, const char *source)
{
    if (!c->zap)
        return 1;
    const char *key = zmq_msg_gets(topic, "X-Crm-Key");
    if (!key)
        return 0;
    if (!c->valid || c->generation != crm_zap_generation(c->zap) || strcmp(key, c->key) != 0) {
        const crm_principal_t *p = crm_zap_sender(c->zap, topic);
        snprintf(c->key, sizeof c->key, "%s", key);
        c->generation = crm_zap_generation(c->zap);
        c->valid = 1;
        if (p && (p->kind == CRM_KIND_SERVICE || p->kind == CRM_KIND_GATEWAY))
            snprintf(c->name, sizeof c->name, "%s", p->name);
        else
            c->name[0] = 0;
    }
    int ok = c->name[0] && !strcmp(c->name, source);
    if (!ok) {
        const char *user = zmq_msg_gets(topic, "User-Id");
        size_t len = zmq_msg_size(topic);
        char what[96];
        snprintf(what, sizeof what, "a publication on \"%.*s\"", (int)(len < 60 ? len : 60),
                 (const char *)zmq_msg_data(topic));
        crm_zap_refuse(c->zap, c->name[0] ? CRM_AUTH_TOPIC : CRM_AUTH_REVOKED, user ? user : key,
                       what);
    }
    return ok;
}

static int s_topic_names(const char *topic, size_t tlen, const char *source, size_t sl)
{
    return sl > 0 && tlen > 5 + sl && !memcmp(topic, "crm.", 4) && !memcmp(topic + 4, source, sl) &&
           topic[4 + sl] == '.';
}

/* Reads a base-128 varint; returns its length, or 0 if it runs off the end
 * or is longer than 10 bytes. */
static size_t s_varint(const uint8_t *p, size_t len, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return i + 1;
    }
    return 0;
}

/* Walks the top level of a protobuf message without decoding it, and finds
 * the length-delimited fields `fa` and `fb` (the last occurrence wins, as in
 * a decoder). Returns 0, or -1 if the wire format is broken. Decoding the
 * whole event would cost the bus half its throughput; the consumers decode
 * and check everything anyway. */
static int s_scan(const uint8_t *p, size_t len, uint32_t fa, const uint8_t **a, size_t *alen,
                  uint32_t fb, const uint8_t **b, size_t *blen)
{
    size_t i = 0;
    while (i < len) {
        uint64_t key, v;
        size_t n = s_varint(p + i, len - i, &key);
        if (!n || key >> 3 == 0)
            return -1;
        i += n;
        switch (key & 7) {
        case 0: /* varint */
            n = s_varint(p + i, len - i, &v);
            if (!n)
                return -1;
            i += n;
            break;
        case 1: /* 64-bit */
            if (len - i < 8)
                return -1;
            i += 8;
            break;
        case 5: /* 32-bit */
            if (len - i < 4)
                return -1;
            i += 4;
            break;
        case 2: /* length-delimited */
            n = s_varint(p + i, len - i, &v);
            if (!n || v > len - i - n)
                return -1;
            i += n;
            if (key >> 3 == fa) {
                *a = p + i;
                *alen = (size_t)v;
            } else if (key >> 3 == fb) {
                *b = p + i;
                *blen = (size_t)v;
            }
            i += (size_t)v;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/* 1: pass on; 0: refused (disagrees with itself); 2: refused (not from a
 * publisher that may send it); -1: malformed. */
static int s_check(s_cache_t *c, zmq_msg_t *topic, zmq_msg_t *body)
{
    const char *t = zmq_msg_data(topic);
    size_t tlen = zmq_msg_size(topic);
    const uint8_t *b = zmq_msg_data(body);
    size_t blen = zmq_msg_size(body);
    const uint8_t *src = NULL, *type = NULL;
    size_t sl = 0, tyl = 0;
    char source[64];
    if (tlen > 4 && !memcmp(t + tlen - 4, "._hb", 4)) {
        /* Heartbeat: field 1 is the source. */
        if (s_scan(b, blen, 1, &src, &sl, 0, &type, &tyl) < 0)
            return -1;
        if (sl == 0 || sl >= sizeof source)
            return 0;
        memcpy(source, src, sl);
        source[sl] = 0;
        if (!s_topic_names(t, tlen, source, sl) || tlen != sl + 8)
            return 0;
        return s_publisher_may(c, topic, source) ? 1 : 2;
    }
    /* Event: field 2 is the source, field 3 the type. */
    if (s_scan(b, blen, 2, &src, &sl, 3, &type, &tyl) < 0)
        return -1;
    if (sl == 0 || sl >= sizeof source || tyl != tlen || memcmp(type, t, tlen))
        return 0;
    memcpy(source, src, sl);
    source[sl] = 0;
    if (!s_topic_names(t, tlen, source, sl))
        return 0;
    return s_publisher_may(c, topic, source) ? 1 : 2;
}

/* Reads one whole message from the XSUB and passes it on if it checks out.
 * Returns -1 when there was none. */
static int s_on_publish(s_cache_t *c, void *xsub, void *xpub, crm_bus_stats_t *st)
{
    zmq_msg_t topic, body;
    int rc = 0;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&topic, xsub, ZMQ_DONTWAIT) < 0) {
        rc = -1;
        goto out;
    }
    int frames = 1;
    if (zmq_msg_more(&topic)) {
        zmq_msg_recv(&body, xsub, 0);
        frames++;
        while (zmq_msg_more(&body)) {
            zmq_msg_t more;
            zmq_msg_init(&more);
            zmq_msg_recv(&more, xsub, 0);
            int m = zmq_msg_more(&more);
            zmq_msg_close(&more);
            frames++;
            if (!m)
                break;
        }
    }
    int r = frames == 2 ? s_check(c, &topic, &body) : -1;
    if (r < 0) {
        if (st->malformed++ % 1000 == 0)
            crm_warn("bus.malformed", "dropped a message that is not [topic][event] (%d frames)",
                     frames);
    } else if (r == 0) {
        if (st->refused++ % 1000 == 0)
            crm_warn("bus.refused",
                     "dropped an event whose topic does not match its source and"
                     " type (%lld so far)",
                     (long long)st->refused);
    } else if (r == 2) {
        st->unauthorised++; /* logged and counted by crm_zap_refuse */
    } else if (zmq_msg_send(&topic, xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
        /* XPUB never blocks: a slow subscriber loses messages at its HWM
         * and catches up by replay. */
        zmq_msg_send(&body, xpub, ZMQ_DONTWAIT);
        st->forwarded++;
    }
out:
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    return rc;
}

int crm_bus_proxy_run(void *xsub, void *xpub, void *control, const crm_bus_limits_t *limits,
                      crm_bus_stats_t *stats, crm_zap_t *zap, const char *xpub_endpoint,
                      crm_bus_publish_fn publish, void *arg)
{
    s_subs_t *subs = calloc(1, sizeof *subs);
    if (!subs)
        return -1;
    s_cache_t cache = {.zap = zap};
    int rc = 0;
    /* zmq_unbind closes the listener on libzmq's I/O thread, so binding
     * again may find the port still taken for a moment: retry every 10 ms. */
    int rebind = 0;
    for (;;) {
        if (publish)
            publish(arg, stats, zap, !rebind);
        if (rebind) {
            if (zmq_bind(xpub, xpub_endpoint) == 0) {
                rebind = 0;
                crm_info("bus.rebind", "subscribers' side bound again at %s", xpub_endpoint);
            } else if (errno != EADDRINUSE || ++rebind > 500) {
                crm_error("bus.rebind", "could not bind %s again: %s", xpub_endpoint,
                          zmq_strerror(errno));
                rc = -1;
                break;
            }
        }
        zmq_pollitem_t items[4] = {{control, 0, ZMQ_POLLIN, 0},
                                   {xsub, 0, ZMQ_POLLIN, 0},
                                   {xpub, 0, ZMQ_POLLIN, 0},
                                   {zap ? crm_zap_socket(zap) : NULL, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, zap ? 4 : 3, rebind ? 10 : -1) < 0) {
            if (errno == EINTR)
                continue;
            crm_error("bus.poll", "poll failed: %s", zmq_strerror(errno));
            rc = -1;
            break;
        }
        if (zap && (items[3].revents & ZMQ_POLLIN))
            crm_zap_handle(zap, 256);
        if (items[0].revents & ZMQ_POLLIN) {
            char cmd[16] = "";
            int n = zmq_recv(control, cmd, sizeof cmd - 1, ZMQ_DONTWAIT);
            if (n > 0 && n < (int)sizeof cmd)
                cmd[n] = 0;
            if (!strcmp(cmd, "TERMINATE"))
                break;
            if (!strcmp(cmd, "RELOAD") && zap && crm_zap_reload(zap) == 1) {
                /* Subscribers cannot be checked per message: make every one
                 * pass the handshake again. They reconnect by themselves and
                 * replay what they missed. */
                crm_info("bus.rebind", "keys were revoked: subscribers must reconnect");
                if (zmq_unbind(xpub, xpub_endpoint) == 0)
                    rebind = 1;
                else
                    crm_error("bus.rebind", "could not unbind %s: %s", xpub_endpoint,
                              zmq_strerror(errno));
            }
        }
        /* Bounded batches on each side, so neither starves the other. */
        for (int i = 0; i < 1000 && (items[1].revents & ZMQ_POLLIN); i++)
            if (s_on_publish(&cache, xsub, xpub, stats) < 0)
                break;
        for (int i = 0; i < 256 && (items[2].revents & ZMQ_POLLIN); i++) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, xpub, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            s_on_subscription(subs, xsub, &m, limits, stats);
            zmq_msg_close(&m);
        }
    }
    if (publish)
        publish(arg, stats, zap, 0);
    s_subs_clear(subs);
    free(subs);
    return rc;
}
