"""Marketing: the send scan as several scans at once (MARKETING_SEND_SCANS),
each over a range of customer ids of its own, each range's transactions
beside the others' on the service's writers. Whatever runs at once, every
recipient is decided once per campaign, including the ids at the ranges'
edges; a customer in two campaigns gets one message under a frequency cap
of 1, however the two campaigns' decisions fall between the scans; a
throttled campaign decides no more than its throttle, its lowest ids first,
while an unthrottled one is decided by all the scans; and a kill -9 in the
middle of a large campaign sends nobody twice once the service is back."""
import unittest
import uuid

from crmtest import wait_for
from test_marketing_service import SMS, M, MarketingSystem, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

SENT, DEFERRED = M.SEND_STATUS_SENT, M.SEND_STATUS_DEFERRED
# The edges of four ranges of the ids' first 16 bits, and the ends.
EDGES = ("00000000-0000-4000-8000-000000000000", "3fffffff-ffff-4fff-bfff-ffffffffffff",
         "40000000-0000-4000-8000-000000000000", "7fffffff-ffff-4fff-bfff-ffffffffffff",
         "80000000-0000-4000-8000-000000000000", "bfffffff-ffff-4fff-bfff-ffffffffffff",
         "c0000000-0000-4000-8000-000000000000", "ffffffff-ffff-4fff-bfff-ffffffffffff")


class SendScansTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_SEND_BATCH": "20",
                                     "MARKETING_SEND_SCANS": "4",
                                     "MARKETING_FREQUENCY_CAP": "1",
                                     "MARKETING_FREQUENCY_DAYS": "7"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def people(self, n, edges=()):
        s = self.s
        ids = list(edges) + [str(uuid.uuid4()) for _ in range(n - len(edges))]
        for i, pid in enumerate(ids):
            s.emit("sales", "crm.sales.person.registered.v1", pid,
                   person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                       id=pid, name="P%d" % i, phones=["+3361%07d" % i])))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])",
                             ids)[0][0] == len(ids), 60, "the people")
        return ids

    def campaign(self, ids, **kw):
        s = self.s
        c = s.campaign(name=unique("Scans"), channels=(SMS,), **kw).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=SMS, body="Hi {{name}}")), M.MessageReply)
        for i in range(0, len(ids), 500):
            s.call("marketing.campaign.target", M.TargetCampaignRequest(
                campaign_id=c.id, customer_ids=ids[i:i + 500]), M.TargetCampaignReply)
        return c.id

    def launch(self, cid):
        self.s.call("marketing.campaign.launch", M.CampaignActionRequest(id=cid), M.CampaignReply)

    def sends(self, cid):
        return {r[0]: r[1:] for r in self.s.q(
            "SELECT customer_id::text, status, reason_code FROM send WHERE campaign_id = %s", cid)}

    def decided_events(self, after, cid):
        return [(e.send_decided.customer_id, e.send_decided.status)
                for e in self.s.events(after, "crm.marketing.send.decided")
                if e.send_decided.campaign_id == cid]

    def test_cap_across_campaigns_and_scans(self):
        s = self.s
        ids = self.people(240, EDGES)
        head = s.head()
        a, b = self.campaign(ids), self.campaign(ids)
        self.launch(a)
        self.launch(b)
        wait_for(lambda: len(self.sends(a)) == len(ids) and len(self.sends(b)) == len(ids), 60,
                 "both campaigns decided")
        sa, sb = self.sends(a), self.sends(b)
        for pid in ids:
            got = sorted([sa[pid], sb[pid]])
            # One message under the cap of 1; the other deferred by it.
            self.assertEqual(got, [(SENT, ""), (DEFERRED, "frequency_cap")], pid)
        self.assertEqual(s.q("SELECT customer_id::text, count(*) FROM delivery"
                             " WHERE campaign_id IN (%s, %s) GROUP BY 1 HAVING count(*) <> 1",
                             a, b), [])
        self.assertEqual(s.q("SELECT count(*) FROM send_queue WHERE campaign_id IN (%s, %s)",
                             a, b)[0][0], 0)
        for cid, sends in ((a, sa), (b, sb)):
            ev = self.decided_events(head, cid)
            self.assertEqual(len(ev), len(ids))
            self.assertEqual(dict(ev), {p: v[0] for p, v in sends.items()})

    def test_throttle_beside_the_scans(self):
        ids = self.people(120)
        slow_ids, quick_ids = ids[:60], ids[60:]
        slow = self.campaign(slow_ids, throttle_per_minute=7)
        self.launch(slow)
        wait_for(lambda: len(self.sends(slow)) == 7, 20, "seven throttled decisions")
        quick = self.campaign(quick_ids)
        self.launch(quick)
        wait_for(lambda: len(self.sends(quick)) == len(quick_ids), 60,
                 "the unthrottled campaign decided")
        # Every scan ran since: none decided past the throttle, and the
        # lowest ids went first, as with one scan.
        self.assertEqual(sorted(self.sends(slow)), sorted(slow_ids)[:7])
        self.assertEqual(self.s.results(slow).sent, 7)

    def test_kill_mid_send_sends_nobody_twice(self):
        s = self.s
        ids = self.people(1500)
        head = s.head()
        cid = self.campaign(ids)
        self.launch(cid)
        wait_for(lambda: len(self.sends(cid)) >= 100, 60, "the first decisions")
        s.proc.kill()
        s.proc.start()
        wait_for(lambda: len(self.sends(cid)) == len(ids), 120, "every recipient decided")
        self.assertEqual({v[0] for v in self.sends(cid).values()}, {SENT})
        self.assertEqual(s.q("SELECT count(*), count(DISTINCT customer_id) FROM delivery"
                             " WHERE campaign_id = %s", cid)[0], (len(ids), len(ids)))
        ev = self.decided_events(head, cid)
        self.assertEqual(len(ev), len(ids))
        self.assertEqual(sorted(p for p, _ in ev), sorted(ids))


if __name__ == "__main__":
    unittest.main()
