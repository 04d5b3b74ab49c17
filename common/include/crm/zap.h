/* crm/zap.h: the one ZAP handler (RFC 27) every process runs.
 *
 * libzmq asks the handler bound at inproc://zeromq.zap.01 about every
 * CURVE client before the handshake completes. This handler answers from
 * the directory of principals: a known key is let in with its principal's
 * name as the ZMTP User-Id (and its key as property "X-Crm-Key"), an
 * unknown key, or a kind the socket's ZAP domain does not admit, is
 * refused. Servers set ZMQ_ZAP_ENFORCE_DOMAIN (crm_curve_server), so when
 * this handler is missing every client is refused rather than let in.
 *
 * The handler owns no thread: its ROUTER socket is drained by the owner's
 * loop (crm_zap_handle, never blocking), and it must live in the same ZeroMQ
 * context as the sockets it guards. Every refusal, at the handshake or
 * later (a revoked principal, a forbidden command, a topic not the
 * publisher's), is counted by reason and logged at most once per key per
 * minute, so a scanner cannot flood the log. */
#ifndef CRM_ZAP_H
#define CRM_ZAP_H

#include <crm/directory.h>

#include <stdint.h>

/* ZAP domains: which socket a client is connecting to. */
#define CRM_ZAP_COMMANDS "crm.commands"
#define CRM_ZAP_BUS_PUBLISH "crm.bus.publish"
#define CRM_ZAP_BUS_SUBSCRIBE "crm.bus.subscribe"

typedef enum {
    CRM_AUTH_UNKNOWN_KEY, /* handshake: the key is not in the directory */
    CRM_AUTH_KIND,        /* handshake: the key's kind may not use this socket */
    CRM_AUTH_REVOKED,     /* a message from a principal since removed */
    CRM_AUTH_FORBIDDEN,   /* a command the principal's kind may not run */
    CRM_AUTH_TOPIC,       /* bus: a publication outside the publisher's topics */
    CRM_AUTH_REASONS
} crm_auth_reason_t;

typedef struct crm_zap crm_zap_t;

/* Reads the directory at `path` and binds the handler in `zctx`. Returns
 * NULL with a message in err. Caller owns the handler. */
crm_zap_t *crm_zap_new(void *zctx, const char *path, char *err, size_t errlen);
void crm_zap_destroy(crm_zap_t **self_p);

/* Admits only principals of `kinds` (CRM_KIND_* bits) on sockets of ZAP
 * domain `domain`. Domains not named admit every kind. Returns 0, or -1
 * when the table (8 domains) is full. */
int crm_zap_admit(crm_zap_t *self, const char *domain, unsigned kinds);

/* The handler's socket, for the owner's poller (readable = requests). */
void *crm_zap_socket(crm_zap_t *self);

/* Answers at most `cap` pending requests without blocking; returns how
 * many it took (crm_zwatch_fn compatible through a wrapper). */
int crm_zap_handle(crm_zap_t *self, int cap);

/* Reads the directory file again. On success the new directory answers
 * every later handshake and message; on failure the old one stays and the
 * error is logged. Returns 1 when keys were removed or changed, 0 when
 * not, -1 on failure. */
int crm_zap_reload(crm_zap_t *self);
/* Changes on every successful reload: a cache of verdicts compares it. */
unsigned crm_zap_generation(const crm_zap_t *self);

const crm_directory_t *crm_zap_directory(const crm_zap_t *self);

/* The principal that sent `msg` (a zmq_msg_t * received on a CURVE server
 * socket), as the directory says now: NULL when its key was removed since
 * the handshake, or when the message carries no ZAP identity. */
const crm_principal_t *crm_zap_sender(crm_zap_t *self, void *msg);

/* Counts a refusal and logs it (rate-limited per `who`, a key or a name:
 * never a secret). `what` says what was refused. */
void crm_zap_refuse(crm_zap_t *self, crm_auth_reason_t reason, const char *who, const char *what);

int64_t crm_zap_refused(const crm_zap_t *self, crm_auth_reason_t reason);
/* "unknown_key", "kind", "revoked", "forbidden", "topic". */
const char *crm_auth_reason_name(crm_auth_reason_t reason);

#endif
