"""Analytics: what the health score is computed from (an_health_inputs in
services/analytics/sql/0002_apply.sql: orders and cadence, the 90-day
windows, which tickets and responses count; the score's rules themselves
are unit-tested in tests/unit/analytics) and the data-quality rules
(an_dq_findings, R_data_quality.sql), on a throwaway database that holds the
backbone's and analytics' migrations, with projection rows written
directly. Each case states the situation and the result worked out by hand
from docs/analytics.md."""
import glob
import os
import unittest
import uuid

import psycopg2

from crmtest import SOURCE, Cluster

AT = "2026-11-30 12:00:00+00"


class HealthRulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()
        db = cls.cluster.create_db()
        cls.conn = psycopg2.connect(cls.cluster.url(db))
        cls.conn.autocommit = True
        cur = cls.conn.cursor()
        for d in ("common/sql", "services/analytics/sql"):
            for f in sorted(glob.glob(os.path.join(SOURCE, d, "*.sql"))):
                with open(f) as fh:
                    cur.execute(fh.read())

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        cls.cluster.destroy()

    def customer(self, orders=(), done=(), responses=(), tickets=(), breaches=()):
        """A customer with orders, activities done, campaign responses
        (type, days ago), tickets (type, status, rating) and SLA breaches,
        each given in days before AT. Returns the id."""
        cid = str(uuid.uuid4())
        cur = self.conn.cursor()
        at = "'%s'::timestamptz - %%s * interval '1 day'" % AT
        for days in orders:
            cur.execute("INSERT INTO sale_order (id, customer_id, total_minor, ordered_at)"
                        " VALUES (%s, %s, 100, " + at + ")", (str(uuid.uuid4()), cid, days))
        for days in done:
            cur.execute("INSERT INTO activity (id, customer_id, kind, status, completed_at,"
                        " created_at) VALUES (%s, %s, 'call', 'done', " + at + ", " + at + ")",
                        (str(uuid.uuid4()), cid, days, days))
        for i, (kind, days) in enumerate(responses):
            cur.execute("INSERT INTO campaign_response (source, seq, campaign_id, customer_id,"
                        " response, at) VALUES (%s, %s, 'c', %s, %s, " + at + ")",
                        (cid, i, cid, kind, days))
        for kind, status, rating in tickets:
            cur.execute("INSERT INTO ticket (id, customer_id, type, status, rating, opened_at)"
                        " VALUES (%s, %s, %s, %s, %s, " + at + ")",
                        (str(uuid.uuid4()), cid, kind, status, rating, 10))
        for i, days in enumerate(breaches):
            cur.execute("INSERT INTO sla_breach (ticket_id, target, customer_id, at)"
                        " VALUES (%s, 'resolution', %s, " + at + ")", ("%s-%d" % (cid, i), cid, days))
        return cid

    def inputs(self, cid):
        cur = self.conn.cursor()
        cur.execute("SELECT an_health_inputs(%s, %s::timestamptz)", (cid, AT))
        return cur.fetchone()[0]

    def assertInputs(self, cid, **want):
        got = self.inputs(cid)
        self.assertEqual({k: got[k] for k in want}, want, got)

    def test_nothing_known(self):
        self.assertEqual(self.inputs(self.customer()), {
            "orders": 0, "since_tenths": 0, "cadence_tenths": 0, "engagement": 0,
            "open_complaints": 0, "ratings": 0, "rating_sum": 0, "breaches": 0})

    def test_orders_and_cadence(self):
        # Orders 90, 60 and 30 days ago: cadence (90 - 30) / 2 = 30.0 days,
        # last 30.0 days ago; in tenths.
        self.assertInputs(self.customer(orders=(90, 60, 30)), orders=3, since_tenths=300,
                          cadence_tenths=300)
        # 121, 91, 61: cadence 30.0, since 61.0; an order after AT does not count.
        self.assertInputs(self.customer(orders=(121, 91, 61, -5)), orders=3, since_tenths=610,
                          cadence_tenths=300)
        # One order 91 days ago: no cadence.
        self.assertInputs(self.customer(orders=(91,)), orders=1, since_tenths=910,
                          cadence_tenths=0)
        # 10 and 3 days ago: cadence 7.0.
        self.assertInputs(self.customer(orders=(10, 3)), orders=2, since_tenths=30,
                          cadence_tenths=70)

    def test_engagement_window(self):
        # Activities done 1 and 89 days ago count, 91 days ago not; a click
        # counts, a bounce and an unsubscribe do not: 3.
        self.assertInputs(self.customer(done=(1, 89, 91), responses=(
            ("clicked", 5), ("bounced", 5), ("unsubscribed", 5))), engagement=3)
        # A note is not a contact.
        cid = self.customer(done=(1,))
        cur = self.conn.cursor()
        cur.execute("INSERT INTO activity (id, customer_id, kind, status, completed_at, created_at)"
                    " VALUES (%s, %s, 'note', 'done', %s::timestamptz, %s::timestamptz)",
                    (str(uuid.uuid4()), cid, AT, AT))
        self.assertInputs(cid, engagement=1)

    def test_tickets_and_breaches(self):
        # Open complaints: open, new and pending count; a resolved one not.
        # Ratings: only rated tickets (1 and 2). Breaches: 4 within 90 days,
        # one 100 days ago not.
        cid = self.customer(tickets=(("complaint", "open", 0), ("complaint", "new", 0),
                                     ("complaint", "pending", 0), ("complaint", "resolved", 1),
                                     ("question", "closed", 2)),
                            breaches=(1, 2, 3, 4, 100))
        self.assertInputs(cid, open_complaints=3, ratings=2, rating_sum=3, breaches=4)


class DataQualityRulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        HealthRulesTest.setUpClass.__func__(cls)

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        cls.cluster.destroy()

    def person(self, pid, name="", emails=(), phones=(), org="", first_seen_days=10):
        cur = self.conn.cursor()
        cur.execute("INSERT INTO customer (id, name, emails, phones, organization_id, known,"
                    " first_seen) VALUES (%s, %s, %s, %s, %s, true,"
                    " %s::timestamptz - %s * interval '1 day')",
                    (pid, name, list(emails), list(phones), org, AT, first_seen_days))

    def contact(self, pid, seq, days, type_="crm.sales.activity.completed.v1"):
        cur = self.conn.cursor()
        cur.execute("INSERT INTO customer_event (source, seq, type, customer_id, occurred_at,"
                    " payload) VALUES ('sales', %s, %s, %s,"
                    " %s::timestamptz - %s * interval '1 day', '{}')", (seq, type_, pid, AT, days))

    def test_findings(self):
        p = self.person
        # Duplicates: b1 has a1's email in another case; b2 a2's phone
        # written differently; b3 a3's name (other case) in the same
        # organisation; c3 has the same name in another organisation (not
        # a duplicate). All were first seen at once, so the greater id of
        # each pair is the later record, the finding.
        p("a1", "Ann", ["ann@x.io"])
        p("b1", "Ann B", [" ANN@x.io"])
        p("a2", "Al", phones=["+44 20 7946 0000"])
        p("b2", "Al B", phones=["+442079460000"])
        p("a3", "Eve Stone", ["eve@x.io"], org="o1")
        p("b3", "eve stone", ["eve2@x.io"], org="o1")
        p("c3", "Eve Stone", ["eve3@x.io"], org="o2")
        # Unreachable: no email, no phone.
        p("u1", "Nobody")
        # Not contacted: known 400 days; z1 last contacted 366 days ago
        # (a finding), z2 364 days ago (not), z3 never (a finding), z4 only
        # known for 300 days (not yet).
        p("z1", "Z1", ["z1@x.io"], first_seen_days=400)
        p("z2", "Z2", ["z2@x.io"], first_seen_days=400)
        p("z3", "Z3", ["z3@x.io"], first_seen_days=400)
        p("z4", "Z4", ["z4@x.io"], first_seen_days=300)
        self.contact("z1", 1, 366)
        self.contact("z2", 2, 364, "crm.support.ticket.replied.v1")
        cur = self.conn.cursor()
        # Deals: open without next step (a finding), open with one, lost
        # without one (not open).
        for did, status, step in (("d1", "open", ""), ("d2", "open", "call"), ("d3", "lost", "")):
            cur.execute("INSERT INTO deal (id, customer_id, title, status, next_step, created_at)"
                        " VALUES (%s, 'a1', %s, %s, %s, %s::timestamptz - interval '5 days')",
                        (did, did, status, step, AT))
        # Activities: scheduled and overdue (a finding), scheduled later,
        # done though past due.
        for aid, status, due in (("t1", "scheduled", 1), ("t2", "scheduled", -1), ("t3", "done", 2)):
            cur.execute("INSERT INTO activity (id, customer_id, kind, status, subject, due_at,"
                        " created_at) VALUES (%s, 'a1', 'task', %s, %s,"
                        " %s::timestamptz - %s * interval '1 day', %s::timestamptz)",
                        (aid, status, aid, AT, due, AT))
        cur.execute("SELECT kind, record_id, team, detail FROM an_dq_findings(%s::timestamptz)"
                    " ORDER BY kind, record_id", (AT,))
        self.assertEqual(cur.fetchall(), [
            ("deal_without_next_step", "d1", "sales", 'open deal "d1" has no next step'),
            ("duplicate", "b1", "sales", "likely duplicate of a1 (same email)"),
            ("duplicate", "b2", "sales", "likely duplicate of a2 (same phone)"),
            ("duplicate", "b3", "sales", "likely duplicate of a3 (same name and organisation)"),
            ("not_contacted", "z1", "sales", "last contact %s" % self.day(366)),
            ("not_contacted", "z3", "sales", "never contacted"),
            ("overdue_activity", "t1", "sales", 'task "t1" was due %s 12:00' % self.day(1)),
            ("unreachable", "u1", "sales", "no email address and no phone number")])

    def day(self, days_before):
        cur = self.conn.cursor()
        cur.execute("SELECT to_char(%s::timestamptz - %s * interval '1 day', 'YYYY-MM-DD')",
                    (AT, days_before))
        return cur.fetchone()[0]


if __name__ == "__main__":
    unittest.main()
