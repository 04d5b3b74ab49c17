"""crmctl with the fa_IR locale (issue 20): dates print in the Solar Hijri
(Jalali) calendar and the weekly activity report's week runs Saturday to
Friday; -o json and stored times stay as they are. The expected dates are
converted by hand: 2026-03-21 (a Saturday, Nowruz) is 1 Farvardin 1405,
2026-03-20 is 29 Esfand 1404, 2026-03-29 is 9 Farvardin 1405.

Real crm-analytics fed by a sales probe, and a real crm-support on its test
clock set to 2026-03-21 10:00 UTC, so that a ticket is opened then."""
import calendar
import json
import os
import time
import unittest
import uuid

from crmtest import run_crmctl, testing_pb2
from test_analytics_service import AnalyticsSystem, activity
from crm.v1 import person_pb2, sales_pb2, support_pb2  # noqa: E402

US = 10**6


def utc(*t):
    return calendar.timegm(t + (0,) * (6 - len(t))) * US


class JalaliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        a = cls.a = AnalyticsSystem(probes=("sales", "marketing"))
        cls.support = a.add("support", "crm-support", ("sales", "marketing"),
                            {"CRM_TEST_CLOCK": "0"})
        cls.support.start()
        a.start()

    @classmethod
    def tearDownClass(cls):
        cls.a.close()

    def crmctl(self, *args, locale="fa_IR", rc=0):
        env = dict(os.environ, CRM_SERVICES="analytics=%s,support=%s" % (
            self.a.sys.endpoints["analytics"], self.a.sys.endpoints["support"]),
            CRM_LOCALE=locale, CRM_CONFIG="/nonexistent")
        return run_crmctl(self, env, list(args), rc, timeout=30).stdout

    def test_weekly_activity_weeks_from_saturday(self):
        a = self.a
        pid = str(uuid.uuid4())
        a.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name="Dariush", emails=["dariush@example.ir"],
                   created_at_us=utc(2026, 3, 1))))
        # Friday 2026-03-20 (29 Esfand 1404) and Saturday 2026-03-21
        # (1 Farvardin 1405): one ISO week (Monday 16 to Sunday 22), two
        # Jalali weeks.
        for aid, when in ((str(uuid.uuid4()), utc(2026, 3, 20, 10)),
                          (str(uuid.uuid4()), utc(2026, 3, 21, 10))):
            a.emit("sales", "crm.sales.activity.completed.v1", pid,
                   activity_completed=sales_pb2.ActivityCompleted(activity=activity(
                       aid, pid, sales_pb2.ACTIVITY_KIND_CALL, "roya", "call", done_at=when)))
        # Due Sunday 2026-03-29 09:00 (9 Farvardin 1405): the next Jalali week.
        a.emit("sales", "crm.sales.activity.scheduled.v1", pid,
               activity_scheduled=sales_pb2.ActivityScheduled(activity=activity(
                   str(uuid.uuid4()), pid, sales_pb2.ACTIVITY_KIND_MEETING, "roya", "demo",
                   due=utc(2026, 3, 29, 9), created=utc(2026, 3, 19))))
        a.wait_applied(("sales",))
        out = self.crmctl("report", "weekly-activity", "--at", "2026-03-23T12:00:00Z")
        lines = out.splitlines()
        self.assertEqual(lines[0], "week starting 1405-01-01T00:00Z (Saturday)")
        roya = [ln.split() for ln in lines if ln.startswith("roya")][0]
        self.assertEqual(roya[1], "1")  # the Saturday call only
        self.assertIn("1405-01-09T09:00Z", out)
        # The default locale: the ISO week of Sunday 2026-03-22 (Monday 16
        # to Sunday 22) holds both calls, in Gregorian dates.
        out = self.crmctl("report", "weekly-activity", "--at", "2026-03-22T12:00:00Z", locale="")
        lines = out.splitlines()
        self.assertEqual(lines[0], "week starting 2026-03-16T00:00Z (Monday)")
        self.assertEqual([ln.split() for ln in lines if ln.startswith("roya")][0][1], "2")
        # -o json is the same in any locale: microseconds UTC.
        doc = json.loads(self.crmctl("-o", "json", "report", "weekly-activity", "--at",
                                     "2026-03-23T12:00:00Z"))
        self.assertEqual(doc["week_start_us"], utc(2026, 3, 21))

    def test_ticket_show_in_jalali(self):
        a = self.a
        c = a.sys.client("support")
        try:
            target = utc(2026, 3, 21, 10)
            r = c.call("crm.clock.set", testing_pb2.ClockSetRequest(
                offset_us=target - int(time.time() * US)), testing_pb2.ClockSetReply)
            self.assertEqual(r.now_us // (60 * US), target // (60 * US))
            rep = c.call("support.ticket.open", support_pb2.OpenTicketRequest(
                ticket=support_pb2.Ticket(subject="چاپگر کار نمی‌کند",
                                          requester_email="mina@example.ir")),
                support_pb2.TicketReply)
            t = rep.ticket
        finally:
            c.close()
        out = self.crmctl("ticket", "show", t.id)
        self.assertIn("1405-01-01T10:00", out)
        self.assertNotIn("2026-03-21", out)
        out = self.crmctl("ticket", "show", t.id, locale="")
        self.assertIn("2026-03-21T10:00", out)


if __name__ == "__main__":
    unittest.main()
