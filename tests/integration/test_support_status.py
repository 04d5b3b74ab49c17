"""Support: the ticket status machine through the real socket. Legal moves
emit their events and move the SLA clock (pending pauses it, resolution
stops it, reopening resumes it); illegal ones (closing a ticket that was
never resolved, rating an open ticket, reopening a closed one) and bad
ratings, unknown agents and teams (SUPPORT_AGENTS, SUPPORT_TEAMS) fail with a clear error and write
nothing (the outbox head does not move)."""
import unittest

from test_support_service import (INVALID, NOT_FOUND, PRECONDITION, UNKNOWN, SupportSystem,
                                  support_pb2, unique)

ST = support_pb2


class StatusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SupportSystem({"SUPPORT_AGENTS": " agent-7, agent-9 ,",
                               "SUPPORT_TEAMS": "billing,network"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def new_ticket(self):
        return self.s.open(requester_email="%s@status.io" % unique("s"))

    def refused(self, verb, ticket_id, code=PRECONDITION, field="id", **kw):
        s = self.s
        head, messages = s.head(), s.count("ticket_message")
        before = s.q("SELECT status, updated_us, rating FROM ticket WHERE id = %s", ticket_id)
        st = s.fails("support.ticket.%s" % verb, s.act(verb, ticket_id, **kw), code, field)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("ticket_message"), messages)
        self.assertEqual(s.q("SELECT status, updated_us, rating FROM ticket WHERE id = %s",
                             ticket_id), before)
        return st

    def test_lifecycle_with_events(self):
        s = self.s
        t = self.new_ticket()
        head = s.head()
        a = s.do("assign", t.id, assignee="agent-7", team="billing")
        self.assertEqual((a.status, a.assignee, a.team),
                         (ST.TICKET_STATUS_OPEN, "agent-7", "billing"))
        n = s.call("support.ticket.note",
                   s.act("note", t.id, body="VIP, be nice", author="agent-7"))
        self.assertEqual(n.messages[0].kind, ST.TICKET_MESSAGE_KIND_INTERNAL_NOTE)
        self.assertEqual(n.ticket.first_responded_at_us, 0)
        r = s.call("support.ticket.reply", s.act("reply", t.id, body="On it"))
        self.assertEqual(r.messages[0].kind, ST.TICKET_MESSAGE_KIND_PUBLIC_REPLY)
        self.assertEqual(r.messages[0].author, "test")  # the command's actor
        self.assertEqual(r.ticket.first_responded_at_us, r.messages[0].created_at_us)
        p = s.do("pend", t.id, reason="asked for logs")
        self.assertEqual(p.status, ST.TICKET_STATUS_PENDING)
        self.assertGreater(p.sla_paused_at_us, 0)
        self.assertGreater(p.resolution_remaining_us, 0)
        h = s.do("hold", t.id)
        self.assertEqual((h.status, h.sla_paused_at_us),
                         (ST.TICKET_STATUS_ON_HOLD, p.sla_paused_at_us))
        # The wait is over: back to open, the clock resumes with what was left.
        back = s.do("reopen", t.id, reason="logs received")
        self.assertEqual((back.status, back.sla_paused_at_us), (ST.TICKET_STATUS_OPEN, 0))
        self.assertGreater(back.resolution_due_us, back.updated_at_us)
        self.assertGreaterEqual(back.resolution_due_us, p.resolution_due_us)
        s.do("hold", t.id)
        res = s.do("resolve", t.id, resolution=ST.TicketResolution(category="fixed",
                                                                   text="replaced toner"),
                   tags=["topic:toner"])
        self.assertEqual(res.status, ST.TICKET_STATUS_RESOLVED)
        self.assertEqual((res.resolution.category, res.resolution.text),
                         ("fixed", "replaced toner"))
        self.assertEqual(list(res.tags), ["topic:toner"])
        self.assertGreater(res.resolved_at_us, 0)
        ro = s.do("reopen", t.id, reason="still broken")
        self.assertEqual((ro.status, ro.sla_paused_at_us, ro.resolved_at_us),
                         (ST.TICKET_STATUS_OPEN, 0, 0))
        # The clock resumed with what was left when it paused.
        self.assertGreater(ro.resolution_due_us, ro.updated_at_us)
        s.do("resolve", t.id, resolution=ST.TicketResolution(category="workaround"))
        rated = s.do("rate", t.id, rating=4, comment="quick")
        self.assertEqual((rated.satisfaction.rating, rated.satisfaction.comment), (4, "quick"))
        c = s.do("close", t.id)
        self.assertEqual(c.status, ST.TICKET_STATUS_CLOSED)
        again = s.do("rate", t.id, rating=5)  # closed tickets may still be rated
        self.assertEqual(again.satisfaction.rating, 5)
        types = [e.type.split(".", 2)[2] for e in s.events(head)]
        self.assertEqual(types, [
            "ticket.status_changed.v1", "ticket.assigned.v1", "ticket.note_added.v1",
            "ticket.replied.v1", "ticket.status_changed.v1", "ticket.status_changed.v1",
            "ticket.status_changed.v1", "ticket.status_changed.v1",
            "ticket.status_changed.v1", "ticket.resolved.v1", "feedback.tagged.v1",
            "ticket.status_changed.v1", "ticket.reopened.v1", "ticket.status_changed.v1",
            "ticket.resolved.v1", "ticket.rated.v1", "ticket.status_changed.v1",
            "ticket.closed.v1", "ticket.rated.v1"])
        evs = s.events(head)
        self.assertTrue(all(e.subject == t.customer_id for e in evs))
        sc = [(e.ticket_status_changed.from_status, e.ticket_status_changed.to_status)
              for e in evs if e.HasField("ticket_status_changed")]
        self.assertEqual(sc, [(1, 2), (2, 3), (3, 4), (4, 2), (2, 4), (4, 5), (5, 2), (2, 5),
                              (5, 6)])
        self.assertEqual(evs[1].ticket_assigned.previous_assignee, "")
        self.assertEqual(evs[12].ticket_reopened.reason, "still broken")
        self.assertEqual(evs[-1].ticket_rated.rating, 5)
        shown = s.call("support.ticket.show", ST.ShowTicketRequest(id=t.id))
        self.assertEqual([m.body for m in shown.messages], ["VIP, be nice", "On it"])
        # A closed ticket is final.
        self.refused("reopen", t.id)
        self.refused("reply", t.id, body="hello?")
        self.refused("note", t.id, body="x")
        self.refused("assign", t.id, assignee="agent-9")
        self.refused("resolve", t.id, resolution=ST.TicketResolution(category="fixed"))

    def test_illegal_moves_write_nothing(self):
        s = self.s
        t = self.new_ticket()
        st = self.refused("close", t.id)
        self.assertEqual(st.message, "cannot close a ticket that is new")
        self.refused("rate", t.id, rating=5)
        self.refused("reopen", t.id)
        s.do("pend", t.id)
        self.refused("pend", t.id)
        self.refused("close", t.id)
        # Bad values fail before the state is even looked at.
        self.refused("rate", t.id, code=INVALID, field="rating", rating=6)
        self.refused("rate", t.id, code=INVALID, field="rating", rating=0)
        self.refused("reply", t.id, code=INVALID, field="body", body="  ")
        self.refused("assign", t.id, code=INVALID, field="assignee")
        self.refused("assign", t.id, code=NOT_FOUND, field="assignee", assignee="stranger")
        st = self.refused("assign", t.id, code=NOT_FOUND, field="team", assignee="agent-7",
                          team="sales")
        self.assertEqual((st.message, st.detail), ("team does not exist",
                                                   '"sales" is not in SUPPORT_TEAMS'))
        head, people = s.head(), s.count("person")
        s.fails("support.ticket.open", ST.OpenTicketRequest(ticket=ST.Ticket(
            subject="x", requester_email="new@agents.io", assignee="stranger")), NOT_FOUND,
            "ticket.assignee")
        s.fails("support.ticket.open", ST.OpenTicketRequest(ticket=ST.Ticket(
            subject="x", requester_email="new@agents.io", team="marketing")), NOT_FOUND,
            "ticket.team")
        self.assertEqual((s.head(), s.count("person")), (head, people))
        self.assertEqual(s.do("assign", t.id, assignee=" agent-9 ").assignee, "agent-9")
        self.refused("resolve", t.id, code=INVALID, field="resolution")
        self.refused("resolve", t.id, code=INVALID, field="resolution.category",
                     resolution=ST.TicketResolution(text="no category"))
        self.refused("resolve", t.id, code=INVALID, field="tags[0]",
                     resolution=ST.TicketResolution(category="fixed"), tags=["No Caps"])
        head = s.head()
        s.fails("support.ticket.pend", ST.ChangeTicketStatusRequest(id="not-a-uuid"), INVALID, "id")
        s.fails("support.ticket.close", ST.ChangeTicketStatusRequest(id=UNKNOWN), NOT_FOUND, "id")
        self.assertEqual(s.head(), head)
        # Resolved: now rating works, but only within 1..5.
        s.do("resolve", t.id, resolution=ST.TicketResolution(category="fixed"))
        self.refused("rate", t.id, code=INVALID, field="rating", rating=-1)
        self.assertEqual(s.do("rate", t.id, rating=1).satisfaction.rating, 1)
        self.refused("pend", t.id)
        self.refused("resolve", t.id, resolution=ST.TicketResolution(category="fixed"))


if __name__ == "__main__":
    unittest.main()
