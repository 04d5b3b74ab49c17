-- The fold's helpers that SQL cannot inline, in PL/pgSQL (issue 15). A
-- LANGUAGE sql function with a FROM clause, or with an argument used more
-- than once, is not inlined into the statement that calls it: called from
-- PL/pgSQL (an_apply, once or more per event) its body was parsed and
-- planned again at every call, the larger part of the fold's time
-- (an_health_inputs alone about 0.5 ms per event, from
-- pg_stat_user_functions). PL/pgSQL keeps their plans for the session.
-- Same arguments, results and volatility as before (an_health_inputs as
-- 0011_currencies_refunds.sql left it: a cancelled order is no purchase).

CREATE OR REPLACE FUNCTION an_health_inputs(cid text, at_t timestamptz) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object(
        'orders', o.n,
        'since_tenths', COALESCE(round(extract(epoch FROM at_t - o.last_o) / 8640)::bigint, 0),
        'cadence_tenths', CASE WHEN o.n >= 2
            THEN round(extract(epoch FROM o.last_o - o.first_o) / 8640 / (o.n - 1))::bigint
            ELSE 0 END,
        'engagement',
            (SELECT count(*) FROM activity a WHERE a.customer_id = cid AND a.status = 'done'
              AND a.kind <> 'note'
              AND a.completed_at > at_t - interval '90 days' AND a.completed_at <= at_t)
          + (SELECT count(*) FROM campaign_response r WHERE r.customer_id = cid
              AND r.response NOT IN ('bounced', 'unsubscribed')
              AND r.at > at_t - interval '90 days' AND r.at <= at_t),
        'open_complaints', (SELECT count(*) FROM ticket t WHERE t.customer_id = cid
              AND t.type = 'complaint' AND t.status NOT IN ('resolved', 'closed')
              AND t.opened_at <= at_t),
        'ratings', (SELECT count(*) FROM ticket t WHERE t.customer_id = cid AND t.rating > 0),
        'rating_sum', (SELECT COALESCE(sum(t.rating), 0) FROM ticket t
              WHERE t.customer_id = cid AND t.rating > 0),
        'breaches', (SELECT count(*) FROM sla_breach s WHERE s.customer_id = cid
              AND s.at > at_t - interval '90 days' AND s.at <= at_t))
      FROM (SELECT count(*) AS n, min(ordered_at) AS first_o, max(ordered_at) AS last_o
              FROM sale_order WHERE customer_id = cid AND ordered_at <= at_t
               AND (cancelled_at IS NULL OR cancelled_at > at_t)) o);
END
$$;

CREATE OR REPLACE FUNCTION an_text_array(j jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    RETURN COALESCE((SELECT array_agg(x) FROM jsonb_array_elements_text(COALESCE(j, '[]')) x),
                    '{}');
END
$$;

CREATE OR REPLACE FUNCTION an_money(minor text, cur text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    d int := an_minor_units(cur);
BEGIN
    RETURN CASE WHEN d = 0 THEN COALESCE(minor, '0')::numeric::text
                ELSE to_char(COALESCE(minor, '0')::numeric / 10 ^ d,
                             'FM999999999999990.' || repeat('0', d)) END
        || CASE WHEN COALESCE(cur, '') <> '' THEN ' ' || cur ELSE '' END;
END
$$;
