"""Sales: a pipeline's stage renamed (sales.pipeline.stage.rename, crmctl
pipeline rename-stage). Open deals at the stage follow it, their stage
history keeps the name each move had then, and
crm.sales.pipeline.stage_renamed.v1 says so; a name another stage has is
ALREADY_EXISTS and changes nothing."""
import os
import unittest

from crmtest import run_crmctl
from test_sales_service import SalesSystem, sales_pb2, unique

EXISTS = 3
NOT_FOUND = 2


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


if __name__ == "__main__":
    unittest.main()
