-- The send scan's recording statement writes a send and, when sent, a
-- delivery per decision (issue 15: decisions at the database's speed).
--
-- delivery_campaign (campaign_id) is a prefix of delivery_campaign_recent
-- (campaign_id, created_at), which serves every lookup by campaign: one
-- index fewer to maintain per delivery.
DROP INDEX delivery_campaign;

-- The send scan is the only statement that inserts into send and delivery
-- (store/send.c, mkt_store_send_record), and no statement changes their
-- customer_id but a merge's own re-pointing to the survivor. The per-row
-- crm_alias trigger (common/sql/0006_alias.sql) cost a PL/pgSQL call per
-- row of both, a third of the statement; the statement now maps the
-- batch's ids through crm_alias itself, in one join, with the same
-- snapshot rule (the aliases committed when the statement starts).
DROP TRIGGER crm_alias ON send;
DROP TRIGGER crm_alias ON delivery;
