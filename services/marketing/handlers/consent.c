/* handlers/consent.c: the consent ledger (marketing.consent.*). Each grant
 * or withdrawal is a new entry with its source, proof and the principal
 * that recorded it; nothing is ever overwritten, so the history answers
 * "on what basis did we contact this person, and who said so". The send
 * scan reads the latest entry per purpose under the channel policy. */
#include "handlers.h"

#include <crm/db.h>
#include <crm/util.h>

static void s_consent_added(crm_work_t *w, PGresult *res)
{
    const Crm__V1__RecordConsentRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "customer_id", "customer", rq->customer_id,
                                "record consent for people registered in sales or support");
        return;
    }
    Crm__V1__ConsentReply r = CRM__V1__CONSENT_REPLY__INIT;
    r.entry = crm_work_returned(w, &crm__v1__consent_entry__descriptor, res);
    if (r.entry && mkt_emit_consent(w, r.entry) == 0)
        crm_work_ok(w, &r.base);
}

static void s_consent_record(crm_work_t *w, int granted)
{
    const Crm__V1__RecordConsentRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_consent_check(rq, crm_now_us(), &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_consent_add(w, rq, granted, crm_work_principal(w), s_consent_added);
}

void mkt_consent_grant(crm_work_t *w)
{
    s_consent_record(w, 1);
}

void mkt_consent_withdraw(crm_work_t *w)
{
    s_consent_record(w, 0);
}

static void s_history_read(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ConsentHistoryRequest *rq = (const void *)crm_work_request(w);
    if (!crm_db_get_bool(res, 0, 0)) {
        crm_work_fail_not_found(w, "customer_id", "customer", rq->customer_id,
                                "name a person registered in sales or support");
        return;
    }
    Crm__V1__ConsentHistoryReply *r =
        crm_work_record(w, &crm__v1__consent_history_reply__descriptor, PQgetvalue(res, 0, 1));
    if (!r) {
        crm_work_fail_unreadable(w);
        return;
    }
    crm_work_ok(w, &r->base);
}

void mkt_consent_history(crm_work_t *w)
{
    const Crm__V1__ConsentHistoryRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_id(rq->customer_id, 1, "customer_id", &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_consent_history(w, rq->customer_id, s_history_read);
}
