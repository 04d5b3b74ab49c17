"""Record-level access in marketing (issue 12): with a role at "own" level
for campaigns a marketer creates campaigns they own and reaches only those:
another's campaign answers NOT_FOUND to show and to a status change and is
left out of the list; the built-in marketer reaches every campaign; a
sales-rep's roles grant no campaign level (PERMISSION_DENIED). Real
processes, CURVE keys, a role line in the directory."""
import unittest

from crmtest import keyring, rpc_pb2
from test_marketing_service import NOT_FOUND, OK, M, MarketingSystem, unique

DENIED = rpc_pb2.STATUS_CODE_PERMISSION_DENIED


class MarketingAccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        keys = keyring()
        keys.define_role("campaigner", "*.read=all", "campaign.*=own")
        for name, roles in (("mk-ann", "campaigner"), ("mk-bea", "campaigner"),
                            ("mk-lead", "marketer"), ("mk-rep", "sales-rep")):
            keys.key(name, "staff", teams="brand", roles=roles)
        cls.s = MarketingSystem()
        cls.c = {n: cls.s.sys.client("marketing", n) for n in ("mk-ann", "mk-bea", "mk-lead",
                                                                 "mk-rep")}

    @classmethod
    def tearDownClass(cls):
        for c in cls.c.values():
            c.close()
        cls.s.close()

    def listed(self, who):
        r = self.s.call("marketing.campaign.list", M.ListCampaignsRequest(), M.ListCampaignsReply,
                        client=self.c[who])
        return {c.id for c in r.campaigns}

    def test_own_campaigns_only(self):
        c = self.s.call("marketing.campaign.create", M.CreateCampaignRequest(campaign=M.Campaign(
            name=unique("Ann's"), channels=[M.CHANNEL_EMAIL], budget_minor=1000, currency="EUR")),
            M.CampaignReply, client=self.c["mk-ann"]).campaign
        self.assertEqual(c.owner, "mk-ann")
        show = M.ShowCampaignRequest(id=c.id)
        self.assertEqual(self.s.raw("marketing.campaign.show", show, client=self.c["mk-bea"])
                         .status.code, NOT_FOUND)
        self.assertEqual(self.s.raw("marketing.campaign.cancel", M.CampaignActionRequest(id=c.id),
                                    client=self.c["mk-bea"]).status.code, NOT_FOUND)
        self.assertEqual(self.s.raw("marketing.campaign.show", show, client=self.c["mk-ann"])
                         .status.code, OK)
        self.assertEqual(self.s.raw("marketing.campaign.show", show, client=self.c["mk-lead"])
                         .status.code, OK)
        self.assertEqual(self.s.raw("marketing.campaign.show", show, client=self.c["mk-rep"])
                         .status.code, DENIED)
        self.assertIn(c.id, self.listed("mk-ann"))
        self.assertNotIn(c.id, self.listed("mk-bea"))
        self.assertIn(c.id, self.listed("mk-lead"))
        # Not cancelled by bea's attempt.
        self.assertEqual(self.s.call("marketing.campaign.show", show, M.CampaignReply)
                         .campaign.status, c.status)


if __name__ == "__main__":
    unittest.main()
