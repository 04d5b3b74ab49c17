"""What the HTTP API tests share (test_api_*.py): a system with crm-api in
front of real services, an http.client helper that parses JSON and
problem+json answers, and the gateway's problem counters from /metrics."""
import http.client
import json
import unittest
import urllib.request

from crmtest import System, free_port

MAX_BODY = 4096


class ApiCase(unittest.TestCase):
    """A bus, crm-sales and crm-api, and a token for an admin (`test`)."""

    peers = ("sales",)
    probes = ("marketing", "support", "analytics")
    services = (("sales", "crm-sales", ("marketing", "support", "analytics")),)
    rate = ("1000", "1000")  # API_RATE_PER_SECOND, API_RATE_BURST

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
                "API_RATE_PER_SECOND": cls.rate[0], "API_RATE_BURST": cls.rate[1]})
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
            elif line.startswith("crm_api_service_problems_total{"):
                status = line.split('status="')[1].split('"')[0]
                out["service:" + status] = int(float(line.rsplit(" ", 1)[1]))
        return out

    def people_count(self):
        return self.sys.cluster.query(self.sys.dbs["sales"], "SELECT count(*) FROM person")[0][0]
