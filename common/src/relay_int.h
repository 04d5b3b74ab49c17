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
/* A reader of the stream saw a newer epoch (after stream.rotate_epoch):
 * the heartbeats carry it from now on. The relay also reads it itself
 * each tick. */
void crm_relay_set_epoch(crm_relay_t *r, const char *epoch);
int64_t crm_relay_events_published(const crm_relay_t *r);
int64_t crm_relay_heartbeats_sent(const crm_relay_t *r);
/* Publishes what memory holds; used at shutdown (no new database reads). */
void crm_relay_flush(crm_relay_t *r);
void crm_relay_destroy(crm_relay_t **r_p);

#endif
