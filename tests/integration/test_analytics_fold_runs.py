"""Analytics: a consumer's run of events applied at once (an_apply_run,
services/analytics/sql/R_apply_run.sql: set-based projections, the health
inputs of the run's customers in one grouped statement) leaves exactly the
tables that applying the same events one at a time (an_apply) leaves, and
returns for every event about a customer the same health inputs, taken
right after that event. Runs of generated events over a few customers,
orders, tickets and activities, so that keys repeat within a run, events
of one customer change another's ticket, and the run meets what was applied
before it; on a throwaway database with the backbone's and analytics'
migrations."""
import glob
import json
import os
import random
import threading
import unittest
import uuid

import psycopg2

from crmtest import SOURCE, Cluster, wait_for

DAY = 86400 * 1000000
NOW = 1796000000 * 1000000


ENVELOPE = {"id", "source", "type", "subject", "time_us", "sequence", "epoch", "correlation_id",
            "causation_id", "actor"}


def member(ev):
    """The payload's member of an event as JSON: its one key that is not the
    envelope's."""
    return next(k for k in ev if k not in ENVELOPE)


class Gen:
    """Events of the three sources as the consumer hands them to the fold
    (crm/pbjson.h: proto field names, enums by name, 64-bit integers as
    strings)."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.seq = {"sales": 0, "marketing": 0, "support": 0}
        self.customers = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(4)]
        self.orders = ["o%d" % i for i in range(5)]
        self.tickets = ["t%d" % i for i in range(4)]
        self.activities = ["a%d" % i for i in range(4)]
        self.campaigns = ["c1", "c2"]
        # Mostly each customer's own orders, tickets and activities; in some
        # runs shared, so that one customer's event changes another's.
        self.shared = rnd.random() < 0.25

    def own(self, c, ids):
        return self.rnd.choice(ids) if self.shared else c[:8] + "-" + self.rnd.choice(ids)

    def t(self):
        return str(NOW - self.rnd.randrange(200) * DAY - self.rnd.randrange(DAY))

    def event(self, src, member, type_, body, subject=""):
        self.seq[src] += 1
        return src, self.seq[src], {"source": src, "type": type_, "subject": subject,
                                    "time_us": self.t(), "sequence": str(self.seq[src]),
                                    member: body}

    def one(self):
        r = self.rnd
        c = r.choice(self.customers)
        kind = r.choice(["person", "person", "order", "order", "cancel", "refund", "activity",
                         "send", "response", "response", "targeted", "campaign", "ticket_opened",
                         "ticket", "rated", "breach", "deal", "conversion", "preferences"])
        if kind == "person":
            m = r.choice(["person_registered", "person_updated"])
            return self.event(r.choice(["sales", "sales", "marketing"]), m, "crm.sales.person.x.v1", {
                "person": {"id": c, "name": r.choice(["Ann", "Bob", ""]),
                           "emails": r.choice([[], ["a@x.example"], ["b@x.example", "c@x.example"]]),
                           "created_at_us": self.t(), "updated_at_us": self.t(),
                           "kind": "PERSON_KIND_CUSTOMER", "owner": r.choice(["", "rita"]),
                           "country": r.choice(["", "DE"]), "registered_by": "sales"}}, c)
        if kind == "order":
            return self.event("sales", "order_placed", "crm.sales.order.placed.v1", {
                "order": {"id": self.own(c, self.orders), "person_id": c, "currency": "EUR",
                          "total_minor": str(r.randrange(100, 900)), "ordered_at_us": self.t()}}, c)
        if kind in ("cancel", "refund"):
            m = "order_cancelled" if kind == "cancel" else "order_refunded"
            return self.event("sales", m, "crm.sales.order.x.v1", {
                "refund": {"id": str(r.random()), "order_id": self.own(c, self.orders), "person_id": c,
                           "amount_minor": str(r.randrange(0, 50)), "currency": "EUR",
                           "refunded_at_us": self.t()}}, c)
        if kind == "activity":
            m = r.choice(["activity_scheduled", "activity_completed", "note_added"])
            return self.event("sales", m, "crm.sales.activity.x.v1", {
                "activity": {"id": self.own(c, self.activities), "person_id": c,
                             "kind": r.choice(["ACTIVITY_KIND_CALL", "ACTIVITY_KIND_NOTE"]),
                             "status": r.choice(["ACTIVITY_STATUS_DONE", "ACTIVITY_STATUS_SCHEDULED"]),
                             "completed_at_us": self.t(), "created_at_us": self.t(),
                             "subject": "s"}}, c)
        if kind == "send":
            return self.event("marketing", "send_decided", "crm.marketing.send.decided.v1", {
                "campaign_id": r.choice(self.campaigns), "customer_id": c,
                "status": r.choice(["SEND_STATUS_SENT", "SEND_STATUS_DEFERRED"]),
                "channel": "CHANNEL_EMAIL"}, c)
        if kind == "response":
            return self.event("marketing", "campaign_response_recorded", "crm.marketing.response.v1", {
                "campaign_id": r.choice(self.campaigns), "customer_id": c,
                "response": r.choice(["RESPONSE_TYPE_OPENED", "RESPONSE_TYPE_BOUNCED",
                                      "RESPONSE_TYPE_CLICKED"]),
                "channel": "email", "unsolicited": r.random() < 0.2}, c)
        if kind == "targeted":
            return self.event("marketing", "campaign_targeted", "crm.marketing.campaign.targeted.v1", {
                "campaign_id": r.choice(self.campaigns),
                "customer_ids": r.sample(self.customers, 2)})
        if kind == "campaign":
            m = r.choice(["campaign_created", "campaign_updated"])
            return self.event("marketing", m, "crm.marketing.campaign.x.v1", {
                "campaign": {"id": r.choice(self.campaigns), "name": r.choice(["A", "B"]),
                             "status": "CAMPAIGN_STATUS_RUNNING", "currency": "EUR",
                             "budget_minor": str(r.randrange(1000)), "channels": ["CHANNEL_EMAIL"]}})
        if kind == "ticket_opened":
            return self.event("support", "ticket_opened", "crm.support.ticket.opened.v1", {
                "ticket_id": self.own(c, self.tickets), "customer_id": c,
                "type": r.choice(["TICKET_TYPE_COMPLAINT", "TICKET_TYPE_QUESTION"]),
                "subject": "late", "priority": r.choice(["normal", "urgent"])}, c)
        if kind == "deal":
            return self.event("sales", "deal_created", "crm.sales.deal.created.v1", {
                "deal": {"id": "d%d" % r.randrange(3), "person_id": c, "title": "deal",
                         "amount_minor": "500", "currency": "EUR", "stage": "new",
                         "status": "DEAL_STATUS_OPEN", "created_at_us": self.t()}}, c)
        if kind == "conversion":
            return self.event("marketing", "conversion_attributed", "crm.marketing.conversion.v1", {
                "order_id": self.own(c, self.orders), "campaign_id": r.choice(self.campaigns),
                "customer_id": c, "revenue_minor": "300", "currency": "EUR",
                "ordered_at_us": self.t()}, c)
        if kind == "preferences":
            return self.event("marketing", "preferences_changed", "crm.marketing.preferences.v1", {
                "preferences": {"customer_id": c, "preferred_channel": "CHANNEL_SMS",
                                "opted_out": ["CHANNEL_EMAIL"], "updated_at_us": self.t()},
                "cause": "x"}, c)
        m = {"ticket": r.choice(["ticket_status_changed", "ticket_resolved", "ticket_reopened"]),
             "rated": "ticket_rated", "breach": "sla_breached"}[kind]
        rating = r.randrange(1, 6)
        return self.event("support", m, "crm.support.ticket.x.v1", {
            "ticket": {"id": self.own(c, self.tickets), "customer_id": c,
                       "type": "TICKET_TYPE_COMPLAINT", "priority": "TICKET_PRIORITY_NORMAL",
                       "status": r.choice(["TICKET_STATUS_OPEN", "TICKET_STATUS_RESOLVED"]),
                       "subject": "late", "created_at_us": self.t(), "updated_at_us": self.t(),
                       "satisfaction": {"rating": rating, "rated_at_us": self.t()}},
            "rating": rating, "target": "SLA_TARGET_RESOLUTION",
            "from_status": "TICKET_STATUS_NEW", "to_status": "TICKET_STATUS_OPEN"}, c)


class FoldRunsTest(unittest.TestCase):
    @classmethod
    def migrated(cls):
        """A new database with the backbone's and analytics' migrations, and
        an autocommit connection to it."""
        db = cls.cluster.create_db()
        conn = psycopg2.connect(cls.cluster.url(db))
        conn.autocommit = True
        cur = conn.cursor()
        for d in ("common/sql", "services/analytics/sql"):
            for f in sorted(glob.glob(os.path.join(SOURCE, d, "*.sql"))):
                with open(f) as fh:
                    cur.execute(fh.read())
        return db, conn

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()
        _, cls.conn = cls.migrated()
        cur = cls.conn.cursor()
        cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1")
        cls.tables = [r[0] for r in cur.fetchall()]

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        cls.cluster.destroy()

    def dump(self, cur):
        out = {}
        for t in self.tables:
            cur.execute('SELECT x::text FROM "%s" x ORDER BY 1' % t)
            out[t] = [r[0] for r in cur.fetchall()]
        return out

    def each(self, cur, run):
        """an_apply one event at a time: {place: (customer, at_us, inputs)}."""
        rows = {}
        for i, (src, seq, ev) in enumerate(run, 1):
            cur.execute("SELECT out_customer, out_at_us, out_inputs, out_publish"
                        " FROM an_apply(%s, %s, %s::jsonb)", (src, seq, json.dumps(ev)))
            for c, at, inputs, publish in cur.fetchall():
                rows[i] = (c, at, inputs, publish)
        return rows

    def at_once(self, cur, run, named=False):
        """named: each event with its payload's member by name ("m"), as
        crm-analytics hands them; without it the fold finds it itself."""
        evs = []
        for s, q, e in run:
            evs.append({"s": s, "q": q, "e": e})
            if named:
                evs[-1]["m"] = member(e)
        cur.execute("SELECT run_i, run_customer, run_at_us, run_inputs, run_publish"
                    " FROM an_apply_run(%s::jsonb)", (json.dumps(evs),))
        got = cur.fetchall()
        self.assertEqual([r[0] for r in got], sorted(r[0] for r in got), "rows in the run's order")
        return {i: (c, at, inputs, publish) for i, c, at, inputs, publish in got}

    def check(self, seed, before, size, replay=False):
        rnd = random.Random(seed)
        gen = Gen(rnd)
        pre = [gen.one() for _ in range(before)]
        run = [gen.one() for _ in range(size)]
        if rnd.random() < 0.2 and run:
            run.append(run[rnd.randrange(len(run))])  # one event twice in a run
        cur = self.conn.cursor()
        cur.execute("BEGIN")
        try:
            if replay:
                cur.execute("INSERT INTO an_replay_until VALUES ('sales', 1000000),"
                            " ('marketing', 1000000), ('support', 1000000)")
            self.each(cur, pre)
            cur.execute("SAVEPOINT run")
            one = self.each(cur, run)
            want = self.dump(cur)
            cur.execute("ROLLBACK TO SAVEPOINT run")
            got_rows = self.at_once(cur, run, named=seed % 2 == 0)
            got = self.dump(cur)
        finally:
            cur.execute("ROLLBACK")
        for t in self.tables:
            self.assertEqual(got[t], want[t], "seed %d: table %s" % (seed, t))
        if not replay:
            self.assertEqual(got_rows, one, "seed %d" % seed)
        else:
            # Only the last unpublished health per customer is returned.
            last = {}
            for i, row in sorted(one.items()):
                last[row[0]] = i
            self.assertEqual(got_rows, {i: one[i] for i in last.values()}, "seed %d" % seed)

    def test_runs_match_one_at_a_time(self):
        for seed in range(80):
            self.check(seed, before=seed % 7 * 3, size=1 + seed % 40)

    def test_replay_matches_one_at_a_time(self):
        for seed in range(1000, 1030):
            self.check(seed, before=seed % 5 * 3, size=1 + seed % 30, replay=True)

    def test_bench_shape_runs_fast(self):
        """The benchmark's runs (one customer's events of one source
        together, a customer in one run only) take the set-based path; a
        long run of them matches one at a time too."""
        rnd = random.Random(7)
        gen = Gen(rnd)
        gen.customers = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(60)]
        gen.orders = ["o%d" % i for i in range(60)]
        run = []
        for c in gen.customers:
            run.append(gen.event("sales", "person_registered", "crm.sales.person.registered.v1", {
                "person": {"id": c, "name": "N", "emails": ["%s@x.example" % c],
                           "created_at_us": gen.t()}}, c))
            run.append(gen.event("sales", "order_placed", "crm.sales.order.placed.v1", {
                "order": {"id": str(uuid.uuid4()), "person_id": c, "currency": "EUR",
                          "total_minor": "1000", "ordered_at_us": gen.t()}}, c))
        cur = self.conn.cursor()
        cur.execute("BEGIN")
        try:
            cur.execute("SAVEPOINT run")
            one = self.each(cur, run)
            want = self.dump(cur)
            cur.execute("ROLLBACK TO SAVEPOINT run")
            got_rows = self.at_once(cur, run, named=True)
            got = self.dump(cur)
        finally:
            cur.execute("ROLLBACK")
        self.assertEqual(got, want)
        self.assertEqual(got_rows, one)

    def run_rows(self, cur, src, events):
        cur.execute("SELECT run_i, run_customer, run_at_us, run_inputs, run_old_score, run_old_high,"
                    " run_publish FROM an_apply_run(%s::jsonb)",
                    (json.dumps([{"s": src, "q": q, "e": e} for q, e in events]),))
        return cur.fetchall()

    def test_concurrent_runs_of_two_sources(self):
        """Two sources' consumers apply runs about one customer in
        transactions of their own. The later run waits for the earlier one
        (the customer's row lock) and must then score from what the earlier
        one stored and logged: its stored score as the old one (or the
        later commit stores its score over the other's without publishing
        the change), and the customer's latest instant including the
        other's event. Checked against the same runs one after the other;
        synchronised on the database's lock state, never on time."""
        c = str(uuid.uuid4())
        t0 = NOW - 10 * DAY
        person = (1, {"source": "sales", "type": "crm.sales.person.registered.v1", "subject": c,
                      "time_us": str(t0), "sequence": "1", "person_registered": {"person": {
                          "id": c, "name": "Ann", "created_at_us": str(t0)}}})
        # marketing's event is the later one in time: it moves the instant
        # the health is evaluated at, and its response counts only then.
        response = (1, {"source": "marketing", "type": "crm.marketing.response.v1", "subject": c,
                        "time_us": str(t0 + 5 * DAY), "sequence": "1",
                        "campaign_response_recorded": {"campaign_id": "c1", "customer_id": c,
                                                       "response": "RESPONSE_TYPE_OPENED",
                                                       "channel": "email"}})
        ticket = (1, {"source": "support", "type": "crm.support.ticket.opened.v1", "subject": c,
                      "time_us": str(t0 + DAY), "sequence": "1",
                      "ticket_opened": {"ticket_id": "t-" + c, "customer_id": c,
                                        "type": "TICKET_TYPE_COMPLAINT", "subject": "late"}})

        def store(cur, score):
            cur.execute("SELECT an_health_put_run(%s::jsonb)", (json.dumps(
                [{"c": c, "s": score, "r": [], "h": False, "t": t0}]),))

        def prepared():
            db, conn = self.migrated()
            self.addCleanup(conn.close)
            cur = conn.cursor()
            self.run_rows(cur, "sales", [person])
            store(cur, 50)
            return db, conn

        # One after the other: the answer.
        _, seq_conn = prepared()
        cur = seq_conn.cursor()
        self.assertEqual(self.run_rows(cur, "marketing", [response])[0][4], 50)
        store(cur, 61)
        want = self.run_rows(cur, "support", [ticket])

        db, conn = prepared()
        a = psycopg2.connect(self.cluster.url(db))
        b = psycopg2.connect(self.cluster.url(db))
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        ca = a.cursor()
        self.assertEqual(self.run_rows(ca, "marketing", [response])[0][4], 50)
        store(ca, 61)
        out = {}

        def later():
            try:
                out["rows"] = self.run_rows(b.cursor(), "support", [ticket])
                b.commit()
            except Exception as e:  # reported below
                out["error"] = e
        t = threading.Thread(target=later)
        t.start()
        try:
            wait_for(lambda: self.waiting(conn, "an_apply_run"), 20,
                     "support's run to wait for marketing's")
        finally:
            a.commit()
            t.join(30)
        self.assertNotIn("error", out)
        self.assertEqual(out["rows"], want)
        self.assertEqual(out["rows"][0][4], 61, "the old score is the one stored before")

    def waiting(self, conn, text):
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND strpos(query, %s) > 0", (text,))
        return cur.fetchone()[0] > 0


if __name__ == "__main__":
    unittest.main()
