/* token.c: `crmctl token create|revoke|list`, API tokens of the HTTP API
 * (crm-api's api.token.* commands, admins only). The token is made here
 * (crm/token.h) and only the hash of its secret is sent, so the secret is
 * printed once, by this command, and stored nowhere. */
#include "crmctl.h"

#include "values.h"

#include <crm/token.h>
#include <crm/util.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crm/v1/api.pb-c.h"

const crmctl_opt_t crmctl_token_create_opts[] = {
    {"expires", 'e', "TIME",
     "when the token stops working: RFC 3339, a date, or relative (+30d); default never", 0},
    {"label", 'l', "TEXT", "what the token is for", 0},
    {NULL, 0, NULL, NULL, 0},
};

const crmctl_opt_t crmctl_token_revoke_opts[] = {{NULL, 0, NULL, NULL, 0}};

const crmctl_opt_t crmctl_token_list_opts[] = {
    {"principal", 'p', "NAME", "only the tokens of this principal", 0},
    {NULL, 0, NULL, NULL, 0},
};

static void s_print(const Crm__V1__ApiToken *t)
{
    char c[40], e[40], r[40];
    printf("%-16s  %-16s  %-17s  %-17s  %-17s  %s\n", t->id, t->principal,
           val_time_format(t->created_at_us, c, sizeof c),
           t->expires_at_us ? val_time_format(t->expires_at_us, e, sizeof e) : "never",
           t->revoked_at_us ? val_time_format(t->revoked_at_us, r, sizeof r) : "-", t->label);
}

static json_t *s_json(const Crm__V1__ApiToken *t)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", t->id, "principal", t->principal,
                     "label", t->label, "created_at_us",
                     crmctl_json_u64((uint64_t)t->created_at_us), "expires_at_us",
                     crmctl_json_u64((uint64_t)t->expires_at_us), "revoked_at_us",
                     crmctl_json_u64((uint64_t)t->revoked_at_us));
}

int crmctl_token_create(crmctl_t *ctl, const crmctl_args_t *args)
{
    if (crmctl_n_positional(args) != 1)
        return crmctl_usage_error(ctl, "name the staff principal the token acts as");
    crmctl_service_t *svc = crmctl_service_require(ctl, "api");
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    Crm__V1__CreateTokenRequest rq = CRM__V1__CREATE_TOKEN_REQUEST__INIT;
    const char *exp = crmctl_arg(args, "expires");
    if (exp) {
        const char *why = NULL;
        if (val_time_parse(exp, crm_now_us(), 1, &rq.expires_at_us, &why) < 0)
            return crmctl_usage_error(ctl, "--expires: %s", why);
    }
    char token[CRM_TOKEN_MAX], id[CRM_TOKEN_ID_LEN + 1];
    uint8_t hash[CRM_TOKEN_HASH_LEN];
    if (crm_token_new("crm", token, id, hash) < 0)
        return crmctl_usage_error(ctl, "could not make a random token");
    rq.principal = (char *)crmctl_positional(args, 0);
    rq.id = id;
    rq.secret_hash.data = hash;
    rq.secret_hash.len = sizeof hash;
    rq.label = (char *)(crmctl_arg(args, "label") ? crmctl_arg(args, "label") : "");
    char key[CRM_UUID_LEN + 1];
    crm_uuid_new(key);
    ProtobufCMessage *m = NULL;
    int rc = crmctl_call(ctl, svc, "api.token.create", &rq.base, key, CRMCTL_TIMEOUT_MS,
                         CRMCTL_ATTEMPTS, &crm__v1__token_reply__descriptor, &m, 0, NULL);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const Crm__V1__TokenReply *r = (const void *)m;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        json_t *j = s_json(r->token);
        json_object_set_new(j, "token", json_string(token));
        if (crmctl_json_line(j) < 0)
            rc = CRMCTL_EXIT_FAILED;
    } else {
        printf("%s\n", token);
        fprintf(stderr, "token %s for %s: shown once, keep it secret (Authorization: Bearer)\n",
                r->token->id, r->token->principal);
        fflush(stdout);
    }
    memset(token, 0, sizeof token);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

int crmctl_token_revoke(crmctl_t *ctl, const crmctl_args_t *args)
{
    if (crmctl_n_positional(args) != 1)
        return crmctl_usage_error(ctl, "name the token id to revoke (crmctl token list)");
    crmctl_service_t *svc = crmctl_service_require(ctl, "api");
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    Crm__V1__RevokeTokenRequest rq = CRM__V1__REVOKE_TOKEN_REQUEST__INIT;
    rq.id = (char *)crmctl_positional(args, 0);
    char key[CRM_UUID_LEN + 1];
    crm_uuid_new(key);
    ProtobufCMessage *m = NULL;
    int rc = crmctl_call(ctl, svc, "api.token.revoke", &rq.base, key, CRMCTL_TIMEOUT_MS,
                         CRMCTL_ATTEMPTS, &crm__v1__token_reply__descriptor, &m, 0, NULL);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const Crm__V1__TokenReply *r = (const void *)m;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        if (crmctl_json_line(s_json(r->token)) < 0)
            rc = CRMCTL_EXIT_FAILED;
    } else {
        printf("token %s of %s revoked\n", r->token->id, r->token->principal);
        fflush(stdout);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

int crmctl_token_list(crmctl_t *ctl, const crmctl_args_t *args)
{
    crmctl_service_t *svc = crmctl_service_require(ctl, "api");
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    Crm__V1__ListTokensRequest rq = CRM__V1__LIST_TOKENS_REQUEST__INIT;
    rq.principal = (char *)(crmctl_arg(args, "principal") ? crmctl_arg(args, "principal") : "");
    rq.page_size = 500;
    int rc = CRMCTL_EXIT_OK, first = 1;
    char next[CRM_TOKEN_ID_LEN + 1] = "";
    do {
        rq.page_token = next;
        ProtobufCMessage *m = NULL;
        rc = crmctl_call(ctl, svc, "api.token.list", &rq.base, NULL, CRMCTL_TIMEOUT_MS,
                         CRMCTL_ATTEMPTS, &crm__v1__list_tokens_reply__descriptor, &m, 0, NULL);
        if (rc != CRMCTL_EXIT_OK)
            return rc;
        const Crm__V1__ListTokensReply *r = (const void *)m;
        if (first && crmctl_output(ctl) != CRMCTL_OUT_JSON)
            printf("%-16s  %-16s  %-17s  %-17s  %-17s  %s\n", "ID", "PRINCIPAL", "CREATED",
                   "EXPIRES", "REVOKED", "LABEL");
        first = 0;
        for (size_t i = 0; i < r->n_tokens; i++) {
            if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
                crmctl_json_line(s_json(r->tokens[i]));
            else
                s_print(r->tokens[i]);
        }
        snprintf(next, sizeof next, "%s", r->next_page_token);
        protobuf_c_message_free_unpacked(m, NULL);
    } while (*next);
    fflush(stdout);
    return rc;
}
