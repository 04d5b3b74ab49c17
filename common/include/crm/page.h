/* crm/page.h: keyset paging for list commands, one codec for every
 * service.
 *
 * A list orders its rows by (created_at, id) and a page ends with the
 * position of its last row; the next request sends that position back as
 * an opaque token, "<created_at in microseconds>:<id>", and the store
 * reads the rows after it. Tokens are not signed: a forged token only
 * moves a caller's own page, and the checks below refuse malformed ones.
 * Pure functions, no I/O; errors follow crm/check.h. */
#ifndef CRM_PAGE_H
#define CRM_PAGE_H

#include <crm/err.h>
#include <crm/util.h>

#include <stddef.h>
#include <stdint.h>

#define CRM_PAGE_DEFAULT 50   /* rows when page_size is 0 */
#define CRM_PAGE_MAX 500      /* the largest page_size */
#define CRM_PAGE_TOKEN_LEN 64 /* a buffer that holds any token */

/* page_size of a request: 0 gives CRM_PAGE_DEFAULT, 1..CRM_PAGE_MAX as
 * given, anything else is INVALID_ARGUMENT on "page_size". */
int crm_page_size(int32_t v, int *out, crm_err_t *e);

/* The token of the row (created_us, id) into out (CRM_PAGE_TOKEN_LEN). */
void crm_page_token_format(int64_t created_us, const char *id, char *out, size_t len);

/* Reads a token made by crm_page_token_format: digits, ':', a canonical
 * UUID. "" or NULL is the first page (*created_us = 0, id = ""). Anything
 * else is INVALID_ARGUMENT on "page_token". */
int crm_page_token_parse(const char *tok, int64_t *created_us, char id[CRM_UUID_LEN + 1],
                         crm_err_t *e);

#endif
