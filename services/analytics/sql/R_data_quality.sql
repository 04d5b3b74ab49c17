-- Data-quality findings at at_t: (kind, record_id, customer_id, team,
-- detail), and the report of them; replaced whole whenever they change (a
-- repeatable migration: crm/migrate.h). Every kind is sales' work: for
-- not_contacted too, the person's owner is who can reach them again
-- (marketing has no work queue, and a person marketing sent nothing to in a
-- year is usually one it may not send to). A finding is published once
-- (an_dq_emitted), with the team it had then. Since issue 14 the
-- duplicate's suspect is the later record (it was the greater uuid), pairs
-- resolved by staff are left out, and erased people are in no finding.
-- Whether the customer was erased (crm.sales.person.erased.v1 applied):
-- from the log itself, so that a rebuild agrees.
CREATE OR REPLACE FUNCTION an_erased(cid text) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (SELECT 1 FROM customer_event e WHERE e.customer_id = cid
                          AND e.type = 'crm.sales.person.erased.v1') $$;

CREATE OR REPLACE FUNCTION an_dq_findings(at_t timestamptz)
    RETURNS TABLE (kind text, record_id text, customer_id text, team text, detail text)
    LANGUAGE sql STABLE
    AS $$
    SELECT 'unreachable', c.id, c.id, 'sales', 'no email address and no phone number'
      FROM customer c WHERE c.known AND c.emails = '{}' AND c.phones = '{}'
       AND NOT an_erased(c.id)
    UNION ALL
    -- Duplicates by a hash join on match keys (normalised emails, phones,
    -- organisation and name), not by comparing every pair of people. The
    -- suspect is the record that arrived later; the original, the one
    -- with the longer history (first seen earlier; the id breaks a tie),
    -- the earliest when there are several. A pair resolved by staff
    -- (an_dq_resolution) is never raised again; erased people are no one's
    -- duplicate.
    SELECT * FROM (
        WITH c AS (SELECT * FROM customer c WHERE c.known AND NOT an_erased(c.id)),
        k AS (
            SELECT c.id, c.first_seen, 0 AS why, 'mail:' || x AS key
              FROM c, unnest(an_norm_emails(c.emails)) x
            UNION
            SELECT c.id, c.first_seen, 1, 'tel:' || x FROM c, unnest(an_norm_phones(c.phones)) x
            UNION
            SELECT c.id, c.first_seen, 2, 'org:' || c.organization_id || ':' || lower(c.name) FROM c
             WHERE c.organization_id <> '' AND c.name <> '')
        SELECT DISTINCT ON (k2.id) 'duplicate', k2.id, k2.id, 'sales',
               format('likely duplicate of %s (%s)', k1.id,
                      CASE k1.why WHEN 0 THEN 'same email' WHEN 1 THEN 'same phone'
                                  ELSE 'same name and organisation' END)
          FROM k k1 JOIN k k2 ON k1.key = k2.key
         WHERE (k1.first_seen, k1.id) < (k2.first_seen, k2.id)
           AND NOT EXISTS (SELECT 1 FROM an_dq_resolution r
                            WHERE r.record_id = k2.id AND r.original_id = k1.id)
         ORDER BY k2.id, k1.first_seen, k1.id, k1.why) dup
    UNION ALL
    SELECT 'not_contacted', c.id, c.id, 'sales',
           COALESCE('last contact ' || to_char(lc.at, 'YYYY-MM-DD'), 'never contacted')
      FROM customer c
      CROSS JOIN LATERAL (SELECT max(e.occurred_at) AS at FROM customer_event e
                           WHERE e.customer_id = c.id AND e.occurred_at <= at_t
                             AND (e.type IN ('crm.sales.activity.completed.v1', 'crm.support.ticket.replied.v1')
                                  OR (e.type = 'crm.marketing.send.decided.v1'
                                      AND e.payload -> 'send_decided' ->> 'status' = 'SEND_STATUS_SENT'))) lc
     WHERE c.known AND c.first_seen <= at_t - interval '365 days'
       AND (lc.at IS NULL OR lc.at <= at_t - interval '365 days')
    UNION ALL
    SELECT 'deal_without_next_step', d.id, d.customer_id, 'sales',
           format('open deal "%s" has no next step', d.title)
      FROM deal d WHERE d.status = 'open' AND d.next_step = '' AND d.created_at <= at_t
    UNION ALL
    SELECT 'overdue_activity', a.id, a.customer_id, 'sales',
           format('%s "%s" was due %s', a.kind, a.subject, to_char(a.due_at, 'YYYY-MM-DD HH24:MI'))
      FROM activity a WHERE a.status = 'scheduled' AND a.due_at < at_t
    $$;

CREATE OR REPLACE FUNCTION an_report_data_quality(at_t timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT jsonb_build_object('at_us', an_us(at_t), 'findings',
                 COALESCE(jsonb_agg(jsonb_build_object('kind', f.kind, 'record_id', f.record_id,
                     'customer_id', f.customer_id, 'team', f.team, 'detail', f.detail)
                     ORDER BY f.kind, f.record_id), '[]'))
            FROM an_dq_findings(at_t) f $$;
