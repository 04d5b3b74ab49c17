-- Merged people (sales.person.merge; docs/architecture.md, "Personal
-- data", "Merge"). Every service keeps, in its own database, which ids are
-- another person's now: a row per dropped id, naming its survivor. It is
-- written in the transaction that applies crm.sales.person.merged.v1, so
-- it exists exactly when the merge was applied. The customer-id rule
-- derives an id from a normalised email, so the dropped record's emails
-- resolve to the survivor through the same table (a row per id derived
-- from one of them). Holds ids only, no personal data.
CREATE TABLE crm_alias (
    dropped_id  text        PRIMARY KEY,
    survivor_id text        NOT NULL,
    merged_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_alias_survivor ON crm_alias (survivor_id);

-- The id `id` stands for now: its survivor when it was merged, else itself.
CREATE FUNCTION crm_alias_of(id text) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE((SELECT a.survivor_id FROM crm_alias a WHERE a.dropped_id = id), id) $$;

-- Records that `dropped` is `survivor` from now on. Aliases that named the
-- dropped id as their survivor follow it, so a lookup is always one step
-- (A merged into B, then B into C: A and B name C). Returns false when it
-- was known already (the event applied twice) or names itself.
CREATE FUNCTION crm_alias_add(dropped text, survivor text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF dropped IS NULL OR survivor IS NULL OR dropped = '' OR dropped = survivor THEN
        RETURN false;
    END IF;
    UPDATE crm_alias SET survivor_id = survivor WHERE survivor_id = dropped;
    INSERT INTO crm_alias (dropped_id, survivor_id) VALUES (dropped, survivor)
    ON CONFLICT (dropped_id) DO NOTHING;
    RETURN FOUND;
END
$$;

-- The one place where a late write about a dropped id lands on the
-- survivor: a BEFORE INSERT OR UPDATE trigger (crm_alias_attach) that
-- replaces, in the columns named by its arguments, an id found in
-- crm_alias by its survivor. A service's handlers and consumers then need
-- no alias code of their own: an event about the dropped id that arrives
-- after the merge (a replay, a service that was down, an order sent with
-- the old id) writes its rows under the survivor. With no alias at all
-- (the usual case) it costs one probe of an empty table.
CREATE FUNCTION crm_alias_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    c text; v text; s text; r jsonb; ch jsonb := '{}';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM crm_alias) THEN
        RETURN NEW;
    END IF;
    r := to_jsonb(NEW);
    FOREACH c IN ARRAY TG_ARGV LOOP
        v := r ->> c;
        CONTINUE WHEN v IS NULL OR v = '';
        SELECT a.survivor_id INTO s FROM crm_alias a WHERE a.dropped_id = v;
        IF FOUND THEN
            ch := ch || jsonb_build_object(c, s);
        END IF;
    END LOOP;
    IF ch <> '{}' THEN
        NEW := jsonb_populate_record(NEW, ch);
    END IF;
    RETURN NEW;
END
$$;

-- Puts crm_alias_row on `tbl` for the id columns `cols` (a service's
-- migration calls it for every column that names a person).
CREATE FUNCTION crm_alias_attach(tbl regclass, VARIADIC cols text[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER crm_alias BEFORE INSERT OR UPDATE OF %s ON %s'
                   ' FOR EACH ROW EXECUTE FUNCTION crm_alias_row(%s)',
                   (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c), tbl,
                   (SELECT string_agg(quote_literal(c), ', ') FROM unnest(cols) c));
END
$$;

-- Re-points the rows of `tbl` whose `col` is `drop_id` to `keep_id` (a
-- service's merge of a person). With `keys`, the columns that with `col`
-- make a row unique (a campaign's recipient: campaign_id), a row of the
-- dropped id whose twin already names the survivor is deleted instead:
-- the survivor's own row wins. Returns the rows re-pointed.
CREATE FUNCTION crm_alias_repoint(tbl regclass, col text, keep_id text, drop_id text,
                                  VARIADIC keys text[] DEFAULT '{}') RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    n bigint; twin text := '';
BEGIN
    IF cardinality(keys) > 0 THEN
        twin := format(' AND NOT EXISTS (SELECT 1 FROM %s s WHERE s.%I = %L %s)', tbl, col, keep_id,
                       (SELECT string_agg(format('AND s.%I IS NOT DISTINCT FROM t.%I', k, k), ' ')
                          FROM unnest(keys) k));
    END IF;
    EXECUTE format('UPDATE %s t SET %I = %L WHERE t.%I = %L', tbl, col, keep_id, col, drop_id) || twin;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF cardinality(keys) > 0 THEN
        EXECUTE format('DELETE FROM %s WHERE %I = %L', tbl, col, drop_id);
    END IF;
    RETURN n;
END
$$;
