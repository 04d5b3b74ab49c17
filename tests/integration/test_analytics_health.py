"""Analytics: the health score's rules one by one (an_health in
services/analytics/sql/0002_apply.sql) and the data-quality rules
(an_dq_findings, 0003_reports.sql), on a throwaway database that holds the
backbone's and analytics' migrations, with projection rows written
directly. Each case states the situation and the result worked out by hand
from docs/analytics.md (health: start at 50, add the components, clamp to
0-100)."""
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

    def health(self, cid):
        cur = self.conn.cursor()
        cur.execute("SELECT an_health(%s, %s::timestamptz)", (cid, AT))
        return cur.fetchone()[0]

    def assertScore(self, cid, score, reasons=None):
        h = self.health(cid)
        self.assertEqual((h["score"], h["churn_risk"]), (score, 100 - score), h)
        if reasons is not None:
            self.assertEqual(h["reasons"], reasons)
        return h

    def test_nothing_known(self):
        # No order, no engagement (-10): 40.
        self.assertScore(self.customer(), 40, ["no engagement in 90 days (-10)"])

    def test_recency_against_own_cadence(self):
        # Orders 90, 60 and 30 days ago: cadence 30, last 30 days ago -> +20;
        # no engagement -10: 60.
        self.assertScore(self.customer(orders=(90, 60, 30)), 60, [
            "purchase recency within own cadence of 30.0 days (+20)",
            "no engagement in 90 days (-10)"])
        # Cadence 30, last 45 days ago: between one and two cadences, 0: 40.
        h = self.assertScore(self.customer(orders=(105, 75, 45)), 40)
        self.assertEqual(h["components"]["cadence_days"], 30.0)
        # Cadence 30, last 61 days ago: more than twice -> -20: 20.
        self.assertScore(self.customer(orders=(121, 91, 61)), 20, [
            "last purchase 61.0 days ago, over twice the own cadence of 30.0 days (-20)",
            "no engagement in 90 days (-10)"])
        # Exactly twice the cadence (60) is not more than twice: 0 -> 40.
        self.assertScore(self.customer(orders=(120, 90, 60)), 40)

    def test_single_order(self):
        # One order 90 days ago counts as recent (+10); 91 days ago does not (-10).
        self.assertScore(self.customer(orders=(90,)), 50)
        self.assertScore(self.customer(orders=(91,)), 30, [
            "only purchase 91.0 days ago (-10)", "no engagement in 90 days (-10)"])

    def test_engagement_window_and_cap(self):
        # 2 activities and 1 click within 90 days: 3 x 5 = +15 -> 65. An
        # activity 91 days ago, a bounce and an unsubscribe do not count.
        self.assertScore(self.customer(done=(1, 89, 91), responses=(
            ("clicked", 5), ("bounced", 5), ("unsubscribed", 5))), 65,
            ["engagement: 3 interactions in 90 days (+15)"])
        # 6 interactions: capped at +20 -> 70.
        self.assertScore(self.customer(done=(1, 2, 3, 4, 5, 6)), 70)

    def test_complaints_ratings_breaches(self):
        # 3 open complaints: capped at -30; a resolved complaint does not
        # count; ratings 1 and 2 average 1.5 -> round(-15) = -15; 4
        # breaches within 90 days (one older does not count): capped at
        # -30. 50 - 10 - 30 - 15 - 30 = -35 -> clamped to 0.
        cid = self.customer(tickets=(("complaint", "open", 0), ("complaint", "new", 0),
                                     ("complaint", "pending", 0), ("complaint", "resolved", 1),
                                     ("question", "closed", 2)),
                            breaches=(1, 2, 3, 4, 100))
        self.assertScore(cid, 0, ["no engagement in 90 days (-10)",
                                  "3 open complaint(s) (-30)",
                                  "average rating 1.5 (-15)",
                                  "4 SLA breach(es) in 90 days (-30)"])

    def test_clamped_at_100(self):
        # +20 recency, +20 engagement, rating 5 -> +20: 110 -> 100.
        self.assertScore(self.customer(orders=(20, 10), done=(1, 2, 3, 4),
                                       tickets=(("question", "closed", 5),)), 100)

    def test_rating_rounds_half_away_from_zero(self):
        # Ratings 4 and 5: average 4.5 -> (4.5 - 3) x 10 = +15; ratings 3
        # and 4: 3.5 -> +5. With no engagement (-10): 55 and 45.
        self.assertScore(self.customer(tickets=(("question", "closed", 4),
                                                ("question", "closed", 5))), 55)
        self.assertScore(self.customer(tickets=(("question", "closed", 3),
                                                ("question", "closed", 4))), 45)
        # Ratings 3, 3, 3, 4: 3.25 -> +2.5 -> +3 (43); 2, 3, 3, 3: 2.75 ->
        # -2.5 -> -3 (37).
        q = lambda *r: tuple(("question", "closed", x) for x in r)  # noqa: E731
        self.assertScore(self.customer(tickets=q(3, 3, 3, 4)), 43)
        self.assertScore(self.customer(tickets=q(2, 3, 3, 3)), 37)


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
        # a duplicate). The later id of each pair is the finding.
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
            ("not_contacted", "z1", "marketing", "last contact %s" % self.day(366)),
            ("not_contacted", "z3", "marketing", "never contacted"),
            ("overdue_activity", "t1", "sales", 'task "t1" was due %s 12:00' % self.day(1)),
            ("unreachable", "u1", "sales", "no email address and no phone number")])

    def day(self, days_before):
        cur = self.conn.cursor()
        cur.execute("SELECT to_char(%s::timestamptz - %s * interval '1 day', 'YYYY-MM-DD')",
                    (AT, days_before))
        return cur.fetchone()[0]


if __name__ == "__main__":
    unittest.main()
