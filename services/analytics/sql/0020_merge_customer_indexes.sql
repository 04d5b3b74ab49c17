-- The merge (an_merge_person, R_merge.sql) re-points a person's deals and
-- conversions by customer, and neither table had an index that leads with
-- it: a sequential scan of each per merge, under the merge's transaction
-- (issue 15, twelfth session: with the campaign tables' scans, 29 to 34 ms
-- of PostgreSQL CPU a merge at 20,000 rows a table, 172 to 196 ms at
-- 200,000). The fold writes a deal row per deal event and a conversion
-- per attributed order, far fewer than the campaign tables' rows, which
-- the merge reaches by their keys instead (R_merge.sql).
CREATE INDEX IF NOT EXISTS deal_customer ON deal (customer_id);
CREATE INDEX IF NOT EXISTS conversion_customer ON conversion (customer_id);
