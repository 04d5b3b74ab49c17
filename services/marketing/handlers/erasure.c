/* handlers/erasure.c: crm.sales.person.erased.v1 applied to marketing
 * (crm/erase.h; docs/architecture.md, "Personal data"). The person's
 * copy, their address states and the messages rendered for them are
 * blanked; sends, responses and consent stay as anonymous facts (a
 * campaign's results and the proof of consent do not change). */
#include "handlers.h"

#include <crm/erase.h>

void mkt_person_erased(crm_work_t *w)
{
    crm_erase_consume(
        w,
        "SELECT array_to_json(ARRAY(SELECT DISTINCT s FROM person p, "
        "unnest(ARRAY[crm_erase_name(p.name), p.email,"
        "  p.phone, p.fax, p.address] || ARRAY(SELECT r.note FROM response r"
        "   WHERE r.customer_id = p.id)) s WHERE p.id = $1::uuid AND s <> ''))::text,"
        " EXISTS (SELECT 1 FROM person_erasure e WHERE e.id = $1::uuid)",
        "WITH pe AS (INSERT INTO person_erasure (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING),"
        " ad AS (DELETE FROM address_state WHERE address IN (SELECT unnest(ARRAY[email, phone, "
        "fax])"
        "  FROM person WHERE id = $1::uuid)),"
        " pp AS (UPDATE person SET"
        "  name = CASE WHEN name <> '' THEN '[erased]' ELSE '' END,"
        "  email = CASE WHEN email <> '' THEN '[erased]' ELSE '' END,"
        "  phone = CASE WHEN phone <> '' THEN '[erased]' ELSE '' END,"
        "  fax = CASE WHEN fax <> '' THEN '[erased]' ELSE '' END,"
        "  address = CASE WHEN address <> '' THEN '[erased]' ELSE '' END,"
        "  updated_at = now() WHERE id = $1::uuid),"
        " dl AS (UPDATE delivery SET"
        "  address = CASE WHEN address <> '' THEN '[erased]' ELSE '' END,"
        "  subject = CASE WHEN subject <> '' THEN '[erased]' ELSE '' END,"
        "  body = '[erased]' WHERE customer_id = $1::uuid)"
        " UPDATE response SET note = '[erased]' WHERE customer_id = $1::uuid AND note <> ''");
}

/* marketing.person.export: marketing's copy of the person, their contact
 * preferences and consent, the campaigns that reached them (recipients,
 * send decisions, deliveries with the messages sent), responses,
 * attributed conversions, segment memberships, and marketing's stored
 * events about them (the consent history among them). */
void mkt_person_export(crm_work_t *w)
{
    crm_export_person(
        w,
        "SELECT jsonb_build_object("
        " 'person', (SELECT to_jsonb(p) FROM person p WHERE p.id = $1::uuid),"
        " 'preferences', (SELECT to_jsonb(x) FROM preference x WHERE x.customer_id = $1::uuid),"
        " 'recipients', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM campaign_recipient x"
        "   WHERE x.customer_id = $1::uuid), '[]'),"
        " 'sends', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM send x"
        "   WHERE x.customer_id = $1::uuid), '[]'),"
        " 'deliveries', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM delivery x"
        "   WHERE x.customer_id = $1::uuid), '[]'),"
        " 'responses', COALESCE((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.recorded_at)"
        "   FROM response x WHERE x.customer_id = $1::uuid), '[]'),"
        " 'conversions', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM conversion x"
        "   WHERE x.customer_id = $1::uuid), '[]'),"
        " 'segments', COALESCE((SELECT jsonb_agg(to_jsonb(x)) FROM segment_member x"
        "   WHERE x.customer_id = $1::uuid), '[]'),"
        " 'erasure', (SELECT jsonb_build_object('erased_at_us', mkt_us(e.erased_at))"
        "   FROM person_erasure e WHERE e.id = $1::uuid))::text",
        0);
}
