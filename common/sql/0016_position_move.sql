-- A consumer's transaction moves its position per source on the condition
-- that nobody moved it since the transaction read it (another instance of
-- the consumer, or an operator). The service checked the UPDATE's row count
-- itself, so COMMIT could go out only after that answer came back: a third
-- round trip in every transaction of events (issue 15, live latency). This
-- function checks the condition in the server and fails the transaction
-- with its own SQLSTATE, so COMMIT goes out right behind it; the service
-- sees the SQLSTATE and starts over from the database as before
-- (common/src/batch.c).
CREATE FUNCTION crm_position_move(p_consumer text, p_source text, p_to bigint, p_epoch uuid,
                                  p_from bigint, p_event_id text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE crm_consumer_position
       SET seq = p_to, epoch = p_epoch, event_id = p_event_id, updated_at = now()
     WHERE consumer = p_consumer AND source = p_source AND seq = p_from;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'consumer position of % moved under us', p_source
            USING ERRCODE = 'CRMPM';
    END IF;
END
$$;
