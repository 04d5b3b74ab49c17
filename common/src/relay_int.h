/* relay_int.h: the relay (relay.c), from the outbox to the bus. Its owner,
 * the service, creates it and feeds it the events each commit sealed
 * (they come from the owners of batches). It reads the outbox on its own
 * connection and never calls back into the service: what the service
 * shows of it (positions, counters) it asks for. */
#ifndef CRM_RELAY_INT_H
#define CRM_RELAY_INT_H

#include "work_int.h"

#include <crm/db.h>

#include <stdint.h>
#include <uv.h>

typedef struct crm_relay crm_relay_t;

typedef struct crm_relay_conf {
    uv_loop_t *loop;
    crm_db_t *reader;     /* the relay's reads and the published position */
    void *pub;            /* the PUB socket */
    const char *source;   /* the stream's name, in heartbeats */
    int64_t heartbeat_ms; /* CRM_HEARTBEAT_MS */
    const char *epoch;    /* the stream's epoch and its start, as read at start */
    uint64_t epoch_start;
    uint64_t published; /* crm_relay.published_seq */
    uint64_t head;      /* crm_stream.head_seq */
} crm_relay_conf_t;

crm_relay_t *crm_relay_new(const crm_relay_conf_t *conf);
/* Events sealed by a commit, next-linked in sequence order: the relay
 * takes the list and frees each event once sent. */
void crm_relay_committed(crm_relay_t *r, crm_emit_t *emits);
uint64_t crm_relay_published(const crm_relay_t *r);
uint64_t crm_relay_head(const crm_relay_t *r);
/* A reader of the stream read its epoch, the epoch's start and (when not
 * 0) the outbox's first sequence: the heartbeats carry the epoch from now
 * on (after stream.rotate_epoch), and crm_relay_recent answers only while
 * its events have it. The relay also reads them itself each tick. */
void crm_relay_set_epoch(crm_relay_t *r, const char *epoch, uint64_t epoch_start,
                         uint64_t first_retained);

/* What the relay's memory can answer of a replay from `from`. */
typedef struct crm_relay_recent {
    uint64_t first, last; /* the events held, a contiguous range */
    uint64_t head;        /* the stream's head as the relay knows it (>= last) */
    const char *epoch;    /* the stream's epoch and its start, as last read */
    uint64_t epoch_start;
    uint64_t first_retained; /* the outbox's first sequence, or `first` */
} crm_relay_recent_t;

/* Whether the events the relay published lately answer a replay from
 * `from` (first <= from <= last, or from == last + 1 with nothing newer
 * known): 1 and *out filled, or 0 (ask the database). Valid until the loop
 * runs again. */
int crm_relay_recent(crm_relay_t *r, uint64_t from, crm_relay_recent_t *out);
/* Empties the memory of published events: events in the outbox were
 * rewritten (erasure), and a replay must read them from the database. */
void crm_relay_forget_recent(crm_relay_t *r);
/* The event of sequence seq held in memory (sealed bytes, as the outbox
 * holds them), or NULL. Owned by the relay. */
const crm_emit_t *crm_relay_recent_event(const crm_relay_t *r, uint64_t seq);
int64_t crm_relay_events_published(const crm_relay_t *r);
int64_t crm_relay_heartbeats_sent(const crm_relay_t *r);
/* Publishes what memory holds; used at shutdown (no new database reads). */
void crm_relay_flush(crm_relay_t *r);
void crm_relay_destroy(crm_relay_t **r_p);

#endif
