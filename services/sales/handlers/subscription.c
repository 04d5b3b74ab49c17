/* handlers/subscription.c: subscriptions, what plan a customer is on:
 * create, change, renew, cancel, show and list.
 *
 * Every subscription keeps one scheduled task for the customer's owner,
 * due SALES_RENEWAL_NOTICE_DAYS before the renewal date, so that the
 * renewal falls due as any scheduled activity does (the due scan, on the
 * service's clock). When the renewal date moves (a change, a renewal) the
 * old task is closed and a new one made; a cancellation closes it. */
#include "handlers.h"

#include <crm/check.h>
#include <crm/date.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PERIOD_MONTH CRM__V1__SUBSCRIPTION_PERIOD__SUBSCRIPTION_PERIOD_MONTH
#define S_PERIOD_YEAR CRM__V1__SUBSCRIPTION_PERIOD__SUBSCRIPTION_PERIOD_YEAR
#define S_ACTIVE CRM__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_STATUS_ACTIVE
#define S_CANCELLED CRM__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_STATUS_CANCELLED
#define S_DAY_US (86400LL * 1000000LL)

typedef enum { S_CREATE, S_CHANGE, S_RENEW, S_CANCEL } s_op_t;

typedef struct {
    s_op_t op;
    char *id, *reason;
    /* The subscription as it will be written. */
    Crm__V1__Subscription *s;
    /* Renew: the renewal date that passed. */
    char *from;
    /* Change: the fields the request names, and those that changed. */
    const Crm__V1__ChangeSubscriptionRequest *rq;
    char **changed;
    size_t n_changed;
    /* Whether the reminder moves (a new renewal date) or ends. */
    int new_task, close_task;
    Crm__V1__Activity *closed, *task;
} s_sub_t;

/* "YYYY-MM-DD" of days since 1970-01-01, in the arena. */
static char *s_date(crm_work_t *w, int64_t days)
{
    int64_t y;
    int m, d;
    crm_civil_from_days(days, &y, &m, &d);
    return crm_work_printf(w, "%04" PRId64 "-%02d-%02d", y, m, d);
}

static int64_t s_days(const char *date)
{
    int64_t days = 0;
    crm_err_t e;
    (void)crm_check_date(date, &days, "date", &e);
    return days;
}

/* `days` moved on by `months`; the day of the month is `anchor` (the
 * start date's day) when the month has it, else the month's last day, so
 * that a subscription started on 31 January renews on 28 February, then
 * 31 March. */
static int64_t s_add_months(int64_t days, int months, int anchor)
{
    int64_t y;
    int m, d;
    crm_civil_from_days(days, &y, &m, &d);
    int64_t mm = y * 12 + (m - 1) + months;
    y = mm / 12;
    m = (int)(mm % 12) + 1;
    int dim = crm_days_in_month(y, m);
    return crm_days_from_civil(y, m, anchor < dim ? anchor : dim);
}

static int s_months(int period)
{
    return period == S_PERIOD_YEAR ? 12 : 1;
}

/* The renewal after `renewal`: one period on. The start date's day is kept
 * when the renewal date is on it (or on the month's last day for a start
 * day the month does not have); a renewal date set by hand keeps its own. */
static int64_t s_next_renewal(const char *start, const char *renewal, int period)
{
    int64_t sy, ry;
    int sm, sd, rm, rd;
    int64_t r = s_days(renewal);
    crm_civil_from_days(s_days(start), &sy, &sm, &sd);
    crm_civil_from_days(r, &ry, &rm, &rd);
    int dim = crm_days_in_month(ry, rm);
    int anchor = rd == (sd < dim ? sd : dim) ? sd : rd;
    return s_add_months(r, s_months(period), anchor);
}

/* An amount in its currency's major units ("49.00 EUR", "5000 JPY"). */
static char *s_money(crm_work_t *w, int64_t minor, const char *currency)
{
    int digits = crm_currency_minor_units(currency);
    int64_t scale = 1;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    if (digits <= 0)
        return crm_work_printf(w, "%" PRId64 " %s", minor, currency);
    return crm_work_printf(w, "%" PRId64 ".%0*" PRId64 " %s", minor / scale, digits, minor % scale,
                           currency);
}

/* ---- the end of every command: events and the answer ----------------------- */

static void s_written(crm_work_t *w, PGresult *res)
{
    s_sub_t *st = crm_work_data(w);
    Crm__V1__Subscription *s = crm_work_returned(w, &crm__v1__subscription__descriptor, res);
    if (!s)
        return;
    if (st->closed && sales_emit_activity_completed(w, st->closed) < 0)
        return;
    if (st->task && sales_emit_activity_scheduled(w, st->task) < 0)
        return;
    int rc = 0;
    switch (st->op) {
    case S_CREATE:
        rc = sales_emit_subscription_created(w, s);
        break;
    case S_CHANGE:
        rc = sales_emit_subscription_changed(w, s, st->changed, st->n_changed);
        break;
    case S_RENEW:
        rc = sales_emit_subscription_renewed(w, s, st->from);
        break;
    case S_CANCEL:
        rc = sales_emit_subscription_cancelled(w, s);
        break;
    }
    if (rc < 0)
        return;
    Crm__V1__SubscriptionReply r = CRM__V1__SUBSCRIPTION_REPLY__INIT;
    r.subscription = s;
    crm_work_ok(w, &r.base);
}

static void s_write(crm_work_t *w)
{
    s_sub_t *st = crm_work_data(w);
    if (st->op == S_CREATE)
        sales_store_subscription_insert(w, st->s, s_written);
    else
        sales_store_subscription_update(w, st->s, s_written);
}

static void s_task_inserted(crm_work_t *w, PGresult *res)
{
    s_sub_t *st = crm_work_data(w);
    st->task = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (!st->task)
        return;
    st->s->renewal_task_id = st->task->id;
    s_write(w);
}

/* The reminder of the renewal on st->s->renewal_date, for the owner. */
static void s_task_insert(crm_work_t *w)
{
    s_sub_t *st = crm_work_data(w);
    Crm__V1__Subscription *s = st->s;
    Crm__V1__Activity *a = crm_work_alloc(w, sizeof *a);
    char id[CRM_UUID_LEN + 1];
    if (!a) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__activity__init(a);
    crm_uuid_new(id);
    a->id = crm_work_strdup(w, id);
    a->kind = CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_TASK;
    a->person_id = s->person_id;
    a->owner = s->owner;
    a->status = CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED;
    int notice = sales_ctx(w)->renewal_notice_days;
    /* Midnight UTC, `notice` days before the renewal; one already past
     * falls due at the next scan. */
    a->due_at_us = (s_days(s->renewal_date) - notice) * S_DAY_US;
    if (a->due_at_us <= 0)
        a->due_at_us = 1;
    char *money = s_money(w, s->amount_minor, s->currency);
    a->subject = money ? crm_work_printf(w, "Renewal on %s: %s", s->renewal_date, s->plan) : NULL;
    a->body = money ? crm_work_printf(w,
                                      "Subscription %s (%s, %s a %s) renews on %s. This task"
                                      " falls due %d days before (SALES_RENEWAL_NOTICE_DAYS).",
                                      s->id, s->plan, money,
                                      s->period == S_PERIOD_YEAR ? "year" : "month",
                                      s->renewal_date, notice)
                    : NULL;
    if (!a->id || !a->subject || !a->body) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_activity_insert(w, a, 0, s_task_inserted);
}

static void s_task_closed(crm_work_t *w, PGresult *res)
{
    s_sub_t *st = crm_work_data(w);
    if (PQntuples(res) == 1 &&
        !(st->closed = crm_work_returned(w, &crm__v1__activity__descriptor, res)))
        return;
    if (st->new_task)
        s_task_insert(w);
    else
        s_write(w);
}

/* After the checks: close the old reminder if it ends, make the new one,
 * write. */
static void s_apply(crm_work_t *w)
{
    s_sub_t *st = crm_work_data(w);
    const char *outcome = st->op == S_CANCEL  ? "subscription cancelled"
                          : st->op == S_RENEW ? "subscription renewed"
                                              : "renewal date changed";
    if (st->close_task && st->s->renewal_task_id && *st->s->renewal_task_id)
        sales_store_task_close(w, st->s->renewal_task_id, outcome, s_task_closed);
    else if (st->new_task)
        s_task_insert(w);
    else
        s_write(w);
}

/* ---- create ------------------------------------------------------------------ */

static void s_person(crm_work_t *w, PGresult *res)
{
    s_sub_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "subscription.person_id", "person", st->s->person_id,
                                "register the person with sales.person.register first");
        return;
    }
    const char *owner = crm_db_get_opt(res, 0, 0);
    if (!crm_work_may(w, CRM_REC_ORDER, CRM_ACT_CREATE, owner ? owner : "")) {
        crm_work_fail_not_found(w, "subscription.person_id", "person", st->s->person_id,
                                "list people with sales.person.list");
        return;
    }
    if (!(st->s->owner = crm_work_strdup(w, owner ? owner : ""))) {
        crm_work_fail_nomem(w);
        return;
    }
    st->new_task = 1;
    s_apply(w);
}

/* Checks the values every command may set: plan, amount, currency,
 * period, the dates' order. */
static int s_check(sales_in_t *in, Crm__V1__Subscription *s)
{
    if (s->amount_minor <= 0)
        return sales_err_set(&in->e, SALES_INVALID, "subscription.amount_minor",
                             "amount must be more than 0",
                             "send the amount per period in the currency's minor units",
                             "got %" PRId64, s->amount_minor);
    if (s->period != S_PERIOD_MONTH && s->period != S_PERIOD_YEAR)
        return sales_err_set(&in->e, SALES_INVALID, "subscription.period", "unknown period",
                             "a subscription renews every month or every year", "got %d",
                             (int)s->period);
    if (s_days(s->renewal_date) <= s_days(s->start_date))
        return sales_err_set(&in->e, SALES_INVALID, "subscription.renewal_date",
                             "renewal is not after the start",
                             "the renewal date is after the start date", "start %s, renewal %s",
                             s->start_date, s->renewal_date);
    return 0;
}

void sales_subscription_create(crm_work_t *w)
{
    const Crm__V1__CreateSubscriptionRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Subscription *src = rq->subscription;
    sales_in_t in = {.w = w};
    s_sub_t *st = crm_work_alloc(w, sizeof *st);
    Crm__V1__Subscription *s = crm_work_alloc(w, sizeof *s);
    char id[CRM_UUID_LEN + 1];
    if (!st || !s) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        sales_invalid(w, "subscription", "subscription is required",
                      "send the customer, the plan and its amount");
        return;
    }
    memset(st, 0, sizeof *st);
    crm__v1__subscription__init(s);
    s->currency = sales_in_array(&in, 4, 1);
    int rc = sales_in_id(&in, src->person_id, 1, "subscription.person_id", &s->person_id);
    if (rc == 0)
        rc = sales_in_required(&in, src->plan, SALES_NAME_MAX, "subscription.plan", &s->plan);
    if (rc == 0 && s->currency)
        rc = sales_check_currency(src->currency, s->currency, "subscription.currency", &in.e);
    if (rc == 0 && *src->start_date)
        rc = crm_check_date(src->start_date, NULL, "subscription.start_date", &in.e);
    if (rc == 0 && *src->renewal_date)
        rc = crm_check_date(src->renewal_date, NULL, "subscription.renewal_date", &in.e);
    if (sales_in_done(&in, rc) < 0)
        return;
    if (!s->currency[0])
        memcpy(s->currency, sales_ctx(w)->currency, 4);
    s->amount_minor = src->amount_minor;
    s->period = src->period ? src->period : S_PERIOD_MONTH;
    int64_t today = crm_now_us() / S_DAY_US;
    s->start_date = *src->start_date ? sales_in_copy(&in, src->start_date, 10) : s_date(w, today);
    if (s->start_date && !*src->renewal_date) {
        int64_t y;
        int m, d;
        crm_civil_from_days(s_days(s->start_date), &y, &m, &d);
        s->renewal_date =
            s_date(w, s_add_months(s_days(s->start_date), s_months((int)s->period), d));
    } else {
        s->renewal_date = sales_in_copy(&in, src->renewal_date, 10);
    }
    s->status = S_ACTIVE;
    crm_uuid_new(id);
    s->id = sales_in_copy(&in, id, strlen(id));
    if (!s->start_date || !s->renewal_date)
        in.oom = 1;
    if (sales_in_done(&in, in.oom ? 0 : s_check(&in, s)) < 0)
        return;
    st->op = S_CREATE;
    st->s = s;
    crm_work_set_data(w, st);
    sales_store_subscription_person(w, s->person_id, s_person);
}

/* ---- change, renew, cancel ----------------------------------------------------- */

/* The fields a change may name, as proto names and as the JSON mapping's
 * lowerCamelCase (crm-api's PATCH names the body's keys). */
static const char *const s_mask_names[][2] = {
    {"plan", "plan"},     {"amount_minor", "amountMinor"}, {"currency", "currency"},
    {"period", "period"}, {"renewal_date", "renewalDate"},
};

/* The proto name of mask entry m, or NULL when a change cannot name it. */
static const char *s_mask_name(const char *m)
{
    for (size_t k = 0; k < sizeof s_mask_names / sizeof *s_mask_names; k++)
        if (!strcmp(m, s_mask_names[k][0]) || !strcmp(m, s_mask_names[k][1]))
            return s_mask_names[k][0];
    return NULL;
}

static int s_mask_has(const Crm__V1__ChangeSubscriptionRequest *rq, const char *f)
{
    for (size_t i = 0; i < rq->n_update_mask; i++) {
        const char *n = s_mask_name(rq->update_mask[i]);
        if (n && !strcmp(n, f))
            return 1;
    }
    return 0;
}

/* Adds `f` to the fields changed; out of memory is remembered in `in`. */
static int s_changed(s_sub_t *st, sales_in_t *in, const char *f)
{
    char **v = crm_work_alloc(in->w, (st->n_changed + 1) * sizeof *v);
    if (!v) {
        in->oom = 1;
        return 0;
    }
    if (st->n_changed)
        memcpy(v, st->changed, st->n_changed * sizeof *v);
    v[st->n_changed++] = (char *)f;
    st->changed = v;
    return 0;
}

/* The change of st->rq applied to s: 0, or -1 with in->e set. */
static int s_change(s_sub_t *st, sales_in_t *in)
{
    const Crm__V1__ChangeSubscriptionRequest *rq = st->rq;
    const Crm__V1__Subscription *src = rq->subscription;
    Crm__V1__Subscription *s = st->s;
    int rc = 0;
    if (s_mask_has(rq, "plan")) {
        char *plan = NULL;
        rc = sales_in_required(in, src->plan, SALES_NAME_MAX, "subscription.plan", &plan);
        if (rc == 0 && strcmp(plan, s->plan)) {
            s->plan = plan;
            rc = s_changed(st, in, "plan");
        }
    }
    if (rc == 0 && s_mask_has(rq, "amount_minor") && src->amount_minor != s->amount_minor) {
        s->amount_minor = src->amount_minor;
        rc = s_changed(st, in, "amount_minor");
    }
    if (rc == 0 && s_mask_has(rq, "currency")) {
        char *cur = sales_in_array(in, 4, 1);
        if (cur)
            rc = sales_check_currency(src->currency, cur, "subscription.currency", &in->e);
        if (rc == 0 && cur && !cur[0])
            rc = sales_err_set(&in->e, SALES_INVALID, "subscription.currency",
                               "currency is required", "send an ISO 4217 code such as EUR",
                               "the update mask names currency, the request sends none");
        if (rc == 0 && cur && strcmp(cur, s->currency)) {
            s->currency = cur;
            rc = s_changed(st, in, "currency");
        }
    }
    if (rc == 0 && s_mask_has(rq, "period") && src->period != s->period) {
        s->period = src->period;
        rc = s_changed(st, in, "period");
    }
    if (rc == 0 && s_mask_has(rq, "renewal_date")) {
        rc = crm_check_date(src->renewal_date, NULL, "subscription.renewal_date", &in->e);
        if (rc == 0 && strcmp(src->renewal_date, s->renewal_date)) {
            s->renewal_date = sales_in_copy(in, src->renewal_date, 10);
            st->new_task = st->close_task = 1;
            rc = s_changed(st, in, "renewal_date");
        }
    }
    if (rc == 0 && st->n_changed && in->oom == 0)
        rc = s_check(in, s);
    return rc;
}

static void s_locked(crm_work_t *w, PGresult *res)
{
    s_sub_t *st = crm_work_data(w);
    sales_in_t in = {.w = w};
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "subscription", st->id,
                                "list subscriptions with sales.subscription.list");
        return;
    }
    Crm__V1__Subscription *s = crm_work_returned(w, &crm__v1__subscription__descriptor, res);
    if (!s)
        return;
    if (!crm_work_may(w, CRM_REC_ORDER, CRM_ACT_EDIT, s->owner)) {
        crm_work_fail_not_found(w, "id", "subscription", st->id,
                                "list subscriptions with sales.subscription.list");
        return;
    }
    if (s->status == S_CANCELLED) {
        crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), "id", "subscription is cancelled",
                      crm_work_printf(w, "subscription %s was cancelled", st->id),
                      "record a new subscription with sales.subscription.create");
        return;
    }
    st->s = s;
    int rc = 0;
    switch (st->op) {
    case S_CHANGE:
        rc = s_change(st, &in);
        break;
    case S_RENEW:
        st->from = s->renewal_date;
        s->renewal_date = s_date(w, s_next_renewal(s->start_date, s->renewal_date, s->period));
        if (!s->renewal_date)
            in.oom = 1;
        st->new_task = st->close_task = 1;
        break;
    case S_CANCEL:
        s->status = S_CANCELLED;
        s->cancel_reason = st->reason;
        st->close_task = 1;
        break;
    case S_CREATE:
        break;
    }
    if (sales_in_done(&in, rc) < 0)
        return;
    s_apply(w);
}

/* The subscription `id` for `op`: its state, locked, to s_locked. */
static void s_modify(crm_work_t *w, s_op_t op, const char *id, const char *reason,
                     const Crm__V1__ChangeSubscriptionRequest *rq)
{
    sales_in_t in = {.w = w};
    s_sub_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    memset(st, 0, sizeof *st);
    st->op = op;
    st->rq = rq;
    int rc = sales_in_id(&in, id, 1, "id", &st->id);
    if (rc == 0)
        rc = sales_in_text(&in, reason ? reason : "", SALES_TEXT_MAX, "reason", &st->reason);
    if (rc == 0 && rq && !rq->subscription)
        rc = sales_err_set(&in.e, SALES_INVALID, "subscription", "subscription is required",
                           "send the new values in subscription and name them in update_mask",
                           "no subscription in the request");
    if (rc == 0 && rq && rq->n_update_mask == 0)
        rc = sales_err_set(&in.e, SALES_INVALID, "update_mask", "nothing to change",
                           "name the fields to change: plan, amount_minor, currency, period,"
                           " renewal_date",
                           "the update mask is empty");
    for (size_t i = 0; rc == 0 && rq && i < rq->n_update_mask; i++) {
        if (!s_mask_name(rq->update_mask[i]))
            rc = sales_err_set(&in.e, SALES_INVALID, "update_mask", "field cannot be changed",
                               "plan, amount_minor, currency, period or renewal_date", "\"%.60s\"",
                               rq->update_mask[i]);
    }
    if (sales_in_done(&in, rc) < 0)
        return;
    crm_work_set_data(w, st);
    sales_store_subscription_lock(w, st->id, s_locked);
}

void sales_subscription_change(crm_work_t *w)
{
    const Crm__V1__ChangeSubscriptionRequest *rq = (const void *)crm_work_request(w);
    s_modify(w, S_CHANGE, rq->id, NULL, rq);
}

void sales_subscription_renew(crm_work_t *w)
{
    const Crm__V1__RenewSubscriptionRequest *rq = (const void *)crm_work_request(w);
    s_modify(w, S_RENEW, rq->id, NULL, NULL);
}

void sales_subscription_cancel(crm_work_t *w)
{
    const Crm__V1__CancelSubscriptionRequest *rq = (const void *)crm_work_request(w);
    s_modify(w, S_CANCEL, rq->id, rq->reason, NULL);
}

/* ---- show and list ------------------------------------------------------------- */

static void s_shown(crm_work_t *w, PGresult *res)
{
    const char *id = crm_work_data(w);
    Crm__V1__Subscription *s =
        PQntuples(res) ? crm_work_returned(w, &crm__v1__subscription__descriptor, res) : NULL;
    if (PQntuples(res) && !s)
        return;
    if (!s || !crm_work_may(w, CRM_REC_ORDER, CRM_ACT_READ, s->owner)) {
        crm_work_fail_not_found(w, "id", "subscription", id,
                                "list subscriptions with sales.subscription.list");
        return;
    }
    Crm__V1__SubscriptionReply r = CRM__V1__SUBSCRIPTION_REPLY__INIT;
    r.subscription = s;
    crm_work_ok(w, &r.base);
}

void sales_subscription_show(crm_work_t *w)
{
    const Crm__V1__ShowSubscriptionRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    char *id = NULL;
    if (sales_in_done(&in, sales_in_id(&in, rq->id, 1, "id", &id)) < 0)
        return;
    crm_work_set_data(w, id);
    sales_store_subscription_get(w, id, s_shown);
}

static void s_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListSubscriptionsReply r = CRM__V1__LIST_SUBSCRIPTIONS_REPLY__INIT;
    if (sales_list_rows(w, res, &crm__v1__subscription__descriptor, &r.subscriptions,
                        &r.n_subscriptions, &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

void sales_subscription_list(crm_work_t *w)
{
    const Crm__V1__ListSubscriptionsRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->person_id, 0, "person_id", &e) < 0 ||
        crm_check_enum(&crm__v1__subscription_status__descriptor, rq->status, 1, "status", &e) <
            0) {
        sales_fail(w, &e);
        return;
    }
    sales_list_t *l = sales_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_subscription_list(w, rq, &l->page, s_listed);
}
