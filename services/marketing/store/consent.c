/* store/consent.c: the SQL of the consent ledger (sql/0015_consent.sql):
 * one row added per grant or withdrawal, never changed, and the history. */
#include "store_int.h"

#include <crm/params.h>

#define S_CONSENT_J                                                                                \
    "jsonb_build_object('id', k.id, 'customer_id', k.customer_id, 'purpose', k.purpose,"           \
    " 'granted', k.granted, 'source', k.source, 'proof', k.proof, 'recorded_by', k.recorded_by,"   \
    " 'at_us', mkt_us(k.at), 'recorded_at_us', mkt_us(k.recorded_at))"

int mkt_store_consent_add(crm_work_t *w, const Crm__V1__RecordConsentRequest *rq, int granted,
                          const char *recorded_by, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, rq->customer_id);
    crm_params_i64(&p, rq->purpose);
    crm_params_bool(&p, granted);
    crm_params_i64(&p, rq->source);
    crm_params_str(&p, rq->proof);
    crm_params_str(&p, recorded_by);
    crm_params_i64(&p, rq->at_us);
    /* Only for a person marketing knows: no row means NOT_FOUND, and
     * nothing was written. */
    return crm_params_run(
        &p,
        "WITH k AS (INSERT INTO consent (id, customer_id, purpose, granted, source, proof,"
        "  recorded_by, at)"
        " SELECT gen_random_uuid(), $1::uuid, $2::int, $3::boolean, $4::int, btrim($5), $6,"
        "  COALESCE(mkt_ts(NULLIF($7::bigint, 0)), now())"
        " WHERE EXISTS (SELECT 1 FROM person WHERE id = $1::uuid) RETURNING *)"
        " SELECT " S_CONSENT_J "::text FROM k",
        1, cb);
}

int mkt_store_consent_history(crm_work_t *w, const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    /* One row: whether the person is known, every entry oldest first (by
     * when it was given or withdrawn, then as recorded), and the purposes
     * currently granted. */
    return crm_params_run(
        &p,
        "SELECT EXISTS (SELECT 1 FROM person WHERE id = $1::uuid),"
        " jsonb_build_object('entries', (SELECT COALESCE(jsonb_agg(" S_CONSENT_J
        "   ORDER BY k.at, k.seq), '[]') FROM consent k WHERE k.customer_id = $1::uuid),"
        "  'granted', COALESCE((SELECT to_jsonb(g.purposes) FROM consent_granted g"
        "   WHERE g.customer_id = $1::uuid), '[]'))::text",
        0, cb);
}

int mkt_store_consent_unsubscribed(crm_work_t *w, const char *customer_id, const int *purposes,
                                   size_t n, const char *proof, const char *recorded_by,
                                   crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    crm_params_json(&p, mkt_store_ints(purposes, n));
    crm_params_str(&p, proof);
    crm_params_str(&p, recorded_by);
    /* Source 4: a response. One row per purpose, in purpose order. */
    return crm_params_run(
        &p,
        "WITH k AS (INSERT INTO consent (id, customer_id, purpose, granted, source, proof,"
        "  recorded_by, at)"
        " SELECT gen_random_uuid(), $1::uuid, u, false, 4, $3, $4, now()"
        " FROM (SELECT DISTINCT jsonb_array_elements_text($2::jsonb)::int AS u) q"
        " WHERE u BETWEEN 1 AND 5"
        /* Not again when the latest entry already is a withdrawal. */
        "  AND COALESCE((SELECT l.granted FROM consent l WHERE l.customer_id = $1::uuid"
        "   AND l.purpose = u ORDER BY l.at DESC, l.seq DESC LIMIT 1), true)"
        " ORDER BY u RETURNING *)"
        " SELECT " S_CONSENT_J "::text FROM k ORDER BY k.purpose",
        1, cb);
}
