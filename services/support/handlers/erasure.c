/* handlers/erasure.c: crm.sales.person.erased.v1 applied to support
 * (crm/erase.h; docs/architecture.md, "Personal data"). The person's copy
 * and, on their tickets, the requester, the description, every message
 * body, the resolution text and the rating comment are blanked; the
 * tickets stay with their counts, times and ratings for SLA statistics. */
#include "handlers.h"

#include <crm/erase.h>

void support_person_erased(crm_work_t *w)
{
    crm_erase_consume(
        w,
        "SELECT array_to_json(ARRAY(SELECT DISTINCT s FROM unnest(ARRAY(SELECT "
        "unnest(ARRAY[crm_erase_name(p.name)]"
        "  || p.emails) FROM person p WHERE p.id = $1::uuid)"
        "  || ARRAY(SELECT unnest(ARRAY[t.requester_email, crm_erase_name(t.requester_name), "
        "t.description,"
        "   t.resolution_text, t.rating_comment]) FROM ticket t WHERE t.customer_id = $1::uuid)"
        "  || ARRAY(SELECT m.body FROM ticket_message m JOIN ticket t ON t.id = m.ticket_id"
        "   WHERE t.customer_id = $1::uuid)) s WHERE s <> ''))::text,"
        " EXISTS (SELECT 1 FROM person_erasure e WHERE e.id = $1::uuid)",
        "WITH pe AS (INSERT INTO person_erasure (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING),"
        " pp AS (UPDATE person SET name = CASE WHEN name <> '' THEN '[erased]' ELSE '' END,"
        "  emails = ARRAY(SELECT '[erased]'::text FROM unnest(emails)) WHERE id = $1::uuid),"
        " tm AS (UPDATE ticket_message SET body = '[erased]'"
        "  WHERE ticket_id IN (SELECT id FROM ticket WHERE customer_id = $1::uuid))"
        " UPDATE ticket SET"
        "  requester_email = CASE WHEN requester_email <> '' THEN '[erased]' ELSE '' END,"
        "  requester_name = CASE WHEN requester_name <> '' THEN '[erased]' ELSE '' END,"
        "  description = CASE WHEN description <> '' THEN '[erased]' ELSE '' END,"
        "  resolution_text = CASE WHEN resolution_text <> '' THEN '[erased]' ELSE '' END,"
        "  rating_comment = CASE WHEN rating_comment <> '' THEN '[erased]' ELSE '' END"
        " WHERE customer_id = $1::uuid");
}

/* support.person.export: support's copy of the person and their tickets
 * with every message, resolution and rating, and support's stored events
 * about them. */
void support_person_export(crm_work_t *w)
{
    crm_export_person(
        w,
        "SELECT jsonb_build_object("
        " 'person', (SELECT to_jsonb(p) FROM person p WHERE p.id = $1::uuid),"
        " 'tickets', COALESCE((SELECT jsonb_agg(to_jsonb(t) || jsonb_build_object('messages',"
        "   COALESCE((SELECT jsonb_agg(to_jsonb(m) ORDER BY m.created_us) FROM ticket_message m"
        "    WHERE m.ticket_id = t.id), '[]'))) FROM ticket t WHERE t.customer_id = $1::uuid),"
        "   '[]'),"
        " 'erasure', (SELECT jsonb_build_object('erased_at_us', support_us(e.erased_at))"
        "   FROM person_erasure e WHERE e.id = $1::uuid))::text",
        0);
}
