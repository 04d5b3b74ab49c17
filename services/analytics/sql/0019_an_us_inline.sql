-- an_us, microseconds since the epoch, as an expression PostgreSQL inlines
-- into the statement that calls it (issue 15). It was declared IMMUTABLE
-- around extract(epoch FROM timestamptz), which PostgreSQL marks STABLE, so
-- it was never inlined: every statement of the fold that calls it (the
-- run's decoding, the profile update, the health inputs' instants: about
-- eight calls an event) ran it as a function of its own, its body parsed
-- and planned again in each statement. The difference of two timestamptz
-- and the epoch of an interval are immutable and give the same number of
-- microseconds (timestamptz_mi only moves whole days of the difference out
-- of its time part, and the epoch of an interval adds them back).
CREATE OR REPLACE FUNCTION an_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t - '1970-01-01 00:00:00+00'::timestamptz) * 1000000)::bigint $$;
