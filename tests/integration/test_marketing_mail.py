"""Campaign mail that arrives (issue 13) and its tracking links (issue 16),
through real processes: the bus, PostgreSQL, crm-marketing and an SMTP
server on loopback (aiosmtpd). Every mail the server receives is read with
Python's standard `email` parser and every header of it is checked; the
tracking link, the open pixel and the one-click unsubscribe are taken from
a received mail and followed through the native client with the key of a
gateway principal, as crm-api will (GET /t/c/{token} and so on)."""
import email
import email.policy
import email.utils
import os
import re
import tempfile
import time
import unittest
import uuid

from aiosmtpd.controller import Controller

from crmtest import free_port, testing_pb2, wait_for
from test_marketing_service import (schedule_soon, EMAIL, INVALID, PRECONDITION, M, MarketingSystem, rpc_pb2,
                                    sales_pb2, unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

BASE = "https://crm.shop.example"
FROM = "news@shop.example"
FROM_NAME = "Boutique Été, Paris"  # non-ASCII and a comma: RFC 2047 and quoting
LINK = "https://shop.example/spring?ref=mail&size=42"
DENIED = rpc_pb2.STATUS_CODE_PERMISSION_DENIED
# The headers a campaign mail has, and no other (Python's parser names).
HEADERS = {"Date", "From", "To", "Subject", "Message-Id", "MIME-Version", "Content-Type",
           "List-Unsubscribe", "List-Unsubscribe-Post"}


class Sink:
    """An SMTP server's message store: the raw bytes, as received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def to(self, address):
        return [c for f, r, c in self.messages if address in r]


class MailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        port = free_port()
        cls.smtp = Controller(cls.sink, hostname="127.0.0.1", port=port)
        cls.smtp.start()
        cls.tmp = tempfile.TemporaryDirectory()
        key = os.path.join(cls.tmp.name, "track.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(key, 0o600)
        cls.s = MarketingSystem(env={"MARKETING_SMTP_URL": "smtp://127.0.0.1:%d" % port,
                                     "MARKETING_SEND_SCAN_MS": "100",
                                     "MARKETING_MAIL_FROM": FROM,
                                     "MARKETING_MAIL_FROM_NAME": FROM_NAME,
                                     "MARKETING_TRACK_KEY_FILE": key,
                                     "CRM_TRACK_BASE_URL": BASE,
                                     "MARKETING_TRACK_DAYS": "30",
                                     "CRM_TEST_CLOCK": "0"})
        # The HTTP gateway's principal: kind gateway, built-in role gateway.
        sys = cls.s.sys
        sys.keys.key("crm-api", "gateway", roles="gateway")
        sys.keys.key("mia", "staff", roles="marketer")
        sys.keys.write()
        cls.gw = sys.client("marketing", "crm-api")
        cls.mia = sys.client("marketing", "mia")

    @classmethod
    def tearDownClass(cls):
        cls.gw.close()
        cls.mia.close()
        cls.s.close()
        cls.smtp.stop()
        cls.tmp.cleanup()

    # ---- helpers ------------------------------------------------------------------
    def person(self, name):
        s = self.s
        addr = "%s@people.io" % unique("p")
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=[addr])))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid, addr

    def mail_campaign(self, subject, body, *recipients):
        s = self.s
        c = s.campaign(name=unique("Mail")).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=EMAIL, subject=subject, body=body)), M.MessageReply)
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=list(recipients)), M.TargetCampaignReply)
        schedule_soon(s.call, c.id, 0.2)
        return c

    def received(self, address, n=1):
        wait_for(lambda: len(self.sink.to(address)) >= n, 20, "mail to %s" % address)
        raw = self.sink.to(address)[n - 1]
        return raw, email.message_from_bytes(raw, policy=email.policy.default)

    def check_mail(self, raw, m, campaign_id, customer, address, subject, text, name=None):
        """Every header and both parts of one received campaign mail."""
        s = self.s
        self.assertEqual(set(m.keys()), HEADERS)
        self.assertEqual(len(m.keys()), len(HEADERS))  # each once
        # The List-Unsubscribe URLs as written: no encoded words (RFC 2369).
        head = raw.split(b"\r\n\r\n")[0]
        self.assertNotIn(b"=?", re.search(rb"^List-Unsubscribe:(.*(?:\r\n[ \t].*)*)", head,
                                          re.M).group(1))
        # Message-ID: <delivery id@sender's domain>, recorded with the delivery.
        # (Recorded with the outcome, which commits after the relay took the mail.)
        q = ("SELECT id::text, message_id FROM delivery WHERE campaign_id = %s"
             " AND customer_id = %s AND message_id IS NOT NULL")
        wait_for(lambda: s.q(q, campaign_id, customer), 20, "the delivery's outcome")
        (delivery, mid), = s.q(q, campaign_id, customer)
        self.assertEqual(m["Message-Id"], "<%s@shop.example>" % delivery)
        self.assertEqual(mid, "%s@shop.example" % delivery)
        self.assertLess(abs(email.utils.parsedate_to_datetime(m["Date"]).timestamp()
                            - time.time()), 120)
        self.assertEqual(m["From"].addresses[0].addr_spec, FROM)
        self.assertEqual(m["From"].addresses[0].display_name, FROM_NAME)
        self.assertEqual(m["To"].addresses[0].addr_spec, address)
        if name is not None:
            self.assertEqual(m["To"].addresses[0].display_name, name)
        for h in (b"From", b"To"):  # display names: ASCII on the wire
            re.search(rb"^" + h + rb":(.*(?:\r\n[ \t].*)*)", raw, re.M).group(1).decode("ascii")
        self.assertEqual(m["MIME-Version"], "1.0")
        # RFC 2047: the raw header is ASCII encoded words; decoded it is the text.
        raw_subject = re.search(rb"^Subject:(.*(?:\r\n[ \t].*)*)", raw, re.M).group(1)
        raw_subject.decode("ascii")
        if subject.isascii():
            self.assertNotIn(b"=?", raw_subject)
        else:
            self.assertIn(b"=?utf-8?", raw_subject.lower())
        self.assertEqual(str(m["Subject"]), subject)
        # List-Unsubscribe: the one-click https URL and the mailto (RFC 2369, 8058).
        urls = re.findall(r"<([^>]*)>", str(m["List-Unsubscribe"]))
        self.assertEqual(len(urls), 2)
        self.assertTrue(urls[0].startswith(BASE + "/t/u/"), urls[0])
        self.assertEqual(urls[1], "mailto:%s?subject=unsubscribe" % FROM)
        self.assertEqual(m["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        # multipart/alternative: text/plain then text/html, UTF-8, QP or base64.
        self.assertEqual(m.get_content_type(), "multipart/alternative")
        parts = list(m.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts], ["text/plain", "text/html"])
        for p in parts:
            self.assertIn(p.get_content_charset(), ("utf-8", "us-ascii"))
            self.assertIn(p["Content-Transfer-Encoding"], ("quoted-printable", "base64", "7bit"))
            if not p.get_content().isascii():
                self.assertIn(p["Content-Transfer-Encoding"], ("quoted-printable", "base64"))
        raw.decode("ascii")  # 7-bit clean: no relay needs 8BITMIME
        self.assertEqual(parts[0].get_content().replace("\r\n", "\n").rstrip("\n"), text)
        html = parts[1].get_content()
        return urls[0], html

    def tokens(self, html):
        clicks = re.findall(r'<a href="%s/t/c/([A-Za-z0-9_-]+)">([^<]*)</a>' % re.escape(BASE),
                            html)
        pixel = re.findall(r'<img src="%s/t/o/([A-Za-z0-9_-]+)"' % re.escape(BASE), html)
        return clicks, pixel

    def track(self, command, token, client=None):
        return self.s.call(command, M.TrackRequest(token=token), M.TrackReply,
                           client=client or self.gw)

    def responses(self, campaign_id, customer):
        return sorted(r for (r,) in self.s.q(
            "SELECT response FROM response WHERE campaign_id = %s AND customer_id = %s",
            campaign_id, customer))

    # ---- the mail ---------------------------------------------------------------------
    def test_headers_persian_and_japanese_subjects(self):
        cases = [("داریا", "سلام {{name}}، حراج بهاره", "سلام داریا، حراج بهاره",
                  "Hello {{name}}: 30%% off, see %s\nبا سپاس" % LINK),
                 ("陽翔", "{{name}}様 春のセール 30%オフ", "陽翔様 春のセール 30%オフ",
                  "こんにちは {{name}}さん\n%s & more <b>" % LINK),
                 ("Ann", "Spring sale", "Spring sale", "Plain ASCII for {{name}}")]
        for name, subject, rendered, body in cases:
            with self.subTest(name=name):
                pid, addr = self.person(name)
                c = self.mail_campaign(subject, body, pid)
                raw, m = self.received(addr)
                text = body.replace("{{name}}", name)
                _, html = self.check_mail(raw, m, c.id, pid, addr, rendered, text, name)
                clicks, pixel = self.tokens(html)
                self.assertEqual(len(pixel), 1)
                if LINK in body:
                    # The link goes through the click URL; its text is the link, escaped.
                    self.assertEqual([t for _, t in clicks], [LINK.replace("&", "&amp;")])
                    self.assertNotIn('href="%s' % LINK, html)
                self.assertNotIn("<b>", html)  # the text's markup is escaped
                self.assertEqual(self.sink.messages[-1][0], FROM)

    def test_no_header_injection_through_a_name(self):
        pid, addr = self.person("Eve\r\nBcc: victim@evil.example")
        c = self.mail_campaign("Hi {{name}}\r\nX-Evil: 1", "Hello {{name}}", pid)
        raw, m = self.received(addr)
        self.assertEqual(set(m.keys()), HEADERS)
        self.assertNotIn("Bcc", m)
        head = raw.split(b"\r\n\r\n")[0]
        self.assertNotIn(b"\r\nBcc:", head)
        self.assertNotIn(b"\r\nX-Evil:", head)
        self.assertEqual(str(m["Subject"]), "Hi Eve  Bcc: victim@evil.example  X-Evil: 1")
        self.assertEqual(m["To"].addresses[0].display_name, "Eve  Bcc: victim@evil.example")
        self.assertEqual(m["To"].addresses[0].addr_spec, addr)
        self.assertEqual(self.sink.messages[-1][1], [addr])
        wait_for(lambda: self.s.q("SELECT status FROM delivery WHERE campaign_id = %s", c.id)
                 == [(1,)], 20, "the delivery recorded as delivered")

    # ---- tracking -----------------------------------------------------------------------
    def test_tracking_links_record_once_and_unsubscribe_opts_out(self):
        s = self.s
        pid, addr = self.person("Tara")
        c = self.mail_campaign("News for {{name}}", "Our offer: %s" % LINK, pid)
        raw, m = self.received(addr)
        unsub_url, html = self.check_mail(raw, m, c.id, pid, addr, "News for Tara",
                                          "Our offer: %s" % LINK)
        (click, _), = self.tokens(html)[0]
        pixel, = self.tokens(html)[1]
        unsub = unsub_url[len(BASE + "/t/u/"):]
        # The open pixel: recorded the first time only.
        self.assertEqual(self.track("marketing.track.open", pixel).recorded, True)
        self.assertEqual(self.track("marketing.track.open", pixel).recorded, False)
        # The click: the redirect is the link as written, recorded once.
        r = self.track("marketing.track.click", click)
        self.assertEqual((r.redirect_url, r.recorded), (LINK, True))
        r = self.track("marketing.track.click", click)
        self.assertEqual((r.redirect_url, r.recorded), (LINK, False))
        self.assertEqual(self.responses(c.id, pid),
                         [M.RESPONSE_TYPE_OPENED, M.RESPONSE_TYPE_CLICKED])
        # One-click unsubscribe: an opt-out of email, by the preference path.
        head = s.head()
        self.assertEqual(self.track("marketing.track.unsubscribe", unsub).recorded, True)
        prefs = s.call("marketing.preference.show", M.ShowPreferencesRequest(customer_id=pid),
                       M.PreferencesReply).preferences
        self.assertEqual(list(prefs.opted_out), [EMAIL])
        types = [e.type for e in s.events(after=head)]
        self.assertIn("crm.marketing.response.recorded.v1", types)
        self.assertIn("crm.marketing.preferences.changed.v1", types)
        head = s.head()
        self.assertEqual(self.track("marketing.track.unsubscribe", unsub).recorded, False)
        self.assertEqual(s.head(), head)
        self.assertEqual(self.responses(c.id, pid), [M.RESPONSE_TYPE_OPENED,
                                                     M.RESPONSE_TYPE_CLICKED,
                                                     M.RESPONSE_TYPE_UNSUBSCRIBED])
        r = s.results(c.id)
        self.assertEqual((r.sent, r.delivered, r.responders), (1, 1, 1))
        # The next campaign does not mail her: she opted out of email.
        c2 = self.mail_campaign("Again", "Hello", pid)
        wait_for(lambda: s.q("SELECT status, reason_code FROM send WHERE campaign_id = %s",
                             c2.id), 20, "second campaign's decision")
        self.assertEqual(s.q("SELECT status FROM send WHERE campaign_id = %s", c2.id), [(2,)])
        self.assertEqual(len(self.sink.to(addr)), 1)
        # No token is ever written to the log.
        with open(s.proc.log_path, "rb") as f:
            log = f.read()
        for t in (pixel, click, unsub):
            self.assertNotIn(t.encode(), log)

    def test_forged_expired_and_foreign_tokens_record_nothing(self):
        s = self.s
        pid, addr = self.person("Finn")
        c = self.mail_campaign("Hello", "Look: %s" % LINK, pid)
        raw, m = self.received(addr)
        (click, _), = self.tokens(m.get_body(("html",)).get_content())[0]
        unsub = re.findall(r"/t/u/([A-Za-z0-9_-]+)>", str(m["List-Unsubscribe"]))[0]
        head = s.head()
        R = lambda t: M.TrackRequest(token=t)  # noqa: E731
        # A changed byte, a made-up token, an empty one: forged.
        flipped = click[:20] + ("A" if click[20] != "A" else "B") + click[21:]
        for bad in (flipped, "x" * 120, "", unsub[:-2]):
            st = s.fails("marketing.track.click", R(bad), INVALID, "token")
            self.assertEqual(st.message, "tracking token is not valid")
            self.assertNotIn(bad or "\0", st.detail)
        # A genuine token on the wrong route.
        s.fails("marketing.track.unsubscribe", R(click), INVALID, "token")
        s.fails("marketing.track.open", R(unsub), INVALID, "token")
        # Expired: the service's clock 31 days on (MARKETING_TRACK_DAYS=30).
        s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=31 * 86400 * 10 ** 6),
               testing_pb2.ClockSetReply)
        try:
            st = s.fails("marketing.track.unsubscribe", R(unsub), PRECONDITION, "token")
            self.assertEqual(st.message, "tracking token has expired")
        finally:
            s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=0),
                   testing_pb2.ClockSetReply)
        self.assertEqual(s.head(), head)
        self.assertEqual(self.responses(c.id, pid), [])
        self.assertEqual(s.q("SELECT count(*) FROM track_use t JOIN delivery d"
                             " ON d.id = t.delivery_id WHERE d.campaign_id = %s", c.id),
                         [(0,)])
        # A staff marketer may not call the gateway's commands.
        rep = s.raw("marketing.track.click", R(click), client=self.mia)
        self.assertEqual(rep.status.code, DENIED)
        self.assertEqual(self.responses(c.id, pid), [])
        # No token, forged or genuine, is written to the log.
        with open(s.proc.log_path, "rb") as f:
            log = f.read()
        for t in (click, unsub, flipped):
            self.assertNotIn(t.encode(), log)
        # And the genuine token still works, once, after all that.
        self.assertEqual(self.track("marketing.track.click", click).recorded, True)
        self.assertEqual(self.responses(c.id, pid), [M.RESPONSE_TYPE_CLICKED])


if __name__ == "__main__":
    unittest.main()
