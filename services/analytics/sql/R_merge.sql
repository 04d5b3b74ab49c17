-- an_merge_person, the merge of a person's two records (first in
-- 0016_merge.sql, which says what it does), replaced whole whenever this
-- text changes (a repeatable migration, common/src/migrate.c).
--
-- Every row it moves is reached by an index (issue 15, twelfth session):
-- 0016's form scanned deal, conversion, the three campaign tables and
-- segment_member, 3 or 4 times each: 29 to 34 ms of PostgreSQL CPU a
-- merge at 20,000 rows a table, 172 to 196 ms at 200,000, while the
-- fold's batch waited on it (8 to 10 ms at either size now). deal and
-- conversion have an index by customer now (0020); the campaign tables
-- and segment_member, written on the fold's hottest path, get no new
-- index: their rows are probed by their keys (campaign or segment first),
-- one probe a distinct campaign or segment, which an_key_values lists by
-- skipping along the key (a merge's cost grows with the campaigns, not
-- with their recipients). The result is 0016's, row for row (compared on
-- one database with twins in every keyed table, chained merges and an
-- unknown dropped id), except where both records had a preference: 0016's
-- broke the preference's key there, common's R_alias.sql keeps the
-- survivor's.

-- The distinct values of `col`, the leading column of an index of `tbl`,
-- in order: one index descent each (a loose index scan), where DISTINCT
-- would read every row.
CREATE OR REPLACE FUNCTION an_key_values(tbl regclass, col text) RETURNS text[]
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    vs text[];
BEGIN
    EXECUTE format('WITH RECURSIVE k(v) AS ('
                   ' (SELECT %1$I FROM %2$s ORDER BY %1$I LIMIT 1)'
                   ' UNION ALL'
                   ' SELECT (SELECT t.%1$I FROM %2$s t WHERE t.%1$I > k.v ORDER BY t.%1$I LIMIT 1)'
                   '   FROM k WHERE k.v IS NOT NULL)'
                   ' SELECT COALESCE(array_agg(v), ''{}'') FROM k WHERE v IS NOT NULL', col, tbl)
       INTO vs;
    RETURN vs;
END
$$;

CREATE OR REPLACE FUNCTION an_merge_person(keep_id text, drop_id text, alias_ids text[], who text)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    a text; d customer%ROWTYPE; cs text[];
BEGIN
    PERFORM crm_alias_add(drop_id, keep_id);
    FOREACH a IN ARRAY COALESCE(alias_ids, '{}') LOOP
        CONTINUE WHEN a = drop_id OR a = keep_id OR EXISTS (SELECT 1 FROM customer WHERE id = a);
        PERFORM crm_alias_add(a, keep_id);
    END LOOP;
    SELECT * INTO d FROM customer WHERE id = drop_id;
    IF FOUND THEN
        DELETE FROM customer WHERE id = drop_id;
        INSERT INTO customer AS c (id, first_seen) VALUES (keep_id, d.first_seen)
        ON CONFLICT (id) DO UPDATE SET first_seen = least(c.first_seen, EXCLUDED.first_seen);
        UPDATE customer c SET
            name = CASE WHEN c.name <> '' THEN c.name ELSE d.name END,
            emails = c.emails || ARRAY(SELECT e FROM unnest(d.emails) WITH ORDINALITY u(e, o)
                                        WHERE NOT e = ANY (c.emails) ORDER BY o),
            phones = c.phones || ARRAY(SELECT e FROM unnest(d.phones) WITH ORDINALITY u(e, o)
                                        WHERE NOT e = ANY (c.phones) ORDER BY o),
            organization_id = CASE WHEN c.organization_id <> '' THEN c.organization_id
                                   ELSE d.organization_id END,
            kind = CASE WHEN c.kind <> '' THEN c.kind ELSE d.kind END,
            country = CASE WHEN c.country <> '' THEN c.country ELSE d.country END,
            industry = CASE WHEN c.industry <> '' THEN c.industry ELSE d.industry END,
            owner = CASE WHEN c.owner <> '' THEN c.owner ELSE d.owner END,
            registered_by = CASE WHEN c.registered_by <> '' THEN c.registered_by
                                 ELSE d.registered_by END,
            known = c.known OR d.known,
            fv = d.fv || c.fv,
            contributions = (SELECT COALESCE(jsonb_object_agg(s, COALESCE(d.contributions -> s, '{}')
                                                               || COALESCE(c.contributions -> s, '{}')), '{}')
                               FROM (SELECT jsonb_object_keys(d.contributions) UNION
                                     SELECT jsonb_object_keys(c.contributions)) AS k(s))
        WHERE c.id = keep_id;
    END IF;
    PERFORM crm_alias_repoint('customer_event', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('deal', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('sale_order', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('sale_refund', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('activity', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('ticket', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('sla_breach', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('campaign_response', 'customer_id', keep_id, drop_id);
    PERFORM crm_alias_repoint('conversion', 'customer_id', keep_id, drop_id);
    /* The campaign tables and segment_member are keyed by campaign (or
       segment) first and have no index by customer: crm_alias_repoint's
       `WHERE customer_id = drop_id` would scan each. Their rows of the
       dropped id are reached by key instead, one probe a campaign. */
    cs := an_key_values('campaign_send', 'campaign_id');
    UPDATE campaign_send t SET customer_id = keep_id
     WHERE t.campaign_id = ANY (cs) AND t.customer_id = drop_id
       AND NOT EXISTS (SELECT 1 FROM campaign_send s
                        WHERE s.campaign_id = t.campaign_id AND s.customer_id = keep_id);
    DELETE FROM campaign_send WHERE campaign_id = ANY (cs) AND customer_id = drop_id;
    cs := an_key_values('campaign_delivery', 'campaign_id');
    UPDATE campaign_delivery t SET customer_id = keep_id
     WHERE t.campaign_id = ANY (cs) AND t.customer_id = drop_id
       AND NOT EXISTS (SELECT 1 FROM campaign_delivery s
                        WHERE s.campaign_id = t.campaign_id AND s.customer_id = keep_id);
    DELETE FROM campaign_delivery WHERE campaign_id = ANY (cs) AND customer_id = drop_id;
    cs := an_key_values('campaign_recipient', 'campaign_id');
    UPDATE campaign_recipient r SET reached_at = least(r.reached_at, x.reached_at)
      FROM campaign_recipient x
     WHERE r.campaign_id = ANY (cs) AND r.customer_id = keep_id
       AND x.campaign_id = r.campaign_id AND x.customer_id = drop_id;
    UPDATE campaign_recipient t SET customer_id = keep_id
     WHERE t.campaign_id = ANY (cs) AND t.customer_id = drop_id
       AND NOT EXISTS (SELECT 1 FROM campaign_recipient s
                        WHERE s.campaign_id = t.campaign_id AND s.customer_id = keep_id);
    DELETE FROM campaign_recipient WHERE campaign_id = ANY (cs) AND customer_id = drop_id;
    cs := an_key_values('segment_member', 'segment_id');
    UPDATE segment_member t SET customer_id = keep_id
     WHERE t.segment_id = ANY (cs) AND t.customer_id = drop_id
       AND NOT EXISTS (SELECT 1 FROM segment_member s
                        WHERE s.segment_id = t.segment_id AND s.customer_id = keep_id);
    DELETE FROM segment_member WHERE segment_id = ANY (cs) AND customer_id = drop_id;
    PERFORM crm_alias_repoint('preference', 'customer_id', keep_id, drop_id, 'customer_id');
    DELETE FROM health WHERE customer_id = drop_id;
    INSERT INTO an_dq_resolution (record_id, original_id, resolution, actor, note)
    VALUES (drop_id, keep_id, 1, who, 'merged'), (keep_id, drop_id, 1, who, 'merged')
    ON CONFLICT DO NOTHING;
END
$$;
