-- Pipelines can be edited (issue 20): a stage renamed. Deals at the stage
-- follow it (deal.stage holds the name); deal_stage_history keeps the name
-- each move had then, so history stays true.

-- err NULL on success, else 'not_found' (no such pipeline), 'no_stage',
-- 'collides' (another stage has the name); deals: how many followed.
CREATE FUNCTION sales_stage_rename(pid uuid, old_name text, new_name text, OUT err text,
                                   OUT detail text, OUT deals integer)
    LANGUAGE plpgsql
    AS $$
DECLARE
    pos integer;
    other text;
BEGIN
    PERFORM 1 FROM pipeline WHERE id = pid FOR UPDATE;
    IF NOT FOUND THEN
        err := 'not_found';
        RETURN;
    END IF;
    SELECT position INTO pos FROM pipeline_stage WHERE pipeline_id = pid AND name = old_name;
    IF NOT FOUND THEN
        err := 'no_stage';
        detail := format('the pipeline has no stage named "%s"', old_name);
        RETURN;
    END IF;
    SELECT name INTO other FROM pipeline_stage
     WHERE pipeline_id = pid AND lower(name) = lower(new_name) AND position <> pos;
    IF FOUND THEN
        err := 'collides';
        detail := format('stage "%s" of the pipeline already has that name', other);
        RETURN;
    END IF;
    UPDATE pipeline_stage SET name = new_name WHERE pipeline_id = pid AND position = pos;
    UPDATE deal SET stage = new_name, updated_at = now() WHERE pipeline_id = pid AND stage = old_name;
    GET DIAGNOSTICS deals = ROW_COUNT;
END
$$;
