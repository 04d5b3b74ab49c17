"""The HTTP/JSON gateway in front of all four services (issue 16): real
crm-sales, crm-marketing, crm-support and crm-analytics behind crm-api,
through http.client.

Campaigns (budget, messages, preview, schedule, launch, results, compare),
segments and preferences; tickets, SLA policies and the business calendar;
customer 360, timeline, as-of and reports: create, read, update, list with
paging, the idempotent retry, problem+json errors and ETag conflicts. The
tracking links refuse a forged token with a bare 404. The OpenAPI document
passes a third-party validator (@redocly/cli, pinned in package-lock.json)
and every route in it answers."""
import json
import os
import subprocess
import tempfile
import time
import unittest
import uuid

from apitest import ApiCase
from crmtest import SOURCE, wait_for  # noqa: I100 (sets the path of crm.v1)

ALL = ("sales", "marketing", "support", "analytics")


class TestApiServices(ApiCase):
    peers = ALL + ("webhooks",)
    probes = ()
    services = (("sales", "crm-sales", ("marketing", "support", "analytics")),
                ("marketing", "crm-marketing", ("sales", "support")),
                ("support", "crm-support", ("sales", "marketing")),
                ("analytics", "crm-analytics", ("sales", "marketing", "support")),
                ("webhooks", "crm-webhooks", ALL))

    def person(self, name):
        email = "%s@example.org" % uuid.uuid4().hex[:10]
        p, _ = self.ok("POST", "/v1/people", {"name": name, "emails": [email]}, status=201)
        return p["person"]["id"], email

    def test_campaigns(self):
        key = str(uuid.uuid4())
        body = {"name": "Spring", "channels": ["CHANNEL_EMAIL"], "currency": "EUR",
                "budget_minor": "100000"}
        c, _ = self.ok("POST", "/v1/campaigns", body, status=201, headers={"Idempotency-Key": key})
        again, _ = self.ok("POST", "/v1/campaigns", body, status=201,
                           headers={"Idempotency-Key": key})
        self.assertEqual(c, again)
        cid = c["campaign"]["id"]
        got, hd = self.ok("GET", "/v1/campaigns/" + cid)
        etag = hd["etag"]
        self.ok("PUT", "/v1/campaigns/%s/budget" % cid, {"budget_minor": "200000",
                                                         "currency": "EUR"},
                headers={"If-Match": etag})
        st, hd2, out = self.request("PUT", "/v1/campaigns/%s/budget" % cid,
                                    {"budget_minor": "300000", "currency": "EUR"},
                                    headers={"If-Match": etag})
        self.problem(st, hd2, out, 412, "precondition_failed")
        got, _ = self.ok("GET", "/v1/campaigns/" + cid)
        self.assertEqual(got["campaign"]["budget_minor"], "200000")
        lst, _ = self.ok("GET", "/v1/campaigns")
        self.assertIn(cid, [x["id"] for x in lst["campaigns"]])
        self.ok("PUT", "/v1/messages", {"campaign_id": cid, "channel": "CHANNEL_EMAIL",
                                        "subject": "Hello {{name}}", "body": "Dear {{name}}"})
        pid, _ = self.person("Preview Person")
        prev, _ = self.ok("GET", "/v1/campaigns/%s/preview?channel=CHANNEL_EMAIL&customer_id=%s"
                          % (cid, pid))
        self.assertTrue(prev["subject"].startswith("Hello"), prev)
        res, _ = self.ok("GET", "/v1/campaigns/%s/results" % cid)
        self.assertTrue(res)
        self.ok("GET", "/v1/campaign-comparison?ids=%s&ids=%s" % (cid, cid))
        st, hd, out = self.request("GET", "/v1/campaigns/" + str(uuid.uuid4()))
        self.problem(st, hd, out, 404, "not_found")
        st, hd, out = self.request("POST", "/v1/campaigns", {"name": "x", "colour": "red"})
        self.problem(st, hd, out, 400, "unknown_field")

    def test_segments_and_preferences(self):
        s, _ = self.ok("POST", "/v1/segments", {"name": "Germany", "rules": [
            {"kind": "SEGMENT_RULE_KIND_COUNTRY", "value": "DE"}]}, status=201)
        lst, _ = self.ok("GET", "/v1/segments")
        self.assertIn(s["segment"]["id"], [x["id"] for x in lst["segments"]])
        pid, _ = self.person("Pref Person")
        wait_for(lambda: self.request("GET", "/v1/consent/" + pid)[0] == 200, 30,
                 "marketing to know the person")
        _, hd = self.ok("GET", "/v1/preferences/" + pid)
        self.ok("PUT", "/v1/preferences/" + pid, {"preferred_channel": "CHANNEL_EMAIL"})
        got, hd2 = self.ok("GET", "/v1/preferences/" + pid)
        self.assertEqual(got["preferences"]["preferred_channel"], "CHANNEL_EMAIL")
        self.assertNotEqual(hd["etag"], hd2["etag"])

    def test_consent(self):
        pid, _ = self.person("Consent Person")
        wait_for(lambda: self.request("GET", "/v1/consent/" + pid)[0] == 200, 30,
                 "marketing to know the person")
        g, _ = self.ok("POST", "/v1/consent/%s/grants" % pid,
                       {"purpose": "CONSENT_PURPOSE_EMAIL_MARKETING",
                        "source": "CONSENT_SOURCE_FORM", "proof": "web form v3"}, status=201)
        self.assertEqual(g["entry"]["recorded_by"], "test")  # the caller, not the gateway
        self.ok("POST", "/v1/consent/%s/withdrawals" % pid,
                {"purpose": "CONSENT_PURPOSE_EMAIL_MARKETING", "source": "CONSENT_SOURCE_CALL"},
                status=201)
        h, _ = self.ok("GET", "/v1/consent/" + pid)
        self.assertEqual([e.get("granted", False) for e in h["entries"]], [True, False])
        st, hd, out = self.request("POST", "/v1/consent/%s/grants" % pid,
                                   {"purpose": "CONSENT_PURPOSE_TELEPATHY"})
        self.problem(st, hd, out, 400)
        h2, _ = self.ok("GET", "/v1/consent/" + pid)
        self.assertEqual(len(h2["entries"]), 2)

    def test_webhooks(self):
        body = {"url": "https://hooks.example.org/crm", "event_types": ["crm.sales."],
                "description": "ERP"}
        key = str(uuid.uuid4())
        w, _ = self.ok("POST", "/v1/webhooks", body, status=201,
                       headers={"Idempotency-Key": key})
        sub = w["subscription"]
        self.assertTrue(sub["secret"].startswith("whsec_"))
        again, _ = self.ok("POST", "/v1/webhooks", body, status=201,
                           headers={"Idempotency-Key": key})
        self.assertEqual(again, w)
        got, hd = self.ok("GET", "/v1/webhooks/" + sub["id"])
        self.assertNotIn("secret", got["subscription"])  # shown once, at create
        self.ok("PATCH", "/v1/webhooks/" + sub["id"], {"enabled": False},
                headers={"If-Match": hd["etag"]})
        st, hd2, out = self.request("PATCH", "/v1/webhooks/" + sub["id"], {"enabled": True},
                                    headers={"If-Match": hd["etag"]})
        self.problem(st, hd2, out, 412, "precondition_failed")
        got, _ = self.ok("GET", "/v1/webhooks/" + sub["id"])
        self.assertFalse(got["subscription"].get("enabled", False))
        lst, _ = self.ok("GET", "/v1/webhooks?page_size=1")
        self.assertEqual(len(lst["subscriptions"]), 1)
        self.ok("GET", "/v1/webhooks/%s/deliveries?status=WEBHOOK_DELIVERY_STATUS_FAILED"
                % sub["id"])
        st, hd, out = self.request("POST", "/v1/webhooks", {"url": "ftp://nope",
                                                           "event_types": ["crm."]})
        self.problem(st, hd, out, 422, "invalid_argument")
        st, hd, out = self.request("GET", "/v1/webhooks/" + str(uuid.uuid4()))
        self.problem(st, hd, out, 404, "not_found")
        self.ok("DELETE", "/v1/webhooks/" + sub["id"])
        st, hd, out = self.request("GET", "/v1/webhooks/" + sub["id"])
        self.problem(st, hd, out, 404, "not_found")

    def test_tickets_sla_calendar(self):
        _, email = self.person("Ticket Person")
        tids = []
        for i in range(3):
            t, _ = self.ok("POST", "/v1/tickets", {"requester_email": email,
                                                   "subject": "Printer %d" % i,
                                                   "type": "TICKET_TYPE_PROBLEM"}, status=201)
            tids.append(t["ticket"]["id"])
        got, hd = self.ok("GET", "/v1/tickets/" + tids[0])
        etag = hd["etag"]
        self.ok("POST", "/v1/tickets/%s/assign" % tids[0], {"assignee": "test"},
                headers={"If-Match": etag})
        st, hd2, out = self.request("POST", "/v1/tickets/%s/priority" % tids[0],
                                    {"priority": "TICKET_PRIORITY_HIGH"},
                                    headers={"If-Match": etag})
        self.problem(st, hd2, out, 412, "precondition_failed")
        self.ok("POST", "/v1/tickets/%s/replies" % tids[0], {"body": "On it"})
        seen, token = [], ""
        while True:
            out, _ = self.ok("GET", "/v1/tickets?page_size=1" +
                             ("&page_token=" + token if token else ""))
            seen += [t["id"] for t in out.get("tickets", [])]
            token = out.get("next_page_token", "")
            if not token:
                break
        self.assertTrue(set(tids) <= set(seen))
        self.assertEqual(len(seen), len(set(seen)))
        self.ok("GET", "/v1/sla-policies")
        self.ok("GET", "/v1/business-calendar")
        st, hd, out = self.request("POST", "/v1/tickets/%s/rating" % tids[1], {"rating": "five"})
        self.problem(st, hd, out, 400, "invalid_input")

    def test_analytics(self):
        pid, _ = self.person("Analytic Person")
        wait_for(lambda: self.request("GET", "/v1/customers/" + pid)[0] == 200, 30,
                 "analytics to know the person")
        c360, _ = self.ok("GET", "/v1/customers/" + pid)
        self.assertIn(pid, json.dumps(c360))
        self.ok("GET", "/v1/customers/%s?as_of_us=%d" % (pid, time.time() * 1e6))
        self.ok("GET", "/v1/customers/%s/timeline" % pid)
        for report in ("kpis", "health", "pipeline", "forecast", "weekly-activity", "campaigns",
                       "data-quality", "potential"):
            self.ok("GET", "/v1/reports/" + report)

    def test_tracking_refuses_forged_tokens(self):
        for path in ("/t/o/forged", "/t/c/forged"):
            st, hd, out = self.request("GET", path, token="")
            p = self.problem(st, hd, out, 404)
            self.assertNotIn("detail", p)  # nothing tells a guesser why
            self.assertEqual(hd["cache-control"], "no-store")
        st, hd, out = self.request("GET", "/t/u/forged", token="")
        self.assertEqual(st, 200)
        self.assertIn(b'method="post"', out)
        st, hd, out = self.request("POST", "/t/u/forged", token="",
                                   raw="List-Unsubscribe=One-Click",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.problem(st, hd, out, 404)
        st, hd, out = self.request("POST", "/t/u/forged", token="", raw="x=y",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.problem(st, hd, out, 400)

    def test_openapi_valid_and_every_route_answers(self):
        st, hd, doc = self.request("GET", "/v1/openapi.json", token="")
        self.assertEqual(st, 200)
        self.assertEqual(doc["openapi"], "3.1.0")
        redocly = os.path.join(SOURCE, "node_modules", ".bin", "redocly")
        if not os.path.exists(redocly):
            self.fail("node_modules/.bin/redocly is missing: run tools/install-deps.sh (npm ci)")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        try:
            p = subprocess.run([redocly, "lint", "--format", "stylish", f.name],
                               capture_output=True, text=True, timeout=300,
                               env=dict(os.environ, REDOCLY_TELEMETRY="off",
                                        REDOCLY_SUPPRESS_UPDATE_NOTICE="true"))
        finally:
            os.unlink(f.name)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Every route answers: none is unknown to the router (its 404 is
        # titled "no such resource"), none refuses its method, none fails.
        n = 0
        for path, item in doc["paths"].items():
            for method in item:
                url = path
                for part in path.split("/"):
                    if part.startswith("{"):
                        url = url.replace(part, str(uuid.uuid4()))
                if method == "get" and path == "/v1/events":
                    c, r = self.sse_open(url + "?from=1")
                    self.assertEqual(r.status, 200)
                    c.close()
                    n += 1
                    continue
                body = None if method in ("get", "delete") else {}
                raw = "List-Unsubscribe=One-Click" if path.startswith("/t/u/") and \
                    method == "post" else None
                st, hd, out = self.request(method.upper(), url, body if raw is None else None,
                                           raw=raw)
                n += 1
                title = out.get("title") if isinstance(out, dict) else None
                self.assertNotEqual(title, "no such resource", "%s %s" % (method, url))
                self.assertNotIn(st, (405, 500, 502, 504), "%s %s: %s" % (method, url, out))
        self.assertGreater(n, 60)

    def sse_open(self, url):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.sys.api_port, timeout=30)
        c.request("GET", url, headers={"Authorization": "Bearer " + self.token})
        return c, c.getresponse()


if __name__ == "__main__":
    unittest.main()
