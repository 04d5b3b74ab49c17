/* rules.h: the pure rules of crm-webhooks, unit-tested without the service
 * (tests/unit/webhooks): what a subscription may hold (URL, event type
 * prefixes, secret), the Standard Webhooks signature, and the retry
 * schedule. No I/O; errors follow crm/err.h. */
#ifndef WEBHOOKS_RULES_H
#define WEBHOOKS_RULES_H

#include <crm/err.h>

#include <stddef.h>
#include <stdint.h>

#define WH_URL_MAX 2048
#define WH_PREFIX_MAX 200
#define WH_PREFIXES_MAX 32
#define WH_DESCRIPTION_MAX 500
#define WH_SECRET_PREFIX "whsec_"
#define WH_KEY_MIN 24 /* signing key bytes, as the specification asks */
#define WH_KEY_MAX 64
/* "whsec_" + base64 of WH_KEY_MAX bytes + NUL */
#define WH_SECRET_LEN (6 + 4 * ((WH_KEY_MAX + 2) / 3) + 1)
/* "v1," + base64 of 32 bytes + NUL */
#define WH_SIGNATURE_LEN (3 + 44 + 1)

/* An http:// or https:// URL with a host, at most WH_URL_MAX bytes, no
 * spaces or control characters. INVALID_ARGUMENT on `field` otherwise. */
int wh_check_url(const char *url, const char *field, crm_err_t *e);

/* The URL without user info, query and fragment, into out (for events and
 * listings that must not repeat a token a receiver put in its URL). */
void wh_url_redact(const char *url, char *out, size_t len);

/* 1 to WH_PREFIXES_MAX prefixes, each "crm." followed by lower-case
 * letters, digits, '.', '_' or '-', at most WH_PREFIX_MAX bytes. */
int wh_check_prefixes(char *const *v, size_t n, const char *field, crm_err_t *e);

/* A secret as given: "whsec_" and standard base64 of WH_KEY_MIN to
 * WH_KEY_MAX bytes; the key goes to key/keylen when not NULL. */
int wh_secret_parse(const char *secret, uint8_t key[WH_KEY_MAX], size_t *keylen, const char *field,
                    crm_err_t *e);

/* A new random secret of 32 bytes, "whsec_<base64>", into out. Returns 0
 * or -1 when libsodium could not start. */
int wh_secret_new(char out[WH_SECRET_LEN]);

/* The Standard Webhooks signature of a message: "v1," and the base64 of
 * HMAC-SHA256(key, "<id>.<timestamp>.<body>"). Returns 0 or -1 (libsodium
 * could not start). */
int wh_sign(const uint8_t *key, size_t keylen, const char *id, int64_t timestamp_s,
            const char *body, size_t body_len, char out[WH_SIGNATURE_LEN]);

/* The delay before attempt number `attempt` + 1 after `attempt` failed
 * ones (attempt >= 1): exponential backoff with full jitter, a uniform
 * draw in [0, min(cap, base * 2^(attempt-1))] ms. rng returns uniform
 * 64-bit values (injectable for tests). */
typedef uint64_t (*wh_rng_fn)(void *arg);
int64_t wh_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, wh_rng_fn rng, void *arg);

#endif
