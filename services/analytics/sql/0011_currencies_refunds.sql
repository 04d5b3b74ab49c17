-- Currencies and refunds (issue 20). Analytics never adds amounts of
-- different currencies: every money figure is kept per currency (no
-- conversion; docs/analytics.md, "Currencies"). Orders are counted net of
-- their refunds (crm.sales.order.refunded.v1, .cancelled.v1), and so is
-- the revenue attributed to campaigns.

-- ISO 4217 minor units of the currencies that do not have two (common's
-- table in common/src/check.c, crm_currency_minor_units, is the source).
CREATE FUNCTION an_minor_units(cur text) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN cur IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
                                   'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
                      WHEN cur IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
                      WHEN cur IN ('CLF', 'UYW') THEN 4
                      ELSE 2 END $$;

-- An amount in minor units as its currency writes it: "1500 JPY",
-- "1234.50 EUR", "1.250 KWD".
CREATE FUNCTION an_money(minor text, cur text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN an_minor_units(cur) = 0
                      THEN COALESCE(minor, '0')::numeric::text
                      ELSE to_char(COALESCE(minor, '0')::numeric / 10 ^ an_minor_units(cur),
                                   'FM999999999999990.' || repeat('0', an_minor_units(cur))) END
                 || CASE WHEN COALESCE(cur, '') <> '' THEN ' ' || cur ELSE '' END $$;

ALTER TABLE sale_order ADD COLUMN cancelled_at timestamptz;
CREATE TABLE sale_refund (
    id           text        PRIMARY KEY,
    order_id     text        NOT NULL,
    customer_id  text        NOT NULL,
    amount_minor bigint      NOT NULL,
    currency     text        NOT NULL DEFAULT '',
    at           timestamptz NOT NULL
);
CREATE INDEX sale_refund_customer ON sale_refund (customer_id, at);
CREATE INDEX sale_refund_order ON sale_refund (order_id);

-- Net revenue per currency of the customer's orders placed up to at_t,
-- less what was refunded of them up to at_t: [{currency, amount_minor}],
-- by currency; [] without orders.
CREATE FUNCTION an_ltv_by_currency(cid text, at_t timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE(jsonb_agg(jsonb_build_object('currency', currency, 'amount_minor', net)
                                    ORDER BY currency), '[]')
            FROM (SELECT o.currency,
                         (sum(o.total_minor)
                          - COALESCE(sum((SELECT sum(r.amount_minor) FROM sale_refund r
                                           WHERE r.order_id = o.id AND r.at <= at_t)), 0))::bigint AS net
                    FROM sale_order o WHERE o.customer_id = cid AND o.ordered_at <= at_t
                   GROUP BY o.currency) s $$;

-- Lifetime value in the customer's one currency; NULL when their orders
-- are in more than one (never a sum of two currencies).
CREATE OR REPLACE FUNCTION an_ltv(cid text, at_t timestamptz) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN jsonb_array_length(l) = 0 THEN 0
                      WHEN jsonb_array_length(l) = 1 THEN (l -> 0 ->> 'amount_minor')::bigint END
            FROM an_ltv_by_currency(cid, at_t) l $$;

-- The customer's one order currency, NULL for none or several.
CREATE FUNCTION an_currency(cid text) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN count(DISTINCT currency) = 1 THEN min(currency) END
            FROM sale_order WHERE customer_id = cid $$;

-- Cost to acquire per campaign currency: [{currency, amount_minor}].
CREATE FUNCTION an_cac_by_currency(cid text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE(jsonb_agg(jsonb_build_object('currency', cur, 'amount_minor', amt)
                                    ORDER BY cur), '[]')
            FROM (SELECT c.currency AS cur, sum(round(cc.cost_minor::numeric / cc.won))::bigint AS amt
                    FROM an_campaign_won w JOIN an_campaign_cost cc ON cc.campaign_id = w.campaign_id
                    JOIN campaign c ON c.id = w.campaign_id
                   WHERE w.customer_id = cid AND cc.won > 0 GROUP BY c.currency) s $$;

-- Cost to acquire in one currency; NULL when the campaigns that won the
-- customer spent in more than one.
CREATE OR REPLACE FUNCTION an_cac(cid text) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN jsonb_array_length(l) = 0 THEN 0
                      WHEN jsonb_array_length(l) = 1 THEN (l -> 0 ->> 'amount_minor')::bigint END
            FROM an_cac_by_currency(cid) l $$;

CREATE OR REPLACE FUNCTION an_kpis(cid text, at_t timestamptz, per_ticket bigint, per_hour bigint)
    RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'customer_id', cid,
        'name', (SELECT name FROM customer WHERE id = cid),
        'ltv', an_ltv_by_currency(cid, at_t),
        'ltv_minor', an_ltv(cid, at_t),
        'currency', an_currency(cid),
        'orders', (SELECT count(*) FROM sale_order WHERE customer_id = cid AND ordered_at <= at_t),
        'cac', an_cac_by_currency(cid),
        'cac_minor', an_cac(cid),
        'cost_to_support_minor', an_cost_to_support(cid, at_t, per_ticket, per_hour),
        'tickets', (SELECT count(*) FROM ticket WHERE customer_id = cid AND opened_at <= at_t),
        -- The caller turns these into health, churn_risk and health_reasons.
        'health_inputs', an_health_inputs(cid, at_t))
    $$;

-- High sales potential: the lifetime value counts as a reason when, in
-- some currency, it reaches that currency's threshold (thresholds: an
-- object {"EUR": minor, ...} from ANALYTICS_POTENTIAL_LTV); a currency
-- without a threshold never counts. ltv_minor and currency: the
-- customer's value that is highest against its own currency's threshold
-- (amounts of two currencies are never compared; 0 and null when none
-- reached its threshold); ltv is every currency's.
CREATE FUNCTION an_report_potential(at_t timestamptz, thresholds jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH r AS (
        SELECT c.id, c.name, an_ltv_by_currency(c.id, at_t) AS ltv FROM customer c WHERE c.known),
    q AS (
        SELECT r.id, r.name, r.ltv,
               (SELECT l FROM jsonb_array_elements(r.ltv) l
                 WHERE thresholds ? (l ->> 'currency')
                   AND (l ->> 'amount_minor')::bigint >= (thresholds ->> (l ->> 'currency'))::bigint
                 ORDER BY (l ->> 'amount_minor')::numeric
                          / NULLIF((thresholds ->> (l ->> 'currency'))::numeric, 0) DESC,
                          l ->> 'currency' LIMIT 1) AS hit
          FROM r),
    s AS (
        SELECT q.id, q.name, q.ltv, q.hit, array_remove(ARRAY[
            CASE WHEN q.hit IS NOT NULL
                 THEN format('lifetime value %s of at least %s',
                             an_money(q.hit ->> 'amount_minor', q.hit ->> 'currency'),
                             an_money(thresholds ->> (q.hit ->> 'currency'), q.hit ->> 'currency')) END,
            (SELECT format('%s interested campaign response(s) in 90 days', count(*))
               FROM campaign_response x WHERE x.customer_id = q.id
                AND x.response IN ('clicked', 'replied', 'interested', 'demo_requested')
                AND x.at > at_t - interval '90 days' AND x.at <= at_t HAVING count(*) > 0),
            (SELECT format('open deal "%s" at stage %s (%s%%)', d.title, d.stage, d.probability)
               FROM deal d WHERE d.customer_id = q.id AND d.status = 'open' AND d.probability >= 50
              ORDER BY d.probability DESC, d.id LIMIT 1)], NULL) AS reasons
          FROM q)
    SELECT jsonb_build_object('at_us', an_us(at_t), 'customers',
           COALESCE(jsonb_agg(jsonb_build_object('customer_id', id, 'name', name,
                                                 'ltv', ltv,
                                                 'ltv_minor', COALESCE((hit ->> 'amount_minor')::bigint, 0),
                                                 'currency', hit ->> 'currency',
                                                 -- Orders the list across currencies: the value
                                                 -- against its own currency's threshold.
                                                 'ltv_permille_of_threshold', COALESCE(
                                                     (1000 * (hit ->> 'amount_minor')::numeric
                                                      / NULLIF((thresholds ->> (hit ->> 'currency'))::numeric, 0))::bigint, 0),
                                                 'reasons', to_jsonb(reasons),
                                                 'health_inputs', an_health_inputs(id, at_t))
                              ORDER BY name, id), '[]'))
      FROM s
    $$;

-- analytics.rebuild drops the refunds with the other projections.
CREATE OR REPLACE FUNCTION an_rebuild_reset() RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM customer_event;
    INSERT INTO an_replay_until AS u (source, seq)
    SELECT source, max(seq) FROM crm_consumer_position WHERE consumer LIKE 'analytics.%' GROUP BY source
    ON CONFLICT (source) DO UPDATE SET seq = greatest(u.seq, EXCLUDED.seq);
    TRUNCATE customer_event, customer, organization, deal, deal_move, sale_order, sale_refund, activity,
             ticket, sla_breach, campaign, campaign_send, campaign_delivery, campaign_recipient,
             campaign_response, campaign_expense, conversion, preference, segment_member, health;
    UPDATE crm_consumer_position SET seq = 0, epoch = NULL, updated_at = now()
     WHERE consumer LIKE 'analytics.%';
    INSERT INTO an_rebuild AS r (id, rebuilt_at, dropped) VALUES (true, now(), n)
    ON CONFLICT (id) DO UPDATE SET rebuilt_at = EXCLUDED.rebuilt_at, dropped = EXCLUDED.dropped;
    RETURN n;
END
$$;

-- Health: a cancelled order is no purchase (from its cancellation on).
CREATE OR REPLACE FUNCTION an_health_inputs(cid text, at_t timestamptz) RETURNS jsonb
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
              FROM sale_order WHERE customer_id = cid AND ordered_at <= at_t
               AND (cancelled_at IS NULL OR cancelled_at > at_t)) o
    $$;
