-- Honest attribution: a converted response may name the order it stands
-- for; the order is then counted once (as the conversion of whichever
-- campaign it is attributed to), and the response adds no revenue of its
-- own.
ALTER TABLE response ADD COLUMN order_id uuid;
CREATE INDEX send_customer ON send (customer_id) WHERE status = 1;
