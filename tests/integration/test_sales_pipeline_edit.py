"""Sales: a pipeline's stages edited. A stage renamed
(sales.pipeline.stage.rename, crmctl pipeline rename-stage): open deals at
the stage follow it, their stage history keeps the name each move had then,
and crm.sales.pipeline.stage_renamed.v1 says so; a name another stage has is
ALREADY_EXISTS and changes nothing. Stages added, moved and their
probability changed (StageEditTest, below), with a real crm-analytics."""
import datetime
import os
import unittest

from crmtest import rpc_pb2, run_crmctl
from test_analytics_service import AnalyticsSystem
from test_sales_service import SalesSystem, sales_pb2, unique
from crm.v1 import event_pb2, person_pb2  # noqa: E402

EXISTS = 3
NOT_FOUND = 2
OK = rpc_pb2.STATUS_CODE_OK
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"


class StageRenameTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_rename_and_collision(self):
        s = self.s
        pipe = s.call("sales.pipeline.create", sales_pb2.CreatePipelineRequest(
            pipeline=sales_pb2.Pipeline(name=unique("Deals"), stages=[
                sales_pb2.Stage(name="Lead", probability=10),
                sales_pb2.Stage(name="Offer", probability=50),
                sales_pb2.Stage(name="Contract", probability=80)])),
            sales_pb2.PipelineReply).pipeline
        p = s.register("Stage Person", ["%s@stage.io" % unique("s")]).person
        d = s.call("sales.deal.create", sales_pb2.CreateDealRequest(deal=sales_pb2.Deal(
            title="Stage deal", person_id=p.id, pipeline_id=pipe.id, stage="Lead")),
            sales_pb2.DealReply).deal
        s.call("sales.deal.stage", sales_pb2.MoveDealRequest(id=d.id, stage="Offer"),
               sales_pb2.DealReply)

        # A name another stage has (in any case): refused, nothing changes.
        head, hist = s.head(), s.count("deal_stage_history")
        before = s.q("SELECT name FROM pipeline_stage WHERE pipeline_id = %s ORDER BY position",
                     pipe.id)
        st = s.fails("sales.pipeline.stage.rename", sales_pb2.RenameStageRequest(
            pipeline_id=pipe.id, stage="Offer", new_name="contract"), EXISTS, "new_name")
        self.assertIn("Contract", st.detail)
        s.fails("sales.pipeline.stage.rename", sales_pb2.RenameStageRequest(
            pipeline_id=pipe.id, stage="Nope", new_name="X"), NOT_FOUND, "stage")
        self.assertEqual(s.q("SELECT name FROM pipeline_stage WHERE pipeline_id = %s"
                             " ORDER BY position", pipe.id), before)
        self.assertEqual(s.q("SELECT stage FROM deal WHERE id = %s", d.id)[0][0], "Offer")
        self.assertEqual((s.head(), s.count("deal_stage_history")), (head, hist))

        # Renamed: the deal follows, the history keeps "Offer" for the move.
        r = s.call("sales.pipeline.stage.rename", sales_pb2.RenameStageRequest(
            pipeline_id=pipe.id, stage="Offer", new_name="Proposal"), sales_pb2.PipelineReply)
        self.assertEqual([x.name for x in r.pipeline.stages], ["Lead", "Proposal", "Contract"])
        shown = s.call("sales.deal.show", sales_pb2.ShowDealRequest(id=d.id), sales_pb2.DealReply)
        self.assertEqual(shown.deal.stage, "Proposal")
        self.assertEqual([(h.from_stage, h.to_stage) for h in shown.history],
                         [("", "Lead"), ("Lead", "Offer")])
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.sales.pipeline.stage_renamed.v1"])
        ev = evs[0].stage_renamed
        self.assertEqual((ev.from_stage, ev.to_stage, ev.deals_moved, ev.pipeline.id),
                         ("Offer", "Proposal", 1, pipe.id))
        # The deal moves on under the new name.
        s.call("sales.deal.stage", sales_pb2.MoveDealRequest(id=d.id, stage="Contract"),
               sales_pb2.DealReply)

        # crmctl: the same refusal, exit status 1, and a rename.
        env = dict(os.environ, CRM_SERVICES="sales=%s" % s.sys.endpoints["sales"])
        p1 = run_crmctl(self, env, ["pipeline", "rename-stage", pipe.id, "--stage", "Lead",
                                    "--to", "PROPOSAL"], rc=1, timeout=30)
        self.assertIn("stage name is taken", p1.stderr)
        out = run_crmctl(self, env, ["pipeline", "rename-stage", pipe.id, "--stage", "Lead",
                                     "--to", "Prospect"], timeout=30).stdout
        self.assertIn("Prospect", out)


class StageEditTest(unittest.TestCase):
    """A stage added at a position, moved, and its default probability
    changed (sales.pipeline.stage.add|move|probability, crmctl pipeline
    stage add|move|probability), with a real crm-analytics whose weighted
    forecast follows the new probability. Deals stay at their stage wherever
    it moves; their stage history stays as it was; bad input (a duplicate
    name, a probability out of 0..100, an unknown pipeline or stage, a
    position out of range) gets a clear error and changes nothing."""

    @classmethod
    def setUpClass(cls):
        a = cls.a = AnalyticsSystem(probes=("marketing", "support"))
        cls.sales = a.add("sales", "crm-sales", ("marketing", "support", "analytics"), {})
        cls.sales.start()
        a.start()
        cls.c = a.sys.client("sales")

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.a.close()

    def call(self, command, msg, reply):
        rep = self.c.call_raw(command, msg.SerializeToString())
        self.assertEqual(rep.status.code, OK, rep.status)
        return reply.FromString(rep.body)

    def fails(self, command, msg, code, field):
        rep = self.c.call_raw(command, msg.SerializeToString())
        self.assertEqual((rep.status.code, rep.status.field), (code, field), rep.status)
        self.assertTrue(rep.status.message[0].islower(), rep.status)
        return rep.status

    def q(self, sql, *args):
        return self.a.q(sql, *args, db="sales")

    def stages(self, pid):
        return self.q("SELECT name, probability FROM pipeline_stage WHERE pipeline_id = %s"
                      " ORDER BY position", pid)

    def deal(self, title, pid, stage, amount, close, probability=0):
        return self.call("sales.deal.create", sales_pb2.CreateDealRequest(deal=sales_pb2.Deal(
            title=title, person_id=self.person, pipeline_id=pid, stage=stage,
            amount_minor=amount, currency="EUR", expected_close_date=close,
            probability=probability)), sales_pb2.DealReply).deal

    def events(self, after):
        out = []
        for (data,) in self.q("SELECT event FROM crm_outbox WHERE seq > %s ORDER BY seq", after):
            ev = event_pb2.Event()
            ev.ParseFromString(bytes(data))
            out.append(ev)
        return out

    def test_add_move_probability(self):
        a = self.a
        self.person = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Edit Person", emails=["edit@stage.example"])),
            sales_pb2.PersonReply).person.id
        pipe = self.call("sales.pipeline.create", sales_pb2.CreatePipelineRequest(
            pipeline=sales_pb2.Pipeline(name="Edit", stages=[
                sales_pb2.Stage(name="Lead", probability=10),
                sales_pb2.Stage(name="Offer", probability=50),
                sales_pb2.Stage(name="Contract", probability=80)])),
            sales_pb2.PipelineReply).pipeline
        y = datetime.date.today().year + 1
        # d1 at Offer with its default 50%, d2 at Offer with 70% set by hand,
        # d3 at Lead (10%).
        d1 = self.deal("One", pipe.id, "Lead", 100000, "%d-03-15" % y)
        self.call("sales.deal.stage", sales_pb2.MoveDealRequest(id=d1.id, stage="Offer"),
                  sales_pb2.DealReply)
        d2 = self.deal("Two", pipe.id, "Offer", 200000, "%d-03-20" % y, probability=70)
        d3 = self.deal("Three", pipe.id, "Lead", 50000, "%d-04-01" % y)

        # ---- bad input: a clear error, nothing changes -----------------------------
        head, before = self.a.head("sales"), self.stages(pipe.id)
        deals = self.q("SELECT id, stage, probability FROM deal ORDER BY id")
        add = sales_pb2.AddStageRequest
        st = self.fails("sales.pipeline.stage.add", add(pipeline_id=pipe.id, stage=sales_pb2.Stage(
            name="offer", probability=20)), EXISTS, "stage.name")
        self.assertIn('"Offer"', st.detail)
        self.fails("sales.pipeline.stage.add", add(pipeline_id=pipe.id, stage=sales_pb2.Stage(
            name="New", probability=101)), INVALID, "stage.probability")
        self.fails("sales.pipeline.stage.add", add(pipeline_id=pipe.id, stage=sales_pb2.Stage(
            name="New", probability=-1)), INVALID, "stage.probability")
        st = self.fails("sales.pipeline.stage.add", add(pipeline_id=pipe.id, stage=sales_pb2.Stage(
            name="New", probability=20), position=5), INVALID, "position")
        self.assertIn("1 to 4", st.detail)
        self.fails("sales.pipeline.stage.add", add(pipeline_id=UNKNOWN, stage=sales_pb2.Stage(
            name="New", probability=20)), NOT_FOUND, "pipeline_id")
        mv = sales_pb2.MoveStageRequest
        self.fails("sales.pipeline.stage.move", mv(pipeline_id=pipe.id, stage="Nope", position=1),
                   NOT_FOUND, "stage")
        self.fails("sales.pipeline.stage.move", mv(pipeline_id=pipe.id, stage="Lead", position=0),
                   INVALID, "position")
        self.fails("sales.pipeline.stage.move", mv(pipeline_id=pipe.id, stage="Lead", position=4),
                   INVALID, "position")
        self.fails("sales.pipeline.stage.move", mv(pipeline_id=UNKNOWN, stage="Lead", position=1),
                   NOT_FOUND, "pipeline_id")
        pr = sales_pb2.SetStageProbabilityRequest
        self.fails("sales.pipeline.stage.probability", pr(pipeline_id=pipe.id, stage="Offer",
                                                          probability=150), INVALID, "probability")
        self.fails("sales.pipeline.stage.probability", pr(pipeline_id=pipe.id, stage="Nope",
                                                          probability=5), NOT_FOUND, "stage")
        self.assertEqual((self.a.head("sales"), self.stages(pipe.id)), (head, before))
        self.assertEqual(self.q("SELECT id, stage, probability FROM deal ORDER BY id"), deals)

        # ---- added: Demo (30%) second, Signed (95%) at the end ----------------------
        r = self.call("sales.pipeline.stage.add", add(pipeline_id=pipe.id, stage=sales_pb2.Stage(
            name="Demo", probability=30), position=2), sales_pb2.PipelineReply)
        self.assertEqual([x.name for x in r.pipeline.stages], ["Lead", "Demo", "Offer", "Contract"])
        r = self.call("sales.pipeline.stage.add", add(pipeline_id=pipe.id, stage=sales_pb2.Stage(
            name="Signed", probability=95)), sales_pb2.PipelineReply)
        self.assertEqual([(x.name, x.probability) for x in r.pipeline.stages],
                         [("Lead", 10), ("Demo", 30), ("Offer", 50), ("Contract", 80),
                          ("Signed", 95)])
        evs = self.events(head)
        self.assertEqual([(e.type, e.stage_added.stage, e.stage_added.position) for e in evs],
                         [("crm.sales.pipeline.stage_added.v1", "Demo", 2),
                          ("crm.sales.pipeline.stage_added.v1", "Signed", 5)])

        # ---- moved: Contract first, then back; deals stay at their stage --------------
        head = self.a.head("sales")
        r = self.call("sales.pipeline.stage.move", mv(pipeline_id=pipe.id, stage="Contract",
                                                      position=1), sales_pb2.PipelineReply)
        self.assertEqual([x.name for x in r.pipeline.stages],
                         ["Contract", "Lead", "Demo", "Offer", "Signed"])
        ev = self.events(head)[0]
        self.assertEqual((ev.type, ev.stage_moved.stage, ev.stage_moved.from_position,
                          ev.stage_moved.to_position),
                         ("crm.sales.pipeline.stage_moved.v1", "Contract", 4, 1))
        r = self.call("sales.pipeline.stage.move", mv(pipeline_id=pipe.id, stage="Contract",
                                                      position=4), sales_pb2.PipelineReply)
        self.assertEqual([x.name for x in r.pipeline.stages],
                         ["Lead", "Demo", "Offer", "Contract", "Signed"])
        # A deal moves to the new stage and takes its default.
        d3 = self.call("sales.deal.stage", sales_pb2.MoveDealRequest(id=d3.id, stage="Demo"),
                       sales_pb2.DealReply).deal
        self.assertEqual((d3.stage, d3.probability), ("Demo", 30))

        # ---- Offer's probability 50 -> 60: d1 (at the default) follows, d2 (70%
        # by hand) stays; the history stays as it was -------------------------------------
        head = self.a.head("sales")
        r = self.call("sales.pipeline.stage.probability", pr(pipeline_id=pipe.id, stage="Offer",
                                                             probability=60),
                      sales_pb2.PipelineReply)
        self.assertEqual([x.probability for x in r.pipeline.stages], [10, 30, 60, 80, 95])
        ev = self.events(head)[0].stage_probability_changed
        self.assertEqual((ev.stage, ev.from_probability, ev.to_probability, ev.deals_updated),
                         ("Offer", 50, 60, 1))
        got = dict(self.q("SELECT title, probability FROM deal WHERE pipeline_id = %s", pipe.id))
        self.assertEqual(got, {"One": 60, "Two": 70, "Three": 30})
        shown = self.call("sales.deal.show", sales_pb2.ShowDealRequest(id=d1.id),
                          sales_pb2.DealReply)
        self.assertEqual([(h.from_stage, h.to_stage) for h in shown.history],
                         [("", "Lead"), ("Lead", "Offer")])

        # ---- analytics: the weighted forecast uses the new probability ----------------
        # March: One 1000.00 x 60% = 600.00, Two 2000.00 x 70% = 1400.00:
        # 3000.00, weighted 2000.00 (with the old 50% it would be 1900.00).
        # April: Three 500.00 x 30% = 150.00.
        a.wait_applied(sources=("sales",))
        f = a.report("analytics.report.forecast")
        self.assertEqual([(m["month"], m["currency"], m["deals"], m["amount_minor"],
                           m["weighted_minor"]) for m in f["months"]],
                         [("%d-03" % y, "EUR", 2, 300000, 200000),
                          ("%d-04" % y, "EUR", 1, 50000, 15000)])

        # ---- crmctl -------------------------------------------------------------------
        env = dict(os.environ, CRM_SERVICES="sales=%s" % a.sys.endpoints["sales"])
        p1 = run_crmctl(self, env, ["pipeline", "stage", "add", pipe.id, "--name", "DEMO",
                                    "--probability", "5"], rc=1, timeout=30)
        self.assertIn("stage name is taken", p1.stderr)
        p1 = run_crmctl(self, env, ["pipeline", "stage", "move", pipe.id, "--stage", "Nope",
                                    "--position", "1"], rc=1, timeout=30)
        self.assertIn("stage does not exist", p1.stderr)
        out = run_crmctl(self, env, ["pipeline", "stage", "probability", pipe.id, "--stage",
                                     "Contract", "--probability", "85"], timeout=30).stdout
        self.assertIn("Contract 85%", out)
        out = run_crmctl(self, env, ["pipeline", "stage", "add", pipe.id, "--name", "Review",
                                     "--probability", "40", "--position", "3"], timeout=30).stdout
        self.assertIn("Demo 30%, Review 40%, Offer 60%", out)


if __name__ == "__main__":
    unittest.main()
