/* demo.h: what demo.c (`crmctl demo load`) needs of demo_support.c, the
 * help desk part of the demo data set. */
#ifndef CRMCTL_DEMO_H
#define CRMCTL_DEMO_H

#include "sales.h"

typedef struct {
    int tickets, resolved, closed, rated, waiting, commands;
} demo_support_counts_t;

/* Loads the demo tickets into the support service `svc` (idempotent: fixed
 * keys "demo-support-<n>"); fills *n. Returns a CRMCTL_EXIT_* code after
 * printing any failure. */
int demo_support_load(crmctl_t *ctl, crmctl_service_t *svc, demo_support_counts_t *n);

#endif
