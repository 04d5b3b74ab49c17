/* access.c: roles at EspoCRM's levels, the built-in roles, and the
 * grant a command carries (crm/access.h). */
#include <crm/access.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ROLE_NAME_MAX 100

static const char *const s_records[CRM_REC_COUNT] = {
    "",         "person",   "organisation",  "lead",       "deal",   "order",
    "activity", "campaign", "segment",       "preference", "ticket", "report",
    "config",   "webhook",  "personal_data", "tracking",
};
static const char *const s_actions[CRM_ACT_COUNT] = {"read", "create", "edit", "delete"};
static const char *const s_levels[] = {"none", "own", "team", "all"};

const char *crm_record_name(crm_record_t type)
{
    return type > CRM_REC_NONE && type < CRM_REC_COUNT ? s_records[type] : NULL;
}

const char *crm_action_name(crm_action_t action)
{
    return (int)action >= 0 && action < CRM_ACT_COUNT ? s_actions[action] : NULL;
}

const char *crm_level_name(crm_level_t level)
{
    return (int)level >= 0 && level <= CRM_LEVEL_ALL ? s_levels[level] : NULL;
}

/* ---- roles ---------------------------------------------------------------- */

typedef struct {
    char name[S_ROLE_NAME_MAX + 1];
    uint8_t level[CRM_REC_COUNT][CRM_ACT_COUNT];
} s_role_t;

struct crm_roles {
    s_role_t *r;
    size_t n, cap;
};

/* The built-in roles, in the cells an operator would write; the same
 * table is in docs/operations.md. "config" is pipelines, SLA policies and
 * business calendars. "webhook" is for admins only: a subscription sends
 * every matching event out of the system, so roles that read everything
 * ("*.read=all") are given none of it. */
static const struct {
    const char *name;
    const char *cells[24];
} s_builtin[] = {
    {"admin", {"*.*=all"}},
    {"sales-manager",
     {"*.read=all", "person.*=team", "organisation.*=team", "lead.*=team", "deal.*=team",
      "order.*=team", "activity.*=team", "person.create=all", "organisation.create=all",
      "lead.create=all", "deal.create=all", "order.create=all", "activity.create=all",
      "report.read=team", "config.*=all", "personal_data.read=none", "webhook.*=none"}},
    {"sales-rep",
     {"*.read=all", "person.*=own", "organisation.*=own", "lead.*=own", "deal.*=own", "order.*=own",
      "activity.*=own", "person.delete=none", "organisation.delete=none", "lead.delete=none",
      "deal.delete=none", "order.delete=none", "activity.delete=none", "report.read=own",
      "campaign.read=none", "segment.read=none", "personal_data.read=none", "webhook.*=none"}},
    {"marketer",
     {"*.read=all", "campaign.*=all", "segment.*=all", "preference.*=all", "person.create=all",
      "person.edit=all", "lead.create=all", "ticket.read=none", "personal_data.read=none",
      "webhook.*=none"}},
    {"support-agent",
     {"*.read=all", "ticket.*=all", "ticket.delete=none", "person.create=all", "person.edit=own",
      "activity.*=own", "activity.delete=none", "report.read=own", "deal.read=none",
      "order.read=none", "lead.read=none", "campaign.read=none", "segment.read=none",
      "personal_data.read=none", "webhook.*=none"}},
    {"support-lead",
     {"*.read=all", "ticket.*=all", "person.create=all", "person.edit=all", "activity.*=team",
      "report.read=team", "config.*=all", "deal.read=none", "lead.read=none", "campaign.read=none",
      "segment.read=none", "personal_data.read=none", "webhook.*=none"}},
    {"analyst", {"*.read=all", "report.*=all", "personal_data.read=none", "webhook.*=none"}},
    /* Subscriber keys read streams, which carry every record; the
     * dispatcher lets them run nothing else whatever their roles say. */
    {"subscriber", {"*.read=all", "personal_data.read=none", "webhook.*=none"}},
    /* Answers data subjects' requests: exports, merges and erasures
     * (personal_data.*), reading what it must to find the person. */
    {"privacy-officer", {"*.read=all", "personal_data.*=all", "webhook.*=none"}},
    /* The HTTP gateway's own principal (kind gateway): it passes on the
     * tracking links of campaign mail, whose signed tokens say what to
     * record. */
    {"gateway", {"tracking.create=all"}},
};

static int s_lookup(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (names[i][0] && strlen(names[i]) == len && !strncmp(names[i], s, len))
            return i;
    return -1;
}

/* "type.action=level" into the table; -1 with err when it is wrong. */
static int s_cell(uint8_t (*level)[CRM_ACT_COUNT], const char *cell, char *err, size_t errlen)
{
    const char *dot = strchr(cell, '.'), *eq = strchr(cell, '=');
    if (!dot || !eq || eq < dot) {
        snprintf(err, errlen, "\"%.100s\": expected type.action=level", cell);
        return -1;
    }
    size_t tlen = (size_t)(dot - cell), alen = (size_t)(eq - dot - 1);
    int type = -1, action = -1;
    if (tlen == 1 && cell[0] == '*')
        type = CRM_REC_COUNT;
    else if (tlen == 12 && !strncmp(cell, "organization", 12))
        type = CRM_REC_ORGANISATION; /* the spelling of the commands and messages */
    else
        type = s_lookup(s_records, CRM_REC_COUNT, cell, tlen);
    if (alen == 1 && dot[1] == '*')
        action = CRM_ACT_COUNT;
    else
        action = s_lookup(s_actions, CRM_ACT_COUNT, dot + 1, alen);
    int lv = s_lookup(s_levels, 4, eq + 1, strlen(eq + 1));
    if (type < 0) {
        snprintf(err, errlen,
                 "\"%.100s\": unknown record type (person, organisation, lead, deal, order, "
                 "activity, campaign, segment, preference, ticket, report, config, webhook, "
                 "personal_data, tracking or *)",
                 cell);
        return -1;
    }
    if (action < 0) {
        snprintf(err, errlen, "\"%.100s\": unknown action (read, create, edit, delete or *)", cell);
        return -1;
    }
    if (lv < 0) {
        snprintf(err, errlen, "\"%.100s\": unknown level (all, team, own or none)", cell);
        return -1;
    }
    for (int t = 1; t < CRM_REC_COUNT; t++)
        for (int a = 0; a < CRM_ACT_COUNT; a++)
            if ((type == CRM_REC_COUNT || type == t) && (action == CRM_ACT_COUNT || action == a))
                level[t][a] = (uint8_t)lv;
    return 0;
}

static s_role_t *s_find(const crm_roles_t *self, const char *name)
{
    for (size_t i = 0; self && i < self->n; i++)
        if (!strcmp(self->r[i].name, name))
            return &self->r[i];
    return NULL;
}

int crm_roles_define(crm_roles_t *self, const char *name, const char *const *cells, size_t n,
                     char *err, size_t errlen)
{
    if (!*name || strlen(name) > S_ROLE_NAME_MAX) {
        snprintf(err, errlen, "a role name is 1 to %d characters", S_ROLE_NAME_MAX);
        return -1;
    }
    s_role_t role;
    memset(&role, 0, sizeof role);
    memcpy(role.name, name, strlen(name) + 1);
    for (size_t i = 0; i < n; i++)
        if (s_cell(role.level, cells[i], err, errlen) < 0)
            return -1;
    s_role_t *slot = s_find(self, name);
    if (!slot) {
        if (self->n == self->cap) {
            size_t cap = self->cap ? 2 * self->cap : 16;
            s_role_t *r = realloc(self->r, cap * sizeof *r);
            if (!r) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            self->r = r;
            self->cap = cap;
        }
        slot = &self->r[self->n++];
    }
    *slot = role;
    return 0;
}

crm_roles_t *crm_roles_new(void)
{
    crm_roles_t *self = calloc(1, sizeof *self);
    char err[160];
    for (size_t i = 0; self && i < sizeof s_builtin / sizeof s_builtin[0]; i++) {
        size_t n = 0;
        while (n < 24 && s_builtin[i].cells[n])
            n++;
        if (crm_roles_define(self, s_builtin[i].name, s_builtin[i].cells, n, err, sizeof err) < 0)
            crm_roles_destroy(&self);
    }
    return self;
}

void crm_roles_destroy(crm_roles_t **self_p)
{
    crm_roles_t *self = *self_p;
    if (!self)
        return;
    free(self->r);
    free(self);
    *self_p = NULL;
}

int crm_roles_level(const crm_roles_t *self, const char *name, crm_record_t type,
                    crm_action_t action)
{
    const s_role_t *r = s_find(self, name);
    if (!r)
        return -1;
    if (type <= CRM_REC_NONE || type >= CRM_REC_COUNT || (int)action < 0 || action >= CRM_ACT_COUNT)
        return CRM_LEVEL_NONE;
    return r->level[type][action];
}

/* ---- principals ----------------------------------------------------------- */

crm_level_t crm_access_level(const crm_directory_t *dir, const crm_principal_t *p,
                             crm_record_t type, crm_action_t action)
{
    if (type == CRM_REC_NONE || p->kind == CRM_KIND_SERVICE)
        return CRM_LEVEL_ALL;
    int best = CRM_LEVEL_NONE;
    const crm_roles_t *roles = crm_directory_roles(dir);
    for (const char *const *r = p->roles; r && *r; r++) {
        int lv = crm_roles_level(roles, *r, type, action);
        if (lv > best)
            best = lv;
    }
    return (crm_level_t)best;
}

/* 1 when staff `a` and the principal named `b` share a team. */
static int s_teammates(const crm_directory_t *dir, const crm_principal_t *a, const char *b)
{
    for (size_t i = 0; i < crm_directory_size(dir); i++) {
        const crm_principal_t *q = crm_directory_at(dir, i);
        if (strcmp(q->name, b) != 0 || q->kind != CRM_KIND_STAFF)
            continue;
        for (const char *const *t = a->teams; t && *t; t++)
            if (crm_principal_in_team(q, *t))
                return 1;
    }
    return 0;
}

int crm_access_may_see(const crm_directory_t *dir, const crm_principal_t *p, crm_level_t level,
                       const char *owner)
{
    if (level == CRM_LEVEL_ALL)
        return 1;
    if (level == CRM_LEVEL_NONE || !owner || !*owner)
        return 0;
    if (!strcmp(owner, p->name))
        return 1;
    return level == CRM_LEVEL_TEAM && s_teammates(dir, p, owner);
}

/* ---- grants --------------------------------------------------------------- */

struct crm_grant {
    uint8_t level[CRM_REC_COUNT][CRM_ACT_COUNT];
    const char **team; /* NULL-terminated: the principal, then its teammates */
    size_t n_team;
    const char *none[1];
    char *names; /* the strings team points into */
};

crm_grant_t *crm_grant_new(const crm_directory_t *dir, const crm_principal_t *p)
{
    crm_grant_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    int team = 0;
    for (int t = 0; t < CRM_REC_COUNT; t++)
        for (int a = 0; a < CRM_ACT_COUNT; a++) {
            g->level[t][a] = (uint8_t)crm_access_level(dir, p, (crm_record_t)t, (crm_action_t)a);
            team |= g->level[t][a] == CRM_LEVEL_TEAM;
        }
    /* The principal and every staff name sharing a team with it; the
     * directory is scanned only when some cell is at team level. */
    size_t n = team ? crm_directory_size(dir) : 0, bytes = strlen(p->name) + 1, k = 0;
    const char **names = calloc(n + 2, sizeof *names);
    if (!names) {
        free(g);
        return NULL;
    }
    names[k++] = p->name;
    for (size_t i = 0; i < n; i++) {
        const crm_principal_t *q = crm_directory_at(dir, i);
        if (q->kind != CRM_KIND_STAFF || !strcmp(q->name, p->name))
            continue;
        int shared = 0;
        for (const char *const *t = p->teams; t && *t && !shared; t++)
            shared = crm_principal_in_team(q, *t);
        /* A name listed with several keys (a key being rotated) may come
         * twice: harmless for ANY() and for crm_grant_may, and cheaper than
         * a quadratic search for duplicates. */
        if (shared) {
            names[k++] = q->name;
            bytes += strlen(q->name) + 1;
        }
    }
    g->names = malloc(bytes);
    g->team = calloc(k + 1, sizeof *g->team);
    if (!g->names || !g->team) {
        free(names);
        crm_grant_destroy(&g);
        return NULL;
    }
    char *at = g->names;
    for (size_t j = 0; j < k; j++) {
        size_t len = strlen(names[j]) + 1;
        memcpy(at, names[j], len);
        g->team[j] = at;
        at += len;
    }
    g->n_team = k;
    free(names);
    return g;
}

void crm_grant_destroy(crm_grant_t **self_p)
{
    crm_grant_t *g = *self_p;
    if (!g)
        return;
    free(g->team);
    free(g->names);
    free(g);
    *self_p = NULL;
}

crm_level_t crm_grant_level(const crm_grant_t *g, crm_record_t type, crm_action_t action)
{
    if (!g || type == CRM_REC_NONE)
        return CRM_LEVEL_ALL;
    if (type < 0 || type >= CRM_REC_COUNT || (int)action < 0 || action >= CRM_ACT_COUNT)
        return CRM_LEVEL_NONE;
    return (crm_level_t)g->level[type][action];
}

int crm_grant_may(const crm_grant_t *g, crm_record_t type, crm_action_t action, const char *owner)
{
    crm_level_t lv = crm_grant_level(g, type, action);
    if (lv == CRM_LEVEL_ALL)
        return 1;
    if (lv == CRM_LEVEL_NONE || !owner || !*owner)
        return 0;
    size_t n = lv == CRM_LEVEL_TEAM ? g->n_team : 1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(g->team[i], owner))
            return 1;
    return 0;
}

const char *const *crm_grant_owners(const crm_grant_t *g, crm_record_t type, crm_action_t action,
                                    size_t *n)
{
    crm_level_t lv = crm_grant_level(g, type, action);
    *n = 0;
    if (lv == CRM_LEVEL_ALL)
        return NULL;
    if (lv == CRM_LEVEL_NONE)
        return g->none;
    if (lv == CRM_LEVEL_OWN) {
        /* Only the principal: a copy of the list cut after it would need
         * memory; the caller takes *n entries. */
        *n = 1;
        return g->team;
    }
    *n = g->n_team;
    return g->team;
}

const char *crm_grant_name(const crm_grant_t *g)
{
    return g ? g->team[0] : "";
}
