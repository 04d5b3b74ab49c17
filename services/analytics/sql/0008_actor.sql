-- Who did each thing in a customer's timeline: the envelope's `actor` (the
-- staff principal whose command caused the event, or the service that acted
-- by itself). It answers a rep's "who else here talked to this customer",
-- and `crmctl audit --customer` reads it across every source. Events from
-- before the field existed keep ''; a rebuild fills nothing more for them.
ALTER TABLE customer_event ADD COLUMN actor text NOT NULL DEFAULT '';

-- The timeline of a customer up to at_t, oldest first (0003_reports.sql),
-- now with each entry's actor.
CREATE OR REPLACE FUNCTION an_timeline(cid text, at_t timestamptz, max_rows int) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object('at_us', an_us(t.occurred_at), 'source', t.source,
                                                 'sequence', t.seq, 'type', t.type, 'summary', t.summary,
                                                 'actor', NULLIF(t.actor, ''))
                              ORDER BY t.occurred_at, t.source, t.seq), '[]')
      FROM (SELECT * FROM customer_event WHERE customer_id = cid AND occurred_at <= at_t
             ORDER BY occurred_at DESC, source DESC, seq DESC LIMIT max_rows) t
    $$;
