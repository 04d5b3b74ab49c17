"""Sales: deals through pipelines. A won deal's events reach a plain SUB
subscriber on the bus in sequence order with their payloads; stage moves
stay within the deal's pipeline and only while it is open; bad input
(unknown stage, negative amount, impossible date, unknown ids, a reused
idempotency key) is refused naming the field, and nothing is written."""
import time
import unittest

import zmq

from crmtest import event_pb2
from test_sales_service import (CONFLICT, INVALID, NOT_FOUND, PRECONDITION, SalesSystem,
                                sales_pb2, unique)

UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"


class DealTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem({"SALES_DEFAULT_CURRENCY": "GBP"})
        cls.person = cls.s.register("Deal Person", ["%s@deals.io" % unique("p")]).person

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def create(self, **kw):
        kw.setdefault("title", unique("Deal"))
        kw.setdefault("person_id", self.person.id)
        return self.s.call("sales.deal.create", sales_pb2.CreateDealRequest(
            deal=sales_pb2.Deal(**kw)), sales_pb2.DealReply).deal

    def move(self, deal_id, stage, **kw):
        return self.s.call("sales.deal.stage", sales_pb2.MoveDealRequest(
            id=deal_id, stage=stage, **kw), sales_pb2.DealReply).deal

    def test_won_deal_events_reach_a_subscriber_in_order(self):
        s = self.s
        sub = s.sys.subscribe(b"crm.sales.")
        try:
            # The subscription is live once a heartbeat of sales arrives.
            deadline = time.monotonic() + 20
            while True:
                self.assertTrue(sub.poll(int(max(1, (deadline - time.monotonic()) * 1000))),
                                "no heartbeat from sales")
                topic, _ = sub.recv_multipart()
                if topic == b"crm.sales._hb":
                    break
            d = self.create(amount_minor=125000, currency="eur", expected_close_date="2026-06-30",
                            owner="rep-won", next_step="call back")
            m = self.move(d.id, "proposal", next_step="send quote")
            w = s.call("sales.deal.win", sales_pb2.WinDealRequest(id=d.id), sales_pb2.DealReply).deal
            got = []
            deadline = time.monotonic() + 20
            while len(got) < 3:
                self.assertTrue(sub.poll(int(max(1, (deadline - time.monotonic()) * 1000))),
                                "events missing; got %r" % [e.type for e in got])
                topic, data = sub.recv_multipart()
                if topic.endswith(b"._hb"):
                    continue
                ev = event_pb2.Event()
                ev.ParseFromString(data)
                self.assertEqual(topic.decode(), ev.type)
                if ev.WhichOneof("payload") in ("deal_created", "deal_stage_changed", "deal_won"):
                    got.append(ev)
        finally:
            sub.close()
        self.assertEqual([e.type for e in got], ["crm.sales.deal.created.v1",
                                                 "crm.sales.deal.stage_changed.v1",
                                                 "crm.sales.deal.won.v1"])
        seqs = [e.sequence for e in got]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 3)))
        for e in got:
            self.assertEqual(e.source, "sales")
            self.assertEqual(e.subject, self.person.id)
            self.assertTrue(e.epoch)
        c, sc, wn = got[0].deal_created.deal, got[1].deal_stage_changed, got[2].deal_won.deal
        self.assertEqual(c, d)
        self.assertEqual(c.stage, "Qualification")
        self.assertEqual(c.probability, 10)
        self.assertEqual(c.currency, "EUR")
        self.assertEqual(c.amount_minor, 125000)
        self.assertEqual(c.expected_close_date, "2026-06-30")
        self.assertEqual(c.status, sales_pb2.DEAL_STATUS_OPEN)
        self.assertEqual((sc.from_stage, sc.to_stage), ("Qualification", "Proposal"))
        self.assertEqual(sc.deal, m)
        self.assertEqual(sc.deal.probability, 50)
        self.assertEqual(sc.deal.next_step, "send quote")
        self.assertEqual(wn, w)
        self.assertEqual(wn.status, sales_pb2.DEAL_STATUS_WON)
        self.assertEqual(wn.probability, 100)
        self.assertGreater(wn.closed_at_us, 0)
        # The history.
        show = s.call("sales.deal.show", sales_pb2.ShowDealRequest(id=d.id), sales_pb2.DealReply,
                      key="")
        self.assertEqual(show.deal, w)
        self.assertEqual([(h.from_stage, h.to_stage) for h in show.history],
                         [("", "Qualification"), ("Qualification", "Proposal")])
        self.assertEqual(show.history[1].deal.probability, 50)
        self.assertGreater(show.history[1].deal.updated_at_us, 0)

    def test_bad_input_writes_nothing(self):
        s = self.s
        d = self.create()
        head, deals = s.head(), s.count("deal")
        hist = s.count("deal_stage_history")
        C = sales_pb2.CreateDealRequest
        D = sales_pb2.Deal
        pid = self.person.id
        st = s.fails("sales.deal.create", C(deal=D(title="t", person_id=pid, stage="Closing")),
                     INVALID, "deal.stage")
        self.assertIn("Needs analysis", st.hint)
        s.fails("sales.deal.create", C(deal=D(title="t", person_id=pid, amount_minor=-1)),
                INVALID, "deal.amount_minor")
        st = s.fails("sales.deal.create", C(deal=D(title="t", person_id=pid,
                                                   expected_close_date="2026-02-30")),
                     INVALID, "deal.expected_close_date")
        self.assertIn("2026-02-30", st.detail)
        s.fails("sales.deal.create", C(deal=D(title="t", person_id=UNKNOWN)), NOT_FOUND,
                "deal.person_id")
        s.fails("sales.deal.create", C(deal=D(title="t", person_id=pid, pipeline_id=UNKNOWN)),
                NOT_FOUND, "deal.pipeline_id")
        s.fails("sales.deal.create", C(deal=D(title="t", organization_id=UNKNOWN)), NOT_FOUND,
                "deal.organization_id")
        s.fails("sales.deal.create", C(deal=D(title="t", person_id=pid, lead_id=UNKNOWN)),
                NOT_FOUND, "deal.lead_id")
        s.fails("sales.deal.create", C(deal=D(title="t")), INVALID, "deal.person_id")
        s.fails("sales.deal.create", C(deal=D(person_id=pid)), INVALID, "deal.title")
        s.fails("sales.deal.create", C(deal=D(title="t", person_id=pid, currency="EURO")),
                INVALID, "deal.currency")
        s.fails("sales.deal.create", C(deal=D(title="t", person_id=pid, probability=101)),
                INVALID, "deal.probability")
        s.fails("sales.deal.create", C(deal=D(title="t", person_id="not-an-id")), INVALID,
                "deal.person_id")
        s.fails("sales.deal.create", C(), INVALID, "deal")
        s.fails("sales.deal.stage", sales_pb2.MoveDealRequest(id=d.id, stage="Closing"), INVALID,
                "stage")
        s.fails("sales.deal.stage", sales_pb2.MoveDealRequest(id=d.id, stage="Qualification"),
                PRECONDITION, "stage")
        s.fails("sales.deal.stage", sales_pb2.MoveDealRequest(id=UNKNOWN, stage="Proposal"),
                NOT_FOUND, "id")
        s.fails("sales.deal.stage", sales_pb2.MoveDealRequest(id=d.id, stage="Proposal",
                                                              probability=-3),
                INVALID, "probability")
        s.fails("sales.deal.win", sales_pb2.WinDealRequest(id=UNKNOWN), NOT_FOUND, "id")
        s.fails("sales.deal.lose", sales_pb2.LoseDealRequest(id=d.id), INVALID, "reason")
        s.fails("sales.deal.lose", sales_pb2.LoseDealRequest(id=UNKNOWN, reason="x"), NOT_FOUND,
                "id")
        s.fails("sales.deal.show", sales_pb2.ShowDealRequest(id=UNKNOWN), NOT_FOUND, "id")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("deal"), deals)
        self.assertEqual(s.count("deal_stage_history"), hist)
        # A reused key with another body.
        key = unique("deal")
        s.call("sales.deal.create", C(deal=D(title="keyed", person_id=pid)), sales_pb2.DealReply,
               key=key)
        head, deals = s.head(), s.count("deal")
        hist = s.count("deal_stage_history")
        s.fails("sales.deal.create", C(deal=D(title="keyed", person_id=pid, amount_minor=5)),
                CONFLICT, "idempotency_key", key=key)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("deal"), deals)
        self.assertEqual(s.count("deal_stage_history"), hist)
        self.assertEqual(s.q("SELECT stage, status FROM deal WHERE id = %s", d.id)[0],
                         ("Qualification", 1))

    def test_closed_deals_do_not_move(self):
        s = self.s
        d = self.create(amount_minor=100)
        lost = s.call("sales.deal.lose", sales_pb2.LoseDealRequest(id=d.id, reason="price"),
                      sales_pb2.DealReply).deal
        self.assertEqual(lost.status, sales_pb2.DEAL_STATUS_LOST)
        self.assertEqual(lost.lost_reason, "price")
        self.assertEqual(lost.probability, 0)
        ev = s.events(s.head() - 1)[0]
        self.assertEqual(ev.type, "crm.sales.deal.lost.v1")
        self.assertEqual(ev.deal_lost.reason, "price")
        head = s.head()
        st = s.fails("sales.deal.stage", sales_pb2.MoveDealRequest(id=d.id, stage="Proposal"),
                     PRECONDITION, "id")
        self.assertIn("LOST", st.detail)
        s.fails("sales.deal.win", sales_pb2.WinDealRequest(id=d.id), PRECONDITION, "id")
        s.fails("sales.deal.lose", sales_pb2.LoseDealRequest(id=d.id, reason="again"),
                PRECONDITION, "id")
        self.assertEqual(s.head(), head)

    def test_stage_moves_stay_in_the_pipeline(self):
        s = self.s
        p = s.call("sales.pipeline.create", sales_pb2.CreatePipelineRequest(
            pipeline=sales_pb2.Pipeline(name=unique("Renewals"), stages=[
                sales_pb2.Stage(name="Notice", probability=30),
                sales_pb2.Stage(name="Signed", probability=90)])), sales_pb2.PipelineReply).pipeline
        d = self.create(pipeline_id=p.id)
        self.assertEqual((d.pipeline_id, d.stage, d.probability), (p.id, "Notice", 30))
        d2 = self.create(pipeline_id=p.id, stage="signed", probability=95)
        self.assertEqual((d2.stage, d2.probability), ("Signed", 95))
        default = self.create()
        head = s.head()
        s.fails("sales.deal.stage", sales_pb2.MoveDealRequest(id=default.id, stage="Signed"),
                INVALID, "stage")
        s.fails("sales.deal.stage", sales_pb2.MoveDealRequest(id=d.id, stage="Proposal"), INVALID,
                "stage")
        self.assertEqual(s.head(), head)
        m = self.move(d.id, "SIGNED", probability=99)
        self.assertEqual((m.stage, m.probability), ("Signed", 99))
        # Back to an earlier stage: allowed (deals slip), with its default.
        m = self.move(d.id, "notice")
        self.assertEqual((m.stage, m.probability), ("Notice", 30))

    def test_defaults_and_list(self):
        s = self.s
        owner = unique("rep")
        other = s.register("List Person").person
        a = self.create(owner=owner, expected_close_date="2026-03-01")
        self.assertEqual(a.currency, "GBP")  # SALES_DEFAULT_CURRENCY
        b = self.create(owner=owner, expected_close_date="2026-04-15", person_id=other.id)
        c = self.create(owner=owner, expected_close_date="2026-05-31")
        self.move(c.id, "Negotiation")
        s.call("sales.deal.win", sales_pb2.WinDealRequest(id=a.id), sales_pb2.DealReply)
        lst = "sales.deal.list"
        L = sales_pb2.ListDealsRequest

        def ids(**kw):
            r = s.call(lst, L(**kw), sales_pb2.ListDealsReply, key="")
            return [d.id for d in r.deals]
        self.assertEqual(ids(owner=owner), [a.id, b.id, c.id])
        self.assertEqual(ids(owner=owner, status=sales_pb2.DEAL_STATUS_OPEN), [b.id, c.id])
        self.assertEqual(ids(owner=owner, stage="negotiation"), [c.id])
        self.assertEqual(ids(owner=owner, person_id=other.id), [b.id])
        self.assertEqual(ids(owner=owner, close_from="2026-04-01", close_to="2026-05-31"),
                         [b.id, c.id])
        r = s.call(lst, L(owner=owner, page_size=2), sales_pb2.ListDealsReply, key="")
        self.assertEqual([d.id for d in r.deals], [a.id, b.id])
        r = s.call(lst, L(owner=owner, page_size=2, page_token=r.next_page_token),
                   sales_pb2.ListDealsReply, key="")
        self.assertEqual([d.id for d in r.deals], [c.id])
        self.assertEqual(r.next_page_token, "")
        s.fails(lst, L(close_from="2026-02-30"), INVALID, "close_from")
        s.fails(lst, L(pipeline_id="x"), INVALID, "pipeline_id")
        s.fails(lst, L(status=9), INVALID, "status")


if __name__ == "__main__":
    unittest.main()
