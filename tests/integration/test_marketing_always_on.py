"""Marketing: always-on campaigns. `campaign target --segment ID --always-on`
makes a campaign enrol whoever enters that segment later, in the transaction
that changed the membership, while it runs: once (leaving and re-entering
adds nothing), published as campaign.targeted, then decided by the normal
send scan under the same contact policy (an opted-out person is suppressed
with the usual reason, never mailed). A draft or paused campaign enrols
nobody, and people who entered while it was paused are not enrolled on
resume (`campaign target --segment` again reaches them). Mail really goes to
an SMTP server on loopback (aiosmtpd)."""
import unittest
import uuid

from aiosmtpd.controller import Controller

from crmtest import free_port, wait_for
from test_marketing_service import EMAIL, INVALID, NOT_FOUND, M, MarketingSystem, sales_pb2, unique
from test_marketing_sending import Sink
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)


class AlwaysOnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        port = free_port()
        cls.smtp = Controller(cls.sink, hostname="127.0.0.1", port=port)
        cls.smtp.start()
        cls.s = MarketingSystem(env={"MARKETING_SMTP_URL": "smtp://127.0.0.1:%d" % port,
                                     "MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_MAIL_FROM": "news@shop.example"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.smtp.stop()

    def person(self, name, tags=()):
        s = self.s
        pid = str(uuid.uuid4())
        addr = "%s@always.io" % unique(name.lower())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=[addr], tags=list(tags))))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid, addr

    def retag(self, pid, name, addr, tags):
        self.s.emit("sales", "crm.sales.person.updated.v1", pid,
                    person_updated=sales_pb2.PersonUpdated(person=person_pb2.Person(
                        id=pid, name=name, emails=[addr], tags=list(tags))))

    def member(self, seg, pid):
        return self.s.q("SELECT count(*) FROM segment_member WHERE segment_id = %s"
                        " AND customer_id = %s", seg, pid)[0][0] == 1

    def wait_member(self, seg, pid, member=True):
        wait_for(lambda: self.member(seg, pid) == member, 20, "membership of %s" % pid)

    def recipients(self, cid):
        return sorted(r for (r,) in self.s.q(
            "SELECT customer_id::text FROM campaign_recipient WHERE campaign_id = %s", cid))

    def sends(self, cid):
        return dict(((c, (st, code)) for c, st, code in self.s.q(
            "SELECT customer_id::text, status, reason_code FROM send WHERE campaign_id = %s",
            cid)))

    def action(self, verb, cid):
        return self.s.call("marketing.campaign.%s" % verb, M.CampaignActionRequest(id=cid),
                           M.CampaignReply).campaign

    def target(self, cid, seg, always_on=True):
        return self.s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=cid, segment_id=seg, always_on=always_on), M.TargetCampaignReply)

    def test_always_on_enrolment(self):
        s = self.s
        tag = unique("newcomer")
        seg = s.call("marketing.segment.create", M.CreateSegmentRequest(segment=M.Segment(
            name=unique("newcomers"), rules=[M.SegmentRule(kind=M.SEGMENT_RULE_KIND_TAG,
                                                           value=tag)])), M.SegmentReply).segment
        c = s.campaign(name=unique("Welcome"), channels=(EMAIL,)).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=EMAIL, subject="Welcome", body="Hello {{name}}")),
            M.MessageReply)

        # Bad input: an unknown segment, or always-on without one; nothing
        # is written.
        head = s.head()
        s.fails("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, segment_id=str(uuid.uuid4()), always_on=True), NOT_FOUND,
            "segment_id")
        st = s.fails("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[str(uuid.uuid4())], always_on=True), INVALID,
            "always_on")
        self.assertEqual(st.message, "always-on needs a segment")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT always_on_segment_id FROM campaign WHERE id = %s", c.id),
                         [(None,)])

        # The segment has no member yet: nobody added, but the campaign is
        # always-on from now on.
        r = self.target(c.id, seg.id)
        self.assertEqual((r.added, r.recipients), (0, 0))
        shown = s.call("marketing.campaign.show", M.ShowCampaignRequest(id=c.id),
                       M.CampaignReply).campaign
        self.assertEqual(shown.always_on_segment_id, seg.id)

        # A draft enrols nobody.
        ann, ann_mail = self.person("Ann", [tag])
        self.wait_member(seg.id, ann)
        self.assertEqual(self.recipients(c.id), [])

        self.action("launch", c.id)
        # Running: Bob enters and is enrolled in that transaction, announced,
        # then mailed once.
        head = s.head()
        bob, bob_mail = self.person("Bob", [tag])
        self.wait_member(seg.id, bob)
        self.assertEqual(self.recipients(c.id), [bob])
        targeted = [e.campaign_targeted for e in s.events(head)
                    if e.type == "crm.marketing.campaign.targeted.v1"]
        self.assertEqual([(t.campaign_id, list(t.customer_ids)) for t in targeted],
                         [(c.id, [bob])])
        wait_for(lambda: self.sink.to(bob_mail), 20, "Bob's email")
        self.assertEqual(self.sink.to(bob_mail)[0]["Subject"], "Welcome")

        # Cat opted out of email, then enters: enrolled, suppressed with the
        # policy's reason, never mailed.
        cat, cat_mail = self.person("Cat")
        s.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=cat, opted_out=[EMAIL])),
            M.PreferencesReply)
        self.retag(cat, "Cat", cat_mail, [tag])
        self.wait_member(seg.id, cat)
        self.assertEqual(self.recipients(c.id), sorted([bob, cat]))
        wait_for(lambda: cat in self.sends(c.id), 20, "Cat's decision")
        self.assertEqual(self.sends(c.id)[cat], (M.SEND_STATUS_SUPPRESSED, "opted_out"))

        # Bob leaves and comes back: still one recipient row, one decision.
        self.retag(bob, "Bob", bob_mail, [])
        self.wait_member(seg.id, bob, False)
        self.retag(bob, "Bob", bob_mail, [tag])
        self.wait_member(seg.id, bob)
        self.assertEqual(self.recipients(c.id), sorted([bob, cat]))

        # Paused: Eve enters and is not enrolled, also not on resume; Fay,
        # who enters after the resume, is. Fay's mail also shows the scan
        # ran after Bob's return: he got no second mail.
        self.action("pause", c.id)
        eve, eve_mail = self.person("Eve", [tag])
        self.wait_member(seg.id, eve)
        self.assertEqual(self.recipients(c.id), sorted([bob, cat]))
        self.action("resume", c.id)
        self.assertEqual(self.recipients(c.id), sorted([bob, cat]))
        fay, fay_mail = self.person("Fay", [tag])
        self.wait_member(seg.id, fay)
        self.assertEqual(self.recipients(c.id), sorted([bob, cat, fay]))
        wait_for(lambda: self.sink.to(fay_mail), 20, "Fay's email")
        self.assertEqual(len(self.sink.to(bob_mail)), 1)
        self.assertEqual(self.sink.to(cat_mail), [])
        self.assertEqual(self.sends(c.id)[bob], (M.SEND_STATUS_SENT, ""))

        # Targeting the segment again reaches those who entered while it
        # could not enrol (Ann in draft, Eve while paused), and keeps it
        # always-on.
        r = self.target(c.id, seg.id, always_on=False)
        self.assertEqual((r.added, r.recipients), (2, 5))
        wait_for(lambda: self.sink.to(eve_mail) and self.sink.to(ann_mail), 20,
                 "Ann's and Eve's email")
        self.assertEqual(s.q("SELECT always_on_segment_id::text FROM campaign WHERE id = %s",
                             c.id), [(seg.id,)])

        # A completed campaign enrols nobody.
        self.action("complete", c.id)
        gus, _ = self.person("Gus", [tag])
        self.wait_member(seg.id, gus)
        self.assertNotIn(gus, self.recipients(c.id))


if __name__ == "__main__":
    unittest.main()
