/* token.c: the API token commands (api.token.create, .revoke, .list). The
 * caller makes the token and sends the hash of its secret (crm/token.h), so
 * that neither this table nor the idempotency record of the reply ever
 * holds a usable secret. */
#include "api.h"

#include <crm/util.h>

#include <stdio.h>
#include <string.h>

#define S_TOKEN_J                                                                                  \
    "jsonb_build_object('id', t.id, 'principal', t.principal, 'label', t.label,"                   \
    " 'created_by', t.created_by,"                                                                 \
    " 'created_at_us', (extract(epoch FROM t.created_at) * 1000000)::bigint,"                      \
    " 'expires_at_us', coalesce((extract(epoch FROM t.expires_at) * 1000000)::bigint, 0),"         \
    " 'revoked_at_us', coalesce((extract(epoch FROM t.revoked_at) * 1000000)::bigint, 0))::text"

static void s_one(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) != 1) {
        const Crm__V1__RevokeTokenRequest *rq = (const void *)crm_work_request(w);
        crm_work_fail_not_found(w, "id", "token", rq->id, "crmctl token list shows the tokens");
        return;
    }
    Crm__V1__TokenReply rep = CRM__V1__TOKEN_REPLY__INIT;
    rep.token = crm_work_returned(w, &crm__v1__api_token__descriptor, res);
    if (rep.token)
        crm_work_ok(w, &rep.base);
}

static int s_hexid(const char *s)
{
    if (strlen(s) != CRM_TOKEN_ID_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static void s_created(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) != 1) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_ALREADY_EXISTS, "id",
                      "token id exists already", NULL, "make a new token");
        return;
    }
    s_one(w, res);
}

void api_token_create(crm_work_t *w)
{
    const Crm__V1__CreateTokenRequest *rq = (const void *)crm_work_request(w);
    const crm_directory_t *dir = crm_service_directory(crm_work_service(w));
    const crm_principal_t *p = dir ? crm_directory_by_name(dir, rq->principal) : NULL;
    if (!*rq->principal) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "principal",
                      "principal is required", NULL, "name a staff principal of the directory");
        return;
    }
    if (dir && (!p || p->kind != CRM_KIND_STAFF)) {
        crm_work_fail(
            w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "principal",
            "principal is not staff",
            crm_work_printf(w, "the directory lists no staff principal \"%.80s\"", rq->principal),
            "API tokens act as a staff principal of the directory");
        return;
    }
    if (!s_hexid(rq->id) || rq->secret_hash.len != CRM_TOKEN_HASH_LEN) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT, "id",
                      "malformed token", "id must be 16 hex digits and secret_hash 32 bytes",
                      "make tokens with crmctl token create");
        return;
    }
    if (rq->expires_at_us < 0 || strlen(rq->label) > 200) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT,
                      rq->expires_at_us < 0 ? "expires_at_us" : "label", "value out of range", NULL,
                      NULL);
        return;
    }
    char hash[2 * CRM_TOKEN_HASH_LEN + 3] = "\\x";
    for (size_t i = 0; i < CRM_TOKEN_HASH_LEN; i++)
        snprintf(hash + 2 + 2 * i, 3, "%02x", rq->secret_hash.data[i]);
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", (long long)rq->expires_at_us);
    const char *params[] = {rq->id,
                            hash,
                            rq->principal,
                            rq->label,
                            crm_work_principal(w),
                            rq->expires_at_us ? exp : NULL};
    crm_work_exec(w,
                  "INSERT INTO api_token AS t (id, secret_hash, principal, label, created_by,"
                  " expires_at) VALUES ($1, $2::bytea, $3, $4, $5,"
                  " to_timestamp($6::bigint / 1000000.0)) ON CONFLICT (id) DO NOTHING"
                  " RETURNING " S_TOKEN_J,
                  6, params, s_created);
}

void api_token_revoke(crm_work_t *w)
{
    const Crm__V1__RevokeTokenRequest *rq = (const void *)crm_work_request(w);
    /* The cache forgets it now: a revoked token is refused from the next
     * request on (if this transaction fails, the next request only looks it
     * up again). */
    api_auth_forget(api_of(w), rq->id);
    const char *params[] = {rq->id};
    crm_work_exec(w,
                  "UPDATE api_token AS t SET revoked_at = coalesce(revoked_at, now())"
                  " WHERE id = $1 RETURNING " S_TOKEN_J,
                  1, params, s_one);
}

static void s_listed(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ListTokensRequest *rq = (const void *)crm_work_request(w);
    int size = rq->page_size > 0 && rq->page_size <= 500 ? rq->page_size : 50;
    int n = PQntuples(res);
    Crm__V1__ListTokensReply rep = CRM__V1__LIST_TOKENS_REPLY__INIT;
    rep.n_tokens = (size_t)(n > size ? size : n);
    rep.tokens = (Crm__V1__ApiToken **)crm_work_records(w, &crm__v1__api_token__descriptor, res, 0,
                                                        (int)rep.n_tokens);
    if (!rep.tokens)
        return;
    if (n > size)
        rep.next_page_token = rep.tokens[size - 1]->id;
    crm_work_ok(w, &rep.base);
}

void api_token_list(crm_work_t *w)
{
    const Crm__V1__ListTokensRequest *rq = (const void *)crm_work_request(w);
    int size = rq->page_size > 0 && rq->page_size <= 500 ? rq->page_size : 50;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", size + 1);
    const char *params[] = {*rq->principal ? rq->principal : NULL,
                            *rq->page_token ? rq->page_token : NULL, lim};
    crm_work_query(
        w,
        "SELECT " S_TOKEN_J " FROM api_token t"
        " WHERE ($1::text IS NULL OR t.principal = $1) AND ($2::text IS NULL OR t.id > $2)"
        " ORDER BY t.id LIMIT $3::int",
        3, params, s_listed);
}
