"""Sales: orders, the purchase history other services build on. The total
is computed from the items; the person must exist; order.placed carries
the whole order; lists filter by person, organisation and time."""
import time
import unittest

from test_sales_service import INVALID, NOT_FOUND, SalesSystem, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"


class OrderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem()
        cls.person = cls.s.register("Buyer", ["%s@orders.io" % unique("b")]).person

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def order(self, items, **kw):
        kw.setdefault("person_id", self.person.id)
        return self.s.call("sales.order.create", sales_pb2.CreateOrderRequest(
            order=sales_pb2.Order(items=items, **kw)), sales_pb2.OrderReply).order

    def test_order_placed(self):
        s = self.s
        before = s.head()
        o = self.order([sales_pb2.OrderItem(product_code="SKU-1", name="Widget", quantity=3,
                                            unit_price_minor=1250),
                        sales_pb2.OrderItem(name="Setup", quantity=1, unit_price_minor=0)],
                       currency="usd")
        self.assertEqual(o.total_minor, 3750)
        self.assertEqual(o.currency, "USD")
        self.assertEqual([(i.product_code, i.name, i.quantity, i.unit_price_minor) for i in o.items],
                         [("SKU-1", "Widget", 3, 1250), ("", "Setup", 1, 0)])
        self.assertGreater(o.ordered_at_us, 0)
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.sales.order.placed.v1"])
        self.assertEqual(evs[0].subject, self.person.id)
        self.assertEqual(evs[0].order_placed.order, o)
        # A stated total that matches is accepted; the default currency applies.
        o2 = self.order([sales_pb2.OrderItem(product_code="SKU-2", quantity=2,
                                             unit_price_minor=500)], total_minor=1000,
                        ordered_at_us=1700000000000000)
        self.assertEqual((o2.total_minor, o2.currency, o2.ordered_at_us),
                         (1000, "EUR", 1700000000000000))

    def test_bad_orders_write_nothing(self):
        s = self.s
        head, n = s.head(), s.count("sales_order")
        items = s.count("order_item")
        C, O, I = sales_pb2.CreateOrderRequest, sales_pb2.Order, sales_pb2.OrderItem
        ok = [I(product_code="A", quantity=1, unit_price_minor=1)]
        pid = self.person.id
        s.fails("sales.order.create", C(order=O(person_id=UNKNOWN, items=ok)), NOT_FOUND,
                "order.person_id")
        s.fails("sales.order.create", C(order=O(items=ok)), INVALID, "order.person_id")
        s.fails("sales.order.create", C(order=O(person_id=pid, items=ok, deal_id=UNKNOWN)),
                NOT_FOUND, "order.deal_id")
        s.fails("sales.order.create", C(order=O(person_id=pid)), INVALID, "order.items")
        s.fails("sales.order.create", C(order=O(person_id=pid, items=ok + [
            I(product_code="B", quantity=0, unit_price_minor=1)])), INVALID,
            "order.items[1].quantity")
        s.fails("sales.order.create", C(order=O(person_id=pid, items=[
            I(product_code="B", quantity=1, unit_price_minor=-1)])), INVALID,
            "order.items[0].unit_price_minor")
        s.fails("sales.order.create", C(order=O(person_id=pid, items=[I(quantity=1)])), INVALID,
                "order.items[0].product_code")
        st = s.fails("sales.order.create", C(order=O(person_id=pid, items=ok, total_minor=99)),
                     INVALID, "order.total_minor")
        self.assertIn("99", st.detail)
        s.fails("sales.order.create", C(order=O(person_id=pid, items=ok, currency="E")), INVALID,
                "order.currency")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("sales_order"), n)
        self.assertEqual(s.count("order_item"), items)

    def test_list(self):
        s = self.s
        p = s.register("List Buyer").person
        org = s.call("sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name=unique("Buyer Co"))),
            sales_pb2.OrganizationReply).organization
        t0 = int(time.time() * 1e6)
        item = [sales_pb2.OrderItem(product_code="X", quantity=1, unit_price_minor=100)]
        a = self.order(item, person_id=p.id, ordered_at_us=t0 - 10 * 86400 * 10**6)
        b = self.order(item, person_id=p.id, organization_id=org.id)
        c = self.order(item, person_id=p.id, ordered_at_us=t0 + 10**6)

        def ids(**kw):
            r = s.call("sales.order.list", sales_pb2.ListOrdersRequest(**kw),
                       sales_pb2.ListOrdersReply, key="")
            return [o.id for o in r.orders]
        self.assertEqual(ids(person_id=p.id), [a.id, b.id, c.id])
        self.assertEqual(ids(organization_id=org.id), [b.id])
        self.assertEqual(ids(person_id=p.id, from_us=t0 - 86400 * 10**6), [b.id, c.id])
        self.assertEqual(ids(person_id=p.id, to_us=t0 - 86400 * 10**6), [a.id])
        r = s.call("sales.order.list", sales_pb2.ListOrdersRequest(person_id=p.id, page_size=2),
                   sales_pb2.ListOrdersReply, key="")
        self.assertEqual(len(r.orders), 2)
        self.assertEqual(r.orders[0].items[0].product_code, "X")
        r = s.call("sales.order.list", sales_pb2.ListOrdersRequest(
            person_id=p.id, page_size=2, page_token=r.next_page_token), sales_pb2.ListOrdersReply,
            key="")
        self.assertEqual([o.id for o in r.orders], [c.id])
        s.fails("sales.order.list", sales_pb2.ListOrdersRequest(person_id="x"), INVALID,
                "person_id")


if __name__ == "__main__":
    unittest.main()
