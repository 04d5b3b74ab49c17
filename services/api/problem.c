/* problem.c: errors as RFC 9457 application/problem+json. The services'
 * status catalogue (rpc.proto StatusCode) maps to HTTP codes here, once;
 * the Status' message, detail, field and hint become the problem's title,
 * detail and the extension members "field" and "hint", and its code the
 * member "code" (e.g. "not_found"). Each refusal is counted by reason for
 * /metrics, so bad input shows in the numbers as well as in the answer. */
#include "api.h"

#include <crm/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_reasons[API_P_COUNT] = {
    [API_P_MALFORMED_JSON] = "malformed_json",
    [API_P_UNKNOWN_FIELD] = "unknown_field",
    [API_P_INVALID_INPUT] = "invalid_input",
    [API_P_TOO_LARGE] = "too_large",
    [API_P_UNAUTHENTICATED] = "unauthenticated",
    [API_P_TOKEN_REVOKED] = "token_revoked",
    [API_P_TOKEN_EXPIRED] = "token_expired",
    [API_P_FORBIDDEN] = "forbidden",
    [API_P_NOT_FOUND] = "not_found",
    [API_P_METHOD] = "method_not_allowed",
    [API_P_PRECONDITION] = "precondition_failed",
    [API_P_RATE_LIMITED] = "rate_limited",
    [API_P_UNAVAILABLE] = "unavailable",
    [API_P_TIMEOUT] = "timeout",
    [API_P_SERVICE] = "service",
};

int api_http_status(int code)
{
    switch (code) {
    case CRM__V1__STATUS_CODE__STATUS_CODE_OK:
        return 200;
    case CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT:
        return 422;
    case CRM__V1__STATUS_CODE__STATUS_CODE_NOT_FOUND:
        return 404;
    case CRM__V1__STATUS_CODE__STATUS_CODE_ALREADY_EXISTS:
    case CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION:
    case CRM__V1__STATUS_CODE__STATUS_CODE_IDEMPOTENCY_CONFLICT:
        return 409;
    case CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE:
        return 503;
    case CRM__V1__STATUS_CODE__STATUS_CODE_UNKNOWN_COMMAND:
        return 501;
    case CRM__V1__STATUS_CODE__STATUS_CODE_MALFORMED:
        return 400;
    case CRM__V1__STATUS_CODE__STATUS_CODE_TOO_LARGE:
        return 413;
    case CRM__V1__STATUS_CODE__STATUS_CODE_DEADLINE_EXCEEDED:
        return 504;
    case CRM__V1__STATUS_CODE__STATUS_CODE_PERMISSION_DENIED:
        return 403;
    case CRM__V1__STATUS_CODE__STATUS_CODE_UNAUTHENTICATED:
        return 401;
    default:
        return 500;
    }
}

static void s_send(api_t *api, crm_http_req_t **req, int status, const char *code,
                   const char *title, const char *field, const char *detail, const char *hint,
                   const char *headers)
{
    json_t *o = json_object();
    char type[96];
    snprintf(type, sizeof type, "urn:crm:problem:%s", code);
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "title", json_string(title && *title ? title : "error"));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "code", json_string(code));
    if (detail && *detail)
        json_object_set_new(o, "detail", json_string(detail));
    if (field && *field)
        json_object_set_new(o, "field", json_string(field));
    if (hint && *hint)
        json_object_set_new(o, "hint", json_string(hint));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    (void)api;
    crm_http_req_respond(req, status, "application/problem+json", headers, text ? text : "{}",
                         text ? strlen(text) : 2);
    free(text);
}

void api_problem(api_t *api, crm_http_req_t **req, api_problem_t reason, int status,
                 const char *title, const char *field, const char *detail, const char *hint,
                 const char *headers)
{
    api->m.problems[reason]++;
    s_send(api, req, status, s_reasons[reason], title, field, detail, hint, headers);
}

void api_problem_status(api_t *api, crm_http_req_t **req, const Crm__V1__Status *st)
{
    int code = st ? st->code : CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL;
    api->m.problems[API_P_SERVICE]++;
    if (code >= 0 && code < 16)
        api->m.service_problems[code]++;
    s_send(api, req, api_http_status(code), crm_status_name(code), st ? st->message : "internal",
           st ? st->field : NULL, st ? st->detail : NULL, st ? st->hint : NULL, NULL);
}

void api_problem_metrics(api_t *api, crm_http_response_t *res)
{
    crm_http_stats_t st;
    crm_http_stats(api->http, &st);
    crm_http_response_printf(res,
                             "# HELP crm_api_requests_total HTTP API requests answered.\n"
                             "# TYPE crm_api_requests_total counter\n"
                             "crm_api_requests_total %llu\n",
                             (unsigned long long)api->m.requests);
    crm_http_response_printf(res, "# HELP crm_api_problems_total HTTP API requests refused, by "
                                  "reason (problem+json answers).\n"
                                  "# TYPE crm_api_problems_total counter\n");
    for (int i = 0; i < API_P_COUNT; i++)
        if (i != API_P_SERVICE)
            crm_http_response_printf(res, "crm_api_problems_total{reason=\"%s\"} %llu\n",
                                     s_reasons[i], (unsigned long long)api->m.problems[i]);
    /* Refusals made by the HTTP layer itself, before a route was chosen. */
    crm_http_response_printf(res, "crm_api_problems_total{reason=\"body_too_large\"} %llu\n",
                             (unsigned long long)st.too_large);
    crm_http_response_printf(res, "crm_api_problems_total{reason=\"bad_http\"} %llu\n",
                             (unsigned long long)st.bad_requests);
    crm_http_response_printf(res, "crm_api_problems_total{reason=\"slow_client\"} %llu\n",
                             (unsigned long long)st.head_timeouts);
    crm_http_response_printf(res, "# HELP crm_api_service_problems_total Service refusals "
                                  "passed on, by status.\n"
                                  "# TYPE crm_api_service_problems_total counter\n");
    for (int i = 1; i < 14; i++)
        crm_http_response_printf(res, "crm_api_service_problems_total{status=\"%s\"} %llu\n",
                                 crm_status_name(i),
                                 (unsigned long long)api->m.service_problems[i]);
    crm_http_response_printf(res,
                             "# HELP crm_api_upstream_timeouts_total Commands without a "
                             "reply in API_COMMAND_TIMEOUT_MS.\n"
                             "# TYPE crm_api_upstream_timeouts_total counter\n"
                             "crm_api_upstream_timeouts_total %llu\n",
                             (unsigned long long)api->m.upstream_timeouts);
    crm_http_response_printf(res,
                             "# HELP crm_api_connections HTTP API connections open.\n"
                             "# TYPE crm_api_connections gauge\ncrm_api_connections %zu\n",
                             st.open);
    crm_http_response_printf(res,
                             "# HELP crm_api_sse_events_total Events sent to SSE clients.\n"
                             "# TYPE crm_api_sse_events_total counter\n"
                             "crm_api_sse_events_total %llu\n",
                             (unsigned long long)api->m.sse_events);
}
