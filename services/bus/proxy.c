/* proxy.c: zmq_proxy with eyes. libzmq's own proxy cannot look at who sent
 * a message, so this loop does the forwarding and reads each publication's
 * ZAP identity. A verdict is cached per sender key and directory
 * generation, so the check costs a 40-byte comparison per message. */
#include "proxy.h"

#include <crm/log.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define S_BATCH 1024 /* messages per socket per pass: the other side gets a turn */

typedef struct {
    crm_zap_t *zap;
    char key[CRM_KEY_Z85_LEN + 1]; /* the last sender */
    char prefix[128];              /* "crm.<its name>." or "" when it may not publish */
    unsigned generation;
    int valid;
} s_cache_t;

/* Whether the publication in `msg` (its first frame) may pass. */
static int s_allowed(s_cache_t *c, zmq_msg_t *msg)
{
    if (!c->zap)
        return 1;
    const char *key = zmq_msg_gets(msg, "X-Crm-Key");
    if (!key)
        return 0;
    if (!c->valid || c->generation != crm_zap_generation(c->zap) || strcmp(key, c->key) != 0) {
        const crm_principal_t *p = crm_zap_sender(c->zap, msg);
        snprintf(c->key, sizeof c->key, "%s", key);
        c->generation = crm_zap_generation(c->zap);
        c->valid = 1;
        if (p && p->kind == CRM_KIND_SERVICE)
            snprintf(c->prefix, sizeof c->prefix, "crm.%s.", p->name);
        else
            c->prefix[0] = 0;
    }
    size_t n = strlen(c->prefix), len = zmq_msg_size(msg);
    int ok = n && len >= n && !memcmp(zmq_msg_data(msg), c->prefix, n);
    if (!ok) {
        const char *user = zmq_msg_gets(msg, "User-Id");
        char what[96];
        snprintf(what, sizeof what, "a publication on \"%.*s\"", (int)(len < 60 ? len : 60),
                 (const char *)zmq_msg_data(msg));
        crm_zap_refuse(c->zap, n ? CRM_AUTH_TOPIC : CRM_AUTH_REVOKED, user ? user : key, what);
    }
    return ok;
}

/* Moves up to S_BATCH whole messages from `from` to `to`; with `cache`,
 * only those s_allowed lets through. */
static void s_forward(void *from, void *to, s_cache_t *cache)
{
    for (int i = 0; i < S_BATCH; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, from, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        int pass = !cache || s_allowed(cache, &msg);
        for (;;) {
            int more = zmq_msg_more(&msg);
            if (pass)
                zmq_msg_send(&msg, to, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
            zmq_msg_close(&msg); /* after a send, an empty message: closing is harmless */
            if (!more)
                break;
            zmq_msg_init(&msg);
            zmq_msg_recv(&msg, from, 0);
        }
    }
}

int crm_bus_proxy_run(void *xsub, void *xpub, void *control, crm_zap_t *zap,
                      const char *xpub_endpoint)
{
    s_cache_t cache = {.zap = zap};
    zmq_pollitem_t items[4] = {{control, 0, ZMQ_POLLIN, 0},
                               {xsub, 0, ZMQ_POLLIN, 0},
                               {xpub, 0, ZMQ_POLLIN, 0},
                               {zap ? crm_zap_socket(zap) : NULL, 0, ZMQ_POLLIN, 0}};
    int n_items = zap ? 4 : 3;
    /* zmq_unbind closes the listener on libzmq's I/O thread, so binding
     * again may find the port still taken for a moment: retry every 10 ms. */
    int rebind = 0;
    for (;;) {
        if (rebind) {
            if (zmq_bind(xpub, xpub_endpoint) == 0) {
                rebind = 0;
                crm_info("bus.rebind", "subscribers' side bound again at %s", xpub_endpoint);
            } else if (errno != EADDRINUSE || ++rebind > 500) {
                crm_error("bus.rebind", "could not bind %s again: %s", xpub_endpoint,
                          zmq_strerror(errno));
                return -1;
            }
        }
        if (zmq_poll(items, n_items, rebind ? 10 : -1) < 0) {
            if (errno == EINTR)
                continue;
            crm_error("bus.poll", "poll failed: %s", zmq_strerror(errno));
            return -1;
        }
        if (zap && (items[3].revents & ZMQ_POLLIN))
            crm_zap_handle(zap, 256);
        if (items[0].revents & ZMQ_POLLIN) {
            char cmd[16] = "";
            int n = zmq_recv(control, cmd, sizeof cmd - 1, ZMQ_DONTWAIT);
            if (n > 0 && n < (int)sizeof cmd)
                cmd[n] = 0;
            if (!strcmp(cmd, "TERMINATE"))
                return 0;
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
        if (items[1].revents & ZMQ_POLLIN)
            s_forward(xsub, xpub, &cache);
        if (items[2].revents & ZMQ_POLLIN)
            s_forward(xpub, xsub, NULL);
    }
}
