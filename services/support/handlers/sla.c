/* handlers/sla.c: the SLA settings (the policy per priority, the business
 * calendar, whose replacement moves the running tickets onto it) and the
 * periodic scan that raises sla.at_risk and sla.breached. The business-time
 * arithmetic is in rules.c. */
#include "handlers.h"

#include "events.h"
#include "store.h"

#include <crm/db.h>
#include <crm/log.h>
#include <crm/pbjson.h>
#include <crm/util.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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

void support_sla_policy_set(crm_work_t *w)
{
    const Crm__V1__SetSlaPolicyRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    if (support_check_policy(rq ? rq->policy : NULL, "policy", &e) < 0) {
        support_fail(w, &e);
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

void support_sla_policy_list(crm_work_t *w)
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
    if (PQntuples(res) != 1 || !(st->cal = support_calendar_read(w, res, 0)))
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
    if (PQntuples(res) != 1 || !(st->old = support_calendar_read(w, res, 0)))
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

void support_sla_calendar_set(crm_work_t *w)
{
    const Crm__V1__SetBusinessCalendarRequest *rq = (const void *)crm_work_request(w);
    crm_err_t e;
    support_cal_t *cal = crm_work_alloc(w, sizeof *cal);
    if (!cal) {
        crm_work_fail_nomem(w);
        return;
    }
    if (support_cal_from_msg(rq ? rq->calendar : NULL, cal, "calendar", &e) < 0) {
        support_fail(w, &e);
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

void support_sla_calendar_show(crm_work_t *w)
{
    support_store_calendar_show(w, s_calendar_shown);
}

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
    if (n >= SUPPORT_SLA_BATCH)
        crm_scan_more(ctx->sla_scan);
    if (n > 0)
        crm_info("support.sla", "%d tickets reached an SLA instant", n);
    crm_work_ok(w, NULL);
}

void support_sla_scan(crm_work_t *w)
{
    support_store_sla_scan(w, crm_now_us(), SUPPORT_SLA_BATCH, s_sla_found);
}
