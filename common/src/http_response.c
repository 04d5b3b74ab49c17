/* http_response.c: the responses of the operator HTTP endpoint (http.c),
 * built by the handler, and the endpoint's own metrics. Apart from the
 * connections so that each file stays one room. */
#include <crm/http.h>

#include "http_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *crm__http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

void crm_http_response_status(crm_http_response_t *res, int status)
{
    if (res)
        res->status = status;
}

void crm_http_response_content_type(crm_http_response_t *res, const char *type)
{
    if (res)
        res->content_type = type ? type : S_DEFAULT_TYPE;
}

static int s_response_reserve(crm_http_response_t *res, size_t extra)
{
    size_t want;
    size_t cap;
    char *p;

    if (extra > SIZE_MAX - res->len - 1)
        goto oom;
    want = res->len + extra + 1;
    if (want <= res->cap)
        return 0;
    cap = res->cap ? res->cap : 256;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    p = realloc(res->body, cap);
    if (!p)
        goto oom;
    res->body = p;
    res->cap = cap;
    return 0;
oom:
    res->oom = 1;
    return -ENOMEM;
}

int crm_http_response_append(crm_http_response_t *res, const char *data, size_t len)
{
    if (!res || (!data && len))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (s_response_reserve(res, len) < 0)
        return -ENOMEM;
    memcpy(res->body + res->len, data, len);
    res->len += len;
    res->body[res->len] = '\0';
    return 0;
}

int crm_http_response_printf(crm_http_response_t *res, const char *fmt, ...)
{
    va_list ap;
    va_list ap2;
    int n;

    if (!res || !fmt)
        return -EINVAL;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(res->body ? res->body + res->len : NULL, res->body ? res->cap - res->len : 0, fmt,
                  ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return -EINVAL;
    }
    if (res->body && (size_t)n < res->cap - res->len) {
        res->len += (size_t)n;
        va_end(ap2);
        return 0;
    }
    if (s_response_reserve(res, (size_t)n) < 0) {
        va_end(ap2);
        return -ENOMEM;
    }
    vsnprintf(res->body + res->len, res->cap - res->len, fmt, ap2);
    va_end(ap2);
    res->len += (size_t)n;
    return 0;
}

int crm_http_metrics(const crm_http_t *self, const char *service, crm_http_response_t *res)
{
    static const struct {
        const char *name;
        const char *type;
        const char *help;
    } defs[] = {
        {"crm_http_connections", "gauge", "Operator HTTP connections open."},
        {"crm_http_evicted_total", "counter",
         "Oldest HTTP connections closed to stay under CRM_HTTP_MAX_CONNECTIONS."},
        {"crm_http_evicted_per_address_total", "counter",
         "Oldest HTTP connections of an address closed to stay under "
         "CRM_HTTP_MAX_CONNECTIONS_PER_ADDRESS."},
        {"crm_http_rejected_total", "counter",
         "Times new HTTP connections waited in the listen queue while closed ones were released."},
        {"crm_http_head_timeouts_total", "counter",
         "HTTP connections closed because a request took longer than CRM_HTTP_HEAD_TIMEOUT_MS."},
        {"crm_http_idle_timeouts_total", "counter",
         "Keep-alive HTTP connections closed after CRM_HTTP_IDLE_TIMEOUT_MS without a request."},
    };
    crm_http_stats_t st;
    uint64_t v[6];
    int r = 0;

    crm_http_stats(self, &st);
    v[0] = st.open;
    v[1] = st.evicted_total;
    v[2] = st.evicted_per_addr;
    v[3] = st.rejected;
    v[4] = st.head_timeouts;
    v[5] = st.idle_timeouts;
    for (size_t i = 0; i < sizeof defs / sizeof defs[0] && r == 0; i++)
        r = crm_http_response_printf(
            res, "# HELP %s %s\n# TYPE %s %s\n%s{crm_service=\"%s\"} %llu\n", defs[i].name,
            defs[i].help, defs[i].name, defs[i].type, defs[i].name, service ? service : "",
            (unsigned long long)v[i]);
    return r;
}
