/* handlers/owner.c: who owns a sales record being created or reassigned,
 * under the principal's roles (crm/access.h). */
#include "handlers.h"

int sales_owner(crm_work_t *w, crm_record_t type, crm_action_t action, const char *field,
                char **owner)
{
    if (crm_work_level(w, type, action) == CRM_LEVEL_ALL)
        return 0;
    if (!*owner || !**owner) {
        if (!(*owner = crm_work_strdup(w, crm_work_actor(w)))) {
            crm_work_fail_nomem(w);
            return -1;
        }
        return 0;
    }
    if (crm_work_may(w, type, action, *owner))
        return 0;
    crm_work_fail(
        w, SALES_CODE(PERMISSION_DENIED), field, "owner is out of reach",
        crm_work_printf(w, "your roles let you give a %s only to yourself%s, not to \"%s\"",
                        crm_record_name(type),
                        crm_work_level(w, type, action) == CRM_LEVEL_TEAM ? " or your teams" : "",
                        *owner),
        "leave the owner empty to own it yourself");
    return -1;
}
