/* store/budget.c: the SQL of a campaign's budget and its expense ledger. The
 * ledger is what the budget is checked against, so both live here. */
#include "store_int.h"

#include <crm/params.h>

#define S_EXPENSE_J                                                                                \
    "jsonb_build_object('id', x.id, 'campaign_id', x.campaign_id,"                                 \
    " 'amount_minor', x.amount_minor, 'category', x.category,"                                     \
    " 'date', COALESCE(x.date::text, ''), 'note', x.note, 'flagged', x.flagged,"                   \
    " 'created_at_us', mkt_us(x.created_at), 'voids_expense_id', COALESCE(x.voids::text, ''))"

/* The new row x's amount as far as it is spent by now (the statement's
 * snapshot does not see it in MKT_SQL_SPENT). */
#define S_NEW_DUE(now) "CASE WHEN " MKT_SQL_EXPENSE_DUE(now) " THEN x.amount_minor ELSE 0 END"

int mkt_store_campaign_budget(crm_work_t *w, const char *id, int64_t budget_minor,
                              const char *currency, int policy, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, budget_minor);
    crm_params_str(&p, currency);
    crm_params_i64(&p, policy);
    mkt_store_now(&p);
    return crm_params_run(
        &p,
        "WITH c AS (UPDATE campaign SET budget_minor = $2::bigint,"
        " currency = COALESCE(NULLIF($3, ''), currency),"
        " overspend_policy = CASE WHEN $4::int = 0 THEN overspend_policy ELSE $4::int END,"
        " updated_at = now() WHERE id = $1::uuid RETURNING *)"
        " SELECT " MKT_SQL_REPLY("$5") " FROM c",
        1, cb);
}

int mkt_store_expense_insert(crm_work_t *w, const Crm__V1__Expense *x, int flagged, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, x->id);
    crm_params_str(&p, x->campaign_id);
    crm_params_i64(&p, x->amount_minor);
    crm_params_str(&p, x->category);
    crm_params_opt(&p, x->date);
    crm_params_str(&p, x->note);
    crm_params_bool(&p, flagged);
    mkt_store_now(&p);
    /* The statement's snapshot does not see the new row: add it. */
    return crm_params_run(
        &p,
        "WITH x AS (INSERT INTO expense (id, campaign_id, amount_minor, category, date,"
        " note, flagged) VALUES ($1::uuid, $2::uuid, $3::bigint, btrim($4),"
        " COALESCE($5::date, " MKT_SQL_TODAY(
            "$8") "), btrim($6), $7::boolean) RETURNING *)"
                  " SELECT jsonb_build_object('expense', " S_EXPENSE_J
                  ", 'budget', " MKT_SQL_BUDGET("(" MKT_SQL_SPENT("$8") " + " S_NEW_DUE(
                      "$8") ")") ")"
                                 " FROM x JOIN campaign c ON c.id = x.campaign_id",
        1, cb);
}

int mkt_store_expense_list(crm_work_t *w, const char *campaign_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    mkt_store_now(&p);
    return crm_params_run(
        &p,
        "SELECT jsonb_build_object('expenses', (SELECT COALESCE(jsonb_agg(" S_EXPENSE_J
        " ORDER BY x.created_at, x.id), '[]') FROM expense x"
        " WHERE x.campaign_id = c.id), 'budget', " MKT_SQL_BUDGET(
            MKT_SQL_SPENT("$2")) ")"
                                 " FROM campaign c WHERE c.id = $1::uuid",
        0, cb);
}

int mkt_store_expense_of(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p,
                          "SELECT x.voids IS NOT NULL, EXISTS (SELECT 1 FROM expense v"
                          " WHERE v.voids = x.id) FROM expense x WHERE x.id = $1::uuid"
                          " FOR UPDATE",
                          1, cb);
}

int mkt_store_expense_void(crm_work_t *w, const char *id, const char *new_id, const char *reason,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, new_id);
    crm_params_str(&p, reason);
    mkt_store_now(&p);
    /* The statement's snapshot does not see the new row: add it. */
    return crm_params_run(
        &p,
        "WITH x AS (INSERT INTO expense (id, campaign_id, amount_minor, category, date, note,"
        " voids) SELECT $2::uuid, o.campaign_id, -o.amount_minor, o.category, o.date,"
        " btrim($3), o.id FROM expense o WHERE o.id = $1::uuid RETURNING *)"
        " SELECT jsonb_build_object('expense', " S_EXPENSE_J
        ", 'budget', " MKT_SQL_BUDGET("(" MKT_SQL_SPENT("$4") " + " S_NEW_DUE(
            "$4") ")") ")"
                       " FROM x JOIN campaign c ON c.id = x.campaign_id",
        1, cb);
}
