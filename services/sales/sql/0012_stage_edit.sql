-- Pipelines can be edited (issue 20), after the rename of 0009: a stage
-- added at a position, a stage moved to another position, a stage's
-- default win probability changed. Deals hold their stage's name, so they
-- stay at a stage wherever it moves, and deal_stage_history is untouched.
-- Each function checks before it writes: an error changes nothing.

-- Positions are renumbered through negative ones, since (pipeline_id,
-- position) is unique at every statement's end.
CREATE FUNCTION sales_stage_positions(pid uuid, names text[]) RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE pipeline_stage SET position = -position - 1 WHERE pipeline_id = pid;
    UPDATE pipeline_stage s SET position = n.ord
      FROM unnest(names) WITH ORDINALITY AS n (name, ord)
     WHERE s.pipeline_id = pid AND s.name = n.name;
    $$;

-- err NULL on success, else 'not_found' (no such pipeline), 'collides',
-- 'position' (detail says the range), 'full'.
CREATE FUNCTION sales_stage_add(pid uuid, new_name text, prob integer, pos integer,
                                max_stages integer, OUT err text, OUT detail text,
                                OUT at_position integer)
    LANGUAGE plpgsql
    AS $$
DECLARE
    names text[];
    other text;
BEGIN
    PERFORM 1 FROM pipeline WHERE id = pid FOR UPDATE;
    IF NOT FOUND THEN
        err := 'not_found';
        RETURN;
    END IF;
    SELECT COALESCE(array_agg(name ORDER BY position), '{}') INTO names
      FROM pipeline_stage WHERE pipeline_id = pid;
    SELECT name INTO other FROM pipeline_stage WHERE pipeline_id = pid AND lower(name) = lower(new_name);
    IF FOUND THEN
        err := 'collides';
        detail := format('stage "%s" of the pipeline already has that name', other);
        RETURN;
    END IF;
    IF cardinality(names) >= max_stages THEN
        err := 'full';
        detail := format('the pipeline has %s stages, the most it may have', cardinality(names));
        RETURN;
    END IF;
    at_position := CASE WHEN pos = 0 THEN cardinality(names) + 1 ELSE pos END;
    IF at_position < 1 OR at_position > cardinality(names) + 1 THEN
        err := 'position';
        detail := format('got %s; the pipeline has %s stages, so 1 to %s (or 0 for the end)', pos,
                         cardinality(names), cardinality(names) + 1);
        RETURN;
    END IF;
    INSERT INTO pipeline_stage (pipeline_id, position, name, probability)
    VALUES (pid, -1000000, new_name, prob);
    PERFORM sales_stage_positions(pid, names[1:at_position - 1] || new_name || names[at_position:]);
END
$$;

-- err NULL on success, else 'not_found', 'no_stage', 'position'.
CREATE FUNCTION sales_stage_move(pid uuid, stage_name text, pos integer, OUT err text,
                                 OUT detail text, OUT from_position integer)
    LANGUAGE plpgsql
    AS $$
DECLARE
    names text[];
BEGIN
    PERFORM 1 FROM pipeline WHERE id = pid FOR UPDATE;
    IF NOT FOUND THEN
        err := 'not_found';
        RETURN;
    END IF;
    SELECT position INTO from_position FROM pipeline_stage WHERE pipeline_id = pid AND name = stage_name;
    IF NOT FOUND THEN
        err := 'no_stage';
        detail := format('the pipeline has no stage named "%s"', stage_name);
        RETURN;
    END IF;
    SELECT array_agg(name ORDER BY position) INTO names
      FROM pipeline_stage WHERE pipeline_id = pid AND name <> stage_name;
    names := COALESCE(names, '{}');
    IF pos < 1 OR pos > cardinality(names) + 1 THEN
        err := 'position';
        detail := format('got %s; the pipeline has %s stages, so 1 to %s', pos,
                         cardinality(names) + 1, cardinality(names) + 1);
        RETURN;
    END IF;
    PERFORM sales_stage_positions(pid, names[1:pos - 1] || stage_name || names[pos:]);
END
$$;

-- err NULL on success, else 'not_found', 'no_stage'. Open deals at the
-- stage with the old default probability get the new one.
CREATE FUNCTION sales_stage_probability(pid uuid, stage_name text, prob integer, OUT err text,
                                        OUT detail text, OUT from_probability integer,
                                        OUT deals integer)
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM 1 FROM pipeline WHERE id = pid FOR UPDATE;
    IF NOT FOUND THEN
        err := 'not_found';
        RETURN;
    END IF;
    SELECT probability INTO from_probability FROM pipeline_stage
     WHERE pipeline_id = pid AND name = stage_name;
    IF NOT FOUND THEN
        err := 'no_stage';
        detail := format('the pipeline has no stage named "%s"', stage_name);
        RETURN;
    END IF;
    UPDATE pipeline_stage SET probability = prob WHERE pipeline_id = pid AND name = stage_name;
    UPDATE deal SET probability = prob, updated_at = now()
     WHERE pipeline_id = pid AND stage = stage_name AND status = 1
       AND probability = from_probability AND from_probability <> prob;
    GET DIAGNOSTICS deals = ROW_COUNT;
END
$$;
