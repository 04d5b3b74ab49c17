/* store/erasure.c: the SQL of sales.person.erase (handlers/erasure.c). */
#include "store.h"

int sales_store_erasure_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    const char *p[] = {id};
    /* The strings to erase everywhere: the personal values sales holds
     * about the person that would not be another's too (name, address,
     * emails, phones, the leads converted into them, activity bodies), so
     * that they are found in any table and in the bytes of idempotency
     * replies; a job title or a custom field's value ("yes") is erased in
     * the person's own records only. Then whether it is erased already
     * (and when). */
    return crm_work_query(w,
                          "SELECT array_to_json(ARRAY(SELECT DISTINCT s FROM "
                          "unnest(ARRAY[crm_erase_name(p.name), p.address]"
                          "  || p.emails || p.phones"
                          "  || ARRAY(SELECT unnest(ARRAY[crm_erase_name(l.name), l.email, "
                          "l.phone, l.notes]) FROM lead l"
                          "   WHERE l.person_id = p.id)"
                          "  || ARRAY(SELECT a.body FROM activity a WHERE a.person_id = p.id)) s"
                          "  WHERE s <> ''))::text,"
                          " e.erased_at IS NOT NULL, COALESCE(sales_us(e.erased_at), 0), p.owner"
                          " FROM person p LEFT JOIN person_erasure e ON e.id = p.id"
                          " WHERE p.id = $1::uuid FOR UPDATE OF p",
                          1, p, cb);
}

int sales_store_erasure_blank(crm_work_t *w, const char *id, const char *actor, const char *reason,
                              crm_work_cb cb)
{
    const char *p[] = {id, actor, reason};
    /* Free text about the person that holds no known string of theirs
     * (an address, a note, a body) is replaced whole; the scrub that
     * follows (crm_erase_person) replaces their strings everywhere else. */
    return crm_work_exec(
        w,
        "WITH pe AS (INSERT INTO person_erasure (id, actor, reason) VALUES ($1::uuid, $2, $3)"
        "  RETURNING sales_us(erased_at) AS at),"
        " pp AS (UPDATE person SET name = CASE WHEN name <> '' THEN '[erased]' ELSE '' END,"
        "  emails = ARRAY(SELECT '[erased]'::text FROM unnest(emails)),"
        "  phones = ARRAY(SELECT '[erased]'::text FROM unnest(phones)),"
        "  address = CASE WHEN address <> '' THEN '[erased]' ELSE '' END,"
        "  title = CASE WHEN title <> '' THEN '[erased]' ELSE '' END,"
        "  custom_fields = COALESCE((SELECT jsonb_agg(jsonb_set(f, '{value}', '\"[erased]\"'))"
        "   FROM jsonb_array_elements(custom_fields) f), '[]'),"
        "  updated_at = now() WHERE id = $1::uuid),"
        " la AS (UPDATE lead SET notes = CASE WHEN notes <> '' THEN '[erased]' ELSE '' END"
        "  WHERE person_id = $1::uuid),"
        " aa AS (UPDATE activity SET body = CASE WHEN body <> '' THEN '[erased]' ELSE '' END"
        "  WHERE person_id = $1::uuid)"
        " SELECT at FROM pe",
        3, p, cb);
}
