"""Marketing with a real crm-sales and a real crm-support on one bus: a
complaint ticket opened in support makes the customer join marketing's
"open complaints" segment (consumer marketing.support, in the transaction
that applies the ticket event), so a campaign that excludes that segment
suppresses the customer at send time (reason excluded_segment) while it
reaches another recipient; meanwhile sales creates a follow-up task for
the owner of the customer's open deal. Resolving the ticket makes the
customer leave the segment."""
import unittest

from crmtest import System, free_port, wait_for
from test_marketing_service import EMAIL, PRE_LEDGER_POLICY, M, MarketingSystem, unique
from test_support_service import (SupportSystem, customer_id, sales_pb2,
                                  support_pb2)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)


class CollabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sys = System()
        cls.sys = sys
        try:
            sys.start_bus()
            sys.add_probe("analytics")
            for name in ("sales", "support", "marketing"):
                sys.endpoints[name] = "tcp://127.0.0.1:%d" % free_port()

            def start(name, binary, peers, extra):
                sys.add_service(name, binary, peers, extra, start=True)
            start("sales", "crm-sales", ("marketing", "support", "analytics"),
                  {"SALES_FOLLOWUP_HOURS": "2"})
            start("marketing", "crm-marketing", ("sales", "support"),
                  dict(PRE_LEDGER_POLICY, MARKETING_SEND_SCAN_MS="100"))
            cls.support = SupportSystem(peers=("sales", "marketing"), sys=sys)
        except Exception:
            sys.close()
            raise
        # MarketingSystem's helpers over this system's crm-marketing.
        cls.m = MarketingSystem.__new__(MarketingSystem)
        cls.m.sys, cls.m.sc = sys, None
        cls.m.c = sys.client("marketing")
        cls.sales = sys.client("sales")

    @classmethod
    def tearDownClass(cls):
        cls.sales.close()
        cls.m.c.close()
        cls.support.close()

    def sales_call(self, command, msg, reply_type):
        return self.m.call(command, msg, reply_type, client=self.sales)

    def test_complaint_suppresses_and_tasks_the_owner(self):
        m = self.m
        e1, e2 = "%s@collab.io" % unique("ann"), "%s@collab.io" % unique("ben")
        ann = self.sales_call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Ann", emails=[e1])), sales_pb2.PersonReply).person.id
        ben = self.sales_call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Ben", emails=[e2])), sales_pb2.PersonReply).person.id
        self.assertEqual(ann, customer_id(e1))
        deal = self.sales_call("sales.deal.create", sales_pb2.CreateDealRequest(
            deal=sales_pb2.Deal(title="Renewal", person_id=ann, owner="rep-owl")),
            sales_pb2.DealReply).deal
        wait_for(lambda: m.q("SELECT count(*) FROM person WHERE id IN (%s, %s)", ann,
                             ben)[0][0] == 2, 20, "marketing to know both people")

        seg = m.call("marketing.segment.create", M.CreateSegmentRequest(segment=M.Segment(
            name="open complaints", rules=[M.SegmentRule(
                kind=M.SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT)])), M.SegmentReply).segment
        c = m.campaign(channels=(EMAIL,)).campaign
        m.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=EMAIL, subject="Hi {{name}}", body="News for {{name}}")),
            M.MessageReply)
        r = m.call("marketing.campaign.exclude", M.ExcludeSegmentRequest(
            campaign_id=c.id, segment_id=seg.id), M.CampaignReply)
        self.assertEqual(list(r.campaign.exclude_segment_ids), [seg.id])
        m.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[ann, ben]), M.TargetCampaignReply)

        # The complaint, opened in support by email only.
        head = m.head()
        t = self.support.open(requester_email=e1, subject="Billed twice",
                              type=support_pb2.TICKET_TYPE_COMPLAINT)
        self.assertEqual(t.customer_id, ann)
        wait_for(lambda: m.q("SELECT count(*) FROM segment_member WHERE segment_id = %s"
                             " AND customer_id = %s", seg.id, ann)[0][0] == 1, 20,
                 "Ann to join the complaint segment")
        joined = [e.segment_membership_changed for e in m.events(head)
                  if e.type == "crm.marketing.segment.membership_changed.v1"]
        self.assertEqual([(j.segment_id, j.customer_id, j.member) for j in joined],
                         [(seg.id, ann, True)])

        # Launched: Ann suppressed for the excluded segment, Ben sent.
        head = m.head()
        m.call("marketing.campaign.launch", M.CampaignActionRequest(id=c.id), M.CampaignReply)

        def sends():
            return dict((r[0], (r[1], r[2])) for r in m.q(
                "SELECT customer_id::text, status, reason FROM send WHERE campaign_id = %s",
                c.id))
        wait_for(lambda: len(sends()) == 2, 20, "both recipients decided")
        self.assertEqual(sends()[ann], (M.SEND_STATUS_SUPPRESSED, "excluded_segment " + seg.id))
        self.assertEqual(sends()[ben][0], M.SEND_STATUS_SENT)
        decided = {e.subject: e.send_decided for e in m.events(head)
                   if e.type == "crm.marketing.send.decided.v1"}
        self.assertEqual((decided[ann].status, decided[ann].reason),
                         (M.SEND_STATUS_SUPPRESSED, "excluded_segment " + seg.id))
        self.assertEqual(m.q("SELECT count(*) FROM delivery WHERE campaign_id = %s AND"
                             " customer_id = %s", c.id, ann)[0][0], 0)
        res = m.results(c.id)
        self.assertEqual((res.sent, res.suppressed), (1, 1))
        self.assertEqual([(x.reason, x.count) for x in res.suppressed_by_reason],
                         [("excluded_segment", 1)])

        # Sales: one follow-up task for the deal's owner.
        def tasks():
            return self.sys.cluster.query(
                self.sys.dbs["sales"], "SELECT owner, deal_id::text FROM activity"
                " WHERE person_id = %s AND kind = 4", ann)
        wait_for(lambda: tasks(), 20, "the follow-up task in sales")
        self.assertEqual(tasks(), [("rep-owl", deal.id)])

        # Resolved in support: Ann leaves the segment.
        head = m.head()
        self.support.do("resolve", t.id, resolution=support_pb2.TicketResolution(
            category="billing", text="refunded"))
        wait_for(lambda: m.q("SELECT count(*) FROM segment_member WHERE segment_id = %s",
                             seg.id)[0][0] == 0, 20, "Ann to leave the complaint segment")
        left = [e.segment_membership_changed for e in m.events(head)
                if e.type == "crm.marketing.segment.membership_changed.v1"]
        self.assertEqual([(j.customer_id, j.member) for j in left], [(ann, False)])
        self.assertEqual(m.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)


if __name__ == "__main__":
    unittest.main()
