"""Marketing you can trust (issue 13): each defect found by trying the
campaign process as a marketer, reproduced through real processes (the
bus, PostgreSQL, crm-marketing and an SMTP server on loopback): a second
`preference set` wiping earlier opt-outs; a response from
someone never targeted enrolling and mailing them; `campaign target`
taking a made-up customer id."""
import email
import time
import unittest
import uuid

from aiosmtpd.controller import Controller

from crmtest import free_port, wait_for
from test_marketing_service import (schedule_soon, EMAIL, INVALID, NOT_FOUND, SMS, M, MarketingSystem, sales_pb2,
                                    unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

R = M


class Sink:
    """An SMTP server's message store."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        """bounce-* mailboxes do not exist (550); soft-* ones are full (452)."""
        to = envelope.rcpt_tos[0]
        if to.startswith("bounce-"):
            return "550 5.1.1 mailbox unavailable"
        if to.startswith("soft-"):
            return "452 4.2.2 mailbox full"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address):
        return [m for f, r, m in self.messages if address in r]


class TrustTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        port = free_port()
        cls.smtp = Controller(cls.sink, hostname="127.0.0.1", port=port)
        cls.smtp.start()
        cls.s = MarketingSystem(env={"MARKETING_SMTP_URL": "smtp://127.0.0.1:%d" % port,
                                     "MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_MAIL_FROM": "news@shop.example",
                                     "MARKETING_SMTP_MAX_ATTEMPTS": "1",
                                     "MARKETING_SOFT_BOUNCES": "2"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.smtp.stop()

    # ---- helpers ------------------------------------------------------------------
    def person(self, name, **kw):
        s = self.s
        addr = "%s@people.io" % unique(name.lower())
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=[addr], **kw)))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid, addr

    def set_prefs(self, cid, fields=(), opted_in=(), **kw):
        return self.s.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=cid, **kw), fields=list(fields),
            opted_in=list(opted_in)), M.PreferencesReply).preferences

    def show(self, cid):
        return self.s.call("marketing.preference.show", M.ShowPreferencesRequest(customer_id=cid),
                           M.PreferencesReply).preferences

    def running(self, *recipients, channels=(EMAIL,)):
        """A campaign with a message per channel, targeted and started."""
        s = self.s
        c = s.campaign(name=unique("Trust"), channels=channels).campaign
        for ch in channels:
            s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
                campaign_id=c.id, channel=ch, subject="News" if ch == EMAIL else "",
                body="Hello {{name}}")), M.MessageReply)
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=list(recipients)), M.TargetCampaignReply)
        schedule_soon(s.call, c.id, 0.3)
        return c

    def sends(self, campaign_id):
        return dict(self.s.q("SELECT customer_id::text, status FROM send WHERE campaign_id = %s",
                             campaign_id))

    # ---- preference set changes only what it is given ------------------------------
    def test_preference_set_again_keeps_opt_outs(self):
        cid = str(uuid.uuid4())
        self.set_prefs(cid, opted_out=[EMAIL])
        # The defect: this second run used to wipe the opt-out (and the
        # consent, which now has a ledger of its own: test_marketing_consent).
        got = self.set_prefs(cid, preferred_channel=SMS)
        self.assertEqual((got.preferred_channel, list(got.opted_out)), (SMS, [EMAIL]))
        got = self.set_prefs(cid, opted_out=[SMS], window_start_minute=540,
                             window_end_minute=1020, utc_offset_minutes=60)
        self.assertEqual((got.preferred_channel, list(got.opted_out), got.window_start_minute,
                          got.utc_offset_minutes),
                         (SMS, [EMAIL, SMS], 540, 60))
        # Named fields are set even to their default ("any time again").
        got = self.set_prefs(cid, fields=["window"])
        self.assertEqual((got.window_start_minute, got.window_end_minute, got.utc_offset_minutes),
                         (0, 0, 60))
        # Removing an opt-out is explicit.
        got = self.set_prefs(cid, opted_in=[EMAIL])
        self.assertEqual(list(got.opted_out), [SMS])
        self.assertEqual(self.show(cid), got)
        # Bad input: named field, nothing written.
        head = self.s.head()
        S = M.SetPreferencesRequest
        P = M.ContactPreferences
        self.s.fails("marketing.preference.set", S(preferences=P(customer_id=cid),
                                                   fields=["windwo"]), INVALID, "fields[0]")
        self.s.fails("marketing.preference.set", S(preferences=P(customer_id=cid),
                                                   opted_in=[99]), INVALID, "opted_in[0]")
        self.s.fails("marketing.preference.set", S(preferences=P(customer_id=cid, opted_out=[SMS]),
                                                   opted_in=[SMS]), INVALID, "opted_in[0]")
        # Consent is not a preference any more: it goes to the ledger.
        self.s.fails("marketing.preference.set", S(preferences=P(
            customer_id=cid, consent=M.ContactConsent(given=True, source="web form"))),
            INVALID, "preferences.consent")
        self.assertEqual(self.s.head(), head)
        self.assertEqual(self.show(cid), got)

    # ---- a response never enrols anyone ----------------------------------------------
    def test_response_from_non_recipient_enrols_nobody(self):
        s = self.s
        ada, ada_mail = self.person("Ada")
        bob, bob_mail = self.person("Bob")
        cal, cal_mail = self.person("Cal")
        c = self.running(ada)
        wait_for(lambda: self.sink.to(ada_mail), 20, "Ada's email")
        head = s.head()
        r = s.respond(c.id, R.RESPONSE_TYPE_INTERESTED, customer=bob, channel="email")
        self.assertTrue(r.response.unsolicited)
        evs = [e for e in s.events(head) if e.type == "crm.marketing.response.recorded.v1"]
        self.assertEqual([(e.subject, e.campaign_response_recorded.unsolicited) for e in evs],
                         [(bob, True)])
        # Ada's own response is solicited.
        self.assertFalse(s.respond(c.id, R.RESPONSE_TYPE_CLICKED, customer=ada).response.unsolicited)
        # Cal, targeted after Bob's response, is mailed by the scan; Bob is
        # not a recipient and never gets anything.
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[cal]), M.TargetCampaignReply)
        wait_for(lambda: self.sink.to(cal_mail), 20, "Cal's email")
        self.assertEqual(self.sink.to(bob_mail), [])
        self.assertNotIn(bob, self.sends(c.id))
        self.assertEqual(s.q("SELECT count(*) FROM campaign_recipient WHERE campaign_id = %s"
                             " AND customer_id = %s", c.id, bob)[0][0], 0)
        res = s.results(c.id)
        self.assertEqual((res.recipients, res.responders, res.unsolicited_responses,
                          [(x.response, x.count) for x in res.responses]),
                         (2, 1, 1, [(R.RESPONSE_TYPE_CLICKED, 1)]))

    # ---- no address on the channel: suppressed, never sent nor delivered -------------
    def test_fax_and_sms_need_an_address(self):
        s = self.s
        ada, _ = self.person("Ada")  # email only
        fay, fay_mail = self.person("Fay", phones=["+33612345678"], fax="+33198765432")
        gus, gus_mail = self.person("Gus", phones=["+4915112345678"])
        c = self.running(ada, fay, gus, channels=(M.CHANNEL_FAX, SMS))
        wait_for(lambda: len(self.sends(c.id)) == 3, 20, "three decisions")
        self.assertEqual(self.sends(c.id), {ada: 2, fay: 1, gus: 1})
        self.assertEqual(sorted(s.q("SELECT customer_id::text, channel, address FROM delivery"
                                    " WHERE campaign_id = %s", c.id)),
                         sorted([(fay, M.CHANNEL_FAX, "+33198765432"),
                                 (gus, SMS, "+4915112345678")]))
        self.assertEqual(s.q("SELECT reason_code, reason FROM send WHERE campaign_id = %s"
                             " AND customer_id = %s", c.id, ada),
                         [("no_address", "no address for fax, no address for sms")])
        r = s.results(c.id)
        # Handed to the gateways: sent, not delivered until confirmed.
        self.assertEqual((r.sent, r.suppressed, r.delivered,
                          [(x.reason, x.count) for x in r.suppressed_by_reason]),
                         (2, 1, 0, [("no_address", 1)]))
        self.assertEqual(self.sink.to(fay_mail) + self.sink.to(gus_mail), [])

    # ---- bounces make an address undeliverable --------------------------------------
    def delivery_states(self, campaign_id):
        return dict(self.s.q("SELECT customer_id::text, status FROM delivery"
                             " WHERE campaign_id = %s", campaign_id))

    def test_hard_and_soft_bounces_stop_the_next_campaign(self):
        s = self.s
        hal, hal_mail = self.person("Bounce")
        sid, sid_mail = self.person("Soft")
        ivy, ivy_mail = self.person("Ivy")
        self.assertEqual([(a.channel, a.address, a.undeliverable)
                          for a in self.show_reply(hal).addresses], [(EMAIL, hal_mail, False)])
        first = self.running(hal, sid, ivy)
        wait_for(lambda: sorted(self.delivery_states(first.id).values()) == [1, 2, 2], 20,
                 "one delivery, one bounce, one give-up")
        hal_state = self.show_reply(hal).addresses[0]
        self.assertEqual((hal_state.undeliverable, hal_state.soft_bounces), (True, 0))
        self.assertIn("550", hal_state.last_error)
        sid_state = self.show_reply(sid).addresses[0]
        self.assertEqual((sid_state.undeliverable, sid_state.soft_bounces), (False, 1))
        # The next campaign: the bounced address is suppressed; the full
        # mailbox fails a second time in a row and becomes undeliverable.
        second = self.running(hal, sid, ivy)
        # The scan may decide the three in separate batches: wait for every
        # decision as well as both deliveries' outcomes.
        wait_for(lambda: len(self.sends(second.id)) == 3
                 and len(self.delivery_states(second.id)) == 2
                 and 0 not in self.delivery_states(second.id).values(), 20, "second campaign")
        self.assertEqual(self.sends(second.id), {hal: 2, sid: 1, ivy: 1})
        self.assertEqual(s.q("SELECT reason_code FROM send WHERE campaign_id = %s"
                             " AND customer_id = %s", second.id, hal), [("address_bounced",)])
        self.assertEqual([(x.reason, x.count) for x in s.results(second.id).suppressed_by_reason],
                         [("address_bounced", 1)])
        sid_state = self.show_reply(sid).addresses[0]
        self.assertEqual((sid_state.undeliverable, sid_state.soft_bounces), (True, 2))
        third = self.running(hal, sid, ivy)
        wait_for(lambda: len(self.sends(third.id)) == 3, 20, "third campaign's decisions")
        self.assertEqual(self.sends(third.id), {hal: 2, sid: 2, ivy: 1})
        wait_for(lambda: len(self.sink.to(ivy_mail)) == 3, 20, "Ivy's three emails")
        self.assertEqual(self.sink.to(hal_mail) + self.sink.to(sid_mail), [])

    def show_reply(self, cid):
        return self.s.call("marketing.preference.show", M.ShowPreferencesRequest(customer_id=cid),
                           M.PreferencesReply)

    # ---- honest attribution: the worked example of docs/architecture.md -------------
    def order(self, pid, total):
        s = self.s
        oid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.order.placed.v1", pid,
               order_placed=sales_pb2.OrderPlaced(order=sales_pb2.Order(
                   id=oid, person_id=pid, total_minor=total, currency="EUR",
                   ordered_at_us=int(time.time() * 1e6),
                   items=[sales_pb2.OrderItem(product_code="SKU-9", quantity=1,
                                              unit_price_minor=total)])))
        wait_for(lambda: s.q("SELECT count(*) FROM purchase WHERE order_id = %s", oid)[0][0], 20,
                 "order %s" % oid)
        return oid

    def test_attribution_worked_example(self):
        s = self.s
        ann, _ = self.person("Ann")
        ben, _ = self.person("Ben")
        cat, _ = self.person("Cat")
        dee, _ = self.person("Dee")
        eve, _ = self.person("Eve")
        self.set_prefs(cat, opted_out=[EMAIL])
        spring = self.running(ann, ben, cat, dee)
        s.expense(spring.id, 50000)
        wait_for(lambda: len(self.sends(spring.id)) == 4, 20, "four decisions")
        self.assertEqual(self.sends(spring.id), {ann: 1, ben: 1, cat: 2, dee: 1})
        # A draft, never launched: Eve is targeted and even responds.
        draft = s.campaign(name=unique("Draft")).campaign
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=draft.id, customer_ids=[eve]), M.TargetCampaignReply)
        s.respond(draft.id, R.RESPONSE_TYPE_INTERESTED, customer=eve)
        # Orders: Ann 869.50 (mailed: Spring's), Cat 919.50 (opted out,
        # never contacted: nobody's), Eve 200.00 (only a draft touched her:
        # nobody's), Ben 300.00, which his converted response names.
        self.order(ann, 86950)
        self.order(cat, 91950)
        self.order(eve, 20000)
        ben_order = self.order(ben, 30000)
        s.respond(spring.id, R.RESPONSE_TYPE_CONVERTED, customer=ben, revenue_minor=30000,
                  currency="EUR", order_id=ben_order)
        # Dee's conversion names no order: its own 50.00 counts.
        s.respond(spring.id, R.RESPONSE_TYPE_CONVERTED, customer=dee, revenue_minor=5000,
                  currency="EUR")
        # (Each order is attributed in the transaction that keeps it.)
        self.assertEqual(dict(s.q("SELECT customer_id::text, campaign_id::text FROM conversion"
                                  " WHERE customer_id = ANY(%s::uuid[])", [ann, ben, cat, eve])),
                         {ann: spring.id, ben: spring.id})
        r = s.results(spring.id)
        # By hand: revenue 869.50 + 300.00 (once) + 50.00 = 1219.50; cost
        # 500.00; ROI (1219.50 - 500) / 500 = 143.90 %. Counting targeted
        # Cat's order and Ben's sale twice gave 2439.00 and 387.80 %.
        self.assertEqual((r.revenue_minor, r.cost_minor, r.roi_bp, r.conversions),
                         (121950, 50000, 14390, 3))
        d = s.results(draft.id)
        self.assertEqual((d.revenue_minor, d.conversions), (0, 0))
        # Bad input changes nothing: an unknown order, another's order, an
        # order on a response that is no conversion.
        head = s.head()
        C = lambda **kw: M.RecordResponseRequest(  # noqa: E731
            response=M.CampaignResponseRecorded(campaign_id=spring.id, customer_id=dee, **kw))
        unknown = str(uuid.uuid4())
        st = s.fails("marketing.response.record", C(response=R.RESPONSE_TYPE_CONVERTED,
                                                   order_id=unknown), NOT_FOUND,
                     "response.order_id")
        self.assertIn(unknown, st.detail)
        s.fails("marketing.response.record", C(response=R.RESPONSE_TYPE_CONVERTED,
                                               order_id=ben_order), INVALID, "response.order_id")
        s.fails("marketing.response.record", C(response=R.RESPONSE_TYPE_OPENED,
                                               order_id=ben_order), INVALID, "response.order_id")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.results(spring.id), r)

    # ---- campaign target takes only known people ----------------------------------------
    def test_target_refuses_unknown_customer(self):
        s = self.s
        ann, _ = self.person("Ann")
        c = s.campaign(name=unique("Known")).campaign
        made_up = str(uuid.uuid4())
        head = s.head()
        st = s.fails("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[ann, made_up]), NOT_FOUND, "customer_ids[1]")
        self.assertEqual(st.message, "customer does not exist")
        self.assertIn(made_up, st.detail)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT count(*) FROM campaign_recipient WHERE campaign_id = %s",
                             c.id)[0][0], 0)
        r = s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[ann]), M.TargetCampaignReply)
        self.assertEqual((r.added, r.recipients), (1, 1))


if __name__ == "__main__":
    unittest.main()
