"""Sales obeys marketing's opt-outs (issue 13): with a real crm-marketing
and crm-sales, a person who opted out of phone contact in marketing cannot
be scheduled for a call in sales (FAILED_PRECONDITION naming the kind,
nothing written) unless the request says why (override_reason), which is
recorded and published with the activity. Logging what already happened,
tasks and other channels stay allowed; opting back in lifts the refusal.
A withdrawn marketing consent refuses like an opt-out."""
import time
import unittest

from crmtest import wait_for
from test_marketing_service import (INVALID, PHONE, PRECONDITION, M, MarketingSystem,
                                    sales_pb2, unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

S = sales_pb2


class ContactPolicyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem(with_sales=True)

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def schedule(self, person_id, kind, reason=""):
        return S.LogActivityRequest(activity=S.Activity(
            kind=kind, subject="Follow up", person_id=person_id,
            due_at_us=int((time.time() + 86400) * 1e6)), override_reason=reason)

    def opt_outs(self, pid):
        rows = self.s.q("SELECT channels FROM contact_opt_out WHERE person_id = %s", pid,
                        db="sales")
        return rows[0][0] if rows else None

    def test_opted_out_channels_are_refused(self):
        s = self.s
        email = "%s@buyers.io" % unique("opal")
        p = s.call("sales.person.register", S.RegisterPersonRequest(person=person_pb2.Person(
            name="Opal", emails=[email])), S.PersonReply, client=s.sc).person
        s.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=p.id, opted_out=[PHONE, M.CHANNEL_MAIL])),
            M.PreferencesReply)
        wait_for(lambda: self.opt_outs(p.id) == [PHONE, M.CHANNEL_MAIL], 20,
                 "sales to learn the opt-outs")
        head = s.head(db="sales")
        n = s.q("SELECT count(*) FROM activity", db="sales")[0][0]
        for kind, channel in ((S.ACTIVITY_KIND_CALL, "phone"), (S.ACTIVITY_KIND_LETTER, "postal")):
            rep = s.raw("sales.activity.schedule", self.schedule(p.id, kind), client=s.sc)
            self.assertEqual((rep.status.code, rep.status.field, rep.status.message),
                             (PRECONDITION, "activity.kind",
                              "person opted out of %s contact" % channel))
            self.assertIn("override_reason", rep.status.hint)
        self.assertEqual((s.head(db="sales"), s.q("SELECT count(*) FROM activity",
                                                    db="sales")[0][0]), (head, n))
        # Other channels, tasks and logging what happened stay allowed.
        for kind in (S.ACTIVITY_KIND_EMAIL, S.ACTIVITY_KIND_TASK):
            s.call("sales.activity.schedule", self.schedule(p.id, kind), S.ActivityReply,
                   client=s.sc)
        s.call("sales.activity.log", S.LogActivityRequest(activity=S.Activity(
            kind=S.ACTIVITY_KIND_CALL, subject="She called us", person_id=p.id)),
            S.ActivityReply, client=s.sc)
        # The explicit override is recorded and published.
        head = s.head(db="sales")
        a = s.call("sales.activity.schedule", self.schedule(
            p.id, S.ACTIVITY_KIND_CALL, " asked us to call back about invoice 42 "),
            S.ActivityReply, client=s.sc).activity
        self.assertEqual(a.override_reason, "asked us to call back about invoice 42")
        evs = s.events(head, type_prefix="crm.sales.activity.", db="sales")
        self.assertEqual([(e.type, e.activity_scheduled.activity.override_reason) for e in evs],
                         [("crm.sales.activity.scheduled.v1",
                           "asked us to call back about invoice 42")])
        # An override on a logged activity is refused.
        rep = s.raw("sales.activity.log", S.LogActivityRequest(activity=S.Activity(
            kind=S.ACTIVITY_KIND_CALL, subject="x", person_id=p.id), override_reason="x"),
            client=s.sc)
        self.assertEqual((rep.status.code, rep.status.field), (INVALID, "override_reason"))
        # Opting back in lifts the refusal.
        s.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=p.id), opted_in=[PHONE]),
            M.PreferencesReply)
        wait_for(lambda: self.opt_outs(p.id) == [M.CHANNEL_MAIL], 20, "the opt-in in sales")
        s.call("sales.activity.schedule", self.schedule(p.id, S.ACTIVITY_KIND_CALL),
               S.ActivityReply, client=s.sc)

    def consent_state(self, pid):
        return self.s.q("SELECT purpose, granted FROM contact_consent WHERE person_id = %s"
                        " ORDER BY purpose", pid, db="sales")

    def test_withdrawn_consent_is_refused(self):
        """A withdrawn marketing consent refuses scheduling on its channel
        like an opt-out; no consent recorded at all does not (a one-to-one
        sales contact is not a campaign: docs/architecture.md)."""
        s = self.s
        email = "%s@buyers.io" % unique("wes")
        p = s.call("sales.person.register", S.RegisterPersonRequest(person=person_pb2.Person(
            name="Wes", emails=[email])), S.PersonReply, client=s.sc).person
        s.call("sales.activity.schedule", self.schedule(p.id, S.ACTIVITY_KIND_EMAIL),
               S.ActivityReply, client=s.sc)
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", p.id)[0][0], 20,
                 "marketing to know Wes")
        for verb in ("grant", "withdraw"):
            s.call("marketing.consent." + verb, M.RecordConsentRequest(
                customer_id=p.id, purpose=M.CONSENT_PURPOSE_EMAIL_MARKETING,
                source=M.CONSENT_SOURCE_FORM), M.ConsentReply)
        wait_for(lambda: self.consent_state(p.id) == [(M.CONSENT_PURPOSE_EMAIL_MARKETING, False)],
                 20, "sales to learn the withdrawal")
        head = s.head(db="sales")
        rep = s.raw("sales.activity.schedule", self.schedule(p.id, S.ACTIVITY_KIND_EMAIL),
                    client=s.sc)
        self.assertEqual((rep.status.code, rep.status.field, rep.status.message),
                         (PRECONDITION, "activity.kind", "person withdrew consent to email contact"))
        self.assertEqual(s.head(db="sales"), head)
        # Calls are another purpose; the override passes and is published.
        s.call("sales.activity.schedule", self.schedule(p.id, S.ACTIVITY_KIND_CALL),
               S.ActivityReply, client=s.sc)
        head = s.head(db="sales")
        a = s.call("sales.activity.schedule", self.schedule(
            p.id, S.ACTIVITY_KIND_EMAIL, "contract renewal notice"), S.ActivityReply,
            client=s.sc).activity
        self.assertEqual(a.override_reason, "contract renewal notice")
        evs = s.events(head, type_prefix="crm.sales.activity.", db="sales")
        self.assertEqual([e.activity_scheduled.activity.override_reason for e in evs],
                         ["contract renewal notice"])
        # Granted again: allowed again.
        s.call("marketing.consent.grant", M.RecordConsentRequest(
            customer_id=p.id, purpose=M.CONSENT_PURPOSE_EMAIL_MARKETING,
            source=M.CONSENT_SOURCE_CALL), M.ConsentReply)
        wait_for(lambda: self.consent_state(p.id) == [(M.CONSENT_PURPOSE_EMAIL_MARKETING, True)],
                 20, "sales to learn the new grant")
        s.call("sales.activity.schedule", self.schedule(p.id, S.ACTIVITY_KIND_EMAIL),
               S.ActivityReply, client=s.sc)

    def test_fax_and_postal_address_reach_marketing(self):
        """Sales keeps a person's fax number beside the postal address and
        carries both to marketing: a fax or post campaign reaches a person
        who has one and suppresses the others no_address (never sent)."""
        s = self.s
        reg = lambda name, **kw: s.call(  # noqa: E731
            "sales.person.register", S.RegisterPersonRequest(person=person_pb2.Person(
                name=name, emails=["%s@buyers.io" % unique(name.lower())], **kw)),
            S.PersonReply, client=s.sc).person
        fay = reg("Fay", fax=" +33 1 98 76 54 32 ", address="3 rue Lepic, 75018 Paris")
        self.assertEqual((fay.fax, fay.address), ("+33198765432", "3 rue Lepic, 75018 Paris"))
        gus = reg("Gus")
        marketing = lambda pid: s.q(  # noqa: E731
            "SELECT fax, address FROM person WHERE id = %s", pid)
        wait_for(lambda: marketing(fay.id) == [("+33198765432", "3 rue Lepic, 75018 Paris")]
                 and marketing(gus.id) == [("", "")], 20, "marketing to learn the addresses")
        # An update changes the fax alone; a bad number changes nothing.
        up = s.call("sales.person.update", S.UpdatePersonRequest(
            id=fay.id, person=person_pb2.Person(fax="+33 1 11 22 33 44"), update_mask=["fax"]),
            S.PersonReply, client=s.sc).person
        self.assertEqual((up.fax, up.address), ("+33111223344", "3 rue Lepic, 75018 Paris"))
        head = s.head(db="sales")
        rep = s.raw("sales.person.update", S.UpdatePersonRequest(
            id=fay.id, person=person_pb2.Person(fax="fax me"), update_mask=["fax"]), client=s.sc)
        self.assertEqual((rep.status.code, rep.status.field), (INVALID, "person.fax"))
        self.assertEqual(s.head(db="sales"), head)
        wait_for(lambda: marketing(fay.id)[0][0] == "+33111223344", 20, "the new fax number")
        for channel in (M.CHANNEL_FAX, M.CHANNEL_MAIL):
            c = s.campaign(name=unique("Paper"), channels=(channel,)).campaign
            s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
                campaign_id=c.id, channel=channel, body="Hello {{name}}")), M.MessageReply)
            s.call("marketing.campaign.target", M.TargetCampaignRequest(
                campaign_id=c.id, customer_ids=[fay.id, gus.id]), M.TargetCampaignReply)
            s.call("marketing.campaign.launch", M.CampaignActionRequest(id=c.id), M.CampaignReply)
            wait_for(lambda: len(s.q("SELECT 1 FROM send WHERE campaign_id = %s", c.id)) == 2,
                     20, "two decisions")
            self.assertEqual(sorted(s.q("SELECT customer_id::text, status, reason_code FROM send"
                                        " WHERE campaign_id = %s", c.id)),
                             sorted([(fay.id, M.SEND_STATUS_SENT, ""),
                                     (gus.id, M.SEND_STATUS_SUPPRESSED, "no_address")]))
            self.assertEqual(s.q("SELECT customer_id::text, address FROM delivery"
                                 " WHERE campaign_id = %s", c.id),
                             [(fay.id, "+33111223344" if channel == M.CHANNEL_FAX
                               else "3 rue Lepic, 75018 Paris")])
            # Fax and post go through an external gateway: sent when handed
            # over, delivered only once the gateway confirms it (issue 13).
            r = s.results(c.id)
            self.assertEqual((r.sent, r.suppressed, r.delivered), (1, 1, 0))
            s.call("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
                campaign_id=c.id, customer_id=fay.id, channel=channel,
                outcome=M.DELIVERY_OUTCOME_DELIVERED), M.ConfirmDeliveryReply)
            r = s.results(c.id)
            self.assertEqual((r.sent, r.suppressed, r.delivered), (1, 1, 1))


if __name__ == "__main__":
    unittest.main()
