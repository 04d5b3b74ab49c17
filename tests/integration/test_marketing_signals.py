"""Marketing: support signals in segments. Support's ticket and feedback
events (here published by a probe standing in for crm-support) are kept by
the consumer marketing.support, and segment rules read them: an open
ticket, an open complaint, a low satisfaction rating (the last one, or
any), an interest tag from tickets. Membership follows the events: a
segment gains a member in the transaction that applies a matching order
or ticket event, and loses one when it no longer matches, each change
published as segment.membership_changed."""
import unittest
import uuid

from crmtest import wait_for
from test_marketing_service import INVALID, M, MarketingSystem, sales_pb2, unique
from crm.v1 import person_pb2, support_pb2  # noqa: E402  (path set up by crmtest)

R = M.SegmentRule
S = support_pb2


class SignalsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The periodic scan (time-based rules only) is kept out of the way:
        # every membership change here must come from the transaction of
        # the event or command that caused it.
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "3600000"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    # ---- helpers -------------------------------------------------------------

    def person(self, name, tags=()):
        pid = str(uuid.uuid4())
        self.s.emit("sales", "crm.sales.person.registered.v1", pid,
                    person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                        id=pid, name=name, emails=["%s@sig.example" % unique(name.lower())],
                        tags=list(tags))))
        return pid

    def wait_people(self, *ids):
        wait_for(lambda: self.s.q("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])",
                                  list(ids))[0][0] == len(ids), 20, "people")

    def opened(self, cid, type_=support_pb2.TICKET_TYPE_QUESTION, tags=()):
        tid = str(uuid.uuid4())
        self.s.emit("support", "crm.support.ticket.opened.v1", cid,
                    ticket_opened=support_pb2.TicketOpened(ticket_id=tid, customer_id=cid,
                                                           type=type_, subject="help"))
        if tags:
            self.s.emit("support", "crm.support.feedback.tagged.v1", cid,
                        feedback_tagged=S.FeedbackTagged(ticket_id=tid, customer_id=cid,
                                                         tags=list(tags), type=type_))
        return tid

    def ticket(self, tid, cid, status, type_=support_pb2.TICKET_TYPE_QUESTION, rating=0,
               tags=()):
        return S.Ticket(id=tid, customer_id=cid, status=status, type=type_, tags=list(tags),
                        satisfaction=S.TicketSatisfaction(rating=rating) if rating else None)

    def resolved(self, tid, cid, **kw):
        t = self.ticket(tid, cid, S.TICKET_STATUS_RESOLVED, **kw)
        self.s.emit("support", "crm.support.ticket.status_changed.v1", cid,
                    ticket_status_changed=S.TicketStatusChanged(
                        ticket=t, from_status=S.TICKET_STATUS_OPEN,
                        to_status=S.TICKET_STATUS_RESOLVED))
        self.s.emit("support", "crm.support.ticket.resolved.v1", cid,
                    ticket_resolved=S.TicketResolved(ticket=t))

    def rated(self, tid, cid, rating, **kw):
        t = self.ticket(tid, cid, S.TICKET_STATUS_RESOLVED, rating=rating, **kw)
        self.s.emit("support", "crm.support.ticket.rated.v1", cid,
                    ticket_rated=S.TicketRated(ticket=t, rating=rating))

    def applied(self):
        self.s.wait_applied("marketing.support", "support")

    def preview(self, *rules):
        return sorted(self.s.call("marketing.segment.preview", M.PreviewSegmentRequest(
            rules=list(rules), limit=500), M.PreviewSegmentReply).customer_ids)

    # ---- rules over support signals ----------------------------------------------

    def test_support_signal_rules(self):
        tag = unique("sig")
        ann, ben, cal = (self.person("Ann", [tag]), self.person("Ben", [tag]),
                         self.person("Cal", [tag]))
        self.wait_people(ann, ben, cal)
        mine = R(kind=M.SEGMENT_RULE_KIND_TAG, value=tag)
        t_ann = self.opened(ann, support_pb2.TICKET_TYPE_COMPLAINT, tags=["Lamps"])
        t_ben = self.opened(ben, tags=["lamps", "billing"])
        t_cal = self.opened(cal)
        self.applied()
        open_ticket = R(kind=M.SEGMENT_RULE_KIND_OPEN_TICKET)
        complaint = R(kind=M.SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT)
        self.assertEqual(self.preview(mine, open_ticket), sorted([ann, ben, cal]))
        self.assertEqual(self.preview(mine, complaint), [ann])
        self.assertEqual(self.preview(mine, R(kind=M.SEGMENT_RULE_KIND_INTEREST_TAG,
                                             value="LAMPS")), sorted([ann, ben]))
        # Cal's ticket is resolved and rated 2, then 4; Ben's rated 1.
        self.resolved(t_cal, cal)
        self.rated(t_cal, cal, 2)
        self.resolved(t_ben, ben, tags=["lamps", "billing"])
        self.rated(t_ben, ben, 1, tags=["lamps", "billing"])
        self.applied()
        self.assertEqual(self.preview(mine, open_ticket), [ann])
        self.assertEqual(self.preview(mine, R(kind=M.SEGMENT_RULE_KIND_OPEN_TICKET,
                                             negate=True)), sorted([ben, cal]))
        low = R(kind=M.SEGMENT_RULE_KIND_LOW_SATISFACTION, amount=2)
        self.assertEqual(self.preview(mine, low), sorted([ben, cal]))
        self.rated(t_cal, cal, 4)
        self.applied()
        self.assertEqual(self.preview(mine, low), [ben])
        # "any": Cal's second ticket rated 1 and his first now 4.
        t_cal2 = self.opened(cal)
        self.resolved(t_cal2, cal)
        self.rated(t_cal2, cal, 1)
        self.rated(t_cal, cal, 4)  # most recent rating is 4 again
        self.applied()
        self.assertEqual(self.preview(mine, low), [ben])
        self.assertEqual(self.preview(mine, R(kind=M.SEGMENT_RULE_KIND_LOW_SATISFACTION,
                                             amount=2, value="any")), sorted([ben, cal]))
        self.assertEqual(sorted(s_ticket_tags(self.s, t_ben)), ["billing", "lamps"])
        self.assertEqual(self.s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)

    # ---- membership follows events --------------------------------------------------

    def members(self, seg_id):
        return sorted(r[0] for r in self.s.q(
            "SELECT customer_id::text FROM segment_member WHERE segment_id = %s", seg_id))

    def changes(self, after, seg_id):
        """[(customer, member)] of the membership_changed events of segment
        seg_id committed after `after`, in order."""
        out = []
        for e in self.s.events(after):
            if e.type == "crm.marketing.segment.membership_changed.v1" and \
                    e.segment_membership_changed.segment_id == seg_id:
                m = e.segment_membership_changed
                self.assertEqual(e.subject, m.customer_id)
                self.assertTrue(e.causation_id)
                out.append((m.customer_id, m.member))
        return out

    def segment(self, name, *rules):
        return self.s.call("marketing.segment.create", M.CreateSegmentRequest(
            segment=M.Segment(name=name, rules=list(rules))), M.SegmentReply).segment

    def test_membership_follows_events(self):
        s = self.s
        tag, sku = unique("dyn"), unique("SKU")
        ann, ben, cal = (self.person("Ann", [tag]), self.person("Ben", [tag]),
                         self.person("Cal", [tag]))
        self.wait_people(ann, ben, cal)
        mine = R(kind=M.SEGMENT_RULE_KIND_TAG, value=tag)
        # Ben has an open ticket before the segments exist: he is a member
        # of "open tickets" as soon as it is created, in its transaction.
        t_ben = self.opened(ben)
        self.applied()
        head = s.head()
        open_t = self.segment("open " + tag, mine, R(kind=M.SEGMENT_RULE_KIND_OPEN_TICKET))
        self.assertEqual(self.members(open_t.id), [ben])
        self.assertEqual(self.changes(head, open_t.id), [(ben, True)])
        complaints = self.segment("complaints " + tag, mine,
                                  R(kind=M.SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT))
        buyers = self.segment("buyers " + tag, mine,
                              R(kind=M.SEGMENT_RULE_KIND_BOUGHT_PRODUCT, value=sku))
        unhappy = self.segment("unhappy " + tag, mine,
                               R(kind=M.SEGMENT_RULE_KIND_LOW_SATISFACTION, amount=2))
        self.assertEqual(self.members(complaints.id) + self.members(buyers.id), [])

        # A complaint opened in support: Ann joins when the event is applied
        # (no scan runs), announced with the ticket event as its cause.
        head = s.head()
        t_ann = self.opened(ann, support_pb2.TICKET_TYPE_COMPLAINT)
        self.applied()
        self.assertEqual(self.members(complaints.id), [ann])
        self.assertEqual(self.changes(head, complaints.id), [(ann, True)])
        self.assertEqual(self.members(open_t.id), sorted([ann, ben]))

        # An order from sales: Cal joins the buyers.
        head = s.head()
        oid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.order.placed.v1", cal,
               order_placed=sales_pb2.OrderPlaced(order=sales_pb2.Order(
                   id=oid, person_id=cal, total_minor=1500, currency="EUR",
                   items=[sales_pb2.OrderItem(product_code=sku, quantity=1,
                                              unit_price_minor=1500)])))
        s.wait_applied("marketing.orders", "sales")
        self.assertEqual(self.members(buyers.id), [cal])
        self.assertEqual(self.changes(head, buyers.id),
                         [(cal, True)])

        # Resolved: Ann leaves the complaints and the open tickets; rated 1
        # she joins the unhappy, rated 5 she leaves them again.
        head = s.head()
        self.resolved(t_ann, ann, type_=support_pb2.TICKET_TYPE_COMPLAINT)
        self.applied()
        self.assertEqual(self.members(complaints.id), [])
        self.assertEqual(self.members(open_t.id), [ben])
        self.assertEqual(self.changes(head, complaints.id),
                         [(ann, False)])
        self.rated(t_ann, ann, 1, type_=support_pb2.TICKET_TYPE_COMPLAINT)
        self.applied()
        self.assertEqual(self.members(unhappy.id), [ann])
        self.rated(t_ann, ann, 5, type_=support_pb2.TICKET_TYPE_COMPLAINT)
        self.applied()
        self.assertEqual(self.members(unhappy.id), [])
        self.assertEqual(self.changes(head, unhappy.id),
                         [(ann, True), (ann, False)])
        # Closing Ben's ticket: he leaves the open tickets.
        s.emit("support", "crm.support.ticket.closed.v1", ben, ticket_closed=S.TicketClosed(
            ticket=self.ticket(t_ben, ben, S.TICKET_STATUS_CLOSED)))
        self.applied()
        self.assertEqual(self.members(open_t.id), [])
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)

    def test_bad_support_rules(self):
        s = self.s
        n = s.q("SELECT count(*) FROM segment")[0][0]
        C = lambda *rules: M.CreateSegmentRequest(  # noqa: E731
            segment=M.Segment(name="S", rules=list(rules)))
        s.fails("marketing.segment.create", C(R(kind=M.SEGMENT_RULE_KIND_LOW_SATISFACTION,
                                                amount=6)), INVALID, "segment.rules[0].amount")
        s.fails("marketing.segment.create", C(R(kind=M.SEGMENT_RULE_KIND_LOW_SATISFACTION,
                                                amount=2, value="first")),
                INVALID, "segment.rules[0].value")
        s.fails("marketing.segment.create", C(R(kind=M.SEGMENT_RULE_KIND_OPEN_TICKET,
                                                value="x")), INVALID, "segment.rules[0].value")
        s.fails("marketing.segment.create", C(R(kind=M.SEGMENT_RULE_KIND_INTEREST_TAG)),
                INVALID, "segment.rules[0].value")
        s.fails("marketing.segment.create", C(R(kind=77)), INVALID, "segment.rules[0].kind")
        self.assertEqual(s.q("SELECT count(*) FROM segment")[0][0], n)


def s_ticket_tags(s, tid):
    return s.q("SELECT tags FROM ticket WHERE id = %s", tid)[0][0]


if __name__ == "__main__":
    unittest.main()
