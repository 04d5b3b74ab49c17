/* svc_int.h: private structures of the service framework, shared by
 * service.c (wiring, start and stop), service_command.c (commands to
 * replies), service_builtin.c (the stream and dead-letter commands),
 * service_http.c and service_metrics.c (HTTP) and consumer*.c (bus and
 * replay to handlers; consumer_int.h).
 *
 * The runtime's modules call one way only (docs/architecture.md, "The
 * runtime's modules"):
 *
 *   service*.c --> consumer*.c          (the service starts its consumers)
 *   service*.c, consumer*.c --> batch   (work.c, batch.c, batch_commit.c)
 *   service*.c, consumer*.c --> relay   (relay.c)
 *   batch, relay --> db                 (crm/db.h)
 *
 * A batch reports to its owner (the command path, a consumer) through
 * crm_batch_owner_t (batch_int.h): the owner answers and feeds the relay
 * (relay_int.h). Neither the batch layer nor the relay includes this
 * header; the consumers read the service's sockets and settings here and
 * call back only through crm_consumer_t.ended. */
#ifndef CRM_SVC_INT_H
#define CRM_SVC_INT_H

#include "batch_int.h"
#include "consumer_int.h"
#include "relay_int.h"

#include <crm/db.h>
#include <crm/http.h>
#include <crm/service.h>
#include <crm/util.h>
#include <crm/zwatch.h>

#include <stdint.h>
#include <uv.h>

/* ---- metrics ----------------------------------------------------------- */
#define CRM_LAT_BUCKETS 14
/* An accepted command's latency in its parts (receive to batch, batch to
 * reply), in buckets fine enough around the deadline to read a p99 from. */
#define CRM_PART_BUCKETS 18
typedef struct {
    int64_t buckets[CRM_PART_BUCKETS + 1];
    double sum;
    int64_t count;
} crm_part_hist_t;
typedef struct {
    int64_t commands_total;
    int64_t commands_failed;
    int64_t commands_cached;
    int64_t commands_rejected; /* malformed, too large, unknown */
    int64_t frames_dropped;
    int64_t events_refused; /* live events whose topic and source disagree */
    int64_t batches;
    int64_t events_consumed;
    int64_t replays_served;
    int64_t replays_refused;  /* over CRM_REPLAY_INFLIGHT_PER_PEER */
    int64_t commands_expired; /* queued past CRM_COMMAND_DEADLINE_MS */
    int64_t commands_shed;    /* refused: the queue was at CRM_COMMAND_QUEUE_MAX */
    int64_t lat_buckets[CRM_LAT_BUCKETS + 1];
    double lat_sum;
    int64_t lat_count;
    crm_part_hist_t queued;       /* received to its batch's start */
    crm_part_hist_t in_batch;     /* its batch's start to its reply */
    crm_part_hist_t accepted;     /* received to its reply: the two together */
    crm_part_hist_t batch_work;   /* a command batch's start to its COMMIT sent */
    crm_part_hist_t batch_commit; /* its COMMIT sent to its replies: the stream lock, the flush */
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
    uv_timer_t deadline_timer; /* the oldest queued command's CRM_COMMAND_DEADLINE_MS */
    int announced;
    /* commands waiting for the next batch, per client (fairq.c) */
    struct crm_fairq *cmdq;
    int64_t cmd_deadline_us;
    size_t cmd_queue_max; /* CRM_COMMAND_QUEUE_MAX */
    size_t replay_batch;  /* CRM_REPLAY_BATCH */
    /* The drain rate: commands out of the batches a second while a batch
     * runs, moving average (0: not measured yet). The queue's expected
     * wait is its length over it (crm_service_queue_wait_ms). */
    double cmd_drain_rate;
    int64_t cmd_busy_us;       /* busy time of the rate's current window */
    int64_t cmd_busy_mark_us;  /* when the busy time was last added up */
    size_t cmd_drained;        /* commands out of batches in the window */
    int64_t cmd_batch_time_us; /* CRM_COMMAND_BATCH_MS */
    int64_t
        cmd_batch_est_us; /* a batch's start to its reply, recent (crm_service_queue_deadline_us) */
    int cmd_deadline_batch;    /* CRM_COMMAND_DEADLINE_BATCH */
    int64_t cmd_gather_us;     /* CRM_COMMAND_GATHER_MS */
    int64_t cmd_gather_due_us; /* when a gathering batch starts anyway (0: none gathers) */
    int64_t cmd_commit_us[CRM_WRITERS_MAX]; /* when each writer's batch sent COMMIT (0: not yet) */
    crm_batch_t *cmd_batches[CRM_WRITERS_MAX]; /* the batch running on each writer */
    int cmd_running;                           /* how many of them run */
    int cmd_open;                              /* of them, how many have not sent COMMIT yet */
    size_t cmd_queue_wait_ms;                  /* CRM_COMMAND_QUEUE_WAIT_MS */
    crm_work_t *cmd_held;                      /* popped, but may not run beside the other batch */
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
    crm_batch_env_t batch_env; /* what its batches share (batch_int.h) */
    void *user;
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
 * scan), and with the work's keys: `key` when `keyed`, else none (it runs
 * alone), as crm_scan_set_key says. */
int crm_service_submit_to(crm_service_t *svc, const char *name, crm_work_fn fn, void *arg,
                          crm_submit_done_fn done, void *done_arg, int keyed, uint64_t key);

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
/* What crm_fairq_pop would return, still queued; or NULL. */
const crm_work_t *crm_fairq_next(const crm_fairq_t *q);
/* A client's command received before `before_us`, or NULL; caller owns it.
 * The service's own submissions never expire. */
crm_work_t *crm_fairq_expired(crm_fairq_t *q, int64_t before_us);
crm_work_t *crm_fairq_oldest(const crm_fairq_t *q); /* still queued */
/* The oldest of the clients' commands (those that can expire), or NULL. */
crm_work_t *crm_fairq_oldest_client(const crm_fairq_t *q);
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
/* How long a command queued now waits before a batch takes it: the queue's
 * length over the drain rate (0 while the rate is not measured yet). */
int64_t crm_service_queue_wait_ms(const crm_service_t *svc);
/* The most commands a batch takes now: what the writers drain in
 * CRM_COMMAND_BATCH_MS, at least 16, at most CRM_BATCH_MAX. */
size_t crm_service_batch_cap(const crm_service_t *svc);
/* How long a command may wait in the queue: CRM_COMMAND_DEADLINE_MS less
 * the time a batch takes now (cmd_batch_est_us), so that the wait and the
 * batch after it fit in the deadline together; at least a quarter of it,
 * so that batches still run (and the estimate follows them down) after a
 * stall. The whole deadline while the queue holds no more than the next
 * batch takes (crm_service_batch_cap), and with
 * CRM_COMMAND_DEADLINE_BATCH=0. */
int64_t crm_service_queue_deadline_us(const crm_service_t *svc);
/* A batch's start to its reply took `us`: the estimate rises at once and
 * falls by an eighth of the difference a batch. */
void crm_service_batch_observed(crm_service_t *svc, int64_t us);
/* The retry hint of an UNAVAILABLE answer: the queue's expected wait,
 * within 5 ms .. 5 s. */
int64_t crm_service_retry_ms(const crm_service_t *svc);

/* service_router.c: the ROUTER's requests, checked, queued or refused. */
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
void crm_service_observe_part(crm_part_hist_t *h, int64_t us);
void crm_service_metrics(crm_service_t *svc, crm_http_response_t *res);

/* service_http.c */
void crm_service_on_http(const char *method, const char *path, crm_http_response_t *res, void *arg);
/* `healthcheck`: exit 0 if /readyz of the local instance answers 200. */
int crm_service_healthcheck(const crm_config_t *cfg);

#endif
