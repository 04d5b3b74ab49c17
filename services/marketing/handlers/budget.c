/* handlers/budget.c: a campaign's budget and its expense ledger
 * (marketing.campaign.budget, marketing.expense.*): an expense is admitted
 * or refused against the budget, so both live in one room. */
#include "handlers.h"

#include <crm/db.h>
#include <crm/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_budget_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetBudgetRequest *rq = (const void *)crm_work_request(w);
    const char *cur = crm_work_data(w);
    mkt_err_t e;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "campaign", rq->id, MKT_CAMPAIGN_HINT);
        return;
    }
    if (mkt_campaign_open_check(atoi(PQgetvalue(res, 0, 1)), "budget", &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    const char *had = PQgetvalue(res, 0, 5);
    if (*cur && *had && strcmp(cur, had)) {
        char detail[96];
        snprintf(detail, sizeof detail, "the campaign's currency is %s, got %s", had, cur);
        crm_work_fail(w, MKT_CODE(FAILED_PRECONDITION), "currency", "currency cannot change",
                      detail,
                      "send the budget in the campaign's currency, or leave the currency out");
        return;
    }
    if (!*cur && !*had && rq->budget_minor > 0) {
        crm_work_fail(w, MKT_CODE(INVALID_ARGUMENT), "currency", "currency is required",
                      "the campaign has no currency yet", "send the ISO 4217 code, e.g. EUR");
        return;
    }
    crm_work_set_data(w, (void *)"budget");
    mkt_store_campaign_budget(w, rq->id, rq->budget_minor, cur, (int)rq->overspend_policy,
                              mkt_campaign_updated);
}

void mkt_campaign_budget(crm_work_t *w)
{
    const Crm__V1__SetBudgetRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    char *cur = crm_work_alloc(w, 4);
    if (!cur) {
        crm_work_fail_nomem(w);
        return;
    }
    if (mkt_budget_check(rq, cur, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    crm_work_set_data(w, cur);
    mkt_store_campaign_get(w, rq->id, 1, s_budget_locked);
}

static void s_expense_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__ExpenseReply *r = crm_work_returned(w, &crm__v1__expense_reply__descriptor, res);
    if (r && mkt_emit_expense_recorded(w, r->expense, r->budget) == 0)
        crm_work_ok(w, &r->base);
}

static void s_expense_locked(crm_work_t *w, PGresult *res)
{
    const Crm__V1__RecordExpenseRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    int flagged;
    char id[CRM_UUID_LEN + 1];
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "expense.campaign_id", "campaign", rq->expense->campaign_id,
                                MKT_CAMPAIGN_HINT);
        return;
    }
    int64_t budget = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    int64_t spent = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    if (mkt_expense_admit(budget, spent, rq->expense->amount_minor, atoi(PQgetvalue(res, 0, 4)),
                          &flagged, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    Crm__V1__Expense *x = crm_work_alloc(w, sizeof *x);
    if (!x) {
        crm_work_fail_nomem(w);
        return;
    }
    *x = *rq->expense;
    crm_uuid_new(id);
    if (!(x->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    mkt_store_expense_insert(w, x, flagged, s_expense_inserted);
}

void mkt_expense_record(crm_work_t *w)
{
    const Crm__V1__RecordExpenseRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_expense_check(rq->expense, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_campaign_get(w, rq->expense->campaign_id, 1, s_expense_locked);
}

static void s_expenses_listed(crm_work_t *w, PGresult *res)
{
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "campaign_id", "campaign", crm_work_data(w), MKT_CAMPAIGN_HINT);
        return;
    }
    Crm__V1__ListExpensesReply *r =
        crm_work_returned(w, &crm__v1__list_expenses_reply__descriptor, res);
    if (r)
        crm_work_ok(w, &r->base);
}

void mkt_expense_list(crm_work_t *w)
{
    const Crm__V1__ListExpensesRequest *rq = (const void *)crm_work_request(w);
    if (mkt_campaign_id(w, rq->campaign_id, "campaign_id"))
        mkt_store_expense_list(w, rq->campaign_id, s_expenses_listed);
}

/* ---- marketing.expense.void: the ledger corrected by a reversing entry ---- */

static void s_void_found(crm_work_t *w, PGresult *res)
{
    const Crm__V1__VoidExpenseRequest *rq = (const void *)crm_work_request(w);
    char id[CRM_UUID_LEN + 1];
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "expense", rq->id,
                                "list a campaign's expenses with marketing.expense.list");
        return;
    }
    if (crm_db_get_bool(res, 0, 0) || crm_db_get_bool(res, 0, 1)) {
        int reversal = crm_db_get_bool(res, 0, 0);
        crm_work_fail(w, MKT_CODE(FAILED_PRECONDITION), "id",
                      reversal ? "expense is a reversing entry" : "expense is already voided",
                      crm_work_printf(w, "expense %s", rq->id),
                      reversal ? "record the amount again as a new expense"
                               : "a void is recorded once; list the expenses to see it");
        return;
    }
    crm_uuid_new(id);
    char *new_id = crm_work_strdup(w, id);
    if (!new_id) {
        crm_work_fail_nomem(w);
        return;
    }
    mkt_store_expense_void(w, rq->id, new_id, rq->reason, s_expense_inserted);
}

void mkt_expense_void(crm_work_t *w)
{
    const Crm__V1__VoidExpenseRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_id(rq->id, 1, "id", &e) < 0 ||
        mkt_check_required(rq->reason, MKT_TEXT_MAX, "reason", &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_expense_of(w, rq->id, s_void_found);
}
