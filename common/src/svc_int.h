/* svc_int.h: private structures of the service framework, shared by
 * service.c (wiring, start and stop), service_command.c (commands to
 * replies), service_builtin.c (the stream and dead-letter commands),
 * service_http.c and service_metrics.c (HTTP), work.c, batch.c and
 * batch_commit.c (works, batches and transactions; batch_int.h), relay.c
 * (outbox to bus) and consumer*.c (bus and replay to handlers;
 * consumer_int.h). */
#ifndef CRM_SVC_INT_H
#define CRM_SVC_INT_H

#include <crm/db.h>
#include <crm/http.h>
#include <crm/service.h>
#include <crm/util.h>
#include <crm/zwatch.h>

#include <stdint.h>
#include <uv.h>

#define CRM_TOPIC_MAX 200

/* ---- memory for one attempt of a work --------------------------------- */
typedef struct crm_arena_block {
    struct crm_arena_block *next;
} crm_arena_block_t;

/* ---- a packed event waiting for its sequence --------------------------- */
typedef struct crm_emit {
    struct crm_emit *next;
    char *type;
    char *subject;
    const char *actor; /* points after the struct, in the same allocation */
    uint8_t *bytes;    /* envelope without sequence/epoch, then the tail */
    size_t len;
    uint64_t seq;
} crm_emit_t;

typedef enum { CRM_WORK_CMD, CRM_WORK_EVT, CRM_WORK_SYS } crm_work_kind_t;
typedef enum { WS_NEW, WS_RUNNING, WS_OK, WS_FAILED } crm_work_state_t;

struct crm_consumer;

struct crm_work {
    struct crm_work *next; /* in a queue */
    crm_service_t *svc;
    crm_work_kind_t kind;
    crm_work_fn fn;
    crm_work_state_t state;
    struct crm_batch *batch;
    /* input, kept raw so a retry can decode afresh */
    uint8_t *input;
    size_t input_len;
    /* command */
    const crm_command_def_t *cmd;
    uint8_t *identity;
    size_t identity_len;
    /* The client for fairness (fairq.c), when it is not the identity: a
     * gateway's delegated caller is a client of their own. */
    uint8_t *fair_id;
    size_t fair_len;
    uint64_t request_id;
    char *idem_key;
    uint64_t request_hash;
    char *actor;
    crm_grant_t *grant; /* NULL: reaches everything (access_work.c) */
    char *correlation_id;
    int64_t received_us;
    struct crm_work *dup_of; /* same idempotency key earlier in the batch */
    int cached;              /* answered from crm_idempotency */
    int replied;
    /* A crm.v1.Precondition (HTTP If-Match): its read command runs first,
     * in the same transaction, and the handler only if the ETag of its
     * reply is still pre_etag (work.c). pre_def NULL: none. */
    const crm_command_def_t *pre_def;
    uint8_t *pre_body;
    size_t pre_len;
    char *pre_etag;
    /* event */
    struct crm_consumer *consumer;
    char *source;
    uint64_t seq;
    char *epoch;
    char *event_id;         /* the envelope's id, recorded with the position */
    int64_t dead_letter_id; /* >0: a retry of this dead letter */
    /* submitted by the service itself (no client) */
    void *submit_arg;
    crm_submit_done_fn submit_done;
    void *submit_done_arg; /* submit_done's argument (submit_arg by default) */
    crm_command_def_t submit_def;
    int stale; /* that dead letter was resolved meanwhile */
    /* per attempt */
    ProtobufCMessage *request;
    Crm__V1__Event *event;
    crm_arena_block_t *arena;
    void *data;
    int writes;
    int pending;                         /* a statement of this work is in flight */
    int auto_ok;                         /* that statement ends the work when it succeeds */
    char sql[80];                        /* the start of that statement, for the log if it fails */
    int conflict;                        /* failed on a serialization failure or deadlock */
    int conflict_retries;                /* kept across attempts */
    crm_command_keys_fn keys_fn;         /* NULL: runs alone in its batch */
    uint64_t keys[CRM_COMMAND_KEYS_MAX]; /* per attempt, once decoded */
    int n_keys;                          /* < 0: runs alone */
    crm_work_cb cb;
    crm_emit_t *emits, *emits_tail;
    size_t n_emits;
    uint8_t *reply;
    size_t reply_len;
    Crm__V1__Status status; /* strings owned by the work */
    /* per attempt, while the precondition's read runs: the command's own
     * definition and request wait here (cmd and request are the read's) */
    const crm_command_def_t *pre_cmd;
    ProtobufCMessage *pre_request;
    int pre_go;                 /* the read passed: the handler starts next */
    char pre_now[CRM_ETAG_LEN]; /* the ETag the read found, when it differed */
};

/* ---- a batch: works sharing one transaction ---------------------------- */
typedef void (*crm_batch_done_fn)(struct crm_batch *b, int committed);

typedef struct crm_batch {
    crm_service_t *svc;
    crm_db_t *db;
    crm_work_kind_t kind;
    struct crm_consumer *consumer;
    crm_work_t **works;
    size_t n, cap, idx;
    int single; /* retrying works one per transaction */
    int lookup; /* look the idempotency keys up before the works (a retry) */
    int aborting;
    int lost_connection;
    char abort_reason[256];
    uint64_t first_seq, last_seq;
    char epoch[40];
    crm_batch_done_fn done;
    /* Called once, when COMMIT first goes out: the owner may start the
     * next batch on another connection while this one flushes. May be NULL. */
    void (*committing)(struct crm_batch *b);
    int commit_sent;
    int64_t started_us;
    int fin_step;
    size_t fin_cursor;
    size_t fin_emits;
    crm_work_t *fin_work;
    int give_up;       /* after rollback, end the batch uncommitted */
    int dl_pass;       /* single mode: recording a failed event's dead letter */
    size_t started;    /* works [idx, started) have been started, in order */
    size_t inflight;   /* statements of this batch sent, not yet answered */
    int ending;        /* ended: waiting for `inflight` to drain */
    int key_clash;     /* an idempotency record clashed with another writer's */
    int end_committed; /* the outcome to report once drained */
} crm_batch_t;

/* ---- the relay --------------------------------------------------------- */
typedef struct crm_relay crm_relay_t;

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
    crm_batch_t *batch;         /* in flight */
    int reload;                 /* read positions again once the batch settles */
    int64_t dead_letters;       /* unresolved, as last read from the database */
    int64_t dead_letters_total; /* dead-lettered by this process (committed) */
} crm_consumer_t;

typedef struct crm_peer {
    char *source;
    char *endpoint;
    void *dealer;
    crm_zwatch_t *watch;
} crm_peer_t;

/* ---- metrics ----------------------------------------------------------- */
#define CRM_LAT_BUCKETS 14
typedef struct {
    int64_t commands_total;
    int64_t commands_failed;
    int64_t commands_cached;
    int64_t commands_rejected; /* malformed, too large, unknown */
    int64_t frames_dropped;
    int64_t events_refused; /* live events whose topic and source disagree */
    int64_t batches;
    int64_t batch_retries;
    int64_t events_published;
    int64_t events_emitted;
    int64_t events_consumed;
    int64_t heartbeats_sent;
    int64_t replays_served;
    int64_t replays_refused;  /* over CRM_REPLAY_INFLIGHT_PER_PEER */
    int64_t commands_expired; /* queued past CRM_COMMAND_DEADLINE_MS */
    int64_t commands_shed;    /* refused: the queue was at CRM_COMMAND_QUEUE_MAX */
    int64_t lat_buckets[CRM_LAT_BUCKETS + 1];
    double lat_sum;
    int64_t lat_count;
} crm_metrics_t;

struct crm_service {
    const crm_service_def_t *def;
    crm_conf_def_t *conf_defs;
    crm_config_t *config;
    uv_loop_t *loop;
    void *zctx;
    struct crm_auth *auth; /* CURVE keys, ZAP handler, directory (auth.h) */
    void *router;
    crm_zwatch_t *router_watch;
    crm_db_t *writer;
/* CRM_WRITERS: writer connections, each with at most one batch. */
#define CRM_WRITERS_MAX 8
    crm_db_t *writers[CRM_WRITERS_MAX]; /* [0] is writer; the others NULL unless CRM_WRITERS */
    int n_writers;
    crm_db_t *reader;
    crm_relay_t *relay;
    crm_http_t *http;
    char *pg_conninfo; /* CRM_PG_URL with the password file's password: never logged */
    uv_signal_t sigterm, sigint;
    uv_timer_t shutdown_timer, retention_timer, housekeeping_timer;
    int announced;
    /* commands waiting for the next batch, per client (fairq.c) */
    struct crm_fairq *cmdq;
    int64_t cmd_deadline_us;
    size_t cmd_queue_max;   /* CRM_COMMAND_QUEUE_MAX */
    size_t max_event_bytes; /* CRM_MAX_EVENT_BYTES */
    size_t replay_batch;    /* CRM_REPLAY_BATCH */
    int64_t cmd_batch_us;   /* a command batch's time, moving average (queue bound) */
    crm_batch_t *cmd_batches[CRM_WRITERS_MAX]; /* the batch running on each writer */
    int cmd_running;                           /* how many of them run */
    int cmd_open;                              /* of them, how many have not sent COMMIT yet */
    int64_t cmd_last_end_us;
    size_t cmd_queue_wait_ms; /* CRM_COMMAND_QUEUE_WAIT_MS */
    crm_work_t *cmd_held;     /* popped, but may not run beside the other batch */
    /* consumers */
    crm_consumer_t *consumers;
    size_t n_consumers;
    void *sub;
    crm_zwatch_t *sub_watch;
    crm_peer_t *peers;
    size_t n_peers;
    uv_timer_t consumer_timer;
    uint64_t next_request_id;
    /* identity */
    char epoch[40];
    uint64_t epoch_start;
    int stopping;
    int bus_connected;
    void *monitor;
    crm_zwatch_t *monitor_watch;
    size_t batch_max;
    size_t max_frame;
    int consumer_runs; /* CRM_CONSUMER_RUNS: def->consumer_batch is used */
    void *user;
    int crash_after_commit; /* CRM_TEST_CRASH_AFTER_COMMIT: fault injection */
    crm_metrics_t m;
    /* replay requests being served, per ROUTER peer (limits.c) */
    struct crm_inflight *replay_inflight;
    struct crm_every *every; /* periodic callbacks (every.c) */
    struct crm_scan *scans;  /* scans (scan.c) */
    int test_clock;          /* CRM_TEST_CLOCK is on (clock.c) */
};

/* clock.c: the test clock. crm_clock_init reads CRM_TEST_CLOCK (0, or -1
 * when it is malformed); crm_clock_command is crm.clock.set when the test
 * clock is on, else NULL. */
int crm_clock_init(crm_service_t *svc);
const crm_command_def_t *crm_clock_command(const crm_service_t *svc, const char *name);

/* every.c: closes the periodic timers (at teardown). */
void crm_every_stop(crm_service_t *svc);

/* crm_service_submit with done called with `done_arg` instead of `arg`
 * (scan.c: the work reads the service's context, the end goes to the
 * scan). */
int crm_service_submit_to(crm_service_t *svc, const char *name, crm_work_fn fn, void *arg,
                          crm_submit_done_fn done, void *done_arg);

/* scan.c: frees the scans (at teardown, after the timers stopped). */
void crm_scans_free(crm_service_t *svc);

/* fairq.c: commands waiting for a batch, per client, served in turn. A
 * work's client is its fair_id if set, else its ROUTER identity (none:
 * submitted by the service). */
typedef struct crm_fairq crm_fairq_t;
crm_fairq_t *crm_fairq_new(void);
int crm_fairq_push(crm_fairq_t *q, crm_work_t *w); /* takes w on success */
/* The next client's oldest command, or NULL; caller owns it. */
crm_work_t *crm_fairq_pop(crm_fairq_t *q);
/* A client's command received before `before_us`, or NULL; caller owns it.
 * The service's own submissions never expire. */
crm_work_t *crm_fairq_expired(crm_fairq_t *q, int64_t before_us);
crm_work_t *crm_fairq_oldest(const crm_fairq_t *q); /* still queued */
size_t crm_fairq_len(const crm_fairq_t *q);
/* Whether the client with this id (fair_id or identity) has a command
 * queued. */
int crm_fairq_has(crm_fairq_t *q, const uint8_t *id, size_t len);
void crm_fairq_destroy(crm_fairq_t **q_p); /* destroys queued works */

/* limits.c: what one peer may hold of a service's memory at once. */
typedef struct crm_inflight crm_inflight_t;
crm_inflight_t *crm_inflight_new(size_t per_peer, size_t total);
/* 0 and counted if `identity` may have one more in flight, else -EBUSY. */
int crm_inflight_take(crm_inflight_t *f, const uint8_t *identity, size_t len);
void crm_inflight_give(crm_inflight_t *f, const uint8_t *identity, size_t len);
void crm_inflight_destroy(crm_inflight_t **f_p);

/* work.c */
crm_work_t *crm_work_new(crm_service_t *svc, crm_work_kind_t kind);
void crm_work_destroy(crm_work_t **w_p);
void crm_work_reset(crm_work_t *w);
/* Runs the precondition's read (w->pre_def) in place of the handler; once
 * it answers, crm_work_pre_continue starts the handler (or the work has
 * failed FAILED_PRECONDITION). Both from the batch, work.c. */
void crm_work_pre_run(crm_work_t *w);
void crm_work_pre_continue(crm_work_t *w);
void crm_work_force_fail(crm_work_t *w, Crm__V1__StatusCode code, const char *message,
                         const char *detail, const char *hint);

/* batch.c */
crm_batch_t *crm_batch_new(crm_service_t *svc, crm_db_t *db, crm_work_kind_t kind);
int crm_batch_add(crm_batch_t *b, crm_work_t *w);
void crm_batch_start(crm_batch_t *b, crm_batch_done_fn done);
void crm_batch_destroy(crm_batch_t **b_p);

/* relay.c */
crm_relay_t *crm_relay_new(crm_service_t *svc, void *pub, uint64_t published, uint64_t head);
void crm_relay_committed(crm_relay_t *r, crm_emit_t *emits); /* takes the list */
uint64_t crm_relay_published(const crm_relay_t *r);
uint64_t crm_relay_head(const crm_relay_t *r);
void crm_relay_flush(crm_relay_t *r);
void crm_relay_destroy(crm_relay_t **r_p);

/* consumer.c */
int crm_consumers_start(crm_service_t *svc);
void crm_consumers_stop(crm_service_t *svc);
int crm_consumers_idle(crm_service_t *svc);
int crm_consumer_requeue(crm_service_t *svc, const char *consumer, int64_t id, const void *bytes,
                         size_t len);

/* service.c */
void crm_service_maybe_finish(crm_service_t *svc);

/* service_command.c */
void crm_service_reply(crm_service_t *svc, crm_work_t *w);
void crm_service_send_reply(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                            uint64_t request_id, const Crm__V1__Status *status, const uint8_t *body,
                            size_t blen);
/* Answers with an error status, counted as a failed command. */
void crm_service_reply_status(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                              uint64_t request_id, Crm__V1__StatusCode code, const char *field,
                              const char *message, const char *detail, const char *hint);
/* Starts the next batch of queued commands, if none is running. */
void crm_service_cmd_kick(crm_service_t *svc);
int crm_service_on_router(crm_zwatch_t *zw, void *zsock, int cap, void *arg);

/* service_builtin.c: the built-in commands run as works (ends with name
 * NULL), and those answered outside any batch. */
extern const crm_command_def_t crm_builtin_commands[];
void crm_builtin_replay(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                        const Crm__V1__CommandRequest *cr);
void crm_builtin_info(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                      const Crm__V1__CommandRequest *cr);
void crm_builtin_dl_list(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         const Crm__V1__CommandRequest *cr);

/* service_metrics.c */
void crm_service_observe_latency(crm_service_t *svc, int64_t us);
void crm_service_metrics(crm_service_t *svc, crm_http_response_t *res);

/* service_http.c */
void crm_service_on_http(const char *method, const char *path, crm_http_response_t *res, void *arg);
/* `healthcheck`: exit 0 if /readyz of the local instance answers 200. */
int crm_service_healthcheck(const crm_config_t *cfg);

#endif
