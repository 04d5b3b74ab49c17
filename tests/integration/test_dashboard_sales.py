"""The dashboard's sales page in a real browser (issue 17): a rep sees
their own pipeline and a manager the team's; moving a deal with the stage
list on its card changes its stage through the API and shows in the event
feed; the weighted forecast is a Chart.js chart; amounts are shown in their
currency (JPY without decimals)."""
import http.client
import json
import time
import unittest

from dashtest import DashboardCase
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select


class SseReader:
    """GET /v1/events as a plain HTTP client: the events, one by one."""

    def __init__(self, port, token, query):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.c.request("GET", "/v1/events?" + query, headers={"Authorization": "Bearer " + token})
        self.r = self.c.getresponse()
        assert self.r.status == 200, self.r.status

    def next_matching(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.r.fp.readline()
            if not line:
                raise AssertionError("the event feed ended")
            if line.startswith(b"data: "):
                ev = json.loads(line[6:])
                if pred(ev):
                    return ev
        raise AssertionError("no matching event within %ss" % timeout)

    def close(self):
        self.c.close()


class TestDashboardSales(DashboardCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.seed()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def seed(cls):
        self = cls("run")
        _, p = self.api("POST", "/v1/people", {"name": "داریوش کمالی", "emails": [
            "darius@example.org"]}, status=201)
        cls.person = p["person"]["id"]
        _, pipes = self.api("GET", "/v1/pipelines", status=200)
        cls.sales_pipe = [p for p in pipes["pipelines"] if p["is_default"]][0]
        _, pp = self.api("POST", "/v1/pipelines", {"name": "Partners", "stages": [
            {"name": "Intro", "probability": 10}, {"name": "Pilot", "probability": 50},
            {"name": "Signed", "probability": 90}]}, status=201)
        cls.partners = pp["pipeline"]
        first = cls.sales_pipe["stages"][0]["name"]
        cls.deals = {}
        for title, owner, amount, cur, pipe, stage in (
                ("Ana Deal One", "rep-ana", "123456", "EUR", cls.sales_pipe["id"], first),
                ("Ana Yen Deal", "rep-ana", "150000", "JPY", cls.sales_pipe["id"], first),
                ("Ben Deal", "rep-ben", "99900", "USD", cls.sales_pipe["id"], first),
                ("Ben Partner", "rep-ben", "500000", "EUR", cls.partners["id"], "Intro")):
            _, d = self.api("POST", "/v1/deals", {
                "title": title, "person_id": cls.person, "pipeline_id": pipe, "stage": stage,
                "amount_minor": amount, "currency": cur, "owner": owner,
                "expected_close_date": time.strftime("%Y-%m-28", time.gmtime())}, status=201)
            cls.deals[title] = d["deal"]
        _, lead = self.api("POST", "/v1/leads", {"name": "Lina Lead", "email": "lina@example.org",
                                                 "company": "Lina Co", "owner": "rep-ana"},
                           status=201)
        cls.lead = lead["lead"]

    def deal_titles(self):
        # One read of the DOM in the page (the board may be redrawn between
        # a find and a read of a Selenium element).
        return sorted(self.driver.execute_script(
            "return [...document.querySelectorAll('#boards .deal .name')].map(e => e.textContent)"))

    def test_1_rep_sees_my_pipeline(self):
        self.login("rep-ana")
        self.open("#/sales")
        self.wait_for("h1", "my pipeline")
        self.wait_for("#boards .deal .name", "Ana Deal One")
        self.assertEqual(self.deal_titles(), ["Ana Deal One", "Ana Yen Deal"])
        # Amounts in their currency: EUR with cents, JPY without decimals.
        eur = self.wait_for(".deal[data-deal='%s']" % self.deals["Ana Deal One"]["id"])
        self.assertIn("1,234.56", eur.text)
        yen = self.wait_for(".deal[data-deal='%s']" % self.deals["Ana Yen Deal"]["id"])
        self.assertIn("150,000", yen.text)
        self.assertNotIn("150,000.00", yen.text)
        self.assertEqual(self.driver.find_elements(By.ID, "owner-filter"), [])
        # The forecast is a Chart.js chart.
        self.wait_for("#forecast canvas")
        self.wait_until(lambda d: d.execute_script(
            "return !!Chart.getChart(document.querySelector('#forecast canvas'))"),
            "the forecast chart")
        self.screenshot("sales-rep")
        self.assertEqual(self.console_errors(), [])

    def test_2_manager_sees_the_team(self):
        self.login("mgr-max")
        self.open("#/sales")
        self.wait_for("h1", "team")
        self.wait_for("#boards .deal .name", "Ben Partner")
        self.assertEqual(self.deal_titles(),
                         ["Ana Deal One", "Ana Yen Deal", "Ben Deal", "Ben Partner"])
        partners = self.wait_for("section.pipeline[data-pipeline='%s']" % self.partners["id"])
        self.assertIn("Ben Partner", partners.text)
        # The owner filter narrows the board to one rep.
        Select(self.driver.find_element(By.ID, "owner-filter")).select_by_value("rep-ben")
        self.wait_until(lambda d: self.deal_titles() == ["Ben Deal", "Ben Partner"],
                        "the board filtered to rep-ben")
        Select(self.driver.find_element(By.ID, "owner-filter")).select_by_value("")
        self.wait_until(lambda d: len(self.deal_titles()) == 4, "every deal again")
        self.wait_for("#weekly")
        self.screenshot("sales-manager")
        self.driver.set_window_size(390, 844)
        self.screenshot("sales-manager-phone")
        self.driver.set_window_size(self.width, self.height)

    def test_3_move_a_deal(self):
        deal = self.deals["Ana Deal One"]
        target = self.sales_pipe["stages"][2]["name"]
        feed = SseReader(self.sys.api_port, self.token, "from=now&type=crm.sales.deal.")
        try:
            self.login("rep-ana")
            self.open("#/sales")
            card = self.wait_for(".deal[data-deal='%s']" % deal["id"])
            # By keyboard: focus the card's stage list and choose a stage.
            sel = card.find_element(By.CSS_SELECTOR, "select")
            Select(sel).select_by_value(target)
            self.wait_for("#sales-status", "moved to " + target)
            self.wait_for(".stage[data-stage='%s'] .deal[data-deal='%s']" % (target, deal["id"]))
            # The API says so, and the feed carried it.
            _, got = self.api("GET", "/v1/deals/" + deal["id"], status=200)
            self.assertEqual(got["deal"]["stage"], target)
            ev = feed.next_matching(lambda e: e.get("type") == "crm.sales.deal.stage_changed.v1"
                                    and deal["id"] in json.dumps(e.get("data")))
            self.assertIn(target, json.dumps(ev["data"]))
            self.assertEqual(ev["actor"], "rep-ana")
            self.screenshot("sales-moved")
        finally:
            feed.close()
        # A rep cannot move another rep's deal: the API refuses, the board
        # says why, and the deal stays where it was.
        ben = self.deals["Ben Deal"]
        out = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "import('/ui/lib/api.js').then(m => m.api('POST', '/v1/deals/' + arguments[0] + '/stage',"
            " {stage: arguments[1]})).then(() => done('ok'), e => done(e.status))", ben["id"], target)
        self.assertIn(out, (403, 404))
        _, got = self.api("GET", "/v1/deals/" + ben["id"], status=200)
        self.assertEqual(got["deal"]["stage"], ben["stage"])

    def test_4_lead_inbox_converts(self):
        self.login("rep-ana")
        self.open("#/sales")
        btn = self.wait_for("#leads button[data-lead='%s']" % self.lead["id"])
        self.assertIn("Lina Lead", self.text("#leads"))
        btn.click()
        self.wait_for("#leads [role=status]", "Converted Lina Lead")
        _, leads = self.api("GET", "/v1/leads?status=LEAD_STATUS_CONVERTED", status=200)
        conv = [x for x in leads["leads"] if x["id"] == self.lead["id"]]
        self.assertEqual(len(conv), 1)
        self.assertTrue(conv[0]["deal_id"])
        # The new deal joins the rep's board (the feed redraws it).
        self.wait_for(".deal[data-deal='%s']" % conv[0]["deal_id"])
        self.screenshot("sales-lead-converted", full=True)


if __name__ == "__main__":
    unittest.main()
