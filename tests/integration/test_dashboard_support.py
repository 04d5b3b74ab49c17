"""The dashboard's support page in a real browser (issue 17): with a 24x7
business calendar and a one-minute policy for low priority, a ticket opened
while crm-support's test clock stood three minutes back is breached when
the clock comes back (the SLA scan marks it); the queue shows it first and
highlighted, and a normal ticket beside it with its countdown in business
time. SLA compliance and CSAT come from the support figures. A marketer
opening #/support is told the page is not for their roles."""
import unittest

from dashtest import DashboardCase
from crmtest import testing_pb2, wait_for
from selenium.webdriver.common.by import By

MINUTE_US = 60 * 10**6


class SupportPageTest(DashboardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            # crm-support again, on its test clock, so the test can open a
            # ticket "three minutes ago" instead of waiting for a deadline.
            p = cls.sys.procs["support"]
            p.stop()
            p.env["CRM_TEST_CLOCK"] = "0"
            p.start()
            cls.make_tickets()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def clock(cls, offset_us):
        c = cls.sys.client("support")
        try:
            c.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=offset_us),
                   testing_pb2.ClockSetReply)
        finally:
            c.close()

    @classmethod
    def make_tickets(cls):
        self = cls("run")
        self.api("PUT", "/v1/business-calendar", {"hours": [
            {"weekday": d, "open_minute": 0, "close_minute": 1440} for d in range(1, 8)]},
            status=200)
        self.api("PUT", "/v1/sla-policies", {"priority": "TICKET_PRIORITY_LOW",
                                             "first_response_minutes": 1,
                                             "resolution_minutes": 1}, status=200)
        cls.clock(-3 * MINUTE_US)
        _, t = self.api("POST", "/v1/tickets", {
            "requester_email": "sara@dash.example", "requester_name": "سارا رضایی",
            "subject": "Printer on fire", "priority": "TICKET_PRIORITY_LOW",
            "type": "TICKET_TYPE_PROBLEM"}, status=201)
        cls.late = t["ticket"]["id"]
        cls.clock(0)
        _, t = self.api("POST", "/v1/tickets", {
            "requester_email": "omar@dash.example", "requester_name": "Omar Khayyam",
            "subject": "Invoice question", "type": "TICKET_TYPE_QUESTION"}, status=201)
        cls.fresh = t["ticket"]["id"]
        wait_for(lambda: self.api("GET", "/v1/tickets/" + cls.late)[1]["ticket"].get(
            "first_response_breached"), 30, "the SLA scan to mark the breach")

    def test_queue_highlights_the_breach(self):
        self.login("sup-sam")
        self.open("#/support")
        late = self.wait_for('#tickets tr[data-ticket="%s"].breached' % self.late)
        self.assertEqual(late.get_attribute("data-breached"), "true")
        self.assertIn("Breached", late.text)
        self.assertIn("breached", late.find_elements(By.CSS_SELECTOR, ".sla")[0].text)
        fresh = self.wait_for('#tickets tr[data-ticket="%s"]' % self.fresh)
        self.assertEqual(fresh.get_attribute("data-breached"), "false")
        # NORMAL is 480 business minutes; on a 24x7 calendar that is 8 h.
        fr = fresh.find_elements(By.CSS_SELECTOR, ".sla")[0]
        self.assertEqual(fr.get_attribute("data-sla"), "running")
        self.assertRegex(fr.text, r"^(7h 5\d|8h 00)m left$")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#tickets tbody tr")
        self.assertEqual(rows[0].get_attribute("data-ticket"), self.late)  # breaches first
        name = late.find_element(By.CSS_SELECTOR, "a")
        self.assertEqual((name.text, name.get_attribute("dir")), ("سارا رضایی", "auto"))
        # Breached only, by keyboard.
        self.driver.find_element(By.ID, "sup-breached").send_keys(" ")
        self.wait_gone('#tickets tr[data-ticket="%s"]' % self.fresh)
        self.driver.find_element(By.ID, "sup-breached").send_keys(" ")
        self.wait_for('#tickets tr[data-ticket="%s"]' % self.fresh)
        # SLA compliance and CSAT of the period, as support counts them.
        _, f = self.api("GET", "/v1/reports/support", status=200)
        self.wait_for('#support-figures [data-figure="backlog"]')
        self.assertEqual(self.text('#support-figures [data-figure="backlog"]'),
                         str(__import__("json").loads(f["json"])["backlog"]["total"]))
        self.assertIn("1 breached", self.text('#support-figures [data-figure="sla_first_response"]'))
        self.wait_for("#csat-trend canvas")
        self.screenshot("support")
        self.driver.set_window_size(390, 844)
        try:
            self.reload()
            self.wait_for('#tickets tr[data-ticket="%s"].breached' % self.late)
            self.screenshot("support-phone")
        finally:
            self.driver.set_window_size(self.width, self.height)
        self.assertEqual(self.console_errors(), [])

    def test_marketer_is_told_support_is_not_for_them(self):
        self.login("mkt-mia")
        self.open("#/support")
        self.assertIn("not for your roles", self.wait_for(".forbidden").text)
        self.assertFalse(self.driver.find_elements(By.CSS_SELECTOR, "#tickets"))


if __name__ == "__main__":
    unittest.main()
