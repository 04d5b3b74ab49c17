"""Marketing with a real crm-sales: an "interested" response becomes
exactly one lead in sales, attributed to the campaign; orders placed in
sales by a recipient within the campaign's attribution window become the
campaign's converted revenue; results and the side-by-side comparison
match figures worked out by hand here."""
import time
import unittest
import uuid

from crmtest import wait_for
from test_marketing_service import (INVALID, NOT_FOUND, M, MarketingSystem, customer_id,
                                    sales_pb2, unique)
from crm.v1 import marketing_pb2, person_pb2  # noqa: E402  (path set up by crmtest)

R = marketing_pb2


class SalesCollabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem(with_sales=True)

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def register(self, name):
        email = "%s@buyers.io" % unique(name.lower())
        p = self.s.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name=name, emails=[email])), sales_pb2.PersonReply,
            client=self.s.sc).person
        self.assertEqual(p.id, customer_id(email))
        return p

    def order(self, person_id, qty, price, **kw):
        return self.s.call("sales.order.create", sales_pb2.CreateOrderRequest(
            order=sales_pb2.Order(person_id=person_id, items=[sales_pb2.OrderItem(
                product_code="SKU-1", quantity=qty, unit_price_minor=price)], **kw)),
            sales_pb2.OrderReply, client=self.s.sc).order

    def target(self, campaign_id, ids):
        return self.s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=campaign_id, customer_ids=ids), M.TargetCampaignReply)

    def test_interested_makes_one_lead_in_sales(self):
        s = self.s
        c = s.campaign(name=unique("Webinar")).campaign
        email = "%s@leads.io" % unique("lea")
        s.respond(c.id, R.RESPONSE_TYPE_INTERESTED, email=email, name="Lea", channel="email")
        s.respond(c.id, R.RESPONSE_TYPE_DEMO_REQUESTED, email=email, channel="email")
        s.wait_applied("sales.intent", "marketing", db="sales")
        leads = s.q("SELECT email, person_id::text, owner, source FROM lead WHERE campaign_id = %s",
                    c.id, db="sales")
        self.assertEqual(leads, [(email, customer_id(email), "amy", sales_pb2.LEAD_SOURCE_CAMPAIGN)])
        # The person marketing registered reached sales under the same id
        # (sales.people keeps no position for the events it filters out, so
        # wait for the row itself).
        wait_for(lambda: s.q("SELECT name, registered_by FROM person WHERE id = %s",
                             customer_id(email), db="sales") == [("Lea", "marketing")],
                 20, "the person in sales")
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter", db="sales")[0][0], 0)

    def test_orders_attributed_results_and_comparison(self):
        s = self.s
        a, b, c_, d, e = (self.register(n) for n in ("Ann", "Ben", "Cal", "Dee", "Eve"))
        # Campaign 1: budget 2000.00 EUR, cost 400.00 + 100.00 = 500.00.
        one = s.campaign(name=unique("Spring"), budget=200000).campaign
        s.expense(one.id, 40000, category="ads")
        s.expense(one.id, 10000, category="print")
        past = int(time.time() * 1e6) - 2 * 86400 * 10 ** 6
        # Dee ordered two days before being reached: not the campaign's doing.
        self.order(d.id, 1, 99900, ordered_at_us=past)
        r = self.target(one.id, [a.id, b.id, c_.id, d.id, a.id])
        self.assertEqual((r.added, r.recipients), (4, 4))
        s.respond(one.id, R.RESPONSE_TYPE_CLICKED, customer=a.id, channel="email")
        s.respond(one.id, R.RESPONSE_TYPE_INTERESTED, customer=b.id, channel="email")
        s.respond(one.id, R.RESPONSE_TYPE_CONVERTED, customer=b.id, revenue_minor=30000,
                  currency="EUR", channel="email")
        s.respond(one.id, R.RESPONSE_TYPE_BOUNCED, customer=c_.id, channel="email")
        head = s.head()
        # Ann orders 2 x 450.00 = 900.00 EUR: attributed. Her USD order is
        # not (other currency); Eve was never reached.
        o = self.order(a.id, 2, 45000, currency="EUR")
        self.order(a.id, 1, 5000, currency="USD")
        self.order(e.id, 1, 7000, currency="EUR")
        s.wait_applied("marketing.orders", "sales")
        evs = s.events(head)
        self.assertEqual([(ev.type, ev.subject) for ev in evs],
                         [("crm.marketing.conversion.attributed.v1", a.id)])
        ca = evs[0].conversion_attributed
        self.assertEqual((ca.campaign_id, ca.order_id, ca.revenue_minor, ca.currency),
                         (one.id, o.id, 90000, "EUR"))
        res = s.results(one.id)
        # Worked out by hand:
        #   recipients 4; responders Ann and Ben (Cal's bounce is no response) = 2
        #   response rate 2 / 4 = 50.00 %          -> 5000 bp
        #   conversions: Ben's CONVERTED + Ann's order = 2
        #   revenue 300.00 + 900.00 = 1200.00      -> 120000
        #   cost 500.00                            -> 50000
        #   ROI (1200 - 500) / 500 = 1.4           -> 14000 bp
        #   cost per response 500 / 2 = 250.00, per conversion the same
        self.assertEqual((res.recipients, res.responders, res.response_rate_bp, res.conversions,
                          res.revenue_minor, res.cost_minor, res.roi_bp,
                          res.cost_per_response_minor, res.cost_per_conversion_minor),
                         (4, 2, 5000, 2, 120000, 50000, 14000, 25000, 25000))
        self.assertTrue(res.roi_defined and res.response_rate_defined)
        self.assertEqual({R.ResponseType.Name(x.response): x.count for x in res.responses},
                         {"RESPONSE_TYPE_CLICKED": 1, "RESPONSE_TYPE_INTERESTED": 1,
                          "RESPONSE_TYPE_CONVERTED": 1, "RESPONSE_TYPE_BOUNCED": 1})
        self.assertEqual((res.budget.spent_minor, res.budget.remaining_minor), (50000, 150000))

        # Campaign 2: cost 200.00, two recipients, one opened, no revenue:
        #   rate 1 / 2 = 5000 bp; ROI (0 - 200) / 200 = -1 -> -10000 bp;
        #   cost per response 200.00; no conversion: undefined.
        two = s.campaign(name=unique("Autumn"), budget=100000).campaign
        s.expense(two.id, 20000)
        self.target(two.id, [d.id, e.id])
        s.respond(two.id, R.RESPONSE_TYPE_OPENED, customer=e.id)
        # Campaign 3: no expense at all: ROI undefined, not infinite.
        three = s.campaign(name=unique("Free")).campaign
        cmp = s.call("marketing.campaign.compare", M.CompareCampaignsRequest(
            ids=[two.id, one.id, three.id]), M.CompareCampaignsReply).results
        self.assertEqual([x.campaign_id for x in cmp], [two.id, one.id, three.id])
        self.assertEqual(cmp[1], res)
        t = cmp[0]
        self.assertEqual((t.recipients, t.responders, t.response_rate_bp, t.conversions,
                          t.revenue_minor, t.cost_minor, t.roi_bp, t.roi_defined,
                          t.cost_per_response_minor, t.cost_per_conversion_defined),
                         (2, 1, 5000, 0, 0, 20000, -10000, True, 20000, False))
        self.assertEqual((cmp[2].roi_defined, cmp[2].response_rate_defined, cmp[2].cost_minor),
                         (False, False, 0))
        # Bad comparisons name the field.
        s.fails("marketing.campaign.compare", M.CompareCampaignsRequest(ids=[one.id]), INVALID,
                "ids")
        s.fails("marketing.campaign.compare", M.CompareCampaignsRequest(
            ids=[one.id, str(uuid.uuid4())]), NOT_FOUND, "ids[1]")
        s.fails("marketing.campaign.compare", M.CompareCampaignsRequest(ids=[one.id, "x"]),
                INVALID, "ids[1]")
        s.fails("marketing.campaign.results", M.CampaignResultsRequest(id=str(uuid.uuid4())),
                NOT_FOUND, "id")
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)


if __name__ == "__main__":
    unittest.main()
