-- A batch's outbox rows take their sequence numbers from crm_stream in
-- the statement that inserts them (common/src/batch_commit.c), so the
-- UPDATE that takes the numbers, the INSERTs and COMMIT go out together,
-- and the crm_stream row lock is held for the server's work only, never
-- across a round trip to the service. crm_seal appends the sequence
-- (field 6, varint) and the epoch (field 7, string) to a serialised
-- crm.v1.Event exactly as the service does in memory for the relay:
-- protobuf parsers merge concatenated fields, so the payload is not
-- re-packed.
CREATE FUNCTION crm_varint(v bigint) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    out bytea := '\x'::bytea;
BEGIN
    WHILE v >= 128 LOOP
        out := out || set_byte('\x00'::bytea, 0, ((v & 127) | 128)::int);
        v := v >> 7;
    END LOOP;
    RETURN out || set_byte('\x00'::bytea, 0, v::int);
END
$$;

CREATE FUNCTION crm_seal(event bytea, seq bigint, epoch text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT event || '\x30'::bytea || crm_varint(seq) || '\x3a'::bytea
           || crm_varint(octet_length(epoch)) || convert_to(epoch, 'UTF8')
$$;
