"""Support: the help desk's management figures (support.report.figures,
crmctl sla figures) over a set of tickets whose CSAT, SLA compliance,
backlog and per-agent and per-team figures are worked out by hand below.
The service runs on its test clock (CRM_TEST_CLOCK): one ticket breaches
both targets when the clock moves three hours on, instead of waiting."""
import json
import os
import time
import unittest

from crmtest import run_crmctl, testing_pb2, wait_for
from test_support_service import INVALID, SupportSystem, support_pb2, unique

ST = support_pb2
US = 10**6
HOUR = 3600 * US


def now_us():
    return int(time.time() * US)


class FiguresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SupportSystem(env={"CRM_TEST_CLOCK": "0"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def figures(self, **kw):
        rep = self.s.raw("support.report.figures", ST.SupportFiguresRequest(**kw))
        self.assertEqual(rep.status.code, 0, rep.status)
        return json.loads(ST.SupportFiguresReply.FromString(rep.body).json)

    def test_figures(self):
        s = self.s
        allday = ST.BusinessCalendar(hours=[ST.BusinessHours(weekday=d, open_minute=0,
                                                             close_minute=1440)
                                            for d in range(1, 8)])
        s.call("support.sla.calendar.set", ST.SetBusinessCalendarRequest(calendar=allday),
               ST.BusinessCalendarReply)
        s.call("support.sla.policy.set", ST.SetSlaPolicyRequest(policy=ST.SlaPolicy(
            priority=ST.TICKET_PRIORITY_NORMAL, first_response_minutes=60, resolution_minutes=120)),
            ST.SlaPolicyReply)
        t0 = now_us()
        t = [s.open(requester_email="%s@figures.io" % unique("c%d" % i),
                    priority=ST.TICKET_PRIORITY_NORMAL, subject="ticket %d" % i)
             for i in range(1, 6)]
        for tk, agent, team in ((t[0], "ana", "billing"), (t[1], "ana", "billing"),
                                (t[2], "ben", "tech"), (t[3], "ben", "tech")):
            s.do("assign", tk.id, assignee=agent, team=team)
        # T1-T3: answered and resolved at once (both targets met), rated 5,
        # 4 and 2. T4: never answered (both targets breached below). T5:
        # waiting on the customer (its clock paused: both pending).
        for tk, rating in ((t[0], 5), (t[1], 4), (t[2], 2)):
            s.do("reply", tk.id, author="agent", body="On it")
            s.do("resolve", tk.id, resolution=ST.TicketResolution(category="fixed", text="done"))
            s.do("rate", tk.id, rating=rating)
        s.do("pend", t[4].id, reason="asked for the serial number")
        # Three hours later: T4 is past its 60- and 120-minute targets.
        r = s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=3 * HOUR),
                   testing_pb2.ClockSetReply)
        at = r.now_us
        wait_for(lambda: s.q("SELECT fr_breached AND res_breached FROM ticket WHERE id = %s",
                             t[3].id)[0][0], 15, "the breaches of T4")
        f = self.figures(from_us=t0 - HOUR, to_us=at + HOUR, at_us=at)
        self.assertEqual(f["opened"], 5)
        # CSAT: (5 + 4 + 2) / 3 = 3.67; rated 4 or 5: 2 of 3 = 66.67%.
        self.assertEqual(f["csat"], {"ratings": 3, "average": 3.67, "satisfied_bp": 6667,
                                     "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}})
        # SLA: met 3 (T1-T3), breached 1 (T4), pending 1 (T5): 3 / 4 = 75%.
        for target in ("first_response", "resolution"):
            self.assertEqual(f["sla"][target], {"met": 3, "breached": 1, "pending": 1,
                                                "compliance_bp": 7500}, target)
        # Backlog at `at`: T4 (open, assigned) and T5 (pending), both about
        # three hours old.
        bl = f["backlog"]
        self.assertEqual(bl["total"], 2)
        self.assertEqual(sum(x["tickets"] for x in bl["by_status"]), 2)
        self.assertIn({"status": "pending", "tickets": 1}, bl["by_status"])
        self.assertEqual(bl["by_age"][0], {"age": "under 1 day", "tickets": 2})
        self.assertTrue(all(x["tickets"] == 0 for x in bl["by_age"][1:]))
        # Per agent and team: ana 2 opened, 0 open now, 2 resolved, rated
        # 5 and 4 = 4.50; ben 2 opened, 1 open (T4), 1 resolved, rated 2.
        ana = {"opened": 2, "open_now": 0, "resolved": 2, "ratings": 2, "csat_average": 4.5}
        ben = {"opened": 2, "open_now": 1, "resolved": 1, "ratings": 1, "csat_average": 2}
        self.assertEqual(f["agents"], [dict(ana, agent="ana"), dict(ben, agent="ben")])
        self.assertEqual(f["teams"], [dict(ana, team="billing"), dict(ben, team="tech")])
        # A period that holds none of it: nothing rated, nothing decided.
        empty = self.figures(from_us=t0 - 10 * HOUR, to_us=t0 - 9 * HOUR, at_us=at)
        self.assertEqual((empty["opened"], empty["csat"]["average"],
                          empty["sla"]["first_response"]["compliance_bp"]), (0, None, None))
        # Bad periods: INVALID_ARGUMENT naming the field.
        s.fails("support.report.figures", ST.SupportFiguresRequest(from_us=t0, to_us=t0 - 1),
                INVALID, "from_us")
        s.fails("support.report.figures", ST.SupportFiguresRequest(at_us=-1), INVALID, "at_us")

        # crmctl prints them for people.
        env = dict(os.environ, CRM_SERVICES="support=%s" % s.sys.endpoints["support"])
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        out = run_crmctl(self, env, [
            "sla", "figures", "--from", time.strftime(fmt, time.gmtime((t0 - HOUR) // US)),
            "--to", time.strftime(fmt, time.gmtime((at + HOUR) // US)),
            "--at", time.strftime(fmt, time.gmtime(at // US + 1))], timeout=30).stdout
        self.assertIn("CSAT average           3.67 of 5 (3 ratings; 66.67% rated 4 or 5)", out)
        self.assertIn("ratings 1-5            1: 0, 2: 1, 3: 0, 4: 1, 5: 1", out)
        self.assertIn("first response SLA     75.00% met (3 met, 1 breached, 1 pending)", out)
        self.assertIn("backlog by age         under 1 day 2, 1-3 days 0", out)
        lines = out.splitlines()
        self.assertIn("AGENT  OPENED  OPEN NOW  RESOLVED  RATINGS  CSAT", lines)
        self.assertIn("ana    2       0         2         2        4.50", lines)
        self.assertIn("ben    2       1         1         1        2.00", lines)


if __name__ == "__main__":
    unittest.main()
