"""The dashboard's marketing pages in a real browser (issue 17): a campaign
that mailed three people, spent, got responses and an attributed order,
opened as a marketer; every figure the campaign page shows equals `crmctl
-o json campaign results`, the cost-against-revenue table sums to the cost
and revenue, the three attribution models are there; the list shows budget
against spend and ROI, the compare view and the segment counts equal the
API's. A sales rep opening #/marketing gets a clear message and no data.
Screenshots of each page, at laptop and phone widths."""
import json
import time
import unittest
import uuid

from dashtest import DashboardCase
from crmtest import wait_for
from selenium.webdriver.common.by import By


class MarketingPagesTest(DashboardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.make_campaign()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def make_campaign(cls):
        self = cls("run")
        cls.people = []
        for name in ("Ada Lovelace", "پریسا احمدی", "Grace Hopper"):
            _, p = self.api("POST", "/v1/people", {"name": name, "emails": [
                "%s@dash.example" % uuid.uuid4().hex[:10]]}, status=201)
            cls.people.append(p["person"]["id"])
        for pid in cls.people:  # marketing knows them
            wait_for(lambda pid=pid: self.api("GET", "/v1/consent/" + pid)[0] == 200, 30,
                     "marketing to know %s" % pid)
        # A fourth recipient never consented: suppressed, by reason.
        _, p = self.api("POST", "/v1/people", {"name": "Nadia No-Consent", "emails": [
            "%s@dash.example" % uuid.uuid4().hex[:10]]}, status=201)
        cls.unconsented = p["person"]["id"]
        for pid in cls.people:  # email marketing needs their consent
            self.api("POST", "/v1/consent/%s/grants" % pid, {
                "purpose": "CONSENT_PURPOSE_EMAIL_MARKETING", "source": "CONSENT_SOURCE_FORM"},
                status=201)
        _, c = self.api("POST", "/v1/campaigns", {
            "name": "کمپین بهار Spring", "channels": ["CHANNEL_EMAIL"], "currency": "EUR",
            "budget_minor": "100000"}, status=201)
        cls.cid = cid = c["campaign"]["id"]
        self.api("PUT", "/v1/messages", {"campaign_id": cid, "channel": "CHANNEL_EMAIL",
                                         "subject": "Spring", "body": "Hello {{name}}"}, status=200)
        wait_for(lambda: self.api("GET", "/v1/consent/" + cls.unconsented)[0] == 200, 30,
                 "marketing to know the fourth")
        self.api("POST", "/v1/campaigns/%s/targets" % cid,
                 {"customer_ids": cls.people + [cls.unconsented]}, status=200)
        self.api("POST", "/v1/campaigns/%s/launch" % cid, {}, status=200)
        wait_for(lambda: (int(cls.results(self).get("sent", 0)),
                          int(cls.results(self).get("suppressed", 0))) == (3, 1), 60,
                 "three sends and one suppressed")
        self.api("POST", "/v1/expenses", {"campaign_id": cid, "amount_minor": "12000",
                                          "category": "ads"}, status=201)
        self.api("POST", "/v1/expenses", {"campaign_id": cid, "amount_minor": "3050",
                                          "category": "print"}, status=201)
        for pid, rt in ((cls.people[0], "RESPONSE_TYPE_CLICKED"),
                        (cls.people[1], "RESPONSE_TYPE_INTERESTED"),
                        (cls.people[1], "RESPONSE_TYPE_CLICKED")):
            self.api("POST", "/v1/responses", {"campaign_id": cid, "customer_id": pid,
                                               "response": rt}, status=201)
        self.api("POST", "/v1/orders", {"person_id": cls.people[1], "currency": "EUR",
                                        "total_minor": "25000", "items": [{
                                            "product_code": "SKU-1", "quantity": 1,
                                            "unit_price_minor": "25000"}]}, status=201)
        wait_for(lambda: int(cls.results(self).get("conversions", 0)) == 1, 60,
                 "the order attributed")
        # A past campaign to compare with.
        _, p = self.api("POST", "/v1/campaigns", {
            "name": "Autumn", "channels": ["CHANNEL_EMAIL"], "currency": "EUR",
            "budget_minor": "5000"}, status=201)
        cls.past = p["campaign"]["id"]
        self.api("POST", "/v1/expenses", {"campaign_id": cls.past, "amount_minor": "4000"},
                 status=201)
        _, s = self.api("POST", "/v1/segments", {"name": "Responded to spring", "rules": [
            {"kind": "SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN", "value": cid}]}, status=201)
        cls.segment = s["segment"]["id"]

    @classmethod
    def results(cls, self):
        return self.api("GET", "/v1/campaigns/%s/results" % cls.cid, status=200)[1]["results"]

    def crmctl_results(self):
        out = json.loads(self.crmctl("-o", "json", "campaign", "results", self.cid).stdout)
        return out.get("results", out)

    def figure(self, key):
        return self.driver.find_element(By.CSS_SELECTOR, '#campaign-figures [data-figure="%s"]'
                                        % key)

    def test_campaign_page_equals_crmctl(self):
        self.login("mkt-mia")
        self.open("#/campaign/" + self.cid)
        self.wait_for("#campaign-figures")
        self.wait_for("#attribution tbody tr")
        r = self.crmctl_results()
        n = lambda v: str(int(v or 0))  # noqa: E731 (64-bit integers come as strings)
        for key in ("recipients", "sent", "delivered", "delivery_failed", "suppressed",
                    "deferred", "responders", "conversions", "revenue_minor", "cost_minor",
                    "unsolicited_responses"):
            self.assertEqual(self.figure(key).get_attribute("data-value"), n(r.get(key)), key)
        for key in ("budget_minor", "spent_minor", "remaining_minor"):
            self.assertEqual(self.figure(key).get_attribute("data-value"),
                             n(r["budget"].get(key)), key)
        self.assertTrue(r.get("roi_defined"))
        self.assertEqual(self.figure("roi_bp").get_attribute("data-value"), n(r["roi_bp"]))
        self.assertEqual(self.figure("response_rate_bp").get_attribute("data-value"),
                         n(r["response_rate_bp"]))
        # The amounts are shown in their currency, and agree with the data.
        self.assertEqual((r["cost_minor"], r["revenue_minor"]), ("15050", "25000"))
        self.assertIn("150.50", self.figure("cost_minor").text)
        self.assertIn("€", self.figure("cost_minor").text)
        self.assertEqual([(e.get_attribute("data-reason"), e.text.split()[-2:])
                          for e in self.driver.find_elements(By.CSS_SELECTOR, "#reasons tbody tr")],
                         [("no_consent", ["1", "0"])])
        # Responses by type.
        shown = {e.get_attribute("data-response"): e.find_elements(By.TAG_NAME, "td")[1].text
                 for e in self.driver.find_elements(By.CSS_SELECTOR, "#responses tbody tr")}
        self.assertEqual(shown, {x["response"]: n(x["count"]) for x in r["responses"]})
        # The three attribution models, as crmctl gives them.
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#attribution tbody tr")
        self.assertEqual({e.get_attribute("data-model"): (e.get_attribute("data-revenue"),
                                                         e.get_attribute("data-conversions"))
                          for e in rows},
                         {a["model"]: (n(a.get("revenue_minor")), n(a.get("conversions")))
                          for a in r["attribution"]})
        self.assertEqual(len(rows), 3)
        # Cost against revenue over time: the days sum to the figures.
        days = r["by_day"]
        self.assertEqual(sum(int(d.get("cost_minor", 0)) for d in days), 15050)
        self.assertEqual(sum(int(d.get("revenue_minor", 0)) for d in days), 25000)
        self.assertEqual([e.get_attribute("data-day") for e in self.driver.find_elements(
            By.CSS_SELECTOR, "#by-day tbody tr")], [d["date"] for d in days])
        self.assertEqual(len(self.driver.find_elements(By.CSS_SELECTOR, "#campaign-body canvas")),
                         4)
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, "h1").get_attribute("dir"),
                         "auto")
        self.screenshot("campaign")
        self.driver.set_window_size(390, 844)
        try:
            self.open("#/campaign/" + self.cid)
            self.wait_for("#attribution tbody tr")
            self.screenshot("campaign-phone")
        finally:
            self.driver.set_window_size(self.width, self.height)
        self.assertEqual(self.console_errors(), [])

    def test_list_compare_and_segments(self):
        self.login("mkt-mia")
        self.open("#/marketing")
        row = self.wait_for('#campaigns tr[data-campaign="%s"]' % self.cid)
        self.assertIn("150.50", row.text)
        self.assertIn("1,000.00", row.text)
        r = self.results(self)
        self.assertEqual(row.find_element(By.CSS_SELECTOR, '[data-figure="roi"]').text,
                         "%.2f%%" % (int(r["roi_bp"]) / 100))
        name = row.find_element(By.CSS_SELECTOR, "a")
        self.assertEqual(name.get_attribute("dir"), "auto")
        self.screenshot("marketing")
        # Keyboard: choose two campaigns and compare them.
        self.driver.find_element(By.ID, "pick-" + self.cid).send_keys(" ")
        self.driver.find_element(By.ID, "pick-" + self.past).send_keys(" ")
        self.driver.find_element(By.ID, "mkt-compare").send_keys("\n")
        self.wait_for("#comparison")
        heads = [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "#comparison thead th")]
        self.assertEqual(len(heads), 3, heads)
        cost = [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "#comparison tbody tr")
                if e.text.startswith("Cost ")][0]
        self.assertIn("150.50", cost)
        self.assertIn("40.00", cost)
        self.screenshot("compare")
        # Segment membership counts equal the API's.
        wait_for(lambda: int(self.api("GET", "/v1/segments/%s/members" % self.segment)[1]
                             .get("count", 0)) == 2, 30, "the segment evaluated")
        self.open("#/segments")
        seg = self.wait_for('#segments tr[data-segment="%s"]' % self.segment)
        self.assertEqual(seg.find_element(By.CSS_SELECTOR, '[data-figure="members"]').text, "2")
        self.screenshot("segments")
        self.assertEqual(self.console_errors(), [])

    def test_rep_is_told_marketing_is_not_for_them(self):
        self.login("rep-ana")
        self.open("#/marketing")
        msg = self.wait_for(".forbidden")
        self.assertIn("not for your roles", msg.text)
        self.assertFalse(self.driver.find_elements(By.CSS_SELECTOR, "#campaigns"))
        self.open("#/campaign/" + self.cid)
        self.wait_for(".forbidden")
        self.screenshot("marketing-forbidden")


if __name__ == "__main__":
    unittest.main()
