/* demo.h: the parts of `crmctl demo load`. demo.c (the sales data) calls
 * demo_support_load (demo_support.c, the help desk); both send their
 * commands through demo_step (step.c). Neither part calls back into
 * demo.c. */
#ifndef CRMCTL_DEMO_H
#define CRMCTL_DEMO_H

#include "sales/sales.h"

typedef struct {
    int tickets, resolved, closed, rated, waiting, commands;
} demo_support_counts_t;

/* Loads the demo tickets into the support service `svc` (idempotent: fixed
 * keys "demo-support-<n>"); fills *n. Returns a CRMCTL_EXIT_* code after
 * printing any failure. */
int demo_support_load(crmctl_t *ctl, crmctl_service_t *svc, demo_support_counts_t *n);

/* step.c: sends one demo command with the next fixed key "<prefix>-<n>" (n is
 * ++*step, so loading again repeats the same keys and the service answers
 * from its idempotency record); takes `request` (NULL: out of memory).
 * The reply (caller owns it) in *reply_p, or freed when reply_p is NULL.
 * Returns a CRMCTL_EXIT_* code after printing any failure. */
int demo_step(crmctl_t *ctl, crmctl_service_t *svc, const char *prefix, int *step,
              const req_verb_t *verb, json_t *request, json_t **reply_p);

#endif
