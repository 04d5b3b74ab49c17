/* handlers/shared.c: the few helpers every support handler file uses:
 * failing a work with a crm_err_t, the checks that fail the work
 * themselves (ids, texts, tags, the agent and team rosters), the stored
 * calendar read back from a result, and the TicketReply answer. Here so
 * that no handler file reaches into another for them. */
#include "handlers.h"

#include <crm/db.h>
#include <crm/log.h>

#include <stdlib.h>
#include <string.h>

void support_fail(crm_work_t *w, const crm_err_t *e)
{
    crm_work_fail(w, e->code, e->field, e->message, e->detail, e->hint);
}

/* The trimmed copy of s in the arena ("" on NULL); NULL when out of memory. */
char *support_trimmed(crm_work_t *w, const char *s)
{
    const char *t;
    size_t n = crm_trim(s, &t);
    return crm_work_printf(w, "%.*s", (int)n, t);
}

/* A well-formed id (required or not), else the work is failed. */
int support_id_in(crm_work_t *w, const char *id, int required, const char *field)
{
    crm_err_t e;
    if (crm_check_id(id, required, field, &e) < 0) {
        support_fail(w, &e);
        return -1;
    }
    return 0;
}

/* Checks tags; copies them into *out (arena). */
int support_check_tags(crm_work_t *w, char *const *tags, size_t n, const char *prefix, char ***out,
                       crm_err_t *e)
{
    if (n > SUPPORT_TAGS_MAX)
        return crm_err_set(e, S_INVALID, prefix, "too many tags", NULL, "%zu, at most %d", n,
                           SUPPORT_TAGS_MAX);
    char **v = crm_work_alloc(w, (n ? n : 1) * sizeof *v);
    if (!v)
        return crm_err_set(e, S_CODE(INTERNAL), NULL, "out of memory", NULL, "%s", "");
    for (size_t i = 0; i < n; i++) {
        char field[96];
        snprintf(field, sizeof field, "%s[%zu]", prefix, i);
        if (support_check_tag(tags[i], field, e) < 0)
            return -1;
        v[i] = tags[i];
    }
    *out = v;
    return 0;
}

/* The calendar from its four columns starting at `col` (store.h); NULL
 * with the work failed. */
support_cal_t *support_calendar_read(crm_work_t *w, const PGresult *res, int col)
{
    crm_err_t e;
    Crm__V1__BusinessCalendar *m =
        crm_work_record(w, &crm__v1__business_calendar__descriptor, crm_db_get_opt(res, 0, col));
    support_cal_t *cal = crm_work_alloc(w, sizeof *cal);
    if (!m) {
        crm_work_fail_unreadable(w);
        return NULL;
    }
    if (!cal) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    if (support_cal_from_msg(m, cal, "calendar", &e) < 0) {
        crm_error("support.calendar", "stored calendar is invalid: %s: %s", e.field, e.message);
        crm_work_fail_unreadable(w);
        return NULL;
    }
    if (*m->time_zone && support_cal_set_changes(cal, atoi(PQgetvalue(res, 0, col + 1)),
                                                 crm_db_get_opt(res, 0, col + 2),
                                                 crm_db_get_opt(res, 0, col + 3)) < 0) {
        crm_error("support.calendar", "stored offset changes of zone \"%s\" are invalid",
                  m->time_zone);
        crm_work_fail_unreadable(w);
        return NULL;
    }
    return cal;
}

void support_ticket_ok(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m)
{
    Crm__V1__TicketReply r = CRM__V1__TICKET_REPLY__INIT;
    r.ticket = t;
    r.messages = &m;
    r.n_messages = m ? 1 : 0;
    crm_work_ok(w, &r.base);
}

/* `name` must be one of `list` when the list is set (the roster). */
static int s_check_roster(crm_work_t *w, char *const *list, size_t n, const char *name,
                          const char *field, const char *what, const char *setting)
{
    if (!*name || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 0;
    crm_work_fail(w, S_CODE(NOT_FOUND), field, crm_work_printf(w, "%s does not exist", what),
                  crm_work_printf(w, "\"%.80s\" is not in %s", name, setting),
                  crm_work_printf(w, "give one of the configured %ss", what));
    return -1;
}

/* An assignee must be one of SUPPORT_AGENTS, a team one of SUPPORT_TEAMS,
 * when those lists are set. */
int support_check_agent(crm_work_t *w, const char *name, const char *field)
{
    support_t *ctx = crm_service_user(crm_work_service(w));
    return s_check_roster(w, ctx->agents, ctx->n_agents, name, field, "agent", "SUPPORT_AGENTS");
}

int support_check_team(crm_work_t *w, const char *name, const char *field)
{
    support_t *ctx = crm_service_user(crm_work_service(w));
    return s_check_roster(w, ctx->teams, ctx->n_teams, name, field, "team", "SUPPORT_TEAMS");
}

/* Checks a text field and stores its trimmed copy in *out. */
int support_text_in(crm_work_t *w, const char *s, size_t max, int required, const char *field,
                    const char **out)
{
    crm_err_t e;
    if ((required ? crm_check_required : crm_check_text)(s, max, field, &e) < 0) {
        support_fail(w, &e);
        return -1;
    }
    if (!(*out = support_trimmed(w, s))) {
        crm_work_fail_nomem(w);
        return -1;
    }
    return 0;
}
