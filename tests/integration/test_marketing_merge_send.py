"""Marketing: a merged person is decided once per campaign (issue 15's
follow-up; docs/architecture.md, "Merge"). A merge (crm.sales.person.merged.v1)
moves the dropped record's send decision to the survivor; the survivor's
own place in the send queue used to stay, so a survivor whose dropped twin
had been decided was decided again, and sent a second message, at the next
scan. Now the merge takes the survivor off the queue of every campaign the
dropped twin was decided for, as it already dropped the twin's place when
the survivor had been decided: the first decision of either record stands
for the merged person.

Merges land before a campaign's decisions, between the twins' decisions
(the campaign paused while the survivor is queued and the merge is applied,
so the order is certain), after both, and at random while two scans decide
a campaign of a hundred pairs in batches of four. The frequency cap counts
both records' messages for the survivor, and consent is the merged
ledger's, as before. Synchronised on the database's state: a merge on its
alias, decisions on the campaign's queue being empty."""
import unittest
import uuid

from crmtest import wait_for
from test_marketing_service import EMAIL, SMS, M, MarketingSystem, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

SENT, SUPPRESSED, DEFERRED = M.SEND_STATUS_SENT, M.SEND_STATUS_SUPPRESSED, M.SEND_STATUS_DEFERRED
P_EMAIL = M.CONSENT_PURPOSE_EMAIL_MARKETING


class MergeSendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_SEND_BATCH": "4",
                                     "MARKETING_SEND_SCANS": "2",
                                     "MARKETING_FREQUENCY_CAP": "2",
                                     "MARKETING_FREQUENCY_DAYS": "7",
                                     "MARKETING_CHANNEL_POLICY":
                                     "email=opt-in,sms=opt-out,fax=opt-out"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    # ---- helpers ------------------------------------------------------------
    def people(self, n, phone=True):
        s = self.s
        ids = [str(uuid.uuid4()) for _ in range(n)]
        for pid in ids:
            tag = pid[:8]
            s.emit("sales", "crm.sales.person.registered.v1", pid,
                   person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                       id=pid, name="P%s" % tag, emails=["p.%s@merge-send.example" % tag],
                       phones=["+3362%s" % str(int(tag, 16))[:7].rjust(7, "0")] if phone
                       else [])))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])",
                             ids)[0][0] == n, 60, "the people")
        return ids

    def merge(self, keep, drop, wait=True):
        self.s.emit("sales", "crm.sales.person.merged.v1", keep,
                    person_merged=sales_pb2.PersonMerged(survivor_id=keep, dropped_id=drop,
                                                         reason="test", alias_ids=[drop]))
        if wait:
            self.merged([drop])

    def merged(self, drops):
        wait_for(lambda: self.s.q("SELECT count(*) FROM crm_alias WHERE dropped_id = ANY(%s)",
                                  drops)[0][0] == len(drops), 60, "the merges applied")

    def campaign(self, ids, channel=SMS):
        s = self.s
        c = s.campaign(name=unique("Merged"), channels=(channel,)).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=channel, subject="Hello", body="Hi {{name}}")),
            M.MessageReply)
        self.target(c.id, ids)
        return c.id

    def target(self, cid, ids):
        self.s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=cid, customer_ids=ids), M.TargetCampaignReply)

    def action(self, verb, cid):
        self.s.call("marketing.campaign." + verb, M.CampaignActionRequest(id=cid),
                    M.CampaignReply)

    def sends(self, cid):
        return {r[0]: tuple(r[1:]) for r in self.s.q(
            "SELECT customer_id::text, status, reason_code FROM send WHERE campaign_id = %s", cid)}

    def queued(self, cid):
        return self.s.q("SELECT count(*) FROM send_queue WHERE campaign_id = %s", cid)[0][0]

    def settled(self, cid, n):
        """Waits until the campaign's queue is empty and n sends exist:
        every queued recipient was decided or taken off the queue, and no
        later decision can come from the queue."""
        wait_for(lambda: self.queued(cid) == 0 and len(self.sends(cid)) == n, 60,
                 "the campaign decided")

    def deliveries(self, cid):
        return dict(self.s.q("SELECT customer_id::text, count(*) FROM delivery"
                             " WHERE campaign_id = %s GROUP BY 1", cid))

    def decided(self, after, cid):
        return [(e.send_decided.customer_id, e.send_decided.status)
                for e in self.s.events(after, "crm.marketing.send.decided")
                if e.send_decided.campaign_id == cid]

    # ---- tests ----------------------------------------------------------------
    def test_merge_between_the_twins_decisions(self):
        """The dropped twin decided, the survivor still queued: the merge
        takes the survivor off the queue; the twin's decision stands."""
        s = self.s
        k1, d1, k2, x = self.people(4)
        (d2,) = self.people(1, phone=False)  # suppressed: no address
        cid = self.campaign([d1, d2])
        self.action("launch", cid)
        self.settled(cid, 2)
        self.assertEqual(self.sends(cid), {d1: (SENT, ""), d2: (SUPPRESSED, "no_address")})
        # The survivors join while the campaign is paused, so they are
        # queued, undecided, when the merges are applied.
        self.action("pause", cid)
        self.target(cid, [k1, k2])
        self.assertEqual(self.queued(cid), 2)
        head = s.head()
        self.merge(k1, d1)
        self.merge(k2, d2)
        self.action("resume", cid)
        self.target(cid, [x])  # a newcomer is still decided
        self.settled(cid, 3)
        self.assertEqual(self.decided(head, cid), [(x, SENT)])
        self.assertEqual(self.deliveries(cid), {k1: 1, x: 1})
        self.assertEqual(self.sends(cid), {k1: (SENT, ""), k2: (SUPPRESSED, "no_address"),
                                           x: (SENT, "")})
        self.assertEqual(s.results(cid).sent, 2)

    def test_merge_before_and_after_the_decisions(self):
        s = self.s
        k1, d1, k2, d2, x = self.people(5)
        # Before: the dropped twin's place goes with it; one decision.
        before = self.campaign([k1, d1])
        self.merge(k1, d1)
        head = s.head()
        self.action("launch", before)
        self.settled(before, 1)
        self.assertEqual(self.sends(before), {k1: (SENT, "")})
        self.assertEqual(self.deliveries(before), {k1: 1})
        self.assertEqual(self.decided(head, before), [(k1, SENT)])
        # After: two records were two people when they were decided; the
        # survivor keeps its own decision and is not decided again.
        after = self.campaign([k2, d2])
        self.action("launch", after)
        self.settled(after, 2)
        head = s.head()
        self.merge(k2, d2)
        self.target(after, [x])
        self.settled(after, 2)
        self.assertEqual(self.sends(after), {k2: (SENT, ""), x: (SENT, "")})
        self.assertEqual(self.deliveries(after), {k2: 2, x: 1})
        self.assertEqual(self.decided(head, after), [(x, SENT)])
        # The frequency cap (2 in 7 days) counts both records' messages:
        # the survivor is deferred in the next campaign, x is not.
        nxt = self.campaign([k2, x])
        self.action("launch", nxt)
        self.settled(nxt, 2)
        self.assertEqual(self.sends(nxt), {k2: (DEFERRED, "frequency_cap"), x: (SENT, "")})

    def test_consent_of_the_merged_ledger(self):
        """Email needs consent here: the survivor's state per purpose is
        the latest entry of either record (sql/0022_merge.sql)."""
        s = self.s
        k1, d1, k2, d2 = self.people(4)

        def consent(verb, cid):
            s.call("marketing.consent." + verb, M.RecordConsentRequest(
                customer_id=cid, purpose=P_EMAIL, source=M.CONSENT_SOURCE_FORM, proof="form"),
                M.ConsentReply)
        consent("grant", d1)       # only the dropped record consented
        consent("grant", k2)
        consent("withdraw", d2)    # the later entry: a withdrawal
        cid = self.campaign([k1, k2, d1, d2], channel=EMAIL)
        self.merge(k1, d1)
        self.merge(k2, d2)
        self.action("launch", cid)
        self.settled(cid, 2)
        self.assertEqual(self.sends(cid), {k1: (SENT, ""), k2: (SUPPRESSED, "no_consent")})

    def test_merges_while_two_scans_decide(self):
        """A hundred pairs merged while two scans decide their campaign
        in batches of four: each merged person is decided once, unless
        both records had been decided before the merge (two people then).
        What each merge found is read in the merge's own transaction, which
        no scan's transaction runs beside (the merge guard): a trigger of
        the test's on the alias table counts the pair's decisions there."""
        s = self.s
        s.q("CREATE TABLE IF NOT EXISTS test_merge_seen (dropped text, nd int, nk int)")
        s.q("CREATE OR REPLACE FUNCTION test_merge_seen() RETURNS trigger LANGUAGE plpgsql"
            " SECURITY DEFINER SET search_path = public AS $$ BEGIN"
            " INSERT INTO test_merge_seen SELECT NEW.dropped_id,"
            "  count(*) FILTER (WHERE customer_id = NEW.dropped_id::uuid),"
            "  count(*) FILTER (WHERE customer_id = NEW.survivor_id::uuid)"
            "  FROM send WHERE customer_id IN (NEW.dropped_id::uuid, NEW.survivor_id::uuid);"
            " RETURN NULL; END $$")
        s.q("DROP TRIGGER IF EXISTS test_merge_seen ON crm_alias")
        s.q("CREATE TRIGGER test_merge_seen AFTER INSERT ON crm_alias"
            " FOR EACH ROW EXECUTE FUNCTION test_merge_seen()")
        ids = self.people(200)
        pairs = list(zip(ids[0::2], ids[1::2]))
        cid = self.campaign(ids)
        head = s.head()
        self.action("launch", cid)
        for k, d in pairs:
            self.merge(k, d, wait=False)
        self.merged([d for _, d in pairs])
        self.settled(cid, len(pairs))
        seen = {r[0]: r[1:] for r in s.q("SELECT dropped, nd, nk FROM test_merge_seen"
                                         " WHERE dropped = ANY(%s)", [d for _, d in pairs])}
        ev = self.decided(head, cid)
        self.assertEqual({c for c, st in ev if st != SENT}, set())
        deliveries = self.deliveries(cid)
        self.assertEqual(set(self.sends(cid)), {k for k, _ in pairs})
        self.assertEqual(set(deliveries), {k for k, _ in pairs})
        for k, d in pairs:
            n = len([c for c, _ in ev if c in (k, d)])
            self.assertEqual(n, sum(seen[d]) or 1, (k, d, seen[d]))
            self.assertEqual(deliveries[k], n, (k, d))
        s.q("DROP TRIGGER test_merge_seen ON crm_alias")
        # What the merges met (the cases above, in the order the scans
        # and the merges fell this run): neither, the dropped twin only,
        # the survivor only, both decided.
        met = [sum(1 for v in seen.values() if v == c) for c in ((0, 0), (1, 0), (0, 1), (1, 1))]
        print("merges met: %d undecided, %d the dropped twin decided, %d the survivor,"
              " %d both" % tuple(met))


if __name__ == "__main__":
    unittest.main()
