-- The fold: one consumed event into the event log and the projections, and
-- the health score it may change. Kept in the database as one function so
-- that live application and the replay of a rebuild run exactly the same
-- code, in the transaction the consumer commits with its position.
-- docs/analytics.md explains every figure.

-- What the health score of a customer at at_t is computed from
-- (an_health_compute in services/analytics/rules.c applies the rules):
-- {"orders", "since_tenths", "cadence_tenths", "engagement",
-- "open_complaints", "ratings", "rating_sum", "breaches"}; days in tenths.
CREATE FUNCTION an_health_inputs(cid text, at_t timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'orders', o.n,
        'since_tenths', COALESCE(round(extract(epoch FROM at_t - o.last_o) / 8640)::bigint, 0),
        'cadence_tenths', CASE WHEN o.n >= 2
            THEN round(extract(epoch FROM o.last_o - o.first_o) / 8640 / (o.n - 1))::bigint
            ELSE 0 END,
        -- Activities done (notes are not contacts) and campaign responses
        -- (but bounces and unsubscribes) in the 90 days up to at_t.
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
              FROM sale_order WHERE customer_id = cid AND ordered_at <= at_t) o
    $$;

-- Stores a customer's health as computed from an_apply's row.
CREATE FUNCTION an_health_put(cid text, score int, reasons jsonb, high boolean, at_us bigint)
    RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO health AS h (customer_id, score, churn_risk, reasons, churn_high, at)
    VALUES (cid, score, 100 - score, reasons, high, an_ts(at_us::text))
    ON CONFLICT (customer_id) DO UPDATE SET score = EXCLUDED.score,
        churn_risk = EXCLUDED.churn_risk, reasons = EXCLUDED.reasons,
        churn_high = EXCLUDED.churn_high, at = EXCLUDED.at
    $$;
