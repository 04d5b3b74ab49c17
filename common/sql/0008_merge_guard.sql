-- The merge guard (docs/architecture.md, "Personal data", "Merge"). A
-- service applies a merge (crm_alias_add, then its re-pointing) in one
-- transaction, while its commands and its consumers of other streams write
-- in transactions of their own, on other connections. Under READ COMMITTED
-- a write about the dropped id whose transaction began before the merge
-- committed is missed both ways: the alias trigger (crm_alias_row) does not
-- see the alias yet, and the merge's re-pointing does not see the
-- uncommitted row, so the row stays on the dropped id for good (a consent
-- entry, a purchase, an opt-out). So every transaction of a service's
-- batches takes this lock shared as its first statement (common/src/batch.c),
-- and a merge takes it exclusively before it writes (crm_alias_add below):
-- the merge waits for the transactions in flight, whose rows its re-pointing
-- then sees, and a transaction that begins later waits for the merge to
-- commit and so meets the alias. The key is the one analytics' an_merge_guard
-- (services/analytics/sql/R_apply.sql) took alone before, so the two are one
-- lock. A transaction-level advisory lock costs a probe of the lock table
-- and is released at commit; nothing ordinary ever waits on it, since only
-- a merge takes it exclusively.
CREATE FUNCTION crm_merge_guard(merging boolean) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF merging THEN
        PERFORM pg_advisory_xact_lock(74061516);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(74061516);
    END IF;
END
$$;

-- As in 0006_alias.sql, and the merge guard taken exclusively first: every
-- service's merge begins with crm_alias_add, before it re-points a row. A
-- merge's transaction already holds the guard shared (its batch took it),
-- so this upgrades it. Two merges never wait to upgrade at once: the other
-- services take merges from one stream (sales'), one consumer at a time,
-- and sales.person.merge declares no keys, so its batch runs alone among
-- the command batches. Should rows written earlier in the merge's
-- transaction be wanted by one it waits for (sales locks the two people
-- first), PostgreSQL reports a deadlock and the work is retried alone.
CREATE OR REPLACE FUNCTION crm_alias_add(dropped text, survivor text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF dropped IS NULL OR survivor IS NULL OR dropped = '' OR dropped = survivor THEN
        RETURN false;
    END IF;
    PERFORM crm_merge_guard(true);
    UPDATE crm_alias SET survivor_id = survivor WHERE survivor_id = dropped;
    INSERT INTO crm_alias (dropped_id, survivor_id) VALUES (dropped, survivor)
    ON CONFLICT (dropped_id) DO NOTHING;
    RETURN FOUND;
END
$$;
