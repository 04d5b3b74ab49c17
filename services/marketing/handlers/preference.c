/* handlers/preference.c: contact preferences and consent
 * (marketing.preference.*), which the send scan obeys. */
#include "handlers.h"

#include <crm/db.h>

#include <stdio.h>

static void s_pref_stored(crm_work_t *w, PGresult *res)
{
    Crm__V1__PreferencesReply r = CRM__V1__PREFERENCES_REPLY__INIT;
    r.preferences = crm_work_returned(w, &crm__v1__contact_preferences__descriptor, res);
    if (r.preferences && mkt_emit_preferences_changed(w, r.preferences, "command") == 0)
        crm_work_ok(w, &r.base);
}

static void s_pref_zone(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetPreferencesRequest *rq = (const void *)crm_work_request(w);
    if (!crm_db_get_bool(res, 0, 0)) {
        char detail[160];
        snprintf(detail, sizeof detail, "got \"%s\"", rq->preferences->time_zone);
        crm_work_fail(w, MKT_CODE(INVALID_ARGUMENT), "preferences.time_zone",
                      "time zone is unknown", detail,
                      "send an IANA zone name such as Europe/Paris or America/New_York");
        return;
    }
    mkt_store_pref_put(w, rq->preferences, s_pref_stored);
}

void mkt_pref_set(crm_work_t *w)
{
    const Crm__V1__SetPreferencesRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_preferences_check(rq->preferences, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    if (*rq->preferences->time_zone)
        mkt_store_zone_known(w, rq->preferences->time_zone, s_pref_zone);
    else
        mkt_store_pref_put(w, rq->preferences, s_pref_stored);
}

static void s_pref_shown(crm_work_t *w, PGresult *res)
{
    Crm__V1__PreferencesReply r = CRM__V1__PREFERENCES_REPLY__INIT;
    Crm__V1__ContactPreferences none = CRM__V1__CONTACT_PREFERENCES__INIT;
    if (PQntuples(res) == 0) {
        /* Nothing set: the defaults (no opt-out, any time, no consent). */
        none.customer_id = crm_work_data(w);
        r.preferences = &none;
    } else if (!(r.preferences =
                     crm_work_returned(w, &crm__v1__contact_preferences__descriptor, res))) {
        return;
    }
    crm_work_ok(w, &r.base);
}

void mkt_pref_show(crm_work_t *w)
{
    const Crm__V1__ShowPreferencesRequest *rq = (const void *)crm_work_request(w);
    if (mkt_campaign_id(w, rq->customer_id, "customer_id"))
        mkt_store_pref_get(w, rq->customer_id, s_pref_shown);
}
