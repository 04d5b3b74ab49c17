"""Support: the requester's lookup by email through person_email (issue
15, services/support/sql/0008_person_email.sql), a btree of (email,
person) kept by the person row itself, across the real crm-sales and
crm-support. After every way support's people change (a ticket's new
requester, sales' person events registering and updating, a merge, an
erasure) the table holds exactly the emails of every person, an erased
person's emails are gone from it, a ticket from a known email names that
person, and the lookup stays a few key probes after thousands of people
were added to a session that planned it on a small table."""
import unittest
import uuid

import psycopg2

from crmtest import wait_for
from personaltest import OFFICER, PersonalDataCase, PersonEmailChecks
from test_analytics_service import OK
from test_support_service import customer_id
from crm.v1 import person_pb2, sales_pb2, support_pb2  # noqa: E402


def email(tag):
    return "%s.%s@spe.example" % (tag, uuid.uuid4().hex[:8])


class SupportPersonEmailTest(PersonEmailChecks, PersonalDataCase):
    DB = "support"

    def open(self, requester, name="Req"):
        return self.call("support.ticket.open", support_pb2.OpenTicketRequest(
            ticket=support_pb2.Ticket(requester_email=requester, requester_name=name,
                                      subject="Question", type=support_pb2.TICKET_TYPE_QUESTION)),
            support_pb2.TicketReply).ticket

    def register(self, name, emails):
        p = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name=name, emails=emails)), sales_pb2.PersonReply).person
        wait_for(lambda: self.emails_of(p.id) == sorted(emails), 20, "support to know them")
        return p

    def test_person_email_follows_every_change(self):
        # A ticket's unknown requester: registered by support, one row.
        r1 = email("req")
        t = self.open(r1.upper())
        self.assertEqual(t.customer_id, customer_id(r1))
        self.assertEqual(self.emails_of(t.customer_id), [r1])
        # The same requester again: the same person, nothing added.
        self.assertEqual(self.open(r1).customer_id, t.customer_id)
        self.assertEqual(self.sq("SELECT count(*) FROM person_email WHERE email = %s", r1)[0][0],
                         1)

        # Sales' people arrive as events; an update adds and removes emails.
        a1, a2, b1, b2 = email("a1"), email("a2"), email("b1"), email("b2")
        a = self.register("Alma Support", [a1, a2])
        b = self.register("Bert Support", [b1])
        rep = self.raw("sales.person.update", sales_pb2.UpdatePersonRequest(
            id=b.id, person=person_pb2.Person(emails=[b2]), update_mask=["emails"]))
        self.assertEqual(rep.status.code, OK, rep.status)
        wait_for(lambda: self.emails_of(b.id) == [b2], 20, "support to apply the update")
        self.assertEqual(self.sq("SELECT count(*) FROM person_email WHERE email = %s", b1)[0][0],
                         0)
        # A ticket from a known email names that person.
        self.assertEqual(self.open(a2).customer_id, a.id)
        self.assertEqual(self.open(b2).customer_id, b.id)
        self.assertConsistent()

        # Merge b into a: every email names a, no row names b.
        rep = self.raw("sales.person.merge", sales_pb2.MergePersonRequest(
            keep_id=a.id, drop_id=b.id, reason="DQ-15"), who=OFFICER)
        self.assertEqual(rep.status.code, OK, rep.status)
        wait_for(lambda: self.emails_of(a.id) == sorted([a1, a2, b2]), 20, "support to merge")
        self.assertEqual(self.emails_of(b.id), [])
        self.assertEqual(self.open(b2).customer_id, a.id)
        self.assertConsistent()

        # Erasure: the person's emails leave the table.
        self.call("sales.person.erase", sales_pb2.ErasePersonRequest(id=a.id, reason="DSR-15"),
                  sales_pb2.ErasePersonReply, who=OFFICER)
        wait_for(lambda: self.emails_of(a.id) == [], 20, "support to erase")
        for e in (a1, a2, b2):
            self.assertEqual(self.sq("SELECT count(*) FROM person_email WHERE email = %s",
                                     e)[0][0], 0, e)
        self.assertConsistent()

    def test_lookup_stays_a_probe(self):
        """support_open_context() keeps its plans for the connection.
        Planned in one session while person is small (generic plans from
        the first call), then 3,000 people added from another: the lookup
        of a new email and of a known one must still be a few key probes,
        and the GIN index on emails is gone."""
        self.assertEqual(self.sq("SELECT count(*) FROM pg_indexes WHERE indexname ="
                                 " 'person_emails'")[0][0], 0)
        cluster, db = self.a.sys.cluster, self.a.sys.dbs["support"]
        a = psycopg2.connect(cluster.url(db))
        b = psycopg2.connect(cluster.url(db))
        b.autocommit = True
        tail = "." + uuid.uuid4().hex[:8] + "@spe.example"
        try:
            cur = a.cursor()
            cur.execute("SET plan_cache_mode = force_generic_plan")

            def lookup(e):
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM"
                            " support_open_context(NULL, %s, 2::smallint)", (e,))
                plan = cur.fetchone()[0][0]["Plan"]
                return plan["Shared Hit Blocks"] + plan.get("Shared Read Blocks", 0)

            # Both branches planned early: a new email, and a known one
            # (the first call of a branch plans it, reading the catalog).
            b.cursor().execute(
                "INSERT INTO person (id, name, emails, registered_by, created_us, updated_us)"
                " VALUES (gen_random_uuid(), 'Early', ARRAY['early' || %s], 'test', 1, 1)",
                (tail,))
            for i in range(6):
                lookup(email("early%d" % i))
                lookup("early" + tail)
            b.cursor().execute(
                "INSERT INTO person (id, name, emails, registered_by, created_us, updated_us)"
                " SELECT gen_random_uuid(), 'Grown ' || i, ARRAY['grown' || i || %s], 'test',"
                " 1, 1 FROM generate_series(1, 3000) i", (tail,))
            late = [lookup(email("late%d" % i)) for i in range(3)]
            late += [lookup("grown1500" + tail), lookup("early" + tail)]
            self.assertLess(max(late), 60, late)
            cur.execute("SELECT o_person FROM support_open_context(NULL, %s, 2::smallint)",
                        ("grown1500" + tail,))
            self.assertIn("Grown 1500", cur.fetchone()[0])
        finally:
            a.rollback()
            a.close()
            b.close()
        self.assertConsistent()


if __name__ == "__main__":
    unittest.main()
