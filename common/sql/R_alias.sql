-- crm_alias_repoint (first in 0006_alias.sql), replaced whole whenever
-- this text changes (a repeatable migration, common/src/migrate.c).
--
-- Re-points the rows of `tbl` whose `col` is `drop_id` to `keep_id` (a
-- service's merge of a person). With `keys`, the columns that with `col`
-- make a row unique (a campaign's recipient: campaign_id), a row of the
-- dropped id whose twin already names the survivor is deleted instead:
-- the survivor's own row wins. `col` itself among the keys means the row
-- is unique by `col` alone (a preference): any row of the survivor is the
-- twin. Returns the rows re-pointed.
--
-- The twin check compares a NOT NULL key with `=`, so that it probes the
-- table's key (keys, col) instead of scanning the table once per merge:
-- IS NOT DISTINCT FROM, which 0006 used for every key, no index serves
-- (issue 15, twelfth session). A nullable key keeps IS NOT DISTINCT FROM,
-- so the answer is the same for every row. 0006 compared `col` with
-- itself when it was a key, which no row of the dropped id matched: the
-- UPDATE then broke the unique key when both had a row.
CREATE OR REPLACE FUNCTION crm_alias_repoint(tbl regclass, col text, keep_id text, drop_id text,
                                             VARIADIC keys text[] DEFAULT '{}') RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    n bigint; twin text := '';
BEGIN
    IF cardinality(keys) > 0 THEN
        twin := format(' AND NOT EXISTS (SELECT 1 FROM %s s WHERE s.%I = %L %s)', tbl, col, keep_id,
                       (SELECT COALESCE(string_agg(format(CASE WHEN a.attnotnull
                                                               THEN 'AND s.%I = t.%I'
                                                               ELSE 'AND s.%I IS NOT DISTINCT FROM t.%I'
                                                          END, k, k), ' '), '')
                          FROM unnest(keys) k
                          LEFT JOIN pg_attribute a ON a.attrelid = tbl AND a.attname = k
                                                  AND NOT a.attisdropped
                         WHERE k <> col));
    END IF;
    EXECUTE format('UPDATE %s t SET %I = %L WHERE t.%I = %L', tbl, col, keep_id, col, drop_id) || twin;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF cardinality(keys) > 0 THEN
        EXECUTE format('DELETE FROM %s WHERE %I = %L', tbl, col, drop_id);
    END IF;
    RETURN n;
END
$$;

-- Records each id of `ids` as a name of `survivor` (crm_alias_add), but
-- `dropped` (the caller records it first, to learn whether the merge is
-- new) and any id that is the uuid key of a record of `people`: an id the
-- merge rule derives that is a third person's stays theirs. The check
-- probes people's key, where `id::text = a` scanned the table once per id
-- (issue 15, eleventh session); only uuid's own text form can be equal,
-- and a cast of anything else would fail.
CREATE OR REPLACE FUNCTION crm_alias_add_ids(survivor text, dropped text, ids text[],
                                             people regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    a text; known boolean;
BEGIN
    FOREACH a IN ARRAY COALESCE(ids, '{}') LOOP
        CONTINUE WHEN a = dropped;
        IF a ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE id = $1::uuid)', people)
                INTO known USING a;
            CONTINUE WHEN known;
        END IF;
        PERFORM crm_alias_add(a, survivor);
    END LOOP;
END
$$;
