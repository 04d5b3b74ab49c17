"""Tracking links end to end (issue 16): a campaign mail received by a real
SMTP server (aiosmtpd) is parsed with Python's `email` parser, and its
click link, open pixel and one-click unsubscribe (RFC 8058) are followed
with http.client through crm-api, which passes them on to crm-marketing.

The mail's links name the public https base URL (CRM_TRACK_BASE_URL); the
test stands in for the TLS-terminating reverse proxy of docs/operations.md
and sends each request to crm-api's plain HTTP port with the public Host.
Each response is recorded once however often a link is followed, the
unsubscribe becomes an email opt-out, and a forged or expired token is
refused with nothing recorded."""
import email
import email.policy
import http.client
import os
import re
import tempfile
import unittest
import uuid

from aiosmtpd.controller import Controller

from crmtest import free_port, testing_pb2, wait_for
from test_marketing_mail import Sink
from test_marketing_service import EMAIL, M, MarketingSystem, sales_pb2, schedule_soon, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

HOST = "crm.shop.example"
BASE = "https://" + HOST
LINK = "https://shop.example/autumn?ref=mail"


class ApiTrackingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        cls.smtp = Controller(cls.sink, hostname="127.0.0.1", port=free_port())
        cls.smtp.start()
        cls.tmp = tempfile.TemporaryDirectory()
        key = os.path.join(cls.tmp.name, "track.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(key, 0o600)
        cls.s = MarketingSystem(env={
            "MARKETING_SMTP_URL": "smtp://127.0.0.1:%d" % cls.smtp.port,
            "MARKETING_SEND_SCAN_MS": "100", "MARKETING_MAIL_FROM": "news@shop.example",
            "MARKETING_TRACK_KEY_FILE": key, "CRM_TRACK_BASE_URL": BASE,
            "MARKETING_TRACK_DAYS": "30", "CRM_TEST_CLOCK": "0"})
        try:
            cls.s.sys.add_api(peers=("marketing",))
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.smtp.stop()
        cls.tmp.cleanup()

    # ---- helpers ----------------------------------------------------------------
    def person(self, name):
        s = self.s
        addr = "%s@people.io" % unique("t")
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name=name, emails=[addr])))
        wait_for(lambda: s.q("SELECT count(*) FROM person WHERE id = %s", pid)[0][0] == 1, 20,
                 "person %s" % name)
        return pid, addr

    def mail(self, pid, addr):
        """Sends a one-recipient campaign; returns (campaign id, the parsed mail)."""
        s = self.s
        c = s.campaign(name=unique("Track")).campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=EMAIL, subject="Autumn", body="See %s" % LINK)),
            M.MessageReply)
        s.call("marketing.campaign.target", M.TargetCampaignRequest(
            campaign_id=c.id, customer_ids=[pid]), M.TargetCampaignReply)
        schedule_soon(s.call, c.id, 0.2)
        wait_for(lambda: self.sink.to(addr), 20, "the mail to %s" % addr)
        # The delivery's outcome (and its event) commits after the relay
        # took the mail: wait for it, so that a test comparing the stream's
        # head before and after a request does not count it.
        wait_for(lambda: s.q("SELECT status FROM delivery WHERE campaign_id = %s", c.id)
                 == [(1,)], 20, "the delivery recorded as delivered")
        return c.id, email.message_from_bytes(self.sink.to(addr)[0], policy=email.policy.default)

    def follow(self, method, url, body=None, headers=None):
        """The request the reverse proxy would pass on: BASE's path, sent
        to crm-api's port with the public Host."""
        self.assertTrue(url.startswith(BASE + "/t/"), url)
        c = http.client.HTTPConnection("127.0.0.1", self.s.sys.api_port, timeout=30)
        h = {"Host": HOST}
        h.update(headers or {})
        c.request(method, url[len(BASE):], body=body, headers=h)
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out

    def responses(self, campaign_id, pid):
        return sorted(r for (r,) in self.s.q(
            "SELECT response FROM response WHERE campaign_id = %s AND customer_id = %s",
            campaign_id, pid))

    # ---- the tests ----------------------------------------------------------------
    def test_links_pixel_and_one_click_unsubscribe_through_the_gateway(self):
        s = self.s
        pid, addr = self.person("Ines")
        cid, m = self.mail(pid, addr)
        html = m.get_body(("html",)).get_content()
        click, = re.findall(r'<a href="(%s/t/c/[A-Za-z0-9_-]+)"' % re.escape(BASE), html)
        pixel, = re.findall(r'<img src="(%s/t/o/[A-Za-z0-9_-]+)"' % re.escape(BASE), html)
        unsub, = re.findall(r"<(%s/t/u/[A-Za-z0-9_-]+)>" % re.escape(BASE),
                            str(m["List-Unsubscribe"]))
        self.assertEqual(m["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")

        # The open pixel: a GIF, never cached; recorded the first time only.
        for _ in range(2):
            st, hd, out = self.follow("GET", pixel)
            self.assertEqual(st, 200)
            self.assertEqual(hd["content-type"], "image/gif")
            self.assertTrue(out.startswith(b"GIF8"), out[:8])
            self.assertIn("no-store", hd["cache-control"])
        # The click: a redirect to the link as written, recorded once.
        for _ in range(2):
            st, hd, _ = self.follow("GET", click)
            self.assertEqual(st, 302)
            self.assertEqual(hd["location"], LINK)
        self.assertEqual(self.responses(cid, pid),
                         [M.RESPONSE_TYPE_OPENED, M.RESPONSE_TYPE_CLICKED])

        # GET on the unsubscribe URL (a link scanner, a preview) only shows
        # a page with the button: nothing is recorded.
        head = s.head()
        st, hd, out = self.follow("GET", unsub)
        self.assertEqual(st, 200)
        self.assertIn(b"<form", out)
        self.assertEqual(s.head(), head)
        # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click.
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for _ in range(2):
            st, _, _ = self.follow("POST", unsub, "List-Unsubscribe=One-Click", form)
            self.assertEqual(st, 200)
        self.assertEqual(self.responses(cid, pid), [M.RESPONSE_TYPE_OPENED,
                                                    M.RESPONSE_TYPE_CLICKED,
                                                    M.RESPONSE_TYPE_UNSUBSCRIBED])
        prefs = s.call("marketing.preference.show", M.ShowPreferencesRequest(customer_id=pid),
                       M.PreferencesReply).preferences
        self.assertEqual(list(prefs.opted_out), [EMAIL])

    def test_forged_and_expired_tokens_record_nothing(self):
        s = self.s
        pid, addr = self.person("Olav")
        cid, m = self.mail(pid, addr)
        html = m.get_body(("html",)).get_content()
        click, = re.findall(r'<a href="(%s/t/c/[A-Za-z0-9_-]+)"' % re.escape(BASE), html)
        unsub, = re.findall(r"<(%s/t/u/[A-Za-z0-9_-]+)>" % re.escape(BASE),
                            str(m["List-Unsubscribe"]))
        head = s.head()
        i = len(BASE + "/t/c/") + 20
        flipped = click[:i] + ("A" if click[i] != "A" else "B") + click[i + 1:]
        for method, url, body in (("GET", flipped, None),
                                  ("GET", BASE + "/t/o/" + "x" * 120, None),
                                  ("POST", unsub[:-2], "List-Unsubscribe=One-Click"),
                                  ("GET", click.replace("/t/c/", "/t/o/"), None)):
            st, hd, out = self.follow(method, url, body)
            self.assertEqual(st, 404, (url, out))
            self.assertNotIn(url.rsplit("/", 1)[1].encode(), out)  # no token echoed
        self.assertEqual(self.responses(cid, pid), [])
        self.assertEqual(s.head(), head)
        # Past MARKETING_TRACK_DAYS (the service's test clock 31 days on):
        # the genuine links are refused the same way, and record nothing.
        s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=31 * 86400 * 10 ** 6),
               testing_pb2.ClockSetReply)
        try:
            st, _, _ = self.follow("GET", click)
            self.assertEqual(st, 404)
            st, _, _ = self.follow("POST", unsub, "List-Unsubscribe=One-Click")
            self.assertEqual(st, 404)
        finally:
            s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=0),
                   testing_pb2.ClockSetReply)
        self.assertEqual(self.responses(cid, pid), [])
        self.assertEqual(s.head(), head)
        # The genuine link still works, once, after all that.
        st, hd, _ = self.follow("GET", click)
        self.assertEqual((st, hd["location"]), (302, LINK))
        self.assertEqual(self.responses(cid, pid), [M.RESPONSE_TYPE_CLICKED])


if __name__ == "__main__":
    unittest.main()
