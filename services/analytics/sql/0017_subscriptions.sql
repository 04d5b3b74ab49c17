-- Subscriptions (issue 20): sales' crm.sales.subscription.* events kept as
-- the plan each customer is on, and the renewals they will bring in the
-- forecast (an_report_forecast_at). Amounts stay in their currency.
CREATE TABLE subscription (
    id           text        PRIMARY KEY,
    customer_id  text        NOT NULL DEFAULT '',
    plan         text        NOT NULL DEFAULT '',
    amount_minor bigint      NOT NULL DEFAULT 0,
    currency     text        NOT NULL DEFAULT '',
    period       text        NOT NULL DEFAULT 'month',
    start_date   date,
    renewal_date date,
    status       text        NOT NULL DEFAULT 'active',
    owner        text        NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL
);
CREATE INDEX subscription_customer ON subscription (customer_id);

-- The forecast as of `at`: the open deals by expected close month
-- (an_report_forecast), and the renewals of active subscriptions in the
-- twelve months from at's month (UTC), by month and currency. A
-- subscription renews on its renewal date and every period after it
-- (month or year; a day the month does not have is its last day);
-- renewal dates before at's month are not counted.
CREATE FUNCTION an_report_forecast_at(at timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH w AS (SELECT (date_trunc('month', at AT TIME ZONE 'UTC'))::date AS s),
    r AS (
        SELECT s.currency, s.amount_minor,
               (s.renewal_date + make_interval(months => k * CASE s.period WHEN 'year' THEN 12 ELSE 1 END))::date AS d
          FROM subscription s, w, generate_series(0, 12) k
         WHERE s.status = 'active' AND s.renewal_date IS NOT NULL)
    SELECT an_report_forecast() || jsonb_build_object('renewals_from', to_char(w.s, 'YYYY-MM'),
           'renewals', (SELECT COALESCE(jsonb_agg(jsonb_build_object('month', month,
               'currency', currency, 'renewals', n, 'amount_minor', amount) ORDER BY month, currency), '[]')
              FROM (SELECT to_char(d, 'YYYY-MM') AS month, currency, count(*) AS n,
                           sum(amount_minor) AS amount
                      FROM r WHERE d >= w.s AND d < w.s + interval '12 months'
                     GROUP BY 1, 2) f))
      FROM w
    $$;

-- analytics.rebuild empties subscriptions with the other projections: the
-- reset as the migrations before this one left it, then this table.
ALTER FUNCTION an_rebuild_reset() RENAME TO an_rebuild_reset_before_0017;
CREATE FUNCTION an_rebuild_reset() RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    n bigint;
BEGIN
    n := an_rebuild_reset_before_0017();
    TRUNCATE subscription;
    RETURN n;
END
$$;
