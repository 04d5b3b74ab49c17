-- Erasure of a person's personal data (docs/architecture.md, "Personal
-- data"). crm_erase_scrub replaces every occurrence of each string of
-- `pii` (a person's name, emails, phones as this service knew them), in
-- any case, by the marker '[erased]' in every text, text[] and jsonb column
-- of every table of the schema: the one rule, applied alike to the tables
-- and (by common/src/erase.c) to the stored protobuf events, so that what a
-- consumer rebuilds from the rewritten log equals what it erased live.
-- crm_idempotency is left to erase.c (its key is the primary key, and its
-- reply is protobuf bytes). Strings shorter than 4 characters are skipped:
-- they would erase far more than one person. Returns the rows changed.
-- Every table is read, so an erasure costs a pass over the database; they
-- are rare. Runs with the caller's rights: the runtime role's UPDATE.
-- It sets crm.erasing for the rest of the transaction: an append-only
-- table (marketing's consent ledger) lets exactly this rewrite through.
CREATE FUNCTION crm_erase_scrub(pii text[]) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    c record; p text; pat text; esc text; k bigint; n bigint := 0;
BEGIN
    PERFORM set_config('crm.erasing', 'on', true);
    FOREACH p IN ARRAY COALESCE(pii, '{}') LOOP
        CONTINUE WHEN p IS NULL OR length(p) < 4 OR p = '[erased]';
        pat := regexp_replace(p, '([.\\+*?\[^\]$(){}=!<>|:#/-])', '\\\1', 'g');
        esc := to_jsonb(p)::text;
        esc := substr(esc, 2, length(esc) - 2);
        esc := regexp_replace(esc, '([.\\+*?\[^\]$(){}=!<>|:#/-])', '\\\1', 'g');
        FOR c IN SELECT col.table_name AS t, col.column_name AS f, col.udt_name AS u
                   FROM information_schema.columns col
                   JOIN information_schema.tables tb
                     ON tb.table_schema = col.table_schema AND tb.table_name = col.table_name
                  WHERE col.table_schema = current_schema() AND tb.table_type = 'BASE TABLE'
                    AND col.udt_name IN ('text', 'varchar', '_text', 'jsonb')
                    AND col.table_name <> 'crm_idempotency'
        LOOP
            IF c.u IN ('text', 'varchar') THEN
                EXECUTE format('UPDATE %I SET %I = regexp_replace(%I, $1, ''[erased]'', ''gi'') '
                               'WHERE %I ~* $1', c.t, c.f, c.f, c.f) USING pat;
            ELSIF c.u = '_text' THEN
                EXECUTE format('UPDATE %I SET %I = ARRAY(SELECT regexp_replace(x, $1, ''[erased]'', ''gi'') '
                               'FROM unnest(%I) WITH ORDINALITY u(x, o) ORDER BY o) '
                               'WHERE array_to_string(%I, chr(31)) ~* $1', c.t, c.f, c.f, c.f) USING pat;
            ELSE
                EXECUTE format('UPDATE %I SET %I = regexp_replace(%I::text, $1, ''[erased]'', ''gi'')::jsonb '
                               'WHERE %I::text ~* $1', c.t, c.f, c.f, c.f) USING esc;
            END IF;
            GET DIAGNOSTICS k = ROW_COUNT;
            n := n + k;
        END LOOP;
    END LOOP;
    RETURN n;
END
$$;

-- A name as one of the strings to erase everywhere: only a full name (two
-- words or more). "Anna" alone would erase every Anna of the database; a
-- one-word name is erased in the person's own records only (their
-- profile's name field, and the personal fields of events about them).
CREATE FUNCTION crm_erase_name(n text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN btrim(COALESCE(n, '')) ~ '\s' THEN btrim(n) ELSE '' END $$;
