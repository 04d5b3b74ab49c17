/* track.c: signed tracking tokens (track.h). Layout before base64url:
 * version (1), kind (1), campaign, customer and delivery ids (16 each),
 * expiry in seconds (8, big-endian), the click target (the rest), then
 * HMAC-SHA256 of all of that (32). */
#include "track.h"

#include <sodium.h>
#include <string.h>
#include <uuid/uuid.h>

#define S_VERSION 1
#define S_FIXED 58
#define S_MAC crypto_auth_hmacsha256_BYTES

static void s_mac(const uint8_t *key, size_t keylen, const uint8_t *m, size_t n, uint8_t *mac)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, m, n);
    crypto_auth_hmacsha256_final(&st, mac);
}

int mkt_track_sign(const uint8_t *key, size_t keylen, const mkt_track_t *t, char *out, size_t cap)
{
    uint8_t buf[S_FIXED + MKT_TRACK_URL_MAX + S_MAC];
    size_t ulen = strlen(t->url);
    if (ulen > MKT_TRACK_URL_MAX || t->kind < MKT_TRACK_OPEN || t->kind > MKT_TRACK_UNSUBSCRIBE)
        return -1;
    buf[0] = S_VERSION;
    buf[1] = (uint8_t)t->kind;
    if (uuid_parse(t->campaign_id, buf + 2) || uuid_parse(t->customer_id, buf + 18) ||
        uuid_parse(t->delivery_id, buf + 34))
        return -1;
    uint64_t e = (uint64_t)t->expires_s;
    for (int i = 0; i < 8; i++)
        buf[50 + i] = (uint8_t)(e >> (56 - 8 * i));
    memcpy(buf + S_FIXED, t->url, ulen);
    s_mac(key, keylen, buf, S_FIXED + ulen, buf + S_FIXED + ulen);
    size_t n = S_FIXED + ulen + S_MAC;
    if (cap < sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return -1;
    sodium_bin2base64(out, cap, buf, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

int mkt_track_verify(const uint8_t *key, size_t keylen, const char *token, int64_t now_s,
                     mkt_track_t *out)
{
    uint8_t buf[S_FIXED + MKT_TRACK_URL_MAX + S_MAC], mac[S_MAC];
    size_t n = 0;
    if (!token || strlen(token) >= MKT_TRACK_TOKEN_MAX ||
        sodium_base642bin(buf, sizeof buf, token, strlen(token), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n < S_FIXED + S_MAC)
        return MKT_TRACK_FORGED;
    size_t body = n - S_MAC;
    s_mac(key, keylen, buf, body, mac);
    if (sodium_memcmp(mac, buf + body, S_MAC) != 0)
        return MKT_TRACK_FORGED;
    /* Genuine from here on: the fields are ours. */
    if (buf[0] != S_VERSION || buf[1] < MKT_TRACK_OPEN || buf[1] > MKT_TRACK_UNSUBSCRIBE)
        return MKT_TRACK_FORGED;
    uint64_t e = 0;
    for (int i = 0; i < 8; i++)
        e = e << 8 | buf[50 + i];
    if ((int64_t)e < now_s)
        return MKT_TRACK_EXPIRED;
    memset(out, 0, sizeof *out);
    out->kind = buf[1];
    uuid_unparse_lower(buf + 2, out->campaign_id);
    uuid_unparse_lower(buf + 18, out->customer_id);
    uuid_unparse_lower(buf + 34, out->delivery_id);
    out->expires_s = (int64_t)e;
    memcpy(out->url, buf + S_FIXED, body - S_FIXED);
    out->url[body - S_FIXED] = 0;
    uint8_t d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, buf, body);
    sodium_bin2hex(out->digest, sizeof out->digest, d, sizeof d);
    return 0;
}
