-- The set-based form of sales.person.register (issue 15, ninth session): a
-- run of registrations in one batch (handlers/person.c) is one call over
-- arrays, doing for each element what sales_person_register() (0019) does:
-- the oldest person holding one of its emails is the answer; else the
-- organisation, when set, must exist; else the person is inserted, and a
-- person already under its id (a peer registered the same email a moment
-- ago) is the answer. One result row per element (o_ord, from 1) with the
-- same columns. The service keys registrations by id and by each email
-- (commands.c), so no two elements of a run share one: each element's
-- lookup is independent of the others' inserts, as when each is sent
-- alone. Two elements that the crm_alias trigger put under one survivor
-- make the insert fail ("cannot affect row a second time"): the batch is
-- then retried one command per transaction, through the one-command form.
--
-- Per element: p_emails, p_phones, p_tags and p_changed hold a text[]
-- literal each (arrays of arrays must be rectangular), p_custom_fields one
-- JSON array, p_orgs '' for none; p_t is each element's version time, and
-- the source p_src is the service's name, one for all.
CREATE FUNCTION sales_person_register_run(
    p_ids uuid[], p_kinds smallint[], p_names text[], p_emails text[], p_phones text[],
    p_orgs text[], p_titles text[], p_addresses text[], p_countries text[], p_industries text[],
    p_tags text[], p_owners text[], p_custom_fields jsonb, p_changed text[], p_t bigint[],
    p_src text, p_faxes text[])
    RETURNS TABLE (o_ord bigint, o_found text, o_org_ok boolean, o_person text,
                   o_created boolean, o_now_us bigint)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    SET plan_cache_mode = force_generic_plan
    AS $$
DECLARE
    src text := COALESCE(to_json(p_src)::text, 'null');
BEGIN
    RETURN QUERY
    WITH u AS MATERIALIZED (
        SELECT x.ord, x.id, x.kind, x.name, x.emails::text[] AS emails,
               x.phones::text[] AS phones, NULLIF(x.org, '')::uuid AS org, x.title, x.address,
               x.country, x.industry, x.tags::text[] AS tags, x.owner,
               p_custom_fields -> (x.ord::int - 1) AS custom_fields,
               x.changed::text[] AS changed, x.t, x.fax,
               -- the id the crm_alias trigger will insert it under
               COALESCE((SELECT al.survivor_id FROM crm_alias al WHERE al.dropped_id = x.id::text),
                        x.id::text)::uuid AS rid
          FROM unnest(p_ids, p_kinds, p_names, p_emails, p_phones, p_orgs, p_titles, p_addresses,
                      p_countries, p_industries, p_tags, p_owners, p_changed, p_t, p_faxes)
               WITH ORDINALITY AS x (id, kind, name, emails, phones, org, title, address, country,
                                     industry, tags, owner, changed, t, fax, ord)),
    f AS MATERIALIZED (
        SELECT u.ord,
               -- the oldest person of the emails, ordered apart from the
               -- table (OFFSET 0 keeps the planner from walking person in
               -- created_at order until one matches: all of it for a new
               -- email)
               (SELECT c.id
                  FROM (SELECT p.id, p.created_at
                          FROM person_email e JOIN person p ON p.id = e.person_id
                         WHERE e.email = ANY (u.emails) OFFSET 0) c
                 ORDER BY c.created_at, c.id LIMIT 1) AS found,
               (u.org IS NULL OR EXISTS (SELECT 1 FROM organization g WHERE g.id = u.org)) AS org_ok
          FROM u),
    i AS (
        INSERT INTO person AS p (id, kind, name, emails, phones, organization_id, title, address,
                                 country, industry, tags, owner, custom_fields, registered_by,
                                 field_versions, fax)
        SELECT u.id, u.kind, u.name, u.emails, u.phones, u.org, u.title, u.address, u.country,
               u.industry, u.tags, u.owner, u.custom_fields, p_src,
               -- each changed field's version, [t, "src"], as JSON text (0019)
               CASE WHEN cardinality(u.changed) > 0
                    THEN ('{"' || array_to_string(u.changed, '": [' || COALESCE(u.t::text, 'null')
                                                             || ', ' || src || '], "')
                          || '": [' || COALESCE(u.t::text, 'null') || ', ' || src || ']}')::jsonb
                    ELSE '{}' END,
               u.fax
          FROM u JOIN f ON f.ord = u.ord
         WHERE f.found IS NULL AND f.org_ok
         ORDER BY u.ord
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING p.id, (p.xmax = 0) AS created,
                  -- as 0016: the row's JSON unless inserted as sent
                  CASE WHEN p.xmax = 0 AND NOT EXISTS (SELECT 1 FROM crm_alias al
                                                        WHERE al.survivor_id = p.id::text)
                       THEN NULL ELSE sales_person_j(p)::text END AS j,
                  sales_us(p.created_at) AS now_us)
    SELECT u.ord,
           (SELECT sales_person_j(q)::text FROM person q WHERE q.id = f.found),
           CASE WHEN f.found IS NULL THEN f.org_ok END, i.j, i.created, i.now_us
      FROM u JOIN f ON f.ord = u.ord LEFT JOIN i ON i.id = u.rid
     ORDER BY u.ord;
END
$$;
