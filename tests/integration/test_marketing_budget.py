"""Marketing: the budget and its expense ledger. The remaining budget is
known at any time; an expense past the budget is refused (nothing
written) or recorded and flagged, as the campaign says."""
import unittest
import uuid

from test_marketing_service import INVALID, NOT_FOUND, PRECONDITION, M, MarketingSystem


class BudgetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_ledger_and_overspend_refused(self):
        s = self.s
        c = s.campaign(budget=100000).campaign  # 1000.00 EUR, refuse (default)
        head = s.head()
        r = s.expense(c.id, 60000, category="ads", date="2026-03-02", note="banner")
        self.assertEqual((r.expense.amount_minor, r.expense.category, r.expense.date,
                          r.expense.flagged), (60000, "ads", "2026-03-02", False))
        self.assertEqual((r.budget.spent_minor, r.budget.remaining_minor, r.budget.overspent),
                         (60000, 40000, False))
        r = s.expense(c.id, 40000, category="print")  # exactly the rest
        self.assertEqual((r.budget.spent_minor, r.budget.remaining_minor), (100000, 0))
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.marketing.expense.recorded.v1"] * 2)
        self.assertEqual(evs[1].expense_recorded.budget.remaining_minor, 0)
        # One cent more: refused, nothing written.
        head = s.head()
        st = s.fails("marketing.expense.record", M.RecordExpenseRequest(expense=M.Expense(
            campaign_id=c.id, amount_minor=1)), PRECONDITION, "expense.amount_minor")
        self.assertIn("remaining 0", st.detail)
        self.assertEqual(s.head(), head)
        ledger = s.call("marketing.expense.list", M.ListExpensesRequest(campaign_id=c.id),
                        M.ListExpensesReply)
        self.assertEqual([x.amount_minor for x in ledger.expenses], [60000, 40000])
        self.assertEqual((ledger.budget.spent_minor, ledger.budget.remaining_minor),
                         (100000, 0))
        shown = s.call("marketing.campaign.show", M.ShowCampaignRequest(id=c.id), M.CampaignReply)
        self.assertEqual(shown.budget.remaining_minor, 0)

    def test_overspend_flagged(self):
        s = self.s
        c = s.campaign(budget=50000, overspend_policy=M.OVERSPEND_POLICY_FLAG).campaign
        self.assertFalse(s.expense(c.id, 50000).expense.flagged)
        r = s.expense(c.id, 2500, note="late invoice")
        self.assertTrue(r.expense.flagged)
        self.assertEqual((r.budget.spent_minor, r.budget.remaining_minor, r.budget.overspent),
                         (52500, -2500, True))

    def test_bad_expenses_write_nothing(self):
        s = self.s
        c = s.campaign().campaign
        head = s.head()
        n = s.q("SELECT count(*) FROM expense")[0][0]
        E = lambda **kw: M.RecordExpenseRequest(expense=M.Expense(**kw))  # noqa: E731
        st = s.fails("marketing.expense.record", E(campaign_id=c.id, amount_minor=-100), INVALID,
                     "expense.amount_minor")
        self.assertEqual(st.message, "amount is negative")
        s.fails("marketing.expense.record", E(campaign_id=c.id, amount_minor=0), INVALID,
                "expense.amount_minor")
        s.fails("marketing.expense.record", E(campaign_id=c.id, amount_minor=1, date="2026-02-30"),
                INVALID, "expense.date")
        s.fails("marketing.expense.record", E(amount_minor=1), INVALID, "expense.campaign_id")
        s.fails("marketing.expense.record", E(campaign_id=str(uuid.uuid4()), amount_minor=1),
                NOT_FOUND, "expense.campaign_id")
        s.fails("marketing.expense.record", M.RecordExpenseRequest(), INVALID, "expense")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT count(*) FROM expense")[0][0], n)


if __name__ == "__main__":
    unittest.main()
