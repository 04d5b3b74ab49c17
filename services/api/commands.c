/* commands.c: crm-api's own commands, on its command socket for crmctl:
 * API tokens and staff passwords. Each needs config.edit, which only admins hold: a token acts
 * as the staff principal it names, so making one is an operator's task. */
#include "api.h"

#include "crm/v1/api.pb-c.h"

const crm_command_def_t api_commands[] = {
    {"api.token.create", &crm__v1__create_token_request__descriptor, api_token_create, 0,
     CRM_REC_CONFIG, CRM_ACT_EDIT},
    {"api.token.revoke", &crm__v1__revoke_token_request__descriptor, api_token_revoke, 0,
     CRM_REC_CONFIG, CRM_ACT_EDIT},
    {"api.token.list", &crm__v1__list_tokens_request__descriptor, api_token_list, 1, CRM_REC_CONFIG,
     CRM_ACT_EDIT},
    {"api.staff.password.set", &crm__v1__set_staff_password_request__descriptor,
     api_staff_password_set, 0, CRM_REC_CONFIG, CRM_ACT_EDIT},
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};
