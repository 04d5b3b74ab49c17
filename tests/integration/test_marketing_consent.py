"""The consent ledger and the channel policy (issue 13), through real
processes: the bus, PostgreSQL, crm-marketing under its default policy
(email, SMS and fax opt-in; phone and post opt-out), crmctl, and an SMTP
server (aiosmtpd) on loopback.

- an opt-in channel without a recorded consent suppresses no_consent, and
  results count it by reason; an opt-out channel needs none;
- withdrawing consent stops the next step of a running campaign;
- the history keeps every grant and withdrawal, with source, proof and the
  principal that recorded it, and the ledger refuses to be rewritten;
- bad input (an unknown customer, an unknown purpose or source, a time in
  the future) gets a clear error and writes nothing."""
import json
import os
import time
import unittest
import uuid

from aiosmtpd.controller import Controller

import test_marketing_trust as trust
from crmtest import TEST_PRINCIPAL, free_port, run_crmctl, wait_for
from test_marketing_service import (EMAIL, INVALID, NOT_FOUND, M, MarketingSystem, sales_pb2,
                                    unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

PHONE = M.CHANNEL_PHONE
P_EMAIL = M.CONSENT_PURPOSE_EMAIL_MARKETING
P_PHONE = M.CONSENT_PURPOSE_PHONE_MARKETING
P_PROFILING = M.CONSENT_PURPOSE_PROFILING
FORM = M.CONSENT_SOURCE_FORM
CALL = M.CONSENT_SOURCE_CALL
SENT, SUPPRESSED = M.SEND_STATUS_SENT, M.SEND_STATUS_SUPPRESSED


class ConsentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = trust.Sink()
        port = free_port()
        cls.smtp = Controller(cls.sink, hostname="127.0.0.1", port=port)
        cls.smtp.start()
        # MARKETING_CHANNEL_POLICY None: the service's own default policy.
        cls.s = MarketingSystem(env={"MARKETING_SMTP_URL": "smtp://127.0.0.1:%d" % port,
                                     "MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_MAIL_FROM": "news@shop.example",
                                     "MARKETING_CHANNEL_POLICY": None})
        cls.env = dict(os.environ, CRM_SERVICES="marketing=" + cls.s.sys.endpoints["marketing"])

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.smtp.stop()

    # ---- helpers ----------------------------------------------------------------
    def person(self, name, **kw):
        s = self.s
        addr = "%s@consent.example" % unique(name.lower())
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=[addr], **kw)))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid, addr

    def consent(self, verb, cid, purpose=P_EMAIL, source=FORM, proof="", at_us=0):
        return self.s.call("marketing.consent." + verb, M.RecordConsentRequest(
            customer_id=cid, purpose=purpose, source=source, proof=proof, at_us=at_us),
            M.ConsentReply).entry

    def history(self, cid):
        return self.s.call("marketing.consent.history", M.ConsentHistoryRequest(customer_id=cid),
                           M.ConsentHistoryReply)

    def running(self, *recipients, channels=(EMAIL,), **kw):
        s = self.s
        c = s.campaign(name=unique("Consent"), channels=channels, **kw).campaign
        for ch in channels:
            s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
                campaign_id=c.id, channel=ch, subject="News" if ch == EMAIL else "",
                body="Hello {{name}}")), M.MessageReply)
        if recipients:
            s.call("marketing.campaign.target", M.TargetCampaignRequest(
                campaign_id=c.id, customer_ids=list(recipients)), M.TargetCampaignReply)
        s.call("marketing.campaign.launch", M.CampaignActionRequest(id=c.id), M.CampaignReply)
        return c

    def sends(self, campaign_id):
        return {r[0]: r[1:] for r in self.s.q(
            "SELECT customer_id::text, status, reason_code FROM send WHERE campaign_id = %s",
            campaign_id)}

    def crmctl(self, *args, rc=0):
        return run_crmctl(self, self.env, args, rc, timeout=120)

    # ---- an opt-in channel needs consent --------------------------------------------
    def test_opt_in_channel_without_consent_suppresses_no_consent(self):
        s = self.s
        ann, ann_mail = self.person("Ann")
        ben, ben_mail = self.person("Ben")  # never consented
        cal, cal_mail = self.person("Cal")  # consented, then withdrew
        dee, dee_mail = self.person("Dee")  # consented to SMS only
        self.consent("grant", ann, proof="newsletter box ticked on shop.example/signup")
        self.consent("grant", cal, source=CALL)
        self.consent("withdraw", cal, source=CALL, proof="asked on the phone to stop")
        self.consent("grant", dee, purpose=M.CONSENT_PURPOSE_SMS_MARKETING)
        c = self.running(ann, ben, cal, dee)
        wait_for(lambda: len(self.sends(c.id)) == 4, 20, "four decisions")
        self.assertEqual(self.sends(c.id), {ann: (SENT, ""), ben: (SUPPRESSED, "no_consent"),
                                            cal: (SUPPRESSED, "no_consent"),
                                            dee: (SUPPRESSED, "no_consent")})
        self.assertEqual(s.q("SELECT reason FROM send WHERE campaign_id = %s AND customer_id = %s",
                             c.id, ben), [("no consent for email",)])
        wait_for(lambda: self.sink.to(ann_mail), 20, "Ann's email")
        r = s.results(c.id)
        self.assertEqual((r.sent, r.suppressed, [(x.reason, x.count)
                                                 for x in r.suppressed_by_reason]),
                         (1, 3, [("no_consent", 3)]))
        self.assertEqual(self.sink.to(ben_mail) + self.sink.to(cal_mail) + self.sink.to(dee_mail),
                         [])
        # Phone is opt-out by default: no consent needed, only a number.
        phil, _ = self.person("Phil", phones=["+33612345678"])
        call = self.running(phil, channels=(PHONE,))
        wait_for(lambda: self.sends(call.id), 20, "the call list's decision")
        self.assertEqual(self.sends(call.id), {phil: (SENT, "")})

    # ---- withdrawing consent stops the next step ----------------------------------------
    def test_withdrawing_consent_stops_the_next_step(self):
        s = self.s
        ann, ann_mail = self.person("Ann")
        ben, ben_mail = self.person("Ben")
        for cid in (ann, ben):
            self.consent("grant", cid)
        first = self.running(ann, ben)
        reminder = self.running(channels=(EMAIL,), follows_campaign_id=first.id,
                                follow_delay_seconds=3)
        wait_for(lambda: self.sink.to(ann_mail) and self.sink.to(ben_mail), 20,
                 "the first step's emails")
        self.assertEqual(self.sends(first.id), {ann: (SENT, ""), ben: (SENT, "")})
        self.assertEqual(self.sends(reminder.id), {})  # the delay has not passed yet
        self.consent("withdraw", ben, source=M.CONSENT_SOURCE_RESPONSE,
                     proof="replied STOP to the first email")
        wait_for(lambda: len(self.sends(reminder.id)) == 2, 20, "the reminder's decisions")
        self.assertEqual(self.sends(reminder.id), {ann: (SENT, ""),
                                                   ben: (SUPPRESSED, "no_consent")})
        wait_for(lambda: len(self.sink.to(ann_mail)) == 2, 20, "Ann's reminder")
        self.assertEqual(len(self.sink.to(ben_mail)), 1)
        self.assertEqual([(x.reason, x.count) for x in s.results(reminder.id).suppressed_by_reason],
                         [("no_consent", 1)])

    # ---- the history keeps every change -------------------------------------------------
    def test_history_keeps_every_change(self):
        s = self.s
        ann, _ = self.person("Ann")
        head = s.head()
        at = int(time.time() * 1e6) - 3600 * 10 ** 6
        g = self.consent("grant", ann, proof="form v3, box 2", at_us=at)
        w = self.consent("withdraw", ann, source=CALL, proof="call 2026-12-06, ticket 41")
        p = self.consent("grant", ann, purpose=P_PROFILING, source=M.CONSENT_SOURCE_IMPORT,
                         proof="import batch 7")
        h = self.history(ann)
        self.assertEqual(list(h.entries), [g, w, p])
        self.assertEqual([(e.purpose, e.granted, e.source, e.proof, e.recorded_by)
                          for e in h.entries],
                         [(P_EMAIL, True, FORM, "form v3, box 2", TEST_PRINCIPAL),
                          (P_EMAIL, False, CALL, "call 2026-12-06, ticket 41", TEST_PRINCIPAL),
                          (P_PROFILING, True, M.CONSENT_SOURCE_IMPORT, "import batch 7",
                           TEST_PRINCIPAL)])
        self.assertEqual(g.at_us, at)
        self.assertEqual(list(h.granted), [P_PROFILING])
        # Granted again: a new entry; the earlier ones stay as they were.
        again = self.consent("grant", ann, proof="form v4")
        h2 = self.history(ann)
        self.assertEqual(list(h2.entries), [g, w, p, again])
        self.assertEqual(list(h2.granted), [P_EMAIL, P_PROFILING])
        # Each change is an event carrying its entry, by the principal.
        evs = s.events(head)
        self.assertEqual([(e.type, e.subject, e.actor) for e in evs],
                         [("crm.marketing.consent.granted.v1", ann, TEST_PRINCIPAL),
                          ("crm.marketing.consent.withdrawn.v1", ann, TEST_PRINCIPAL),
                          ("crm.marketing.consent.granted.v1", ann, TEST_PRINCIPAL),
                          ("crm.marketing.consent.granted.v1", ann, TEST_PRINCIPAL)])
        self.assertEqual([evs[0].consent_granted.entry, evs[1].consent_withdrawn.entry,
                          evs[2].consent_granted.entry, evs[3].consent_granted.entry],
                         [g, w, p, again])
        # The ledger cannot be rewritten, even by a statement of the database owner.
        for sql in ("UPDATE consent SET granted = true WHERE customer_id = %s",
                    "DELETE FROM consent WHERE customer_id = %s"):
            with self.assertRaises(Exception) as cm:
                s.q(sql, ann)
            self.assertIn("append-only", str(cm.exception))
        self.assertEqual(list(self.history(ann).entries), [g, w, p, again])

    # ---- an unsubscribe is a withdrawal in the ledger ------------------------------------
    def test_unsubscribe_withdraws_consent(self):
        s = self.s
        ann, ann_mail = self.person("Ann")
        self.consent("grant", ann)
        self.consent("grant", ann, purpose=P_PHONE)
        c = self.running(ann)
        wait_for(lambda: self.sink.to(ann_mail), 20, "Ann's email")
        head = s.head()
        r = s.respond(c.id, M.RESPONSE_TYPE_UNSUBSCRIBED, customer=ann, channel="email")
        h = self.history(ann)
        last = h.entries[-1]
        self.assertEqual((last.purpose, last.granted, last.source, last.recorded_by),
                         (P_EMAIL, False, M.CONSENT_SOURCE_RESPONSE, TEST_PRINCIPAL))
        self.assertEqual(last.proof, "unsubscribed: response %s to campaign %s"
                         % (r.response_id, c.id))
        self.assertEqual(list(h.granted), [P_PHONE])  # only email was unsubscribed
        self.assertEqual([e.type for e in s.events(head)],
                         ["crm.marketing.response.recorded.v1",
                          "crm.marketing.preferences.changed.v1",
                          "crm.marketing.consent.withdrawn.v1"])

    # ---- bad input changes nothing --------------------------------------------------------
    def test_bad_consent_changes_nothing(self):
        s = self.s
        ann, _ = self.person("Ann")
        head = s.head()
        rows = s.q("SELECT count(*) FROM consent")[0][0]
        R = M.RecordConsentRequest
        made_up = str(uuid.uuid4())
        for verb in ("grant", "withdraw"):
            st = s.fails("marketing.consent." + verb, R(customer_id=made_up, purpose=P_EMAIL,
                                                        source=FORM), NOT_FOUND, "customer_id")
            self.assertEqual(st.message, "customer does not exist")
            self.assertIn(made_up, st.detail)
        st = s.fails("marketing.consent.grant", R(customer_id=ann, purpose=42, source=FORM),
                     INVALID, "purpose")
        self.assertIn("42", st.detail)
        s.fails("marketing.consent.grant", R(customer_id=ann, source=FORM), INVALID, "purpose")
        s.fails("marketing.consent.grant", R(customer_id=ann, purpose=P_EMAIL), INVALID,
                "source")
        s.fails("marketing.consent.grant", R(customer_id=ann, purpose=P_EMAIL, source=9),
                INVALID, "source")
        s.fails("marketing.consent.grant", R(customer_id=ann, purpose=P_EMAIL, source=FORM,
                                             at_us=int((time.time() + 86400) * 1e6)),
                INVALID, "at_us")
        s.fails("marketing.consent.grant", R(customer_id="ann", purpose=P_EMAIL, source=FORM),
                INVALID, "customer_id")
        s.fails("marketing.consent.history", M.ConsentHistoryRequest(customer_id=made_up),
                NOT_FOUND, "customer_id")
        self.assertEqual((s.head(), s.q("SELECT count(*) FROM consent")[0][0]), (head, rows))
        self.assertEqual(list(self.history(ann).entries), [])

    # ---- crmctl consent ------------------------------------------------------------------
    def test_crmctl_consent(self):
        ann, _ = self.person("Ann")
        out = self.crmctl("consent", "grant", ann, "--purpose", "email-marketing", "--source",
                          "form", "--proof", "signup form v3").stdout
        self.assertIn("consent granted", out)
        w = json.loads(self.crmctl("consent", "withdraw", ann, "--purpose", "email-marketing",
                                   "--source", "call", "-o", "json").stdout)["entry"]
        self.assertEqual((w["purpose"], w.get("granted", False), w["source"], w["recorded_by"]),
                         ("CONSENT_PURPOSE_EMAIL_MARKETING", False, "CONSENT_SOURCE_CALL",
                          TEST_PRINCIPAL))
        h = json.loads(self.crmctl("consent", "history", ann, "-o", "json").stdout)
        self.assertEqual([(e["proof"] if "proof" in e else "", e.get("granted", False))
                          for e in h["entries"]], [("signup form v3", True), ("", False)])
        self.assertEqual(h.get("granted", []), [])
        table = self.crmctl("consent", "history", ann).stdout
        self.assertIn("signup form v3", table)
        self.assertIn("email-marketing", table)
        # An unknown purpose is a usage error; nothing is sent.
        err = self.crmctl("consent", "grant", ann, "--purpose", "telepathy", "--source", "form",
                          rc=2).stderr
        self.assertIn("profiling", err)
        err = self.crmctl("consent", "grant", str(uuid.uuid4()), "--purpose", "profiling",
                          "--source", "form", rc=1).stderr
        self.assertIn("customer does not exist", err)
        self.assertEqual(len(self.history(ann).entries), 2)
        # preference set takes no consent any more and says where it went.
        self.crmctl("preference", "set", ann, "--consent", "web form", rc=2)


if __name__ == "__main__":
    unittest.main()
