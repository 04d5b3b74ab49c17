/* auth.c: who is calling. A request carries an API token
 * ("Authorization: Bearer crm_<id>_<secret>") or a staff session cookie
 * ("crm_session=crs_<id>_<secret>"). Both are stored as hashes in crm-api's
 * own database (token.c, sql/0001_api.sql); reading them must not block
 * the loop, so a credential not in the cache is looked up by a work in the
 * framework's batches (crm_service_submit) and the request continues from
 * its completion. Cached entries are checked again after S_CACHE_US, and a
 * revocation through crm-api's command socket drops the entry at once.
 * The token bucket of the rate limit lives with the cached credential. */
#include "api.h"

#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SLOTS 4096
#define S_CACHE_US (30LL * 1000000LL)

typedef enum { S_TOKEN, S_SESSION } s_kind_t;

/* A request waiting for the lookup of its credential. */
typedef struct s_waiter {
    struct s_waiter *next;
    api_auth_fn fn;
    void *arg;
    uint8_t hash[CRM_TOKEN_HASH_LEN];
} s_waiter_t;

struct api_cred {
    int used;
    s_kind_t kind;
    char id[CRM_TOKEN_ID_LEN + 1];
    /* from the database */
    int found;
    uint8_t hash[CRM_TOKEN_HASH_LEN];
    char principal[128];
    int64_t expires_us; /* wall clock; 0 = never */
    int revoked;
    int64_t fetched_us; /* monotonic */
    /* token bucket */
    double tokens;
    int64_t refill_us;
    /* a lookup in flight and who waits for it */
    int looking;
    s_waiter_t *waiters;
};

struct api_cache {
    api_cred_t slots[S_SLOTS];
};

static size_t s_slot(s_kind_t kind, const char *id)
{
    return (size_t)(crm_hash64((uint64_t)kind + 1, id, strlen(id)) % S_SLOTS);
}

const char *api_cred_principal(const api_cred_t *cred)
{
    return cred->principal;
}

int api_cred_take(api_t *api, api_cred_t *cred)
{
    int64_t now = crm_mono_us();
    if (cred->refill_us == 0) {
        cred->tokens = api->rate_burst;
        cred->refill_us = now;
    }
    cred->tokens += (double)(now - cred->refill_us) / 1e6 * api->rate_per_s;
    if (cred->tokens > api->rate_burst)
        cred->tokens = api->rate_burst;
    cred->refill_us = now;
    if (cred->tokens >= 1.0) {
        cred->tokens -= 1.0;
        return 0;
    }
    int wait = (int)((1.0 - cred->tokens) / api->rate_per_s + 0.999);
    return wait < 1 ? 1 : wait;
}

void api_auth_forget(api_t *api, const char *token_id)
{
    if (!api || !api->cache)
        return;
    api_cred_t *c = &api->cache->slots[s_slot(S_TOKEN, token_id)];
    if (c->used && c->kind == S_TOKEN && !strcmp(c->id, token_id) && !c->looking)
        c->used = 0;
}

/* The verdict on a credential whose record is known. */
static api_auth_result_t s_judge(api_t *api, const api_cred_t *c, const uint8_t *hash)
{
    if (!c->found || !crm_token_hash_equal(hash, c->hash, sizeof c->hash))
        return API_AUTH_UNKNOWN;
    if (c->revoked)
        return API_AUTH_REVOKED;
    if (c->expires_us && c->expires_us <= crm_now_us())
        return API_AUTH_EXPIRED;
    /* The principal must still be staff in the directory: removing someone
     * from it ends their tokens too. */
    const crm_directory_t *dir = crm_service_directory(api->svc);
    if (dir) {
        const crm_principal_t *p = crm_directory_by_name(dir, c->principal);
        if (!p || p->kind != CRM_KIND_STAFF)
            return API_AUTH_NOT_STAFF;
    }
    return API_AUTH_OK;
}

/* ---- the lookup work --------------------------------------------------- */

static void s_looked_up(crm_work_t *w, PGresult *res)
{
    api_cred_t *c = crm_work_data(w);
    c->found = PQntuples(res) == 1;
    if (c->found) {
        size_t n = 0;
        unsigned char *bin = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &n);
        memset(c->hash, 0, sizeof c->hash);
        if (bin && n == sizeof c->hash)
            memcpy(c->hash, bin, n);
        PQfreemem(bin);
        snprintf(c->principal, sizeof c->principal, "%s", PQgetvalue(res, 0, 1));
        c->expires_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        c->revoked = !strcmp(PQgetvalue(res, 0, 3), "t");
    }
    crm_work_ok(w, NULL);
}

static void s_lookup(crm_work_t *w)
{
    api_cred_t *c = crm_work_data(w);
    const char *params[] = {c->id};
    crm_work_query(w,
                   c->kind == S_TOKEN
                       ? "SELECT secret_hash, principal,"
                         " coalesce((extract(epoch FROM expires_at) * 1000000)::bigint, 0),"
                         " revoked_at IS NOT NULL FROM api_token WHERE id = $1"
                       : "SELECT secret_hash, principal,"
                         " (extract(epoch FROM expires_at) * 1000000)::bigint,"
                         " revoked_at IS NOT NULL FROM api_session WHERE id = $1",
                   1, params, s_looked_up);
}

static void s_lookup_done(crm_service_t *svc, int status, void *arg)
{
    api_cred_t *c = arg;
    api_t *api = crm_service_user(svc);
    c->looking = 0;
    c->fetched_us = crm_mono_us();
    s_waiter_t *w = c->waiters;
    c->waiters = NULL;
    if (status < 0)
        c->used = 0; /* not known: look again next time */
    while (w) {
        s_waiter_t *next = w->next;
        api_auth_result_t r = status < 0 ? API_AUTH_ERROR : s_judge(api, c, w->hash);
        w->fn(api, r, r == API_AUTH_OK ? c : NULL, w->arg);
        free(w);
        w = next;
    }
}

static void s_auth(api_t *api, s_kind_t kind, const char *id, const uint8_t *hash, api_auth_fn fn,
                   void *arg)
{
    api_cred_t *c = &api->cache->slots[s_slot(kind, id)];
    int64_t now = crm_mono_us();
    if (c->used && c->kind == kind && !strcmp(c->id, id) && !c->looking &&
        now - c->fetched_us < S_CACHE_US) {
        api_auth_result_t r = s_judge(api, c, hash);
        fn(api, r, r == API_AUTH_OK ? c : NULL, arg);
        return;
    }
    if (c->used && c->looking && (c->kind != kind || strcmp(c->id, id) != 0)) {
        /* The slot is busy with another credential's lookup: rare; the
         * caller retries. */
        fn(api, API_AUTH_ERROR, NULL, arg);
        return;
    }
    s_waiter_t *wt = calloc(1, sizeof *wt);
    if (!wt) {
        fn(api, API_AUTH_ERROR, NULL, arg);
        return;
    }
    wt->fn = fn;
    wt->arg = arg;
    memcpy(wt->hash, hash, CRM_TOKEN_HASH_LEN);
    if (c->used && c->looking) {
        wt->next = c->waiters;
        c->waiters = wt;
        return;
    }
    /* A fresh entry; the bucket of a credential seen before is kept. */
    int same = c->used && c->kind == kind && !strcmp(c->id, id);
    if (!same) {
        memset(c, 0, sizeof *c);
        c->kind = kind;
        snprintf(c->id, sizeof c->id, "%s", id);
    }
    c->used = 1;
    c->looking = 1;
    c->waiters = wt;
    if (crm_service_submit(api->svc, "api.credential.lookup", s_lookup, c, s_lookup_done) < 0) {
        c->looking = 0;
        c->used = 0;
        c->waiters = NULL;
        free(wt);
        fn(api, API_AUTH_ERROR, NULL, arg);
    }
}

/* The value of cookie `name` in a Cookie header, into out. */
static int s_cookie(const char *header, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!strncmp(p, name, n) && p[n] == '=') {
            p += n + 1;
            size_t v = strcspn(p, ";");
            if (v >= len)
                return -1;
            memcpy(out, p, v);
            out[v] = '\0';
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

void api_auth_request(api_t *api, crm_http_req_t *req, api_auth_fn fn, void *arg)
{
    const char *authz = crm_http_req_header(req, "Authorization");
    char id[CRM_TOKEN_ID_LEN + 1];
    uint8_t hash[CRM_TOKEN_HASH_LEN];
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0 ||
            crm_token_parse("crm", authz + 7 + strspn(authz + 7, " "), id, hash) < 0) {
            fn(api, API_AUTH_UNKNOWN, NULL, arg);
            return;
        }
        s_auth(api, S_TOKEN, id, hash, fn, arg);
        return;
    }
    const char *cookie = crm_http_req_header(req, "Cookie");
    char value[CRM_TOKEN_MAX];
    if (cookie && s_cookie(cookie, "crm_session", value, sizeof value) == 0) {
        if (crm_token_parse("crs", value, id, hash) < 0) {
            fn(api, API_AUTH_UNKNOWN, NULL, arg);
            return;
        }
        s_auth(api, S_SESSION, id, hash, fn, arg);
        return;
    }
    fn(api, API_AUTH_MISSING, NULL, arg);
}

int api_auth_start(api_t *api)
{
    api->cache = calloc(1, sizeof *api->cache);
    return api->cache ? 0 : -1;
}

void api_auth_stop(api_t *api)
{
    /* The cache stays: a lookup still in the service's batches may
     * complete after on_stop, and it lives in static storage until the
     * process exits. */
    (void)api;
}

/* ---- sessions ------------------------------------------------------------- */

typedef struct {
    api_t *api;
    crm_http_req_t *req;
    char id[CRM_TOKEN_ID_LEN + 1];
    char hash_hex[2 * CRM_TOKEN_HASH_LEN + 3];
    char principal[128];
    char expires[24];
    char token[CRM_TOKEN_MAX];
    int64_t expires_us;
    int del;
} s_session_t;

static void s_session_written(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

static void s_session_work(crm_work_t *w)
{
    s_session_t *s = crm_work_data(w);
    if (s->del) {
        const char *params[] = {s->id};
        crm_work_exec(w, "UPDATE api_session SET revoked_at = now() WHERE id = $1", 1, params,
                      s_session_written);
        return;
    }
    const char *params[] = {s->id, s->hash_hex, s->principal, s->expires};
    crm_work_exec(w,
                  "INSERT INTO api_session (id, secret_hash, principal, expires_at)"
                  " VALUES ($1, $2::bytea, $3, to_timestamp($4::bigint / 1000000.0))",
                  4, params, s_session_written);
}

static void s_session_done(crm_service_t *svc, int status, void *arg)
{
    s_session_t *s = arg;
    (void)svc;
    if (status < 0) {
        api_problem(s->api, &s->req, API_P_UNAVAILABLE, 503, "session store unavailable", NULL,
                    NULL, "retry later", NULL);
    } else if (s->del) {
        crm_http_req_respond(&s->req, 204, NULL,
                             "Set-Cookie: crm_session=; Path=/; Max-Age=0; HttpOnly\r\n", "", 0);
    } else {
        char hdr[512], body[256];
        snprintf(hdr, sizeof hdr,
                 "Set-Cookie: crm_session=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s\r\n"
                 "Cache-Control: no-store\r\n",
                 s->token, (long long)(s->api->session_ttl_us / 1000000),
                 s->api->secure_cookie ? "; Secure" : "");
        int n = snprintf(body, sizeof body, "{\"principal\":\"%s\",\"expires_at_us\":\"%lld\"}",
                         s->principal, (long long)s->expires_us);
        crm_http_req_respond(&s->req, 201, "application/json", hdr, body, (size_t)n);
    }
    memset(s->token, 0, sizeof s->token);
    free(s);
}

static void s_session_submit(api_t *api, s_session_t *s)
{
    if (crm_service_submit(api->svc, "api.session", s_session_work, s, s_session_done) < 0) {
        api_problem(api, &s->req, API_P_UNAVAILABLE, 503, "service is shutting down", NULL, NULL,
                    "retry later", NULL);
        free(s);
    }
}

void api_session_create(api_t *api, crm_http_req_t **req, api_cred_t *cred)
{
    api_session_create_for(api, req, cred->principal);
}

int api_cred_is_session(const api_cred_t *cred)
{
    return cred->kind == S_SESSION;
}

int64_t api_cred_expires_us(const api_cred_t *cred)
{
    return cred->expires_us;
}

void api_session_create_for(api_t *api, crm_http_req_t **req, const char *principal)
{
    s_session_t *s = calloc(1, sizeof *s);
    uint8_t hash[CRM_TOKEN_HASH_LEN];
    if (!s || crm_token_new("crs", s->token, s->id, hash) < 0) {
        free(s);
        api_problem(api, req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL, NULL);
        return;
    }
    s->api = api;
    s->req = *req;
    *req = NULL;
    snprintf(s->principal, sizeof s->principal, "%s", principal);
    strcpy(s->hash_hex, "\\x");
    for (size_t i = 0; i < CRM_TOKEN_HASH_LEN; i++)
        snprintf(s->hash_hex + 2 + 2 * i, 3, "%02x", hash[i]);
    s->expires_us = crm_now_us() + api->session_ttl_us;
    snprintf(s->expires, sizeof s->expires, "%lld", (long long)s->expires_us);
    s_session_submit(api, s);
}

void api_session_delete(api_t *api, crm_http_req_t **req, api_cred_t *cred)
{
    if (cred->kind != S_SESSION) {
        api_problem(api, req, API_P_NOT_FOUND, 404, "no session", NULL,
                    "this request was made with an API token, not a session", NULL, NULL);
        return;
    }
    s_session_t *s = calloc(1, sizeof *s);
    if (!s) {
        api_problem(api, req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL, NULL);
        return;
    }
    s->api = api;
    s->req = *req;
    *req = NULL;
    s->del = 1;
    snprintf(s->id, sizeof s->id, "%s", cred->id);
    cred->used = 0; /* refused from the next request on */
    s_session_submit(api, s);
}
