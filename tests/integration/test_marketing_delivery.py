"""Marketing: sending policy and delivery. Against a real SMTP server on
loopback (aiosmtpd) that accepts some addresses, refuses some for good
(550) and some for a while (451): a transient failure is tried again
with backoff until it passes, or given up after MARKETING_SMTP_MAX_ATTEMPTS;
a permanent one is recorded as a bounce (a BOUNCED response, published).
The frequency cap (at most N messages per customer in D days, across
campaigns) defers the message over it until the oldest leaves the window;
a campaign's throttle limits the messages it sends per minute. A campaign
can follow another as a later step: a reminder reaches who the first step
sent to, after a delay, and only those who did not respond."""
import email
import unittest
import uuid

from aiosmtpd.controller import Controller

from crmtest import free_port, wait_for
from test_marketing_service import (EMAIL, INVALID, NOT_FOUND, SMS, M, MarketingSystem, sales_pb2, unique)
from crm.v1 import marketing_pb2, person_pb2  # noqa: E402  (path set up by crmtest)


class Relay:
    """An SMTP server: "bounce..." addresses are refused (550), "flaky..."
    ones twice with 451, "down..." ones always with 451."""

    def __init__(self):
        self.messages = []
        self.tries = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.tries[address] = self.tries.get(address, 0) + 1
        if address.startswith("bounce"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("down") or (address.startswith("flaky") and
                                           self.tries[address] <= 2):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address):
        return [m for r, m in self.messages if address in r]


class DeliveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.relay = Relay()
        port = free_port()
        cls.smtp = Controller(cls.relay, hostname="127.0.0.1", port=port)
        cls.smtp.start()
        cls.s = MarketingSystem(env={"MARKETING_SMTP_URL": "smtp://127.0.0.1:%d" % port,
                                     "MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_SMTP_RETRY_MS": "200",
                                     "MARKETING_SMTP_MAX_ATTEMPTS": "3",
                                     "MARKETING_FREQUENCY_CAP": "2",
                                     "MARKETING_FREQUENCY_DAYS": "7"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.smtp.stop()

    def people(self, *prefixes):
        s = self.s
        out = []
        for prefix in prefixes:
            pid, addr = str(uuid.uuid4()), "%s@mail.example" % unique(prefix)
            s.emit("sales", "crm.sales.person.registered.v1", pid,
                   person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                       id=pid, name=prefix.title(), emails=[addr])))
            out.append((pid, addr))
        ids = [p for p, _ in out]
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])",
                             ids)[0][0] == len(ids), 20, "people")
        return out

    def launch(self, ids, channel=EMAIL, **kw):
        s = self.s
        c = s.campaign(channels=(channel,), **kw).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=channel, subject="Hello {{name}}",
            body="Dear {{name}}, news.")), M.MessageReply)
        if ids:
            s.call("marketing.campaign.target", M.TargetCampaignRequest(
                campaign_id=c.id, customer_ids=list(ids)), M.TargetCampaignReply)
        s.call("marketing.campaign.launch", M.CampaignActionRequest(id=c.id), M.CampaignReply)
        return c.id

    def deliveries(self, cid):
        return {r[0]: r[1:] for r in self.s.q(
            "SELECT customer_id::text, status, attempts, error FROM delivery"
            " WHERE campaign_id = %s", cid)}

    def sends(self, cid):
        return {r[0]: r[1:] for r in self.s.q(
            "SELECT customer_id::text, status, reason, mkt_us(due_at) FROM send"
            " WHERE campaign_id = %s", cid)}

    def test_retry_backoff_and_bounce(self):
        s = self.s
        (ok, ok_a), (bounce, bounce_a), (flaky, flaky_a), (down, down_a) = self.people(
            "okay", "bounce", "flaky", "down")
        head = s.head()
        cid = self.launch([ok, bounce, flaky, down])

        def settled():
            d = self.deliveries(cid)
            return len(d) == 4 and all(v[0] != 0 for v in d.values())
        wait_for(settled, 30, "every delivery to settle")
        d = self.deliveries(cid)
        self.assertEqual(d[ok][:2], (1, 1))
        self.assertEqual(d[flaky][:2], (1, 3))  # 451, 451, then accepted
        self.assertEqual(d[bounce][:2], (2, 1))
        self.assertIn("550", d[bounce][2])
        self.assertEqual(d[down][:2], (2, 3))
        self.assertTrue(d[down][2].startswith("gave up after 3 attempts"), d[down][2])
        self.assertEqual(self.relay.tries[down_a], 3)
        self.assertEqual(self.relay.tries[bounce_a], 1)
        self.assertEqual(len(self.relay.to(flaky_a)), 1)
        self.assertEqual(self.relay.to(flaky_a)[0]["Subject"], "Hello Flaky")
        # Only the bounce is a response, published like any other.
        bounced = [e.campaign_response_recorded for e in s.events(head)
                   if e.type == "crm.marketing.response.recorded.v1"]
        self.assertEqual([(b.customer_id, b.response, b.channel) for b in bounced],
                         [(bounce, marketing_pb2.RESPONSE_TYPE_BOUNCED, "email")])
        res = s.results(cid)
        self.assertEqual((res.sent, res.delivered, res.delivery_failed, res.responders),
                         (4, 2, 2, 0))
        self.assertEqual([(r.response, r.count) for r in res.responses],
                         [(marketing_pb2.RESPONSE_TYPE_BOUNCED, 1)])

    def test_frequency_cap_and_throttle(self):
        s = self.s
        # Three campaigns to one customer, cap 2 in 7 days: the third is
        # deferred until the first message is 7 days old.
        ((pat, _),) = self.people("pat")
        first = self.launch([pat], channel=SMS)
        wait_for(lambda: self.sends(first), 20, "the first decision")
        second = self.launch([pat], channel=SMS)
        wait_for(lambda: self.sends(second), 20, "the second decision")
        third = self.launch([pat], channel=SMS)
        wait_for(lambda: self.sends(third), 20, "the third decision")
        self.assertEqual(self.sends(first)[pat][0], M.SEND_STATUS_SENT)
        self.assertEqual(self.sends(second)[pat][0], M.SEND_STATUS_SENT)
        status, reason, due = self.sends(third)[pat]
        self.assertEqual((status, reason),
                         (M.SEND_STATUS_DEFERRED, "frequency cap: 2 messages in 7 days"))
        oldest = s.q("SELECT mkt_us(min(created_at)) FROM delivery WHERE customer_id = %s",
                     pat)[0][0]
        self.assertEqual(due, oldest + 7 * 86400 * 10**6)
        self.assertEqual([(x.reason, x.count) for x in s.results(third).deferred_by_reason],
                         [("frequency_cap", 1)])
        # Throttle 2 per minute: of 5 recipients, 2 are decided; campaigns
        # launched after it are decided while its other 3 wait.
        five = [p for p, _ in self.people("t1", "t2", "t3", "t4", "t5")]
        slow = self.launch(five, channel=SMS, throttle_per_minute=2)
        self.assertEqual(s.call("marketing.campaign.show", M.ShowCampaignRequest(id=slow),
                                M.CampaignReply).campaign.throttle_per_minute, 2)
        wait_for(lambda: len(self.sends(slow)) == 2, 20, "two throttled decisions")
        ((quick, _),) = self.people("quick")
        later = self.launch([quick], channel=SMS)
        wait_for(lambda: self.sends(later), 20, "a later campaign's decision")
        self.assertEqual(len(self.sends(slow)), 2)
        self.assertEqual(sorted(self.sends(slow)), sorted(five)[:2])
        self.assertEqual(s.results(slow).sent, 2)
        s.fails("marketing.campaign.create", M.CreateCampaignRequest(campaign=M.Campaign(
            name="x", channels=[SMS], currency="EUR", throttle_per_minute=-1)),
            INVALID, "campaign.throttle_per_minute")

    def test_reminder_step_to_non_responders(self):
        s = self.s
        (ann, _), (ben, _) = self.people("ann", "ben")
        first = self.launch([ann, ben], channel=SMS)
        reminder = self.launch([], channel=SMS, follows_campaign_id=first,
                               follow_delay_seconds=2, only_non_responders=True)
        wait_for(lambda: len(self.sends(first)) == 2, 20, "the first step")
        s.respond(first, marketing_pb2.RESPONSE_TYPE_CLICKED, customer=ann)
        wait_for(lambda: self.sends(reminder), 20, "the reminder")
        self.assertEqual(list(self.sends(reminder)), [ben])
        self.assertEqual([r[0] for r in s.q("SELECT customer_id::text FROM campaign_recipient"
                                            " WHERE campaign_id = %s", reminder)], [ben])
        gap = s.q("SELECT extract(epoch FROM r.decided_at - f.decided_at) FROM send f, send r"
                  " WHERE f.campaign_id = %s AND r.campaign_id = %s AND f.customer_id = %s"
                  " AND r.customer_id = f.customer_id", first, reminder, ben)[0][0]
        self.assertGreaterEqual(gap, 2)
        c = s.call("marketing.campaign.show", M.ShowCampaignRequest(id=reminder),
                   M.CampaignReply).campaign
        self.assertEqual((c.follows_campaign_id, c.follow_delay_seconds, c.only_non_responders),
                         (first, 2, True))
        s.fails("marketing.campaign.create", M.CreateCampaignRequest(campaign=M.Campaign(
            name="x", channels=[SMS], currency="EUR", follows_campaign_id=str(uuid.uuid4()))),
            NOT_FOUND, "campaign.follows_campaign_id")
        s.fails("marketing.campaign.create", M.CreateCampaignRequest(campaign=M.Campaign(
            name="x", channels=[SMS], currency="EUR", follow_delay_seconds=60)),
            INVALID, "campaign.follows_campaign_id")


if __name__ == "__main__":
    unittest.main()
