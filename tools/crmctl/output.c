/* output.c: what crmctl prints: errors, warnings and usage errors on
 * stderr in the postgres style, JSON lines and readable tables on
 * stdout. */
#include "main.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages --------------------------------------------------------- */

void crmctl_detail_hint(const char *detail, const char *hint)
{
    if (detail && *detail)
        fprintf(stderr, "DETAIL:  %s\n", detail);
    if (hint && *hint)
        fprintf(stderr, "HINT:  %s\n", hint);
}

void crmctl_error(const char *detail, const char *hint, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("crmctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    crmctl_detail_hint(detail, hint);
}

void crmctl_warn(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("crmctl: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void crmctl_try_help(const crmctl_t *ctl)
{
    if (ctl && ctl->verb)
        fprintf(stderr, "Try \"crmctl %s --help\" for more information.\n", ctl->verb->name);
    else
        fputs("Try \"crmctl --help\" for more information.\n", stderr);
}

int crmctl_usage_error(const crmctl_t *ctl, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("crmctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    crmctl_try_help(ctl);
    return CRMCTL_EXIT_USAGE;
}

/* ---- output ----------------------------------------------------------- */

int crmctl_json_line(json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!s) {
        crmctl_error(NULL, NULL, "out of memory");
        return -1;
    }
    int ok = fputs(s, stdout) >= 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
    free(s);
    return ok ? 0 : -1;
}

json_t *crmctl_json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

struct crmctl_table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, the header being row 0 */
};

crmctl_table_t *crmctl_table_new(const char *const *headers)
{
    crmctl_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    while (headers[self->ncols])
        self->ncols++;
    if (crmctl_table_add(self, headers) < 0)
        crmctl_table_destroy(&self);
    return self;
}

int crmctl_table_add(crmctl_table_t *self, const char *const *cells)
{
    if (self->nrows == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        char **nc = realloc(self->cells, cap * self->ncols * sizeof *nc);
        if (!nc)
            return -1;
        self->cells = nc;
        self->cap = cap;
    }
    char **row = &self->cells[self->nrows * self->ncols];
    for (size_t c = 0; c < self->ncols; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "-");
        if (!row[c]) {
            while (c > 0)
                free(row[--c]);
            return -1;
        }
    }
    self->nrows++;
    return 0;
}

size_t crmctl_table_rows(const crmctl_table_t *self)
{
    return self->nrows - 1;
}

void crmctl_table_print(const crmctl_table_t *self)
{
    size_t width[64] = {0};
    size_t ncols = self->ncols < 64 ? self->ncols : 64;
    for (size_t r = 0; r < self->nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            size_t w = strlen(self->cells[r * self->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < self->nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = self->cells[r * self->ncols + c];
            if (c + 1 < ncols)
                printf("%-*s  ", (int)width[c], cell);
            else
                printf("%s\n", cell);
        }
    }
    fflush(stdout);
}

void crmctl_table_destroy(crmctl_table_t **self_p)
{
    crmctl_table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nrows * self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self);
    *self_p = NULL;
}
