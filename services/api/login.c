/* login.c: staff passwords for the dashboard (docs/dashboard.md).
 *
 * api.staff.password.set (crmctl staff password) stores the argon2id hash
 * that the caller made (libsodium crypto_pwhash_str), so the password never
 * crosses the wire nor sits in an idempotency record, as with tokens.
 *
 * POST /v1/sessions {principal, password} logs in: the hash is read by a
 * work of the framework's batches, then checked with
 * crypto_pwhash_str_verify on libuv's thread pool (uv_queue_work): argon2id
 * costs tens of milliseconds and 64 MiB on purpose and must never run on
 * the loop. An unknown principal is checked against a fixed hash so that it
 * takes as long as a wrong password, and both get the same answer. Failed
 * attempts are counted per principal (S_FAILS) and per address
 * (S_FAILS_ADDR) in a window of S_WINDOW_US; over either, the next attempts
 * are refused with 429 until the window passes, before any hashing. */
#include "api.h"

#include <crm/log.h>
#include <crm/util.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FAILS 5       /* per principal */
#define S_FAILS_ADDR 20 /* per address: an office behind one NAT address */
#define S_WINDOW_US (60LL * 1000000LL)
#define S_SLOTS 1024
#define S_MAX_PASSWORD 1024

/* A hash of a password nobody has, for principals without one. */
static const char S_DUMMY_HASH[] = "$argon2id$v=19$m=65536,t=2,p=1$q43xddizmo53wBaX47qnAw$"
                                   "LxmlMD3nlZvSAk3n9OkjRycReSUo0fodznmUYTa1ZrY";

typedef struct {
    char key[136]; /* "p:<principal>" or "a:<address>" */
    int fails;
    int64_t since_us; /* monotonic start of the window */
} s_slot_t;

static s_slot_t s_slots[S_SLOTS];

static s_slot_t *s_slot(const char *kind, const char *name)
{
    char key[136];
    snprintf(key, sizeof key, "%s:%s", kind, name);
    s_slot_t *s = &s_slots[crm_hash64(CRM_HASH_SEED, key, strlen(key)) % S_SLOTS];
    int64_t now = crm_mono_us();
    if (strcmp(s->key, key) != 0 || now - s->since_us > S_WINDOW_US) {
        /* another key's slot, or an old window: a fresh count (a collision
         * only ever forgets failures, never refuses someone else) */
        snprintf(s->key, sizeof s->key, "%s", key);
        s->fails = 0;
        s->since_us = now;
    }
    return s;
}

/* Seconds until a login for principal from addr may be tried, or 0. */
static int s_blocked(const char *principal, const char *addr)
{
    s_slot_t *a[2] = {s_slot("p", principal), s_slot("a", addr)};
    int64_t now = crm_mono_us(), wait = 0;
    for (int i = 0; i < 2; i++)
        if (a[i]->fails >= (i ? S_FAILS_ADDR : S_FAILS) &&
            S_WINDOW_US - (now - a[i]->since_us) > wait)
            wait = S_WINDOW_US - (now - a[i]->since_us);
    return wait > 0 ? (int)(wait / 1000000 + 1) : 0;
}

static void s_failed(const char *principal, const char *addr)
{
    s_slot("p", principal)->fails++;
    s_slot("a", addr)->fails++;
}

typedef struct {
    uv_work_t work;
    api_t *api;
    crm_http_req_t *req;
    char principal[128];
    char addr[64];
    char password[S_MAX_PASSWORD + 1];
    size_t password_len;
    char hash[crypto_pwhash_STRBYTES];
    int found;
    int ok;
} s_login_t;

static void s_login_free(s_login_t *l)
{
    sodium_memzero(l->password, sizeof l->password);
    free(l);
}

static void s_wrong(api_t *api, crm_http_req_t **req)
{
    api_problem(api, req, API_P_UNAUTHENTICATED, 401, "wrong principal or password", NULL, NULL,
                "check both and try again; after 5 failures in a minute, logins wait a minute",
                NULL);
}

static void s_verify(uv_work_t *w)
{
    s_login_t *l = w->data;
    const char *hash = l->found ? l->hash : S_DUMMY_HASH;
    int ok = crypto_pwhash_str_verify(hash, l->password, l->password_len) == 0;
    l->ok = ok && l->found;
    sodium_memzero(l->password, sizeof l->password);
}

static void s_verified(uv_work_t *w, int status)
{
    s_login_t *l = w->data;
    api_t *api = l->api;
    const crm_directory_t *dir = crm_service_directory(api->svc);
    const crm_principal_t *p = dir ? crm_directory_by_name(dir, l->principal) : NULL;
    if (status == 0 && l->ok && dir && (!p || p->kind != CRM_KIND_STAFF))
        l->ok = 0; /* no longer staff: the password no longer opens anything */
    if (status < 0) {
        api_problem(api, &l->req, API_P_UNAVAILABLE, 503, "the password could not be checked", NULL,
                    NULL, "retry later", "Retry-After: 1\r\n");
    } else if (!l->ok) {
        s_failed(l->principal, l->addr);
        crm_info("api.login.failed", "a failed staff login"); /* no name, no address */
        s_wrong(api, &l->req);
    } else {
        s_slot("p", l->principal)->fails = 0;
        api_session_create_for(api, &l->req, l->principal);
    }
    s_login_free(l);
}

static void s_hash_read(crm_work_t *w, PGresult *res)
{
    s_login_t *l = crm_work_data(w);
    l->found = PQntuples(res) == 1 && strlen(PQgetvalue(res, 0, 0)) < sizeof l->hash;
    if (l->found)
        snprintf(l->hash, sizeof l->hash, "%s", PQgetvalue(res, 0, 0));
    crm_work_ok(w, NULL);
}

static void s_hash_work(crm_work_t *w)
{
    s_login_t *l = crm_work_data(w);
    const char *params[] = {l->principal};
    crm_work_query(w, "SELECT password_hash FROM api_staff_password WHERE principal = $1", 1,
                   params, s_hash_read);
}

static void s_hash_done(crm_service_t *svc, int status, void *arg)
{
    s_login_t *l = arg;
    (void)svc;
    if (status < 0) {
        api_problem(l->api, &l->req, API_P_UNAVAILABLE, 503, "the password could not be checked",
                    NULL, NULL, "retry later", "Retry-After: 1\r\n");
        s_login_free(l);
        return;
    }
    l->work.data = l;
    if (uv_queue_work(l->api->loop, &l->work, s_verify, s_verified) < 0) {
        api_problem(l->api, &l->req, API_P_UNAVAILABLE, 503, "the password could not be checked",
                    NULL, NULL, "retry later", NULL);
        s_login_free(l);
    }
}

void api_session_login(api_t *api, crm_http_req_t **req)
{
    size_t blen = 0;
    const char *body = crm_http_req_body(*req, &blen);
    json_error_t je;
    json_t *in = blen ? json_loadb(body, blen, JSON_REJECT_DUPLICATES, &je) : NULL;
    const char *k;
    json_t *v;
    int bad = !json_is_object(in);
    const char *principal = NULL, *password = NULL;
    json_object_foreach(in, k, v)
    {
        if (!strcmp(k, "principal") && json_is_string(v))
            principal = json_string_value(v);
        else if (!strcmp(k, "password") && json_is_string(v))
            password = json_string_value(v);
        else
            bad = 1;
    }
    if (bad || !principal || !password || !*principal || strlen(principal) >= 128 ||
        json_string_length(json_object_get(in, "password")) > S_MAX_PASSWORD) {
        json_decref(in);
        api_problem(api, req, API_P_INVALID_INPUT, 400, "malformed login", NULL,
                    "the body is {\"principal\": \"...\", \"password\": \"...\"}",
                    "or send Authorization: Bearer <token> and no body", NULL);
        return;
    }
    const char *addr = crm_http_req_peer(*req);
    int wait = s_blocked(principal, addr);
    if (wait > 0) {
        json_decref(in);
        char hdr[48], detail[96];
        snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", wait);
        snprintf(detail, sizeof detail,
                 "%d failed logins for this principal, or %d from this address, within a minute",
                 S_FAILS, S_FAILS_ADDR);
        api->m.rate_limited++;
        api_problem(api, req, API_P_RATE_LIMITED, 429, "too many failed logins", NULL, detail,
                    "wait for Retry-After seconds, then try again", hdr);
        return;
    }
    s_login_t *l = calloc(1, sizeof *l);
    if (!l) {
        json_decref(in);
        api_problem(api, req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL, NULL);
        return;
    }
    l->api = api;
    snprintf(l->principal, sizeof l->principal, "%s", principal);
    snprintf(l->addr, sizeof l->addr, "%s", addr);
    l->password_len = json_string_length(json_object_get(in, "password"));
    memcpy(l->password, password, l->password_len);
    json_decref(in);
    l->req = *req;
    *req = NULL;
    if (crm_service_submit(api->svc, "api.login", s_hash_work, l, s_hash_done) < 0) {
        api_problem(api, &l->req, API_P_UNAVAILABLE, 503, "service is shutting down", NULL, NULL,
                    "retry later", NULL);
        s_login_free(l);
    }
}

/* ---- api.staff.password.set ------------------------------------------- */

static void s_password_set(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetStaffPasswordRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) != 1) {
        crm_work_fail_not_found(w, "principal", "password", rq->principal,
                                "this principal has no password to remove");
        return;
    }
    Crm__V1__SetStaffPasswordReply *rep =
        crm_work_returned(w, &crm__v1__set_staff_password_reply__descriptor, res);
    if (rep)
        crm_work_ok(w, &rep->base);
}

void api_staff_password_set(crm_work_t *w)
{
    const Crm__V1__SetStaffPasswordRequest *rq = (const void *)crm_work_request(w);
    const crm_directory_t *dir = crm_service_directory(crm_work_service(w));
    const crm_principal_t *p = dir ? crm_directory_by_name(dir, rq->principal) : NULL;
    if (!*rq->principal || (dir && (!p || p->kind != CRM_KIND_STAFF))) {
        crm_work_fail(
            w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "principal",
            "principal is not staff",
            crm_work_printf(w, "the directory lists no staff principal \"%.80s\"", rq->principal),
            "passwords are for staff principals of the directory");
        return;
    }
    if (!*rq->password_hash) {
        const char *params[] = {rq->principal};
        crm_work_exec(w,
                      "DELETE FROM api_staff_password WHERE principal = $1 RETURNING"
                      " jsonb_build_object('principal', principal, 'removed', true)::text",
                      1, params, s_password_set);
        return;
    }
    if (strncmp(rq->password_hash, "$argon2id$", 10) != 0 ||
        strlen(rq->password_hash) >= crypto_pwhash_STRBYTES) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "password_hash",
                      "not an argon2id hash",
                      "send libsodium's crypto_pwhash_str output ($argon2id$...), never the "
                      "password",
                      "set passwords with crmctl staff password");
        return;
    }
    const char *params[] = {rq->principal, rq->password_hash, crm_work_principal(w)};
    crm_work_exec(w,
                  "INSERT INTO api_staff_password (principal, password_hash, set_by)"
                  " VALUES ($1, $2, $3) ON CONFLICT (principal) DO UPDATE SET"
                  " password_hash = EXCLUDED.password_hash, set_by = EXCLUDED.set_by,"
                  " set_at = now() RETURNING jsonb_build_object('principal', principal,"
                  " 'set_at_us', (extract(epoch FROM set_at) * 1000000)::bigint)::text",
                  3, params, s_password_set);
}
