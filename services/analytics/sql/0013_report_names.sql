-- Names where reports showed ids (issue 20): the pipeline's name in the
-- pipeline report (pipelines are projected from
-- crm.sales.pipeline.created.v1), the customer's name beside its id in the
-- weekly report's next-week activities.
CREATE TABLE pipeline (
    id   text PRIMARY KEY,
    name text NOT NULL DEFAULT ''
);

CREATE OR REPLACE FUNCTION an_report_pipeline(owners text[]) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'stages', (SELECT COALESCE(jsonb_agg(jsonb_build_object('pipeline_id', pipeline_id,
                       'pipeline', COALESCE((SELECT p.name FROM pipeline p WHERE p.id = s.pipeline_id), s.pipeline_id),
                       'stage', stage,
                       'currency', currency, 'deals', n, 'amount_minor', amount, 'weighted_minor', weighted)
                       ORDER BY pipeline_id, stage, currency), '[]')
                     FROM (SELECT pipeline_id, stage, currency, count(*) AS n, sum(amount_minor) AS amount,
                                  round(sum(amount_minor * probability)::numeric / 100)::bigint AS weighted
                             FROM an_deals_of(owners) deal WHERE status = 'open' GROUP BY 1, 2, 3) s),
        'won', (SELECT count(*) FROM an_deals_of(owners) deal WHERE status = 'won'),
        'lost', (SELECT count(*) FROM an_deals_of(owners) deal WHERE status = 'lost'),
        'win_rate_bp', (SELECT round(10000.0 * count(*) FILTER (WHERE status = 'won')
                                     / NULLIF(count(*), 0))::bigint
                          FROM an_deals_of(owners) deal WHERE status IN ('won', 'lost')),
        'avg_days_to_close', (SELECT round(avg(extract(epoch FROM closed_at - created_at) / 86400)::numeric, 1)
                                FROM an_deals_of(owners) deal WHERE status = 'won' AND closed_at IS NOT NULL),
        'lost_reasons', (SELECT COALESCE(jsonb_agg(jsonb_build_object('reason', lost_reason, 'deals', n)
                                                   ORDER BY n DESC, lost_reason), '[]')
                           FROM (SELECT lost_reason, count(*) AS n FROM an_deals_of(owners) deal WHERE status = 'lost'
                                  GROUP BY 1) l))
    $$;

CREATE OR REPLACE FUNCTION an_report_weekly(ws timestamptz, rep text) RETURNS jsonb
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
                          'subject', a.subject, 'customer_id', a.customer_id,
                          'customer', (SELECT c.name FROM customer c WHERE c.id = a.customer_id),
                          'due_at_us', an_us(a.due_at))
                          ORDER BY a.due_at, a.id), '[]')
                        FROM activity a, wk WHERE a.owner = r.owner AND a.status = 'scheduled'
                         AND a.due_at >= wk.e AND a.due_at < wk.n))
        ORDER BY r.owner), '[]'))
      FROM reps r WHERE rep = '' OR r.owner = rep
    $$;

-- analytics.rebuild drops the pipelines with the other projections.
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
    TRUNCATE customer_event, customer, organization, deal, deal_move, sale_order, sale_refund, pipeline, activity,
             ticket, sla_breach, campaign, campaign_send, campaign_delivery, campaign_recipient,
             campaign_response, campaign_expense, conversion, preference, segment_member, health;
    UPDATE crm_consumer_position SET seq = 0, epoch = NULL, updated_at = now()
     WHERE consumer LIKE 'analytics.%';
    INSERT INTO an_rebuild AS r (id, rebuilt_at, dropped) VALUES (true, now(), n)
    ON CONFLICT (id) DO UPDATE SET rebuilt_at = EXCLUDED.rebuilt_at, dropped = EXCLUDED.dropped;
    RETURN n;
END
$$;
