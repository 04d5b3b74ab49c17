"""Marketing: sending. A scheduled campaign starts by itself (also after a
restart in between); for every recipient the contact policy is decided at
send time (opted out of the channel: suppressed; preferred channel when
the campaign offers several; outside the contact window: deferred, then
sent) and published as send.decided; emails really reach an SMTP server
on loopback (aiosmtpd) with the personalised text; other channels are
recorded for a gateway. Templates with unknown fields are refused."""
import email
import time
import unittest
import uuid

from aiosmtpd.controller import Controller

from crmtest import free_port, wait_for
from test_marketing_service import (EMAIL, INVALID, NOT_FOUND, PHONE, PRECONDITION, SMS, M, MarketingSystem,
                                    sales_pb2, unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)


class Sink:
    """An SMTP server's message store."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address):
        return [m for f, r, m in self.messages if address in r]


class SendingTest(unittest.TestCase):
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

    def person(self, name):
        s = self.s
        addr = "%s@people.io" % unique(name.lower())
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=[addr], phones=["+33600000000"])))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid, addr

    def prefs(self, cid, **kw):
        self.s.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=cid, **kw)), M.PreferencesReply)

    def message(self, campaign_id, channel, subject, body):
        return self.s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=campaign_id, channel=channel, subject=subject, body=body)),
            M.MessageReply).template

    def schedule(self, campaign_id, in_s):
        start = int((time.time() + in_s) * 1e6)
        self.s.call("marketing.campaign.schedule", M.ScheduleCampaignRequest(
            id=campaign_id, start_at_us=start), M.CampaignReply)

    def sends(self, campaign_id):
        return dict(self.s.q("SELECT customer_id::text, status FROM send WHERE campaign_id = %s",
                             campaign_id))

    def test_policy_delivery_and_deferral(self):
        s = self.s
        ada, ada_mail = self.person("Ada")
        bob, bob_mail = self.person("Bob")
        cat, cat_mail = self.person("Cat")
        dan, dan_mail = self.person("Dan")
        self.prefs(bob, opted_out=[EMAIL])
        self.prefs(cat, opted_out=[EMAIL, SMS])
        # Dan: a two-hour window starting in an hour (UTC), so now is outside.
        m = (int(time.time()) // 60) % 1440
        self.prefs(dan, window_start_minute=(m + 60) % 1440, window_end_minute=(m + 180) % 1440,
                   utc_offset_minutes=0)
        c = s.campaign(name=unique("Spring"), channels=(EMAIL, SMS), owner="Amy",
                       offers=[M.Offer(product_code="SKU-1", discount_percent=15)]).campaign
        # Bad templates: refused at save time, nothing written.
        head = s.head()
        T = lambda **kw: M.SetMessageRequest(template=M.MessageTemplate(  # noqa: E731
            campaign_id=c.id, **kw))
        st = s.fails("marketing.message.set", T(channel=EMAIL, body="Hi {{nmae}}"), INVALID,
                     "template.body")
        self.assertEqual(st.message, "personalisation field is unknown")
        s.fails("marketing.message.set", T(channel=EMAIL, subject="{{name", body="x"), INVALID,
                "template.subject")
        st = s.fails("marketing.message.set", T(channel=PHONE, body="x"), INVALID,
                     "template.channel")
        # The campaign's channels by name, not as the stored array ("{1,2}").
        self.assertEqual(st.detail, "got phone; the campaign uses email, sms")
        # Scheduling without a message is refused.
        s.fails("marketing.campaign.schedule", M.ScheduleCampaignRequest(
            id=c.id, start_at_us=int((time.time() + 60) * 1e6)), PRECONDITION, "id")
        self.assertEqual(s.head(), head)
        self.message(c.id, EMAIL, "{{campaign}} for {{name}}",
                     "Dear {{name}},\n{{offer}} until Sunday.\n-- {{owner}}")
        self.message(c.id, SMS, "", "Hi {{name}}: {{offer}}")
        pv = s.call("marketing.message.preview", M.PreviewMessageRequest(
            campaign_id=c.id, channel=EMAIL, customer_id=ada), M.PreviewMessageReply)
        self.assertEqual((pv.subject, pv.body), ("%s for Ada" % c.name,
                                                 "Dear Ada,\n15% off SKU-1 until Sunday.\n-- Amy"))
        s.fails("marketing.message.preview", M.PreviewMessageRequest(
            campaign_id=c.id, channel=PHONE, customer_id=ada), NOT_FOUND, "channel")
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[ada, bob, cat, dan]), M.TargetCampaignReply)
        head = s.head()
        self.schedule(c.id, 0.5)
        wait_for(lambda: len(self.sends(c.id)) == 4, 20, "four decisions")
        wait_for(lambda: self.sink.to(ada_mail), 20, "Ada's email")
        msg = self.sink.to(ada_mail)[0]
        self.assertEqual(msg["Subject"], "%s for Ada" % c.name)
        self.assertEqual(msg["From"], "news@shop.example")
        # multipart/alternative: the text part first (test_marketing_mail
        # checks every header and both parts).
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        self.assertEqual(msg.get_payload()[0].get_payload(decode=True).decode()
                         .replace("\r\n", "\n"),
                         "Dear Ada,\n15% off SKU-1 until Sunday.\n-- Amy\n")
        # Nobody opted out of email got one; Bob got the SMS instead.
        for addr in (bob_mail, cat_mail, dan_mail):
            self.assertEqual(self.sink.to(addr), [])
        self.assertEqual(self.sends(c.id), {ada: 1, bob: 1, cat: 2, dan: 3})
        # Results count them by the kind of reason.
        r = s.results(c.id)
        self.assertEqual([(x.reason, x.count) for x in r.suppressed_by_reason], [("opted_out", 1)])
        self.assertEqual([(x.reason, x.count) for x in r.deferred_by_reason],
                         [("outside_contact_window", 1)])
        self.assertEqual(s.q("SELECT channel, status, body FROM delivery WHERE customer_id = %s",
                             bob), [(SMS, 3, "Hi Bob: 15% off SKU-1")])
        decided = {e.subject: e.send_decided for e in s.events(head)
                   if e.type == "crm.marketing.send.decided.v1"}
        self.assertEqual(decided[ada].channel, EMAIL)
        self.assertEqual((decided[bob].status, decided[bob].channel), (M.SEND_STATUS_SENT, SMS))
        self.assertEqual((decided[cat].status, decided[cat].reason),
                         (M.SEND_STATUS_SUPPRESSED, "opted out of email, sms"))
        self.assertEqual(decided[dan].status, M.SEND_STATUS_DEFERRED)
        self.assertIn("outside the contact window", decided[dan].reason)
        self.assertEqual((decided[cat].reason_code, decided[dan].reason_code, decided[ada].reason_code),
                         ("opted_out", "outside_contact_window", ""))
        due = decided[dan].deferred_until_us
        self.assertEqual(due % 60000000, 0)
        self.assertTrue(0 < due - time.time() * 1e6 <= 3600e6)
        # The hour passes (moved in the database rather than waited for), and
        # Dan's window opens: widen it to the whole day, then he is sent.
        self.s.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=dan), fields=["window"]),
            M.PreferencesReply)
        s.q("UPDATE send SET due_at = now() WHERE customer_id = %s RETURNING 1", dan)
        wait_for(lambda: self.sink.to(dan_mail), 20, "Dan's email after the deferral")
        self.assertEqual(self.sends(c.id)[dan], 1)
        # Two emails the relay accepted; Bob's SMS was handed to the gateway:
        # sent, delivered once the gateway confirms it.
        wait_for(lambda: s.results(c.id).delivered == 2, 20, "two email deliveries")
        self.assertEqual(s.results(c.id).sent, 3)
        s.call("marketing.delivery.confirm", M.ConfirmDeliveryRequest(
            campaign_id=c.id, customer_id=bob, channel=SMS, outcome=M.DELIVERY_OUTCOME_DELIVERED),
            M.ConfirmDeliveryReply)
        r = s.results(c.id)
        self.assertEqual((r.sent, r.suppressed, r.deferred, r.delivered, r.delivery_failed),
                         (3, 1, 0, 3, 0))
        self.assertEqual(len(r.deferred_by_reason), 0)
        self.assertEqual(s.q("SELECT status FROM campaign WHERE id = %s", c.id)[0][0],
                         M.CAMPAIGN_STATUS_RUNNING)

    def test_opted_out_never_emailed_and_restart(self):
        s = self.s
        eve, eve_mail = self.person("Eve")
        fay, fay_mail = self.person("Fay")
        self.prefs(eve, opted_out=[EMAIL])
        c = s.campaign(name=unique("Restart"), channels=(EMAIL,)).campaign
        self.message(c.id, EMAIL, "News", "Hello {{name}}")
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[eve, fay]), M.TargetCampaignReply)
        # Scheduled, then the service stops before the start and comes back
        # after it: the campaign still fires.
        self.schedule(c.id, 1.5)
        s.proc.stop()
        wait_for(lambda: s.q("SELECT start_at < now() FROM campaign WHERE id = %s", c.id)[0][0],
                 10, "the start time to pass")
        self.assertEqual(self.sends(c.id), {})
        s.proc.start()
        wait_for(lambda: self.sink.to(fay_mail), 20, "Fay's email after the restart")
        self.assertEqual(self.sink.to(fay_mail)[0].get_payload()[0].get_payload(decode=True),
                         b"Hello Fay\r\n")
        wait_for(lambda: len(self.sends(c.id)) == 2, 20, "two decisions")
        self.assertEqual(self.sends(c.id), {eve: 2, fay: 1})
        self.assertEqual(self.sink.to(eve_mail), [])


if __name__ == "__main__":
    unittest.main()
