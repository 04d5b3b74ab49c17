-- Reports: read-only functions over the projections, each returning one
-- JSON document, evaluated at the instant the request names (`at_t`), so
-- that time-dependent figures are reproducible. store.c calls them; the
-- figures are defined in docs/analytics.md.

-- Lifetime value: revenue of the customer's orders placed up to at_t.
CREATE FUNCTION an_ltv(cid text, at_t timestamptz) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE(sum(total_minor), 0)::bigint FROM sale_order
          WHERE customer_id = cid AND ordered_at <= at_t $$;

-- Customers each campaign won: a conversion attributed to it, or a
-- CONVERTED response.
CREATE VIEW an_campaign_won AS
    SELECT campaign_id, customer_id FROM conversion
    UNION
    SELECT campaign_id, customer_id FROM campaign_response
     WHERE response = 'converted' AND customer_id <> '';

CREATE VIEW an_campaign_cost AS
    SELECT c.id AS campaign_id,
           (SELECT COALESCE(sum(x.amount_minor), 0) FROM campaign_expense x
             WHERE x.campaign_id = c.id)::bigint AS cost_minor,
           (SELECT count(*) FROM an_campaign_won w WHERE w.campaign_id = c.id) AS won
      FROM campaign c;

-- Cost to acquire: for each campaign that won the customer, its cost
-- divided by the number of customers it won (rounded half away from zero).
CREATE FUNCTION an_cac(cid text) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE(sum(round(cc.cost_minor::numeric / cc.won)), 0)::bigint
            FROM an_campaign_won w JOIN an_campaign_cost cc ON cc.campaign_id = w.campaign_id
           WHERE w.customer_id = cid AND cc.won > 0 $$;

-- Cost to support: tickets opened up to at_t times the rate per ticket,
-- plus the hours from opening to resolution of resolved tickets times the
-- rate per hour.
CREATE FUNCTION an_cost_to_support(cid text, at_t timestamptz, per_ticket bigint, per_hour bigint)
    RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT (count(*) * per_ticket
                  + round(COALESCE(sum(extract(epoch FROM t.resolved_at - t.opened_at)
                                       / 3600) FILTER (WHERE t.resolved_at IS NOT NULL
                                                          AND t.resolved_at <= at_t), 0) * per_hour))::bigint
            FROM ticket t WHERE t.customer_id = cid AND t.opened_at <= at_t $$;

CREATE FUNCTION an_kpis(cid text, at_t timestamptz, per_ticket bigint, per_hour bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'customer_id', cid,
        'name', (SELECT name FROM customer WHERE id = cid),
        'ltv_minor', an_ltv(cid, at_t),
        'currency', (SELECT max(currency) FROM sale_order WHERE customer_id = cid),
        'orders', (SELECT count(*) FROM sale_order WHERE customer_id = cid AND ordered_at <= at_t),
        'cac_minor', an_cac(cid),
        'cost_to_support_minor', an_cost_to_support(cid, at_t, per_ticket, per_hour),
        'tickets', (SELECT count(*) FROM ticket WHERE customer_id = cid AND opened_at <= at_t),
        -- The caller turns these into health, churn_risk and health_reasons.
        'health_inputs', an_health_inputs(cid, at_t))
    $$;

-- The profile of a customer as it stood at as_of, folded from the person
-- events of the event log: per field, the latest non-empty value.
CREATE FUNCTION an_profile_as_of(cid text, as_of timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH p AS (
        SELECT e.source, e.occurred_at, e.seq,
               COALESCE(e.payload -> 'person_registered' -> 'person',
                        e.payload -> 'person_updated' -> 'person') AS person
          FROM customer_event e
         WHERE e.customer_id = cid AND e.occurred_at <= as_of
           AND (e.payload ? 'person_registered' OR e.payload ? 'person_updated')),
    f AS (
        SELECT DISTINCT ON (k) k, v FROM p, jsonb_each(p.person) AS j(k, v)
         WHERE k IN ('name', 'emails', 'phones', 'organization_id', 'kind', 'country', 'industry',
                     'owner', 'title')
           AND v <> '""'::jsonb AND v <> '[]'::jsonb
         ORDER BY k, p.occurred_at DESC, p.source COLLATE "C" DESC, p.seq DESC)
    SELECT jsonb_build_object('id', cid)
        || COALESCE((SELECT jsonb_object_agg(k, CASE WHEN k = 'kind'
                                                     THEN to_jsonb(an_enum(v #>> '{}', 'PERSON_KIND_'))
                                                     ELSE v END) FROM f), '{}')
        || jsonb_build_object('contributions',
               COALESCE((SELECT jsonb_object_agg(source, person) FROM (
                    SELECT DISTINCT ON (source) source, person FROM p
                     ORDER BY source, occurred_at DESC, seq DESC) s), '{}'),
               'first_seen_us', (SELECT an_us(min(occurred_at)) FROM customer_event
                                  WHERE customer_id = cid AND occurred_at <= as_of))
    $$;

-- The timeline of a customer up to at_t, oldest first.
CREATE FUNCTION an_timeline(cid text, at_t timestamptz, max_rows int) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object('at_us', an_us(t.occurred_at), 'source', t.source,
                                                 'sequence', t.seq, 'type', t.type, 'summary', t.summary)
                              ORDER BY t.occurred_at, t.source, t.seq), '[]')
      FROM (SELECT * FROM customer_event WHERE customer_id = cid AND occurred_at <= at_t
             ORDER BY occurred_at DESC, source DESC, seq DESC LIMIT max_rows) t
    $$;

-- Customer 360: as of `as_of` (NULL = today, evaluated at at_t). NULL when
-- analytics has never seen the customer (or not by as_of).
CREATE FUNCTION an_customer_show(cid text, as_of timestamptz, at_t timestamptz, per_ticket bigint,
                                 per_hour bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH t AS (SELECT COALESCE(as_of, at_t) AS t)
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM customer_event e, t WHERE e.customer_id = cid
                                    AND e.occurred_at <= t.t) THEN NULL ELSE jsonb_build_object(
        'as_of_us', an_us(as_of),
        'at_us', an_us(t.t),
        'profile', CASE WHEN as_of IS NULL THEN (
            SELECT jsonb_build_object('id', c.id, 'name', c.name, 'emails', c.emails, 'phones', c.phones,
                'organization_id', c.organization_id,
                'organization', (SELECT o.name FROM organization o WHERE o.id = c.organization_id),
                'kind', c.kind, 'country', c.country, 'industry', c.industry, 'owner', c.owner,
                'registered_by', c.registered_by, 'first_seen_us', an_us(c.first_seen),
                'contributions', c.contributions)
              FROM customer c WHERE c.id = cid)
            ELSE an_profile_as_of(cid, as_of) END,
        'preferences', (SELECT jsonb_build_object('preferred_channel', pr.preferred_channel,
                                                  'opted_out', pr.opted_out)
                          FROM preference pr WHERE pr.customer_id = cid AND pr.updated_at <= t.t),
        'open_deals', (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', d.id, 'title', d.title,
                           'stage', d.stage, 'amount_minor', d.amount_minor, 'currency', d.currency,
                           'probability', d.probability, 'owner', d.owner, 'next_step', d.next_step)
                           ORDER BY d.created_at, d.id), '[]')
                         FROM deal d WHERE d.customer_id = cid AND d.created_at <= t.t
                          AND (d.closed_at IS NULL OR d.closed_at > t.t)),
        'open_tickets', (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', k.id, 'subject', k.subject,
                             'type', k.type, 'priority', k.priority, 'status', k.status,
                             'opened_at_us', an_us(k.opened_at)) ORDER BY k.opened_at, k.id), '[]')
                           FROM ticket k WHERE k.customer_id = cid AND k.opened_at <= t.t
                            AND (k.resolved_at IS NULL OR k.resolved_at > t.t)
                            AND (as_of IS NOT NULL OR k.status NOT IN ('resolved', 'closed'))),
        'figures', jsonb_build_object(
            'orders', (SELECT count(*) FROM sale_order o WHERE o.customer_id = cid AND o.ordered_at <= t.t),
            'revenue_minor', an_ltv(cid, t.t),
            'last_order_us', (SELECT an_us(max(o.ordered_at)) FROM sale_order o
                               WHERE o.customer_id = cid AND o.ordered_at <= t.t),
            'activities_done', (SELECT count(*) FROM activity a WHERE a.customer_id = cid
                                 AND a.status = 'done' AND a.kind <> 'note' AND a.completed_at <= t.t),
            'notes', (SELECT count(*) FROM activity a WHERE a.customer_id = cid AND a.kind = 'note'
                       AND a.created_at <= t.t),
            'campaigns_reached', (SELECT count(*) FROM campaign_recipient r
                                   WHERE r.customer_id = cid AND r.reached_at <= t.t),
            'responses', (SELECT count(*) FROM campaign_response r WHERE r.customer_id = cid AND r.at <= t.t),
            'tickets', (SELECT count(*) FROM ticket k WHERE k.customer_id = cid AND k.opened_at <= t.t),
            'events', (SELECT count(*) FROM customer_event e WHERE e.customer_id = cid
                        AND e.occurred_at <= t.t)),
        'kpis', an_kpis(cid, t.t, per_ticket, per_hour),
        'timeline', an_timeline(cid, t.t, 1000)) END
      FROM t
    $$;

CREATE FUNCTION an_report_kpis(at_t timestamptz, per_ticket bigint, per_hour bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT jsonb_build_object('at_us', an_us(at_t), 'customers',
                 COALESCE(jsonb_agg(an_kpis(c.id, at_t, per_ticket, per_hour) ORDER BY c.name, c.id), '[]'))
            FROM customer c WHERE c.known $$;

-- Every known customer's health inputs; the caller computes the scores and
-- sorts (lowest score first).
CREATE FUNCTION an_report_health(at_t timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT jsonb_build_object('at_us', an_us(at_t), 'customers',
                 COALESCE(jsonb_agg(jsonb_build_object('customer_id', c.id, 'name', c.name,
                                                       'health_inputs', an_health_inputs(c.id, at_t))
                                    ORDER BY c.name, c.id), '[]'))
            FROM customer c WHERE c.known $$;

-- High sales potential: every known customer with the reasons below that
-- hold; the caller adds "health score N" for a score of 70 or more, keeps
-- the customers with at least two reasons and orders them.
CREATE FUNCTION an_report_potential(at_t timestamptz, ltv_min bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH r AS (
        SELECT c.id, c.name, an_ltv(c.id, at_t) AS ltv, array_remove(ARRAY[
            CASE WHEN an_ltv(c.id, at_t) >= ltv_min
                 THEN format('lifetime value %s of at least %s', an_ltv(c.id, at_t), ltv_min) END,
            (SELECT format('%s interested campaign response(s) in 90 days', count(*))
               FROM campaign_response x WHERE x.customer_id = c.id
                AND x.response IN ('clicked', 'replied', 'interested', 'demo_requested')
                AND x.at > at_t - interval '90 days' AND x.at <= at_t HAVING count(*) > 0),
            (SELECT format('open deal "%s" at stage %s (%s%%)', d.title, d.stage, d.probability)
               FROM deal d WHERE d.customer_id = c.id AND d.status = 'open' AND d.probability >= 50
              ORDER BY d.probability DESC, d.id LIMIT 1)], NULL) AS reasons
          FROM customer c WHERE c.known)
    SELECT jsonb_build_object('at_us', an_us(at_t), 'customers',
           COALESCE(jsonb_agg(jsonb_build_object('customer_id', id, 'name', name, 'ltv_minor', ltv,
                                                 'reasons', to_jsonb(reasons),
                                                 'health_inputs', an_health_inputs(id, at_t))
                              ORDER BY name, id), '[]'))
      FROM r
    $$;

CREATE FUNCTION an_report_pipeline() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'stages', (SELECT COALESCE(jsonb_agg(jsonb_build_object('pipeline_id', pipeline_id, 'stage', stage,
                       'currency', currency, 'deals', n, 'amount_minor', amount, 'weighted_minor', weighted)
                       ORDER BY pipeline_id, stage, currency), '[]')
                     FROM (SELECT pipeline_id, stage, currency, count(*) AS n, sum(amount_minor) AS amount,
                                  round(sum(amount_minor * probability)::numeric / 100)::bigint AS weighted
                             FROM deal WHERE status = 'open' GROUP BY 1, 2, 3) s),
        'won', (SELECT count(*) FROM deal WHERE status = 'won'),
        'lost', (SELECT count(*) FROM deal WHERE status = 'lost'),
        'win_rate_bp', (SELECT round(10000.0 * count(*) FILTER (WHERE status = 'won')
                                     / NULLIF(count(*), 0))::bigint
                          FROM deal WHERE status IN ('won', 'lost')),
        'avg_days_to_close', (SELECT round(avg(extract(epoch FROM closed_at - created_at) / 86400)::numeric, 1)
                                FROM deal WHERE status = 'won' AND closed_at IS NOT NULL),
        'lost_reasons', (SELECT COALESCE(jsonb_agg(jsonb_build_object('reason', lost_reason, 'deals', n)
                                                   ORDER BY n DESC, lost_reason), '[]')
                           FROM (SELECT lost_reason, count(*) AS n FROM deal WHERE status = 'lost'
                                  GROUP BY 1) l))
    $$;

CREATE FUNCTION an_report_forecast() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('months', COALESCE(jsonb_agg(jsonb_build_object('month', month,
               'currency', currency, 'deals', n, 'amount_minor', amount, 'weighted_minor', weighted)
               ORDER BY month, currency), '[]'))
      FROM (SELECT COALESCE(to_char(expected_close, 'YYYY-MM'), 'unscheduled') AS month, currency,
                   count(*) AS n, sum(amount_minor) AS amount,
                   round(sum(amount_minor * probability)::numeric / 100)::bigint AS weighted
              FROM deal WHERE status = 'open' GROUP BY 1, 2) f
    $$;

-- The weekly activity report per rep for the week starting at ws (Monday
-- 00:00 UTC); rep '' = every rep.
CREATE FUNCTION an_report_weekly(ws timestamptz, rep text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH wk AS (SELECT ws AS s, ws + interval '7 days' AS e, ws + interval '14 days' AS n),
    reps AS (
        SELECT owner FROM activity, wk WHERE owner <> '' AND ((status = 'done' AND completed_at >= wk.s
               AND completed_at < wk.e) OR (status = 'scheduled' AND due_at >= wk.e AND due_at < wk.n))
        UNION SELECT d.owner FROM deal_move m JOIN deal d ON d.id = m.deal_id, wk
               WHERE d.owner <> '' AND m.at >= wk.s AND m.at < wk.e
        UNION SELECT owner FROM deal, wk WHERE owner <> '' AND closed_at >= wk.s AND closed_at < wk.e)
    SELECT jsonb_build_object('week_start_us', an_us(ws), 'reps', COALESCE(jsonb_agg(jsonb_build_object(
        'rep', r.owner,
        'calls', (SELECT count(*) FROM activity a, wk WHERE a.owner = r.owner AND a.status = 'done'
                   AND a.kind = 'call' AND a.completed_at >= wk.s AND a.completed_at < wk.e),
        'meetings', (SELECT count(*) FROM activity a, wk WHERE a.owner = r.owner AND a.status = 'done'
                      AND a.kind = 'meeting' AND a.completed_at >= wk.s AND a.completed_at < wk.e),
        'emails', (SELECT count(*) FROM activity a, wk WHERE a.owner = r.owner AND a.status = 'done'
                    AND a.kind = 'email' AND a.completed_at >= wk.s AND a.completed_at < wk.e),
        'tasks_done', (SELECT count(*) FROM activity a, wk WHERE a.owner = r.owner AND a.status = 'done'
                        AND a.kind = 'task' AND a.completed_at >= wk.s AND a.completed_at < wk.e),
        'other_done', (SELECT count(*) FROM activity a, wk WHERE a.owner = r.owner AND a.status = 'done'
                        AND a.kind NOT IN ('call', 'meeting', 'email', 'task', 'note')
                        AND a.completed_at >= wk.s AND a.completed_at < wk.e),
        'deals_advanced', (SELECT count(DISTINCT m.deal_id) FROM deal_move m JOIN deal d ON d.id = m.deal_id, wk
                            WHERE d.owner = r.owner AND m.at >= wk.s AND m.at < wk.e),
        'deals_won', (SELECT count(*) FROM deal d, wk WHERE d.owner = r.owner AND d.status = 'won'
                       AND d.closed_at >= wk.s AND d.closed_at < wk.e),
        'deals_lost', (SELECT count(*) FROM deal d, wk WHERE d.owner = r.owner AND d.status = 'lost'
                        AND d.closed_at >= wk.s AND d.closed_at < wk.e),
        'next_week', (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', a.id, 'kind', a.kind,
                          'subject', a.subject, 'customer_id', a.customer_id, 'due_at_us', an_us(a.due_at))
                          ORDER BY a.due_at, a.id), '[]')
                        FROM activity a, wk WHERE a.owner = r.owner AND a.status = 'scheduled'
                         AND a.due_at >= wk.e AND a.due_at < wk.n))
        ORDER BY r.owner), '[]'))
      FROM reps r WHERE rep = '' OR r.owner = rep
    $$;

-- Campaign results from marketing's events, counted as marketing counts
-- them (services/marketing/store.c, mkt_store_results), plus acquisition
-- cost per customer won and results per channel and segment.
CREATE FUNCTION an_report_campaigns(only_id text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('campaigns', COALESCE(jsonb_agg(x.j ORDER BY x.name, x.id), '[]'))
      FROM (SELECT c.id, c.name, jsonb_build_object(
        'campaign_id', c.id, 'name', c.name, 'status', c.status, 'currency', c.currency,
        'recipients', (SELECT count(*) FROM campaign_recipient r WHERE r.campaign_id = c.id),
        'sent', (SELECT count(*) FROM campaign_send s WHERE s.campaign_id = c.id AND s.status = 'sent'),
        'suppressed', (SELECT count(*) FROM campaign_send s WHERE s.campaign_id = c.id
                        AND s.status = 'suppressed'),
        'deferred', (SELECT count(*) FROM campaign_send s WHERE s.campaign_id = c.id AND s.status = 'deferred'),
        -- Messages on channels other than email are recorded for a gateway
        -- when sent (marketing's delivery status 3); emails count once the
        -- relay answered (delivery.recorded).
        'delivered', (SELECT count(*) FROM campaign_send s WHERE s.campaign_id = c.id AND s.status = 'sent'
                       AND s.channel <> 'email')
                     + (SELECT count(*) FROM campaign_delivery d WHERE d.campaign_id = c.id AND d.delivered),
        'delivery_failed', (SELECT count(*) FROM campaign_delivery d WHERE d.campaign_id = c.id
                             AND NOT d.delivered),
        'responses', (SELECT COALESCE(jsonb_object_agg(response, n), '{}') FROM (
                          SELECT response, count(*) AS n FROM campaign_response
                           WHERE campaign_id = c.id GROUP BY response) t),
        'responders', (SELECT count(DISTINCT customer_id) FROM campaign_response
                        WHERE campaign_id = c.id AND response <> 'bounced'),
        'conversions', m.conversions,
        'revenue_minor', m.revenue,
        'cost_minor', cc.cost_minor,
        'roi_bp', CASE WHEN cc.cost_minor = 0 THEN NULL
                       ELSE round((m.revenue - cc.cost_minor) * 10000.0 / cc.cost_minor)::bigint END,
        'customers_won', cc.won,
        'acquisition_cost_per_customer_minor', CASE WHEN cc.won = 0 THEN NULL
                                                    ELSE round(cc.cost_minor::numeric / cc.won)::bigint END,
        'by_channel', (SELECT COALESCE(jsonb_agg(jsonb_build_object('channel', ch, 'sent', sent,
                           'responses', responses) ORDER BY ch), '[]')
                         FROM (SELECT ch, sum(sent) AS sent, sum(responses) AS responses FROM (
                                 SELECT s.channel AS ch, count(*) AS sent, 0 AS responses FROM campaign_send s
                                  WHERE s.campaign_id = c.id AND s.status = 'sent' GROUP BY 1
                                 UNION ALL
                                 SELECT lower(r.channel), 0, count(*) FROM campaign_response r
                                  WHERE r.campaign_id = c.id GROUP BY 1) u GROUP BY ch) v),
        'by_segment', (SELECT COALESCE(jsonb_agg(jsonb_build_object('segment_id', g.segment_id,
                           'recipients', g.recipients, 'responders', g.responders, 'won', g.won)
                           ORDER BY g.segment_id), '[]')
                         FROM (SELECT sm.segment_id, count(*) AS recipients,
                                      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM campaign_response r
                                          WHERE r.campaign_id = c.id AND r.customer_id = sm.customer_id
                                            AND r.response <> 'bounced')) AS responders,
                                      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM an_campaign_won w
                                          WHERE w.campaign_id = c.id AND w.customer_id = sm.customer_id)) AS won
                                 FROM segment_member sm JOIN campaign_recipient rc
                                   ON rc.customer_id = sm.customer_id AND rc.campaign_id = c.id
                                GROUP BY sm.segment_id) g)) AS j
        FROM campaign c
        JOIN an_campaign_cost cc ON cc.campaign_id = c.id
        CROSS JOIN LATERAL (SELECT
            (SELECT count(*) FROM campaign_response WHERE campaign_id = c.id AND response = 'converted')
              + (SELECT count(*) FROM conversion WHERE campaign_id = c.id) AS conversions,
            (SELECT COALESCE(sum(revenue_minor), 0) FROM campaign_response WHERE campaign_id = c.id
                AND response = 'converted' AND currency IN ('', c.currency))
              + (SELECT COALESCE(sum(revenue_minor), 0) FROM conversion WHERE campaign_id = c.id) AS revenue) m
       WHERE only_id = '' OR c.id = only_id) x
    $$;

-- Emails and phones compared for duplicates: trimmed lower-case emails,
-- phones reduced to their digits (empty ones dropped).
CREATE FUNCTION an_norm_emails(v text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(array_agg(lower(btrim(e))) FILTER (WHERE btrim(e) <> ''), '{}')
            FROM unnest(v) e $$;
CREATE FUNCTION an_norm_phones(v text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(array_agg(regexp_replace(p, '[^0-9]', '', 'g'))
                          FILTER (WHERE regexp_replace(p, '[^0-9]', '', 'g') <> ''), '{}')
            FROM unnest(v) p $$;

-- True while a rebuild's replay has not yet reached where the consumers
-- stood when it started.
CREATE FUNCTION an_rebuilding() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (SELECT 1 FROM an_replay_until u JOIN crm_consumer_position p
                          ON p.source = u.source AND p.consumer LIKE 'analytics.%'
                         WHERE p.seq < u.seq) $$;

-- analytics.rebuild, in the command's transaction: remember where each
-- source's consumer stood (its replay publishes no derived event up to
-- there), drop every projection and the event log, and rewind the
-- consumers to the start of their streams. Returns the events dropped.
CREATE FUNCTION an_rebuild_reset() RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM customer_event;
    INSERT INTO an_replay_until AS u (source, seq)
    SELECT source, max(seq) FROM crm_consumer_position WHERE consumer LIKE 'analytics.%' GROUP BY source
    ON CONFLICT (source) DO UPDATE SET seq = greatest(u.seq, EXCLUDED.seq);
    TRUNCATE customer_event, customer, organization, deal, deal_move, sale_order, activity, ticket,
             sla_breach, campaign, campaign_send, campaign_delivery, campaign_recipient, campaign_response,
             campaign_expense, conversion, preference, segment_member, health;
    UPDATE crm_consumer_position SET seq = 0, epoch = NULL, updated_at = now()
     WHERE consumer LIKE 'analytics.%';
    INSERT INTO an_rebuild AS r (id, rebuilt_at, dropped) VALUES (true, now(), n)
    ON CONFLICT (id) DO UPDATE SET rebuilt_at = EXCLUDED.rebuilt_at, dropped = EXCLUDED.dropped;
    RETURN n;
END
$$;
