/* work_int.h: a work (one command or event on its way through a handler)
 * and the events it emits, as the batch layer (work.c, batch.c,
 * batch_commit.c) runs it and its owner (service_command.c, consumer*.c)
 * fills it in and frees it. Depends on nothing of the runtime above it. */
#ifndef CRM_WORK_INT_H
#define CRM_WORK_INT_H

#include <crm/db.h>
#include <crm/service.h>
#include <crm/util.h>

#include <stddef.h>
#include <stdint.h>

/* The longest topic (event type) on the bus. */
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

struct crm_batch;
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
    /* It rewrote events already in crm_outbox (erasure scrubs them in
     * place): the relay's memory of the events it published holds the old
     * bytes, so its owner empties it once the transaction committed. */
    int outbox_rewritten;
    int pending;                         /* a statement of this work is in flight */
    int auto_ok;                         /* that statement ends the work when it succeeds */
    char sql[80];                        /* the start of that statement, for the log if it fails */
    int conflict;                        /* failed on a serialization failure or deadlock */
    int conflict_retries;                /* kept across attempts */
    crm_command_keys_fn keys_fn;         /* NULL: runs alone in its batch */
    uint64_t keys[CRM_COMMAND_KEYS_MAX]; /* per attempt, once decoded */
    int n_keys;                          /* < 0: runs alone */
    /* per attempt, in a command's set-based run (crm_command_batch_fn): the
     * run's works, this one among them; their writes are shared (work.c) */
    struct crm_work *const *run;
    size_t run_n;
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

/* work.c */
crm_work_t *crm_work_new(crm_service_t *svc, crm_work_kind_t kind);
void crm_work_destroy(crm_work_t **w_p); /* frees its emits too, if it still has them */
void crm_work_reset(crm_work_t *w);
void crm_work_force_fail(crm_work_t *w, Crm__V1__StatusCode code, const char *message,
                         const char *detail, const char *hint);
/* Frees a list of events (next-linked). */
void crm_emits_free(crm_emit_t *e);
/* The epoch batch_commit.c sealed at the end of e's bytes (field 6 the
 * sequence, field 7 the epoch, appended) into out: 0, or -1 if the tail is
 * not that (batch_commit.c, beside the seal). */
int crm_emit_sealed_epoch(const crm_emit_t *e, char *out, size_t outlen);

#endif
