/* crm/access.h: what a staff principal may do to which records.
 *
 * The model is EspoCRM's: for each record type and each action a role
 * grants a level, all, team, own or none. "own" reaches the records the
 * principal owns (or is assigned: the record's owner column names it);
 * "team" also those owned by anyone sharing a team with the principal;
 * "all" every record, including those without an owner. A principal with
 * several roles gets the highest level of any of them, cell by cell.
 * Service principals act for the system and reach everything; subscriber
 * keys only read streams (the dispatcher enforces that by kind).
 *
 * Built-in roles (admin, sales-manager, sales-rep, marketer,
 * support-agent, support-lead, analyst, subscriber, privacy-officer; the table is in
 * docs/operations.md) can be redefined and more defined in the directory
 * of principals, one line per role:
 *
 *     role  sales-intern  *.read=own  person.create=own  deal.*=none
 *
 * Cells apply left to right, starting from none everywhere; a "*" stands
 * for every type or every action. They are read with the rest of the
 * directory, so a change takes effect on the SIGHUP that rereads it. */
#ifndef CRM_ACCESS_H
#define CRM_ACCESS_H

#include <crm/directory.h>

#include <stddef.h>

typedef enum {
    CRM_REC_NONE = 0, /* not a record: any authenticated staff may run it */
    CRM_REC_PERSON,
    CRM_REC_ORGANISATION,
    CRM_REC_LEAD,
    CRM_REC_DEAL,
    CRM_REC_ORDER,
    CRM_REC_ACTIVITY,
    CRM_REC_CAMPAIGN,
    CRM_REC_SEGMENT,
    CRM_REC_PREFERENCE,
    CRM_REC_TICKET,
    CRM_REC_REPORT,
    CRM_REC_CONFIG,  /* pipelines, SLA policies, calendars, templates */
    CRM_REC_WEBHOOK, /* webhook subscriptions and their deliveries: admin only */
    /* A person's personal data as a whole: read = export, edit = merge,
     * delete = erase (docs/architecture.md, "Personal data"). No role
     * but admin and privacy-officer holds it. */
    CRM_REC_PERSONAL_DATA,
    CRM_REC_TRACKING, /* responses from campaign mail's signed links (the HTTP gateway) */
    CRM_REC_COUNT
} crm_record_t;

typedef enum {
    CRM_ACT_READ = 0,
    CRM_ACT_CREATE,
    CRM_ACT_EDIT,
    CRM_ACT_DELETE,
    CRM_ACT_COUNT
} crm_action_t;

typedef enum {
    CRM_LEVEL_NONE = 0,
    CRM_LEVEL_OWN = 1,
    CRM_LEVEL_TEAM = 2,
    CRM_LEVEL_ALL = 3,
} crm_level_t;

/* "person", "read", "team"...; NULL for a value out of range. */
const char *crm_record_name(crm_record_t type);
const char *crm_action_name(crm_action_t action);
const char *crm_level_name(crm_level_t level);

/* ---- roles ---------------------------------------------------------------- */

typedef struct crm_roles crm_roles_t;

/* The built-in roles. Caller owns the result; NULL when out of memory. */
crm_roles_t *crm_roles_new(void);
void crm_roles_destroy(crm_roles_t **self_p);

/* Defines (or redefines) role `name` from `n` cells "type.action=level".
 * Returns 0, or -1 with the reason in err (the role is then unchanged). */
int crm_roles_define(crm_roles_t *self, const char *name, const char *const *cells, size_t n,
                     char *err, size_t errlen);

/* Role `name`'s level for (type, action); -1 when no role has that name. */
int crm_roles_level(const crm_roles_t *self, const char *name, crm_record_t type,
                    crm_action_t action);

/* ---- principals ----------------------------------------------------------- */

/* The level principal `p` holds for (type, action) under the directory's
 * roles: all for a service, the highest of its roles for anyone else
 * (none without roles). CRM_REC_NONE is all for everyone. */
crm_level_t crm_access_level(const crm_directory_t *dir, const crm_principal_t *p,
                             crm_record_t type, crm_action_t action);

/* 1 when `p` at `level` reaches a record owned by `owner` ("" = no owner:
 * only level all reaches it); team level looks the owner up in `dir`. */
int crm_access_may_see(const crm_directory_t *dir, const crm_principal_t *p, crm_level_t level,
                       const char *owner);

/* ---- grants: a principal's access, kept with a command ------------------- */

/* What a command may reach, taken from the directory when the command
 * arrives, so that a reload while it waits changes nothing for it: the
 * principal's levels and the names of the staff sharing a team with it. */
typedef struct crm_grant crm_grant_t;

/* Caller owns the result; NULL when out of memory. */
crm_grant_t *crm_grant_new(const crm_directory_t *dir, const crm_principal_t *p);
void crm_grant_destroy(crm_grant_t **self_p);

crm_level_t crm_grant_level(const crm_grant_t *g, crm_record_t type, crm_action_t action);
/* 1 when the grant reaches a record owned by `owner` for (type, action). */
int crm_grant_may(const crm_grant_t *g, crm_record_t type, crm_action_t action, const char *owner);
/* The owners whose records the grant reaches for (type, action), for a
 * list's SQL filter ("owner = ANY($n::text[])"): *n names; NULL when the
 * level is all (no filter). At level none *n is 0 (nothing matches).
 * A name may come twice. Lives as long as the grant. */
const char *const *crm_grant_owners(const crm_grant_t *g, crm_record_t type, crm_action_t action,
                                    size_t *n);
/* The principal's name. */
const char *crm_grant_name(const crm_grant_t *g);

#endif
