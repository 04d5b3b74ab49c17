/* limits.c: requests in flight per peer.
 *
 * A peer that asks and never reads must not make the service hold its
 * answers: each replay in flight holds a query and its rows until the reply
 * is sent. The count is per ROUTER routing id (per principal once the bus and
 * services authenticate peers), with a total over all peers so that many
 * peers cannot do together what one may not. */
#include "svc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_peer {
    struct s_peer *next;
    size_t count;
    size_t len;
    uint8_t id[];
} s_peer_t;

struct crm_inflight {
    size_t per_peer, total, in_flight;
    s_peer_t *peers; /* only peers with something in flight: a short list */
};

crm_inflight_t *crm_inflight_new(size_t per_peer, size_t total)
{
    crm_inflight_t *f = calloc(1, sizeof *f);
    if (f) {
        f->per_peer = per_peer;
        f->total = total;
    }
    return f;
}

static s_peer_t **s_find(crm_inflight_t *f, const uint8_t *id, size_t len)
{
    s_peer_t **pp = &f->peers;
    while (*pp && ((*pp)->len != len || memcmp((*pp)->id, id, len)))
        pp = &(*pp)->next;
    return pp;
}

int crm_inflight_take(crm_inflight_t *f, const uint8_t *id, size_t len)
{
    if (f->in_flight >= f->total)
        return -EBUSY;
    s_peer_t **pp = s_find(f, id, len);
    if (*pp) {
        if ((*pp)->count >= f->per_peer)
            return -EBUSY;
        (*pp)->count++;
    } else {
        s_peer_t *p = malloc(sizeof *p + len);
        if (!p)
            return -ENOMEM;
        p->next = f->peers;
        p->count = 1;
        p->len = len;
        memcpy(p->id, id, len);
        f->peers = p;
    }
    f->in_flight++;
    return 0;
}

void crm_inflight_give(crm_inflight_t *f, const uint8_t *id, size_t len)
{
    s_peer_t **pp = s_find(f, id, len);
    if (!*pp)
        return;
    f->in_flight--;
    if (--(*pp)->count == 0) {
        s_peer_t *p = *pp;
        *pp = p->next;
        free(p);
    }
}

void crm_inflight_destroy(crm_inflight_t **f_p)
{
    crm_inflight_t *f = *f_p;
    if (!f)
        return;
    while (f->peers) {
        s_peer_t *p = f->peers;
        f->peers = p->next;
        free(p);
    }
    free(f);
    *f_p = NULL;
}
