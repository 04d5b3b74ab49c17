"""Marketing: the send scan decides a large campaign in batches
(MARKETING_SEND_BATCH) with the same decisions and reasons as one recipient
at a time. 270 recipients, decided 40 per transaction, under the default
channel policy (email and SMS opt-in) and a frequency cap of 1, in nine
groups mixed through every batch: consent to email (sent by email), none
(no_consent), SMS only (sent by SMS), opted out of both (opted_out), no
email address (no_consent, with the missing address in the reason), a
member of an excluded segment (excluded_segment), outside the contact
window (deferred), a bounced email address (sent by SMS), and one who got a
message from another campaign this week (deferred by the frequency cap).
Every recipient's send row and send.decided event say the same."""
import time
import unittest
import uuid

from crmtest import wait_for
from test_marketing_service import EMAIL, SMS, M, MarketingSystem, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

PHONE = M.CHANNEL_PHONE
SENT, SUPPRESSED, DEFERRED = M.SEND_STATUS_SENT, M.SEND_STATUS_SUPPRESSED, M.SEND_STATUS_DEFERRED
P_EMAIL, P_SMS = M.CONSENT_PURPOSE_EMAIL_MARKETING, M.CONSENT_PURPOSE_SMS_MARKETING
GROUPS = ("email", "none", "sms", "optout", "noaddr", "excluded", "window", "bounced", "capped")
PER_GROUP = 30


class SendBatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # MARKETING_CHANNEL_POLICY None: the service's default (email and
        # SMS opt-in); no SMTP relay: emails stay pending, decided all the same.
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_SEND_BATCH": "40",
                                     "MARKETING_FREQUENCY_CAP": "1",
                                     "MARKETING_CHANNEL_POLICY": None})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def consent(self, cid, purpose):
        self.s.call("marketing.consent.grant", M.RecordConsentRequest(
            customer_id=cid, purpose=purpose, source=M.CONSENT_SOURCE_FORM), M.ConsentReply)

    def campaign(self, channels, recipients):
        s = self.s
        c = s.campaign(name=unique("Batch"), channels=channels, owner="Amy").campaign
        for ch in channels:
            s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
                campaign_id=c.id, channel=ch, subject="News" if ch == EMAIL else "",
                body="Hi {{name}}, from {{owner}}")), M.MessageReply)
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=recipients), M.TargetCampaignReply)
        return c

    def sends(self, campaign_id):
        return {r[0]: r[1:] for r in self.s.q(
            "SELECT customer_id::text, status, channel, reason_code, reason FROM send"
            " WHERE campaign_id = %s", campaign_id)}

    def test_mixed_eligibility_in_batches(self):
        s = self.s
        tag = unique("batch")
        # The window opens two hours from now (UTC) and lasts an hour.
        m = (int(time.time()) // 60) % 1440
        start, end = (m + 120) % 1440, (m + 180) % 1440
        people, group_of = [], {}
        for i in range(PER_GROUP * len(GROUPS)):
            g = GROUPS[i % len(GROUPS)]
            pid = str(uuid.uuid4())
            email = "" if g == "noaddr" else "%s@batch.example" % unique("p%d" % i)
            s.emit("sales", "crm.sales.person.registered.v1", pid,
                   person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                       id=pid, name="P%d" % i, emails=[email] if email else [],
                       phones=["+3361%07d" % i], tags=[tag] if g == "excluded" else [])))
            people.append((pid, g, email))
            group_of[pid] = g
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])",
                             [p for p, _, _ in people])[0][0] == len(people), 60, "the people")
        for pid, g, email in people:
            if g in ("email", "optout", "noaddr", "excluded", "window", "bounced", "capped"):
                self.consent(pid, P_EMAIL)
            if g in ("sms", "bounced"):
                self.consent(pid, P_SMS)
            if g == "optout":
                s.call("marketing.preference.set", M.SetPreferencesRequest(
                    preferences=M.ContactPreferences(customer_id=pid, opted_out=[EMAIL, SMS])),
                    M.PreferencesReply)
            if g == "window":
                s.call("marketing.preference.set", M.SetPreferencesRequest(
                    preferences=M.ContactPreferences(customer_id=pid, window_start_minute=start,
                                                     window_end_minute=end,
                                                     utc_offset_minutes=0)),
                    M.PreferencesReply)
            if g == "bounced":
                s.q("INSERT INTO address_state (address, channel, undeliverable)"
                    " VALUES (%s, 1, true) RETURNING 1", email.lower())
        seg = s.call("marketing.segment.create", M.CreateSegmentRequest(segment=M.Segment(
            name=unique("Excluded"), rules=[M.SegmentRule(kind=M.SEGMENT_RULE_KIND_TAG,
                                                          value=tag)])),
            M.SegmentReply).segment
        # The capped group got a call this week (phone is opt-out: no
        # consent needed), which the cap of 1 counts.
        capped = [p for p, g, _ in people if g == "capped"]
        call = self.campaign((PHONE,), capped)
        s.call("marketing.campaign.launch", M.CampaignActionRequest(id=call.id), M.CampaignReply)
        wait_for(lambda: len(self.sends(call.id)) == len(capped), 30, "the calls")
        self.assertEqual({v[0] for v in self.sends(call.id).values()}, {SENT})

        c = self.campaign((EMAIL, SMS), [p for p, _, _ in people])
        s.call("marketing.campaign.exclude", M.ExcludeSegmentRequest(
            campaign_id=c.id, segment_id=seg.id), M.CampaignReply)
        head = s.head()
        s.call("marketing.campaign.launch", M.CampaignActionRequest(id=c.id), M.CampaignReply)
        wait_for(lambda: len(self.sends(c.id)) == len(people), 60, "every decision")
        window = "outside the contact window %02d:%02d-%02d:%02d" % (
            start // 60, start % 60, end // 60, end % 60)
        want = {
            "email": (SENT, EMAIL, "", "first channel offered, any time"),
            "none": (SUPPRESSED, 0, "no_consent", "no consent for email, no consent for sms"),
            "sms": (SENT, SMS, "", "first channel offered, any time"),
            "optout": (SUPPRESSED, 0, "opted_out", "opted out of email, sms"),
            "noaddr": (SUPPRESSED, 0, "no_consent", "no address for email, no consent for sms"),
            "excluded": (SUPPRESSED, EMAIL, "excluded_segment", "excluded_segment " + seg.id),
            "window": (DEFERRED, EMAIL, "outside_contact_window", window),
            "bounced": (SENT, SMS, "", "first channel offered, any time"),
            "capped": (DEFERRED, EMAIL, "frequency_cap", "frequency cap: 1 messages in 7 days"),
        }
        got = self.sends(c.id)
        for pid, g, _ in people:
            status, channel, code, reason = got[pid]
            w = want[g]
            if g == "window":  # the local time follows the reason
                self.assertEqual((status, channel, code), w[:3], g)
                self.assertTrue(reason.startswith(w[3] + " (local "), reason)
            else:
                self.assertEqual((status, channel, code, reason), w, g)
        # One send.decided per recipient, saying the same.
        decided = {e.subject: e.send_decided for e in s.events(head)
                   if e.type == "crm.marketing.send.decided.v1"}
        self.assertEqual(set(decided), set(group_of))
        for pid, d in decided.items():
            status, channel, code, reason = got[pid]
            self.assertEqual((d.campaign_id, d.status, d.channel, d.reason_code, d.reason),
                             (c.id, status, channel, code, reason), group_of[pid])
            self.assertEqual(d.deferred_until_us > 0, status == DEFERRED, group_of[pid])
        # A delivery per message sent, to the channel's address.
        rows = s.q("SELECT customer_id::text, channel, address, body FROM delivery"
                   " WHERE campaign_id = %s", c.id)
        self.assertEqual(len(rows), sum(1 for v in got.values() if v[0] == SENT))
        emails = {p: e for p, _, e in people}
        for pid, channel, address, body in rows:
            self.assertEqual(channel, got[pid][1])
            if channel == EMAIL:
                self.assertEqual(address, emails[pid])
            self.assertTrue(body.startswith("Hi P") and body.endswith(", from Amy"), body)
        # The deferrals come back due later, not now: nothing left undecided.
        self.assertEqual(s.q("SELECT count(*) FROM send_queue"
                             " WHERE campaign_id = %s", c.id), [(0,)])
        # No foreign key checks each send and delivery against its campaign
        # (sql/0025_send_campaign_kept.sql): a campaign is never deleted nor
        # re-keyed, and the database refuses both.
        for stmt, args in (("DELETE FROM campaign WHERE id = %s", (c.id,)),
                           ("UPDATE campaign SET id = gen_random_uuid() WHERE id = %s", (c.id,)),
                           ("TRUNCATE campaign CASCADE", ())):
            with self.assertRaisesRegex(Exception, "never deleted and keeps its id"):
                s.q(stmt, *args)
        self.assertEqual(s.q("SELECT count(*) FROM send WHERE campaign_id = %s", c.id),
                         [(len(people),)])


if __name__ == "__main__":
    unittest.main()
