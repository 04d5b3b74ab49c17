/* crm/creds.h: what a tool needs to speak CURVE: its own keypair and the
 * public keys of the servers it talks to.
 *
 * Found the same way by crmctl, the benchmarks and the tests' C tools: the
 * keypair from the file named by CRM_KEY_FILE, else
 * $XDG_CONFIG_HOME/crm/key (~/.config/crm/key); the servers' keys by name
 * ("bus", "sales", ...) from the directory of principals named by
 * CRM_DIRECTORY_FILE, else $XDG_CONFIG_HOME/crm/directory. The secret key
 * is only ever read from that file. CRM_INSECURE_PLAINTEXT=1 (development
 * only) turns CURVE off, with a warning on stderr. */
#ifndef CRM_CREDS_H
#define CRM_CREDS_H

#include <crm/curve.h>
#include <crm/directory.h>

#include <stddef.h>

typedef struct crm_creds crm_creds_t;

/* Returns NULL with a message in err (what is missing and how to make
 * it). Caller owns the result. */
crm_creds_t *crm_creds_from_env(char *err, size_t errlen);
void crm_creds_destroy(crm_creds_t **self_p);

/* Makes `sock` a CURVE client of the server the directory calls `server`.
 * Returns 0, or -1 with a message in err when the directory has no such
 * server. With `sock` NULL only checks that the server is known. A no-op
 * (0) in plaintext mode. */
int crm_creds_client(const crm_creds_t *self, void *sock, const char *server, char *err,
                     size_t errlen);

/* This tool's own principal as the directory lists it (NULL when its key
 * is not listed, or in plaintext mode), and its public key. */
const crm_principal_t *crm_creds_principal(const crm_creds_t *self);
const char *crm_creds_public_key(const crm_creds_t *self);
/* The directory as read at start (NULL in plaintext mode). */
const crm_directory_t *crm_creds_directory(const crm_creds_t *self);
int crm_creds_plaintext(const crm_creds_t *self);

/* The default per-user config directory ($XDG_CONFIG_HOME/crm or
 * ~/.config/crm) into buf; returns buf, or NULL when HOME is unset. */
char *crm_creds_config_dir(char *buf, size_t len);

#endif
