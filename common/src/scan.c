/* scan.c: a service's scans (crm_service_scan).
 *
 * Sales (activities that fell due), support (SLA instants), marketing
 * (sends, segment membership) and analytics (data-quality findings) each
 * look for due work on a timer. Each had its own "running" and "full"
 * flags and the same submit and done callbacks; the rule they share lives
 * here once: one run at a time, and another at once after a run that found
 * a full batch. */
#include "svc_int.h"

#include <stdlib.h>

struct crm_scan {
    struct crm_scan *next;
    crm_service_t *svc;
    const char *name;
    crm_work_fn fn;
    void *arg;
    crm_scan_gate_fn gate;
    int running; /* submitted and not yet ended */
    int full;    /* the run under way found a full batch */
    int keyed;   /* its works have `key` (crm_scan_set_key) */
    uint64_t key;
};

static void s_done(crm_service_t *svc, int status, void *arg)
{
    crm_scan_t *scan = arg;
    (void)svc;
    scan->running = 0;
    /* A full batch that committed: there may be more due right now. */
    if (status == 0 && scan->full)
        crm_scan_kick(scan);
}

void crm_scan_kick(crm_scan_t *scan)
{
    if (scan->running || scan->svc->stopping || (scan->gate && !scan->gate(scan->arg)))
        return;
    scan->full = 0;
    if (crm_service_submit_to(scan->svc, scan->name, scan->fn, scan->arg, s_done, scan, scan->keyed,
                              scan->key) == 0)
        scan->running = 1;
}

void crm_scan_set_key(crm_scan_t *scan, uint64_t key)
{
    scan->keyed = 1;
    scan->key = key;
}

void crm_scan_more(crm_scan_t *scan)
{
    scan->full = 1;
}

static void s_on_timer(crm_service_t *svc, void *arg)
{
    (void)svc;
    crm_scan_kick(arg);
}

crm_scan_t *crm_service_scan(crm_service_t *svc, const char *name, uint64_t period_ms,
                             unsigned flags, crm_work_fn fn, void *arg, crm_scan_gate_fn gate)
{
    crm_scan_t *scan = calloc(1, sizeof *scan);
    if (!scan)
        return NULL;
    scan->svc = svc;
    scan->name = name;
    scan->fn = fn;
    scan->arg = arg;
    scan->gate = gate;
    if (crm_service_every(svc, period_ms, flags, s_on_timer, scan) < 0) {
        free(scan);
        return NULL;
    }
    scan->next = svc->scans;
    svc->scans = scan;
    return scan;
}

void crm_scans_free(crm_service_t *svc)
{
    crm_scan_t *scan = svc->scans;
    svc->scans = NULL;
    while (scan) {
        crm_scan_t *next = scan->next;
        free(scan);
        scan = next;
    }
}
