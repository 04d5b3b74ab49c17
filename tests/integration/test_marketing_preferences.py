"""Marketing: contact preferences and consent (set, show, published as
preferences.changed), responses (published as response.recorded with the
customer id as subject; an unsubscribe opts out at once), the identity
rule for people first met here, and people from sales upserted by id."""
import unittest
import uuid

from test_marketing_service import (EMAIL, INVALID, NOT_FOUND, PHONE, SMS, M, MarketingSystem,
                                    customer_id, sales_pb2, unique)
from crm.v1 import marketing_pb2, person_pb2  # noqa: E402  (path set up by crmtest)

R = marketing_pb2


class PreferencesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def show(self, cid):
        return self.s.call("marketing.preference.show", M.ShowPreferencesRequest(customer_id=cid),
                           M.PreferencesReply).preferences

    def test_set_and_show(self):
        s = self.s
        cid = str(uuid.uuid4())
        self.assertEqual((self.show(cid).customer_id, list(self.show(cid).opted_out),
                          self.show(cid).updated_at_us), (cid, [], 0))
        head = s.head()
        p = M.ContactPreferences(customer_id=cid, preferred_channel=SMS, window_start_minute=540,
                                 window_end_minute=1020, time_zone="Europe/Paris",
                                 opted_out=[PHONE, PHONE])
        got = s.call("marketing.preference.set", M.SetPreferencesRequest(preferences=p),
                     M.PreferencesReply).preferences
        self.assertEqual((got.preferred_channel, got.window_start_minute, got.window_end_minute,
                          got.time_zone, list(got.opted_out)),
                         (SMS, 540, 1020, "Europe/Paris", [PHONE]))
        self.assertEqual(self.show(cid), got)
        evs = s.events(head)
        self.assertEqual([(e.type, e.subject) for e in evs],
                         [("crm.marketing.preferences.changed.v1", cid)])
        self.assertEqual(evs[0].preferences_changed.preferences, got)
        self.assertEqual(evs[0].preferences_changed.cause, "command")
        # Bad input: named field, nothing written.
        head = s.head()
        S = lambda **kw: M.SetPreferencesRequest(preferences=M.ContactPreferences(  # noqa: E731
            customer_id=cid, **kw))
        st = s.fails("marketing.preference.set", S(time_zone="Mars/Olympus_Mons"), INVALID,
                     "preferences.time_zone")
        self.assertEqual(st.message, "time zone is unknown")
        s.fails("marketing.preference.set", S(window_start_minute=1440), INVALID,
                "preferences.window_start_minute")
        s.fails("marketing.preference.set", S(opted_out=[99]), INVALID,
                "preferences.opted_out[0]")
        s.fails("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id="x")), INVALID,
            "preferences.customer_id")
        self.assertEqual(s.head(), head)
        self.assertEqual(self.show(cid), got)

    def test_unsubscribe_opts_out_at_once(self):
        s = self.s
        c = s.campaign(channels=(EMAIL, SMS)).campaign
        email = "%s@Example.io" % unique("Una")
        cid = customer_id(email)
        head = s.head()
        r = s.respond(c.id, R.RESPONSE_TYPE_UNSUBSCRIBED, email=email, name="Una",
                      channel="email")
        self.assertTrue(r.person_registered)
        self.assertEqual((r.response.customer_id, r.response.email), (cid, email.lower()))
        self.assertEqual(list(self.show(cid).opted_out), [EMAIL])
        evs = s.events(head)
        self.assertEqual([(e.type, e.subject) for e in evs],
                         [("crm.marketing.person.registered.v1", cid),
                          ("crm.marketing.response.recorded.v1", cid),
                          ("crm.marketing.preferences.changed.v1", cid),
                          ("crm.marketing.consent.withdrawn.v1", cid)])
        p = evs[0].person_registered.person
        self.assertEqual((p.id, p.name, list(p.emails), p.registered_by),
                         (cid, "Una", [email.lower()], "marketing"))
        rr = evs[1].campaign_response_recorded
        self.assertEqual((rr.campaign_id, rr.customer_id, rr.response, rr.channel),
                         (c.id, cid, R.RESPONSE_TYPE_UNSUBSCRIBED, "email"))
        self.assertEqual(evs[2].preferences_changed.cause, "response")
        self.assertEqual(list(evs[2].preferences_changed.preferences.opted_out), [EMAIL])
        # The consent ledger records the unsubscribe as a withdrawal.
        k = evs[3].consent_withdrawn.entry
        self.assertEqual((k.purpose, k.granted, k.source),
                         (M.CONSENT_PURPOSE_EMAIL_MARKETING, False, M.CONSENT_SOURCE_RESPONSE))
        # Again: the person is known and nothing changes in the preferences.
        head = s.head()
        r = s.respond(c.id, R.RESPONSE_TYPE_UNSUBSCRIBED, email=email, channel="email")
        self.assertFalse(r.person_registered)
        self.assertEqual([e.type for e in s.events(head)], ["crm.marketing.response.recorded.v1"])
        # Without a channel: every channel of the campaign.
        head = s.head()
        s.respond(c.id, R.RESPONSE_TYPE_UNSUBSCRIBED, customer=cid)
        self.assertEqual(list(self.show(cid).opted_out), [EMAIL, SMS])
        evs = s.events(head)
        self.assertEqual([e.type for e in evs],
                         ["crm.marketing.response.recorded.v1",
                          "crm.marketing.preferences.changed.v1",
                          "crm.marketing.consent.withdrawn.v1"])
        self.assertEqual(evs[2].consent_withdrawn.entry.purpose, M.CONSENT_PURPOSE_SMS_MARKETING)

    def test_people_from_sales_by_id(self):
        s = self.s
        email = "%s@sales.io" % unique("sam")
        pid = str(uuid.uuid4())  # a random id: sales met Sam without an email first
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name="Sam", emails=[email])))
        s.wait_applied("marketing.people", "sales")
        self.assertEqual(s.q("SELECT name, email, registered_by FROM person WHERE id = %s", pid),
                         [("Sam", email, "sales")])
        c = s.campaign().campaign
        head = s.head()
        r = s.respond(c.id, R.RESPONSE_TYPE_OPENED, email=email.upper())
        self.assertEqual((r.response.customer_id, r.person_registered), (pid, False))
        self.assertEqual([e.type for e in s.events(head)], ["crm.marketing.response.recorded.v1"])
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)

    def test_bad_responses_write_nothing(self):
        s = self.s
        c = s.campaign().campaign
        head = s.head()
        n = s.q("SELECT count(*) FROM response")[0][0]
        Q = lambda **kw: M.RecordResponseRequest(  # noqa: E731
            response=R.CampaignResponseRecorded(**kw))
        ok = dict(campaign_id=c.id, response=R.RESPONSE_TYPE_OPENED, email="a@b.io")
        s.fails("marketing.response.record", Q(**dict(ok, campaign_id=str(uuid.uuid4()))),
                NOT_FOUND, "response.campaign_id")
        s.fails("marketing.response.record", Q(**dict(ok, response=0)), INVALID,
                "response.response")
        s.fails("marketing.response.record", Q(**dict(ok, email="not-an-email")), INVALID,
                "response.email")
        s.fails("marketing.response.record", Q(**dict(ok, email="")), INVALID,
                "response.customer_id")
        s.fails("marketing.response.record", Q(**dict(ok, revenue_minor=100)), INVALID,
                "response.revenue_minor")
        s.fails("marketing.response.record", Q(**dict(ok, channel="pigeon")), INVALID,
                "response.channel")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT count(*) FROM response")[0][0], n)


if __name__ == "__main__":
    unittest.main()
