/* fairq.c: commands waiting for a batch, one queue per client, served in
 * turn.
 *
 * With one first-come-first-served queue, a client that sends 30,000
 * commands makes everyone else wait behind them. Here each client (ROUTER
 * routing id; per principal once peers are authenticated; each caller a
 * gateway delegates for, so that one busy API user does not queue everyone
 * behind the same gateway connection; the service's own submissions are
 * one more client) has its own FIFO, and a batch takes one
 * command from each client in turn. A command that waited longer than the
 * deadline is answered UNAVAILABLE by the caller rather than executed late
 * (crm_fairq_expired). */
#include "svc_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct s_client {
    struct s_client *next; /* in the ring of clients with work */
    crm_work_t *head, *tail;
    size_t len;
    size_t idlen;
    uint8_t id[];
} s_client_t;

struct crm_fairq {
    s_client_t *ring; /* the client served next; the ring is circular */
    s_client_t *prev; /* the one before it, to unlink */
    size_t len;
};

crm_fairq_t *crm_fairq_new(void)
{
    return calloc(1, sizeof(crm_fairq_t));
}

size_t crm_fairq_len(const crm_fairq_t *q)
{
    return q->len;
}

static s_client_t *s_find(crm_fairq_t *q, const uint8_t *id, size_t len)
{
    s_client_t *c = q->ring;
    if (!c)
        return NULL;
    do {
        if (c->idlen == len && !memcmp(c->id, id, len))
            return c;
        c = c->next;
    } while (c != q->ring);
    return NULL;
}

int crm_fairq_has(crm_fairq_t *q, const uint8_t *id, size_t len)
{
    return s_find(q, id, len) != NULL;
}

int crm_fairq_push(crm_fairq_t *q, crm_work_t *w)
{
    const uint8_t *id = w->fair_id ? w->fair_id : w->identity ? w->identity : (const uint8_t *)"";
    size_t len = w->fair_id ? w->fair_len : w->identity ? w->identity_len : 0;
    s_client_t *c = s_find(q, id, len);
    if (!c) {
        c = calloc(1, sizeof *c + len);
        if (!c)
            return -1;
        memcpy(c->id, id, len);
        c->idlen = len;
        if (!q->ring) {
            c->next = c;
            q->ring = q->prev = c;
        } else {
            /* Joins at the end of the turn: just before the next one served. */
            c->next = q->ring;
            q->prev->next = c;
            q->prev = c;
        }
    }
    w->next = NULL;
    if (c->tail)
        c->tail->next = w;
    else
        c->head = w;
    c->tail = w;
    c->len++;
    q->len++;
    return 0;
}

/* Takes `c` (== q->ring) out of the ring. */
static void s_unlink_current(crm_fairq_t *q)
{
    s_client_t *c = q->ring;
    if (c->next == c) {
        q->ring = q->prev = NULL;
    } else {
        q->prev->next = c->next;
        q->ring = c->next;
    }
    free(c);
}

crm_work_t *crm_fairq_pop(crm_fairq_t *q)
{
    s_client_t *c = q->ring;
    if (!c)
        return NULL;
    crm_work_t *w = c->head;
    c->head = w->next;
    if (!c->head)
        c->tail = NULL;
    w->next = NULL;
    c->len--;
    q->len--;
    if (!c->head) {
        s_unlink_current(q);
    } else {
        q->prev = c;
        q->ring = c->next;
    }
    return w;
}

const crm_work_t *crm_fairq_next(const crm_fairq_t *q)
{
    return q->ring ? q->ring->head : NULL;
}

crm_work_t *crm_fairq_expired(crm_fairq_t *q, int64_t before_us)
{
    s_client_t *c = q->ring;
    if (!c)
        return NULL;
    /* Each client's queue is in arrival order: only heads can be expired
     * first. */
    s_client_t *prev = q->prev;
    do {
        if (c->idlen > 0 && c->head && c->head->received_us < before_us) {
            crm_work_t *w = c->head;
            c->head = w->next;
            if (!c->head)
                c->tail = NULL;
            w->next = NULL;
            c->len--;
            q->len--;
            if (!c->head) {
                if (c == q->ring) {
                    s_unlink_current(q);
                } else {
                    prev->next = c->next;
                    if (q->prev == c)
                        q->prev = prev;
                    free(c);
                }
            }
            return w;
        }
        prev = c;
        c = c->next;
    } while (c != q->ring);
    return NULL;
}

/* The oldest queue head, of clients only (idlen > 0) when clients_only. */
static crm_work_t *s_oldest(const crm_fairq_t *q, int clients_only)
{
    crm_work_t *best = NULL;
    const s_client_t *c = q->ring;
    if (!c)
        return NULL;
    do {
        if (c->head && (!clients_only || c->idlen > 0) &&
            (!best || c->head->received_us < best->received_us))
            best = c->head;
        c = c->next;
    } while (c != q->ring);
    return best;
}

crm_work_t *crm_fairq_oldest(const crm_fairq_t *q)
{
    return s_oldest(q, 0);
}

crm_work_t *crm_fairq_oldest_client(const crm_fairq_t *q)
{
    return s_oldest(q, 1);
}

void crm_fairq_destroy(crm_fairq_t **q_p)
{
    crm_fairq_t *q = *q_p;
    if (!q)
        return;
    crm_work_t *w;
    while ((w = crm_fairq_pop(q)))
        crm_work_destroy(&w);
    free(q);
    *q_p = NULL;
}
