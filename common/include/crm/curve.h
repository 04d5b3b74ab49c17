/* crm/curve.h: CurveZMQ keypairs and the socket options that use them.
 *
 * Every ZeroMQ link is encrypted and authenticated with CURVE. Each process
 * (the bus, a service, a staff member's crmctl, a subscriber team's tool)
 * has a long-term Curve25519 keypair kept as Z85 text in a file. A secret
 * key is only ever read from a file, never from argv or the value of an
 * environment variable, and never logged.
 *
 * Key files use czmq's certificate layout, so pyzmq's
 * zmq.auth.load_certificate() and czmq read them too:
 *
 *     metadata
 *         name = "sales"
 *     curve
 *         public-key = "<40 Z85 characters>"
 *         secret-key = "<40 Z85 characters>"
 *
 * The secret file NAME.key (mode 0600) holds both keys; NAME.pub holds only
 * the public key and may be shared freely. */
#ifndef CRM_CURVE_H
#define CRM_CURVE_H

#include <stddef.h>

#define CRM_KEY_Z85_LEN 40

typedef struct {
    char public_key[CRM_KEY_Z85_LEN + 1];
    char secret_key[CRM_KEY_Z85_LEN + 1]; /* "" when only the public key is known */
} crm_keypair_t;

/* A fresh keypair. Returns 0, or -1 when libzmq was built without CURVE. */
int crm_keypair_new(crm_keypair_t *kp);

/* Writes `dir`/`name`.key (both keys, mode 0600) and `dir`/`name`.pub
 * (public key only, mode 0644). Refuses to overwrite an existing file, so
 * a key in use is never replaced by accident. Returns 0, or -1 with a
 * message (naming the file, never a key) in err. */
int crm_keypair_write(const crm_keypair_t *kp, const char *dir, const char *name, char *err,
                      size_t errlen);

/* Reads a key file. With `need_secret` the file must hold a secret key
 * (its public key is derived from it, and must match one written beside
 * it); otherwise a public key is enough. Returns 0, or -1 with a message in
 * err. A secret file that others may read is accepted with a warning
 * (compose mounts secrets with the host file's mode). */
int crm_keypair_read(const char *path, int need_secret, crm_keypair_t *kp, char *err,
                     size_t errlen);

/* 1 when `z85` is 40 characters of valid Z85 (a possible public key). */
int crm_key_valid(const char *z85);

/* Makes `sock` a CURVE server with keypair `kp`, asking the ZAP handler
 * about every client under ZAP domain `domain`, and refusing every client
 * when no handler answers (ZMQ_ZAP_ENFORCE_DOMAIN). Call before bind.
 * Returns 0 or -1 (errno set). */
int crm_curve_server(void *sock, const crm_keypair_t *kp, const char *domain);

/* Makes `sock` a CURVE client with keypair `kp` that accepts only a server
 * holding `server_public`. Call before connect. Returns 0 or -1. */
int crm_curve_client(void *sock, const crm_keypair_t *kp, const char *server_public);

#endif
