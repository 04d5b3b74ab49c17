/* handlers/shared.c: the few helpers every file of handlers/ uses (failing
 * with a rules.c error, reading a channel array, ending a consumer's work). */
#include "handlers.h"

#include <stdlib.h>

void mkt_fail(crm_work_t *w, const mkt_err_t *e)
{
    crm_work_fail(w, e->code, e->field, e->message, e->detail, e->hint);
}

/* Channels from an int[] text ("{1,3}") into out (at most max). */
size_t mkt_channels_parse(const char *text, int *out, size_t max)
{
    size_t n = 0;
    for (const char *c = text ? text : ""; *c && n < max;) {
        if (*c >= '0' && *c <= '9') {
            char *end;
            out[n++] = (int)strtol(c, &end, 10);
            c = end;
        } else {
            c++;
        }
    }
    return n;
}

/* The end of a consumer's work: nothing to reply. */
void mkt_applied(crm_work_t *w)
{
    crm_work_ok(w, NULL);
}
