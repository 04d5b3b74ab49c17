-- support.ticket.open in fewer round trips with kept plans (issue 15, sixth
-- session). The ticket is opened with what this reads (the customer, the
-- SLA policy of its priority, the business calendar; the SLA instants are
-- computed in C, rules.c) and then one statement that registers an unknown
-- requester and inserts the ticket together (store.c). This function is
-- that read, prepared by name (crm_work_query_named), so it is planned
-- once per connection: the statement it replaces chose "by id" or "by
-- email" in a CASE, which a generic plan cannot use an index for, and was
-- therefore planned at every call. Planned with enable_seqscan off, as in
-- sales (0015), so that a plan made while person was small never scans it
-- once it has grown: each statement here is a probe of a key or of the
-- emails' GIN index.
--
-- o_person: the customer `p_customer` when given, else the oldest person
-- with the email `p_email`, as store.c's S_PERSON_J builds it (keep them
-- alike), or NULL; o_policy: the SLA policy of `p_priority` as S_POLICY_J;
-- then the calendar as S_CALENDAR_COLS.
CREATE FUNCTION support_open_context(p_customer uuid, p_email text, p_priority smallint,
                                     OUT o_person text, OUT o_policy text, OUT o_calendar text,
                                     OUT o_zone_base integer, OUT o_zone_change_us text,
                                     OUT o_zone_change_off text)
    LANGUAGE plpgsql STABLE
    SET enable_seqscan = off
    AS $$
BEGIN
    IF p_customer IS NOT NULL THEN
        SELECT jsonb_build_object('id', p.id, 'name', p.name, 'emails', p.emails,
                   'registered_by', p.registered_by, 'created_at_us', p.created_us,
                   'updated_at_us', p.updated_us)::text
          INTO o_person FROM person p WHERE p.id = p_customer;
    ELSIF p_email IS NOT NULL THEN
        SELECT jsonb_build_object('id', p.id, 'name', p.name, 'emails', p.emails,
                   'registered_by', p.registered_by, 'created_at_us', p.created_us,
                   'updated_at_us', p.updated_us)::text
          INTO o_person FROM person p WHERE p.emails @> ARRAY[p_email]
         ORDER BY p.created_us, p.id LIMIT 1;
    END IF;
    SELECT jsonb_build_object('priority', s.priority,
               'first_response_minutes', s.first_response_minutes,
               'resolution_minutes', s.resolution_minutes)::text
      INTO o_policy FROM sla_policy s WHERE s.priority = p_priority;
    SELECT c.doc::text, c.zone_base, c.zone_change_us::text, c.zone_change_off::text
      INTO o_calendar, o_zone_base, o_zone_change_us, o_zone_change_off
      FROM sla_calendar c WHERE c.id = 1;
END
$$;

-- The open's lookup by email goes through person's GIN index on emails.
-- With fastupdate (the default) every new person's emails wait in the
-- index's pending list, which each lookup reads whole until a vacuum or
-- the list's size limit merges it: a lookup then cost more with every
-- person registered since (8 buffers and 0.12 ms against 3.5 and 0.04 ms
-- without, after 4,000 opens). Without it each insert goes into the index
-- at once and a lookup is a probe, whatever the table's size.
ALTER INDEX person_emails SET (fastupdate = off);
SELECT gin_clean_pending_list('person_emails');
