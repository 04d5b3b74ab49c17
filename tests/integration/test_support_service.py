"""Support: the service itself (start-up, seeded SLA policies and calendar),
tickets for unknown requesters and known customers, bad input, and the
helpers the other test_support_* files share: a SupportSystem is a bus,
probes named sales and marketing standing in for those services (each can
emit any event with probe.emit), and crm-support with those two as its
CRM_PEERS, all on a throwaway PostgreSQL cluster."""
import unittest
import uuid

from crmtest import CallError, System, event_pb2, rpc_pb2, wait_for
# The crm.v1 path is set up by crmtest.
from crm.v1 import marketing_pb2, person_pb2, sales_pb2, support_pb2  # noqa: E402

CRM_CUSTOMER_NAMESPACE = "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10"
OK = rpc_pb2.STATUS_CODE_OK
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
NOT_FOUND = rpc_pb2.STATUS_CODE_NOT_FOUND
PRECONDITION = rpc_pb2.STATUS_CODE_FAILED_PRECONDITION
UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"


def customer_id(email):
    """The identity rule, computed the way any service would."""
    return str(uuid.uuid5(uuid.UUID(CRM_CUSTOMER_NAMESPACE), email.strip().lower()))


def unique(prefix="x"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class SupportSystem:
    """Bus + peer probes + crm-support; `env` adds or overrides settings."""

    def __init__(self, env=None, peers=("sales", "marketing"), sys=None):
        self.sys = sys or System()
        if sys is None:
            self.sys.start_bus()
            for p in peers:
                self.sys.add_probe(p)
        self.peers = peers
        self.env = env or {}
        self.proc = self.add_support()
        self.proc.start()
        self.c = self.sys.client("support")

    def add_support(self, name="support"):
        return self.sys.add_service(name, "crm-support", self.peers,
                                    dict({"SUPPORT_SLA_SCAN_MS": "100"}, **self.env))

    def close(self):
        self.c.close()
        self.sys.close()

    # ---- commands ---------------------------------------------------------
    def raw(self, command, msg=None, key=None):
        return self.c.call_raw(command, msg.SerializeToString() if msg is not None else b"",
                               key=key)

    def call(self, command, msg, reply_type=support_pb2.TicketReply, key=None):
        """The reply message; raises CallError on a non-OK status."""
        rep = self.raw(command, msg, key)
        if rep.status.code != OK:
            raise CallError(rep.status)
        out = reply_type()
        out.ParseFromString(rep.body)
        return out

    def fails(self, command, msg, code, field=None):
        """Asserts the command fails with `code` naming `field`; returns the status."""
        rep = self.raw(command, msg)
        assert rep.status.code == code, "%s: expected %s, got %s %r" % (
            command, rpc_pb2.StatusCode.Name(code), rpc_pb2.StatusCode.Name(rep.status.code),
            rep.status)
        if field is not None:
            assert rep.status.field == field, "field %r, expected %r (%r)" % (
                rep.status.field, field, rep.status)
        assert rep.status.message and rep.status.message[0].islower(), rep.status.message
        assert not rep.status.message.endswith("."), rep.status.message
        assert rep.body == b""
        return rep.status

    def open(self, **kw):
        kw.setdefault("subject", "Printer on fire")
        return self.call("support.ticket.open", support_pb2.OpenTicketRequest(
            ticket=support_pb2.Ticket(**kw))).ticket

    def act(self, verb, ticket_id, **kw):
        msgs = {"assign": support_pb2.AssignTicketRequest,
                "reply": support_pb2.AddTicketMessageRequest,
                "note": support_pb2.AddTicketMessageRequest,
                "resolve": support_pb2.ResolveTicketRequest, "rate": support_pb2.RateTicketRequest}
        return msgs.get(verb, support_pb2.ChangeTicketStatusRequest)(id=ticket_id, **kw)

    def do(self, verb, ticket_id, **kw):
        return self.call("support.ticket.%s" % verb, self.act(verb, ticket_id, **kw)).ticket

    # ---- events and database ------------------------------------------------
    def q(self, sql, *args):
        return self.sys.cluster.query(self.sys.dbs["support"], sql, *args)

    def head(self):
        return self.q("SELECT head_seq FROM crm_stream")[0][0]

    def events(self, after=0, type_prefix="crm.support."):
        out = []
        for (data,) in self.q("SELECT event FROM crm_outbox WHERE seq > %s ORDER BY seq", after):
            ev = event_pb2.Event()
            ev.ParseFromString(bytes(data))
            if ev.type.startswith(type_prefix):
                out.append(ev)
        return out

    def count(self, table, where="true", *args):
        return self.q("SELECT count(*) FROM %s WHERE %s" % (table, where), *args)[0][0]

    def emit(self, source, type_, subject, **payload):
        self.sys.emit(source, type_, subject, **payload)

    def wait_applied(self, consumer, source, timeout=20):
        head = self.sys.cluster.query(self.sys.dbs[source], "SELECT head_seq FROM crm_stream")[0][0]

        def done():
            rows = self.q("SELECT seq FROM crm_consumer_position WHERE consumer = %s"
                          " AND source = %s", consumer, source)
            return rows and rows[0][0] >= head
        wait_for(done, timeout, "%s to apply %s up to %d" % (consumer, source, head))


class ServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SupportSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_seeded_policies(self):
        r = self.s.call("support.sla.policy.list", support_pb2.ListSlaPoliciesRequest(),
                        support_pb2.ListSlaPoliciesReply)
        self.assertEqual([(p.priority, p.first_response_minutes, p.resolution_minutes)
                          for p in r.policies], [(1, 960, 4800), (2, 480, 2400), (3, 240, 960),
                                                 (4, 60, 240)])

    def test_open_by_email_registers_one_person(self):
        s = self.s
        email = "%s@Help.io" % unique("Ada")
        norm = email.lower()
        cid = customer_id(email)
        head = s.head()
        t = s.open(requester_email="  %s " % email, requester_name="Ada L",
                   channel=support_pb2.TICKET_CHANNEL_EMAIL, tags=["product:billing"])
        self.assertEqual(t.customer_id, cid)
        self.assertEqual(t.requester_email, norm)
        self.assertEqual((t.status, t.priority, t.type),
                         (support_pb2.TICKET_STATUS_NEW, support_pb2.TICKET_PRIORITY_NORMAL,
                          support_pb2.TICKET_TYPE_QUESTION))
        self.assertEqual((t.first_response_target_minutes, t.resolution_target_minutes),
                         (480, 2400))
        self.assertGreater(t.first_response_due_us, t.created_at_us)
        self.assertEqual(s.q("SELECT id::text, name, emails, registered_by FROM person"
                             " WHERE id = %s", cid), [(cid, "Ada L", [norm], "support")])
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.support.person.registered.v1",
                                                 "crm.support.ticket.opened.v1",
                                                 "crm.support.feedback.tagged.v1"])
        self.assertTrue(all(e.subject == cid for e in evs))
        p = evs[0].person_registered.person
        self.assertEqual((p.id, list(p.emails), p.name, p.registered_by),
                         (cid, [norm], "Ada L", "support"))
        o = evs[1].ticket_opened
        self.assertEqual((o.ticket_id, o.customer_id, o.subject, o.priority),
                         (t.id, cid, "Printer on fire", "normal"))
        self.assertEqual(list(evs[2].feedback_tagged.tags), ["product:billing"])
        # The same requester again: the same customer, nobody registered twice.
        head = s.head()
        t2 = s.open(requester_email=norm.upper(), priority=support_pb2.TICKET_PRIORITY_URGENT)
        self.assertEqual(t2.customer_id, cid)
        self.assertEqual(t2.first_response_target_minutes, 60)
        self.assertEqual([e.type for e in s.events(head)], ["crm.support.ticket.opened.v1"])
        self.assertEqual(s.count("person", "id = %s", cid), 1)
        shown = s.call("support.ticket.show", support_pb2.ShowTicketRequest(id=t.id))
        self.assertEqual(shown.ticket, t)
        listed = s.call("support.ticket.list", support_pb2.ListTicketsRequest(customer_id=cid),
                        support_pb2.ListTicketsReply)
        self.assertEqual([x.id for x in listed.tickets], [t.id, t2.id])
        listed = s.call("support.ticket.list", support_pb2.ListTicketsRequest(
            customer_id=cid, priority=support_pb2.TICKET_PRIORITY_URGENT),
            support_pb2.ListTicketsReply)
        self.assertEqual([x.id for x in listed.tickets], [t2.id])
        page = s.call("support.ticket.list", support_pb2.ListTicketsRequest(
            customer_id=cid, page_size=1), support_pb2.ListTicketsReply)
        self.assertEqual([x.id for x in page.tickets], [t.id])
        page = s.call("support.ticket.list", support_pb2.ListTicketsRequest(
            customer_id=cid, page_size=1, page_token=page.next_page_token),
            support_pb2.ListTicketsReply)
        self.assertEqual(([x.id for x in page.tickets], page.next_page_token), ([t2.id], ""))

    def test_people_from_sales_are_known_customers(self):
        s = self.s
        pid = str(uuid.uuid4())
        s.emit("sales", "crm.sales.person.registered.v1", pid,
               person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                   id=pid, name="Grace", emails=["grace@navy.mil"])))
        s.wait_applied("support.people", "sales")
        self.assertEqual(s.q("SELECT name, emails, registered_by FROM person WHERE id = %s", pid),
                         [("Grace", ["grace@navy.mil"], "sales")])
        head = s.head()
        t = s.open(customer_id=pid, type=support_pb2.TICKET_TYPE_COMPLAINT)
        self.assertEqual((t.customer_id, t.requester_name), (pid, "Grace"))
        self.assertEqual([e.type for e in s.events(head)], ["crm.support.ticket.opened.v1"])
        s.emit("sales", "crm.sales.person.updated.v1", pid, person_updated=sales_pb2.PersonUpdated(
            person=person_pb2.Person(id=pid, name="Grace H"), changed_fields=["name"]))
        s.wait_applied("support.people", "sales")
        self.assertEqual(s.q("SELECT name, emails FROM person WHERE id = %s", pid),
                         [("Grace H", ["grace@navy.mil"])])

    def test_do_not_contact_from_marketing_shown_to_agents(self):
        s = self.s
        email = "%s@prefs.io" % unique("p")
        t = s.open(requester_email=email)
        shown = s.call("support.ticket.show", support_pb2.ShowTicketRequest(id=t.id))
        self.assertEqual((list(shown.do_not_contact), shown.preferred_channel), ([], ""))
        prefs = marketing_pb2.ContactPreferences(
            customer_id=t.customer_id, preferred_channel=marketing_pb2.CHANNEL_PHONE,
            opted_out=[marketing_pb2.CHANNEL_EMAIL, marketing_pb2.CHANNEL_SMS])
        s.emit("marketing", "crm.marketing.preferences.changed.v1", t.customer_id,
               preferences_changed=marketing_pb2.PreferencesChanged(preferences=prefs,
                                                                    cause="command"))
        s.wait_applied("support.preferences", "marketing")
        shown = s.call("support.ticket.show", support_pb2.ShowTicketRequest(id=t.id))
        self.assertEqual((list(shown.do_not_contact), shown.preferred_channel),
                         (["email", "sms"], "phone"))

    def test_bad_input_writes_nothing(self):
        s = self.s
        head, n, people = s.head(), s.count("ticket"), s.count("person")
        T = support_pb2.Ticket
        R = support_pb2.OpenTicketRequest
        s.fails("support.ticket.open", R(), INVALID, "ticket")
        s.fails("support.ticket.open", R(ticket=T(subject="x")), INVALID, "ticket.customer_id")
        s.fails("support.ticket.open", R(ticket=T(subject="x", customer_id=UNKNOWN)), NOT_FOUND,
                "ticket.customer_id")
        s.fails("support.ticket.open", R(ticket=T(subject="x", customer_id="nope")), INVALID,
                "ticket.customer_id")
        s.fails("support.ticket.open", R(ticket=T(subject="x", requester_email="a@")), INVALID,
                "ticket.requester_email")
        s.fails("support.ticket.open", R(ticket=T(subject=" ", requester_email="a@b.io")), INVALID,
                "ticket.subject")
        s.fails("support.ticket.open", R(ticket=T(subject="x", requester_email="a@b.io",
                                                  priority=9)), INVALID, "ticket.priority")
        s.fails("support.ticket.open", R(ticket=T(subject="x", requester_email="a@b.io",
                                                  channel=17)), INVALID, "ticket.channel")
        s.fails("support.ticket.open", R(ticket=T(subject="x", requester_email="a@b.io",
                                                  tags=["ok", "Bad Tag"])), INVALID,
                "ticket.tags[1]")
        s.fails("support.ticket.show", support_pb2.ShowTicketRequest(id=UNKNOWN), NOT_FOUND, "id")
        s.fails("support.ticket.assign", support_pb2.AssignTicketRequest(id=UNKNOWN, assignee="a"),
                NOT_FOUND, "id")
        s.fails("support.ticket.list", support_pb2.ListTicketsRequest(status=42), INVALID, "status")
        s.fails("support.ticket.list", support_pb2.ListTicketsRequest(page_token="zz"), INVALID,
                "page_token")
        s.fails("support.sla.policy.set", support_pb2.SetSlaPolicyRequest(
            policy=support_pb2.SlaPolicy(priority=2, first_response_minutes=0,
                                         resolution_minutes=5)),
            INVALID, "policy.first_response_minutes")
        s.fails("support.sla.calendar.set", support_pb2.SetBusinessCalendarRequest(
            calendar=support_pb2.BusinessCalendar(hours=[support_pb2.BusinessHours(
                weekday=1, open_minute=540, close_minute=1020)], holidays=["2026-13-01"])),
            INVALID, "calendar.holidays[0]")
        self.assertEqual((s.head(), s.count("ticket"), s.count("person")), (head, n, people))


if __name__ == "__main__":
    unittest.main()
