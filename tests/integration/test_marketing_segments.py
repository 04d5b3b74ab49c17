"""Marketing: segments over the people marketing knows, their attributes
(from sales' person events), purchase history (from sales' order events)
and responses to earlier campaigns. Preview and targeting evaluate the
rules at that moment; the stored membership follows the events and
commands that change it, each change announced (segment.membership_changed):
a matching order adds a member, a response to the campaign removes one from
"did not respond"."""
import time
import unittest
import uuid

from crmtest import wait_for
from test_marketing_service import (INVALID, NOT_FOUND, M, MarketingSystem, sales_pb2, unique)
from crm.v1 import marketing_pb2, person_pb2  # noqa: E402  (path set up by crmtest)

K = M


class SegmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "100"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def person(self, name, country="", tags=(), kind=0):
        s = self.s
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=["%s@seg.io" % unique(name.lower())],
                   country=country, tags=list(tags), kind=kind)))
        return pid

    def order(self, pid, code, total, currency="EUR", days_ago=0):
        oid = str(uuid.uuid4())
        self.s.emit("sales", "crm.sales.order.placed.v1", pid,
                    order_placed=sales_pb2.OrderPlaced(order=sales_pb2.Order(
                        id=oid, person_id=pid, total_minor=total, currency=currency,
                        ordered_at_us=int((time.time() - days_ago * 86400) * 1e6),
                        items=[sales_pb2.OrderItem(product_code=code, quantity=1,
                                                   unit_price_minor=total)])))
        return oid

    def preview(self, rules=(), id=""):
        return self.s.call("marketing.segment.preview", M.PreviewSegmentRequest(
            id=id, rules=list(rules), limit=500), M.PreviewSegmentReply)

    def wait_people(self, ids):
        wait_for(lambda: self.s.q("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])",
                                  list(ids))[0][0] == len(ids), 20, "people")

    def test_rules_and_dynamic_membership(self):
        s = self.s
        tag = unique("vip")
        sku = unique("SKU")
        ann = self.person("Ann", "FR", [tag.upper()], kind=person_pb2.PERSON_KIND_CUSTOMER)
        ben = self.person("Ben", "FR", [tag])
        cal = self.person("Cal", "DE", [tag])
        self.wait_people([ann, ben, cal])
        R = M.SegmentRule
        fr_vip = [R(kind=K.SEGMENT_RULE_KIND_COUNTRY, value="fr"),
                  R(kind=K.SEGMENT_RULE_KIND_TAG, value=tag)]
        p = self.preview(fr_vip)
        self.assertEqual((p.count, sorted(p.customer_ids)), (2, sorted([ann, ben])))
        seg = s.call("marketing.segment.create", M.CreateSegmentRequest(segment=M.Segment(
            name="FR VIPs who bought " + sku, rules=fr_vip + [
                R(kind=K.SEGMENT_RULE_KIND_BOUGHT_PRODUCT, value=sku)])),
            M.SegmentReply).segment
        self.assertEqual(len(seg.rules), 3)
        self.assertEqual(self.preview(id=seg.id).count, 0)
        # An order arrives from sales: Ben joins; Cal's order does not
        # qualify him (wrong country).
        self.order(ben, sku, 5000)
        self.order(cal, sku, 5000)
        s.wait_applied("marketing.orders", "sales")
        p = self.preview(id=seg.id)
        self.assertEqual(list(p.customer_ids), [ben])
        # Spending and recency, per currency.
        self.order(ann, "OTHER", 7000, days_ago=40)
        self.order(ann, "OTHER", 4000, currency="USD")
        s.wait_applied("marketing.orders", "sales")
        spent = [R(kind=K.SEGMENT_RULE_KIND_TOTAL_SPENT_AT_LEAST, value="EUR", amount=7000),
                 R(kind=K.SEGMENT_RULE_KIND_TAG, value=tag)]
        self.assertEqual(list(self.preview(spent).customer_ids), [ann])
        recent = [R(kind=K.SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS, amount=30),
                  R(kind=K.SEGMENT_RULE_KIND_TAG, value=tag)]
        self.assertEqual(sorted(self.preview(recent).customer_ids), sorted([ann, ben, cal]))
        recent[0].amount = 1
        recent.append(R(kind=K.SEGMENT_RULE_KIND_PERSON_KIND, amount=person_pb2.PERSON_KIND_CUSTOMER))
        self.assertEqual(list(self.preview(recent).customer_ids), [ann])
        # Responses to an earlier campaign; "did not respond" by negation.
        c = s.campaign().campaign
        s.respond(c.id, marketing_pb2.RESPONSE_TYPE_CLICKED, customer=ann)
        s.respond(c.id, marketing_pb2.RESPONSE_TYPE_BOUNCED, customer=cal)
        responded = R(kind=K.SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN, value=c.id)
        tagged = R(kind=K.SEGMENT_RULE_KIND_TAG, value=tag)
        self.assertEqual(list(self.preview([responded, tagged]).customer_ids), [ann])
        silent = R(kind=K.SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN, value=c.id, negate=True)
        self.assertEqual(sorted(self.preview([silent, tagged]).customer_ids), sorted([ben, cal]))
        # A campaign targets the segment's current members.
        nc = s.campaign().campaign
        t = s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=nc.id, segment_id=seg.id, customer_ids=[cal]), M.TargetCampaignReply)
        self.assertEqual((t.added, t.recipients), (2, 2))
        self.assertEqual(sorted(r[0] for r in s.q(
            "SELECT customer_id::text FROM campaign_recipient WHERE campaign_id = %s", nc.id)),
            sorted([ben, cal]))
        listed = s.call("marketing.segment.list", M.ListSegmentsRequest(),
                        M.ListSegmentsReply).segments
        self.assertIn(seg.id, [g.id for g in listed])
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)

    def membership(self, seg_id, after=0):
        """{customer: member} as announced by membership_changed events, in order."""
        out = {}
        for e in self.s.events(after):
            if e.type == "crm.marketing.segment.membership_changed.v1" and \
                    e.segment_membership_changed.segment_id == seg_id:
                m = e.segment_membership_changed
                self.assertEqual(e.subject, m.customer_id)
                out[m.customer_id] = m.member
        return out

    def test_membership_changes_are_events(self):
        s = self.s
        tag, sku = unique("fan"), unique("SKU")
        dee, eli = self.person("Dee", tags=[tag]), self.person("Eli", tags=[tag])
        self.wait_people([dee, eli])
        c = s.campaign().campaign
        R = M.SegmentRule
        create = lambda name, *rules: s.call(  # noqa: E731
            "marketing.segment.create", M.CreateSegmentRequest(segment=M.Segment(
                name=name, rules=list(rules))), M.SegmentReply).segment
        silent = create("silent fans", R(kind=K.SEGMENT_RULE_KIND_TAG, value=tag),
                        R(kind=K.SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN, value=c.id,
                          negate=True))
        buyers = create("fans who bought", R(kind=K.SEGMENT_RULE_KIND_TAG, value=tag),
                        R(kind=K.SEGMENT_RULE_KIND_BOUGHT_PRODUCT, value=sku))
        wait_for(lambda: self.membership(silent.id) == {dee: True, eli: True}, 20,
                 "both to join the silent fans")
        self.assertEqual(self.membership(buyers.id), {})
        # A response makes Dee leave; an order makes Eli join the buyers.
        head = s.head()
        s.respond(c.id, marketing_pb2.RESPONSE_TYPE_REPLIED, customer=dee)
        self.order(eli, sku, 1200)
        wait_for(lambda: self.membership(silent.id, head) == {dee: False}, 20, "Dee to leave")
        wait_for(lambda: self.membership(buyers.id, head) == {eli: True}, 20, "Eli to join")
        self.assertEqual(sorted(r[0] for r in s.q(
            "SELECT customer_id::text FROM segment_member WHERE segment_id = %s", silent.id)),
            [eli])

    def test_bad_segments(self):
        s = self.s
        R = M.SegmentRule
        n = s.q("SELECT count(*) FROM segment")[0][0]
        C = lambda *rules, name="S": M.CreateSegmentRequest(  # noqa: E731
            segment=M.Segment(name=name, rules=list(rules)))
        s.fails("marketing.segment.create", C(), INVALID, "segment.rules")
        s.fails("marketing.segment.create", C(R(kind=K.SEGMENT_RULE_KIND_COUNTRY, value="x")),
                INVALID, "segment.rules[0].value")
        st = s.fails("marketing.segment.create",
                     C(R(kind=K.SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT, value="x")), INVALID,
                     "segment.rules[0].value")
        self.assertEqual(st.message, "rule takes no operand")
        s.fails("marketing.segment.create", C(R(kind=99)), INVALID, "segment.rules[0].kind")
        s.fails("marketing.segment.create", C(R(kind=K.SEGMENT_RULE_KIND_TAG, value="t"),
                                              name=""), INVALID, "segment.name")
        self.assertEqual(s.q("SELECT count(*) FROM segment")[0][0], n)
        s.fails("marketing.segment.preview", M.PreviewSegmentRequest(id=str(uuid.uuid4())),
                NOT_FOUND, "id")
        s.fails("marketing.segment.preview", M.PreviewSegmentRequest(), INVALID, "rules")
        c = s.campaign().campaign
        s.fails("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, segment_id=str(uuid.uuid4())), NOT_FOUND, "segment_id")
        s.fails("marketing.campaign.target", M.TargetCampaignRequest(campaign_id=c.id), INVALID,
                "customer_ids")


if __name__ == "__main__":
    unittest.main()
