/* consumer_int.h: the consumers (consumer.c, consumer_live.c,
 * consumer_replay.c, consumer_verify.c): their structures, which the
 * service shows (stream.info, /metrics), what the service calls, and what
 * the consumer's files share. A consumer owns its batches (batch_int.h):
 * they report to it, and it moves its positions and hands their events to
 * the relay. The consumer's files read the service's sockets and settings
 * (svc_int.h); the service is called back only through `ended`. */
#ifndef CRM_CONSUMER_INT_H
#define CRM_CONSUMER_INT_H

#include "batch_int.h"

#include <crm/service.h>
#include <crm/zwatch.h>

#include <stddef.h>
#include <stdint.h>

/* ---- consumers --------------------------------------------------------- */
#define CRM_EVENT_ID_MAX 40
#define CRM_HINTS 16
#define CRM_RECENT 64

/* A sequence and the event id seen for it. */
typedef struct {
    uint64_t seq;
    char id[CRM_EVENT_ID_MAX];
} crm_seq_id_t;

typedef struct crm_src_pos {
    char *source;
    char epoch[40];
    uint64_t applied;   /* committed position */
    uint64_t expected;  /* next sequence wanted (queued up to expected-1) */
    uint64_t head;      /* last head seen from the source */
    uint64_t queued_to; /* last sequence queued for effects (the rest were filtered) */
    int replaying;
    uint64_t replay_req; /* request id of the outstanding replay */
    int64_t replay_sent_us;
    int64_t replays;
    int64_t gaps;
    int64_t lost;            /* events gone past retention */
    int64_t replay_timeouts; /* consecutive unanswered replay requests */
    /* verification (see "Forged events" in docs/architecture.md) */
    char applied_id[CRM_EVENT_ID_MAX]; /* id of the event at `applied`, from the database */
    int verify_applied;                /* the next replay starts at `applied` to check it */
    int hinted;                        /* a live event arrived while a replay was out */
    crm_seq_id_t hints[CRM_HINTS];     /* live events not yet checked against replay */
    size_t n_hints;
    crm_seq_id_t recent[CRM_RECENT]; /* events taken from replay, a ring */
    size_t recent_next;
    int conflict;      /* stopped: the source's event differs from the applied one */
    int64_t conflicts; /* conflicts detected */
    int64_t forged;    /* live events whose id differs from the source's */
} crm_src_pos_t;

/* Events of the source this consumer has not dealt with yet. Events its
 * filter skips count as dealt with once everything queued before them is
 * applied, so a consumer of a few event types is not shown lagging behind
 * every event of its source. */
uint64_t crm__pos_lag(const crm_src_pos_t *p);

typedef struct crm_consumer {
    crm_service_t *svc;
    const crm_consumer_def_t *def;
    crm_db_t *db;
    crm_src_pos_t *pos;
    size_t n_pos;
    int loaded;
    crm_work_t *queue, *queue_tail;
    size_t queued;
    crm_batch_t *batch;                /* in flight */
    int reload;                        /* read positions again once the batch settles */
    int64_t dead_letters;              /* unresolved, as last read from the database */
    int64_t dead_letters_total;        /* dead-lettered by this process (committed) */
    void (*ended)(crm_service_t *svc); /* the service's: a batch of this consumer ended */
} crm_consumer_t;

typedef struct crm_peer {
    char *source;
    char *endpoint;
    void *dealer;
    crm_zwatch_t *watch;
} crm_peer_t;

/* consumer.c: the consumers, started and stopped by the service. `ended`
 * is called after each of their batches ends (the service may be waiting
 * for them to stop); they call nothing else of the service. */
int crm_consumers_start(crm_service_t *svc, void (*ended)(crm_service_t *svc));
void crm_consumers_stop(crm_service_t *svc);
int crm_consumers_idle(crm_service_t *svc);
int crm_consumer_requeue(crm_service_t *svc, const char *consumer, int64_t id, const void *bytes,
                         size_t len);

/* consumer.c */
/* "crm.sales.deal." -> "sales" into out; returns 0 or -1. */
int crm_prefix_source(const char *prefix, char *out, size_t len);
crm_src_pos_t *crm_consumer_pos(crm_consumer_t *c, const char *source);
crm_peer_t *crm_consumer_peer(crm_service_t *svc, const char *source);
/* Drops queued (not in-flight) events of every source and asks each source
 * again from its committed position. */
void crm_consumer_queue_reset(crm_consumer_t *c);
/* An event for (c, p) from replay. Returns 1 if it was the next expected
 * sequence (queued or skipped by filter), 0 if old, -1 on a gap. When it
 * is queued the work takes *ev, decoded already, and *ev is set to NULL
 * (the caller frees what is left). */
int crm_consumer_offer(crm_consumer_t *c, crm_src_pos_t *p, Crm__V1__Event **ev, const void *bytes,
                       size_t len);
/* Starts a batch of queued events, or asks for more by replay. */
void crm_consumer_kick(crm_consumer_t *c);

/* consumer_live.c */
int crm_consumer_on_sub(crm_zwatch_t *w, void *zsock, int cap, void *arg);

/* consumer_replay.c */
void crm_consumer_replay(crm_consumer_t *c, crm_src_pos_t *p);
int crm_consumer_on_dealer(crm_zwatch_t *w, void *zsock, int cap, void *arg);

/* consumer_verify.c */
int crm_topic_names(const char *topic, size_t tlen, const char *source);
const char *crm_printable_id(char out[CRM_EVENT_ID_MAX + 1], const char *id);
void crm_pos_remember(crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_check_recent(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_hint(crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_settle_hints(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_drop_passed_hints(crm_src_pos_t *p);
int crm_pos_check_applied(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev);

#endif
