"""Sales: activities. Logged (done now) and scheduled (due later) activities,
notes, completion, lists with --due/--overdue semantics, and reminders:
a scheduled activity's activity.due event is emitted when it falls due,
also when the service was down at that moment (it fires on the first scan
after the restart). Sales runs on its test clock (CRM_TEST_CLOCK): a test
moves the service's time past a due instant instead of waiting for it."""
import time
import unittest

from crmtest import testing_pb2, wait_for
from test_sales_service import (INVALID, NOT_FOUND, PRECONDITION, SalesSystem, sales_pb2, unique)

UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"


def now_us():
    return int(time.time() * 1e6)


def set_clock(s, offset_us):
    """Runs the service's clock offset_us ahead of the wall clock; its due
    scan runs at once. Returns the service's time."""
    r = s.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=offset_us),
               testing_pb2.ClockSetReply)
    assert r.offset_us == offset_us
    return r.now_us


class ActivityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem(env={"CRM_TEST_CLOCK": "0"})
        cls.offset = 0
        cls.person = cls.s.register("Activity Person", ["%s@act.io" % unique("a")]).person
        cls.deal = cls.s.call("sales.deal.create", sales_pb2.CreateDealRequest(
            deal=sales_pb2.Deal(title="Act deal", person_id=cls.person.id, owner="rep-d")),
            sales_pb2.DealReply).deal

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def add(self, verb, **kw):
        kw.setdefault("person_id", self.person.id)
        return self.s.call("sales.activity.%s" % verb, sales_pb2.LogActivityRequest(
            activity=sales_pb2.Activity(**kw)), sales_pb2.ActivityReply).activity

    def due_events(self, activity_id):
        return [e for e in self.s.events(0, "crm.sales.activity.due.")
                if e.activity_due.activity.id == activity_id]

    def test_log_note_schedule_complete(self):
        s = self.s
        before = s.head()
        call = self.add("log", kind=sales_pb2.ACTIVITY_KIND_CALL, subject="Intro call",
                        outcome="interested", next_action="send deck", owner="rep1")
        self.assertEqual(call.status, sales_pb2.ACTIVITY_STATUS_DONE)
        self.assertGreater(call.completed_at_us, 0)
        self.assertEqual(call.due_at_us, 0)
        note = self.add("log", kind=sales_pb2.ACTIVITY_KIND_NOTE, body="Prefers email",
                        deal_id=self.deal.id)
        due = now_us() + 3600 * 10**6
        task = self.add("schedule", kind=sales_pb2.ACTIVITY_KIND_TASK, subject="Send quote",
                        deal_id=self.deal.id, due_at_us=due, owner="rep1")
        self.assertEqual(task.status, sales_pb2.ACTIVITY_STATUS_SCHEDULED)
        self.assertEqual(task.due_at_us, due)
        self.assertFalse(task.due_notified)
        # The person comes from the deal when only the deal is named.
        viadeal = s.call("sales.activity.log", sales_pb2.LogActivityRequest(
            activity=sales_pb2.Activity(kind=sales_pb2.ACTIVITY_KIND_EMAIL, subject="Sent",
                                        deal_id=self.deal.id)), sales_pb2.ActivityReply).activity
        self.assertEqual(viadeal.person_id, self.person.id)
        done = s.call("sales.activity.complete", sales_pb2.CompleteActivityRequest(
            id=task.id, outcome="quote sent", next_action="follow up",
            next_action_due_us=due + 10**6), sales_pb2.ActivityReply).activity
        self.assertEqual((done.status, done.outcome, done.next_action, done.next_action_due_us),
                         (sales_pb2.ACTIVITY_STATUS_DONE, "quote sent", "follow up", due + 10**6))
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.sales.activity.completed.v1",
                                                 "crm.sales.note.added.v1",
                                                 "crm.sales.activity.scheduled.v1",
                                                 "crm.sales.activity.completed.v1",
                                                 "crm.sales.activity.completed.v1",
                                                 # the next action with a due time
                                                 "crm.sales.activity.scheduled.v1"])
        self.assertTrue(all(e.subject == self.person.id for e in evs))
        self.assertEqual(evs[1].note_added.activity, note)
        self.assertEqual(evs[2].activity_scheduled.activity, task)
        self.assertEqual(evs[4].activity_completed.activity, done)
        nxt = evs[5].activity_scheduled.activity
        self.assertEqual((nxt.kind, nxt.subject, nxt.status, nxt.due_at_us, nxt.owner, nxt.deal_id),
                         (sales_pb2.ACTIVITY_KIND_TASK, "follow up", sales_pb2.ACTIVITY_STATUS_SCHEDULED,
                          due + 10**6, "rep1", self.deal.id))
        # A next action without a due time (the call's "send deck") stays a note on the call.
        head = s.head()
        s.fails("sales.activity.complete", sales_pb2.CompleteActivityRequest(id=task.id),
                PRECONDITION, "id")
        s.fails("sales.activity.complete", sales_pb2.CompleteActivityRequest(id=call.id),
                PRECONDITION, "id")
        self.assertEqual(s.head(), head)

    def test_bad_input_writes_nothing(self):
        s = self.s
        head, n = s.head(), s.count("activity")
        A = sales_pb2.Activity
        R = sales_pb2.LogActivityRequest
        pid = self.person.id
        s.fails("sales.activity.log", R(activity=A(kind=1, subject="x", person_id=UNKNOWN)),
                NOT_FOUND, "activity.person_id")
        s.fails("sales.activity.log", R(activity=A(kind=1, subject="x", person_id=pid,
                                                   deal_id=UNKNOWN)), NOT_FOUND, "activity.deal_id")
        s.fails("sales.activity.log", R(activity=A(subject="x", person_id=pid)), INVALID,
                "activity.kind")
        s.fails("sales.activity.log", R(activity=A(kind=42, subject="x", person_id=pid)), INVALID,
                "activity.kind")
        s.fails("sales.activity.log", R(activity=A(kind=1, person_id=pid)), INVALID,
                "activity.subject")
        s.fails("sales.activity.log", R(activity=A(kind=1, subject="x")), INVALID,
                "activity.person_id")
        s.fails("sales.activity.schedule", R(activity=A(kind=4, subject="x", person_id=pid)),
                INVALID, "activity.due_at_us")
        s.fails("sales.activity.schedule", R(activity=A(kind=4, subject="x", person_id=pid,
                                                        due_at_us=-5)), INVALID, "activity.due_at_us")
        s.fails("sales.activity.log", R(), INVALID, "activity")
        s.fails("sales.activity.complete", sales_pb2.CompleteActivityRequest(id=UNKNOWN),
                NOT_FOUND, "id")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("activity"), n)

    def test_lists_due_and_overdue(self):
        s = self.s
        owner = unique("rep")
        t = now_us()
        # due_notified may flip for the past ones while we look: it does not
        # change what the lists return.
        past = self.add("schedule", kind=4, subject="late", owner=owner, due_at_us=t - 3600 * 10**6)
        soon = self.add("schedule", kind=4, subject="soon", owner=owner, due_at_us=t + 3600 * 10**6)
        later = self.add("schedule", kind=2, subject="later", owner=owner,
                         due_at_us=t + 72 * 3600 * 10**6)
        done = self.add("log", kind=1, subject="done", owner=owner)

        def ids(**kw):
            r = s.call("sales.activity.list", sales_pb2.ListActivitiesRequest(owner=owner, **kw),
                       sales_pb2.ListActivitiesReply, key="")
            return [a.id for a in r.activities]
        self.assertEqual(ids(), [past.id, soon.id, later.id, done.id])
        self.assertEqual(ids(overdue=True), [past.id])
        self.assertEqual(ids(due_before_us=t + 24 * 3600 * 10**6), [past.id, soon.id])
        self.assertEqual(ids(status=sales_pb2.ACTIVITY_STATUS_DONE), [done.id])
        self.assertEqual(ids(status=sales_pb2.ACTIVITY_STATUS_SCHEDULED),
                         [past.id, soon.id, later.id])
        self.assertEqual(ids(page_size=3), [past.id, soon.id, later.id])
        r = s.call("sales.activity.list", sales_pb2.ListActivitiesRequest(
            owner=owner, page_size=3), sales_pb2.ListActivitiesReply, key="")
        r = s.call("sales.activity.list", sales_pb2.ListActivitiesRequest(
            owner=owner, page_size=3, page_token=r.next_page_token),
            sales_pb2.ListActivitiesReply, key="")
        self.assertEqual([a.id for a in r.activities], [done.id])
        r = s.call("sales.activity.list", sales_pb2.ListActivitiesRequest(
            deal_id=self.deal.id, person_id=self.person.id), sales_pb2.ListActivitiesReply, key="")
        self.assertTrue(all(a.deal_id == self.deal.id for a in r.activities))
        s.fails("sales.activity.list", sales_pb2.ListActivitiesRequest(deal_id="x"), INVALID,
                "deal_id")
        # The overdue one was announced by the scan.
        wait_for(lambda: self.due_events(past.id), 15, "activity.due of the overdue task")

    def advance(self, by_us):
        """Moves the service's clock by_us further; returns its time."""
        type(self).offset += by_us
        return set_clock(self.s, self.offset)

    def test_next_action_falls_due(self):
        """An activity logged with a next action and its due time falls due
        exactly as a scheduled activity does: the task it became is announced
        by crm.sales.activity.due.v1 (the reminder) when the service's
        clock passes the due time, once."""
        s = self.s
        t = now_us() + self.offset
        call = self.add("log", kind=sales_pb2.ACTIVITY_KIND_CALL, subject="Pricing call",
                        next_action="send the contract", next_action_due_us=t + 50 * 10**6,
                        owner="rep-next")
        nxt = [e.activity_scheduled.activity for e in s.events(0, "crm.sales.activity.scheduled.")
               if e.activity_scheduled.activity.subject == "send the contract"]
        self.assertEqual(len(nxt), 1)
        nxt = nxt[0]
        self.assertEqual((nxt.owner, nxt.person_id, nxt.due_at_us), ("rep-next", self.person.id,
                                                                     t + 50 * 10**6))
        self.assertIn(call.id, nxt.body)
        # Not due yet; then the clock passes the due time: the reminder.
        self.assertEqual(self.due_events(nxt.id), [])
        self.assertGreater(self.advance(51 * 10**6), nxt.due_at_us)
        evs = wait_for(lambda: self.due_events(nxt.id), 15, "activity.due of the next action")
        self.assertEqual(evs[0].activity_due.activity.subject, "send the contract")
        self.assertEqual(evs[0].subject, self.person.id)
        # It is in the owner's list of what falls due, as any scheduled
        # activity is (the list's times are the database's, not the test clock).
        rep = s.call("sales.activity.list", sales_pb2.ListActivitiesRequest(
            owner="rep-next", due_before_us=t + 60 * 10**6), sales_pb2.ListActivitiesReply)
        self.assertEqual([a.id for a in rep.activities], [nxt.id])

    def test_due_fires_once_and_not_after_completion(self):
        s = self.s
        t = now_us() + self.offset  # the service's time
        cancelled = self.add("schedule", kind=4, subject="cancelled", due_at_us=t + 30 * 10**6)
        s.call("sales.activity.complete", sales_pb2.CompleteActivityRequest(id=cancelled.id),
               sales_pb2.ActivityReply)
        sentinel = self.add("schedule", kind=4, subject="sentinel", due_at_us=t + 40 * 10**6)
        self.assertEqual(self.due_events(sentinel.id), [])
        self.assertGreater(self.advance(41 * 10**6), sentinel.due_at_us)
        evs = wait_for(lambda: self.due_events(sentinel.id), 15, "activity.due of the sentinel")
        self.assertGreaterEqual(evs[0].time_us, sentinel.due_at_us)
        self.assertEqual(evs[0].subject, self.person.id)
        a = evs[0].activity_due.activity
        self.assertTrue(a.due_notified)
        self.assertEqual(a.subject, "sentinel")
        # It was due before the sentinel: had it been announced, it would be by now.
        self.assertEqual(self.due_events(cancelled.id), [])
        # Later scans do not announce it again: once a second sentinel has
        # been announced, more scans have run.
        second = self.add("schedule", kind=4, subject="second",
                          due_at_us=now_us() + self.offset + 20 * 10**6)
        self.advance(21 * 10**6)
        wait_for(lambda: self.due_events(second.id), 15, "activity.due of the second sentinel")
        self.assertEqual(len(self.due_events(sentinel.id)), 1)


class ReminderRestartTest(unittest.TestCase):
    def setUp(self):
        self.s = SalesSystem(env={"CRM_TEST_CLOCK": "0"})

    def tearDown(self):
        self.s.close()

    def test_reminder_falls_due_across_a_restart(self):
        s = self.s
        p = s.register("Remind Me", ["%s@remind.io" % unique("r")]).person
        due = now_us() + 3600 * 10**6
        a = s.call("sales.activity.schedule", sales_pb2.LogActivityRequest(
            activity=sales_pb2.Activity(kind=sales_pb2.ACTIVITY_KIND_CALL, subject="Call back",
                                        person_id=p.id, owner="rep-r", due_at_us=due)),
            sales_pb2.ActivityReply).activity
        self.assertEqual(s.proc.stop(), 0)  # SIGTERM: a clean stop
        self.assertEqual(s.events(0, "crm.sales.activity.due."), [])
        # It comes back with its clock past the due time.
        self.assertEqual(s.q("SELECT due_notified FROM activity WHERE id = %s", a.id)[0][0], False)
        s.proc.env["CRM_TEST_CLOCK"] = str(due + 300000 - now_us())
        s.proc.start()
        evs = wait_for(lambda: s.replay("crm.sales.activity.due."), 15, "activity.due")
        self.assertEqual(len(evs), 1)
        ev = evs[0]
        self.assertEqual(ev.activity_due.activity.id, a.id)
        self.assertEqual(ev.subject, p.id)
        self.assertGreater(ev.time_us, due)
        self.assertTrue(ev.activity_due.activity.due_notified)
        self.assertEqual(s.q("SELECT due_notified FROM activity WHERE id = %s", a.id)[0][0], True)


if __name__ == "__main__":
    unittest.main()
