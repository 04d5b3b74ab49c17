/* token.c: bearer secrets of the HTTP API (crm/token.h), on libsodium. */
#include <crm/token.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

static int s_prefix_ok(const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || n > 8)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (prefix[i] < 'a' || prefix[i] > 'z')
            return 0;
    return 1;
}

static void s_hash(const char *secret, uint8_t hash[CRM_TOKEN_HASH_LEN])
{
    crypto_generichash(hash, CRM_TOKEN_HASH_LEN, (const unsigned char *)secret,
                       CRM_TOKEN_SECRET_LEN, NULL, 0);
}

int crm_token_new(const char *prefix, char *out, char *id, uint8_t hash[CRM_TOKEN_HASH_LEN])
{
    uint8_t rid[CRM_TOKEN_ID_LEN / 2], rsecret[CRM_TOKEN_SECRET_LEN / 2];
    char secret[CRM_TOKEN_SECRET_LEN + 1];

    if (!s_prefix_ok(prefix))
        return -EINVAL;
    if (sodium_init() < 0)
        return -EIO;
    randombytes_buf(rid, sizeof rid);
    randombytes_buf(rsecret, sizeof rsecret);
    sodium_bin2hex(id, CRM_TOKEN_ID_LEN + 1, rid, sizeof rid);
    sodium_bin2hex(secret, sizeof secret, rsecret, sizeof rsecret);
    s_hash(secret, hash);
    snprintf(out, CRM_TOKEN_MAX, "%s_%s_%s", prefix, id, secret);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(rsecret, sizeof rsecret);
    return 0;
}

static int s_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int crm_token_parse(const char *prefix, const char *token, char *id,
                    uint8_t hash[CRM_TOKEN_HASH_LEN])
{
    size_t p = prefix ? strlen(prefix) : 0;

    if (!s_prefix_ok(prefix) || !token ||
        strlen(token) != p + 1 + CRM_TOKEN_ID_LEN + 1 + CRM_TOKEN_SECRET_LEN)
        return -EINVAL;
    if (memcmp(token, prefix, p) != 0 || token[p] != '_' || token[p + 1 + CRM_TOKEN_ID_LEN] != '_')
        return -EINVAL;
    const char *tid = token + p + 1;
    const char *secret = tid + CRM_TOKEN_ID_LEN + 1;
    if (!s_hex(tid, CRM_TOKEN_ID_LEN) || !s_hex(secret, CRM_TOKEN_SECRET_LEN))
        return -EINVAL;
    if (sodium_init() < 0)
        return -EINVAL;
    memcpy(id, tid, CRM_TOKEN_ID_LEN);
    id[CRM_TOKEN_ID_LEN] = '\0';
    s_hash(secret, hash);
    return 0;
}

int crm_token_hash_equal(const uint8_t hash[CRM_TOKEN_HASH_LEN], const uint8_t *stored,
                         size_t stored_len)
{
    return stored && stored_len == CRM_TOKEN_HASH_LEN &&
           sodium_memcmp(hash, stored, CRM_TOKEN_HASH_LEN) == 0;
}
