/* handlers/handlers.h: what support's handler files share, private to
 * them and to commands.c (the service sees only support.h).
 *
 * One file per aggregate, one function per command or consumed event:
 * ticket.c (open, show, list, assign, prioritize), ticket_status.c (pend,
 * hold, resolve, reopen, close), message.c (reply, note, email), rating.c,
 * sla.c (policies, the calendar, the scan) and consumers.c (other services'
 * events). Every command that changes an existing ticket goes through the
 * one path of change.c; the helpers they all use are in shared.c.
 *
 * Every handler has the same shape: check the whole request with the rules
 * (rules.c, crm/check.h) before touching the database; read what the
 * decision needs; write; emit; answer. State across continuations lives in
 * the work's arena (crm_work_set_data), never in globals. */
#ifndef SUPPORT_HANDLERS_H
#define SUPPORT_HANDLERS_H

#include "support.h"

#include "rules.h"

#include <crm/check.h>
#include <crm/service.h>

#include "crm/v1/support.pb-c.h"

#define S_CODE(x) CRM__V1__STATUS_CODE__STATUS_CODE_##x
#define S_INVALID S_CODE(INVALID_ARGUMENT)
#define S_STATUS(x) CRM__V1__TICKET_STATUS__TICKET_STATUS_##x

/* ---- shared.c ------------------------------------------------------------------ */

/* A check's error to the client (crm_work_fail_err). */
#define support_fail crm_work_fail_err

/* The trimmed copy of s in the arena ("" on NULL); NULL when out of memory. */
char *support_trimmed(crm_work_t *w, const char *s);

/* A well-formed id (crm_check_id), else the work is failed and -1. */
int support_id_in(crm_work_t *w, const char *id, int required, const char *field);

/* Checks a text field (crm_check_text, or crm_check_required when
 * `required`) and stores its trimmed copy (arena) in *out; else the work
 * is failed and -1. */
int support_text_in(crm_work_t *w, const char *s, size_t max, int required, const char *field,
                    const char **out);

/* Checks tags (support_check_tag, at most SUPPORT_TAGS_MAX); copies the
 * array into *out (arena). -1 with e filled. */
int support_check_tags(crm_work_t *w, char *const *tags, size_t n, const char *prefix, char ***out,
                       crm_err_t *e);

/* An assignee must be one of SUPPORT_AGENTS, a team one of SUPPORT_TEAMS,
 * when those lists are set; else the work is failed and -1. */
int support_check_agent(crm_work_t *w, const char *name, const char *field);
int support_check_team(crm_work_t *w, const char *name, const char *field);

/* The calendar from its four columns starting at `col` (store.h), in the
 * arena; NULL with the work failed. */
support_cal_t *support_calendar_read(crm_work_t *w, const PGresult *res, int col);

/* Ends the work with a TicketReply of t and m (m may be NULL). */
void support_ticket_ok(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m);

/* ---- change.c: the path of every command that changes a ticket ---------------- */

typedef struct {
    support_action_t act;
    const char *id;
    const char *a, *b; /* assignee/team, author/body, reason, category/text, comment */
    int rating;
    int priority, prev_priority; /* prioritize */
    const char *sender;          /* an email's normalised sender, or NULL */
    char **tags;
    size_t n_tags;
    int from;
    char *previous;
    Crm__V1__Ticket *t;
    Crm__V1__TicketMessage *msg;
    char **added; /* tags the action added */
    size_t n_added;
} support_change_t;

/* A change of ticket `id` (checked: else the work is failed and NULL), in
 * the arena, a and b set to "". */
support_change_t *support_change_new(crm_work_t *w, support_action_t act, const char *id);

/* Starts a change once the request passed its checks; the work ends in
 * change.c (the ticket's reply, or a failure). */
void support_change_start(crm_work_t *w, support_change_t *st);

/* ---- ticket.c ------------------------------------------------------------------ */

/* Opens a ticket from `src` (the request's, or one an email made). */
void support_open_start(crm_work_t *w, const Crm__V1__Ticket *src);

/* An open in progress (arena): the ticket and the requester's normalised
 * email ("" when none). */
typedef struct {
    Crm__V1__Ticket *t;
    char *email;
} support_open_t;

/* The open's checks and the ticket it will insert (id, defaults, the
 * trimmed texts, created now), before any statement; NULL with the work
 * failed on bad input. */
support_open_t *support_open_prepare(crm_work_t *w, const Crm__V1__Ticket *src);

/* Applies what the open read: `targets` the SLA policy's two targets in
 * minutes (NULL: no policy), `person_id` and `person_name` the customer
 * found (NULL: none; borrowed for the work's life). Sets the targets, the
 * SLA instants, the customer and the name. Returns 0 (a known customer), 1
 * (an unknown requester, to register with the ticket), or -1 with the
 * work failed. */
int support_open_decide(crm_work_t *w, support_open_t *st, const support_cal_t *cal,
                        const int *targets, const char *person_id, const char *person_name);

/* Ends the open once its rows are in: `customer` the ticket's customer as
 * stored (NULL fails the work), `person` the id registered with it or
 * NULL. Emits person.registered (if so), ticket.opened and
 * feedback.tagged (with tags), and answers the ticket. */
void support_open_finish(crm_work_t *w, Crm__V1__Ticket *t, const char *customer,
                         const char *person);

/* ---- ticket_run.c: support.ticket.open's set-based form ------------------------ */

void support_ticket_open_run(crm_work_t *const *works, size_t n);

/* ---- the commands (commands.c lists them) ------------------------------------- */

void support_ticket_open(crm_work_t *w);
void support_ticket_show(crm_work_t *w);
void support_ticket_list(crm_work_t *w);
void support_ticket_assign(crm_work_t *w);
void support_ticket_prioritize(crm_work_t *w);

void support_ticket_pend(crm_work_t *w);
void support_ticket_hold(crm_work_t *w);
void support_ticket_resolve(crm_work_t *w);
void support_ticket_reopen(crm_work_t *w);
void support_ticket_close(crm_work_t *w);

void support_ticket_reply(crm_work_t *w);
void support_ticket_note(crm_work_t *w);
void support_email_receive(crm_work_t *w);

void support_ticket_rate(crm_work_t *w);

void support_sla_policy_set(crm_work_t *w);
void support_sla_policy_list(crm_work_t *w);
void support_report_figures(crm_work_t *w);
void support_sla_calendar_set(crm_work_t *w);
void support_sla_calendar_show(crm_work_t *w);

/* ---- the consumers ------------------------------------------------------------- */

void support_people_apply(crm_work_t *w);
/* handlers/erasure.c: person.erased, from support_people_apply */
void support_person_erased(crm_work_t *w);
/* handlers/merge.c: person.merged, from support_people_apply */
void support_person_merged(crm_work_t *w);
void support_person_export(crm_work_t *w);
void support_preferences_apply(crm_work_t *w);

#endif
