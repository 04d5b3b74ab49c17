/* auth.h: a service's side of CURVE and ZAP, on its loop.
 *
 * Reads the service's keypair (CRM_KEY_FILE) and the directory of
 * principals (CRM_DIRECTORY_FILE), runs the ZAP handler on the loop, reads
 * the directory again on SIGHUP, and sets up the service's sockets: the
 * command ROUTER as a CURVE server, the bus and peer sockets as CURVE
 * clients that accept only the server the directory names.
 * CRM_INSECURE_PLAINTEXT=1 (development only) turns all of it off, with a
 * warning. */
#ifndef CRM_AUTH_H
#define CRM_AUTH_H

#include <crm/config.h>
#include <crm/directory.h>
#include <crm/http.h>
#include <crm/zap.h>

#include <uv.h>

typedef struct crm_auth crm_auth_t;

/* Returns NULL with a message in err. Caller owns the result. */
crm_auth_t *crm_auth_new(uv_loop_t *loop, void *zctx, const crm_config_t *cfg, char *err,
                         size_t errlen);
/* Closes the loop handles (memory goes in their close callbacks). */
void crm_auth_destroy(crm_auth_t **self_p);

/* Socket set-up, before bind/connect. Return 0, or -1 with the reason
 * logged. */
int crm_auth_server(crm_auth_t *self, void *sock, const char *domain);
int crm_auth_client(crm_auth_t *self, void *sock, const char *server);

/* The principal that sent `msg` (zmq_msg_t *), as the directory says now;
 * NULL when it was revoked. In plaintext mode a stand-in principal. */
const crm_principal_t *crm_auth_sender(crm_auth_t *self, void *msg);

/* The directory as read last; NULL in plaintext mode (no principals, no
 * roles: everything is allowed). Valid until the next reload. */
const crm_directory_t *crm_auth_directory(crm_auth_t *self);

/* Counts and logs a refusal (see crm_zap_refuse); a no-op in plaintext. */
void crm_auth_refuse(crm_auth_t *self, crm_auth_reason_t reason, const char *who, const char *what);

/* crm_auth_refused_total{reason} lines for /metrics. */
void crm_auth_metrics(crm_auth_t *self, crm_http_response_t *res, const char *service);

#endif
