-- mkt_merge_person, the merge of a person's two records (first in
-- 0022_merge.sql; docs/architecture.md, "Merge"), replaced whole whenever
-- this text changes (a repeatable migration, common/src/migrate.c): the
-- survivor is decided once per campaign (0026_merge_decided_once.sql),
-- and every re-pointing probes by key (0027_merge_cost.sql).

-- Applies the merge of `drop_id` into `keep_id` once: false when it was
-- applied before (the alias exists). Recipients, sends and segment
-- memberships of one campaign or segment keep the survivor's row, and a
-- campaign either record was decided for is not decided again;
-- responses, deliveries, conversions, purchases, tickets and consent
-- entries move; the preference is the survivor's (the dropped record's
-- when the survivor has none) with the union of both opt-outs; the
-- survivor's profile keeps its set fields and takes the dropped record's
-- for the empty ones. `alias_ids`: every id that names the survivor now.
CREATE OR REPLACE FUNCTION mkt_merge_person(keep_id uuid, drop_id uuid, alias_ids text[]) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    k text := keep_id::text; d text := drop_id::text; dp person%ROWTYPE;
BEGIN
    IF NOT crm_alias_add(d, k) THEN
        RETURN false;
    END IF;
    PERFORM crm_alias_add_ids(k, d, alias_ids, 'person');
    PERFORM crm_alias_repoint('campaign_recipient', 'customer_id', k, d, 'campaign_id');
    -- One decision per campaign for the merged person: where the dropped
    -- record was decided, its send becomes the survivor's below, so the
    -- survivor leaves that campaign's queue (as the dropped record's place
    -- went with its recipient row where the survivor was decided). By the
    -- survivor's recipients (campaign_recipient_customer), then a probe of
    -- send's and the queue's keys each: no scan of either.
    DELETE FROM send_queue q
     WHERE q.customer_id = keep_id
       AND q.campaign_id IN (SELECT r.campaign_id FROM campaign_recipient r
                              WHERE r.customer_id = keep_id
                                AND EXISTS (SELECT 1 FROM send s WHERE s.campaign_id = r.campaign_id
                                                                   AND s.customer_id = drop_id));
    -- crm_alias_repoint's two statements, probing send's key campaign by
    -- campaign (a send's campaign is never deleted, 0025).
    UPDATE send t SET customer_id = keep_id FROM campaign c
     WHERE t.campaign_id = c.id AND t.customer_id = drop_id
       AND NOT EXISTS (SELECT 1 FROM send s WHERE s.campaign_id = t.campaign_id
                                            AND s.customer_id = keep_id);
    DELETE FROM send t USING campaign c WHERE t.campaign_id = c.id AND t.customer_id = drop_id;
    -- The same for segment_member, segment by segment.
    UPDATE segment_member t SET customer_id = keep_id FROM segment g
     WHERE t.segment_id = g.id AND t.customer_id = drop_id
       AND NOT EXISTS (SELECT 1 FROM segment_member s WHERE s.segment_id = t.segment_id
                                                      AND s.customer_id = keep_id);
    DELETE FROM segment_member t USING segment g WHERE t.segment_id = g.id AND t.customer_id = drop_id;
    PERFORM crm_alias_repoint('response', 'customer_id', k, d);
    PERFORM crm_alias_repoint('delivery', 'customer_id', k, d);
    PERFORM crm_alias_repoint('conversion', 'customer_id', k, d);
    PERFORM crm_alias_repoint('purchase', 'customer_id', k, d);
    PERFORM crm_alias_repoint('ticket', 'customer_id', k, d);
    UPDATE preference pk SET opted_out = ARRAY(SELECT DISTINCT x FROM unnest(pk.opted_out
        || pd.opted_out) x ORDER BY x)
      FROM preference pd WHERE pk.customer_id = keep_id AND pd.customer_id = drop_id;
    PERFORM crm_alias_repoint('preference', 'customer_id', k, d, 'customer_id');
    PERFORM set_config('crm.merging', 'on', true);
    UPDATE consent SET customer_id = keep_id WHERE customer_id = drop_id;
    PERFORM set_config('crm.merging', 'off', true);
    SELECT * INTO dp FROM person WHERE id = drop_id;
    IF FOUND THEN
        DELETE FROM person WHERE id = drop_id;
        INSERT INTO person AS p (id, name, email, registered_by, kind, country, industry, tags,
                                 phone, fax, address)
        VALUES (keep_id, dp.name, dp.email, dp.registered_by, dp.kind, dp.country, dp.industry, dp.tags,
                dp.phone, dp.fax, dp.address)
        ON CONFLICT (id) DO UPDATE SET
            name = CASE WHEN p.name <> '' THEN p.name ELSE EXCLUDED.name END,
            email = CASE WHEN p.email <> '' THEN p.email ELSE EXCLUDED.email END,
            kind = CASE WHEN p.kind <> 0 THEN p.kind ELSE EXCLUDED.kind END,
            country = CASE WHEN p.country <> '' THEN p.country ELSE EXCLUDED.country END,
            industry = CASE WHEN p.industry <> '' THEN p.industry ELSE EXCLUDED.industry END,
            phone = CASE WHEN p.phone <> '' THEN p.phone ELSE EXCLUDED.phone END,
            fax = CASE WHEN p.fax <> '' THEN p.fax ELSE EXCLUDED.fax END,
            address = CASE WHEN p.address <> '' THEN p.address ELSE EXCLUDED.address END,
            tags = p.tags || ARRAY(SELECT x FROM unnest(EXCLUDED.tags) x WHERE NOT x = ANY (p.tags)),
            updated_at = now();
    END IF;
    RETURN true;
END
$$;
