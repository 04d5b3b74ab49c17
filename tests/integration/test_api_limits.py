"""The HTTP API's per-token rate limit (issue 16): a token bucket per API
token or session; a caller over it is answered 429 problem+json with
Retry-After, counted in /metrics, and nothing is written. Another token is
not held back by it."""
import unittest
import urllib.request

from apitest import ApiCase
from crmtest import wait_for


class TestApiRateLimit(ApiCase):
    rate = ("1", "3")  # one request a second, three at once

    def test_rate_limited(self):
        other, _ = self.sys.api_token("test")
        m0 = self.metrics()
        before = self.people_count()
        answers = [self.request("POST", "/v1/people", {"name": "Burst %d" % i})
                   for i in range(6)]
        limited = [a for a in answers if a[0] == 429]
        self.assertTrue(limited, [a[0] for a in answers])
        st, hd, out = limited[0]
        self.problem(st, hd, out, 429, "rate_limited")
        self.assertGreaterEqual(int(hd["retry-after"]), 1)
        created = sum(1 for a in answers if a[0] == 201)
        self.assertEqual(self.people_count(), before + created)
        self.assertLessEqual(created, 4)  # the burst, and at most one refill
        self.assertEqual(self.request("GET", "/v1/people?page_size=1", token=other)[0], 200)
        m1 = self.metrics()
        self.assertEqual(m1["rate_limited"] - m0["rate_limited"], len(limited))


    def test_ready_and_publishing(self):
        # crm-api's own stream reaches the bus like a service's (its key is
        # of kind gateway, which the bus admits for its own topics only).
        port = self.sys.procs["api"].env["CRM_HTTP_PORT"]

        def ready():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%s/readyz" % port, timeout=5) as r:
                    return r.status == 200
            except OSError:
                return False
        wait_for(ready, 30, "crm-api's /readyz")
        self.assertNotIn("refused a gateway", self.sys.procs["bus"].read_log())


if __name__ == "__main__":
    unittest.main()
