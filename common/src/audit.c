/* audit.c: who a work acts as, for the audit trail. Every event a work
 * emits carries this principal in its envelope (`actor`) and in its outbox
 * row, so "who did this" survives replay and is answered from the log
 * (docs/events.md, "Actor"). Kept apart from work.c so that the rule is in
 * one place and readable on its own. */
#include "svc_int.h"

const char *crm_work_principal(crm_work_t *w)
{
    /* A command runs as the principal its CURVE key authenticated (or, for
     * crm_service_submit, as the service). Anything else - a consumed
     * event, a timer, a dead-letter retry - is the service acting for the
     * system, never the principal of the work upstream. */
    if (w->kind == CRM_WORK_CMD && w->actor && *w->actor)
        return w->actor;
    return crm_service_name(w->svc);
}
