-- Business calendars in a named time zone (issue #5, "time zones"): the
-- rules compute SLA instants in C, so the zone's offset changes are read
-- from PostgreSQL's copy of the IANA database once, when the calendar is
-- set, and stored beside it. A fixed offset is the case without changes.

-- Minutes east of UTC in force in `zone` at instant `t`.
CREATE FUNCTION support_zone_offset(t timestamptz, zone text) RETURNS integer
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM (t AT TIME ZONE zone) - (t AT TIME ZONE 'UTC')) / 60)::integer $$;

-- The offset of `zone` on 1970-01-01 (base) and every change of it up to
-- 2100: the UTC instant (microseconds) from which each new offset holds.
-- The zone is sampled daily, then the day of a change is searched by hour
-- and the hour by minute (zones change offset on whole minutes); a zone
-- that changed twice within one day would show only the second change
-- (none does after 1970).
CREATE FUNCTION support_zone_changes(zone text, OUT base integer, OUT change_us bigint[],
                                     OUT change_off integer[])
    LANGUAGE sql STABLE STRICT
    AS $$
    WITH d AS (SELECT g AS t, support_zone_offset(g, zone) AS off
               FROM generate_series(timestamptz '1970-01-01 00:00+00',
                                    timestamptz '2100-01-01 00:00+00', interval '1 day') g),
    c AS (SELECT t, off, lag(t) OVER w AS pt, lag(off) OVER w AS poff
          FROM d WINDOW w AS (ORDER BY t)),
    h AS (SELECT DISTINCT ON (c.t) hh AS t
          FROM c, generate_series(c.pt, c.t, interval '1 hour') hh
          WHERE c.off <> c.poff AND support_zone_offset(hh, zone) <> c.poff
          ORDER BY c.t, hh),
    m AS (SELECT DISTINCT ON (h.t) mm AS t, support_zone_offset(mm, zone) AS off
          FROM h, generate_series(h.t - interval '1 hour', h.t, interval '1 minute') mm
          WHERE support_zone_offset(mm, zone) = support_zone_offset(h.t, zone)
          ORDER BY h.t, mm)
    SELECT (SELECT off FROM d ORDER BY t LIMIT 1),
           COALESCE((SELECT array_agg(support_us(t) ORDER BY t) FROM m), '{}'),
           COALESCE((SELECT array_agg(off ORDER BY t) FROM m), '{}')
    $$;

-- The calendar's zone table (empty for a fixed offset).
ALTER TABLE sla_calendar
    ADD COLUMN zone_base       integer  NOT NULL DEFAULT 0,
    ADD COLUMN zone_change_us  bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN zone_change_off integer[] NOT NULL DEFAULT '{}';
