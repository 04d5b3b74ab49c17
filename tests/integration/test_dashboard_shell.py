"""The dashboard's shell in a real browser (issue 17): crm-api serves the
static files (content types, CSP, ETag, no traversal), staff log in with a
password set by `crmctl staff password`, and bad input - a wrong password,
an expired session, a page beyond the user's roles - gives a clear message
and changes nothing."""
import hashlib
import http.client
import os
import time
import unittest

from dashtest import PASSWORD, DashboardCase
from selenium.webdriver.common.by import By


def raw_get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


class TestDashboardShell(DashboardCase):

    def test_1_serving(self):
        port = self.sys.api_port
        st, hd, body = raw_get(port, "/")
        self.assertEqual(st, 200)
        self.assertTrue(hd["content-type"].startswith("text/html"), hd)
        self.assertIn(b'<script type="module" src="/ui/app.js">', body)
        csp = hd["content-security-policy"]
        self.assertIn("script-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(hd["x-content-type-options"], "nosniff")
        self.assertIn("no-cache", hd["cache-control"])
        st, hd, body = raw_get(port, "/ui/app.js")
        self.assertEqual(st, 200)
        self.assertTrue(hd["content-type"].startswith("text/javascript"), hd)
        etag = hd["etag"]
        st, hd, body = raw_get(port, "/ui/app.js", {"If-None-Match": etag})
        self.assertEqual((st, body), (304, b""))
        st, hd, body = raw_get(port, "/ui/chart.umd.js")
        self.assertEqual(st, 200)
        self.assertIn(b"Chart.js v4", body[:200])
        self.assertTrue(hd["content-type"].startswith("text/javascript"))
        st, hd, body = raw_get(port, "/ui/app.css")
        self.assertTrue(hd["content-type"].startswith("text/css"))
        # Nothing outside the files loaded at start: no traversal, no listing.
        for path in ("/ui/../CMakeCache.txt", "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/lib/",
                     "/ui/lib", "/ui/nothing.js", "/ui//app.js", "/ui/lib/../app.js"):
            st, hd, body = raw_get(port, path)
            self.assertEqual(st, 404, path)
            self.assertTrue(hd["content-type"].startswith("application/problem+json"), path)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/ui/app.js", body=b"x")
        self.assertEqual(c.getresponse().status, 405)
        c.close()

    def test_2_wrong_password(self):
        before = self.sys.cluster.query(self.sys.dbs["api"], "SELECT count(*) FROM api_session")
        self.login("rep-ana", "not the password", expect_ok=False)
        msg = self.wait_for("#login-error", "Wrong principal or password")
        self.assertTrue(msg.is_displayed())
        self.screenshot("login-wrong-password")
        self.login("nobody-at-all", "whatever", expect_ok=False)
        self.wait_for("#login-error", "Wrong principal or password")
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#top:not([hidden])"), [])
        after = self.sys.cluster.query(self.sys.dbs["api"], "SELECT count(*) FROM api_session")
        self.assertEqual(before, after)  # no session made
        # The API answers a problem; no cookie is set.
        c = http.client.HTTPConnection("127.0.0.1", self.sys.api_port, timeout=30)
        c.request("POST", "/v1/sessions", body='{"principal":"rep-ana","password":"nope"}',
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.getheader("Set-Cookie"))
        c.close()

    def test_3_rate_limited(self):
        # Five failures for one principal within a minute: the sixth
        # attempt is refused before any hashing, even with the right
        # password, and says when to try again.
        for _ in range(5):
            st, out = self.login_api("sup-sam", "wrong password")
            self.assertEqual(st, 401, out)
        st, out = self.login_api("sup-sam", PASSWORD)
        self.assertEqual(st, 429, out)
        self.assertEqual(out["code"], "rate_limited")

    def login_api(self, principal, password):
        import json
        c = http.client.HTTPConnection("127.0.0.1", self.sys.api_port, timeout=30)
        c.request("POST", "/v1/sessions", body=json.dumps({"principal": principal,
                                                            "password": password}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        out = json.loads(r.read())
        c.close()
        return r.status, out

    def test_4_login_nav_and_roles(self):
        self.login("rep-ana")
        self.wait_for("#nav a", "Sales")
        self.assertEqual(self.driver.find_element(By.ID, "who").text, "rep-ana · sales-rep")
        # A page beyond the role: a clear message, no content.
        self.open("#/quality-not-a-page")
        self.wait_for("main .error", "There is no page")
        cookie = self.driver.get_cookie("crm_session")["value"]
        self.assertTrue(cookie.startswith("crs_"))
        st, _, _ = raw_get(self.sys.api_port, "/v1/sessions/current",
                           {"Cookie": "crm_session=" + cookie})
        self.assertEqual(st, 200)
        self.logout()
        # The session ended on the server, not only in this browser.
        st, _, body = raw_get(self.sys.api_port, "/v1/sessions/current",
                              {"Cookie": "crm_session=" + cookie})
        self.assertEqual(st, 401)
        self.assertIn(b"session ended", body)
        self.login("mkt-mia")
        self.open("#/sales")
        msg = self.wait_for(".forbidden", "not for your roles")
        self.assertIn("sales-rep", msg.text)
        self.assertIn("marketer", msg.text)
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "[data-page=sales]"), [])
        self.screenshot("page-beyond-role")
        self.logout()

    def test_5_expired_session(self):
        # A session whose time is up, as crm-api stores it: the dashboard
        # says so and shows the login form.
        import secrets
        sid, secret = secrets.token_hex(8), secrets.token_hex(32)
        h = hashlib.blake2b(secret.encode(), digest_size=32).hexdigest()
        self.sys.cluster.query(
            self.sys.dbs["api"],
            "INSERT INTO api_session (id, secret_hash, principal, expires_at)"
            " VALUES (%s, decode(%s, 'hex'), 'rep-ana', now() - interval '1 minute')", sid, h)
        d = self.driver
        d.get(self.base + "/ui/app.css")
        d.delete_all_cookies()
        d.add_cookie({"name": "crm_session", "value": "crs_%s_%s" % (sid, secret), "path": "/"})
        d.get(self.base + "/#/sales")
        self.wait_for("#banner", "session has expired")
        self.wait_for("#login-principal")
        self.screenshot("session-expired")
        # Logging in again works and lands where asked.
        d.find_element(By.ID, "login-principal").send_keys("rep-ana")
        d.find_element(By.ID, "login-password").send_keys(PASSWORD)
        d.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        self.wait_for("[data-page=sales]")
        self.assertEqual(self.console_errors(), [])

    def test_6_password_command(self):
        db = self.sys.dbs["api"]

        def stored(name):
            rows = self.sys.cluster.query(
                db, "SELECT password_hash FROM api_staff_password WHERE principal = %s", name)
            return rows[0][0] if rows else None
        before = stored("rep-ben")
        self.assertTrue(before.startswith("$argon2id$"), before)
        self.assertNotIn(PASSWORD, before)
        # Bad input changes nothing: not staff, too short, not a hash.
        p = self.crmctl("staff", "password", "no-such-person", stdin="long enough pw\n", rc=1)
        self.assertIn("not staff", p.stderr)
        p = self.crmctl("staff", "password", "rep-ben", stdin="short\n", rc=2)
        self.assertIn("at least 8", p.stderr)
        from crm.v1 import api_pb2
        c = self.sys.client("api")
        try:
            rep = c.call("api.staff.password.set", api_pb2.SetStaffPasswordRequest(
                principal="rep-ben", password_hash="plain text password"))
        finally:
            c.close()
        self.assertEqual(rep.status.field, "password_hash", rep.status)
        self.assertEqual(stored("rep-ben"), before)
        # A non-admin may not set passwords.
        c = self.sys.client("api", principal="rep-ana")
        try:
            rep = c.call("api.staff.password.set", api_pb2.SetStaffPasswordRequest(
                principal="rep-ana", password_hash=before))
        finally:
            c.close()
        self.assertNotEqual(rep.status.code, 0)
        # Removed: the old password no longer logs in; set again: it does.
        self.crmctl("staff", "password", "rep-ben", "--remove")
        self.assertIsNone(stored("rep-ben"))
        st, out = self.login_api("rep-ben", PASSWORD)
        self.assertEqual(st, 401, out)
        self.crmctl("staff", "password", "rep-ben", stdin="a new password\n")
        st, out = self.login_api("rep-ben", "a new password")
        self.assertEqual(st, 201, out)
        self.assertEqual(out["principal"], "rep-ben")

    def test_7_formatting(self):
        # lib/fmt.js in the browser: amounts exact in their currency's
        # minor units, text never parsed as HTML, names with dir="auto".
        self.open("#/home")
        self.wait_for("body")
        out = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "import('/ui/lib/fmt.js').then(f => done({"
            " eur: f.money('123456', 'EUR'), jpy: f.money('1500', 'JPY'),"
            " kwd: f.money('1234', 'KWD'), neg: f.money('-5', 'EUR'),"
            " big: f.money('900719925474099312', 'USD'),"
            " html: f.el('span', {dir: 'auto'}, '<b>x</b>').outerHTML,"
            " date: f.date('1765000000000000')}))")
        self.assertIn("1,234.56", out["eur"])
        self.assertIn("1,500", out["jpy"])
        self.assertNotIn(".", out["jpy"])
        self.assertIn("1.234", out["kwd"])
        self.assertIn("0.05", out["neg"])
        self.assertIn("-", out["neg"])
        self.assertIn("9,007,199,254,740,993.12", out["big"])  # past 2^53: exact
        self.assertEqual(out["html"], '<span dir="auto">&lt;b&gt;x&lt;/b&gt;</span>')
        self.assertIn("2025", out["date"])


if __name__ == "__main__":
    unittest.main()
