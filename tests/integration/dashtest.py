"""What the dashboard's browser tests share (test_dashboard_*.py): the whole
system (crm-sales, crm-marketing, crm-support, crm-analytics) behind crm-api
serving the dashboard from the build's web/ directory, staff principals
with passwords set through `crmctl staff password`, and one headless Debian
Chromium per test class driven by chromium-driver through python3-selenium.

Helpers: login(principal, password), logout(), open(hash), wait_for(css,
text=...) and wait_gone(css) (explicit waits on the DOM, never sleeps),
screenshot(name) into ${build}/tests/dashboard/screenshots/, and api()
for the HTTP API with the admin's token. Each test class gets one browser,
reused by its tests; keep classes few and tests short."""
import http.client
import json
import os
import shutil
import subprocess
import unittest
import uuid

from crmtest import BUILD, System, free_port, keyring, run_crmctl  # noqa: F401

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ALL = ("sales", "marketing", "support", "analytics")
SERVICES = (("sales", "crm-sales", ("marketing", "support", "analytics")),
            ("marketing", "crm-marketing", ("sales", "support")),
            ("support", "crm-support", ("sales", "marketing")),
            ("analytics", "crm-analytics", ("sales", "marketing", "support")))
SHOTS = os.path.join(BUILD, "tests", "dashboard", "screenshots")
PASSWORD = "correct horse battery"
# Long enough for a busy 2-core machine; waits return as soon as the DOM is ready.
WAIT_S = 30


def chromium_path():
    for p in ("/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if os.path.exists(p):
            return p
    return shutil.which("chromium")


class DashboardCase(unittest.TestCase):
    """The system, crm-api with the dashboard, staff principals and a browser.

    `staff` maps principal -> (kind, teams, roles); each gets PASSWORD."""

    staff = {
        "admin-dash": ("staff", "-", "admin"),
        "rep-ana": ("staff", "east", "sales-rep"),
        "rep-ben": ("staff", "west", "sales-rep"),
        "mgr-max": ("staff", "east,west", "sales-manager"),
        "mkt-mia": ("staff", "-", "marketer"),
        "sup-sam": ("staff", "-", "support-agent"),
    }
    width, height = 1280, 900
    api_env = {}

    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        cls.driver = None
        try:
            keys = keyring()
            for name, (kind, teams, roles) in cls.staff.items():
                keys.key(name, kind, teams=teams, roles=roles)
            cls.sys.start_bus()
            for name, binary, peers in SERVICES:
                cls.sys.endpoints.setdefault(name, "tcp://127.0.0.1:%d" % free_port())
            for name, binary, peers in SERVICES:
                cls.sys.add_service(name, binary, peers=peers, start=True)
            env = {"API_WEB_DIR": os.path.join(BUILD, "web"), "API_RATE_PER_SECOND": "1000",
                   "API_RATE_BURST": "1000"}
            env.update(cls.api_env)
            cls.sys.add_api(peers=ALL, env=env)
            cls.token, _ = cls.sys.api_token("test")
            for name in cls.staff:
                cls.set_password(name, PASSWORD)
            cls.driver = cls.start_browser()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.driver:
            try:
                cls.driver.quit()
            except Exception:
                pass
            cls.driver = None
        cls.sys.close()

    # ---- the system ------------------------------------------------------

    @classmethod
    def crmctl_env(cls):
        return dict(os.environ, CRM_SERVICES=",".join(
            "%s=%s" % (n, cls.sys.endpoints[n]) for n in ALL + ("api",)))

    def crmctl(self, *args, rc=0, stdin=None):
        if stdin is None:
            return run_crmctl(self, self.crmctl_env(), args, rc, timeout=60)
        p = subprocess.run([os.path.join(BUILD, "bin", "crmctl")] + list(args),
                           env=self.crmctl_env(), input=stdin, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, rc, "crmctl %s: %s %s" % (args, p.stdout, p.stderr))
        return p

    @classmethod
    def set_password(cls, principal, password):
        p = subprocess.run([os.path.join(BUILD, "bin", "crmctl"), "staff", "password", principal],
                           env=cls.crmctl_env(), input=password + "\n", capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, "crmctl staff password %s: %s %s" % (principal, p.stdout,
                                                                     p.stderr)

    def api(self, method, path, body=None, token=None, status=None):
        """The HTTP API as the admin (or `token`): (status, parsed JSON)."""
        c = http.client.HTTPConnection("127.0.0.1", self.sys.api_port, timeout=30)
        h = {"Authorization": "Bearer " + (token or self.token)}
        if body is not None:
            h["Content-Type"] = "application/json"
            h["Idempotency-Key"] = str(uuid.uuid4())
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        out = json.loads(text) if text and r.getheader("Content-Type", "").startswith(
            ("application/json", "application/problem+json")) else text
        if status is not None:
            self.assertEqual(r.status, status, "%s %s: %s" % (method, path, out))
        return r.status, out

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.sys.api_port

    # ---- the browser -----------------------------------------------------

    @classmethod
    def start_browser(cls):
        o = webdriver.ChromeOptions()
        o.binary_location = chromium_path()
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=%d,%d" % (cls.width, cls.height), "--lang=en-GB",
                  "--disable-extensions", "--no-first-run"):
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        d = webdriver.Chrome(service=service, options=o)
        d.set_page_load_timeout(WAIT_S)
        return d

    def open(self, hash_="#/home"):
        """Opens the dashboard at `hash_` (a full load when not yet there)."""
        d = self.driver
        if not d.current_url.startswith(self.base + "/"):
            d.get(self.base + "/" + hash_)
        else:
            d.execute_script("location.hash = arguments[0]", hash_)

    def reload(self):
        self.driver.refresh()

    def wait_for(self, css, text=None, timeout=WAIT_S, visible=True):
        """The first element matching `css` (whose text contains `text`,
        when given) once it is in the DOM; fails after timeout."""
        def find(d):
            for e in d.find_elements(By.CSS_SELECTOR, css):
                try:
                    if visible and not e.is_displayed():
                        continue
                    if text is None or text in e.text:
                        return e
                except Exception:
                    continue
            return False
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(find)
        except TimeoutException:
            self.screenshot("timeout-" + self.id().rsplit(".", 1)[-1])
            raise AssertionError("timed out after %ss waiting for %s%s; page text: %s" % (
                timeout, css, " with %r" % text if text else "",
                self.driver.find_element(By.TAG_NAME, "body").text[:1500]))

    def wait_until(self, fn, what, timeout=WAIT_S):
        """Waits until fn(driver) is truthy (a DOM condition)."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(fn)
        except TimeoutException:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))

    def wait_gone(self, css, timeout=WAIT_S):
        self.wait_until(lambda d: not d.find_elements(By.CSS_SELECTOR, css), "%s to go" % css,
                        timeout)

    def text(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def login(self, principal, password=PASSWORD, expect_ok=True):
        """Logs in through the form (logging out first when logged in)."""
        d = self.driver
        # A real load (not a hash change on the same document), without
        # the session cookie.
        d.get(self.base + "/ui/app.css")
        d.delete_all_cookies()
        d.get(self.base + "/#/home")
        self.wait_for("#login-principal")
        for field, value in (("login-principal", principal), ("login-password", password)):
            e = d.find_element(By.ID, field)
            e.clear()
            e.send_keys(value)
        d.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        if expect_ok:
            self.wait_for("#who", principal)

    def logout(self):
        self.driver.find_element(By.ID, "logout").click()
        self.wait_for("#login-principal")

    def screenshot(self, name, full=False):
        """Saves a PNG of the window (full=True: of the whole page, by
        making the window as tall as the page for the picture)."""
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name + ".png")
        d = self.driver
        if full:
            w = d.get_window_size()["width"]
            h = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(w, min(max(h + 120, self.height), 4000))
        try:
            d.save_screenshot(path)
        finally:
            if full:
                d.set_window_size(w, self.height)
        return path

    def console_errors(self):
        """The browser console's errors since the last call (JS exceptions,
        CSP refusals, failed module loads); 4xx answers the test asked for
        show as network errors and are left out."""
        out = []
        for e in self.driver.get_log("browser"):
            if e.get("level") == "SEVERE" and "Failed to load resource" not in e.get("message", ""):
                out.append(e["message"])
        return out
