"""Attribution models side by side, and the expense ledger corrected by a
void (issue 13), through real processes (the bus, PostgreSQL,
crm-marketing). The figures are worked by hand in the comments and in
docs/architecture.md ("Attribution models")."""
import os
import re
import time
import unittest
import uuid

from crmtest import run_crmctl, wait_for
from test_marketing_service import (schedule_soon, EMAIL, INVALID, NOT_FOUND, PRECONDITION, M, MarketingSystem,
                                    sales_pb2, unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

LAST, FIRST, LINEAR = (M.ATTRIBUTION_MODEL_LAST_TOUCH, M.ATTRIBUTION_MODEL_FIRST_TOUCH,
                       M.ATTRIBUTION_MODEL_LINEAR)


class AttributionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No relay: a SENT decision is the touch; the emails stay pending.
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "100"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def person(self, name):
        s = self.s
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=["%s@people.io" % unique(name.lower())])))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid

    def mailed(self, name, cost, *recipients):
        """A campaign that has mailed `recipients` (their SENT decisions
        made) and spent `cost`."""
        s = self.s
        c = s.campaign(name=unique(name)).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=EMAIL, subject="News", body="Hello {{name}}")),
            M.MessageReply)
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=list(recipients)), M.TargetCampaignReply)
        schedule_soon(s.call, c.id, 0.1)
        wait_for(lambda: s.q("SELECT count(*) FROM send WHERE campaign_id = %s AND status = 1",
                             c.id)[0][0] == len(recipients), 20, "%s's sends" % name)
        s.expense(c.id, cost)
        return c

    def order(self, pid, total):
        s = self.s
        oid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.order.placed.v1", pid,
               order_placed=sales_pb2.OrderPlaced(order=sales_pb2.Order(
                   id=oid, person_id=pid, total_minor=total, currency="EUR",
                   ordered_at_us=int(time.time() * 1e6),
                   items=[sales_pb2.OrderItem(product_code="SKU-1", quantity=1,
                                              unit_price_minor=total)])))
        wait_for(lambda: s.q("SELECT count(*) FROM purchase WHERE order_id = %s", oid)[0][0], 20,
                 "order %s" % oid)
        return oid

    @staticmethod
    def models(r):
        return {a.model: (a.revenue_minor, a.conversions, a.roi_bp) for a in r.attribution}

    def test_three_models_by_hand(self):
        s = self.s
        pia, quinn, rui = self.person("Pia"), self.person("Quinn"), self.person("Rui")
        # Touches, in this order: A mails Pia and Quinn; B mails Pia and
        # Quinn; C mails Pia and Rui. Costs A 100.00, B 50.00, C 200.00.
        a = self.mailed("A", 10000, pia, quinn)
        b = self.mailed("B", 5000, pia, quinn)
        c = self.mailed("C", 20000, pia, rui)
        # Pia buys for 100.00: last touch C, first touch A, linear thirds
        # 33.34 (A: the odd cent to the earliest) + 33.33 (B) + 33.33 (C).
        self.order(pia, 10000)
        # Quinn buys for 50.01: last B, first A, linear 25.01 (A) + 25.00 (B).
        self.order(quinn, 5001)
        # Rui (only C touched him) buys for 10.00 and converts on C without
        # an order for 20.00: C's under every model.
        self.order(rui, 1000)
        s.respond(c.id, M.RESPONSE_TYPE_CONVERTED, customer=rui, revenue_minor=2000,
                  currency="EUR")
        ra, rb, rc = (s.results(x.id) for x in (a, b, c))
        # By hand (revenue, conversions, ROI in basis points):
        #   A last  0.00, 0, (0 - 100) / 100 = -100 %
        #     first 100.00 + 50.01 = 150.01, 2, 50.01 %
        #     linear 33.34 + 25.01 = 58.35, 2, -41.65 %
        #   B last  50.01, 1, (50.01 - 50) / 50 = 0.02 %
        #     first 0.00, 0, -100 %
        #     linear 33.33 + 25.00 = 58.33, 2, 16.66 %
        #   C last  100.00 + 10.00 + 20.00 = 130.00, 3, -35 %
        #     first 10.00 + 20.00 = 30.00, 2, -85 %
        #     linear 33.33 + 10.00 + 20.00 = 63.33, 3, -68.335 % -> -68.34 %
        # Each model shares out the same 180.01 across A, B and C.
        self.assertEqual(self.models(ra), {LAST: (0, 0, -10000), FIRST: (15001, 2, 5001),
                                           LINEAR: (5835, 2, -4165)})
        self.assertEqual(self.models(rb), {LAST: (5001, 1, 2), FIRST: (0, 0, -10000),
                                           LINEAR: (5833, 2, 1666)})
        self.assertEqual(self.models(rc), {LAST: (13000, 3, -3500), FIRST: (3000, 2, -8500),
                                           LINEAR: (6333, 3, -6834)})
        for r in (ra, rb, rc):  # last touch is the default figure
            self.assertEqual((r.revenue_minor, r.conversions, r.roi_bp),
                             self.models(r)[LAST])
        for m in (LAST, FIRST, LINEAR):
            self.assertEqual(sum(self.models(r)[m][0] for r in (ra, rb, rc)), 18001)
        # campaign compare shows the three side by side.
        cmp = s.call("marketing.campaign.compare", M.CompareCampaignsRequest(
            ids=[a.id, b.id, c.id]), M.CompareCampaignsReply).results
        self.assertEqual([self.models(r) for r in cmp],
                         [self.models(ra), self.models(rb), self.models(rc)])
        text = run_crmctl(self, self.env(), ["campaign", "compare", a.id, b.id, c.id]).stdout
        table = text.split("attribution models")[1]
        for name, line in ((a.name, r"150\.01 EUR +50\.01%"), (b.name, r"58\.33 EUR +16\.66%"),
                           (c.name, r"63\.33 EUR +-68\.34%")):
            self.assertRegex(table, re.escape(name) + r" .*" + line)

    def test_expense_void(self):
        s = self.s
        c = s.campaign(name=unique("Ledger")).campaign
        x = s.expense(c.id, 12000).expense
        s.expense(c.id, 3000)
        head = s.head()
        # Bad input changes nothing: an unknown expense, no reason, no id.
        unknown = str(uuid.uuid4())
        V = M.VoidExpenseRequest
        st = s.fails("marketing.expense.void", V(id=unknown, reason="typo"), NOT_FOUND, "id")
        self.assertEqual(st.message, "expense does not exist")
        self.assertIn(unknown, st.detail)
        s.fails("marketing.expense.void", V(id=x.id), INVALID, "reason")
        s.fails("marketing.expense.void", V(id="nope", reason="typo"), INVALID, "id")
        s.fails("marketing.expense.record", M.RecordExpenseRequest(expense=M.Expense(
            campaign_id=c.id, amount_minor=0)), INVALID, "expense.amount_minor")
        self.assertEqual(s.head(), head)
        # The void adds a reversing entry; the ledger keeps both.
        r = s.call("marketing.expense.void", V(id=x.id, reason="booked twice"), M.ExpenseReply)
        self.assertEqual((r.expense.amount_minor, r.expense.voids_expense_id, r.expense.note,
                          r.budget.spent_minor), (-12000, x.id, "booked twice", 3000))
        self.assertEqual(s.results(c.id).cost_minor, 3000)
        listed = s.call("marketing.expense.list", M.ListExpensesRequest(campaign_id=c.id),
                        M.ListExpensesReply).expenses
        self.assertEqual([e.amount_minor for e in listed], [12000, 3000, -12000])
        self.assertEqual([e.type for e in s.events(after=head)],
                         ["crm.marketing.expense.recorded.v1"])
        # Once only; a reversing entry is not voided.
        head = s.head()
        s.fails("marketing.expense.void", V(id=x.id, reason="again"), PRECONDITION, "id")
        s.fails("marketing.expense.void", V(id=r.expense.id, reason="undo"), PRECONDITION, "id")
        self.assertEqual(s.head(), head)
        # crmctl campaign expense void ID --reason TEXT.
        y = s.expense(c.id, 500).expense
        out = run_crmctl(self, self.env(), ["campaign", "expense", "void", y.id,
                                            "--reason", "refunded"]).stdout
        self.assertRegex(out, r"^expense %s voided by [0-9a-f-]{36}\n" % y.id)
        self.assertEqual(s.results(c.id).cost_minor, 3000)

    def env(self):
        return dict(os.environ, CRM_SERVICES="marketing=" + self.s.sys.endpoints["marketing"])


if __name__ == "__main__":
    unittest.main()
