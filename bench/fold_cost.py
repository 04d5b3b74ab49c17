#!/usr/bin/env python3
"""bench/fold_cost.py: what one analytics transaction costs PostgreSQL,
split into a part per transaction and a part per event (issue 15, the live
figure: at a given rate a transaction holds rate x T events, so its fixed
part sets the latency).

On a scratch cluster (tests/integration/crmtest.py) with pg_stat_statements
(nested statements too, with their planning) and track_functions = all, the
live path's events (probe sales: a person registered, then an order placed
for them, fresh customers) are folded as crm-analytics folds them: BEGIN,
an_apply_run, an_health_put_run, the consumer's position, COMMIT, in runs
of 1, 5, 45 and 250 events (the statements go as text, not prepared as
crm-analytics sends them, and the healths are a constant: the rules in C do
not run in the backend). For each run size it prints the backend's CPU
(/proc/<pid>/schedstat: load on the machine moves it little) per
transaction, the least-squares line CPU = fixed + n x per-event over the
sizes, and the costliest statements inside the PL/pgSQL per call.

  /usr/bin/python3 bench/fold_cost.py [--source DIR] [--sizes 1,5,45,250]

--source: the checkout whose SQL migrations are applied (main's, to compare).
Nothing here asserts a timing."""
import argparse
import glob
import json
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))

import psycopg2  # noqa: E402

from crmtest import Cluster  # noqa: E402

US = 1000000
DAY = 86400 * US


class Events:
    """The live part's events as crm-analytics hands them to the fold
    (crm/pbjson.h; "m": the payload's member)."""

    def __init__(self, tag):
        self.seq = 0
        self.i = 0
        self.tag = tag
        self.now = int(time.time() * US)

    def _ev(self, type_, subject, member, body):
        self.seq += 1
        e = {"id": str(uuid.uuid4()), "source": "sales", "type": type_, "subject": subject,
             "time_us": str(self.now), "sequence": str(self.seq), "epoch": "e1", member: body}
        return {"s": "sales", "q": self.seq, "e": e, "m": member}

    def take(self, n):
        out = []
        while len(out) < n:
            i, now = self.i, self.now
            if self.seq % 2 == 0:
                email = "c%d.%s@bench.example" % (i, self.tag)
                self.cid = str(uuid.uuid5(uuid.NAMESPACE_DNS, email))
                out.append(self._ev("crm.sales.person.registered.v1", self.cid, "person_registered", {
                    "person": {"id": self.cid, "name": "Customer %d" % i, "emails": [email],
                               "phones": ["+4930%07d" % i], "created_at_us": str(now - 400 * DAY),
                               "updated_at_us": str(now - 400 * DAY), "registered_by": "sales",
                               "kind": "PERSON_KIND_CUSTOMER", "owner": "rita"}}))
            else:
                out.append(self._ev("crm.sales.order.placed.v1", self.cid, "order_placed", {
                    "order": {"id": str(uuid.uuid4()), "person_id": self.cid,
                              "total_minor": str(1000 + i), "currency": "EUR",
                              "ordered_at_us": str(now - (i % 300) * DAY)}}))
                self.i += 1
        return out


class MixEvents:
    """The catch-up's events (bench/svc_analytics.py analytics_events): per
    customer a person registered and an order placed (sales), a send
    decided and a campaign response (marketing) and a ticket opened
    (support); a run holds one source's events, as each source's consumer
    takes them, the sources in turn."""

    SOURCES = ("sales", "marketing", "support")

    def __init__(self, tag, customers=0):
        self.tag = tag
        self.customers = customers  # > 0: the customers met again, in turn
        self.now = int(time.time() * US)
        self.seq = {s: 0 for s in self.SOURCES}
        self.queue = {s: [] for s in self.SOURCES}
        self.i = 0
        self.turn = 0
        self.campaign = str(uuid.uuid5(uuid.NAMESPACE_DNS, "campaign." + tag))
        self.source = "sales"

    def _ev(self, source, type_, subject, member, body):
        self.seq[source] += 1
        q = self.seq[source]
        e = {"id": str(uuid.uuid4()), "source": source, "type": type_, "subject": subject,
             "time_us": str(self.now), "sequence": str(q), "epoch": "e1", member: body}
        return {"s": source, "q": q, "e": e, "m": member}

    def _customer(self):
        i, now = self.i, self.now
        self.i += 1
        if self.customers:
            i %= self.customers
        email = "c%d.%s@bench.example" % (i, self.tag)
        cid = str(uuid.uuid5(uuid.NAMESPACE_DNS, email))
        self.queue["sales"].append(("crm.sales.person.registered.v1", cid, "person_registered", {
            "person": {"id": cid, "name": "Customer %d" % i, "emails": [email],
                       "phones": ["+4930%07d" % i], "created_at_us": str(now - 400 * DAY),
                       "updated_at_us": str(now - 400 * DAY), "registered_by": "sales",
                       "kind": "PERSON_KIND_CUSTOMER", "owner": "rita"}}))
        self.queue["sales"].append(("crm.sales.order.placed.v1", cid, "order_placed", {
            "order": {"id": str(uuid.uuid4()), "person_id": cid, "total_minor": str(1000 + i),
                      "currency": "EUR", "ordered_at_us": str(now - (i % 300) * DAY)}}))
        self.queue["marketing"].append(("crm.marketing.send.decided.v1", cid, "send_decided", {
            "campaign_id": self.campaign, "customer_id": cid, "status": "SEND_STATUS_SENT",
            "channel": "CHANNEL_EMAIL"}))
        self.queue["marketing"].append(
            ("crm.marketing.response.recorded.v1", cid, "campaign_response_recorded", {
                "campaign_id": self.campaign, "customer_id": cid,
                "response": "RESPONSE_TYPE_OPENED", "channel": "email"}))
        self.queue["support"].append(("crm.support.ticket.opened.v1", cid, "ticket_opened", {
            "ticket_id": str(uuid.uuid4()), "customer_id": cid, "type": "TICKET_TYPE_COMPLAINT",
            "subject": "late delivery", "priority": "normal"}))

    def take(self, n):
        source = self.SOURCES[self.turn % 3]
        self.turn += 1
        self.source = source
        while len(self.queue[source]) < n:
            self._customer()
        q = self.queue[source]
        out = [self._ev(source, *q[k]) for k in range(n)]
        del q[:n]
        return out


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def migrate(cur, source):
    for d in ("common/sql", "services/analytics/sql"):
        for f in sorted(glob.glob(os.path.join(source, d, "*.sql"))):
            with open(f) as fh:
                cur.execute(fh.read())


def fold(cur, run, pos, source="sales"):
    """One transaction as crm-analytics makes it; returns the backend's CPU
    in ns of each statement (the scoring is a constant here: the C rules do
    not run in the backend)."""
    pid = cur.connection.info.backend_pid
    t = [cpu_ns(pid)]
    cur.execute("BEGIN")
    cur.execute("SELECT run_i, run_customer, run_at_us, run_inputs::text, run_old_score,"
                " run_old_high, run_publish FROM an_apply_run(%s::jsonb)", (json.dumps(run),))
    rows = cur.fetchall()
    t.append(cpu_ns(pid))
    hs = [{"c": r[1], "s": 70, "r": [], "h": False, "t": r[2]} for r in rows]
    if hs:
        cur.execute("SELECT an_health_put_run(%s::jsonb)", (json.dumps(hs),))
    t.append(cpu_ns(pid))
    cur.execute("UPDATE crm_consumer_position SET seq = %s, updated_at = now()"
                " WHERE consumer = %s AND source = %s", (pos, "analytics." + source, source))
    cur.execute("COMMIT")
    t.append(cpu_ns(pid))
    return [t[i + 1] - t[i] for i in range(len(t) - 1)]


def line(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default=os.path.dirname(HERE))
    ap.add_argument("--sizes", default="1,5,45,250")
    ap.add_argument("--events", type=int, default=2000, help="events per run size")
    ap.add_argument("--warm", type=int, default=500, help="events folded first")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--sql", help="a file of SQL run after the migrations (to try a change)")
    ap.add_argument("--replay", action="store_true",
                    help="as a rebuild replays them (nothing published: an_replay_until"
                         " past every event)")
    ap.add_argument("--mix", action="store_true",
                    help="the catch-up's events (three sources, five events a customer)"
                         " instead of the live part's")
    ap.add_argument("--customers", type=int, default=0,
                    help="with --mix: this many customers, met again in turn (their"
                         " histories grow with the events folded) instead of new ones")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cl = Cluster()
    try:
        with open(os.path.join(cl.data, "postgresql.conf"), "a") as f:
            f.write("shared_preload_libraries = 'pg_stat_statements'\n"
                    "pg_stat_statements.track = all\npg_stat_statements.track_planning = on\n"
                    "track_functions = all\n")
        cl.stop()
        cl.start()
        # With --sql, a second database gets the change, and the two fold
        # the same events in turn: the machine's load then weighs on both.
        dbs = {}
        for name in ["main"] + (["changed"] if args.sql else []):
            db = cl.create_db()
            conn = psycopg2.connect(cl.url(db))
            conn.autocommit = True
            cur = conn.cursor()
            migrate(cur, args.source)
            if name == "changed":
                with open(args.sql) as fh:
                    cur.execute(fh.read())
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            for src in MixEvents.SOURCES:
                cur.execute("INSERT INTO crm_consumer_position (consumer, source, seq)"
                            " VALUES (%s, %s, 0) ON CONFLICT DO NOTHING", ("analytics." + src, src))
                if args.replay:
                    cur.execute("INSERT INTO an_replay_until VALUES (%s, 1000000000000)", (src,))
            cur.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
            gen = MixEvents("f", args.customers) if args.mix else Events("f")
            dbs[name] = (cur, cur.fetchone()[0], gen, {s: 0 for s in MixEvents.SOURCES})
        for _ in range(max(1, args.warm // 50)):
            for cur, _, gen, pos in dbs.values():
                run = gen.take(50)
                src = run[0]["s"]
                pos[src] += len(run)
                fold(cur, run, pos[src], src)
        out = {"source": args.source, "sql": args.sql, "sizes": {}}
        fits = {name: ([], []) for name in dbs}
        for n in sizes:
            cur = dbs["main"][0]
            cur.execute("SELECT pg_stat_statements_reset()")
            for c, _, _, _ in dbs.values():
                c.execute("SELECT pg_stat_reset()")
            k = max(3, args.events // n)
            if args.mix:  # each source's runs as often as the others'
                k = (k + 2) // 3 * 3
            per = {name: [] for name in dbs}
            wal = {name: 0 for name in dbs}  # WAL bytes (the folds run one at a time)
            for _ in range(k):
                for name, (c, _, gen, pos) in dbs.items():
                    run = gen.take(n)
                    src = run[0]["s"]
                    pos[src] += n
                    c.execute("SELECT pg_current_wal_insert_lsn()")
                    lsn0 = c.fetchone()[0]
                    per[name].append(fold(c, run, pos[src], src))
                    c.execute("SELECT pg_current_wal_insert_lsn() - %s::pg_lsn", (lsn0,))
                    wal[name] += int(c.fetchone()[0])
            time.sleep(0.6)  # the statistics collector's interval
            for name, (c, oid, _, _) in dbs.items():
                p = sorted(per[name], key=sum)
                med, best = p[len(p) // 2], p[0]
                c.execute("SELECT funcname, calls, round(self_time::numeric / %s, 3)"
                          " FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 8", (k,))
                funcs = [list(r) for r in c.fetchall()]
                c.execute("SELECT calls, round((total_exec_time / %s)::numeric, 3),"
                          " round((total_plan_time / %s)::numeric, 3), left(regexp_replace(query,"
                          " '\\s+', ' ', 'g'), 90) FROM pg_stat_statements"
                          " WHERE dbid = %s AND query NOT LIKE '%%pg_stat%%'"
                          " ORDER BY total_exec_time + total_plan_time DESC LIMIT %s",
                          (k, k, oid, args.top))
                stmts = [list(r) for r in c.fetchall()]
                out["sizes"].setdefault(n, {})[name] = {
                    "transactions": k,
                    "cpu_ms_per_tx_min": round(sum(best) / 1e6, 3),
                    "cpu_ms_per_tx_median": round(sum(med) / 1e6, 3),
                    "cpu_ms_per_event_mean": round(sum(map(sum, p)) / 1e6 / k / n, 4),
                    "wal_bytes_per_event": round(wal[name] / k / n),
                    "median_apply_run_put_commit_ms": [round(x / 1e6, 3) for x in med],
                    "functions_self_ms_per_tx": funcs,
                    "statements_ms_per_tx (calls, exec, plan, query)": stmts}
                fits[name][0].append(n)
                fits[name][1].append(sum(med) / 1e6)
                print("%s n=%d: %d transactions, backend CPU per transaction median %.3f ms"
                      " (apply_run %.3f, health_put %.3f, position+commit %.3f), min %.3f;"
                      " mean an event %.4f ms, %d WAL bytes"
                      % (name, n, k, sum(med) / 1e6, med[0] / 1e6, med[1] / 1e6, med[2] / 1e6,
                         sum(best) / 1e6, sum(map(sum, p)) / 1e6 / k / n, wal[name] / k / n),
                      file=sys.stderr)
        out["fit"] = {}
        for name, (xs, ys) in fits.items():
            a, b = line(xs, ys)
            out["fit"][name] = {"fixed_ms_per_tx": round(a, 3), "per_event_ms": round(b, 4)}
            print("%s fit: %.3f ms a transaction + %.4f ms an event" % (name, a, b), file=sys.stderr)
        print(json.dumps(out, indent=1, default=float))
        for c, _, _, _ in dbs.values():
            c.connection.close()
    finally:
        cl.destroy()


if __name__ == "__main__":
    main()
