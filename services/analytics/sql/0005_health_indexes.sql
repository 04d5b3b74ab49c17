-- Indexes for the health inputs (an_health_inputs, 0002_apply.sql), which
-- the fold computes for every event about a customer: they count that
-- customer's campaign responses and SLA breaches in the last 90 days.
-- Without these both counts were sequential scans, so catching up on a
-- backlog cost time quadratic in its size (measured with bench/run.sh
-- --only analytics; figures in bench/README.md).
CREATE INDEX campaign_response_customer ON campaign_response (customer_id, at);
CREATE INDEX sla_breach_customer ON sla_breach (customer_id, at);
