-- Merged people (crm.sales.person.merged.v1; docs/architecture.md,
-- "Personal data", "Merge"). The fold (R_apply.sql) resolves every
-- customer id through crm_alias (common/sql/0006_alias.sql) before it
-- writes, and applies the merge itself with an_merge_person: what was the
-- dropped record's becomes the survivor's, so its 360, KPIs and health are
-- those of one record that had it all along.

-- The merge of `drop_id` into `keep_id`. The survivor's profile keeps each
-- field it has set and takes the dropped record's for the empty ones;
-- emails and phones are the union (the survivor's first); it was first
-- seen at the earlier of the two; each source's contribution is merged the
-- same way (the survivor's fields win). Every projection row of the
-- dropped id moves; of a campaign's recipient, send and delivery, or a
-- segment's member, or the preference, the survivor's own row wins. A
-- duplicate finding naming the pair, either way round, is resolved as
-- MERGED by `who`. The caller scores the survivor's health afterwards.
CREATE FUNCTION an_merge_person(keep_id text, drop_id text, alias_ids text[], who text)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    a text; d customer%ROWTYPE;
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
    PERFORM crm_alias_repoint('campaign_send', 'customer_id', keep_id, drop_id, 'campaign_id');
    PERFORM crm_alias_repoint('campaign_delivery', 'customer_id', keep_id, drop_id, 'campaign_id');
    UPDATE campaign_recipient r SET reached_at = least(r.reached_at, x.reached_at)
      FROM campaign_recipient x
     WHERE r.customer_id = keep_id AND x.customer_id = drop_id AND x.campaign_id = r.campaign_id;
    PERFORM crm_alias_repoint('campaign_recipient', 'customer_id', keep_id, drop_id, 'campaign_id');
    PERFORM crm_alias_repoint('segment_member', 'customer_id', keep_id, drop_id, 'segment_id');
    PERFORM crm_alias_repoint('preference', 'customer_id', keep_id, drop_id, 'customer_id');
    DELETE FROM preference WHERE customer_id = drop_id;
    DELETE FROM health WHERE customer_id = drop_id;
    INSERT INTO an_dq_resolution (record_id, original_id, resolution, actor, note)
    VALUES (drop_id, keep_id, 1, who, 'merged'), (keep_id, drop_id, 1, who, 'merged')
    ON CONFLICT DO NOTHING;
END
$$;

-- A rebuild replays person.merged like every event, and with it the
-- alias: the aliases go with the projections, so that what a rebuild
-- folds before the merge stays the dropped record's until the merge moves
-- it, as it did live.
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
             campaign_response, campaign_expense, conversion, preference, segment_member, health,
             crm_alias;
    UPDATE crm_consumer_position SET seq = 0, epoch = NULL, updated_at = now()
     WHERE consumer LIKE 'analytics.%';
    INSERT INTO an_rebuild AS r (id, rebuilt_at, dropped) VALUES (true, now(), n)
    ON CONFLICT (id) DO UPDATE SET rebuilt_at = EXCLUDED.rebuilt_at, dropped = EXCLUDED.dropped;
    RETURN n;
END
$$;
