-- Campaign results by the kind of reason, as marketing counts them
-- (marketing.campaign.results: suppressed_by_reason, deferred_by_reason):
-- each recipient's latest send.decided in the event log, counted by its
-- reason_code. Decisions marketing published before it set reason_code
-- count under the empty code here (marketing derived theirs from the text).
CREATE INDEX customer_event_send_campaign
    ON customer_event ((payload -> 'send_decided' ->> 'campaign_id'), seq)
    WHERE type = 'crm.marketing.send.decided.v1';

CREATE FUNCTION an_send_reasons(campaign text, status text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object('reason', k, 'count', n) ORDER BY k), '[]')
      FROM (SELECT COALESCE(d ->> 'reason_code', '') AS k, count(*) AS n
              FROM (SELECT DISTINCT ON (e.payload -> 'send_decided' ->> 'customer_id')
                           e.payload -> 'send_decided' AS d
                      FROM customer_event e
                     WHERE e.type = 'crm.marketing.send.decided.v1'
                       AND e.payload -> 'send_decided' ->> 'campaign_id' = campaign
                     ORDER BY e.payload -> 'send_decided' ->> 'customer_id', e.seq DESC) l
             WHERE d ->> 'status' = status
             GROUP BY 1) t
    $$;

-- an_report_campaigns (0003) with the counts by reason added to each
-- campaign.
CREATE FUNCTION an_report_campaigns_by_reason(only_id text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT r || jsonb_build_object('campaigns', COALESCE((
               SELECT jsonb_agg(c || jsonb_build_object(
                          'suppressed_by_reason', an_send_reasons(c ->> 'campaign_id',
                                                                  'SEND_STATUS_SUPPRESSED'),
                          'deferred_by_reason', an_send_reasons(c ->> 'campaign_id',
                                                                'SEND_STATUS_DEFERRED'))
                          ORDER BY o)
                 FROM jsonb_array_elements(r -> 'campaigns') WITH ORDINALITY AS t(c, o)), '[]'))
      FROM an_report_campaigns(only_id) AS r
    $$;
