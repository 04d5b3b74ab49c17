/* store/subscription.c: the SQL of subscriptions (sql/0011_subscriptions.sql)
 * and of the renewal tasks they keep. */
#include "records.h"

int sales_store_subscription_person(crm_work_t *w, const char *person_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, person_id);
    return crm_params_run(&p, "SELECT p.owner FROM person p WHERE p.id = $1::uuid", 0, cb);
}

int sales_store_subscription_insert(crm_work_t *w, const Crm__V1__Subscription *s, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, s->id);
    crm_params_str(&p, s->person_id);
    crm_params_str(&p, s->plan);
    crm_params_i64(&p, s->amount_minor);
    crm_params_str(&p, s->currency);
    crm_params_i64(&p, s->period);
    crm_params_str(&p, s->start_date);
    crm_params_str(&p, s->renewal_date);
    crm_params_str(&p, s->owner);
    crm_params_opt(&p, s->renewal_task_id);
    return crm_params_run(&p,
                          "INSERT INTO subscription AS s (id, person_id, plan, amount_minor,"
                          " currency, period, start_date, renewal_date, owner, renewal_task_id)"
                          " VALUES ($1::uuid, $2::uuid, $3::text, $4::bigint, $5::text,"
                          " $6::smallint, $7::date, $8::date, $9::text, $10::uuid)"
                          " RETURNING " SALES_SUBSCRIPTION_J "::text",
                          1, cb);
}

int sales_store_subscription_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p,
                          "SELECT " SALES_SUBSCRIPTION_J "::text FROM subscription s"
                          " WHERE s.id = $1::uuid FOR UPDATE",
                          0, cb);
}

int sales_store_subscription_get(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p, "SELECT " SALES_SUBSCRIPTION_J "::text FROM subscription s WHERE s.id = $1::uuid", 0,
        cb);
}

int sales_store_subscription_update(crm_work_t *w, const Crm__V1__Subscription *s, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, s->id);
    crm_params_str(&p, s->plan);
    crm_params_i64(&p, s->amount_minor);
    crm_params_str(&p, s->currency);
    crm_params_i64(&p, s->period);
    crm_params_str(&p, s->renewal_date);
    crm_params_i64(&p, s->status);
    crm_params_str(&p, s->cancel_reason);
    crm_params_opt(&p, s->renewal_task_id);
    return crm_params_run(
        &p,
        "UPDATE subscription s SET plan = $2::text, amount_minor = $3::bigint,"
        " currency = $4::text, period = $5::smallint, renewal_date = $6::date,"
        " status = $7::smallint, cancel_reason = $8::text, renewal_task_id = $9::uuid,"
        " cancelled_at = CASE WHEN $7::smallint = 2 THEN COALESCE(s.cancelled_at, now()) END,"
        " updated_at = now() WHERE s.id = $1::uuid RETURNING " SALES_SUBSCRIPTION_J "::text",
        1, cb);
}

int sales_store_subscription_list(crm_work_t *w, const Crm__V1__ListSubscriptionsRequest *rq,
                                  const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, rq->person_id);
    crm_params_opt_i64(&p, rq->status);
    sales_store_page(&p, page);
    crm_params_reach(&p, CRM_REC_ORDER, CRM_ACT_READ);
    return crm_params_run(&p,
                          "SELECT " SALES_SUBSCRIPTION_J
                          "::text, sales_us(s.created_at), s.id::text"
                          " FROM subscription s"
                          " WHERE ($1::uuid IS NULL OR s.person_id = $1::uuid)"
                          " AND ($2::smallint IS NULL OR s.status = $2::smallint)"
                          " AND ($3::bigint IS NULL OR (s.created_at, s.id) >"
                          " (sales_ts($3::bigint), $4::uuid))"
                          " AND ($6::text[] IS NULL OR s.owner = ANY($6::text[]))"
                          " ORDER BY s.created_at, s.id LIMIT $5::int",
                          0, cb);
}

int sales_store_task_close(crm_work_t *w, const char *activity_id, const char *outcome,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, activity_id);
    crm_params_str(&p, outcome);
    return crm_params_run(&p,
                          "UPDATE activity a SET status = 2, completed_at = now(),"
                          " outcome = $2::text, updated_at = now()"
                          " WHERE a.id = $1::uuid AND a.status = 1"
                          " RETURNING " SALES_ACTIVITY_J "::text",
                          1, cb);
}
