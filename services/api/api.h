/* api.h: the context of crm-api, the HTTP/JSON gateway (issue 16), shared by
 * its parts: main.c (wiring), commands.c and token.c (its own commands:
 * API tokens), auth.c (bearer tokens and sessions, cached), upstream.c
 * (commands to the services it fronts, over CURVE as a gateway
 * principal), routes.c (the route table), gateway.c (HTTP to commands and
 * back), problem.c (RFC 9457 errors), track.c (tracking links), events.c
 * (Server-Sent Events), openapi.c (the document generated from the
 * route table and the descriptors) and web.c (the dashboard's static
 * files). */
#ifndef API_H
#define API_H

#include <crm/http.h>
#include <crm/service.h>
#include <crm/token.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "crm/v1/api.pb-c.h"

typedef struct api api_t;
typedef struct api_upstream api_upstream_t;
typedef struct api_cred api_cred_t;

/* ---- problems (problem.c) ---------------------------------------------- */

/* Why a request was refused, one counter each in /metrics
 * (crm_api_problems_total{reason}). */
typedef enum {
    API_P_MALFORMED_JSON,
    API_P_UNKNOWN_FIELD,
    API_P_INVALID_INPUT, /* a wrong type or value, caught by the gateway */
    API_P_TOO_LARGE,
    API_P_UNAUTHENTICATED,
    API_P_TOKEN_REVOKED,
    API_P_TOKEN_EXPIRED,
    API_P_FORBIDDEN,
    API_P_NOT_FOUND,
    API_P_METHOD,
    API_P_PRECONDITION, /* If-Match did not match */
    API_P_RATE_LIMITED,
    API_P_UNAVAILABLE,
    API_P_TIMEOUT,
    API_P_SERVICE, /* the service refused: counted by its status below */
    API_P_COUNT
} api_problem_t;

/* Answers `req` with application/problem+json and counts `reason`.
 * `headers` (may be NULL) are extra header lines. */
void api_problem(api_t *api, crm_http_req_t **req, api_problem_t reason, int status,
                 const char *title, const char *field, const char *detail, const char *hint,
                 const char *headers);
/* Answers with the service's Status (the catalogue mapped to HTTP). */
void api_problem_status(api_t *api, crm_http_req_t **req, const Crm__V1__Status *st);
/* The HTTP status of a catalogue code. */
int api_http_status(int code);
void api_problem_metrics(api_t *api, crm_http_response_t *res);

/* ---- upstream services (upstream.c) ------------------------------------ */

/* The outcome of a command: rc 0 and the reply (borrowed for the call), or
 * rc -ETIMEDOUT / -ENOENT (no such service) / -EIO with rep NULL. */
typedef void (*api_reply_fn)(api_t *api, int rc, const Crm__V1__CommandReply *rep, void *arg);

/* Sends `command` to `service` with `body`, acting for `actor` (the
 * caller's staff principal; "" = the gateway itself); fn is called exactly
 * once, later, on the loop. Returns 0 or a negative error (fn is then not
 * called). */
int api_call(api_t *api, const char *service, const char *command, const uint8_t *body, size_t len,
             const char *idempotency_key, const char *actor, api_reply_fn fn, void *arg);
/* Forgets the callback of every call made with `arg` (its requester went
 * away); their replies are dropped. */
void api_call_cancel(api_t *api, void *arg);
int api_upstreams_start(api_t *api);
void api_upstreams_stop(api_t *api);
/* The names of the services fronted, in CRM_PEERS order. */
size_t api_upstream_count(const api_t *api);
const char *api_upstream_name(const api_t *api, size_t i);

/* ---- credentials (auth.c) ---------------------------------------------- */

typedef enum {
    API_AUTH_OK,
    API_AUTH_MISSING,
    API_AUTH_UNKNOWN,
    API_AUTH_REVOKED,
    API_AUTH_EXPIRED,
    API_AUTH_NOT_STAFF,
    API_AUTH_ERROR
} api_auth_result_t;

/* The caller of a request, once authenticated; `cred` is owned by the
 * cache and lives until the next lookup of the same credential. */
typedef void (*api_auth_fn)(api_t *api, api_auth_result_t r, api_cred_t *cred, void *arg);

/* Authenticates the request's bearer token or session cookie; fn is
 * called exactly once, maybe before this returns. */
void api_auth_request(api_t *api, crm_http_req_t *req, api_auth_fn fn, void *arg);
const char *api_cred_principal(const api_cred_t *cred);
/* Takes one request from the credential's token bucket: 0, or the seconds
 * until one is free. */
int api_cred_take(api_t *api, api_cred_t *cred);
/* Forgets a cached token (it was revoked). */
void api_auth_forget(api_t *api, const char *token_id);
int api_auth_start(api_t *api);
void api_auth_stop(api_t *api);
/* POST /v1/sessions and DELETE /v1/sessions/current. */
void api_session_create(api_t *api, crm_http_req_t **req, api_cred_t *cred);
void api_session_delete(api_t *api, crm_http_req_t **req, api_cred_t *cred);
/* A new session for a principal whose password was checked (login.c). */
void api_session_create_for(api_t *api, crm_http_req_t **req, const char *principal);
int api_cred_is_session(const api_cred_t *cred);
int64_t api_cred_expires_us(const api_cred_t *cred); /* 0 = never */
/* login.c: POST /v1/sessions with {principal, password}, no credential. */
void api_session_login(api_t *api, crm_http_req_t **req);

/* ---- routes (routes.c) ------------------------------------------------- */

#define API_R_CREATE 1u /* answers 201 */
#define API_R_LIST 2u   /* query parameters are request fields; paged */
#define API_R_READ 4u   /* answers with an ETag */
#define API_R_MATCH 8u  /* honours If-Match against `read` */
#define API_R_MASK 16u  /* update_mask = the keys of the body */
#define API_R_QUERY 32u /* GET with query parameters as request fields */

typedef struct {
    const char *method;
    const char *path; /* "/v1/people/{id}": each {name} sets that request field */
    const char *service;
    const char *command;
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    /* NULL: the JSON body is the request message; else the body is this
     * field of the request (a Person for "person"). */
    const char *body_field;
    unsigned flags;
    /* API_R_MATCH: the read command (same path params) whose ETag If-Match
     * names. */
    const char *read;
    const char *tag; /* OpenAPI tag */
    const char *summary;
} api_route_t;

extern const api_route_t api_routes[]; /* ends with method NULL */

/* The route for method and path, with up to 4 path parameters as
 * (name, value) pairs in params (values point into `scratch`). Returns
 * NULL and *path_known = 1 when the path exists with other methods. */
const api_route_t *api_route_find(const char *method, const char *path, char *scratch,
                                  size_t scratch_len, const char *params[8], size_t *nparams,
                                  int *path_known);

/* ---- the gateway (gateway.c, track.c, events.c, openapi.c) ------------- */

void api_gateway_request(crm_http_req_t *req, void *arg);
/* /t/o|c|u/{token}: 1 when handled. */
int api_track_request(api_t *api, crm_http_req_t **req);
void api_events_request(api_t *api, crm_http_req_t **req, api_cred_t *cred);
void api_events_stop(api_t *api);
/* web.c: reads the dashboard's files from `dir` ("" = none) into memory,
 * before the loop runs; a missing directory only logs a warning. */
int api_web_start(api_t *api, const char *dir);
void api_web_stop(api_t *api);
/* GET / and /ui/...: 1 when handled. */
int api_web_request(api_t *api, crm_http_req_t **req);
/* The OpenAPI 3.1 document, a new reference. */
json_t *api_openapi(api_t *api);
/* The JSON Schema of a message, for OpenAPI (openapi.c). */

/* ---- the context --------------------------------------------------------- */

typedef struct {
    uint64_t requests;
    uint64_t responses[6]; /* by class: 1xx..5xx, [0] other */
    uint64_t problems[API_P_COUNT];
    uint64_t service_problems[16]; /* by StatusCode */
    uint64_t rate_limited;
    uint64_t upstream_timeouts;
    uint64_t sse_clients;
    uint64_t sse_events;
} api_metrics_t;

struct api {
    crm_service_t *svc;
    uv_loop_t *loop;
    crm_http_t *http;
    api_metrics_t m;
    /* settings */
    size_t max_body;
    int64_t command_timeout_ms;
    double rate_per_s;
    double rate_burst;
    int64_t session_ttl_us;
    int secure_cookie;
    /* upstream.c */
    api_upstream_t *ups;
    size_t n_ups;
    uint64_t next_request_id;
    uv_timer_t sweep;
    int sweep_started;
    /* auth.c */
    struct api_cache *cache;
    /* events.c */
    struct api_sse *sse;
    uv_timer_t sse_timer;
    int sse_timer_started;
    json_t *openapi; /* made on first request */
    /* web.c */
    struct api_web *web;
};

extern const crm_command_def_t api_commands[];

/* token.c: the handlers of api_commands. */
void api_token_create(crm_work_t *w);
void api_token_revoke(crm_work_t *w);
void api_token_list(crm_work_t *w);
/* login.c */
void api_staff_password_set(crm_work_t *w);

/* The context, for handlers. */
api_t *api_of(crm_work_t *w);

#endif
