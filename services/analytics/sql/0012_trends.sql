-- The aggregates a manager asks for (issue 20): customers, revenue, churn
-- and retention per period (an_report_trends), and average lifetime value
-- and cost to acquire per acquisition channel (an_report_channels).
-- docs/analytics.md, "Trends and channels", defines every figure.

-- Active in a period: a customer with an order placed in it that was not
-- cancelled. Retained in period p: active in p and in the period before.
-- Retention = retained / active before; churn rate = 1 - retention (basis
-- points; null when nobody was active before). Revenue per currency: the
-- orders placed in the period less the refunds made in it.
CREATE FUNCTION an_report_trends(from_t timestamptz, to_t timestamptz, period text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH p AS (
        SELECT s, s + ('1 ' || period)::interval AS e
          FROM generate_series(date_trunc(period, from_t, 'UTC'), to_t - interval '1 microsecond',
                               ('1 ' || period)::interval) s),
    act AS (
        SELECT p.s, p.e,
               ARRAY(SELECT DISTINCT o.customer_id FROM sale_order o
                      WHERE o.ordered_at >= p.s AND o.ordered_at < p.e
                        AND (o.cancelled_at IS NULL)) AS now_ids,
               ARRAY(SELECT DISTINCT o.customer_id FROM sale_order o
                      WHERE o.ordered_at >= p.s - ('1 ' || period)::interval AND o.ordered_at < p.s
                        AND (o.cancelled_at IS NULL)) AS before_ids
          FROM p),
    r AS (
        SELECT a.*, cardinality(a.before_ids) AS before_n,
               (SELECT count(*) FROM unnest(a.now_ids) x WHERE x = ANY (a.before_ids)) AS kept
          FROM act a)
    SELECT jsonb_build_object('period', period, 'from_us', an_us(from_t), 'to_us', an_us(to_t),
        'periods', COALESCE(jsonb_agg(jsonb_build_object(
            'period', CASE period WHEN 'week' THEN to_char(r.s AT TIME ZONE 'UTC', 'IYYY-"W"IW')
                                  WHEN 'month' THEN to_char(r.s AT TIME ZONE 'UTC', 'YYYY-MM')
                                  WHEN 'quarter' THEN to_char(r.s AT TIME ZONE 'UTC', 'YYYY-"Q"Q')
                                  ELSE to_char(r.s AT TIME ZONE 'UTC', 'YYYY') END,
            'start_us', an_us(r.s), 'end_us', an_us(r.e),
            'customers', (SELECT count(*) FROM customer c WHERE c.known AND c.first_seen < r.e),
            'new_customers', (SELECT count(*) FROM customer c WHERE c.known AND c.first_seen >= r.s
                                AND c.first_seen < r.e),
            'orders', (SELECT count(*) FROM sale_order o WHERE o.ordered_at >= r.s AND o.ordered_at < r.e),
            'revenue', (SELECT COALESCE(jsonb_agg(jsonb_build_object('currency', cur, 'amount_minor', amt)
                                                  ORDER BY cur), '[]')
                          FROM (SELECT cur, sum(amt)::bigint AS amt FROM (
                                    SELECT o.currency AS cur, o.total_minor AS amt FROM sale_order o
                                     WHERE o.ordered_at >= r.s AND o.ordered_at < r.e
                                    UNION ALL
                                    SELECT f.currency, -f.amount_minor FROM sale_refund f
                                     WHERE f.at >= r.s AND f.at < r.e) m GROUP BY cur) g),
            'active', cardinality(r.now_ids),
            'active_before', r.before_n,
            'retained', r.kept,
            'retention_bp', CASE WHEN r.before_n > 0 THEN round(10000.0 * r.kept / r.before_n)::bigint END,
            'churn_rate_bp', CASE WHEN r.before_n > 0
                                  THEN 10000 - round(10000.0 * r.kept / r.before_n)::bigint END)
            ORDER BY r.s), '[]'))
      FROM r
    $$;

-- A customer's acquisition channel: the channel of the campaign that won
-- them first (the channel their message went out on, else the campaign's
-- first channel); "direct" when no campaign won them.
CREATE FUNCTION an_acquisition_channel(cid text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT COALESCE((
        SELECT COALESCE(NULLIF(s.channel, ''), c.channels[1], 'unknown')
          FROM (SELECT campaign_id, at FROM conversion WHERE customer_id = cid
                UNION ALL
                SELECT campaign_id, at FROM campaign_response
                 WHERE customer_id = cid AND response = 'converted') w
          JOIN campaign c ON c.id = w.campaign_id
          LEFT JOIN campaign_send s ON s.campaign_id = w.campaign_id AND s.customer_id = cid
         ORDER BY w.at, w.campaign_id LIMIT 1), 'direct')
    $$;

-- Per acquisition channel at at_t: customers, and per currency the average
-- lifetime value (their net LTV in that currency over all the channel's
-- customers) and the average cost to acquire (over the same customers).
CREATE FUNCTION an_report_channels(at_t timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH c AS (SELECT id, an_acquisition_channel(id) AS channel, an_ltv_by_currency(id, at_t) AS ltv,
                      an_cac_by_currency(id) AS cac
                 FROM customer WHERE known AND first_seen <= at_t),
    ch AS (SELECT channel, count(*) AS n FROM c GROUP BY 1)
    SELECT jsonb_build_object('at_us', an_us(at_t), 'channels', COALESCE(jsonb_agg(jsonb_build_object(
        'channel', ch.channel, 'customers', ch.n,
        'avg_ltv', (SELECT COALESCE(jsonb_agg(jsonb_build_object('currency', cur,
                                                                  'amount_minor', round(s / ch.n)::bigint)
                                              ORDER BY cur), '[]')
                      FROM (SELECT l ->> 'currency' AS cur, sum((l ->> 'amount_minor')::numeric) AS s
                              FROM c, jsonb_array_elements(c.ltv) l WHERE c.channel = ch.channel
                             GROUP BY 1) x),
        'avg_cac', (SELECT COALESCE(jsonb_agg(jsonb_build_object('currency', cur,
                                                                  'amount_minor', round(s / ch.n)::bigint)
                                              ORDER BY cur), '[]')
                      FROM (SELECT l ->> 'currency' AS cur, sum((l ->> 'amount_minor')::numeric) AS s
                              FROM c, jsonb_array_elements(c.cac) l WHERE c.channel = ch.channel
                             GROUP BY 1) x))
        ORDER BY ch.channel), '[]'))
      FROM ch
    $$;
