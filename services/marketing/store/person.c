/* store/person.c: the SQL of marketing's copy of people: found by email for a
 * response, and kept up to date from sales' and support's person events. */
#include "store_int.h"

#include <crm/identity.h>

#include <crm/params.h>

/* A person event about a merged id (a replay, a service that was down)
 * names the dropped id, and the alias trigger (crm/alias.h) writes it on
 * the survivor, whose row then differs from the event's id ($1). Such a
 * late event follows the merge's conflict rule (docs/architecture.md,
 * "Merge"): a field the survivor has set wins, the event fills the empty
 * ones, tags are the union. An event about the row's own id updates it as
 * usual. */

int mkt_store_person_by_email(crm_work_t *w, const char *email, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, email);
    return crm_params_run(
        &p, "SELECT id::text FROM person WHERE email = $1 ORDER BY updated_at LIMIT 1", 0, cb);
}

int mkt_store_person_upsert(crm_work_t *w, const char *id, const char *name, const char *email,
                            const char *source, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, name);
    crm_params_str(&p, email);
    crm_params_str(&p, source);
    /* xmax = 0 only on a freshly inserted row. */
    return crm_params_run(&p,
                          "INSERT INTO person AS t (id, name, email, registered_by)"
                          " VALUES ($1::uuid, btrim($2), lower(btrim($3)), $4)"
                          " ON CONFLICT (id) DO UPDATE SET"
                          "  name = CASE WHEN t.id <> $1::uuid AND t.name <> '' THEN t.name"
                          "   ELSE COALESCE(NULLIF(EXCLUDED.name, ''), t.name) END,"
                          "  email = CASE WHEN t.id <> $1::uuid AND t.email <> '' THEN t.email"
                          "   ELSE COALESCE(NULLIF(EXCLUDED.email, ''), t.email) END,"
                          "  updated_at = now()"
                          " RETURNING xmax = 0",
                          1, cb);
}

int mkt_store_person_profile(crm_work_t *w, const Crm__V1__Person *pr, const char *email,
                             const char *source, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, pr->id);
    crm_params_str(&p, pr->name);
    crm_params_str(&p, email);
    crm_params_str(&p, source);
    crm_params_i64(&p, pr->kind);
    crm_params_str(&p, pr->country);
    crm_params_str(&p, pr->industry);
    crm_params_json(&p, mkt_store_strings(pr->tags, pr->n_tags));
    /* Phones and fax as the gateways dial them: the identity rule's form
     * (Persian and Arabic-Indic digits as 0-9, no spaces or dashes), so
     * an event from an older or another producer still reaches them; one
     * that does not parse is kept as it came. */
    char phone[64], fax[64];
    const char *ph = pr->n_phones ? pr->phones[0] : "";
    if (*ph && crm_phone_normalize(ph, phone, sizeof phone) == 0)
        ph = crm_work_printf(w, "%s", phone); /* the parameters outlive this frame */
    const char *fx = pr->fax ? pr->fax : "";
    if (*fx && crm_phone_normalize(fx, fax, sizeof fax) == 0)
        fx = crm_work_printf(w, "%s", fax);
    crm_params_str(&p, ph);
    crm_params_str(&p, fx);
    crm_params_str(&p, pr->address);
    /* The channels' addresses, kept like the email when an event (from a
     * service that does not know them) carries none. */
    return crm_params_run(
        &p,
        "INSERT INTO person AS t (id, name, email, registered_by, kind, country, industry,"
        " tags, phone, fax, address)"
        " VALUES ($1::uuid, left(btrim($2), 200), lower(btrim($3)), $4, $5::int,"
        "  upper(btrim($6)), btrim($7),"
        "  ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), left(btrim($9), 40),"
        "  left(btrim($10), 40), left(btrim($11), 500))"
        " ON CONFLICT (id) DO UPDATE SET"
        "  name = CASE WHEN t.id <> $1::uuid AND t.name <> '' THEN t.name"
        "   ELSE COALESCE(NULLIF(EXCLUDED.name, ''), t.name) END,"
        "  email = CASE WHEN t.id <> $1::uuid AND t.email <> '' THEN t.email"
        "   ELSE COALESCE(NULLIF(EXCLUDED.email, ''), t.email) END,"
        "  kind = CASE WHEN t.kind <> 0 AND (t.id <> $1::uuid OR EXCLUDED.kind = 0)"
        "   THEN t.kind ELSE EXCLUDED.kind END,"
        "  country = CASE WHEN t.id <> $1::uuid AND t.country <> '' THEN t.country"
        "   ELSE EXCLUDED.country END,"
        "  industry = CASE WHEN t.id <> $1::uuid AND t.industry <> '' THEN t.industry"
        "   ELSE EXCLUDED.industry END,"
        "  tags = CASE WHEN t.id <> $1::uuid THEN t.tags || ARRAY(SELECT x FROM"
        "   unnest(EXCLUDED.tags) x WHERE NOT x = ANY (t.tags)) ELSE EXCLUDED.tags END,"
        "  phone = CASE WHEN t.id <> $1::uuid AND t.phone <> '' THEN t.phone"
        "   ELSE COALESCE(NULLIF(EXCLUDED.phone, ''), t.phone) END,"
        "  fax = CASE WHEN t.id <> $1::uuid AND t.fax <> '' THEN t.fax"
        "   ELSE COALESCE(NULLIF(EXCLUDED.fax, ''), t.fax) END,"
        "  address = CASE WHEN t.id <> $1::uuid AND t.address <> '' THEN t.address"
        "   ELSE COALESCE(NULLIF(EXCLUDED.address, ''), t.address) END,"
        "  updated_at = now()"
        /* an erased person is never filled in again (handlers/erasure.c) */
        " WHERE NOT EXISTS (SELECT 1 FROM person_erasure e WHERE e.id = t.id)",
        1, cb);
}
