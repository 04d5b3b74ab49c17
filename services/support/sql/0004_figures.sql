-- Management figures of the help desk for a period (issue 20):
-- satisfaction, SLA compliance, the backlog, and load and satisfaction per
-- agent and team. One read-only function returning one JSON document
-- (support.report.figures; docs/operations.md, "Support figures").
--
-- The period is [from_us, to_us): ratings given in it, and the tickets
-- opened in it for the SLA, the load and the per-agent figures. The
-- backlog is the tickets not resolved or closed at at_us, by status and by
-- age (from opening to at_us). A target is met when it was not breached
-- and is done (first response given, ticket resolved); breached when the
-- service marked it so; pending otherwise. Compliance is met / (met +
-- breached), in basis points, null when nothing is decided. Statuses are
-- crm.v1.TicketStatus: 1 new, 2 open, 3 pending, 4 on hold, 5 resolved,
-- 6 closed.
CREATE FUNCTION support_status_name(s smallint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY['new', 'open', 'pending', 'on-hold', 'resolved', 'closed'])[s] $$;

CREATE FUNCTION support_bp(num bigint, den bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN den > 0 THEN round(10000.0 * num / den)::bigint END $$;

CREATE FUNCTION support_figures(from_us bigint, to_us bigint, at_us bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH rated AS (SELECT * FROM ticket WHERE rating > 0 AND rated_us >= from_us AND rated_us < to_us),
    opened AS (SELECT * FROM ticket WHERE created_us >= from_us AND created_us < to_us),
    sla AS (SELECT
        count(*) FILTER (WHERE NOT fr_breached AND first_responded_us > 0) AS fr_met,
        count(*) FILTER (WHERE fr_breached) AS fr_breached,
        count(*) FILTER (WHERE NOT fr_breached AND first_responded_us = 0) AS fr_pending,
        count(*) FILTER (WHERE NOT res_breached AND resolved_us > 0) AS res_met,
        count(*) FILTER (WHERE res_breached) AS res_breached,
        count(*) FILTER (WHERE NOT res_breached AND resolved_us = 0) AS res_pending
        FROM opened),
    backlog AS (SELECT status, at_us - created_us AS age FROM ticket
                 WHERE status NOT IN (5, 6) AND created_us <= at_us),
    agents AS (SELECT CASE WHEN by_team THEN team ELSE assignee END AS who, by_team,
                      count(*) FILTER (WHERE created_us >= from_us AND created_us < to_us) AS opened,
                      count(*) FILTER (WHERE status NOT IN (5, 6) AND created_us <= at_us) AS open_now,
                      count(*) FILTER (WHERE resolved_us >= from_us AND resolved_us < to_us) AS resolved,
                      count(*) FILTER (WHERE rating > 0 AND rated_us >= from_us AND rated_us < to_us)
                          AS ratings,
                      round(avg(rating) FILTER (WHERE rating > 0 AND rated_us >= from_us
                                                  AND rated_us < to_us), 2) AS csat_average
                 FROM ticket, (VALUES (false), (true)) v (by_team)
                GROUP BY 1, 2)
    SELECT jsonb_build_object(
        'from_us', from_us, 'to_us', to_us, 'at_us', at_us,
        'csat', jsonb_build_object(
            'ratings', (SELECT count(*) FROM rated),
            'average', (SELECT round(avg(rating), 2) FROM rated),
            -- CSAT as customer-service teams quote it: ratings of 4 or 5.
            'satisfied_bp', (SELECT support_bp(count(*) FILTER (WHERE rating >= 4), count(*)) FROM rated),
            'distribution', (SELECT jsonb_object_agg(r::text, (SELECT count(*) FROM rated WHERE rating = r)
                                                     ORDER BY r)
                               FROM generate_series(1, 5) r)),
        'opened', (SELECT count(*) FROM opened),
        'sla', (SELECT jsonb_build_object(
            'first_response', jsonb_build_object('met', fr_met, 'breached', fr_breached,
                                                 'pending', fr_pending,
                                                 'compliance_bp', support_bp(fr_met, fr_met + fr_breached)),
            'resolution', jsonb_build_object('met', res_met, 'breached', res_breached,
                                             'pending', res_pending,
                                             'compliance_bp', support_bp(res_met, res_met + res_breached)))
            FROM sla),
        'backlog', jsonb_build_object(
            'total', (SELECT count(*) FROM backlog),
            'by_status', (SELECT COALESCE(jsonb_agg(jsonb_build_object('status', support_status_name(s),
                                                                       'tickets', n) ORDER BY s), '[]')
                            FROM (SELECT status AS s, count(*) AS n FROM backlog GROUP BY 1) b),
            'by_age', (SELECT jsonb_agg(jsonb_build_object('age', label, 'tickets',
                                            (SELECT count(*) FROM backlog
                                              WHERE age >= lo * 86400000000::bigint
                                                AND (hi IS NULL OR age < hi * 86400000000::bigint)))
                                        ORDER BY lo)
                         FROM (VALUES ('under 1 day', 0, 1), ('1-3 days', 1, 3), ('3-7 days', 3, 7),
                                      ('7-30 days', 7, 30), ('30 days or more', 30, NULL)) a (label, lo, hi))),
        'agents', (SELECT COALESCE(jsonb_agg(jsonb_build_object('agent', who, 'opened', opened,
                                                                'open_now', open_now, 'resolved', resolved,
                                                                'ratings', ratings,
                                                                'csat_average', csat_average)
                                             ORDER BY who), '[]')
                     FROM agents WHERE NOT by_team AND who <> ''),
        'teams', (SELECT COALESCE(jsonb_agg(jsonb_build_object('team', who, 'opened', opened,
                                                               'open_now', open_now, 'resolved', resolved,
                                                               'ratings', ratings,
                                                               'csat_average', csat_average)
                                            ORDER BY who), '[]')
                    FROM agents WHERE by_team AND who <> ''))
    $$;
