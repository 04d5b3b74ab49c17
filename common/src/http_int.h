/* http_int.h: what http.c (connections) and http_response.c (responses and
 * metrics) share; private to common/src. */
#ifndef CRM_HTTP_INT_H
#define CRM_HTTP_INT_H

#include <stddef.h>

#define S_DEFAULT_TYPE "text/plain; charset=utf-8"

struct crm_http_response {
    int status;
    const char *content_type;
    char *body;
    size_t len;
    size_t cap;
    int oom; /* an append failed: the response becomes a 500 */
};

/* The reason phrase of an HTTP status code ("Unknown" for others). */
const char *crm__http_reason(int status);

#endif
