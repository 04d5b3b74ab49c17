/* access_int.h: the dispatcher's side of record-level access. */
#ifndef CRM_ACCESS_INT_H
#define CRM_ACCESS_INT_H

#include <crm/access.h>
#include <crm/service.h>

/* Whether `who` may run command `def` on `svc`: 0 with *grant (the
 * principal's access to keep with the work, NULL when it reaches
 * everything; caller owns it), -1 when its roles grant no level for the
 * command's record type and action (the reason in detail), -2 when out of
 * memory. */
int crm_access_admit(crm_service_t *svc, const crm_principal_t *who, const crm_command_def_t *def,
                     crm_grant_t **grant, char *detail, size_t len);

#endif
