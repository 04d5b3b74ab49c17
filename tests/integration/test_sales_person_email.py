"""Sales: the person lookup by email through person_email (issue 15,
services/sales/sql/0013_person_email.sql), a btree of (normalised email,
person) kept by the person row itself. After every way emails change
(register, update adding and removing one, a peer's person event, merge,
erasure) the table holds exactly the emails of every person, the lookup
answers the person that has the email (the oldest when two share one),
and an email is still refused or deduplicated as before."""
import unittest
import uuid

import psycopg2

from personaltest import OFFICER, PersonalDataCase, PersonEmailChecks
from test_analytics_service import OK
from test_sales_service import ALREADY_EXISTS
from crm.v1 import person_pb2, sales_pb2  # noqa: E402


def email(tag):
    return "%s.%s@pe.example" % (tag, uuid.uuid4().hex[:8])


class PersonEmailTest(PersonEmailChecks, PersonalDataCase):
    DB = "sales"

    def register(self, name, emails, created=True):
        r = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name=name, emails=emails)), sales_pb2.PersonReply)
        self.assertEqual(r.created, created)
        return r.person

    def update_emails(self, pid, emails):
        return self.raw("sales.person.update", sales_pb2.UpdatePersonRequest(
            id=pid, person=person_pb2.Person(emails=emails), update_mask=["emails"]))

    def show(self, e):
        return self.call("sales.person.show", sales_pb2.ShowPersonRequest(email=e),
                         sales_pb2.PersonReply).person

    def test_person_email_follows_every_change(self):
        a1, a2, b1, b2 = email("a1"), email("a2"), email("b1"), email("b2")
        # Register: each normalised email once (a repeat in other case too).
        a = self.register("Alma One", [a1, a2.upper(), " %s " % a2])
        self.assertEqual(list(a.emails), [a1, a2])
        self.assertEqual(self.emails_of(a.id), sorted([a1, a2]))
        # The same email again: the same person, nothing added.
        again = self.register("Someone Else", [a2.upper()], created=False)
        self.assertEqual(again.id, a.id)
        self.assertEqual(self.emails_of(a.id), sorted([a1, a2]))
        b = self.register("Bert Two", [b1])
        self.assertConsistent()

        # Update: an email added, then one removed.
        self.assertEqual(self.update_emails(b.id, [b1, b2]).status.code, OK)
        self.assertEqual(self.emails_of(b.id), sorted([b1, b2]))
        self.assertEqual(self.update_emails(b.id, [b2]).status.code, OK)
        self.assertEqual(self.emails_of(b.id), [b2])
        self.assertEqual(self.sq("SELECT count(*) FROM person_email WHERE email = %s", b1)[0][0],
                         0)
        # Nobody has the freed email now; registering it answers the person
        # whose id the customer-id rule derives from it (b), unchanged, as
        # before.
        rep = self.raw("sales.person.show", sales_pb2.ShowPersonRequest(email=b1))
        self.assertNotEqual(rep.status.code, OK)
        self.assertEqual(self.register("Cleo Three", [b1], created=False).id, b.id)
        self.assertEqual(self.emails_of(b.id), [b2])
        # Another person's email is refused, and nothing changes.
        rep = self.update_emails(b.id, [b2, a1])
        self.assertEqual((rep.status.code, rep.status.field), (ALREADY_EXISTS, "person.emails"))
        self.assertEqual(self.emails_of(b.id), [b2])
        self.assertConsistent()

        # Merge b into a: b's email names a from now on; no row names b.
        rep = self.raw("sales.person.merge", sales_pb2.MergePersonRequest(
            keep_id=a.id, drop_id=b.id, reason="DQ-15"), who=OFFICER)
        self.assertEqual(rep.status.code, OK, rep.status)
        self.assertEqual(self.emails_of(a.id), sorted([a1, a2, b2]))
        self.assertEqual(self.emails_of(b.id), [])
        self.assertEqual(self.show(b2).id, a.id)
        self.assertEqual(self.register("Bert Again", [b2], created=False).id, a.id)
        self.assertConsistent()

        # Erasure: the person's emails leave the table.
        self.call("sales.person.erase", sales_pb2.ErasePersonRequest(id=a.id, reason="DSR-15"),
                  sales_pb2.ErasePersonReply, who=OFFICER)
        self.assertEqual(self.emails_of(a.id), [])
        for e in (a1, a2, b2):
            self.assertEqual(self.sq("SELECT count(*) FROM person_email WHERE email = %s", e)[0][0],
                             0, e)
            rep = self.raw("sales.person.show", sales_pb2.ShowPersonRequest(email=e))
            self.assertNotEqual(rep.status.code, OK)
        self.assertConsistent()

    def test_shared_email_answers_the_oldest(self):
        """A peer's person event applies last-writer-wins without the
        one-person-per-email check, so two people can share an email: both
        have a row, and the lookup answers the older one, as before."""
        shared, own = email("shared"), email("own")
        first = self.register("First Holder", [shared])
        second = self.register("Second Holder", [own])
        # What a peer's person.updated setting emails does to the row.
        self.sq("UPDATE person SET emails = emails || %s::text WHERE id = %s", shared, second.id)
        self.assertEqual(sorted(r[0] for r in self.sq(
            "SELECT person_id::text FROM person_email WHERE email = %s", shared)),
            sorted([first.id, second.id]))
        self.assertEqual(self.show(shared).id, first.id)
        self.assertEqual(self.register("Third", [shared], created=False).id, first.id)
        # The older one drops it: the other keeps its row and is found.
        self.assertEqual(self.update_emails(first.id, [email("new")]).status.code, OK)
        self.assertEqual(self.show(shared).id, second.id)
        self.assertConsistent()

    def test_lookup_is_a_btree_probe(self):
        plan = "\n".join(r[0] for r in self.sq(
            "EXPLAIN WITH pe AS MATERIALIZED (SELECT person_id FROM person_email"
            " WHERE email = ANY (%s::text[]))"
            " SELECT pe_p.id FROM pe JOIN person pe_p ON pe_p.id = pe.person_id"
            " ORDER BY pe_p.created_at, pe_p.id LIMIT 1", [email("x")]))
        self.assertIn("person_email_pkey", plan)
        self.assertEqual(self.sq("SELECT count(*) FROM pg_indexes WHERE indexname ="
                                 " 'person_emails'")[0][0], 0)

    def test_register_plan_survives_growth(self):
        """sales_person_register() keeps its plans for the connection
        (0014). Planned while person was small, 0014's lookup walked person
        in created_at order probing the emails for each, so that once the
        table had grown a new email read every person (0015 fixed it). The
        service's connections live long; here one session plans on the
        small table (generic plans from the first call, as the service gets
        them from the sixth), another adds 3,000 people, and a registration
        of a new email must still be a few key probes."""
        cluster, db = self.a.sys.cluster, self.a.sys.dbs["sales"]
        a = psycopg2.connect(cluster.url(db))
        b = psycopg2.connect(cluster.url(db))
        b.autocommit = True
        try:
            cur = a.cursor()
            cur.execute("SET plan_cache_mode = force_generic_plan")

            def register(e):
                cur.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM sales_person_register("
                    "gen_random_uuid(), 2::smallint, 'Plan Probe', ARRAY[%s], '{}', NULL, '', '',"
                    " '', '', '{}', '', '[]', '{name, emails}', 1, 'test', '')", (e,))
                plan = cur.fetchone()[0][0]["Plan"]
                return plan["Shared Hit Blocks"] + plan.get("Shared Read Blocks", 0)

            for i in range(6):
                register(email("early%d" % i))
            b.cursor().execute(
                "INSERT INTO person (id, name, emails, registered_by, created_at)"
                " SELECT gen_random_uuid(), 'Grown ' || i, ARRAY['grown' || i || %s],"
                " 'test', now() - interval '1 day' FROM generate_series(1, 3000) i",
                ("." + uuid.uuid4().hex[:8] + "@pe.example",))
            late = [register(email("late%d" % i)) for i in range(3)]
            # A walk reads a buffer for each of the 3,000; the probes, tens.
            self.assertLess(max(late), 300, late)
        finally:
            a.rollback()
            a.close()
            b.close()
        self.assertConsistent()


if __name__ == "__main__":
    unittest.main()
