"""The HTTP/JSON gateway in front of sales (issue 16), through a real HTTP
client (http.client) against real crm-api and crm-sales processes.

People, organisations, leads (and their conversion), deals and pipelines,
orders and activities: create, read, update, list with paging, the
idempotent retry, problem+json errors and ETag conflicts. Then bad input,
each answered with problem+json, counted in /metrics, and writing nothing:
malformed JSON, unknown fields, wrong types, a body over the limit, a
slow-loris client, a missing, revoked or expired token, and a principal
without the right. And delegation: crm-api acts as the caller's staff
principal (events name them), while a staff key that sets `actor` itself
is still itself."""
import http.client
import json
import os
import socket
import unittest
import urllib.request
import uuid

from crmtest import System, free_port, run_crmctl, wait_for  # noqa: I100 (sets the path of crm.v1)
from crm.v1 import api_pb2, rpc_pb2, sales_pb2  # noqa: E402

MAX_BODY = 4096


class ApiCase(unittest.TestCase):
    """A bus, crm-sales and crm-api, and a token for an admin (`test`)."""

    peers = ("sales",)
    probes = ("marketing", "support", "analytics")
    services = (("sales", "crm-sales", ("marketing", "support", "analytics")),)

    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        try:
            cls.sys.start_bus()
            for name in cls.probes:
                cls.sys.add_probe(name)
            for name, binary, peers in cls.services:
                cls.sys.endpoints.setdefault(name, "tcp://127.0.0.1:%d" % free_port())
            for name, binary, peers in cls.services:
                cls.sys.add_service(name, binary, peers=peers, start=True)
            cls.sys.add_api(peers=cls.peers, env={
                "API_MAX_BODY_BYTES": str(MAX_BODY), "API_HEAD_TIMEOUT_MS": "1500",
                "API_RATE_PER_SECOND": "1000", "API_RATE_BURST": "1000"})
            cls.token, cls.token_id = cls.sys.api_token("test")
        except Exception:
            cls.sys.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        """(status, headers dict, parsed JSON or bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.sys.api_port, timeout=30)
        h = {"Authorization": "Bearer " + (token or self.token)} if token != "" else {}
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        hd = {k.lower(): v for k, v in r.getheaders()}
        ctype = hd.get("content-type", "")
        out = json.loads(text) if ctype.startswith(("application/json", "application/problem+json")) \
            else text
        return r.status, hd, out

    def ok(self, method, path, body=None, status=200, **kw):
        st, hd, out = self.request(method, path, body, **kw)
        self.assertEqual(st, status, "%s %s: %s" % (method, path, out))
        return out, hd

    def problem(self, st, hd, out, status, code=None):
        self.assertEqual(st, status, out)
        self.assertTrue(hd["content-type"].startswith("application/problem+json"), hd)
        self.assertEqual(out["status"], status)
        self.assertIn("title", out)
        if code:
            self.assertEqual(out["code"], code, out)
        return out

    def metrics(self):
        port = self.sys.procs["api"].env["CRM_HTTP_PORT"]
        with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("crm_api_problems_total{"):
                reason = line.split('reason="')[1].split('"')[0]
                out[reason] = int(float(line.rsplit(" ", 1)[1]))
        return out

    def people_count(self):
        return self.sys.cluster.query(self.sys.dbs["sales"], "SELECT count(*) FROM person")[0][0]


class TestApiSales(ApiCase):

    def test_people_create_read_update_list(self):
        p, hd = self.ok("POST", "/v1/people", {"name": "Ada Lovelace", "emails": ["ada@example.org"]},
                        status=201)
        pid = p["person"]["id"]
        self.assertEqual(p["person"]["name"], "Ada Lovelace")
        got, hd = self.ok("GET", "/v1/people/" + pid)
        etag = hd["etag"]
        self.assertEqual(got["person"]["emails"], ["ada@example.org"])
        # Update with the ETag read: applied; the old ETag is then stale.
        upd, _ = self.ok("PATCH", "/v1/people/" + pid, {"phones": ["+44 20 7946 0000"]},
                         headers={"If-Match": etag})
        self.assertEqual(upd["person"]["phones"], ["+442079460000"])
        self.assertEqual(upd["person"]["name"], "Ada Lovelace")  # untouched: not in the body
        st, hd2, out = self.request("PATCH", "/v1/people/" + pid, {"phones": ["+1 555 0100"]},
                                    headers={"If-Match": etag})
        self.problem(st, hd2, out, 412, "precondition_failed")
        self.assertNotEqual(hd2["etag"], etag)
        got, _ = self.ok("GET", "/v1/people/" + pid)
        self.assertEqual(got["person"]["phones"], ["+442079460000"])  # the 412 wrote nothing
        # Unknown id: 404 problem from the service's NOT_FOUND.
        st, hd, out = self.request("GET", "/v1/people/" + str(uuid.uuid4()))
        self.problem(st, hd, out, 404, "not_found")

    def test_people_paging(self):
        tag = uuid.uuid4().hex[:8]
        for i in range(5):
            self.ok("POST", "/v1/people", {"name": "Pager %s %d" % (tag, i)}, status=201)
        seen, token = [], ""
        while True:
            out, _ = self.ok("GET", "/v1/people?page_size=2&query=%s%s" % (
                tag, "&page_token=" + token if token else ""))
            self.assertLessEqual(len(out.get("people", [])), 2)
            seen += [p["name"] for p in out.get("people", [])]
            token = out.get("next_page_token", "")
            if not token:
                break
        self.assertEqual(sorted(seen), ["Pager %s %d" % (tag, i) for i in range(5)])

    def test_idempotent_retry(self):
        key = str(uuid.uuid4())
        before = self.people_count()
        a, _ = self.ok("POST", "/v1/people", {"name": "Once Only"}, status=201,
                       headers={"Idempotency-Key": key})
        b, _ = self.ok("POST", "/v1/people", {"name": "Once Only"}, status=201,
                       headers={"Idempotency-Key": key})
        self.assertEqual(a, b)
        self.assertEqual(self.people_count(), before + 1)
        # The same key with other content: a conflict, nothing written.
        st, hd, out = self.request("POST", "/v1/people", {"name": "Someone Else"},
                                   headers={"Idempotency-Key": key})
        self.problem(st, hd, out, 409, "idempotency_conflict")
        self.assertEqual(self.people_count(), before + 1)
        # Without a key every POST is its own request.
        self.ok("POST", "/v1/people", {"name": "No Key"}, status=201)
        self.ok("POST", "/v1/people", {"name": "No Key"}, status=201)
        self.assertEqual(self.people_count(), before + 3)

    def test_organisations_leads_deals_orders_activities(self):
        org, _ = self.ok("POST", "/v1/organizations", {"name": "Analytical Engines Ltd"},
                         status=201)
        oid = org["organization"]["id"]
        got, hd = self.ok("GET", "/v1/organizations/" + oid)
        self.assertTrue(hd["etag"])
        lst, _ = self.ok("GET", "/v1/organizations?page_size=1")
        self.assertEqual(len(lst["organizations"]), 1)
        lead, _ = self.ok("POST", "/v1/leads", {"name": "Charles Babbage", "email":
                                                "cb@example.org", "company": "Difference Co"},
                          status=201)
        lid = lead["lead"]["id"]
        conv, _ = self.ok("POST", "/v1/leads/%s/convert" % lid, {"deal_title": "Engine No. 2"})
        self.assertTrue(conv["person"]["id"])
        deal_id = conv["deal"]["id"]
        leads, _ = self.ok("GET", "/v1/leads?page_size=10")
        self.assertIn(lid, [x["id"] for x in leads["leads"]])
        pipes, _ = self.ok("GET", "/v1/pipelines")
        self.assertTrue(pipes["pipelines"])
        stage = pipes["pipelines"][0]["stages"][1]["name"]
        deal, hd = self.ok("GET", "/v1/deals/" + deal_id)
        moved, _ = self.ok("POST", "/v1/deals/%s/stage" % deal_id, {"stage": stage},
                           headers={"If-Match": hd["etag"]})
        self.assertEqual(moved["deal"]["stage"], stage)
        st, hd2, out = self.request("POST", "/v1/deals/%s/win" % deal_id, {},
                                    headers={"If-Match": hd["etag"]})
        self.problem(st, hd2, out, 412, "precondition_failed")
        deals, _ = self.ok("GET", "/v1/deals?page_size=5")
        self.assertIn(deal_id, [d["id"] for d in deals["deals"]])
        pid = conv["person"]["id"]
        order, _ = self.ok("POST", "/v1/orders", {"person_id": pid, "currency": "EUR", "items": [
            {"product_code": "E2", "name": "Engine", "quantity": 1, "unit_price_minor": "150000"}]},
            status=201)
        self.assertEqual(order["order"]["total_minor"], "150000")
        orders, _ = self.ok("GET", "/v1/orders?person_id=" + pid)
        self.assertEqual(len(orders["orders"]), 1)
        act, _ = self.ok("POST", "/v1/activities", {"activity": {
            "kind": "ACTIVITY_KIND_CALL", "subject": "intro call", "person_id": pid}}, status=201)
        acts, _ = self.ok("GET", "/v1/activities?person_id=" + pid)
        self.assertIn(act["activity"]["id"], [a["id"] for a in acts["activities"]])

    def test_bad_input_problem_metrics_no_write(self):
        before = self.people_count()
        m0 = self.metrics()
        st, hd, out = self.request("POST", "/v1/people", raw='{"name": "x",')
        self.problem(st, hd, out, 400, "malformed_json")
        st, hd, out = self.request("POST", "/v1/people", {"name": "x", "nickname": "y"})
        p = self.problem(st, hd, out, 400, "unknown_field")
        self.assertEqual(p["field"], "nickname")
        st, hd, out = self.request("POST", "/v1/people", {"name": 42})
        p = self.problem(st, hd, out, 400, "invalid_input")
        self.assertEqual(p["field"], "name")
        st, hd, out = self.request("GET", "/v1/people?page_size=lots")
        self.problem(st, hd, out, 400, "invalid_input")
        st, hd, out = self.request("GET", "/v1/people?colour=red")
        self.problem(st, hd, out, 400, "unknown_field")
        st, hd, out = self.request("POST", "/v1/people", {"name": "x" * (MAX_BODY + 10)})
        self.problem(st, hd, out, 413)
        # The service's own validation: 422 with the field.
        st, hd, out = self.request("POST", "/v1/people", {"emails": ["not an address"]})
        p = self.problem(st, hd, out, 422, "invalid_argument")
        self.assertTrue(p.get("field"))
        self.assertEqual(self.people_count(), before)
        m1 = self.metrics()
        for reason, n in (("malformed_json", 1), ("unknown_field", 2), ("invalid_input", 2),
                          ("body_too_large", 1)):
            self.assertGreaterEqual(m1.get(reason, 0) - m0.get(reason, 0), n, reason)

    def test_tokens_missing_revoked_expired_and_rights(self):
        before = self.people_count()
        m0 = self.metrics()
        st, hd, out = self.request("POST", "/v1/people", {"name": "x"}, token="")
        self.problem(st, hd, out, 401, "unauthenticated")
        self.assertIn("Bearer", hd["www-authenticate"])
        st, hd, out = self.request("POST", "/v1/people", {"name": "x"},
                                   token="crm_%s_%s" % ("0" * 16, "0" * 64))
        self.problem(st, hd, out, 401, "unauthenticated")
        # Revoked, through crmctl and crm-api's command socket.
        tok, tid = self.sys.api_token("test")
        self.ok("GET", "/v1/people?page_size=1", token=tok)
        env = dict(os.environ, CRM_SERVICES="api=" + self.sys.endpoint("api"))
        out = run_crmctl(self, env, ["token", "revoke", tid]).stdout
        self.assertIn("revoked", out)
        st, hd, out = self.request("POST", "/v1/people", {"name": "x"}, token=tok)
        self.problem(st, hd, out, 401, "token_revoked")
        listed = run_crmctl(self, env, ["-o", "json", "token", "list"]).stdout
        rows = [json.loads(line) for line in listed.splitlines()]
        self.assertTrue(any(r["id"] == tid and r["revoked_at_us"] != "0" for r in rows), rows)
        # Made with crmctl, expired a moment after.
        made = run_crmctl(self, env, ["-o", "json", "token", "create", "test", "--expires",
                                      "+1s"]).stdout
        expiring = json.loads(made)["token"]
        wait_for(lambda: self.request("GET", "/v1/people", token=expiring)[0] == 401,
                 what="the token to expire")
        st, hd, out = self.request("GET", "/v1/people", token=expiring)
        self.problem(st, hd, out, 401, "token_expired")
        # A rep without the right to create people (a role granting read only).
        self.sys.keys.define_role("reader", "*.read=all")
        self.sys.keys.key("rita", "staff", roles="reader")
        rtok, _ = self.sys.api_token("rita")
        self.ok("GET", "/v1/people?page_size=1", token=rtok)
        st, hd, out = self.request("POST", "/v1/people", {"name": "x"}, token=rtok)
        self.problem(st, hd, out, 403, "permission_denied")
        # Only an admin makes tokens.
        rita = self.sys.client("api", principal="rita")
        try:
            rep = rita.call("api.token.create", api_pb2.CreateTokenRequest(
                principal="rita", id="0123456789abcdef", secret_hash=b"x" * 32))
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_PERMISSION_DENIED)
        finally:
            rita.close()
        self.assertEqual(self.people_count(), before)
        m1 = self.metrics()
        self.assertGreaterEqual(m1["unauthenticated"] - m0["unauthenticated"], 2)
        self.assertGreaterEqual(m1["token_revoked"] - m0["token_revoked"], 1)
        self.assertGreaterEqual(m1["token_expired"] - m0["token_expired"], 1)

    def test_slow_loris(self):
        m0 = self.metrics()
        s = socket.create_connection(("127.0.0.1", self.sys.api_port))
        s.sendall(b"POST /v1/people HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        s.settimeout(30)
        data = b""
        while True:  # trickles nothing more: the request deadline ends it
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertEqual(data, b"")  # closed without an answer: nothing was run
        m1 = self.metrics()
        self.assertGreaterEqual(m1["slow_client"] - m0["slow_client"], 1)
        # Meanwhile and after, others are served.
        self.ok("GET", "/v1/people?page_size=1")

    def test_delegation(self):
        # Through the gateway, the event names the caller, not the gateway.
        self.sys.keys.key("vera", "staff", roles="admin")
        vtok, _ = self.sys.api_token("vera")
        p, _ = self.ok("POST", "/v1/people", {"name": "Delegated"}, status=201, token=vtok)
        pid = p["person"]["id"]
        rows = self.sys.cluster.query(
            self.sys.dbs["sales"],
            "SELECT actor FROM crm_outbox WHERE subject = %s AND type LIKE %s",
            pid, "crm.sales.person.registered%")
        self.assertEqual([r[0] for r in rows], ["vera"])
        # A staff key setting `actor` is still itself: rita (read only)
        # naming the admin `test` cannot register anyone.
        self.sys.keys.define_role("reader2", "*.read=all")
        self.sys.keys.key("rick", "staff", roles="reader2")
        c = self.sys.client("sales", principal="rick")
        try:
            rep = c.call_raw("sales.person.register", sales_pb2.RegisterPersonRequest(
                person={"name": "Impostor"}).SerializeToString(), actor="test")
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_PERMISSION_DENIED, rep.status)
        finally:
            c.close()
        # The gateway naming someone who is not staff is refused.
        self.sys.keys.key("notstaff", "service")
        c = self.sys.client("sales", principal="api")
        try:
            rep = c.call_raw("sales.person.register", sales_pb2.RegisterPersonRequest(
                person={"name": "Nobody"}).SerializeToString(), actor="notstaff")
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_UNAUTHENTICATED, rep.status)
            rep = c.call_raw("sales.person.register", sales_pb2.RegisterPersonRequest(
                person={"name": "Via Gateway"}).SerializeToString(), actor="rick")
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_PERMISSION_DENIED, rep.status)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
