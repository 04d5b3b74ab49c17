-- Campaign figures as marketing counts them since issue 13's gateway
-- confirmations: a message on a channel behind an external gateway (SMS,
-- fax, post, phone) is sent when handed over and delivered only once the
-- gateway confirmed it (marketing.delivery.confirm, which publishes
-- delivery.recorded like an email's outcome). Until then it is not
-- delivered, so SENT decisions no longer count as deliveries.

-- an_report_campaigns (0007) with that rule.
CREATE OR REPLACE FUNCTION an_report_campaigns(only_id text) RETURNS jsonb
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
        -- Emails count once the relay answered, messages on other channels
        -- once their gateway confirmed them (both delivery.recorded).
        'delivered', (SELECT count(*) FROM campaign_delivery d WHERE d.campaign_id = c.id AND d.delivered),
        'delivery_failed', (SELECT count(*) FROM campaign_delivery d WHERE d.campaign_id = c.id
                             AND NOT d.delivered),
        'responses', (SELECT COALESCE(jsonb_object_agg(response, n), '{}') FROM (
                          SELECT response, count(*) AS n FROM campaign_response
                           WHERE campaign_id = c.id AND NOT unsolicited GROUP BY response) t),
        'responders', (SELECT count(DISTINCT customer_id) FROM campaign_response
                        WHERE campaign_id = c.id AND response <> 'bounced' AND NOT unsolicited),
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
                                  WHERE r.campaign_id = c.id AND NOT r.unsolicited GROUP BY 1) u
                                GROUP BY ch) v),
        'by_segment', (SELECT COALESCE(jsonb_agg(jsonb_build_object('segment_id', g.segment_id,
                           'recipients', g.recipients, 'responders', g.responders, 'won', g.won)
                           ORDER BY g.segment_id), '[]')
                         FROM (SELECT sm.segment_id, count(*) AS recipients,
                                      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM campaign_response r
                                          WHERE r.campaign_id = c.id AND r.customer_id = sm.customer_id
                                            AND r.response <> 'bounced' AND NOT r.unsolicited)) AS responders,
                                      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM an_campaign_won w
                                          WHERE w.campaign_id = c.id AND w.customer_id = sm.customer_id)) AS won
                                 FROM segment_member sm JOIN campaign_recipient rc
                                   ON rc.customer_id = sm.customer_id AND rc.campaign_id = c.id
                                GROUP BY sm.segment_id) g)) AS j
        FROM campaign c
        JOIN an_campaign_cost cc ON cc.campaign_id = c.id
        CROSS JOIN LATERAL (SELECT
            (SELECT count(*) FROM campaign_response WHERE campaign_id = c.id AND response = 'converted'
                AND NOT unsolicited AND order_id = '')
              + (SELECT count(*) FROM conversion WHERE campaign_id = c.id) AS conversions,
            (SELECT COALESCE(sum(revenue_minor), 0) FROM campaign_response WHERE campaign_id = c.id
                AND response = 'converted' AND NOT unsolicited AND order_id = ''
                AND currency IN ('', c.currency))
              + (SELECT COALESCE(sum(revenue_minor), 0) FROM conversion WHERE campaign_id = c.id) AS revenue) m
       WHERE only_id = '' OR c.id = only_id) x
    $$;
