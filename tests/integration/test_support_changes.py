"""Support: what a ticket goes through after it is opened, beyond the status
machine of test_support_status: the customer's own reply (a pending ticket
opens again and its SLA clock resumes; a resolved one is reopened), a
priority change that re-targets the SLA (business time already used counts
against the new targets), and business calendars in a named time zone,
whose offset changes PostgreSQL reads from the IANA database.

Expected instants come from the rules of the calendar, computed here
independently with Python's zoneinfo (the system tzdata), not copied from
the service: with a 24x7 calendar a target of N minutes is due N minutes of
wall time after opening, and in Europe/Berlin a target that spans the
change to summer time falls due an hour earlier in UTC than a fixed +01:00
would say."""
import datetime
import unittest
import zoneinfo

from test_support_service import (INVALID, NOT_FOUND, PRECONDITION, UNKNOWN, SupportSystem,
                                  support_pb2, unique)

ST = support_pb2
MIN = 60 * 10**6
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def business_add(start_us, minutes, hours, holidays, tz):
    """The instant `minutes` of business time after start_us: hours maps an
    ISO weekday to (open, close) minutes of local time; holidays are local
    dates ("YYYY-MM-DD"). Day by day, each window converted with zoneinfo."""
    left = minutes * MIN
    day = datetime.datetime.fromtimestamp(start_us / 1e6, tz).date()
    for _ in range(3660):
        if day.isoweekday() in hours and day.isoformat() not in holidays:
            o, c = hours[day.isoweekday()]
            ws, we = (int(datetime.datetime(day.year, day.month, day.day, m // 60, m % 60,
                                            tzinfo=tz).timestamp()) * 10**6 for m in (o, c))
            start = max(start_us, ws)
            if start < we:
                if left <= we - start:
                    return start + left
                left -= we - start
        day += datetime.timedelta(days=1)
    raise AssertionError("no working time")


class ChangesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SupportSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def calendar(self, **kw):
        return self.s.call("support.sla.calendar.set",
                           ST.SetBusinessCalendarRequest(calendar=ST.BusinessCalendar(**kw)),
                           ST.BusinessCalendarReply).calendar

    def allday(self):
        self.calendar(hours=[ST.BusinessHours(weekday=d, open_minute=0, close_minute=1440)
                             for d in range(1, 8)])

    def unchanged(self, ticket_id, command, msg, code, field):
        """The command fails naming field and changes neither the ticket nor the outbox."""
        s = self.s
        head, before = s.head(), s.q("SELECT * FROM ticket WHERE id = %s", ticket_id)
        messages = s.count("ticket_message")
        s.fails(command, msg, code, field)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("ticket_message"), messages)
        self.assertEqual(s.q("SELECT * FROM ticket WHERE id = %s", ticket_id), before)

    def test_calendar_change_moves_running_tickets(self):
        s = self.s
        self.allday()
        s.call("support.sla.policy.set", ST.SetSlaPolicyRequest(policy=ST.SlaPolicy(
            priority=ST.TICKET_PRIORITY_LOW, first_response_minutes=2500,
            resolution_minutes=3000)), ST.SlaPolicyReply)
        run = s.open(requester_email="%s@cal.io" % unique("r"), priority=ST.TICKET_PRIORITY_LOW)
        wait = s.open(requester_email="%s@cal.io" % unique("w"), priority=ST.TICKET_PRIORITY_LOW)
        wait = s.do("pend", wait.id)
        # Tomorrow (UTC) becomes a holiday of the 24x7 calendar. Every
        # instant of the running ticket is at least 33 hours away, so after
        # the holiday starts: each moves by exactly the holiday, 24 hours.
        tomorrow = (datetime.datetime.now(datetime.timezone.utc).date()
                    + datetime.timedelta(days=1)).isoformat()
        r = s.call("support.sla.calendar.set", ST.SetBusinessCalendarRequest(
            calendar=ST.BusinessCalendar(holidays=[tomorrow], hours=[
                ST.BusinessHours(weekday=d, open_minute=0, close_minute=1440)
                for d in range(1, 8)])), ST.BusinessCalendarReply)
        self.assertGreaterEqual(r.tickets_rearmed, 1)
        day = 24 * 60 * MIN
        moved = s.call("support.ticket.show", ST.ShowTicketRequest(id=run.id)).ticket
        self.assertEqual((moved.first_response_at_risk_us, moved.first_response_due_us,
                          moved.resolution_at_risk_us, moved.resolution_due_us),
                         (run.first_response_at_risk_us + day, run.first_response_due_us + day,
                          run.resolution_at_risk_us + day, run.resolution_due_us + day))
        # The paused one keeps its instants until its clock resumes.
        kept = s.call("support.ticket.show", ST.ShowTicketRequest(id=wait.id)).ticket
        self.assertEqual((kept.resolution_due_us, kept.resolution_remaining_us),
                         (wait.resolution_due_us, wait.resolution_remaining_us))

    def test_customer_reply_resumes_a_pending_ticket(self):
        s = self.s
        self.allday()
        t = s.open(requester_email="%s@cust.io" % unique("c"), requester_name="Rosa Vale")
        s.do("reply", t.id, body="Which version do you run?")
        p = s.do("pend", t.id, reason="asked for the version")
        self.assertGreater(p.resolution_remaining_us, 0)
        head = s.head()
        r = s.call("support.ticket.reply", ST.AddTicketMessageRequest(
            id=t.id, body="Version 4.2", from_customer=True))
        m, tk = r.messages[0], r.ticket
        self.assertEqual((m.kind, m.author, m.body),
                         (ST.TICKET_MESSAGE_KIND_CUSTOMER_MESSAGE, "Rosa Vale", "Version 4.2"))
        # Open again, the clock runs: what was left when it paused is due
        # that much wall time (24x7) after the customer's message.
        self.assertEqual((tk.status, tk.sla_paused_at_us, tk.resolution_remaining_us),
                         (ST.TICKET_STATUS_OPEN, 0, 0))
        self.assertEqual(tk.resolution_due_us, m.created_at_us + p.resolution_remaining_us)
        self.assertEqual(tk.first_responded_at_us, p.first_responded_at_us)
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.support.ticket.status_changed.v1",
                                                 "crm.support.ticket.replied.v1"])
        sc = evs[0].ticket_status_changed
        self.assertEqual((sc.from_status, sc.to_status, sc.reason),
                         (ST.TICKET_STATUS_PENDING, ST.TICKET_STATUS_OPEN, "the customer replied"))
        self.assertEqual(evs[1].ticket_replied.message.kind, ST.TICKET_MESSAGE_KIND_CUSTOMER_MESSAGE)
        # A message on a ticket waiting on a third party leaves it waiting.
        h = s.do("hold", t.id)
        r = s.call("support.ticket.reply", ST.AddTicketMessageRequest(
            id=t.id, body="any news?", from_customer=True, author="rosa@home"))
        self.assertEqual((r.ticket.status, r.ticket.sla_paused_at_us, r.messages[0].author),
                         (ST.TICKET_STATUS_ON_HOLD, h.sla_paused_at_us, "rosa@home"))
        # After resolution: reopened.
        s.call("support.ticket.resolve", ST.ResolveTicketRequest(
            id=t.id, resolution=ST.TicketResolution(category="fixed")))
        head = s.head()
        r = s.call("support.ticket.reply", ST.AddTicketMessageRequest(
            id=t.id, body="it broke again", from_customer=True))
        self.assertEqual((r.ticket.status, r.ticket.resolved_at_us), (ST.TICKET_STATUS_OPEN, 0))
        self.assertEqual([e.type for e in s.events(head)], [
            "crm.support.ticket.status_changed.v1", "crm.support.ticket.replied.v1",
            "crm.support.ticket.reopened.v1"])
        # Closed is final; a note is never the customer's.
        s.call("support.ticket.resolve", ST.ResolveTicketRequest(
            id=t.id, resolution=ST.TicketResolution(category="fixed")))
        s.do("close", t.id)
        self.unchanged(t.id, "support.ticket.reply", ST.AddTicketMessageRequest(
            id=t.id, body="hello?", from_customer=True), PRECONDITION, "id")
        t2 = s.open(requester_email="%s@cust.io" % unique("n"))
        self.unchanged(t2.id, "support.ticket.note", ST.AddTicketMessageRequest(
            id=t2.id, body="x", from_customer=True), INVALID, "from_customer")

    def test_priority_change_retargets_the_sla(self):
        s = self.s
        self.allday()
        t = s.open(requester_email="%s@prio.io" % unique("p"))
        self.assertEqual((t.priority, t.first_response_target_minutes, t.resolution_target_minutes),
                         (ST.TICKET_PRIORITY_NORMAL, 480, 2400))
        head = s.head()
        u = s.call("support.ticket.prioritize", ST.SetTicketPriorityRequest(
            id=t.id, priority=ST.TICKET_PRIORITY_URGENT, reason="production down")).ticket
        # Urgent: 60 / 240 min. On a 24x7 calendar the time used since
        # opening counts, so the targets fall due 60 and 240 minutes after
        # opening; at risk with 20% left (48 and 192 minutes after).
        self.assertEqual((u.priority, u.first_response_target_minutes, u.resolution_target_minutes),
                         (ST.TICKET_PRIORITY_URGENT, 60, 240))
        self.assertEqual((u.first_response_due_us, u.resolution_due_us),
                         (t.created_at_us + 60 * MIN, t.created_at_us + 240 * MIN))
        self.assertEqual((u.first_response_at_risk_us, u.resolution_at_risk_us),
                         (t.created_at_us + 48 * MIN, t.created_at_us + 192 * MIN))
        (ev,) = s.events(head)
        pc = ev.ticket_priority_changed
        self.assertEqual((ev.type, ev.subject, pc.from_priority, pc.to_priority, pc.reason),
                         ("crm.support.ticket.priority_changed.v1", t.customer_id,
                          ST.TICKET_PRIORITY_NORMAL, ST.TICKET_PRIORITY_URGENT,
                          "production down"))
        self.assertEqual(pc.ticket.resolution_due_us, u.resolution_due_us)
        # The same priority again changes nothing.
        head = s.head()
        same = s.call("support.ticket.prioritize", ST.SetTicketPriorityRequest(
            id=t.id, priority=ST.TICKET_PRIORITY_URGENT)).ticket
        self.assertEqual((s.head(), same.updated_at_us), (head, u.updated_at_us))
        # While pending the clock stays stopped and keeps the new remaining
        # time: high is 960 min, 720 more than urgent's 240.
        p = s.do("pend", t.id)
        h = s.call("support.ticket.prioritize", ST.SetTicketPriorityRequest(
            id=t.id, priority=ST.TICKET_PRIORITY_HIGH)).ticket
        self.assertEqual((h.sla_paused_at_us, h.resolution_due_us), (p.sla_paused_at_us,
                                                                     p.resolution_due_us))
        self.assertEqual(h.resolution_remaining_us, p.resolution_remaining_us + 720 * MIN)
        self.assertEqual(s.q("SELECT priority, fr_target_min, res_target_min FROM ticket"
                             " WHERE id = %s", t.id), [(3, 240, 960)])
        # Bad input changes nothing.
        for bad in (0, 9):
            self.unchanged(t.id, "support.ticket.prioritize", ST.SetTicketPriorityRequest(
                id=t.id, priority=bad), INVALID, "priority")
        s.fails("support.ticket.prioritize", ST.SetTicketPriorityRequest(
            id=UNKNOWN, priority=ST.TICKET_PRIORITY_LOW), NOT_FOUND, "id")
        s.call("support.ticket.resolve", ST.ResolveTicketRequest(
            id=t.id, resolution=ST.TicketResolution(category="fixed")))
        self.unchanged(t.id, "support.ticket.prioritize", ST.SetTicketPriorityRequest(
            id=t.id, priority=ST.TICKET_PRIORITY_LOW), PRECONDITION, "id")

    def test_time_zone_calendar_follows_daylight_saving(self):
        s = self.s
        hours = {d: (540, 1020) for d in range(1, 6)}
        holidays = ["2026-12-24", "2026-12-25", "2027-01-01"]
        cal = self.calendar(time_zone="Europe/Berlin", holidays=holidays, hours=[
            ST.BusinessHours(weekday=d, open_minute=o, close_minute=c)
            for d, (o, c) in hours.items()])
        self.assertEqual(cal.time_zone, "Europe/Berlin")
        shown = s.call("support.sla.calendar.show", ST.ShowBusinessCalendarRequest(),
                       ST.BusinessCalendarReply).calendar
        self.assertEqual(shown, cal)
        # The zone's table from PostgreSQL agrees with the system tzdata:
        # each change is an instant where the offset differs from a second
        # before, and it is the offset from then on.
        ((base, at, off),) = s.q("SELECT zone_base, zone_change_us, zone_change_off"
                                 " FROM sla_calendar")
        self.assertEqual(base, 60)
        y2026 = [(a, o) for a, o in zip(at, off) if 2026 <= datetime.datetime.fromtimestamp(
            a / 1e6, datetime.timezone.utc).year <= 2027]
        self.assertEqual(len(y2026), 4)
        for a, o in y2026:
            when = datetime.datetime.fromtimestamp(a // 10**6, BERLIN)
            before = datetime.datetime.fromtimestamp(a // 10**6 - 1, BERLIN)
            self.assertEqual(when.utcoffset().total_seconds() // 60, o)
            self.assertNotEqual(before.utcoffset(), when.utcoffset())
        # A resolution target of 60000 business minutes (125 days of 8 h)
        # opened now ends after the change to summer time on 2027-03-28.
        s.call("support.sla.policy.set", ST.SetSlaPolicyRequest(policy=ST.SlaPolicy(
            priority=ST.TICKET_PRIORITY_LOW, first_response_minutes=480,
            resolution_minutes=60000)), ST.SlaPolicyReply)
        t = s.open(requester_email="%s@zone.io" % unique("z"), priority=ST.TICKET_PRIORITY_LOW)
        due = business_add(t.created_at_us, 60000, hours, holidays, BERLIN)
        fixed = business_add(t.created_at_us, 60000, hours, holidays,
                             datetime.timezone(datetime.timedelta(hours=1)))
        self.assertEqual(t.resolution_due_us, due)
        self.assertEqual(t.first_response_due_us,
                         business_add(t.created_at_us, 480, hours, holidays, BERLIN))
        self.assertGreater(datetime.datetime.fromtimestamp(due / 1e6, BERLIN).date(),
                           datetime.date(2027, 3, 28))
        self.assertEqual(fixed - due, 60 * MIN)
        # Bad zones change nothing.
        before = s.q("SELECT * FROM sla_calendar")
        hrs = [ST.BusinessHours(weekday=1, open_minute=540, close_minute=1020)]
        s.fails("support.sla.calendar.set", ST.SetBusinessCalendarRequest(
            calendar=ST.BusinessCalendar(time_zone="Mars/Olympus_Mons", hours=hrs)), NOT_FOUND,
            "calendar.time_zone")
        s.fails("support.sla.calendar.set", ST.SetBusinessCalendarRequest(
            calendar=ST.BusinessCalendar(time_zone="../etc/passwd", hours=hrs)), INVALID,
            "calendar.time_zone")
        s.fails("support.sla.calendar.set", ST.SetBusinessCalendarRequest(
            calendar=ST.BusinessCalendar(time_zone="Europe/Berlin", utc_offset_minutes=60,
                                         hours=hrs)), INVALID, "calendar.time_zone")
        self.assertEqual(s.q("SELECT * FROM sla_calendar"), before)
        # Back to a fixed offset: the zone table is emptied.
        self.calendar(utc_offset_minutes=60, hours=hrs)
        self.assertEqual(s.q("SELECT zone_change_us FROM sla_calendar"), [([],)])


if __name__ == "__main__":
    unittest.main()
