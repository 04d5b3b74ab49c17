"""The dashboard's home and customer pages in a real browser (issue 17): a
change made with crmctl shows on the home page without a reload, from the
event feed; the customer 360 shows profile, health with reasons and the
timeline with who did what, and an earlier as-of moment shows the old
name. Right-to-left names are shown with dir="auto"."""
import json
import time
import unittest

from dashtest import DashboardCase
from selenium.webdriver.common.by import By

# How long the home page may take to show a change: generous for a busy CI
# machine; the figure measured is printed (the issue asks for under a second).
LIVE_BOUND_S = 10


class TestDashboardCustomer(DashboardCase):

    def customer_known(self, pid):
        st, _ = self.api("GET", "/v1/customers/" + pid)
        return st == 200

    def kpi(self, name):
        return self.driver.execute_script(
            "const e = document.querySelector('#kpi-%s .value'); return e ? e.textContent : null"
            % name)

    def test_1_home_updates_live(self):
        self.login("admin-dash")
        self.open("#/home")
        self.wait_for("#kpi-customers")
        self.wait_for("#live-status", "waiting for changes")
        before = int(self.kpi("customers"))
        # A marker on the window: it survives only if the page is not reloaded.
        self.driver.execute_script("window.__noReload = 42")
        t0 = time.monotonic()
        out = self.crmctl("person", "register", "--name", "Live Person", "--email",
                          "live@example.org", "-o", "json")
        pid = json.loads(out.stdout)["person"]["id"] if out.stdout.strip().startswith("{") else None
        self.wait_until(lambda d: self.kpi("customers") == str(before + 1),
                        "the customers KPI to go from %d to %d" % (before, before + 1),
                        timeout=LIVE_BOUND_S)
        took = time.monotonic() - t0
        self.wait_for("#feed li[data-type^='crm.sales.person.']", timeout=LIVE_BOUND_S)
        self.assertEqual(self.driver.execute_script("return window.__noReload"), 42)
        print("home page showed the new customer %.2f s after crmctl started" % took)
        self.screenshot("home", full=True)
        self.assertEqual(self.console_errors(), [])
        self.assertTrue(pid is None or pid)

    def test_2_customer_as_of(self):
        _, p = self.api("POST", "/v1/people", {"name": "Old Name", "emails": [
            "asof@example.org"]}, status=201)
        pid = p["person"]["id"]
        self.wait_until(lambda d: self.customer_known(pid), "analytics to know the customer")
        _, c = self.api("GET", "/v1/customers/" + pid, status=200)
        created_us = max(int(e["at_us"]) for e in c["timeline"])
        # The moment to look back to: the second after the registration, once
        # the clock has passed it (the picker takes whole seconds).
        between = (created_us // 1000000 + 1) * 1000000
        self.wait_until(lambda d: time.time() * 1e6 > between + 200000, "the clock to move on")
        self.crmctl("person", "update", pid, "--name", "شیرین نو")
        self.wait_until(lambda d: self.api("GET", "/v1/customers/" + pid)[1]["profile"]["name"]
                        == "شیرین نو", "analytics to apply the rename")
        self.login("rep-ana")
        # From the customer list, found by name.
        self.open("#/customers")
        self.wait_for("#customers-table")
        self.driver.find_element(By.ID, "customer-filter").send_keys("شیرین")
        self.wait_for("#customers-table a", "شیرین نو").click()
        self.wait_until(lambda d: d.current_url.endswith("#/customer/" + pid), "the customer 360")
        name = self.wait_for("#customer-name", "شیرین نو")
        self.assertEqual(name.get_attribute("dir"), "auto")
        self.wait_for("#timeline li", "test")  # who did what: the harness's admin
        self.wait_for("#health-score")
        self.screenshot("customer-today", full=True)
        # Pick the earlier moment (local time, to the second).
        local = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(between / 1e6))
        self.driver.execute_script(
            "const i = document.getElementById('as-of'); i.value = arguments[0];"
            " i.dispatchEvent(new Event('change', {bubbles: true}))", local)
        self.wait_for("#customer-name", "Old Name")
        self.wait_for("#profile-name", "Old Name")
        self.wait_for("#as-of-note", "as they were")
        self.screenshot("customer-as-of", full=True)
        # Back to today.
        self.driver.find_element(By.ID, "as-of-now").click()
        self.wait_for("#customer-name", "شیرین نو")
        self.assertEqual(self.console_errors(), [])


if __name__ == "__main__":
    unittest.main()
