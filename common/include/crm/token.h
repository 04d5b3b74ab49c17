/* crm/token.h: bearer secrets of the HTTP API (API tokens, staff
 * sessions), made and checked in one place so that the tool that creates
 * a token (crmctl) and the gateway that checks it (crm-api) agree.
 *
 * A token is "<prefix>_<id>_<secret>": the id (16 hex digits) finds the
 * record, the secret (64 hex digits, 256 random bits from libsodium) proves
 * possession. Only BLAKE2b-256 of the secret is stored: the secret has full
 * entropy, so a fast hash is as safe as a slow one and costs nothing per
 * request. Comparison is in constant time. */
#ifndef CRM_TOKEN_H
#define CRM_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define CRM_TOKEN_ID_LEN 16
#define CRM_TOKEN_SECRET_LEN 64
#define CRM_TOKEN_HASH_LEN 32
/* A buffer that holds any token with a prefix of up to 8 characters. */
#define CRM_TOKEN_MAX (8 + 1 + CRM_TOKEN_ID_LEN + 1 + CRM_TOKEN_SECRET_LEN + 1)

/* Makes a new token with `prefix` ("crm", "crs"; at most 8 letters) into
 * out (CRM_TOKEN_MAX), its id into id (CRM_TOKEN_ID_LEN + 1) and the hash of
 * its secret into hash. Returns 0, or -EINVAL (bad prefix) or -EIO
 * (libsodium could not start). */
int crm_token_new(const char *prefix, char *out, char *id, uint8_t hash[CRM_TOKEN_HASH_LEN]);

/* Reads a token made with `prefix`: its id into id and its secret's hash
 * into hash. Returns 0, or -EINVAL when it is not such a token. */
int crm_token_parse(const char *prefix, const char *token, char *id,
                    uint8_t hash[CRM_TOKEN_HASH_LEN]);

/* 1 when `stored` (stored_len bytes) is the hash `hash`, in constant
 * time. */
int crm_token_hash_equal(const uint8_t hash[CRM_TOKEN_HASH_LEN], const uint8_t *stored,
                         size_t stored_len);

#endif
