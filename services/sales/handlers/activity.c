/* handlers/activity.c: activities: log, schedule, complete and list, the
 * due scan that main.c's timer submits (sales_due_scan), and the contact
 * policy: marketing's opt-outs and consent withdrawals (sales.preferences)
 * refuse scheduling a call, meeting, letter or email on a channel the
 * person opted out of or withdrew consent for. */
#include "handlers.h"

#include <crm/db.h>

#include <inttypes.h>
#include <jansson.h>
#include <string.h>

/* The marketing channel (crm.v1.Channel) an activity kind contacts the
 * person through, or 0 for one that contacts nobody (a task, a note). */
static int s_kind_channel(int kind)
{
    switch (kind) {
    case CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_CALL:
        return CRM__V1__CHANNEL__CHANNEL_PHONE;
    case CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_MEETING:
        return CRM__V1__CHANNEL__CHANNEL_MEETING;
    case CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_EMAIL:
        return CRM__V1__CHANNEL__CHANNEL_EMAIL;
    case CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_LETTER:
        return CRM__V1__CHANNEL__CHANNEL_MAIL;
    default:
        return 0;
    }
}

/* 1 when the JSON array of channel numbers `opted_out` holds `channel`. */
static int s_opted_out(const char *opted_out, int channel)
{
    json_t *a = opted_out ? json_loads(opted_out, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    int found = 0;
    json_array_foreach(a, i, v) found |= json_integer_value(v) == channel;
    json_decref(a);
    return found;
}

static void s_activity_reply(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityReply r = CRM__V1__ACTIVITY_REPLY__INIT;
    r.activity = a;
    crm_work_ok(w, &r.base);
}

/* The task a next action became, scheduled: announced as any scheduled
 * activity is, then the reply names the activity that asked for it. */
static void s_next_action_scheduled(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_data(w);
    Crm__V1__Activity *t = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (t && sales_emit_activity_scheduled(w, t) == 0)
        s_activity_reply(w, a);
}

/* A done activity with a next action and a due time schedules that next
 * action as a TASK of the same owner, person and deal, due then: it falls
 * due exactly as a scheduled activity does (the due scan's
 * activity.due event and reminder, analytics' overdue_activity finding).
 * Otherwise replies at once. */
static void s_next_action(crm_work_t *w, Crm__V1__Activity *a)
{
    if (!a->next_action || !*a->next_action || a->next_action_due_us <= 0) {
        s_activity_reply(w, a);
        return;
    }
    Crm__V1__Activity *t = crm_work_alloc(w, sizeof *t);
    char id[CRM_UUID_LEN + 1];
    if (!t) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__activity__init(t);
    crm_uuid_new(id);
    t->id = crm_work_strdup(w, id);
    t->kind = CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_TASK;
    t->subject = a->next_action;
    t->body = crm_work_printf(w, "next action of \"%s\" (activity %s)", a->subject, a->id);
    t->person_id = a->person_id;
    t->deal_id = a->deal_id;
    t->owner = a->owner;
    t->status = CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED;
    t->due_at_us = a->next_action_due_us;
    t->outcome = "";
    t->next_action = "";
    t->override_reason = "";
    if (!t->id || !t->body) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, a);
    sales_store_activity_insert(w, t, 0, s_next_action_scheduled);
}

/* What follows the insert of a logged or scheduled activity `a`. */
static void s_activity_stored(crm_work_t *w, Crm__V1__Activity *a)
{
    int rc = a->status == CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED
                 ? sales_emit_activity_scheduled(w, a)
             : a->kind == CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_NOTE
                 ? sales_emit_note_added(w, a)
                 : sales_emit_activity_completed(w, a);
    if (rc == 0 && a->status == CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_DONE)
        s_next_action(w, a);
    else if (rc == 0)
        s_activity_reply(w, a);
}

static void s_activity_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (a)
        s_activity_stored(w, a);
}

/* Columns col and col + 1 of row `row` of `res`: whether the activity's
 * person and deal exist. Fails the work and answers 0 when one does not. */
static int s_activity_refs_ok(crm_work_t *w, const Crm__V1__Activity *a, PGresult *res, int row,
                              int col)
{
    if (!crm_db_get_bool(res, row, col)) {
        crm_work_fail_not_found(w, "activity.person_id", "person", a->person_id,
                                "register the person with sales.person.register first");
        return 0;
    }
    if (!crm_db_get_bool(res, row, col + 1)) {
        crm_work_fail_not_found(w, "activity.deal_id", "deal", a->deal_id,
                                "list deals with sales.deal.list");
        return 0;
    }
    return 1;
}

/* What the statement answered for activity a, logged with its person, in
 * row `row` of res (columns 1 to 8 of the run's, 0 to 7 of one command's,
 * from `col`). */
static void s_activity_logged_at(crm_work_t *w, Crm__V1__Activity *a, PGresult *res, int row,
                                 int col)
{
    if (!s_activity_refs_ok(w, a, res, row, col))
        return;
    /* The row holds what was sent but for what the function returns
     * (sql/0017): the person's id (a merged one's survivor), the deal's in
     * its canonical form and the instants the database stamped. */
    if (!(a->person_id = sales_cell_text(w, res, row, col + 2)) ||
        !(a->deal_id = sales_cell_text(w, res, row, col + 3)))
        return;
    a->due_at_us = crm_db_get_int(res, row, col + 4);
    a->completed_at_us = crm_db_get_int(res, row, col + 5);
    a->next_action_due_us = crm_db_get_int(res, row, col + 6);
    a->created_at_us = crm_db_get_int(res, row, col + 7);
    a->due_notified = 0;
    s_activity_stored(w, a);
}

/* sales.activity.log with its person: checked and inserted at once. */
static void s_activity_logged(crm_work_t *w, PGresult *res)
{
    s_activity_logged_at(w, crm_work_data(w), res, 0, 0);
}

static void s_activity_context(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_data(w);
    if (!s_activity_refs_ok(w, a, res, 0, 0))
        return;
    int channel = s_kind_channel(a->kind);
    if (a->status == CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED && channel &&
        !*a->override_reason) {
        /* An opt-out, or a withdrawn consent for the channel's marketing
         * purpose (purposes 1-5 are numbered like the channels), refuses.
         * No consent recorded at all does not: a sales contact with one
         * person is not a campaign (docs/architecture.md, "Contact policy
         * in sales and support"). */
        int out = s_opted_out(crm_db_get_opt(res, 0, 3), channel);
        int withdrawn = !out && channel != CRM__V1__CHANNEL__CHANNEL_MEETING &&
                        s_opted_out(crm_db_get_opt(res, 0, 4), channel);
        if (out || withdrawn) {
            const ProtobufCEnumValue *v =
                protobuf_c_enum_descriptor_get_value(&crm__v1__activity_kind__descriptor, a->kind);
            const char *name = channel == CRM__V1__CHANNEL__CHANNEL_MAIL      ? "postal"
                               : channel == CRM__V1__CHANNEL__CHANNEL_PHONE   ? "phone"
                               : channel == CRM__V1__CHANNEL__CHANNEL_MEETING ? "meeting"
                                                                              : "email";
            crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), "activity.kind",
                          out ? crm_work_printf(w, "person opted out of %s contact", name)
                              : crm_work_printf(w, "person withdrew consent to %s contact", name),
                          crm_work_printf(w, "%s with a person who %s %s contact",
                                          v ? v->name : "activity",
                                          out ? "opted out of" : "withdrew consent to", name),
                          "choose another kind of contact, or send override_reason saying why"
                          " this contact is needed anyway");
            return;
        }
    }
    if (!*a->person_id) {
        const char *p = crm_db_get_opt(res, 0, 2);
        if (!p) {
            sales_invalid(w, "activity.person_id", "activity needs a person",
                          "the deal has no person; send person_id");
            return;
        }
        if (!(a->person_id = crm_work_strdup(w, p))) {
            crm_work_fail_nomem(w);
            return;
        }
    }
    sales_store_activity_insert(w, a, 0, s_activity_inserted);
}

/* The activity w asks for, checked, with its id and status; or NULL with
 * w failed. */
static Crm__V1__Activity *s_activity_read(crm_work_t *w, int scheduled)
{
    const Crm__V1__LogActivityRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Activity *src = rq->activity;
    sales_in_t in = {.w = w};
    Crm__V1__Activity *a = crm_work_alloc(w, sizeof *a);
    char id[CRM_UUID_LEN + 1];
    if (!a) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    if (!src) {
        sales_invalid(w, "activity", "activity is required",
                      "send its kind, a subject or body, and the person");
        return NULL;
    }
    crm__v1__activity__init(a);
    int rc =
        sales_check_enum(&crm__v1__activity_kind__descriptor, src->kind, 0, "activity.kind", &in.e);
    if (rc == 0)
        rc = sales_in_text(&in, src->subject, SALES_NAME_MAX, "activity.subject", &a->subject);
    if (rc == 0)
        rc = sales_in_text(&in, src->body, SALES_BODY_MAX, "activity.body", &a->body);
    if (rc == 0 && !*a->subject && !*a->body)
        rc = sales_err_set(&in.e, SALES_INVALID, "activity.subject",
                           "activity needs a subject or a body", "say what it is about", NULL);
    if (rc == 0)
        rc = sales_in_id(&in, src->person_id, 0, "activity.person_id", &a->person_id);
    if (rc == 0)
        rc = sales_in_id(&in, src->deal_id, 0, "activity.deal_id", &a->deal_id);
    if (rc == 0 && !*a->person_id && !*a->deal_id)
        rc = sales_err_set(&in.e, SALES_INVALID, "activity.person_id",
                           "activity.person_id is required",
                           "send the person it is with (or a deal that has one)", NULL);
    if (rc == 0)
        rc = sales_in_text(&in, src->owner, SALES_NAME_MAX, "activity.owner", &a->owner);
    if (rc == 0)
        rc = sales_in_text(&in, src->outcome, SALES_TEXT_MAX, "activity.outcome", &a->outcome);
    if (rc == 0)
        rc = sales_in_text(&in, src->next_action, SALES_TEXT_MAX, "activity.next_action",
                           &a->next_action);
    if (rc == 0 && src->next_action_due_us < 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "activity.next_action_due_us", "time is negative",
                           "send microseconds since the Unix epoch", "got %" PRId64,
                           src->next_action_due_us);
    if (rc == 0)
        rc = sales_in_text(&in, rq->override_reason, SALES_TEXT_MAX, "override_reason",
                           &a->override_reason);
    if (rc == 0 && !scheduled && *a->override_reason)
        rc = sales_err_set(&in.e, SALES_INVALID, "override_reason",
                           "only a scheduled activity takes an override reason",
                           "leave it out when logging what already happened", NULL);
    if (rc == 0 && scheduled && src->due_at_us <= 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "activity.due_at_us",
                           src->due_at_us ? "time is negative" : "activity.due_at_us is required",
                           "send when it falls due, in microseconds since the Unix epoch",
                           "got %" PRId64, src->due_at_us);
    if (sales_in_done(&in, rc) < 0)
        return NULL;
    if (sales_owner(w, CRM_REC_ACTIVITY, CRM_ACT_CREATE, "activity.owner", &a->owner) < 0)
        return NULL;
    a->kind = src->kind;
    a->status = scheduled ? CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED
                          : CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_DONE;
    a->due_at_us = scheduled ? src->due_at_us : 0;
    a->next_action_due_us = src->next_action_due_us;
    crm_uuid_new(id);
    if (!(a->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    return a;
}

/* Stores a read activity: logged with its person, nothing is to be decided
 * between the checks and the insert (the contact policy is for
 * scheduling), so one statement; otherwise the context first. */
static void s_activity_add_read(crm_work_t *w, Crm__V1__Activity *a)
{
    crm_work_set_data(w, a);
    if (a->status == CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_DONE && *a->person_id)
        sales_store_activity_log(w, a, s_activity_logged);
    else
        sales_store_activity_context(w, a->person_id, a->deal_id, s_activity_context);
}

static void s_activity_add(crm_work_t *w, int scheduled)
{
    Crm__V1__Activity *a = s_activity_read(w, scheduled);
    if (a)
        s_activity_add_read(w, a);
}

void sales_activity_log(crm_work_t *w)
{
    s_activity_add(w, 0);
}

void sales_activity_schedule(crm_work_t *w)
{
    s_activity_add(w, 1);
}

/* ---- sales.activity.log's set-based form -------------------------------------- */

static void s_activities_logged(crm_work_t *lead, PGresult *res)
{
    sales_run_t *run = sales_run_answered(lead, res);
    for (size_t i = 0; run && i < run->n; i++)
        s_activity_logged_at(run->works[i], run->recs[i], res, (int)i, 1);
}

/* A run of logged activities (crm_command_batch_fn): each checked as
 * sales.activity.log checks it (a bad one is refused alone, before the
 * statement); those with their person inserted by one statement over
 * arrays (sql/0021), each then emitting and answering (and scheduling its
 * next action) as one logged alone does. One that names only a deal takes
 * its own statements, as does a run of one and the retry of a failed run. */
void sales_activity_log_run(crm_work_t *const *works, size_t n)
{
    sales_run_t *run = sales_run_new(works, n);
    if (!run)
        return;
    for (size_t i = 0; i < n; i++) {
        Crm__V1__Activity *a = s_activity_read(works[i], 0);
        if (a && *a->person_id)
            sales_run_add(run, works[i], a);
        else if (a)
            s_activity_add_read(works[i], a);
    }
    if (run->n == 1) {
        s_activity_add_read(run->works[0], run->recs[0]);
    } else if (run->n > 1) {
        crm_work_set_data(run->works[0], run);
        sales_store_activity_log_run(run->works[0], (Crm__V1__Activity *const *)run->recs, run->n,
                                     s_activities_logged);
    }
}

static void s_activity_completed(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (a && sales_emit_activity_completed(w, a) == 0)
        s_next_action(w, a);
}

static void s_activity_complete_locked(crm_work_t *w, PGresult *res)
{
    Crm__V1__CompleteActivityRequest *rq = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "activity", rq->id,
                                "list activities with sales.activity.list");
        return;
    }
    Crm__V1__Activity *a = SALES_ACTIVITY(w, crm_db_get_opt(res, 0, 0));
    if (!a) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!crm_work_may(w, CRM_REC_ACTIVITY, CRM_ACT_EDIT, a->owner)) {
        crm_work_fail_not_found(w, "id", "activity", rq->id,
                                "list activities with sales.activity.list");
        return;
    }
    if (a->status != CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED) {
        crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), "id", "activity is already done",
                      crm_work_printf(w, "activity %s was completed", a->id),
                      "log a new activity for what happened since");
        return;
    }
    sales_store_activity_complete(w, rq, s_activity_completed);
}

void sales_activity_complete(crm_work_t *w)
{
    const Crm__V1__CompleteActivityRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    Crm__V1__CompleteActivityRequest *c = crm_work_alloc(w, sizeof *c);
    if (!c) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__complete_activity_request__init(c);
    int rc = sales_in_id(&in, rq->id, 1, "id", &c->id);
    if (rc == 0)
        rc = sales_in_text(&in, rq->outcome, SALES_TEXT_MAX, "outcome", &c->outcome);
    if (rc == 0)
        rc = sales_in_text(&in, rq->next_action, SALES_TEXT_MAX, "next_action", &c->next_action);
    if (rc == 0 && rq->next_action_due_us < 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "next_action_due_us", "time is negative",
                           "send microseconds since the Unix epoch", "got %" PRId64,
                           rq->next_action_due_us);
    if (sales_in_done(&in, rc) < 0)
        return;
    c->next_action_due_us = rq->next_action_due_us;
    crm_work_set_data(w, c);
    sales_store_activity_lock(w, c->id, s_activity_complete_locked);
}

static void s_activities_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListActivitiesReply r = CRM__V1__LIST_ACTIVITIES_REPLY__INIT;
    if (sales_list_rows(w, res, &crm__v1__activity__descriptor, &r.activities, &r.n_activities,
                        &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

void sales_activity_list(crm_work_t *w)
{
    const Crm__V1__ListActivitiesRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->person_id, 0, "person_id", &e) < 0 ||
        sales_check_id(rq->deal_id, 0, "deal_id", &e) < 0 ||
        sales_check_enum(&crm__v1__activity_status__descriptor, rq->status, 1, "status", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    if (rq->due_before_us < 0) {
        sales_invalid(w, "due_before_us", "time is negative",
                      "send microseconds since the Unix epoch, or 0 for no bound");
        return;
    }
    sales_list_t *l = sales_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_activity_list(w, rq, &l->page, s_activities_listed);
}

/* ---- consumer: marketing's opt-outs and consent (sales.preferences) ------------ */

void sales_preferences_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__ConsentEntry *k = ev->payload_case == CRM__V1__EVENT__PAYLOAD_CONSENT_GRANTED
                                         ? ev->consent_granted->entry
                                     : ev->payload_case == CRM__V1__EVENT__PAYLOAD_CONSENT_WITHDRAWN
                                         ? ev->consent_withdrawn->entry
                                         : NULL;
    if (k) {
        if (!crm_uuid_valid(k->customer_id) || k->purpose <= 0) {
            crm_work_ok(w, NULL); /* nothing sales could keep */
            return;
        }
        sales_store_consent_put(w, k->customer_id, (int)k->purpose, k->granted, k->at_us, NULL);
        return;
    }
    const Crm__V1__ContactPreferences *p =
        ev->payload_case == CRM__V1__EVENT__PAYLOAD_PREFERENCES_CHANGED
            ? ev->preferences_changed->preferences
            : NULL;
    int channels[16];
    size_t n = 0;
    if (!p || !crm_uuid_valid(p->customer_id)) {
        crm_work_ok(w, NULL); /* not a preferences event, or no person: nothing to keep */
        return;
    }
    for (size_t i = 0; i < p->n_opted_out && n < sizeof channels / sizeof channels[0]; i++)
        channels[n++] = (int)p->opted_out[i];
    sales_store_opt_outs_put(w, p->customer_id, channels, n, NULL);
}

/* ---- the due scan (service-initiated) ------------------------------------------ */

static void s_due_found(crm_work_t *w, PGresult *res)
{
    sales_t *ctx = crm_work_data(w);
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        Crm__V1__Activity *a = SALES_ACTIVITY(w, crm_db_get_opt(res, i, 0));
        if (!a) {
            crm_work_fail_unreadable(w);
            return;
        }
        if (sales_emit_activity_due(w, a) < 0)
            return;
    }
    if (n >= SALES_DUE_BATCH)
        crm_scan_more(ctx->due_scan);
    if (n > 0)
        crm_debug("sales.due", "%d activities fell due", n);
    crm_work_ok(w, NULL);
}

void sales_due_scan(crm_work_t *w)
{
    sales_store_activity_due(w, SALES_DUE_BATCH, crm_now_us(), s_due_found);
}
