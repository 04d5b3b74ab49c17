/* rules.c: see rules.h. The signature is the Standard Webhooks scheme,
 * HMAC-SHA256 with libsodium; URLs are parsed with libcurl's URL API, the
 * same parser that later sends to them. */
#include "rules.h"

#include <crm/check.h>
#include <crm/v1/rpc.pb-c.h>
#include <curl/curl.h>
#include <sodium.h>

#include <stdio.h>
#include <string.h>

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT

int wh_check_url(const char *url, const char *field, crm_err_t *e)
{
    if (!url || !*url)
        return crm_err_set(e, S_INVALID, field, "url is required",
                           "give an http:// or https:// URL", NULL);
    size_t n = strlen(url);
    if (n > WH_URL_MAX)
        return crm_err_set(e, S_INVALID, field, "url is too long",
                           "use a URL of at most 2048 bytes", "%zu bytes", n);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return crm_err_set(e, S_INVALID, field, "url holds a space or a control character",
                               "percent-encode it", NULL);
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return crm_err_set(e, S_INVALID, field, "url must start with http:// or https://",
                           "webhooks are sent over HTTP", NULL);
    CURLU *u = curl_url();
    if (!u)
        return crm_err_set(e, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, field, "out of memory",
                           NULL, NULL);
    char *host = NULL;
    int bad = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
              curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host;
    curl_free(host);
    curl_url_cleanup(u);
    if (bad)
        return crm_err_set(e, S_INVALID, field, "url is not a valid URL",
                           "give a URL such as https://example.com/hooks/crm", NULL);
    return 0;
}

void wh_url_redact(const char *url, char *out, size_t len)
{
    if (!len)
        return;
    out[0] = '\0';
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        snprintf(out, len, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
                 path ? path : "");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
}

int wh_check_prefixes(char *const *v, size_t n, const char *field, crm_err_t *e)
{
    if (n == 0)
        return crm_err_set(e, S_INVALID, field, "at least one event type prefix is required",
                           "for example crm.sales. or crm.support.ticket.opened.", NULL);
    if (n > WH_PREFIXES_MAX)
        return crm_err_set(e, S_INVALID, field, "too many event type prefixes", "give at most 32",
                           "%zu prefixes", n);
    for (size_t i = 0; i < n; i++) {
        const char *p = v[i];
        size_t len = strlen(p);
        int ok = len > 4 && len <= WH_PREFIX_MAX && !strncmp(p, "crm.", 4);
        for (size_t k = 0; ok && k < len; k++)
            ok = (p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') || p[k] == '.' ||
                 p[k] == '_' || p[k] == '-';
        if (!ok) {
            char q[64];
            return crm_err_set(e, S_INVALID, field, "not an event type prefix",
                               "start with crm. and use lower-case letters, digits, '.', '_' "
                               "and '-', e.g. crm.sales.",
                               "%s", crm_quote(p, q, sizeof q));
        }
    }
    return 0;
}

int wh_secret_parse(const char *secret, uint8_t key[WH_KEY_MAX], size_t *keylen, const char *field,
                    crm_err_t *e)
{
    uint8_t buf[WH_KEY_MAX + 3];
    size_t n = 0;
    const char *b64 = secret + strlen(WH_SECRET_PREFIX);
    if (sodium_init() < 0)
        return crm_err_set(e, CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL, field,
                           "the signing library could not start", NULL, NULL);
    /* The value is a secret: the error never quotes it. */
    if (strncmp(secret, WH_SECRET_PREFIX, strlen(WH_SECRET_PREFIX)) ||
        sodium_base642bin(buf, sizeof buf, b64, strlen(b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n < WH_KEY_MIN || n > WH_KEY_MAX)
        return crm_err_set(e, S_INVALID, field, "secret is not a webhook secret",
                           "give whsec_ and the base64 of 24 to 64 random bytes, or leave it "
                           "empty to have one made",
                           NULL);
    if (key)
        memcpy(key, buf, n);
    if (keylen)
        *keylen = n;
    sodium_memzero(buf, sizeof buf);
    return 0;
}

int wh_secret_new(char out[WH_SECRET_LEN])
{
    uint8_t key[32];
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(key, sizeof key);
    memcpy(out, WH_SECRET_PREFIX, strlen(WH_SECRET_PREFIX));
    sodium_bin2base64(out + strlen(WH_SECRET_PREFIX), WH_SECRET_LEN - strlen(WH_SECRET_PREFIX), key,
                      sizeof key, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
    return 0;
}

int wh_sign(const uint8_t *key, size_t keylen, const char *id, int64_t timestamp_s,
            const char *body, size_t body_len, char out[WH_SIGNATURE_LEN])
{
    if (sodium_init() < 0)
        return -1;
    char ts[24];
    int tn = snprintf(ts, sizeof ts, "%lld", (long long)timestamp_s);
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, (size_t)tn);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, WH_SIGNATURE_LEN - 3, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(&st, sizeof st);
    return 0;
}

int64_t wh_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, wh_rng_fn rng, void *arg)
{
    if (attempt < 1)
        attempt = 1;
    int64_t ceiling = base_ms;
    /* Doubling stops at the cap, so the shift never overflows. */
    for (int i = 1; i < attempt && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    if (ceiling <= 0)
        return 0;
    return (int64_t)(rng(arg) % ((uint64_t)ceiling + 1));
}
