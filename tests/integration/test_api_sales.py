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
import hashlib
import http.client
import json
import os
import socket
import unittest
import uuid

from apitest import MAX_BODY, ApiCase
from crmtest import run_crmctl, wait_for  # noqa: I100 (sets the path of crm.v1)
from crm.v1 import api_pb2, rpc_pb2, sales_pb2  # noqa: E402


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
        self.assertGreaterEqual(
            m1["service:permission_denied"] - m0["service:permission_denied"], 1)

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

    def test_expect_continue_and_pipelining(self):
        # A client that announces its body waits for 100 Continue (curl
        # does, for bodies over 1 KiB); two pipelined requests on one
        # keep-alive connection are answered in order.
        body = json.dumps({"name": "Expecting"}).encode()
        s = socket.create_connection(("127.0.0.1", self.sys.api_port), timeout=30)
        head = ("POST /v1/people HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n"
                "Expect: 100-continue\r\n\r\n" % (self.token, len(body))).encode()
        s.sendall(head)
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(4096)
        self.assertTrue(got.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), got)
        get = ("GET /v1/people?page_size=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
               "\r\n\r\n" % self.token).encode()
        s.sendall(body + get)
        got = got[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        while got.count(b"HTTP/1.1 ") < 2 or not got.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            self.assertTrue(chunk, got)
            got += chunk
        s.close()
        first, second = got.split(b"HTTP/1.1 ")[1:3]
        self.assertTrue(first.startswith(b"201"), first)
        self.assertTrue(second.startswith(b"200"), second)

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

    def test_session(self):
        out, hd = self.ok("POST", "/v1/sessions", status=201)
        self.assertEqual(out["principal"], "test")
        cookie = hd["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        value = cookie.split(";")[0]
        self.assertTrue(value.startswith("crm_session=crs_"))
        self.ok("GET", "/v1/people?page_size=1", token="", headers={"Cookie": value})
        _, sid, secret = value.split("=", 1)[1].split("_")
        rows = self.sys.cluster.query(self.sys.dbs["api"],
                                      "SELECT secret_hash FROM api_session WHERE id = %s", sid)
        # Only the hash of the secret is kept.
        self.assertEqual(bytes(rows[0][0]),
                         hashlib.blake2b(secret.encode(), digest_size=32).digest())
        self.ok("DELETE", "/v1/sessions/current", status=204, token="", headers={"Cookie": value})
        st, hd, out = self.request("GET", "/v1/people", token="", headers={"Cookie": value})
        self.problem(st, hd, out, 401, "token_revoked")

    def sse(self, headers=None, query="source=sales&type=crm.sales.person.registered"):
        c = http.client.HTTPConnection("127.0.0.1", self.sys.api_port, timeout=30)
        h = {"Authorization": "Bearer " + self.token}
        h.update(headers or {})
        c.request("GET", "/v1/events?" + query, headers=h)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
        return c, r

    def read_events(self, r, until):
        """(id, CloudEvent) pairs until `until(events)` holds."""
        got, ev_id, data = [], None, None
        while not until(got):
            line = r.readline().decode()
            self.assertTrue(line, "the feed ended")
            line = line.rstrip("\n")
            if line.startswith("id: "):
                ev_id = line[4:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                got.append((ev_id, data))
                data = None
        return got

    def test_sse_resume_without_gap_or_duplicate(self):
        tag = uuid.uuid4().hex[:8]
        names = ["Feed %s %d" % (tag, i) for i in range(6)]
        for n in names[:3]:
            self.ok("POST", "/v1/people", {"name": n}, status=201)

        def mine(evs):
            return [e for _, e in evs if e.get("data", {}).get("person", {}).get("name", "")
                    .startswith("Feed " + tag)]
        c, r = self.sse()
        first = self.read_events(r, lambda evs: len(mine(evs)) == 3)
        for _, e in first:
            self.assertEqual(e["specversion"], "1.0")
            self.assertEqual(e["source"], "sales")
            self.assertEqual(e["type"], "crm.sales.person.registered.v1")
        last_id = first[-1][0]
        c.close()  # disconnected; more happens meanwhile
        for n in names[3:]:
            self.ok("POST", "/v1/people", {"name": n}, status=201)
        c, r = self.sse(headers={"Last-Event-ID": last_id})
        second = self.read_events(r, lambda evs: len(mine(evs)) == 3)
        c.close()
        seqs = [int(e["sequence"]) for _, e in first + second]
        self.assertEqual(len(seqs), len(set(seqs)), "a duplicate")
        self.assertEqual([e["data"]["person"]["name"] for e in mine(first + second)], names)
        # Every registration of the source between the first and the last
        # seen arrived: no gap.
        rows = self.sys.cluster.query(
            self.sys.dbs["sales"], "SELECT seq FROM crm_outbox WHERE seq BETWEEN %s AND %s"
            " AND type LIKE %s ORDER BY seq", min(seqs), max(seqs),
            "crm.sales.person.registered%")
        self.assertEqual(sorted(seqs), [r[0] for r in rows])


    def test_subscriptions_and_stage_edits(self):
        """Issue 20's dead ends through crm-api: a subscription recorded,
        shown with its ETag, changed with PATCH (the body's keys are the
        mask), renewed and cancelled; a pipeline's stage added, moved and its
        probability changed; an unknown currency is a 422 that writes nothing."""
        p, _ = self.ok("POST", "/v1/people", {"name": "Sub Scriber",
                                              "emails": ["sub@%s.example" % uuid.uuid4().hex]},
                       status=201)
        pid = p["person"]["id"]
        st, hd, out = self.request("POST", "/v1/subscriptions", {
            "person_id": pid, "plan": "Pro", "amount_minor": "1000", "currency": "XYZ"})
        self.problem(st, hd, out, 422)
        self.assertEqual(out["field"], "subscription.currency")
        lst, _ = self.ok("GET", "/v1/subscriptions?person_id=" + pid)
        self.assertEqual(lst.get("subscriptions", []), [])
        sub, _ = self.ok("POST", "/v1/subscriptions", {
            "person_id": pid, "plan": "Pro", "amount_minor": "1000", "currency": "EUR",
            "start_date": "2030-01-31"}, status=201)
        sid = sub["subscription"]["id"]
        self.assertEqual(sub["subscription"]["renewal_date"], "2030-02-28")
        got, hd = self.ok("GET", "/v1/subscriptions/" + sid)
        upd, _ = self.ok("PATCH", "/v1/subscriptions/" + sid, {"amount_minor": "1500"},
                         headers={"If-Match": hd["etag"]})
        self.assertEqual((upd["subscription"]["amount_minor"], upd["subscription"]["plan"]),
                         ("1500", "Pro"))
        # Renewed from 28 February: the start's day (31) where March has it.
        ren, _ = self.ok("POST", "/v1/subscriptions/%s/renew" % sid, {})
        self.assertEqual(ren["subscription"]["renewal_date"], "2030-03-31")
        can, _ = self.ok("POST", "/v1/subscriptions/%s/cancel" % sid, {"reason": "budget"})
        self.assertEqual(can["subscription"]["status"], "SUBSCRIPTION_STATUS_CANCELLED")
        st, hd, out = self.request("POST", "/v1/subscriptions/%s/renew" % sid, {})
        self.problem(st, hd, out, 409)  # FAILED_PRECONDITION: cancelled

        pipe, _ = self.ok("POST", "/v1/pipelines", {
            "name": "API %s" % uuid.uuid4().hex[:8],
            "stages": [{"name": "A", "probability": 10}, {"name": "B", "probability": 50}]},
            status=201)
        plid = pipe["pipeline"]["id"]
        r, _ = self.ok("POST", "/v1/pipelines/%s/stages" % plid,
                       {"stage": {"name": "C", "probability": 20}, "position": 1})
        self.assertEqual([x["name"] for x in r["pipeline"]["stages"]], ["C", "A", "B"])
        r, _ = self.ok("POST", "/v1/pipelines/%s/stage-moves" % plid, {"stage": "C", "position": 3})
        self.assertEqual([x["name"] for x in r["pipeline"]["stages"]], ["A", "B", "C"])
        r, _ = self.ok("POST", "/v1/pipelines/%s/stage-probabilities" % plid,
                       {"stage": "B", "probability": 55})
        self.assertEqual(r["pipeline"]["stages"][1]["probability"], 55)
        st, hd, out = self.request("POST", "/v1/pipelines/%s/stages" % plid,
                                   {"stage": {"name": "a", "probability": 5}})
        self.problem(st, hd, out, 409)

if __name__ == "__main__":
    unittest.main()
