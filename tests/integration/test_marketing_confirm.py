"""Marketing (issue 13): what "delivered" and "spent" mean, through real
processes (bus, PostgreSQL, crm-marketing, the crmctl binary).

A message on a channel behind an external gateway (SMS, fax, post, phone
call lists) is sent when it is handed over, and delivered (or failed) only
once the gateway confirms it with marketing.delivery.confirm, exactly once:
a second confirmation is answered without a second effect, an unknown
delivery is NOT_FOUND and changes nothing, and email (confirmed by the SMTP
relay) is FAILED_PRECONDITION.

An expense dated in the future counts in spend, ROI and the budget from its
date, by the service's clock (moved with crm.clock.set, CRM_TEST_CLOCK)."""
import datetime
import json
import os
import unittest
import uuid

from crmtest import run_crmctl, testing_pb2, wait_for
from test_marketing_service import (EMAIL, INVALID, NOT_FOUND, PRECONDITION, SMS, M,
                                    MarketingSystem, sales_pb2, unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

DAY_US = 86400 * 10 ** 6


class ConfirmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No SMTP relay: emails stay pending, which is all the email case needs.
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "100", "CRM_TEST_CLOCK": "0"})
        cls.env = dict(os.environ, CRM_SERVICES="marketing=" + cls.s.sys.endpoints["marketing"])

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def crmctl(self, *args, rc=0):
        return run_crmctl(self, self.env, args, rc, timeout=120)

    def person(self, name, **kw):
        s = self.s
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=["%s@gw.example" % unique(name.lower())], **kw)))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid

    def running(self, channel, *recipients):
        s = self.s
        c = s.campaign(name=unique("Gateway"), channels=(channel,)).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=channel, subject="News" if channel == EMAIL else "",
            body="Hello {{name}}")), M.MessageReply)
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=list(recipients)), M.TargetCampaignReply)
        s.call("marketing.campaign.launch", M.CampaignActionRequest(id=c.id), M.CampaignReply)
        wait_for(lambda: s.q("SELECT count(*) FROM delivery WHERE campaign_id = %s",
                             c.id)[0][0] == len(recipients), 20, "the messages handed over")
        return c.id

    def confirm(self, **kw):
        return self.s.call("marketing.delivery.confirm", M.ConfirmDeliveryRequest(**kw),
                           M.ConfirmDeliveryReply)

    def figures(self, cid):
        r = self.s.results(cid)
        return (r.sent, r.delivered, r.delivery_failed)

    def test_phones_stored_as_gateways_dial_them(self):
        """Persian and Arabic-Indic digits, spaces and dashes in a person
        event's phone and fax (a producer that did not normalise them) are
        stored as digits; one that does not parse is kept as it came."""
        hoda = self.person("Hoda", phones=["۰۹۱۲ ۳۴۵ ۶۷۸۹"], fax="+٩٨ ٢١-١٢٣٤-٥٦٧٨")
        self.assertEqual(self.s.q("SELECT phone, fax FROM person WHERE id = %s", hoda),
                         [("09123456789", "+982112345678")])
        odd = self.person("Odd", phones=["ext. 12"])
        self.assertEqual(self.s.q("SELECT phone FROM person WHERE id = %s", odd), [("ext. 12",)])

    def test_gateway_messages_are_sent_until_confirmed_once(self):
        s = self.s
        fay = self.person("Fay", phones=["+33612345678"])
        gus = self.person("Gus", phones=["+4915112345678"])
        cid = self.running(SMS, fay, gus)
        # Handed to the gateway: sent, not delivered.
        self.assertEqual(self.figures(cid), (2, 0, 0))
        self.assertEqual(sorted(s.q("SELECT customer_id::text, status FROM delivery"
                                    " WHERE campaign_id = %s", cid)), sorted([(fay, 3), (gus, 3)]))
        fay_delivery = s.q("SELECT id::text FROM delivery WHERE campaign_id = %s"
                           " AND customer_id = %s", cid, fay)[0][0]

        # Unknown deliveries: NOT_FOUND, nothing changed.
        head = s.head()
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            delivery_id=str(uuid.uuid4()), outcome=M.DELIVERY_OUTCOME_DELIVERED),
            NOT_FOUND, "delivery_id")
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            campaign_id=cid, customer_id=str(uuid.uuid4()), channel=SMS,
            outcome=M.DELIVERY_OUTCOME_DELIVERED), NOT_FOUND, "campaign_id")
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            campaign_id=cid, customer_id=fay, channel=M.CHANNEL_FAX,
            outcome=M.DELIVERY_OUTCOME_DELIVERED), NOT_FOUND, "campaign_id")
        # Bad requests: INVALID_ARGUMENT, nothing changed.
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(delivery_id=fay_delivery),
                INVALID, "outcome")
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            delivery_id=fay_delivery, outcome=M.DELIVERY_OUTCOME_FAILED), INVALID, "reason")
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            delivery_id=fay_delivery, campaign_id=cid, outcome=M.DELIVERY_OUTCOME_DELIVERED),
            INVALID, "delivery_id")
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            campaign_id=cid, customer_id=fay, outcome=M.DELIVERY_OUTCOME_DELIVERED),
            INVALID, "channel")
        self.assertEqual(s.head(), head)
        self.assertEqual(self.figures(cid), (2, 0, 0))

        # The gateway confirms Fay's SMS (by campaign, customer and channel).
        r = self.confirm(campaign_id=cid, customer_id=fay, channel=SMS,
                         outcome=M.DELIVERY_OUTCOME_DELIVERED)
        self.assertEqual((r.delivery_id, r.delivered, r.already_confirmed, r.channel),
                         (fay_delivery, True, False, SMS))
        self.assertEqual(self.figures(cid), (2, 1, 0))
        evs = [e for e in s.events(head) if e.type == "crm.marketing.delivery.recorded.v1"]
        self.assertEqual([(e.subject, e.delivery_recorded.delivered, e.delivery_recorded.channel,
                           e.delivery_recorded.delivery_id) for e in evs],
                         [(fay, True, SMS, fay_delivery)])
        # A second confirmation, through crmctl by delivery id and even with
        # another outcome: answered, nothing changes, nothing is published.
        head = s.head()
        out = self.crmctl("campaign", "delivery", "confirm", "--delivery", fay_delivery,
                          "--outcome", "failed", "--reason", "late report").stdout
        self.assertIn("delivery %s delivered (already confirmed" % fay_delivery, out)
        r = self.confirm(delivery_id=fay_delivery, outcome=M.DELIVERY_OUTCOME_DELIVERED)
        self.assertEqual((r.delivered, r.already_confirmed), (True, True))
        self.assertEqual(s.head(), head)
        self.assertEqual(self.figures(cid), (2, 1, 0))

        # Gus's SMS bounced: failed, and a BOUNCED response.
        r = json.loads(self.crmctl("campaign", "delivery", "confirm", "--campaign", cid,
                                   "--customer", gus, "--channel", "sms", "--outcome", "bounced",
                                   "--reason", "unknown subscriber", "-o", "json").stdout)
        self.assertEqual((r.get("delivered", False), r["error"]), (False, "unknown subscriber"))
        self.assertEqual(self.figures(cid), (2, 1, 1))
        res = s.results(cid)
        self.assertEqual([(x.response, x.count) for x in res.responses],
                         [(M.RESPONSE_TYPE_BOUNCED, 1)])
        self.assertEqual(res.responders, 0)
        types = [e.type for e in s.events(head)]
        self.assertEqual(types, ["crm.marketing.delivery.recorded.v1",
                                 "crm.marketing.response.recorded.v1"])
        # Usage error in crmctl: no outcome, nothing sent.
        head = s.head()
        self.crmctl("campaign", "delivery", "confirm", "--delivery", fay_delivery, rc=2)
        self.assertEqual(s.head(), head)

    def test_email_is_confirmed_by_the_relay(self):
        s = self.s
        ema = self.person("Ema")
        cid = self.running(EMAIL, ema)
        head = s.head()
        s.fails("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            campaign_id=cid, customer_id=ema, channel=EMAIL,
            outcome=M.DELIVERY_OUTCOME_DELIVERED), PRECONDITION, "channel")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT status FROM delivery WHERE campaign_id = %s", cid), [(0,)])
        self.assertEqual(self.figures(cid), (1, 0, 0))

    def test_future_dated_expense_counts_from_its_date(self):
        s = self.s
        cid = s.campaign(budget=100000).campaign.id
        today = datetime.datetime.now(datetime.timezone.utc).date()
        s.expense(cid, 10000, date=today.isoformat())
        later = (today + datetime.timedelta(days=10)).isoformat()
        r = s.expense(cid, 20000, date=later, category="print")
        self.assertEqual(r.expense.date, later)
        # Recorded, but not spent yet: not in spend, ROI or the budget.
        self.assertEqual((r.budget.spent_minor, r.budget.remaining_minor), (10000, 90000))
        self.assertEqual(s.results(cid).cost_minor, 10000)
        listed = s.call("marketing.expense.list", M.ListExpensesRequest(campaign_id=cid),
                        M.ListExpensesReply)
        self.assertEqual((len(listed.expenses), listed.budget.spent_minor), (2, 10000))
        shown = s.call("marketing.campaign.show", M.ShowCampaignRequest(id=cid), M.CampaignReply)
        self.assertEqual(shown.budget.spent_minor, 10000)
        # The service's clock passes the date: it counts.
        s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=11 * DAY_US),
               testing_pb2.ClockSetReply)
        try:
            self.assertEqual(s.results(cid).cost_minor, 30000)
            shown = s.call("marketing.campaign.show", M.ShowCampaignRequest(id=cid),
                           M.CampaignReply)
            self.assertEqual((shown.budget.spent_minor, shown.budget.remaining_minor),
                             (30000, 70000))
        finally:
            s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=0),
                   testing_pb2.ClockSetReply)
        self.assertEqual(s.results(cid).cost_minor, 10000)

    def test_zero_expense_is_refused(self):
        s = self.s
        cid = s.campaign().campaign.id
        head = s.head()
        st = s.fails("marketing.expense.record", M.RecordExpenseRequest(
            expense=M.Expense(campaign_id=cid, amount_minor=0)), INVALID, "expense.amount_minor")
        self.assertEqual(st.message, "amount is zero")
        # crmctl says so before sending anything; without --amount it asks for it.
        err = self.crmctl("campaign", "expense", cid, "--amount", "0", rc=2).stderr
        self.assertIn('invalid value "0" for --amount: an expense is more than 0', err)
        err = self.crmctl("campaign", "expense", cid, "--amount", "0.00", rc=2).stderr
        self.assertIn("an expense is more than 0", err)
        err = self.crmctl("campaign", "expense", cid, "--category", "ads", rc=2).stderr
        self.assertIn("--amount is required", err)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT count(*) FROM expense WHERE campaign_id = %s", cid), [(0,)])


if __name__ == "__main__":
    unittest.main()
