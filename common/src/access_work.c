/* access_work.c: roles at the command port. The dispatcher asks
 * crm_access_admit whether a command may run at all and keeps the grant
 * with the work; handlers ask the work whether a record is in reach. */
#include "access_int.h"

#include "auth.h"
#include "svc_int.h"

#include <stdio.h>

int crm_access_admit(crm_service_t *svc, const crm_principal_t *who, const crm_command_def_t *def,
                     crm_grant_t **grant, char *detail, size_t len)
{
    *grant = NULL;
    const crm_directory_t *dir = crm_auth_directory(svc->auth);
    /* No directory (plaintext development mode) or a service acting for
     * the system: nothing to filter. */
    if (!dir || who->kind == CRM_KIND_SERVICE)
        return 0;
    if (def->record != CRM_REC_NONE &&
        crm_access_level(dir, who, def->record, def->action) == CRM_LEVEL_NONE) {
        snprintf(detail, len, "the roles of %s grant no level for %s.%s, which %s needs", who->name,
                 crm_record_name(def->record), crm_action_name(def->action), def->name);
        return -1;
    }
    *grant = crm_grant_new(dir, who);
    return *grant ? 0 : -2;
}

crm_level_t crm_work_level(crm_work_t *w, crm_record_t type, crm_action_t action)
{
    return w->kind == CRM_WORK_CMD ? crm_grant_level(w->grant, type, action) : CRM_LEVEL_ALL;
}

int crm_work_may(crm_work_t *w, crm_record_t type, crm_action_t action, const char *owner)
{
    return w->kind != CRM_WORK_CMD || crm_grant_may(w->grant, type, action, owner);
}

const char *const *crm_work_owners(crm_work_t *w, crm_record_t type, crm_action_t action, size_t *n)
{
    *n = 0;
    return w->kind == CRM_WORK_CMD ? crm_grant_owners(w->grant, type, action, n) : NULL;
}
