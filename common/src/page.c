/* page.c: the page-token codec and page sizes (see crm/page.h). */
#include <crm/check.h>
#include <crm/page.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crm/v1/rpc.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT

int crm_page_size(int32_t v, int *out, crm_err_t *e)
{
    if (v == 0) {
        *out = CRM_PAGE_DEFAULT;
        return 0;
    }
    if (v < 1 || v > CRM_PAGE_MAX)
        return crm_err_set(e, S_INVALID, "page_size", "page_size is out of range",
                           "send 1 to 500, or 0 for 50", "got %" PRId32, v);
    *out = v;
    return 0;
}

void crm_page_token_format(int64_t created_us, const char *id, char *out, size_t len)
{
    snprintf(out, len, "%" PRId64 ":%s", created_us, id);
}

int crm_page_token_parse(const char *tok, int64_t *created_us, char id[CRM_UUID_LEN + 1],
                         crm_err_t *e)
{
    char q[128];
    *created_us = 0;
    id[0] = 0;
    if (!tok || !*tok)
        return 0;
    /* Digits only (no sign, no blanks: strtoll would take them), at most
     * 18 so that the value cannot overflow. */
    size_t n = strspn(tok, "0123456789");
    if (n == 0 || n > 18 || tok[n] != ':' || !crm_uuid_valid(tok + n + 1))
        return crm_err_set(e, S_INVALID, "page_token", "page_token is malformed",
                           "send back the next_page_token of the previous reply unchanged",
                           "got %s", crm_quote(tok, q, sizeof q));
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (tok[i] - '0');
    *created_us = v;
    memcpy(id, tok + n + 1, CRM_UUID_LEN);
    id[CRM_UUID_LEN] = 0;
    return 0;
}
