/* handlers.c: support's business rules, one function per command or
 * consumed event, dispatched from the tables at the end of this file.
 *
 * Every handler has the same shape: check the whole request with the rules
 * (rules.c) before touching the database; read what the decision needs;
 * write; emit; answer. Commands that change a ticket share one path
 * (s_change_*): lock the ticket with the calendar, ask the status machine,
 * apply the action and the SLA clock in memory, save every changed field in
 * one statement, then emit. State across continuations lives in the work's
 * arena (crm_work_set_data), never in globals. */
#include "support.h"

#include "events.h"
#include "mail.h"
#include "rules.h"
#include "store.h"

#include <crm/db.h>
#include <crm/identity.h>
#include <crm/log.h>
#include <crm/pbjson.h>
#include <crm/util.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/support.pb-c.h"

#define S_CODE(x) CRM__V1__STATUS_CODE__STATUS_CODE_##x
#define S_INVALID S_CODE(INVALID_ARGUMENT)
#define S_STATUS(x) CRM__V1__TICKET_STATUS__TICKET_STATUS_##x

/* ---- helpers ------------------------------------------------------------------ */

static void s_fail(crm_work_t *w, const support_err_t *e)
{
    crm_work_fail(w, e->code, e->field, e->message, e->detail, e->hint);
}

/* The trimmed copy of s in the arena ("" on NULL); NULL when out of memory. */
static char *s_trimmed(crm_work_t *w, const char *s)
{
    const char *t;
    size_t n = support_trim(s, &t);
    return crm_work_printf(w, "%.*s", (int)n, t);
}

/* A well-formed ticket id, else the work is failed. */
static int s_check_id(crm_work_t *w, const char *id, const char *field)
{
    if (!id || !*id) {
        crm_work_fail(w, S_INVALID, field, "value is required", NULL, "give the ticket id");
        return -1;
    }
    if (!crm_uuid_valid(id)) {
        crm_work_fail(w, S_INVALID, field, "value is not a UUID",
                      crm_work_printf(w, "got \"%.80s\"", id), NULL);
        return -1;
    }
    return 0;
}

/* Checks tags; copies them into *out (arena). */
static int s_check_tags(crm_work_t *w, char *const *tags, size_t n, const char *prefix, char ***out,
                        support_err_t *e)
{
    if (n > SUPPORT_TAGS_MAX)
        return support_err_set(e, S_INVALID, prefix, "too many tags", NULL, "%zu, at most %d", n,
                               SUPPORT_TAGS_MAX);
    char **v = crm_work_alloc(w, (n ? n : 1) * sizeof *v);
    if (!v)
        return support_err_set(e, S_CODE(INTERNAL), NULL, "out of memory", NULL, "%s", "");
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
static support_cal_t *s_calendar(crm_work_t *w, const PGresult *res, int col)
{
    support_err_t e;
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

static void s_ticket_reply(crm_work_t *w, Crm__V1__Ticket *t, Crm__V1__TicketMessage *m)
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
static int s_check_agent(crm_work_t *w, const char *name, const char *field)
{
    support_t *ctx = crm_service_user(crm_work_service(w));
    return s_check_roster(w, ctx->agents, ctx->n_agents, name, field, "agent", "SUPPORT_AGENTS");
}

static int s_check_team(crm_work_t *w, const char *name, const char *field)
{
    support_t *ctx = crm_service_user(crm_work_service(w));
    return s_check_roster(w, ctx->teams, ctx->n_teams, name, field, "team", "SUPPORT_TEAMS");
}

/* ---- support.ticket.open -------------------------------------------------------- */

typedef struct {
    Crm__V1__Ticket *t;
    char *email; /* normalised, or "" */
    Crm__V1__Person *registered;
} s_open_t;

static void s_open_inserted(crm_work_t *w, PGresult *res)
{
    s_open_t *st = crm_work_data(w);
    Crm__V1__Ticket *t = PQntuples(res) == 1 ? SUPPORT_TICKET(w, crm_db_get_opt(res, 0, 0)) : NULL;
    if (!t) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (st->registered && support_emit_person_registered(w, st->registered) < 0)
        return;
    if (support_emit_ticket_opened(w, t) < 0)
        return;
    if (t->n_tags && support_emit_feedback_tagged(w, t, t->tags, t->n_tags) < 0)
        return;
    s_ticket_reply(w, t, NULL);
}

static void s_open_person(crm_work_t *w, PGresult *res)
{
    s_open_t *st = crm_work_data(w);
    if (PQntuples(res) == 1) {
        st->registered =
            crm_work_record(w, &crm__v1__person__descriptor, crm_db_get_opt(res, 0, 0));
        if (!st->registered) {
            crm_work_fail_unreadable(w);
            return;
        }
    }
    support_store_ticket_insert(w, st->t, s_open_inserted);
}

static void s_open_context(crm_work_t *w, PGresult *res)
{
    s_open_t *st = crm_work_data(w);
    Crm__V1__Ticket *t = st->t;
    const char *person = crm_db_get_opt(res, 0, 0);
    Crm__V1__SlaPolicy *pol =
        crm_work_record(w, &crm__v1__sla_policy__descriptor, crm_db_get_opt(res, 0, 1));
    support_cal_t *cal = s_calendar(w, res, 2);
    if (!cal)
        return;
    if (!pol) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (*t->customer_id && !person) {
        crm_work_fail_not_found(w, "ticket.customer_id", "customer", t->customer_id, NULL);
        return;
    }
    t->first_response_target_minutes = pol->first_response_minutes;
    t->resolution_target_minutes = pol->resolution_minutes;
    support_sla_open(cal, t->created_at_us, t);
    if (person) {
        Crm__V1__Person *p = crm_work_record(w, &crm__v1__person__descriptor, person);
        if (!p) {
            crm_work_fail_unreadable(w);
            return;
        }
        t->customer_id = p->id;
        if (!*t->requester_name)
            t->requester_name = p->name;
        support_store_ticket_insert(w, t, s_open_inserted);
        return;
    }
    /* An unknown requester: registered under the identity rule's id. */
    char id[CRM_UUID_LEN + 1];
    crm_customer_id_for_email(st->email, id);
    if (!(t->customer_id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    support_store_person_insert(w, t->customer_id, t->requester_name, st->email, t->created_at_us,
                                s_open_person);
}

/* Opens a ticket from `src` (the request's, or one an email made). */
static void s_open_start(crm_work_t *w, const Crm__V1__Ticket *src)
{
    support_err_t e = {0};
    char email[SUPPORT_EMAIL_LEN];
    if (!src) {
        crm_work_fail(w, S_INVALID, "ticket", "value is required", NULL, "give the ticket to open");
        return;
    }
    email[0] = 0;
    if (*src->customer_id && !crm_uuid_valid(src->customer_id)) {
        crm_work_fail(w, S_INVALID, "ticket.customer_id", "value is not a UUID",
                      crm_work_printf(w, "got \"%.80s\"", src->customer_id), NULL);
        return;
    }
    if (*src->requester_email &&
        crm_email_normalize(src->requester_email, email, sizeof email) != 0) {
        crm_work_fail(w, S_INVALID, "ticket.requester_email", "email is malformed",
                      crm_work_printf(w, "got \"%.80s\"", src->requester_email),
                      "give an address like name@example.com");
        return;
    }
    if (!*src->customer_id && !email[0]) {
        crm_work_fail(w, S_INVALID, "ticket.customer_id",
                      "customer_id or requester_email is required", NULL,
                      "an email is enough: the requester is registered");
        return;
    }
    char **tags = NULL;
    if (support_check_text(src->subject, SUPPORT_NAME_MAX, 1, "ticket.subject", &e) < 0 ||
        support_check_text(src->description, SUPPORT_BODY_MAX, 0, "ticket.description", &e) < 0 ||
        support_check_text(src->requester_name, SUPPORT_NAME_MAX, 0, "ticket.requester_name", &e) <
            0 ||
        support_check_text(src->assignee, SUPPORT_NAME_MAX, 0, "ticket.assignee", &e) < 0 ||
        support_check_text(src->team, SUPPORT_NAME_MAX, 0, "ticket.team", &e) < 0 ||
        support_check_enum(&crm__v1__ticket_channel__descriptor, src->channel, 1, "ticket.channel",
                           &e) < 0 ||
        support_check_enum(&crm__v1__ticket_type__descriptor, src->type, 1, "ticket.type", &e) <
            0 ||
        support_check_enum(&crm__v1__ticket_priority__descriptor, src->priority, 1,
                           "ticket.priority", &e) < 0 ||
        s_check_tags(w, src->tags, src->n_tags, "ticket.tags", &tags, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    s_open_t *st = crm_work_alloc(w, sizeof *st);
    Crm__V1__Ticket *t = crm_work_alloc(w, sizeof *t);
    char id[CRM_UUID_LEN + 1];
    if (!st || !t) {
        crm_work_fail_nomem(w);
        return;
    }
    memset(st, 0, sizeof *st);
    crm__v1__ticket__init(t);
    crm_uuid_new(id);
    t->id = crm_work_strdup(w, id);
    t->customer_id = (char *)src->customer_id;
    t->requester_email = crm_work_strdup(w, email);
    t->requester_name = s_trimmed(w, src->requester_name);
    t->channel = src->channel;
    t->type = src->type ? src->type : CRM__V1__TICKET_TYPE__TICKET_TYPE_QUESTION;
    t->priority = src->priority ? src->priority : CRM__V1__TICKET_PRIORITY__TICKET_PRIORITY_NORMAL;
    t->status = S_STATUS(NEW);
    t->assignee = s_trimmed(w, src->assignee);
    t->team = s_trimmed(w, src->team);
    t->tags = tags;
    t->n_tags = src->n_tags;
    t->subject = s_trimmed(w, src->subject);
    t->description = s_trimmed(w, src->description);
    t->created_at_us = crm_now_us();
    st->t = t;
    st->email = t->requester_email;
    if (!t->id || !t->requester_email || !t->requester_name || !t->assignee || !t->team ||
        !t->subject || !t->description) {
        crm_work_fail_nomem(w);
        return;
    }
    if (s_check_agent(w, t->assignee, "ticket.assignee") < 0 ||
        s_check_team(w, t->team, "ticket.team") < 0)
        return;
    crm_work_set_data(w, st);
    support_store_open_context(w, t->customer_id, email, t->priority, s_open_context);
}

static void s_ticket_open(crm_work_t *w)
{
    const Crm__V1__OpenTicketRequest *rq = (const void *)crm_work_request(w);
    s_open_start(w, rq ? rq->ticket : NULL);
}

/* ---- commands that change a ticket ------------------------------------------------ */

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
} s_change_t;

static void s_change_emit(crm_work_t *w, Crm__V1__Ticket *t)
{
    s_change_t *st = crm_work_data(w);
    const char *reason = st->act == SUPPORT_ACT_PEND || st->act == SUPPORT_ACT_HOLD ||
                                 st->act == SUPPORT_ACT_REOPEN || st->act == SUPPORT_ACT_CLOSE
                             ? st->a
                         : st->act == SUPPORT_ACT_CUSTOMER_REPLY ? "the customer replied"
                                                                 : "";
    if ((int)t->status != st->from && support_emit_status_changed(w, t, st->from, reason) < 0)
        return;
    int rc = 0;
    switch (st->act) {
    case SUPPORT_ACT_ASSIGN:
        rc = support_emit_ticket_assigned(w, t, st->previous);
        break;
    case SUPPORT_ACT_REPLY:
    case SUPPORT_ACT_NOTE:
        rc = support_emit_ticket_message(w, t, st->msg);
        break;
    case SUPPORT_ACT_CUSTOMER_REPLY:
        rc = support_emit_ticket_message(w, t, st->msg);
        if (rc == 0 && st->from == S_STATUS(RESOLVED))
            rc = support_emit_ticket_reopened(w, t, reason);
        break;
    case SUPPORT_ACT_PRIORITY:
        rc = support_emit_priority_changed(w, t, st->prev_priority, st->a);
        break;
    case SUPPORT_ACT_RESOLVE:
        rc = support_emit_ticket_resolved(w, t);
        if (rc == 0 && st->n_added)
            rc = support_emit_feedback_tagged(w, t, st->added, st->n_added);
        break;
    case SUPPORT_ACT_REOPEN:
        /* From pending or on hold it is only a status change. */
        if (st->from == S_STATUS(RESOLVED))
            rc = support_emit_ticket_reopened(w, t, reason);
        break;
    case SUPPORT_ACT_CLOSE:
        rc = support_emit_ticket_closed(w, t);
        break;
    case SUPPORT_ACT_RATE:
        rc = support_emit_ticket_rated(w, t);
        break;
    case SUPPORT_ACT_PEND:
    case SUPPORT_ACT_HOLD:
        break;
    }
    if (rc == 0)
        s_ticket_reply(w, t, st->msg);
}

static void s_change_msg_saved(crm_work_t *w, PGresult *res)
{
    s_change_t *st = crm_work_data(w);
    st->msg = PQntuples(res) == 1 ? crm_work_record(w, &crm__v1__ticket_message__descriptor,
                                                    crm_db_get_opt(res, 0, 0))
                                  : NULL;
    if (!st->msg) {
        crm_work_fail_unreadable(w);
        return;
    }
    s_change_emit(w, st->t);
}

static void s_change_saved(crm_work_t *w, PGresult *res)
{
    s_change_t *st = crm_work_data(w);
    Crm__V1__Ticket *t = PQntuples(res) == 1 ? SUPPORT_TICKET(w, crm_db_get_opt(res, 0, 0)) : NULL;
    if (!t) {
        crm_work_fail_unreadable(w);
        return;
    }
    st->t = t;
    if (st->msg)
        support_store_message_insert(w, st->msg, s_change_msg_saved);
    else
        s_change_emit(w, t);
}

/* Applies the action to t in memory (the status machine allowed it). */
static int s_change_apply(crm_work_t *w, s_change_t *st, Crm__V1__Ticket *t, int64_t now)
{
    char id[CRM_UUID_LEN + 1];
    switch (st->act) {
    case SUPPORT_ACT_ASSIGN:
        st->previous = t->assignee;
        t->assignee = (char *)st->a;
        if (*st->b)
            t->team = (char *)st->b;
        return 0;
    case SUPPORT_ACT_REPLY:
    case SUPPORT_ACT_NOTE:
    case SUPPORT_ACT_CUSTOMER_REPLY: {
        Crm__V1__TicketMessage *m = crm_work_alloc(w, sizeof *m);
        if (!m)
            return -1;
        crm__v1__ticket_message__init(m);
        crm_uuid_new(id);
        m->id = crm_work_strdup(w, id);
        m->ticket_id = t->id;
        m->kind = st->act == SUPPORT_ACT_REPLY
                      ? CRM__V1__TICKET_MESSAGE_KIND__TICKET_MESSAGE_KIND_PUBLIC_REPLY
                  : st->act == SUPPORT_ACT_NOTE
                      ? CRM__V1__TICKET_MESSAGE_KIND__TICKET_MESSAGE_KIND_INTERNAL_NOTE
                      : CRM__V1__TICKET_MESSAGE_KIND__TICKET_MESSAGE_KIND_CUSTOMER_MESSAGE;
        m->author = (char *)st->a;
        /* The customer's message is signed by the requester. */
        if (st->act == SUPPORT_ACT_CUSTOMER_REPLY && !*m->author)
            m->author = *t->requester_name ? t->requester_name : t->requester_email;
        /* Back from resolved: no longer resolved. */
        if (st->act == SUPPORT_ACT_CUSTOMER_REPLY && t->status == S_STATUS(RESOLVED))
            t->resolved_at_us = 0;
        m->body = (char *)st->b;
        m->created_at_us = now;
        st->msg = m;
        if (st->act == SUPPORT_ACT_REPLY && !t->first_responded_at_us)
            t->first_responded_at_us = now;
        return m->id ? 0 : -1;
    }
    case SUPPORT_ACT_RESOLVE: {
        Crm__V1__TicketResolution *r = crm_work_alloc(w, sizeof *r);
        char **tags = crm_work_alloc(w, (t->n_tags + st->n_tags + 1) * sizeof *tags);
        st->added = crm_work_alloc(w, (st->n_tags + 1) * sizeof *st->added);
        if (!r || !tags || !st->added)
            return -1;
        crm__v1__ticket_resolution__init(r);
        r->category = (char *)st->a;
        r->text = (char *)st->b;
        t->resolution = r;
        t->resolved_at_us = now;
        if (t->n_tags)
            memcpy(tags, t->tags, t->n_tags * sizeof *tags);
        size_t n = t->n_tags;
        for (size_t i = 0; i < st->n_tags; i++) {
            size_t k = 0;
            while (k < n && strcmp(tags[k], st->tags[i]) != 0)
                k++;
            if (k == n)
                tags[n++] = st->added[st->n_added++] = st->tags[i];
        }
        t->tags = tags;
        t->n_tags = n;
        return 0;
    }
    case SUPPORT_ACT_REOPEN:
        t->resolved_at_us = 0;
        return 0;
    case SUPPORT_ACT_RATE: {
        Crm__V1__TicketSatisfaction *s = crm_work_alloc(w, sizeof *s);
        if (!s)
            return -1;
        crm__v1__ticket_satisfaction__init(s);
        s->rating = st->rating;
        s->comment = (char *)st->a;
        s->rated_at_us = now;
        t->satisfaction = s;
        return 0;
    }
    case SUPPORT_ACT_PRIORITY:
    case SUPPORT_ACT_PEND:
    case SUPPORT_ACT_HOLD:
    case SUPPORT_ACT_CLOSE:
        return 0;
    }
    return 0;
}

static void s_change_locked(crm_work_t *w, PGresult *res)
{
    s_change_t *st = crm_work_data(w);
    support_err_t e;
    int to;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "ticket", st->id, NULL);
        return;
    }
    Crm__V1__Ticket *t = SUPPORT_TICKET(w, crm_db_get_opt(res, 0, 0));
    support_cal_t *cal = s_calendar(w, res, 1);
    if (!cal)
        return;
    if (!t) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (st->sender && !crm_db_get_bool(res, 0, 6)) {
        crm_work_fail(w, S_CODE(PERMISSION_DENIED), "raw", "sender is not the ticket's requester",
                      crm_work_printf(w, "%.80s wrote about ticket %s", st->sender, t->id),
                      "the customer must answer from an address support knows for them");
        return;
    }
    if (support_transition(t->status, st->act, &to, "id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    int64_t now = crm_now_us();
    st->from = t->status;
    if (st->act == SUPPORT_ACT_PRIORITY) {
        Crm__V1__SlaPolicy *pol =
            crm_work_record(w, &crm__v1__sla_policy__descriptor, crm_db_get_opt(res, 0, 5));
        if (!pol) {
            crm_work_fail_unreadable(w);
            return;
        }
        if ((int)t->priority == st->priority) {
            s_ticket_reply(w, t, NULL); /* nothing to change */
            return;
        }
        st->prev_priority = t->priority;
        t->priority = st->priority;
        support_sla_retarget(cal, now, pol->first_response_minutes, pol->resolution_minutes, t);
    }
    if (s_change_apply(w, st, t, now) < 0) {
        crm_work_fail_nomem(w);
        return;
    }
    if (support_clock_runs(st->from) && !support_clock_runs(to))
        support_sla_stop(cal, now, t);
    else if (!support_clock_runs(st->from) && support_clock_runs(to))
        support_sla_resume(cal, now, t);
    t->status = to;
    t->updated_at_us = now;
    support_store_ticket_save(w, t, s_change_saved);
}

/* Starts a change once the request passed its checks. */
static void s_change(crm_work_t *w, s_change_t *st)
{
    crm_work_set_data(w, st);
    support_store_ticket_lock(w, st->id, st->act == SUPPORT_ACT_PRIORITY ? st->priority : 0,
                              st->sender, s_change_locked);
}

static s_change_t *s_change_new(crm_work_t *w, support_action_t act, const char *id)
{
    if (s_check_id(w, id, "id") < 0)
        return NULL;
    s_change_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->act = act;
    st->id = id;
    st->a = st->b = "";
    return st;
}

/* Checks a text field and stores its trimmed copy in *out. */
static int s_text_in(crm_work_t *w, const char *s, size_t max, int required, const char *field,
                     const char **out)
{
    support_err_t e;
    if (support_check_text(s, max, required, field, &e) < 0) {
        s_fail(w, &e);
        return -1;
    }
    if (!(*out = s_trimmed(w, s))) {
        crm_work_fail_nomem(w);
        return -1;
    }
    return 0;
}

static void s_ticket_assign(crm_work_t *w)
{
    const Crm__V1__AssignTicketRequest *rq = (const void *)crm_work_request(w);
    s_change_t *st = s_change_new(w, SUPPORT_ACT_ASSIGN, rq ? rq->id : NULL);
    if (st && s_text_in(w, rq->assignee, SUPPORT_NAME_MAX, 1, "assignee", &st->a) == 0 &&
        s_text_in(w, rq->team, SUPPORT_NAME_MAX, 0, "team", &st->b) == 0 &&
        s_check_agent(w, st->a, "assignee") == 0 && s_check_team(w, st->b, "team") == 0)
        s_change(w, st);
}

static void s_ticket_message(crm_work_t *w, support_action_t act)
{
    const Crm__V1__AddTicketMessageRequest *rq = (const void *)crm_work_request(w);
    s_change_t *st = s_change_new(w, act, rq ? rq->id : NULL);
    if (!st)
        return;
    if (rq->from_customer && act == SUPPORT_ACT_NOTE) {
        crm_work_fail(w, S_INVALID, "from_customer", "a note cannot come from the customer", NULL,
                      "notes are internal; record the customer's message with reply");
        return;
    }
    if (rq->from_customer)
        st->act = SUPPORT_ACT_CUSTOMER_REPLY;
    if (s_text_in(w, rq->author, SUPPORT_NAME_MAX, 0, "author", &st->a) == 0 &&
        s_text_in(w, rq->body, SUPPORT_BODY_MAX, 1, "body", &st->b) == 0) {
        /* An agent's message is signed by the caller; the customer's by
         * the requester (once the ticket is read). */
        if (!*st->a && !rq->from_customer)
            st->a = crm_work_actor(w) ? crm_work_actor(w) : "";
        s_change(w, st);
    }
}

static void s_ticket_reply_cmd(crm_work_t *w)
{
    s_ticket_message(w, SUPPORT_ACT_REPLY);
}

static void s_ticket_note(crm_work_t *w)
{
    s_ticket_message(w, SUPPORT_ACT_NOTE);
}

static void s_ticket_status(crm_work_t *w, support_action_t act)
{
    const Crm__V1__ChangeTicketStatusRequest *rq = (const void *)crm_work_request(w);
    s_change_t *st = s_change_new(w, act, rq ? rq->id : NULL);
    if (st && s_text_in(w, rq->reason, SUPPORT_TEXT_MAX, 0, "reason", &st->a) == 0)
        s_change(w, st);
}

static void s_ticket_pend(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_PEND);
}

static void s_ticket_hold(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_HOLD);
}

static void s_ticket_reopen(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_REOPEN);
}

static void s_ticket_close(crm_work_t *w)
{
    s_ticket_status(w, SUPPORT_ACT_CLOSE);
}

static void s_ticket_resolve(crm_work_t *w)
{
    const Crm__V1__ResolveTicketRequest *rq = (const void *)crm_work_request(w);
    support_err_t e;
    s_change_t *st = s_change_new(w, SUPPORT_ACT_RESOLVE, rq ? rq->id : NULL);
    if (!st)
        return;
    if (!rq->resolution) {
        crm_work_fail(w, S_INVALID, "resolution", "value is required", NULL,
                      "say how the ticket was solved: a category and a text");
        return;
    }
    if (s_text_in(w, rq->resolution->category, SUPPORT_TAG_MAX, 1, "resolution.category", &st->a) <
            0 ||
        s_text_in(w, rq->resolution->text, SUPPORT_TEXT_MAX, 0, "resolution.text", &st->b) < 0)
        return;
    if (s_check_tags(w, rq->tags, rq->n_tags, "tags", &st->tags, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    st->n_tags = rq->n_tags;
    s_change(w, st);
}

static void s_ticket_prioritize(crm_work_t *w)
{
    const Crm__V1__SetTicketPriorityRequest *rq = (const void *)crm_work_request(w);
    support_err_t e;
    s_change_t *st = s_change_new(w, SUPPORT_ACT_PRIORITY, rq ? rq->id : NULL);
    if (!st)
        return;
    if (support_check_enum(&crm__v1__ticket_priority__descriptor, rq->priority, 0, "priority", &e) <
        0) {
        s_fail(w, &e);
        return;
    }
    st->priority = rq->priority;
    if (s_text_in(w, rq->reason, SUPPORT_TEXT_MAX, 0, "reason", &st->a) == 0)
        s_change(w, st);
}

static void s_ticket_rate(crm_work_t *w)
{
    const Crm__V1__RateTicketRequest *rq = (const void *)crm_work_request(w);
    support_err_t e;
    s_change_t *st = s_change_new(w, SUPPORT_ACT_RATE, rq ? rq->id : NULL);
    if (!st)
        return;
    if (support_check_rating(rq->rating, "rating", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    st->rating = rq->rating;
    if (s_text_in(w, rq->comment, SUPPORT_TEXT_MAX, 0, "comment", &st->a) == 0)
        s_change(w, st);
}

/* ---- support.email.receive ------------------------------------------------------------ */

static void s_email_receive(crm_work_t *w)
{
    const Crm__V1__ReceiveEmailRequest *rq = (const void *)crm_work_request(w);
    support_err_t e;
    char email[SUPPORT_EMAIL_LEN];
    if (!rq || !rq->raw.len) {
        crm_work_fail(w, S_INVALID, "raw", "value is required", NULL,
                      "give the message as received, headers and body");
        return;
    }
    support_mail_t *m = crm_work_alloc(w, sizeof *m);
    char *buf = crm_work_alloc(w, 2 * rq->raw.len + 1);
    if (!m || !buf) {
        crm_work_fail_nomem(w);
        return;
    }
    if (support_mail_parse((const char *)rq->raw.data, rq->raw.len, buf, m, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    if (crm_email_normalize(m->from, email, sizeof email) != 0) {
        crm_work_fail(w, S_INVALID, "raw", "sender address is malformed",
                      crm_work_printf(w, "From: \"%.80s\"", m->from), NULL);
        return;
    }
    if (support_check_text(m->body, SUPPORT_BODY_MAX, 1, "raw", &e) < 0) {
        if (!strcmp(e.message, "value is required"))
            crm_work_fail(w, S_INVALID, "raw", "email has no text", NULL,
                          "the customer's message is empty once quoted lines are removed");
        else
            s_fail(w, &e);
        return;
    }
    /* A display name that is no valid name is left out (the requester's
     * name is used instead). */
    if (support_check_text(m->name, SUPPORT_NAME_MAX, 0, "raw", &e) < 0)
        m->name[0] = 0;
    if (m->ticket_id[0]) {
        /* An answer: the customer's message on that ticket. */
        s_change_t *st =
            s_change_new(w, SUPPORT_ACT_CUSTOMER_REPLY, crm_work_strdup(w, m->ticket_id));
        if (!st)
            return;
        st->a = m->name;
        st->b = m->body;
        if (!(st->sender = crm_work_strdup(w, email))) {
            crm_work_fail_nomem(w);
            return;
        }
        s_change(w, st);
        return;
    }
    /* A new request: a ticket on the email channel. */
    Crm__V1__Ticket *src = crm_work_alloc(w, sizeof *src);
    if (!src) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__ticket__init(src);
    src->requester_email = email;
    src->requester_name = m->name;
    src->channel = CRM__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL;
    const char *start;
    src->subject = support_trim(m->subject, &start) ? m->subject : "(no subject)";
    src->description = m->body;
    s_open_start(w, src);
}

/* ---- support.ticket.show / list ------------------------------------------------------ */

static void s_ticket_shown(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowTicketRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "ticket", rq->id, NULL);
        return;
    }
    Crm__V1__TicketReply *r =
        crm_work_record(w, &crm__v1__ticket_reply__descriptor, crm_db_get_opt(res, 0, 0));
    if (!r) {
        crm_work_fail_unreadable(w);
        return;
    }
    crm_work_ok(w, &r->base);
}

static void s_ticket_show(crm_work_t *w)
{
    const Crm__V1__ShowTicketRequest *rq = (const void *)crm_work_request(w);
    if (s_check_id(w, rq ? rq->id : NULL, "id") == 0)
        support_store_ticket_show(w, rq->id, s_ticket_shown);
}

static void s_tickets_listed(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ListTicketsRequest *rq = (const void *)crm_work_request(w);
    int size = rq && rq->page_size ? rq->page_size : SUPPORT_PAGE_DEFAULT;
    int n = PQntuples(res);
    Crm__V1__ListTicketsReply r = CRM__V1__LIST_TICKETS_REPLY__INIT;
    if (n > size) { /* one more than a page: there is a next one */
        n = size;
        r.next_page_token = crm_work_printf(w, "%s:%s", crm_db_get_opt(res, n - 1, 1),
                                            crm_db_get_opt(res, n - 1, 2));
        if (!r.next_page_token) {
            crm_work_fail_nomem(w);
            return;
        }
    }
    r.tickets = (Crm__V1__Ticket **)crm_work_records(w, &crm__v1__ticket__descriptor, res, 0, n);
    if (!r.tickets)
        return;
    r.n_tickets = (size_t)n;
    crm_work_ok(w, &r.base);
}

static void s_ticket_list(crm_work_t *w)
{
    const Crm__V1__ListTicketsRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__ListTicketsRequest empty = CRM__V1__LIST_TICKETS_REQUEST__INIT;
    support_err_t e;
    if (!rq)
        rq = &empty;
    if (support_check_enum(&crm__v1__ticket_status__descriptor, rq->status, 1, "status", &e) < 0 ||
        support_check_enum(&crm__v1__ticket_priority__descriptor, rq->priority, 1, "priority", &e) <
            0) {
        s_fail(w, &e);
        return;
    }
    if (*rq->customer_id && !crm_uuid_valid(rq->customer_id)) {
        crm_work_fail(w, S_INVALID, "customer_id", "value is not a UUID",
                      crm_work_printf(w, "got \"%.80s\"", rq->customer_id), NULL);
        return;
    }
    if (rq->page_size < 0 || rq->page_size > SUPPORT_PAGE_MAX) {
        crm_work_fail(w, S_INVALID, "page_size", "page size must be between 0 and 500",
                      crm_work_printf(w, "got %d", (int)rq->page_size), NULL);
        return;
    }
    int64_t after_us;
    char *after_id = crm_work_alloc(w, CRM_UUID_LEN + 1);
    if (!after_id) {
        crm_work_fail_nomem(w);
        return;
    }
    if (support_page_token_parse(rq->page_token, &after_us, after_id, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    support_store_ticket_list(w, rq, after_us, after_id,
                              (rq->page_size ? rq->page_size : SUPPORT_PAGE_DEFAULT) + 1,
                              s_tickets_listed);
}

/* ---- SLA settings ---------------------------------------------------------------------- */

static void s_policy_saved(crm_work_t *w, PGresult *res)
{
    Crm__V1__SlaPolicyReply r = CRM__V1__SLA_POLICY_REPLY__INIT;
    r.policy = PQntuples(res) == 1
                   ? crm_work_record(w, &crm__v1__sla_policy__descriptor, crm_db_get_opt(res, 0, 0))
                   : NULL;
    if (!r.policy) {
        crm_work_fail_unreadable(w);
        return;
    }
    crm_work_ok(w, &r.base);
}

static void s_policy_set(crm_work_t *w)
{
    const Crm__V1__SetSlaPolicyRequest *rq = (const void *)crm_work_request(w);
    support_err_t e;
    if (support_check_policy(rq ? rq->policy : NULL, "policy", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    support_store_policy_set(w, rq->policy, s_policy_saved);
}

static void s_policies_listed(crm_work_t *w, PGresult *res)
{
    int n = PQntuples(res);
    Crm__V1__ListSlaPoliciesReply r = CRM__V1__LIST_SLA_POLICIES_REPLY__INIT;
    r.policies =
        (Crm__V1__SlaPolicy **)crm_work_records(w, &crm__v1__sla_policy__descriptor, res, 0, n);
    if (!r.policies)
        return;
    r.n_policies = (size_t)n;
    crm_work_ok(w, &r.base);
}

static void s_policy_list(crm_work_t *w)
{
    support_store_policy_list(w, s_policies_listed);
}

static void s_calendar_shown(crm_work_t *w, PGresult *res)
{
    Crm__V1__BusinessCalendarReply r = CRM__V1__BUSINESS_CALENDAR_REPLY__INIT;
    r.calendar = PQntuples(res) == 1 ? crm_work_record(w, &crm__v1__business_calendar__descriptor,
                                                       crm_db_get_opt(res, 0, 0))
                                     : NULL;
    if (!r.calendar) {
        crm_work_fail_unreadable(w);
        return;
    }
    crm_work_ok(w, &r.base);
}

/* support.sla.calendar.set: the old calendar (locked), the new one, then
 * the running tickets moved from the one to the other. */
typedef struct {
    char *json;
    support_cal_t *old, *cal;
    Crm__V1__BusinessCalendarReply reply;
    int64_t now;
} s_calset_t;

static void s_calendar_rearmed(crm_work_t *w, PGresult *res)
{
    s_calset_t *st = crm_work_data(w);
    (void)res;
    crm_work_ok(w, &st->reply.base);
}

static void s_calendar_running(crm_work_t *w, PGresult *res)
{
    s_calset_t *st = crm_work_data(w);
    int n = PQntuples(res);
    size_t k = 0;
    char **v[5];
    for (int i = 0; i < 5; i++)
        if (!(v[i] = crm_work_alloc(w, (size_t)(n ? n : 1) * sizeof *v[i]))) {
            crm_work_fail_nomem(w);
            return;
        }
    for (int i = 0; i < n; i++) {
        Crm__V1__Ticket *t = SUPPORT_TICKET(w, crm_db_get_opt(res, i, 0));
        if (!t) {
            crm_work_fail_unreadable(w);
            return;
        }
        if (!support_sla_recalendar(st->old, st->cal, st->now, t))
            continue;
        v[0][k] = t->id;
        v[1][k] = crm_work_printf(w, "%lld", (long long)t->first_response_due_us);
        v[2][k] = crm_work_printf(w, "%lld", (long long)t->first_response_at_risk_us);
        v[3][k] = crm_work_printf(w, "%lld", (long long)t->resolution_due_us);
        v[4][k] = crm_work_printf(w, "%lld", (long long)t->resolution_at_risk_us);
        if (!v[1][k] || !v[2][k] || !v[3][k] || !v[4][k]) {
            crm_work_fail_nomem(w);
            return;
        }
        k++;
    }
    st->reply.tickets_rearmed = (int32_t)k;
    if (k == 0) {
        crm_work_ok(w, &st->reply.base);
        return;
    }
    crm_info("support.calendar", "%zu running tickets moved to the new calendar", k);
    support_store_rearm(w, v[0], v[1], v[2], v[3], v[4], k, s_calendar_rearmed);
}

static void s_calendar_saved(crm_work_t *w, PGresult *res)
{
    s_calset_t *st = crm_work_data(w);
    if (PQntuples(res) != 1 || !(st->cal = s_calendar(w, res, 0)))
        return;
    st->reply.calendar =
        crm_work_record(w, &crm__v1__business_calendar__descriptor, crm_db_get_opt(res, 0, 0));
    if (!st->reply.calendar) {
        crm_work_fail_unreadable(w);
        return;
    }
    st->now = crm_now_us();
    support_store_running(w, st->now, s_calendar_running);
}

static void s_calendar_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetBusinessCalendarRequest *rq = (const void *)crm_work_request(w);
    s_calset_t *st = crm_work_data(w);
    if (PQntuples(res) != 1 || !(st->old = s_calendar(w, res, 0)))
        return;
    support_store_calendar_set(w, st->json, rq->calendar->time_zone, s_calendar_saved);
}

static void s_zone_checked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetBusinessCalendarRequest *rq = (const void *)crm_work_request(w);
    if (!crm_db_get_bool(res, 0, 0)) {
        crm_work_fail(
            w, S_CODE(NOT_FOUND), "calendar.time_zone", "time zone does not exist",
            crm_work_printf(w, "PostgreSQL knows no zone \"%.80s\"", rq->calendar->time_zone),
            "give an IANA name as in pg_timezone_names, e.g. Europe/Berlin");
        return;
    }
    support_store_calendar_lock(w, s_calendar_locked);
}

static void s_calendar_set(crm_work_t *w)
{
    const Crm__V1__SetBusinessCalendarRequest *rq = (const void *)crm_work_request(w);
    support_err_t e;
    support_cal_t *cal = crm_work_alloc(w, sizeof *cal);
    if (!cal) {
        crm_work_fail_nomem(w);
        return;
    }
    if (support_cal_from_msg(rq ? rq->calendar : NULL, cal, "calendar", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    json_t *j = crm_pbjson_from_message(&rq->calendar->base);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    char *copy = text ? crm_work_strdup(w, text) : NULL;
    free(text);
    json_decref(j);
    s_calset_t *st = crm_work_alloc(w, sizeof *st);
    if (!copy || !st) {
        crm_work_fail_nomem(w);
        return;
    }
    memset(st, 0, sizeof *st);
    crm__v1__business_calendar_reply__init(&st->reply);
    st->json = copy;
    crm_work_set_data(w, st);
    if (!*rq->calendar->time_zone)
        support_store_calendar_lock(w, s_calendar_locked);
    else
        support_store_zone_known(w, rq->calendar->time_zone, s_zone_checked);
}

static void s_calendar_show(crm_work_t *w)
{
    support_store_calendar_show(w, s_calendar_shown);
}

/* ---- the SLA scan ------------------------------------------------------------------------ */

static void s_sla_found(crm_work_t *w, PGresult *res)
{
    support_t *ctx = crm_work_data(w);
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        Crm__V1__Ticket *t = SUPPORT_TICKET(w, crm_db_get_opt(res, i, 0));
        if (!t) {
            crm_work_fail_unreadable(w);
            return;
        }
        /* Columns 1..4: first response at risk, breached; resolution at
         * risk, breached; at risk is announced before the breach. */
        for (int c = 1; c <= 4; c++) {
            int target = c <= 2 ? CRM__V1__SLA_TARGET__SLA_TARGET_FIRST_RESPONSE
                                : CRM__V1__SLA_TARGET__SLA_TARGET_RESOLUTION;
            if (crm_db_get_bool(res, i, c) && support_emit_sla(w, t, target, c % 2 == 0) < 0)
                return;
        }
    }
    ctx->sla_full = n >= SUPPORT_SLA_BATCH;
    if (n > 0)
        crm_info("support.sla", "%d tickets reached an SLA instant", n);
    crm_work_ok(w, NULL);
}

void support_sla_scan(crm_work_t *w)
{
    support_store_sla_scan(w, crm_now_us(), SUPPORT_SLA_BATCH, s_sla_found);
}

/* ---- consumer: people registered or updated by other services ---------------------------- */

static void s_person_upserted(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

static void s_people_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Person *src = NULL;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED)
        src = ev->person_registered->person;
    else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_UPDATED)
        src = ev->person_updated->person;
    else {
        crm_work_ok(w, NULL); /* not a profile event */
        return;
    }
    if (!src || !crm_uuid_valid(src->id)) {
        crm_work_fail(w, S_INVALID, "person.id", "event has no valid person id",
                      src ? crm_work_printf(w, "got \"%.80s\"", src->id) : "no person", NULL);
        return;
    }
    support_store_person_upsert(w, src, ev->source, crm_now_us(), s_person_upserted);
}

/* ---- consumer: contact preferences from marketing ------------------------------------------ */

/* "email" for CHANNEL_EMAIL; NULL for 0 or an unknown value. */
static char *s_channel_name(crm_work_t *w, int v)
{
    const ProtobufCEnumValue *ev =
        v ? protobuf_c_enum_descriptor_get_value(&crm__v1__channel__descriptor, v) : NULL;
    if (!ev)
        return NULL;
    char *s = crm_work_strdup(w, ev->name + sizeof "CHANNEL_" - 1);
    for (char *c = s; c && *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    return s;
}

static void s_preferences_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    if (ev->payload_case != CRM__V1__EVENT__PAYLOAD_PREFERENCES_CHANGED ||
        !ev->preferences_changed->preferences) {
        crm_work_ok(w, NULL);
        return;
    }
    const Crm__V1__ContactPreferences *p = ev->preferences_changed->preferences;
    const char *customer = crm_uuid_valid(p->customer_id) ? p->customer_id : ev->subject;
    if (!crm_uuid_valid(customer)) {
        crm_work_fail(w, S_INVALID, "preferences.customer_id", "event has no valid customer id",
                      crm_work_printf(w, "got \"%.80s\"", p->customer_id), NULL);
        return;
    }
    char **names = crm_work_alloc(w, (p->n_opted_out + 1) * sizeof *names);
    char *preferred = s_channel_name(w, p->preferred_channel);
    size_t n = 0;
    if (!names) {
        crm_work_fail_nomem(w);
        return;
    }
    for (size_t i = 0; i < p->n_opted_out; i++)
        if ((names[n] = s_channel_name(w, p->opted_out[i])))
            n++; /* unknown channels (a newer marketing) are skipped */
    support_store_preferences(w, customer, names, n, preferred ? preferred : "", crm_now_us(),
                              s_person_upserted);
}

/* ---- tables ---------------------------------------------------------------------------------- */

#define S_CMD(name, msg, fn, ro)                                                                   \
    {                                                                                              \
        name, &crm__v1__##msg##__descriptor, fn, ro                                                \
    }

const crm_command_def_t support_commands[] = {
    S_CMD("support.ticket.open", open_ticket_request, s_ticket_open, 0),
    S_CMD("support.ticket.show", show_ticket_request, s_ticket_show, 1),
    S_CMD("support.ticket.list", list_tickets_request, s_ticket_list, 1),
    S_CMD("support.ticket.assign", assign_ticket_request, s_ticket_assign, 0),
    S_CMD("support.ticket.reply", add_ticket_message_request, s_ticket_reply_cmd, 0),
    S_CMD("support.ticket.note", add_ticket_message_request, s_ticket_note, 0),
    S_CMD("support.ticket.pend", change_ticket_status_request, s_ticket_pend, 0),
    S_CMD("support.ticket.hold", change_ticket_status_request, s_ticket_hold, 0),
    S_CMD("support.ticket.resolve", resolve_ticket_request, s_ticket_resolve, 0),
    S_CMD("support.ticket.reopen", change_ticket_status_request, s_ticket_reopen, 0),
    S_CMD("support.ticket.close", change_ticket_status_request, s_ticket_close, 0),
    S_CMD("support.ticket.rate", rate_ticket_request, s_ticket_rate, 0),
    S_CMD("support.ticket.prioritize", set_ticket_priority_request, s_ticket_prioritize, 0),
    S_CMD("support.email.receive", receive_email_request, s_email_receive, 0),
    S_CMD("support.sla.policy.set", set_sla_policy_request, s_policy_set, 0),
    S_CMD("support.sla.policy.list", list_sla_policies_request, s_policy_list, 1),
    S_CMD("support.sla.calendar.set", set_business_calendar_request, s_calendar_set, 0),
    S_CMD("support.sla.calendar.show", show_business_calendar_request, s_calendar_show, 1),
    {NULL, NULL, NULL, 0},
};

static const char *const s_people_prefixes[] = {"crm.sales.person.", "crm.marketing.person.", NULL};

static const char *const s_preferences_prefixes[] = {"crm.marketing.preferences.", NULL};

const crm_consumer_def_t support_consumers[] = {
    {"support.people", s_people_prefixes, s_people_apply},
    {"support.preferences", s_preferences_prefixes, s_preferences_apply},
    {NULL, NULL, NULL},
};
