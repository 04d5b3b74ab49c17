-- The registration run's email lookup (0022) as a join that cannot turn
-- around (issue 15, tenth session). Its generic plan is made at a
-- connection's first run, on a person table that looks empty, and kept
-- until an autoanalyze of person replans it: that plan hashed the run's
-- emails' person_email rows and probed them with every person, read
-- through a bitmap of all of person_page, once a run (3,616 index entries
-- after 4 s of registrations; perf of a 32-client run: about 8% of the
-- backends' CPU, growing with the table). The person of each
-- person_email row is now a LATERAL subquery with OFFSET 0, so it can only
-- be a probe of person's key per email found, whatever the statistics.
-- The organisation check was planned the same way (an EXISTS made into a
-- hash of all of organization, built once a run that names one); it is a
-- scalar subquery now, a probe of the key. Nothing else changes.
CREATE OR REPLACE FUNCTION sales_person_register_run(
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
               -- table (the outer OFFSET 0), each email's person probed by
               -- its key (the LATERAL one: a join the planner may not turn
               -- around)
               (SELECT c.id
                  FROM (SELECT p.id, p.created_at
                          FROM person_email e
                               CROSS JOIN LATERAL (SELECT q.id, q.created_at FROM person q
                                                    WHERE q.id = e.person_id OFFSET 0) p
                         WHERE e.email = ANY (u.emails) OFFSET 0) c
                 ORDER BY c.created_at, c.id LIMIT 1) AS found,
               -- a probe of organization's key (a scalar subquery: an
               -- EXISTS here may be planned as one hash of every
               -- organization a run)
               (u.org IS NULL
                OR (SELECT true FROM organization g WHERE g.id = u.org) IS NOT NULL) AS org_ok
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
