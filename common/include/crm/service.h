/* crm/service.h: the backbone every service runs on.
 *
 * A service is a table of commands and a table of consumers over its own
 * PostgreSQL database. The framework owns everything else: configuration,
 * the libuv loop, the command ROUTER socket, group commit, idempotency, the
 * transactional outbox and its relay to the bus, replay of the service's
 * stream, consumers with exactly-once effects and dead letters, the HTTP
 * endpoints (/livez, /readyz, /metrics), logs and graceful shutdown.
 *
 * Business code sees one abstraction: a *work*, i.e. one command or one
 * consumed event being applied inside a database transaction shared with
 * other works of the same batch. A handler reads and writes through the
 * work, emits events through it and ends it with crm_work_ok() or
 * crm_work_fail(). Everything a work did commits together with its events
 * (and, for a consumed event, with the consumer's new position) or not at
 * all. A failed work has changed nothing. */
#ifndef CRM_SERVICE_H
#define CRM_SERVICE_H

#include <crm/access.h>
#include <crm/config.h>
#include <crm/directory.h>
#include <crm/err.h>
#include <crm/http.h>
#include <crm/migrate.h>
#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "crm/v1/event.pb-c.h"
#include "crm/v1/rpc.pb-c.h"

typedef struct crm_service crm_service_t;
typedef struct crm_work crm_work_t;

/* Entry point of a handler: called once per attempt (a work may be retried
 * alone after its batch failed, so handlers must not keep effects outside
 * the database). */
typedef void (*crm_work_fn)(crm_work_t *w);

/* Continuation after a query. Called only on success; when a statement
 * fails the framework fails the work itself (and the handler is not called
 * again for this attempt). `res` is valid during the call. */
typedef void (*crm_work_cb)(crm_work_t *w, PGresult *res);

typedef struct {
    const char *name;                          /* "sales.person.register" */
    const ProtobufCMessageDescriptor *request; /* body type; NULL = empty body */
    crm_work_fn fn;
    int readonly; /* no idempotency key needed, no writes, no events */
    /* The record type it touches and how (crm/access.h): a staff
     * principal whose roles grant no level for them is refused before the
     * handler runs. CRM_REC_NONE (0): any authenticated staff may run it. */
    crm_record_t record;
    crm_action_t action;
} crm_command_def_t;

typedef struct {
    const char *name; /* consumer name, unique in the service: "sales.leads" */
    /* Event type prefixes, NULL-terminated; each starts with "crm.<source>." */
    const char *const *type_prefixes;
    crm_work_fn fn;
} crm_consumer_def_t;

/* Which records a command touches, so that the commands of a batch may run
 * interleaved, their statements pipelined on the writer connection instead
 * of one command after another, and beside the batch committing on the
 * other writer (CRM_WRITERS). Called once per command as it is queued,
 * with its decoded request (NULL for an empty body). Fills up to `max` keys (e.g. hashes of a
 * record's natural key) and returns how many; 0: it reads nothing another
 * command of the batch could write (a unique key the database enforces is
 * enough: a clash aborts the batch, which then runs one command per
 * transaction). -1: it runs alone. Commands sharing a key run one after
 * another in arrival order; a command without an entry runs alone. */
#define CRM_COMMAND_KEYS_MAX 4
typedef int (*crm_command_keys_fn)(const ProtobufCMessage *request, uint64_t *keys, int max);

/* Applies a run of consecutive consumed events of one transaction together,
 * in their order: works[0..n) are running, decoded (crm_work_event) and in
 * the batch's transaction. Statements go through any of them (one at a
 * time per work, as always); the function must end every one of them with
 * crm_work_ok or crm_work_fail, and emit each event's derived events
 * through its own work. A failed statement aborts the transaction like any
 * failed work: the batch is then retried one event per transaction, each
 * through this function with n = 1, so one bad event is dead-lettered
 * alone. */
typedef void (*crm_consumer_batch_fn)(crm_work_t *const *works, size_t n);

typedef struct {
    const char *command; /* a name of the commands table; NULL ends the table */
    crm_command_keys_fn keys;
} crm_command_keys_t;

/* A command's set-based form: applies a run of consecutive commands of its
 * type in one transaction together, typically with one statement over
 * arrays instead of one statement per command. works[0..n) are running,
 * decoded (crm_work_request) and in order; commands with a key in common
 * (crm_command_keys_fn) are never in one run, and a command without keys
 * runs alone (n = 1). The function fails the commands it leaves out (bad
 * input) before it sends its statement, sends the statement through any
 * one of them (crm_work_exec_named) and, in that statement's continuation,
 * emits each command's events through its own work and ends every one of
 * them with crm_work_ok or crm_work_fail. Every command still running
 * when a write statement of the run is sent shares its writes: if one of
 * them fails after that, or the statement fails, the transaction aborts
 * and is retried one command per transaction, each through this function
 * with n = 1, so a bad command costs only itself and changes nothing. */
typedef void (*crm_command_batch_fn)(crm_work_t *const *works, size_t n);

typedef struct {
    const char *command; /* a name of the commands table; NULL ends the table */
    crm_command_batch_fn batch;
} crm_command_batch_t;

typedef struct {
    const char *name;                    /* source name: "sales" */
    const char *default_bind;            /* command/replay ROUTER, "tcp://127.0.0.1:7410" */
    int default_http_port;               /* 0 = ephemeral */
    const crm_command_def_t *commands;   /* ends with name NULL */
    const crm_consumer_def_t *consumers; /* ends with name NULL; may be NULL */
    const crm_migration_t *migrations;   /* the service's own; may be NULL */
    const crm_conf_def_t *config;        /* extra settings; may be NULL */
    /* Optional hooks, on the loop thread. on_start runs after migrations,
     * before serving; a non-zero return aborts the start. */
    int (*on_start)(crm_service_t *svc);
    void (*on_stop)(crm_service_t *svc);
    /* Optional: appends the service's own lines to /metrics. */
    void (*metrics)(crm_service_t *svc, crm_http_response_t *res);
    /* Commands that may run interleaved in a batch; may be NULL. */
    const crm_command_keys_t *command_keys;
    /* Optional: applies consumed events a run at a time instead of one work
     * after another (crm_consumer_batch_fn); consumer_alone, if set, names
     * the events that still run alone through their consumer's fn. */
    crm_consumer_batch_fn consumer_batch;
    int (*consumer_alone)(const Crm__V1__Event *ev);
    /* Commands with a set-based form (crm_command_batch_fn), which then
     * replaces their fn; may be NULL. */
    const crm_command_batch_t *command_batches;
} crm_service_def_t;

/* Runs the service until SIGTERM/SIGINT; returns the process exit code.
 * argv: "--help" prints the settings; "healthcheck" probes /readyz of a
 * running instance (for container health checks) and exits. */
int crm_service_main(const crm_service_def_t *def, int argc, char **argv);

const char *crm_service_name(const crm_service_t *svc);
const crm_config_t *crm_service_config(const crm_service_t *svc);
/* Per-service user pointer, for on_start to hang state on. */
void crm_service_set_user(crm_service_t *svc, void *user);
void *crm_service_user(const crm_service_t *svc);

/* The service's loop, for its own timers (on_start). */
uv_loop_t *crm_service_loop(crm_service_t *svc);

/* The service's ZeroMQ context, for sockets of its own (crm-api's
 * DEALERs to the services it fronts); close them before on_stop returns. */
void *crm_service_zctx(crm_service_t *svc);
/* Makes `sock` a CURVE client, holding the service's own keypair, of the
 * server the directory calls `server`. Before connect. Returns 0 or -1
 * (logged). */
int crm_service_curve_client(crm_service_t *svc, void *sock, const char *server);
/* The directory of principals as read last (NULL in plaintext mode); valid
 * until the next SIGHUP reload, so never keep it past the current
 * callback. */
const crm_directory_t *crm_service_directory(crm_service_t *svc);

/* Runs `fn` as a work in the command batches without a client, for work the
 * service starts itself (a timer finding activities that fell due). The
 * handler reads `arg` with crm_work_data() and must be idempotent on its own
 * (e.g. "UPDATE ... WHERE NOT done RETURNING"), since there is no
 * idempotency key. `arg` is borrowed until `done` is called with the outcome
 * (0 committed, negative otherwise); `done` may be NULL. Returns 0 or a
 * negative error (then `done` is never called). */
typedef void (*crm_submit_done_fn)(crm_service_t *svc, int status, void *arg);
int crm_service_submit(crm_service_t *svc, const char *name, crm_work_fn fn, void *arg,
                       crm_submit_done_fn done);

/* Periodic work of a service (a scan for activities that fell due, SLA
 * instants, campaigns to send): fn(svc, arg) runs on the loop every
 * `period_ms`, the first time after one period, or on the next loop pass
 * with CRM_EVERY_AT_START. It does not run once the service is stopping;
 * the framework closes the timer after on_stop. Usually fn submits a work
 * (crm_service_submit). Call it from on_start. Returns 0 or -ENOMEM. */
typedef void (*crm_every_fn)(crm_service_t *svc, void *arg);
#define CRM_EVERY_AT_START 1u
int crm_service_every(crm_service_t *svc, uint64_t period_ms, unsigned flags, crm_every_fn fn,
                      void *arg);

/* A scan: a work the service runs by itself every `period_ms` to find what
 * fell due (activities, SLA instants, sends, data-quality findings). Four
 * services had the same few lines for it; this is the one copy. A scan
 * never runs twice at once, and a run that found a full batch
 * (crm_scan_more) is followed by another as soon as it ends, since more may
 * be due right now. `gate`, when not NULL, may hold a run back by returning
 * 0 (analytics waits until its consumers have caught up). fn reads `arg`
 * with crm_work_data(); `name` is the work's name in logs and metrics.
 * flags as for crm_service_every. Call it from on_start. Returns the scan,
 * owned by the service and freed with it, or NULL on ENOMEM. */
typedef struct crm_scan crm_scan_t;
typedef int (*crm_scan_gate_fn)(void *arg);
crm_scan_t *crm_service_scan(crm_service_t *svc, const char *name, uint64_t period_ms,
                             unsigned flags, crm_work_fn fn, void *arg, crm_scan_gate_fn gate);
/* Runs the scan now unless it is running, the gate holds it back or the
 * service is stopping. */
void crm_scan_kick(crm_scan_t *scan);
/* Gives the scan's works a key (as a command's, crm_command_keys_fn): a
 * keyed scan's run may start in a transaction of its own on a free writer
 * while other batches still run their statements, if every work of theirs
 * has keys and none is `key`; an unkeyed work waits until they sent their
 * COMMIT. For scans over disjoint records (a range each) that may run at
 * once on two database connections: the scan then touches only the
 * records its key stands for, and nothing a work of another key touches
 * at the same time. Call it once, before the scan's first run. */
void crm_scan_set_key(crm_scan_t *scan, uint64_t key);
/* Called by the scan's work: its batch was full, so run again once it ends
 * (if it commits). */
void crm_scan_more(crm_scan_t *scan);

/* Runs every periodic fn of the service now, on the next loop pass (their
 * periods go on as before): for a test clock that was moved, so that what
 * fell due is found at once. */
void crm_service_every_now(crm_service_t *svc);

/* Makes consumer `consumer` forget its positions and read them again from
 * crm_consumer_position, then replay each source from there: for a service
 * that rewrote its positions itself (analytics' rebuild resets them to 0).
 * Call it after the transaction that rewrote them committed; a batch in
 * flight settles first. Returns 0 or -ENOENT (no such consumer). */
int crm_consumer_reload(crm_service_t *svc, const char *consumer);

/* The committed position of `consumer` on `source` and the source's head as
 * last seen (replay replies, heartbeats, live events). Returns 0 or -ENOENT. */
int crm_consumer_progress(crm_service_t *svc, const char *consumer, const char *source,
                          uint64_t *applied, uint64_t *head);

/* ---- a work ---------------------------------------------------------- */

crm_service_t *crm_work_service(crm_work_t *w);
/* The decoded command body (NULL for a consumed event or an empty body).
 * Owned by the work. */
const ProtobufCMessage *crm_work_request(crm_work_t *w);
/* The consumed event (NULL for a command). Owned by the work. */
const Crm__V1__Event *crm_work_event(crm_work_t *w);
/* The command's actor, or the event's source. */
const char *crm_work_actor(crm_work_t *w);
/* Who the work acts as, for the audit trail (the `actor` of the events it
 * emits): a command's authenticated principal; the service itself for a
 * consumed event, a timer or other work of its own. Never NULL; owned by
 * the work or the service. */
const char *crm_work_principal(crm_work_t *w);

/* Record-level access (crm/access.h) of the command's principal, as the
 * directory said when the command arrived. Consumed events, the service's
 * own works and service principals reach everything (level all). The
 * documented answer for a record out of reach is NOT_FOUND, as if it did
 * not exist; PERMISSION_DENIED is for a type the roles grant nothing of. */
crm_level_t crm_work_level(crm_work_t *w, crm_record_t type, crm_action_t action);
/* 1 when the principal reaches a record owned by `owner` ("" = nobody). */
int crm_work_may(crm_work_t *w, crm_record_t type, crm_action_t action, const char *owner);
/* The owners a list may show (crm_grant_owners): NULL = every record. */
const char *const *crm_work_owners(crm_work_t *w, crm_record_t type, crm_action_t action,
                                   size_t *n);

/* Memory that lives as long as the attempt; never free it. NULL on ENOMEM. */
void *crm_work_alloc(crm_work_t *w, size_t size);
char *crm_work_strdup(crm_work_t *w, const char *s);
char *crm_work_printf(crm_work_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A protobuf-c allocator on that memory: what is unpacked or built with it
 * lives as long as the attempt and is never freed one by one. */
ProtobufCAllocator crm_work_pb_allocator(crm_work_t *w);
/* A slot for the handler's own state across continuations. */
void crm_work_set_data(crm_work_t *w, void *data);
void *crm_work_data(crm_work_t *w);

/* Builds a message of type `d` from a record given as a JSON object (text)
 * keyed by the message's field names: unknown keys and nulls are skipped;
 * repeated fields come from arrays, nested messages from objects, 64-bit
 * integers from numbers or strings, enums from numbers. The message lives in
 * the work's arena (never free it). NULL on malformed JSON or ENOMEM. */
void *crm_work_record(crm_work_t *w, const ProtobufCMessageDescriptor *d, const char *text);

/* Records of type `d` from column `col` of the first `n` rows of res (a
 * SQL NULL is unreadable): an array of n messages in the work's arena, not
 * NULL even for n = 0; or NULL with the work failed (as below). */
void **crm_work_records(crm_work_t *w, const ProtobufCMessageDescriptor *d, const PGresult *res,
                        int col, int n);

/* The INTERNAL failures every handler may meet: memory ran out, or a
 * stored record could not be read back (the log says which). */
void crm_work_fail_nomem(crm_work_t *w);
void crm_work_fail_unreadable(crm_work_t *w);

/* The record in row 0, column 0 of res (what a statement returned), or
 * NULL with the work failed as unreadable. */
void *crm_work_returned(crm_work_t *w, const ProtobufCMessageDescriptor *d, const PGresult *res);

/* NOT_FOUND for the id a request named in `field`: "<what> does not
 * exist", detail "no <what> with id "<id>"" (at most 80 bytes of it). */
void crm_work_fail_not_found(crm_work_t *w, const char *field, const char *what, const char *id,
                             const char *hint);

/* Runs a statement in the work's transaction with text parameters (NULL =
 * SQL NULL) and calls cb with the result. Use _query for statements that
 * only read and _exec for statements that write: a work that fails after
 * writing cannot share a batch, so the framework replays it alone.
 * Returns 0 or a negative error (the work is then failed for you). */
int crm_work_query(crm_work_t *w, const char *sql, int nparams, const char *const *params,
                   crm_work_cb cb);
int crm_work_exec(crm_work_t *w, const char *sql, int nparams, const char *const *params,
                  crm_work_cb cb);

/* The same for a hot statement of constant text: prepared once per
 * connection under `name` (unique in the service, one SQL text per name)
 * and then sent without a parse or plan per call. */
int crm_work_query_named(crm_work_t *w, const char *name, const char *sql, int nparams,
                         const char *const *params, crm_work_cb cb);
int crm_work_exec_named(crm_work_t *w, const char *name, const char *sql, int nparams,
                        const char *const *params, crm_work_cb cb);

/* The work's last write, whose answer it does not wait for: the handler
 * ends the work (crm_work_ok) right after, and the statement goes out with
 * the transaction's own closing statements (outbox, positions, COMMIT) in
 * one round trip. If it fails, the work fails and the transaction is
 * rolled back, as for any failed write. Prepared under `name` like
 * crm_work_exec_named. Returns 0 or a negative error (the work is then
 * failed for you). */
int crm_work_exec_last(crm_work_t *w, const char *name, const char *sql, int nparams,
                       const char *const *params);

/* Holds the work open for something outside the database (crm-bridge-nats
 * waits for JetStream's acknowledgement before its position may commit):
 * the handler calls this and returns; the batch waits, with its transaction
 * open, until crm_work_resume(). Returns 0, or -EINVAL when the work is not
 * running or already waits (a query or another suspension). */
int crm_work_suspend(crm_work_t *w);

/* Ends a suspension; on the loop thread, from a later callback (never from
 * the handler that suspended), after crm_work_ok() or crm_work_fail(); a
 * work left running is failed as a handler that neither answered nor
 * continued. The batch goes on from here. */
void crm_work_resume(crm_work_t *w);

/* Appends an event to the work's outbox. The framework fills id, source,
 * time, sequence, epoch, correlation, causation and actor
 * (crm_work_principal); the caller sets `type`
 * (must start with "crm.<service>.") and `subject`, and the payload oneof.
 * `ev` is borrowed and serialised at once. Returns 0 or negative. */
int crm_work_emit(crm_work_t *w, Crm__V1__Event *ev);

/* Wraps `payload` in an Event of `type_` about `subject_` (NULL = none) and
 * emits it, returning crm_work_emit's result from the calling function.
 * `member` names the payload's oneof field, so the compiler checks the
 * payload's type against `case_`. */
#define CRM_WORK_EMIT(w, type_, subject_, case_, member, payload)                                  \
    do {                                                                                           \
        Crm__V1__Event ev_ = CRM__V1__EVENT__INIT;                                                 \
        ev_.type = (char *)(type_);                                                                \
        ev_.subject = (char *)((subject_) ? (subject_) : "");                                      \
        ev_.payload_case = (case_);                                                                \
        ev_.member = (payload);                                                                    \
        return crm_work_emit((w), &ev_);                                                           \
    } while (0)

/* Ends the work successfully. For a command, `reply` (may be NULL) is the
 * reply body, serialised at once; the client gets it after commit. */
void crm_work_ok(crm_work_t *w, const ProtobufCMessage *reply);

/* Ends the work with an error; nothing it did is kept. For a command the
 * client gets this status; for a consumed event it goes to dead letters.
 * Strings are copied; any may be NULL. */
void crm_work_fail(crm_work_t *w, Crm__V1__StatusCode code, const char *field, const char *message,
                   const char *detail, const char *hint);

/* crm_work_fail with e's code, field, message, detail and hint; e's
 * log-only detail, when there is one, is logged (work.failed, with the
 * command or consumer name) and never sent. */
void crm_work_fail_err(crm_work_t *w, const crm_err_t *e);

#endif
