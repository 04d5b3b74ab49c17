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


if __name__ == "__main__":
    unittest.main()
