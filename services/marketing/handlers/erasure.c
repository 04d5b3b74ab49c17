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
        "SELECT array_to_json(ARRAY(SELECT DISTINCT s FROM person p, unnest(ARRAY[p.name, p.email,"
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
