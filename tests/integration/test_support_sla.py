"""Support: SLA instants raised by the scan, also after a restart that
spanned them. With a 24x7 calendar and a 1-minute policy, a ticket opened
just before the service stops is overdue when it comes back: the first scan
raises at-risk and breached once each for both targets. The service runs
on its test clock (CRM_TEST_CLOCK): it comes back a minute "later", or a
test moves its time with crm.clock.set, instead of waiting a real minute."""
import time
import unittest

from crmtest import testing_pb2, wait_for
from test_support_service import INVALID, SupportSystem, support_pb2, unique

ST = support_pb2


def now_us():
    return int(time.time() * 1e6)


class SlaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SupportSystem(env={"CRM_TEST_CLOCK": "0"})
        cls.offset = 0

    def set_clock(self, offset_us):
        """Moves the service's clock to offset_us ahead of the wall clock."""
        r = self.s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=offset_us),
                        testing_pb2.ClockSetReply)
        self.assertEqual(r.offset_us, offset_us)
        type(self).offset = offset_us
        return r.now_us

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_calendar_and_policy_commands(self):
        s = self.s
        cal = ST.BusinessCalendar(utc_offset_minutes=60, holidays=["2026-12-25"], hours=[
            ST.BusinessHours(weekday=d, open_minute=480, close_minute=960) for d in range(1, 6)])
        r = s.call("support.sla.calendar.set", ST.SetBusinessCalendarRequest(calendar=cal),
                   ST.BusinessCalendarReply)
        self.assertEqual(r.calendar, cal)
        p = s.call("support.sla.policy.set", ST.SetSlaPolicyRequest(policy=ST.SlaPolicy(
            priority=ST.TICKET_PRIORITY_HIGH, first_response_minutes=30, resolution_minutes=600)),
            ST.SlaPolicyReply).policy
        self.assertEqual((p.priority, p.first_response_minutes, p.resolution_minutes), (3, 30, 600))
        t = s.open(requester_email="%s@sla.io" % unique("c"), priority=ST.TICKET_PRIORITY_HIGH)
        self.assertEqual((t.first_response_target_minutes, t.resolution_target_minutes), (30, 600))
        s.fails("support.sla.calendar.set", ST.SetBusinessCalendarRequest(
            calendar=ST.BusinessCalendar(hours=[ST.BusinessHours(weekday=1)])), INVALID,
            "calendar.hours")

    def test_breach_after_restart_that_spanned_the_deadline(self):
        s = self.s
        allday = ST.BusinessCalendar(hours=[ST.BusinessHours(weekday=d, open_minute=0,
                                                             close_minute=1440)
                                            for d in range(1, 8)])
        s.call("support.sla.calendar.set", ST.SetBusinessCalendarRequest(calendar=allday),
               ST.BusinessCalendarReply)
        s.call("support.sla.policy.set", ST.SetSlaPolicyRequest(policy=ST.SlaPolicy(
            priority=ST.TICKET_PRIORITY_LOW, first_response_minutes=1, resolution_minutes=1)),
            ST.SlaPolicyReply)
        t = s.open(requester_email="%s@sla.io" % unique("late"), priority=ST.TICKET_PRIORITY_LOW)
        self.assertEqual(t.first_response_due_us - t.created_at_us, 60 * 10**6)
        self.assertEqual(t.resolution_due_us, t.first_response_due_us)
        self.assertEqual(t.first_response_at_risk_us - t.created_at_us, 48 * 10**6)
        head = s.head()
        self.assertEqual(s.proc.stop(), 0)
        # Down across both the at-risk instant and the deadline: it comes
        # back with its clock a second past the deadline.
        offset = t.resolution_due_us + 10**6 - now_us()
        self.assertGreater(offset, 55 * 10**6)
        s.proc.env["CRM_TEST_CLOCK"] = str(offset)
        type(self).offset = offset
        s.proc.start()
        s.proc.wait_log('"event":"clock.test"')

        def raised():
            return [(e.type, e.sla_at_risk.target or e.sla_breached.target)
                    for e in s.events(head) if e.type.startswith("crm.support.sla.")
                    and (e.sla_at_risk.ticket.id or e.sla_breached.ticket.id) == t.id]
        expected = [("crm.support.sla.at_risk.v1", ST.SLA_TARGET_FIRST_RESPONSE),
                    ("crm.support.sla.breached.v1", ST.SLA_TARGET_FIRST_RESPONSE),
                    ("crm.support.sla.at_risk.v1", ST.SLA_TARGET_RESOLUTION),
                    ("crm.support.sla.breached.v1", ST.SLA_TARGET_RESOLUTION)]
        wait_for(lambda: len(raised()) >= 4, 15, "the SLA events after the restart")
        self.assertEqual(raised(), expected)
        ev = [e for e in s.events(head) if e.type == "crm.support.sla.breached.v1"][0]
        self.assertEqual((ev.subject, ev.sla_breached.due_us),
                         (t.customer_id, t.first_response_due_us))
        self.assertTrue(ev.sla_breached.ticket.first_response_breached)
        # Raised once: the flags are set in the transaction that emitted them,
        # so later scans (every 100 ms) find nothing; a reply or a breach
        # list shows them.
        r = s.call("support.ticket.reply", s.act("reply", t.id, body="sorry, late"))
        self.assertTrue(r.ticket.first_response_breached and r.ticket.resolution_breached)
        listed = s.call("support.ticket.list", ST.ListTicketsRequest(breached=True),
                        ST.ListTicketsReply)
        self.assertIn(t.id, [x.id for x in listed.tickets])
        self.assertEqual(raised(), expected)
        # Pending stops the clock and keeps the business time that was left.
        p = s.open(requester_email="%s@sla.io" % unique("wait"), priority=ST.TICKET_PRIORITY_LOW)
        p = s.do("pend", p.id)
        self.assertGreater(p.resolution_remaining_us, 50 * 10**6)
        self.assertEqual(s.count("ticket", "id = %s AND (fr_at_risk OR res_at_risk)", p.id), 0)
        # Nothing is left for the scan to look at on either ticket: the
        # overdue one has raised everything, the paused one waits.
        self.assertEqual(s.count("ticket", "id IN (%s, %s) AND sla_next_us IS NOT NULL",
                                 t.id, p.id), 0)

    def test_moving_the_clock_runs_the_scan(self):
        """crm.clock.set moves the running service's time, and the scan
        finds what fell due at once, not one period later."""
        s = self.s
        allday = ST.BusinessCalendar(hours=[ST.BusinessHours(weekday=d, open_minute=0,
                                                             close_minute=1440)
                                            for d in range(1, 8)])
        s.call("support.sla.calendar.set", ST.SetBusinessCalendarRequest(calendar=allday),
               ST.BusinessCalendarReply)
        s.call("support.sla.policy.set", ST.SetSlaPolicyRequest(policy=ST.SlaPolicy(
            priority=ST.TICKET_PRIORITY_URGENT, first_response_minutes=1, resolution_minutes=2)),
            ST.SlaPolicyReply)
        t = s.open(requester_email="%s@sla.io" % unique("moved"),
                   priority=ST.TICKET_PRIORITY_URGENT)
        head = s.head()

        def raised():
            return [(e.type, e.sla_at_risk.target or e.sla_breached.target)
                    for e in s.events(head) if e.type.startswith("crm.support.sla.")
                    and (e.sla_at_risk.ticket.id or e.sla_breached.ticket.id) == t.id]
        self.assertEqual(raised(), [])
        # Past the first response's deadline, before the resolution's at-risk
        # instant (96 s of 120).
        now = self.set_clock(self.offset + 70 * 10**6)
        self.assertGreater(now, t.first_response_due_us)
        wait_for(lambda: len(raised()) >= 2, 15, "the first response's SLA events")
        self.assertEqual(raised(), [("crm.support.sla.at_risk.v1", ST.SLA_TARGET_FIRST_RESPONSE),
                                    ("crm.support.sla.breached.v1", ST.SLA_TARGET_FIRST_RESPONSE)])


if __name__ == "__main__":
    unittest.main()
