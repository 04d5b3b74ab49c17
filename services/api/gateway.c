/* gateway.c: one HTTP request to one command and back. The steps are the
 * same for every route of the table (routes.c): authenticate the caller
 * (auth.c), take a request from their token bucket, read the JSON body and
 * the query in the protobuf JSON mapping with the proto field names
 * (unknown fields and wrong types refused here, before anything reaches a
 * service), send the command (with If-Match as its precondition, checked
 * by the service in the command's transaction)
 * as the caller (upstream.c) with the Idempotency-Key as its idempotency
 * key, and render the reply as JSON, or its Status as problem+json
 * (problem.c). A request refused here never reaches a service, so bad
 * input changes nothing. */
#include "api.h"

#include <crm/input.h>
#include <crm/log.h>
#include <crm/pbjson.h>
#include <crm/util.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_IDEM_MAX 100

typedef struct {
    api_t *api;
    crm_http_req_t *req;
    const api_route_t *route;
    char principal[128];
    char idem[S_IDEM_MAX + 160];
    int has_idem;
    char etag_want[80];
    uint8_t *body; /* the packed request */
    size_t len;
    char scratch[1024];
    const char *params[8];
    size_t nparams;
} s_ctx_t;

static void s_ctx_free(s_ctx_t *c)
{
    if (c->req)
        crm_http_req_respond(&c->req, 500, "text/plain", NULL, "", 0);
    free(c->body);
    free(c);
}

/* ---- JSON in ----------------------------------------------------------- */

static int s_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decoding of a query component in place ('+' is a space). */
static int s_unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') {
            *o++ = ' ';
        } else if (*p == '%') {
            int h = s_hexval(p[1]), l = h >= 0 ? s_hexval(p[2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            *o++ = (char)(h * 16 + l);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (size_t)(o - s) == strlen(s) ? 0 : -1; /* no NUL smuggled in */
}

/* A query or path value as the JSON value its field takes, or NULL when it
 * does not fit (a wrong type). */
static json_t *s_scalar(const ProtobufCFieldDescriptor *f, const char *v)
{
    char *end;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_ENUM:
        return json_string(v);
    case PROTOBUF_C_TYPE_BOOL:
        return !strcmp(v, "true") ? json_true() : !strcmp(v, "false") ? json_false() : NULL;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || errno)
            return NULL;
        return json_integer(n);
    }
    default:
        return NULL;
    }
}

static int s_bad_field(s_ctx_t *c, const char *err)
{
    /* crm/input.h says `unknown field "a.b"` or `field "a.b": problem`. */
    char field[128] = "";
    const char *q = strchr(err, '"');
    if (q) {
        size_t n = strcspn(q + 1, "\"");
        if (n >= sizeof field)
            n = sizeof field - 1;
        memcpy(field, q + 1, n);
        field[n] = '\0';
    }
    const char *f = field;
    size_t bl = c->route->body_field ? strlen(c->route->body_field) : 0;
    if (bl && !strncmp(f, c->route->body_field, bl) && f[bl] == '.')
        f += bl + 1;
    if (!strncmp(err, "unknown field", 13)) {
        api_problem(c->api, &c->req, API_P_UNKNOWN_FIELD, 400, "unknown field", f, err,
                    "send only the fields of the request message (GET /v1/openapi.json)", NULL);
        return -1;
    }
    const char *detail = strstr(err, "\": ");
    api_problem(c->api, &c->req, API_P_INVALID_INPUT, 400, "invalid field value", f,
                detail ? detail + 3 : err,
                "send values in the protobuf JSON mapping (64-bit integers as strings or "
                "numbers, enums by name)",
                NULL);
    return -1;
}

/* Adds the query parameters to obj, typed by the request's fields. */
static int s_query(s_ctx_t *c, json_t *obj)
{
    const char *q = crm_http_req_query(c->req);
    char *copy = strdup(q ? q : "");
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *kv = strtok_r(copy, "&", &save); kv && rc == 0; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        char *v = eq ? eq + 1 : (char *)"";
        if (eq)
            *eq = '\0';
        if (s_unescape(kv) < 0 || s_unescape(v) < 0) {
            api_problem(c->api, &c->req, API_P_INVALID_INPUT, 400, "malformed query", kv,
                        "a query parameter is not percent-encoded text", NULL, NULL);
            rc = -1;
            break;
        }
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(c->route->request, kv);
        if (!f || f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_BYTES ||
            !(c->route->flags & API_R_QUERY)) {
            api_problem(c->api, &c->req, API_P_UNKNOWN_FIELD, 400, "unknown query parameter", kv,
                        NULL, "the query parameters are the scalar fields of the request message",
                        NULL);
            rc = -1;
            break;
        }
        json_t *val = s_scalar(f, v);
        if (!val) {
            char detail[160];
            snprintf(detail, sizeof detail, "\"%.60s\" is not a valid %s", v,
                     f->type == PROTOBUF_C_TYPE_BOOL ? "bool (true or false)" : "integer");
            api_problem(c->api, &c->req, API_P_INVALID_INPUT, 400, "invalid query parameter", kv,
                        detail, NULL, NULL);
            rc = -1;
            break;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            json_t *arr = json_object_get(obj, kv);
            if (!arr) {
                arr = json_array();
                json_object_set_new(obj, kv, arr);
            }
            json_array_append_new(arr, val);
        } else {
            json_object_set_new(obj, kv, val);
        }
    }
    free(copy);
    return rc;
}

/* The request message as JSON: body, path parameters and query. */
static json_t *s_request_json(s_ctx_t *c)
{
    size_t blen = 0;
    const char *body = crm_http_req_body(c->req, &blen);
    json_t *obj = NULL;
    json_t *in = NULL;
    if (blen > 0) {
        json_error_t je;
        in = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &je);
        if (!in) {
            char detail[200];
            snprintf(detail, sizeof detail, "line %d, column %d: %s", je.line, je.column, je.text);
            api_problem(c->api, &c->req, API_P_MALFORMED_JSON, 400, "malformed JSON", NULL, detail,
                        "send one JSON object as the body", NULL);
            return NULL;
        }
        if (!json_is_object(in)) {
            json_decref(in);
            api_problem(c->api, &c->req, API_P_INVALID_INPUT, 400, "body is not a JSON object",
                        NULL, NULL, "send one JSON object as the body", NULL);
            return NULL;
        }
    }
    if (c->route->body_field) {
        obj = json_object();
        json_object_set_new(obj, c->route->body_field, in ? in : json_object());
        if (c->route->flags & API_R_MASK) {
            /* PATCH: the fields given are the fields changed. */
            json_t *mask = json_array();
            const char *k;
            json_t *v;
            json_object_foreach(in, k, v) json_array_append_new(mask, json_string(k));
            json_object_set_new(obj, "update_mask", mask);
        }
    } else {
        obj = in ? in : json_object();
    }
    for (size_t i = 0; i < c->nparams; i++) {
        char *v = (char *)c->params[2 * i + 1];
        if (s_unescape(v) < 0) {
            json_decref(obj);
            api_problem(c->api, &c->req, API_P_NOT_FOUND, 404, "no such resource", NULL, NULL, NULL,
                        NULL);
            return NULL;
        }
        /* A parameter the request does not have is a field of the body's
         * message (PUT /v1/preferences/{customer_id}). */
        json_t *into = obj;
        if (c->route->body_field &&
            !protobuf_c_message_descriptor_get_field_by_name(c->route->request, c->params[2 * i]))
            into = json_object_get(obj, c->route->body_field);
        json_object_set_new(into, c->params[2 * i], json_string(v));
    }
    if (*crm_http_req_query(c->req) && s_query(c, obj) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Packs the request message of `d` from obj into c->body. */
static int s_pack(s_ctx_t *c, const ProtobufCMessageDescriptor *d, const json_t *obj)
{
    char err[256] = "";
    ProtobufCMessage *m = crm_input_message(d, obj, 0, NULL, err, sizeof err);
    if (!m)
        return s_bad_field(c, err);
    free(c->body);
    c->len = protobuf_c_message_get_packed_size(m);
    c->body = malloc(c->len ? c->len : 1);
    if (c->body)
        protobuf_c_message_pack(m, c->body);
    protobuf_c_message_free_unpacked(m, NULL);
    if (!c->body) {
        api_problem(c->api, &c->req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL,
                    NULL);
        return -1;
    }
    return 0;
}

/* ---- replies ------------------------------------------------------------ */

static int s_upstream_failed(s_ctx_t *c, int rc, const Crm__V1__CommandReply *rep)
{
    if (rc == -ETIMEDOUT) {
        api_problem(c->api, &c->req, API_P_TIMEOUT, 504, "the service did not answer in time", NULL,
                    c->route->service,
                    c->has_idem ? "retry with the same Idempotency-Key"
                                : "retry; send an Idempotency-Key to make retries safe",
                    NULL);
        return 1;
    }
    if (rc < 0) {
        api_problem(c->api, &c->req, API_P_UNAVAILABLE, 503, "service unavailable", NULL,
                    c->route->service, "retry later", "Retry-After: 1\r\n");
        return 1;
    }
    if (rep->status && rep->status->code == CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION &&
        !strcmp(rep->status->field, "precondition.etag")) {
        /* If-Match, checked by the service in the command's transaction. */
        char hdr[64] = "";
        if (*rep->etag && strlen(rep->etag) < 40)
            snprintf(hdr, sizeof hdr, "ETag: %s\r\n", rep->etag);
        api_problem(c->api, &c->req, API_P_PRECONDITION, 412, "the record has changed", NULL,
                    "If-Match does not name the record's current ETag",
                    "read the record again (GET) and retry with its ETag", hdr);
        return 1;
    }
    if (rep->status && rep->status->code != CRM__V1__STATUS_CODE__STATUS_CODE_OK) {
        api_problem_status(c->api, &c->req, rep->status);
        return 1;
    }
    return 0;
}

static void s_on_reply(api_t *api, int rc, const Crm__V1__CommandReply *rep, void *arg)
{
    s_ctx_t *c = arg;
    if (s_upstream_failed(c, rc, rep)) {
        s_ctx_free(c);
        return;
    }
    const api_route_t *r = c->route;
    ProtobufCMessage *m = protobuf_c_message_unpack(r->reply, NULL, rep->body.len, rep->body.data);
    char *text = NULL;
    if (m && r->reply == &crm__v1__analytics_report_reply__descriptor) {
        /* Reports are JSON documents already (docs/analytics.md). */
        json_t *j = crm_pbjson_from_message(m);
        json_t *doc =
            j ? json_loads(json_string_value(json_object_get(j, "json")) ?: "{}", 0, NULL) : NULL;
        json_decref(j);
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
    } else if (m) {
        /* The reply's JSON written in one pass, the bytes json_dumps
         * would give of crm_pbjson_from_message's tree (crm/pbjson.h). */
        crm_pbjson_buf_t b = CRM_PBJSON_BUF_INIT;
        if (crm_pbjson_write(&b, m) == 0)
            text = b.text;
        else
            crm_pbjson_buf_free(&b);
    }
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    if (!text) {
        api_problem(api, &c->req, API_P_UNAVAILABLE, 502, "unreadable reply", NULL, r->reply->name,
                    NULL, NULL);
        s_ctx_free(c);
        return;
    }
    char headers[256] = "";
    if (r->flags & API_R_READ) {
        char etag[CRM_ETAG_LEN];
        crm_etag(rep->body.data, rep->body.len, etag);
        snprintf(headers, sizeof headers, "ETag: %s\r\n", etag);
    }
    crm_http_req_respond(&c->req, (r->flags & API_R_CREATE) ? 201 : 200, "application/json",
                         headers, text, strlen(text));
    free(text);
    s_ctx_free(c);
}

/* Sends the command; with If-Match, the read whose ETag it names goes
 * with it as its precondition, and the service checks both in one
 * transaction: of two updates naming the same ETag, one wins and the
 * other gets 412. */
static void s_send(s_ctx_t *c, const Crm__V1__Precondition *pre)
{
    const api_route_t *r = c->route;
    int rc = api_call_if(c->api, r->service, r->command, c->body, c->len,
                         strcmp(crm_http_req_method(c->req), "GET") ? c->idem : NULL, c->principal,
                         pre, s_on_reply, c);
    if (rc < 0) {
        s_upstream_failed(c, rc, NULL);
        s_ctx_free(c);
    }
}

static void s_send_if_match(s_ctx_t *c)
{
    /* The read command takes the same path parameters (id). */
    json_t *obj = json_object();
    for (size_t i = 0; i < c->nparams; i++)
        json_object_set_new(obj, c->params[2 * i], json_string(c->params[2 * i + 1]));
    const ProtobufCMessageDescriptor *d = NULL;
    for (const api_route_t *r = api_routes; r->method; r++)
        if (r->command && !strcmp(r->command, c->route->read))
            d = r->request;
    uint8_t *saved = c->body;
    size_t saved_len = c->len;
    c->body = NULL;
    int rc = d ? s_pack(c, d, obj) : -1;
    json_decref(obj);
    if (rc < 0) {
        free(saved);
        s_ctx_free(c);
        return;
    }
    Crm__V1__Precondition pre = CRM__V1__PRECONDITION__INIT;
    pre.read = (char *)c->route->read;
    pre.read_body.data = c->body;
    pre.read_body.len = c->len;
    pre.etag = c->etag_want;
    c->body = saved;
    c->len = saved_len;
    uint8_t *read_body = pre.read_body.data;
    s_send(c, &pre);
    free(read_body);
}

/* ---- the request ------------------------------------------------------------ */

static int s_idempotency(s_ctx_t *c)
{
    const char *key = crm_http_req_header(c->req, "Idempotency-Key");
    char fresh[CRM_UUID_LEN + 1];
    if (key) {
        size_t n = strlen(key);
        int ok = n > 0 && n <= S_IDEM_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = key[i] > 0x20 && key[i] < 0x7f;
        if (!ok) {
            api_problem(c->api, &c->req, API_P_INVALID_INPUT, 400, "invalid Idempotency-Key",
                        "Idempotency-Key", "at most 100 printable ASCII characters",
                        "send a UUID per request, and the same one when retrying it", NULL);
            return -1;
        }
        c->has_idem = 1;
    } else {
        crm_uuid_new(fresh);
        key = fresh;
    }
    /* Keys are the caller's own: two callers choosing the same key must
     * not see each other's answers. */
    snprintf(c->idem, sizeof c->idem, "api:%s:%s", c->principal, key);
    return 0;
}

/* GET /v1/sessions/current: the principal and what the directory says of
 * them (the dashboard shows the pages their roles allow). */
static void s_current(api_t *api, s_ctx_t *c, api_cred_t *cred)
{
    const crm_directory_t *dir = crm_service_directory(api->svc);
    const crm_principal_t *p = dir ? crm_directory_by_name(dir, c->principal) : NULL;
    json_t *roles = json_array(), *teams = json_array();
    for (size_t i = 0; p && p->roles && p->roles[i]; i++)
        json_array_append_new(roles, json_string(p->roles[i]));
    for (size_t i = 0; p && p->teams && p->teams[i]; i++)
        json_array_append_new(teams, json_string(p->teams[i]));
    json_t *j =
        json_pack("{s:s, s:o, s:o}", "principal", c->principal, "roles", roles, "teams", teams);
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", (long long)api_cred_expires_us(cred));
    json_object_set_new(j, "expires_at_us", json_string(exp));
    json_object_set_new(j, "session", json_boolean(api_cred_is_session(cred)));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) {
        api_problem(api, &c->req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL, NULL);
        return;
    }
    crm_http_req_respond(&c->req, 200, "application/json", "Cache-Control: no-store\r\n", text,
                         strlen(text));
    free(text);
}

static void s_authed(api_t *api, api_auth_result_t verdict, api_cred_t *cred, void *arg)
{
    s_ctx_t *c = arg;
    /* A session cookie (no Authorization header): its refusals say so. */
    int session = crm_http_req_header(c->req, "Authorization") == NULL;
    switch (verdict) {
    case API_AUTH_OK:
        break;
    case API_AUTH_MISSING:
        api_problem(api, &c->req, API_P_UNAUTHENTICATED, 401, "authentication required", NULL,
                    "the request has neither an Authorization header nor a session cookie",
                    "send Authorization: Bearer <token> (crmctl token create)",
                    "WWW-Authenticate: Bearer realm=\"crm\"\r\n");
        s_ctx_free(c);
        return;
    case API_AUTH_REVOKED:
        api_problem(api, &c->req, API_P_TOKEN_REVOKED, 401,
                    session ? "session ended" : "token revoked", NULL, NULL,
                    session ? "log in again" : "ask an operator for a new token",
                    "WWW-Authenticate: Bearer realm=\"crm\", error=\"invalid_token\"\r\n");
        s_ctx_free(c);
        return;
    case API_AUTH_EXPIRED:
        api_problem(api, &c->req, API_P_TOKEN_EXPIRED, 401,
                    session ? "session expired" : "token expired", NULL, NULL,
                    session ? "log in again" : "ask an operator for a new token",
                    "WWW-Authenticate: Bearer realm=\"crm\", error=\"invalid_token\"\r\n");
        s_ctx_free(c);
        return;
    case API_AUTH_ERROR:
        api_problem(api, &c->req, API_P_UNAVAILABLE, 503, "credentials could not be checked", NULL,
                    NULL, "retry later", "Retry-After: 1\r\n");
        s_ctx_free(c);
        return;
    default:
        /* Unknown, malformed, or no longer staff: one answer, so that a
         * guesser learns nothing. */
        api_problem(api, &c->req, API_P_UNAUTHENTICATED, 401, "invalid credentials", NULL, NULL,
                    "send a token made with crmctl token create",
                    "WWW-Authenticate: Bearer realm=\"crm\", error=\"invalid_token\"\r\n");
        s_ctx_free(c);
        return;
    }
    int wait = api_cred_take(api, cred);
    if (wait > 0) {
        char hdr[48], detail[96];
        snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", wait);
        snprintf(detail, sizeof detail, "at most %.0f requests per second, %.0f at once",
                 api->rate_per_s, api->rate_burst);
        api->m.rate_limited++;
        api_problem(api, &c->req, API_P_RATE_LIMITED, 429, "too many requests", NULL, detail,
                    "wait for Retry-After seconds", hdr);
        s_ctx_free(c);
        return;
    }
    snprintf(c->principal, sizeof c->principal, "%s", api_cred_principal(cred));
    const api_route_t *r = c->route;
    if (!strcmp(r->command, "gateway.session.create")) {
        api_session_create(api, &c->req, cred);
        s_ctx_free(c);
        return;
    }
    if (!strcmp(r->command, "gateway.session.current")) {
        s_current(api, c, cred);
        s_ctx_free(c);
        return;
    }
    if (!strcmp(r->command, "gateway.session.delete")) {
        api_session_delete(api, &c->req, cred);
        s_ctx_free(c);
        return;
    }
    if (!strcmp(r->command, "gateway.events")) {
        api_events_request(api, &c->req, cred);
        s_ctx_free(c);
        return;
    }
    if (strcmp(r->method, "GET") != 0 && s_idempotency(c) < 0) {
        s_ctx_free(c);
        return;
    }
    json_t *obj = s_request_json(c);
    if (!obj) {
        s_ctx_free(c);
        return;
    }
    int rc = s_pack(c, r->request, obj);
    json_decref(obj);
    if (rc < 0) {
        s_ctx_free(c);
        return;
    }
    const char *match = crm_http_req_header(c->req, "If-Match");
    if (match && (r->flags & API_R_MATCH)) {
        snprintf(c->etag_want, sizeof c->etag_want, "%s", match + strspn(match, " "));
        s_send_if_match(c);
        return;
    }
    s_send(c, NULL);
}

static const api_route_t s_events_route = {"GET",
                                           "/v1/events",
                                           "",
                                           "gateway.events",
                                           NULL,
                                           NULL,
                                           NULL,
                                           0,
                                           NULL,
                                           "events",
                                           "the event feed as Server-Sent Events"};

void api_gateway_request(crm_http_req_t *req, void *arg)
{
    api_t *api = arg;
    const char *method = crm_http_req_method(req);
    const char *path = crm_http_req_path(req);
    api->m.requests++;
    if (!strcmp(path, "/v1/openapi.json") && !strcmp(method, "GET")) {
        if (!api->openapi)
            api->openapi = api_openapi(api);
        char *text = api->openapi ? json_dumps(api->openapi, JSON_COMPACT) : NULL;
        if (!text) {
            api_problem(api, &req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL, NULL);
            return;
        }
        crm_http_req_respond(&req, 200, "application/json", NULL, text, strlen(text));
        free(text);
        return;
    }
    if (!strncmp(path, "/t/", 3) && api_track_request(api, &req))
        return;
    if ((!strcmp(path, "/") || !strncmp(path, "/ui", 3)) && api_web_request(api, &req))
        return;
    s_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        api_problem(api, &req, API_P_UNAVAILABLE, 503, "out of memory", NULL, NULL, NULL, NULL);
        return;
    }
    c->api = api;
    c->req = req;
    int known = 0;
    if (!strcmp(path, "/v1/events") && !strcmp(method, "GET"))
        c->route = &s_events_route;
    else
        c->route = api_route_find(method, path, c->scratch, sizeof c->scratch, c->params,
                                  &c->nparams, &known);
    if (!c->route) {
        if (known)
            api_problem(api, &c->req, API_P_METHOD, 405, "method not allowed", NULL, method,
                        "GET /v1/openapi.json lists the methods of each path", NULL);
        else
            api_problem(api, &c->req, API_P_NOT_FOUND, 404, "no such resource", NULL, NULL,
                        "GET /v1/openapi.json lists the resources", NULL);
        s_ctx_free(c);
        return;
    }
    if (!strcmp(c->route->command, "gateway.session.create") &&
        !crm_http_req_header(req, "Authorization")) {
        /* A login with staff credentials: no session or token yet. */
        api_session_login(api, &c->req);
        s_ctx_free(c);
        return;
    }
    api_auth_request(api, req, s_authed, c);
}
