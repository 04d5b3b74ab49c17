-- Merged people (crm.sales.person.merged.v1; docs/architecture.md,
-- "Personal data", "Merge"). Every column that names a person resolves a
-- dropped id to its survivor on write (crm_alias, common/sql/0006_alias.sql),
-- so responses, orders, tickets and person events about the dropped id
-- that arrive after the merge land on the survivor.
SELECT crm_alias_attach('person', 'id');
SELECT crm_alias_attach('campaign_recipient', 'customer_id');
SELECT crm_alias_attach('response', 'customer_id');
SELECT crm_alias_attach('conversion', 'customer_id');
SELECT crm_alias_attach('preference', 'customer_id');
SELECT crm_alias_attach('send', 'customer_id');
SELECT crm_alias_attach('delivery', 'customer_id');
SELECT crm_alias_attach('purchase', 'customer_id');
SELECT crm_alias_attach('segment_member', 'customer_id');
SELECT crm_alias_attach('ticket', 'customer_id');
SELECT crm_alias_attach('consent', 'customer_id');

-- The consent ledger stays append-only, with one more rewrite allowed: a
-- merge moves the dropped person's entries to the survivor (crm.merging),
-- their purposes, decisions, proofs and times unchanged, so the survivor's
-- state per purpose is the latest decision of either record.
CREATE OR REPLACE FUNCTION mkt_consent_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('crm.erasing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('crm.merging', true) = 'on'
       AND (to_jsonb(NEW) - 'customer_id') = (to_jsonb(OLD) - 'customer_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the consent ledger is append-only: record a withdrawal instead';
END $$;

-- Applies the merge of `drop_id` into `keep_id` once: false when it was
-- applied before (the alias exists). Recipients, sends and segment
-- memberships of one campaign or segment keep the survivor's row;
-- responses, deliveries, conversions, purchases, tickets and consent
-- entries move; the preference is the survivor's (the dropped record's
-- when the survivor has none) with the union of both opt-outs; the
-- survivor's profile keeps its set fields and takes the dropped record's
-- for the empty ones. `alias_ids`: every id that names the survivor now.
CREATE FUNCTION mkt_merge_person(keep_id uuid, drop_id uuid, alias_ids text[]) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    k text := keep_id::text; d text := drop_id::text; a text; dp person%ROWTYPE;
BEGIN
    IF NOT crm_alias_add(d, k) THEN
        RETURN false;
    END IF;
    FOREACH a IN ARRAY COALESCE(alias_ids, '{}') LOOP
        CONTINUE WHEN a = d OR EXISTS (SELECT 1 FROM person WHERE id::text = a);
        PERFORM crm_alias_add(a, k);
    END LOOP;
    PERFORM crm_alias_repoint('campaign_recipient', 'customer_id', k, d, 'campaign_id');
    PERFORM crm_alias_repoint('send', 'customer_id', k, d, 'campaign_id');
    PERFORM crm_alias_repoint('segment_member', 'customer_id', k, d, 'segment_id');
    PERFORM crm_alias_repoint('response', 'customer_id', k, d);
    PERFORM crm_alias_repoint('delivery', 'customer_id', k, d);
    PERFORM crm_alias_repoint('conversion', 'customer_id', k, d);
    PERFORM crm_alias_repoint('purchase', 'customer_id', k, d);
    PERFORM crm_alias_repoint('ticket', 'customer_id', k, d);
    UPDATE preference pk SET opted_out = ARRAY(SELECT DISTINCT x FROM unnest(pk.opted_out
        || pd.opted_out) x ORDER BY x)
      FROM preference pd WHERE pk.customer_id = keep_id AND pd.customer_id = drop_id;
    PERFORM crm_alias_repoint('preference', 'customer_id', k, d, 'customer_id');
    DELETE FROM preference WHERE customer_id = drop_id;
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
