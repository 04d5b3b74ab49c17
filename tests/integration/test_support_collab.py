"""Support with a real crm-sales: a complaint ticket about a customer with
an open deal creates one follow-up task for the deal's owner (sales'
sales.risk consumer of crm.support.ticket.opened.v1); a question does not.
Sales and support meet on the customer id without asking each other: the
person sales registered by email is the requester support computes. The
demo data set (`crmctl demo load`) shows the same on its help desk."""
import os
import subprocess
import unittest

from crmtest import BIN, System, free_port, wait_for
from test_support_service import SupportSystem, customer_id, sales_pb2, unique
from crm.v1 import person_pb2, support_pb2  # noqa: E402  (path set up by crmtest)


class CollabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sys = System()
        cls.sys = sys
        sys.start_bus()
        sys.add_probe("marketing")
        sys.add_probe("analytics")
        for name in ("sales", "support"):
            sys.endpoints[name] = "tcp://127.0.0.1:%d" % free_port()
        sys.add_service("sales", "crm-sales", ("marketing", "support", "analytics"),
                        {"SALES_FOLLOWUP_HOURS": "2"}, start=True)
        cls.s = SupportSystem(peers=("sales", "marketing"), sys=sys)
        cls.sales = sys.client("sales")

    @classmethod
    def tearDownClass(cls):
        cls.sales.close()
        cls.s.close()

    def sales_call(self, command, msg, reply_type):
        rep = self.sales.call_raw(command, msg.SerializeToString())
        self.assertEqual(rep.status.code, 0, rep.status)
        out = reply_type()
        out.ParseFromString(rep.body)
        return out

    def sales_q(self, sql, *args):
        return self.sys.cluster.query(self.sys.dbs["sales"], sql, *args)

    def test_complaint_on_open_deal_creates_one_task_for_the_owner(self):
        s = self.s
        email = "%s@corp.io" % unique("buyer")
        p = self.sales_call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Buyer", emails=[email])), sales_pb2.PersonReply).person
        self.assertEqual(p.id, customer_id(email))
        d = self.sales_call("sales.deal.create", sales_pb2.CreateDealRequest(deal=sales_pb2.Deal(
            title="Big deal", person_id=p.id, owner="rep-owl")), sales_pb2.DealReply).deal
        # Support opens both tickets by email only: the same customer id.
        q = s.open(requester_email=email.upper(), subject="How do I export?",
                   type=support_pb2.TICKET_TYPE_QUESTION)
        c = s.open(requester_email=email, subject="Billed twice",
                   type=support_pb2.TICKET_TYPE_COMPLAINT)
        self.assertEqual((q.customer_id, c.customer_id), (p.id, p.id))

        def tasks():
            return self.sales_q("SELECT owner, deal_id::text, subject FROM activity"
                                " WHERE person_id = %s AND kind = 4", p.id)
        wait_for(lambda: tasks(), 20, "the follow-up task in sales")
        # Wait until sales applied everything support committed, then count.
        head = s.head()
        wait_for(lambda: (self.sales_q("SELECT seq FROM crm_consumer_position WHERE"
                                       " consumer = 'sales.risk' AND source = 'support'")
                          or [(0,)])[0][0] >= head, 20, "sales.risk to catch up")
        rows = tasks()
        self.assertEqual(len(rows), 1)
        owner, deal_id, subject = rows[0]
        self.assertEqual((owner, deal_id), ("rep-owl", d.id))
        self.assertIn(c.id, subject)
        self.assertIn("complaint", subject)
        # Sales kept one person for the customer.
        self.assertEqual(self.sales_q("SELECT count(*) FROM person WHERE id = %s", p.id)[0][0], 1)

    def test_demo_load_shows_a_help_desk(self):
        s = self.s
        env = dict(os.environ, CRM_SERVICES="sales=%s,support=%s" % (
            self.sys.endpoints["sales"], self.sys.endpoints["support"]))

        def load():
            p = subprocess.run([os.path.join(BIN, "crmctl"), "demo", "load"], env=env,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            return p.stdout
        first = load()
        self.assertRegex(first, r"\nhelp desk in support: 7 tickets \(3 resolved, 1 of them "
                                r"closed, 3 rated; 2 waiting on the customer or a third party\)\n$")
        tickets = {r[0]: r[1:] for r in s.q(
            "SELECT subject, status, assignee, rating, customer_id::text FROM ticket"
            " WHERE requester_email LIKE '%%.example'")}
        self.assertEqual(len(tickets), 7)
        self.assertEqual({v[0] for v in tickets.values()}, {1, 2, 3, 4, 5, 6})
        self.assertEqual(tickets["Order export API returns 500"][:3], (5, "ben", 4))
        # The demo customers are sales' people (one id per email); the
        # unknown requester was registered by support.
        ada = tickets["Showroom lights flicker after the refit"]
        self.assertEqual(ada[3], customer_id("ada.quickfern@northwind-lamps.example"))
        self.assertEqual(self.sales_q("SELECT name FROM person WHERE id = %s", ada[3]),
                         [("Ada Quickfern",)])
        self.assertEqual(s.q("SELECT registered_by FROM person WHERE id = %s",
                             customer_id("walter.ashgrove@mailbox.example")), [("support",)])
        # Ada's complaint: a task for the owner of her open deal in sales.

        def task():
            return self.sales_q(
                "SELECT a.owner, d.title FROM activity a JOIN deal d ON d.id = a.deal_id"
                " WHERE a.person_id = %s AND a.kind = 4 AND a.subject LIKE %s",
                ada[3], "%complaint%")
        wait_for(task, 20, "the complaint task in sales")
        self.assertIn(("dana", "Showroom lighting refit"), task())
        # Loading again changes nothing: no command of support's is applied
        # again (its outbox head stays), and once sales has applied what
        # support published for it (each consumer's position reaches the
        # last event it takes), sales' people and tasks stay as they are.
        # (Sales' own head is no measure: its due-activity scan emits on a
        # timer.)
        head = s.head()
        last = {c: max([e.sequence for e in s.events(0) if e.type.startswith(p)] or [0])
                for c, p in (("sales.risk", "crm.support.ticket.opened."),
                             ("sales.people", "crm.support.person."))}

        def applied():
            return all((self.sales_q("SELECT seq FROM crm_consumer_position WHERE consumer = %s"
                                     " AND source = 'support'", c) or [(0,)])[0][0] >= seq
                       for c, seq in last.items())

        def sales_state():
            return self.sales_q("SELECT (SELECT count(*) FROM person),"
                                " (SELECT count(*) FROM activity WHERE kind = 4)")
        wait_for(applied, 20, "sales to apply support's events")
        before = sales_state()
        self.assertEqual(load(), first)
        self.assertEqual(s.head(), head)
        self.assertEqual(sales_state(), before)

if __name__ == "__main__":
    unittest.main()
