/* track.h: the signed tokens of campaign mail's tracking links (issue 16).
 *
 * Each token names one response of one recipient to one message: the
 * campaign, the customer, the delivery (the message), the kind (opened,
 * clicked, unsubscribed), an expiry and, for a click, the link's target.
 * It is those fields and their HMAC-SHA256 under the marketing tracking
 * key (MARKETING_TRACK_KEY_FILE), in base64url without padding: a token
 * cannot be forged or enumerated without the key, and the target of a
 * click cannot be changed (no open redirect). Pure functions (libsodium),
 * unit-tested in tests/unit/marketing/test_track.c. */
#ifndef MKT_TRACK_H
#define MKT_TRACK_H

#include <stddef.h>
#include <stdint.h>

#define MKT_TRACK_OPEN 1
#define MKT_TRACK_CLICK 2
#define MKT_TRACK_UNSUBSCRIBE 3

/* Longest click target, and so the longest token (base64 of the fields
 * and the MAC) plus its NUL. */
#define MKT_TRACK_URL_MAX 1024
#define MKT_TRACK_TOKEN_MAX (((58 + MKT_TRACK_URL_MAX + 32) * 4 + 2) / 3 + 1)

/* Failures of mkt_track_verify. */
#define MKT_TRACK_FORGED (-1)  /* not base64url, wrong length or version, or a wrong MAC */
#define MKT_TRACK_EXPIRED (-2) /* genuine, and past its expiry */

typedef struct {
    int kind;             /* MKT_TRACK_* */
    char campaign_id[37]; /* canonical lower-case UUIDs */
    char customer_id[37];
    char delivery_id[37];
    int64_t expires_s;               /* seconds since the epoch */
    char url[MKT_TRACK_URL_MAX + 1]; /* the click's target; "" otherwise */
    char digest[65];                 /* verify only: hex SHA-256 of the fields, the token's id */
} mkt_track_t;

/* Writes the token of t into out (cap bytes, MKT_TRACK_TOKEN_MAX are
 * enough). Returns 0, or -1 for an id that is no UUID, a URL too long, or
 * cap too small. */
int mkt_track_sign(const uint8_t *key, size_t keylen, const mkt_track_t *t, char *out, size_t cap);

/* Checks token against the key (constant-time MAC comparison) and the
 * clock now_s, and fills out (with its digest). Returns 0,
 * MKT_TRACK_FORGED or MKT_TRACK_EXPIRED; out is filled only on 0. */
int mkt_track_verify(const uint8_t *key, size_t keylen, const char *token, int64_t now_s,
                     mkt_track_t *out);

#endif
