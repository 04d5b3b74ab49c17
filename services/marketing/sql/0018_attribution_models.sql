-- Attribution models side by side (issue 13): each attributed order's
-- revenue under last touch (1, the conversion itself), first touch (2)
-- and linear (3, shared among the campaigns that touched the buyer).
-- Orders attributed before this migration count under last touch in
-- every model (their touches were not kept with them).
CREATE TABLE conversion_share (
    order_id      uuid     NOT NULL,
    campaign_id   uuid     NOT NULL,
    model         smallint NOT NULL,
    revenue_minor bigint   NOT NULL,
    PRIMARY KEY (order_id, model, campaign_id)
);
CREATE INDEX conversion_share_campaign ON conversion_share (campaign_id, model);
INSERT INTO conversion_share (order_id, campaign_id, model, revenue_minor)
SELECT v.order_id, v.campaign_id, m.model, v.revenue_minor
FROM conversion v CROSS JOIN (VALUES (1), (2), (3)) AS m(model);
