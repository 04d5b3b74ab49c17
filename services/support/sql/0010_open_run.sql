-- support.ticket.open's set-based form (issue 15, ninth session;
-- handlers/ticket_run.c): what a run of opens needs, for all of them in one
-- call, as support_open_context() (0008) reads it for one. A row per
-- element of the arrays, in their order (r_o counts from 1): the customer
-- `p_customers[i]` when given ('' is not given, in both text arrays), else the oldest person
-- with the email `p_emails[i]`, as its id and name (NULL when none); the
-- SLA targets of `p_priorities[i]` (NULL when no policy); and, on the first
-- row only, the calendar as store.c's S_CALENDAR_COLS.
--
-- The email's people come from person_email's key and the oldest of them
-- from person's (a nested loop of key probes whatever the sizes: no index
-- walks person in created order, and seqscans are off as in 0007). One
-- statement for the run, planned once per connection (a generic plan: the
-- array parameters' lengths do not change it).
CREATE FUNCTION support_open_context_run(p_customers text[], p_emails text[],
                                         p_priorities smallint[])
    RETURNS TABLE (r_o bigint, r_person_id text, r_person_name text, r_fr_minutes integer,
                   r_res_minutes integer, r_calendar text, r_zone_base integer,
                   r_zone_change_us text, r_zone_change_off text)
    LANGUAGE plpgsql STABLE
    SET enable_seqscan = off
    SET plan_cache_mode = force_generic_plan
    AS $$
BEGIN
    RETURN QUERY
    WITH u AS MATERIALIZED (
        SELECT x.pr, x.o,
               CASE WHEN x.c <> '' THEN x.c::uuid
                    WHEN x.e <> '' THEN
                        (SELECT p.id FROM person_email pe JOIN person p ON p.id = pe.person_id
                          WHERE pe.email = x.e ORDER BY p.created_us, p.id LIMIT 1)
               END AS f
          FROM unnest(p_customers, p_emails, p_priorities) WITH ORDINALITY AS x(c, e, pr, o))
    SELECT u.o, p.id::text, p.name, s.first_response_minutes, s.resolution_minutes,
           CASE WHEN u.o = 1 THEN c.doc::text END, CASE WHEN u.o = 1 THEN c.zone_base END,
           CASE WHEN u.o = 1 THEN c.zone_change_us::text END,
           CASE WHEN u.o = 1 THEN c.zone_change_off::text END
      FROM u
      LEFT JOIN person p ON p.id = u.f
      LEFT JOIN sla_policy s ON s.priority = u.pr
      LEFT JOIN sla_calendar c ON c.id = 1
     ORDER BY u.o;
END
$$;
