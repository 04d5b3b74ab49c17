-- Orders can be cancelled and refunded, whole or per line (issue 20). An
-- order keeps its total; what was refunded of it is refunded_minor, so the
-- net amount is total - refunded, and a refund can never make it negative.
ALTER TABLE sales_order
    ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN cancelled_at timestamptz,
    ADD CONSTRAINT sales_order_refund_le_total CHECK (refunded_minor BETWEEN 0 AND total_minor);
ALTER TABLE order_item
    ADD COLUMN refunded_quantity integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT order_item_refund_le_quantity CHECK (refunded_quantity BETWEEN 0 AND quantity);

CREATE TABLE order_refund (
    id           uuid        PRIMARY KEY,
    order_id     uuid        NOT NULL REFERENCES sales_order (id),
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    lines        jsonb       NOT NULL DEFAULT '[]',
    reason       text        NOT NULL DEFAULT '',
    cancelled    boolean     NOT NULL DEFAULT false,
    refunded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_refund_order ON order_refund (order_id);

-- One refund of order `oid` (lines [{position, quantity}], else `amount`,
-- else everything not yet refunded; `cancel` refunds what is left and
-- cancels). Checks everything before it writes anything: err is NULL on
-- success, else 'not_found', 'cancelled', 'no_line', 'line_exceeded',
-- 'exceeded' or 'nothing_left' with a detail; refund and ord are the
-- refund and the order after it, as JSON.
CREATE FUNCTION sales_order_refund(oid uuid, rid uuid, want jsonb, amount bigint, why text,
                                   cancel boolean, OUT err text, OUT detail text,
                                   OUT refund jsonb)
    LANGUAGE plpgsql
    AS $$
DECLARE
    o sales_order%ROWTYPE;
    l record;
    amt bigint := 0;
    n_items int;
BEGIN
    SELECT * INTO o FROM sales_order WHERE id = oid FOR UPDATE;
    IF NOT FOUND THEN
        err := 'not_found';
        RETURN;
    END IF;
    IF o.cancelled_at IS NOT NULL THEN
        err := 'cancelled';
        detail := format('order %s was cancelled', oid);
        RETURN;
    END IF;
    IF NOT cancel AND jsonb_array_length(want) > 0 THEN
        SELECT count(*) INTO n_items FROM order_item WHERE order_id = oid;
        FOR l IN SELECT w.pos, w.qty, i.quantity, i.refunded_quantity, i.unit_price_minor
                   FROM (SELECT (x ->> 'position')::int AS pos, sum((x ->> 'quantity')::int) AS qty
                           FROM jsonb_array_elements(want) x GROUP BY 1) w
                   LEFT JOIN order_item i ON i.order_id = oid AND i.position = w.pos
                  ORDER BY w.pos LOOP
            IF l.quantity IS NULL THEN
                err := 'no_line';
                detail := format('the order has %s line(s); got line %s', n_items, l.pos);
                RETURN;
            END IF;
            IF l.refunded_quantity + l.qty > l.quantity THEN
                err := 'line_exceeded';
                detail := format('line %s: %s bought, %s refunded before, %s asked', l.pos,
                                 l.quantity, l.refunded_quantity, l.qty);
                RETURN;
            END IF;
            amt := amt + l.qty * l.unit_price_minor;
        END LOOP;
    ELSIF NOT cancel AND amount > 0 THEN
        amt := amount;
    ELSE
        amt := o.total_minor - o.refunded_minor;
    END IF;
    IF o.refunded_minor + amt > o.total_minor THEN
        err := 'exceeded';
        detail := format('paid %s, refunded before %s, asked %s (minor units of %s)', o.total_minor,
                         o.refunded_minor, amt, o.currency);
        RETURN;
    END IF;
    IF amt <= 0 AND NOT cancel THEN
        err := 'nothing_left';
        detail := format('paid %s, all of it refunded before (minor units of %s)', o.total_minor,
                         o.currency);
        RETURN;
    END IF;
    IF NOT cancel AND jsonb_array_length(want) > 0 THEN
        UPDATE order_item i SET refunded_quantity = i.refunded_quantity + w.qty
          FROM (SELECT (x ->> 'position')::int AS pos, sum((x ->> 'quantity')::int) AS qty
                  FROM jsonb_array_elements(want) x GROUP BY 1) w
         WHERE i.order_id = oid AND i.position = w.pos;
    ELSIF cancel THEN
        UPDATE order_item SET refunded_quantity = quantity WHERE order_id = oid;
    END IF;
    UPDATE sales_order SET refunded_minor = refunded_minor + amt,
           cancelled_at = CASE WHEN cancel THEN now() END
     WHERE id = oid;
    IF amt > 0 THEN
        INSERT INTO order_refund (id, order_id, amount_minor, lines, reason, cancelled)
        VALUES (rid, oid, amt, CASE WHEN cancel THEN '[]' ELSE want END, why, cancel);
    END IF;
    refund := jsonb_build_object('id', rid, 'order_id', oid, 'person_id', o.person_id,
                                 'lines', CASE WHEN cancel THEN '[]' ELSE want END,
                                 'amount_minor', amt, 'currency', o.currency, 'reason', why,
                                 'refunded_at_us', sales_us(now()), 'cancelled', cancel);
END
$$;
