-- Reports at the reader's level (crm/access.h): the pipeline of the deals
-- whose owner is one of `owners` (NULL = every deal), for a rep their own
-- and for a manager their team's. The weekly report is filtered by rep
-- in its statement (store.c).
CREATE FUNCTION an_deals_of(owners text[]) RETURNS SETOF deal
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM deal WHERE owners IS NULL OR owner = ANY(owners)
    $$;

CREATE FUNCTION an_report_pipeline(owners text[]) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'stages', (SELECT COALESCE(jsonb_agg(jsonb_build_object('pipeline_id', pipeline_id, 'stage', stage,
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
