#!/usr/bin/env python3
"""bench/fold_same.py: a change to the fold (services/analytics/sql) leaves
the same tables as another checkout's fold on the same events (issue 15:
a faster fold must not change what it computes).

On a scratch cluster (tests/integration/crmtest.py) one database gets the
migrations of --source (main's checkout, say) and another this checkout's;
both fold the same runs in transactions as crm-analytics does (an_apply_run,
then an_health_put_run with a score derived from the inputs returned):
runs of test_analytics_fold_runs' generator (keys repeated in a run,
events about another customer's ticket, cancellations, an event twice,
customers a run before met; half with the payload's member named, "m",
some while a replay is under way), then the live path's events of
bench/fold_cost.py in runs of 1, 5, 45, 250, 3 and 1, and the catch-up's
(fold_cost.py --mix: three sources' runs about the same customers, up to
250 events a run; the first six while a replay is under way, as a
rebuild's). Every run's returned
rows must be equal, and at the end every table (each row as JSON, but
recorded_at and updated_at, which hold the time of the write). Exits 1 on
the first difference.

  /usr/bin/python3 bench/fold_same.py --source <main's checkout> [--runs 200]
"""
import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
sys.path.insert(0, HERE)

import psycopg2  # noqa: E402

from crmtest import Cluster  # noqa: E402
from fold_cost import Events, MixEvents, migrate  # noqa: E402
from test_analytics_fold_runs import Gen, member  # noqa: E402


def fold(cur, evs):
    cur.execute("BEGIN")
    cur.execute("SELECT run_i, run_customer, run_at_us, run_inputs::text, run_old_score,"
                " run_old_high, run_publish FROM an_apply_run(%s::jsonb)", (json.dumps(evs),))
    rows = cur.fetchall()
    hs = [{"c": r[1], "s": len(r[3]) * 7 % 101, "r": [r[3][:20]], "h": len(r[3]) % 3 == 0,
           "t": r[2]} for r in rows]
    if hs:
        cur.execute("SELECT an_health_put_run(%s::jsonb)", (json.dumps(hs),))
    cur.execute("COMMIT")
    return rows


def dump(cur):
    cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1")
    out = {}
    for (t,) in cur.fetchall():
        cur.execute('SELECT (to_jsonb(x) - \'recorded_at\' - \'updated_at\')::text FROM "%s" x'
                    ' ORDER BY 1' % t)
        out[t] = [r[0] for r in cur.fetchall()]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="the checkout to compare with")
    ap.add_argument("--runs", type=int, default=200, help="runs of the generator")
    args = ap.parse_args()
    cl = Cluster()
    try:
        curs = []
        for src in (args.source, os.path.dirname(HERE)):
            conn = psycopg2.connect(cl.url(cl.create_db()))
            conn.autocommit = True
            cur = conn.cursor()
            migrate(cur, src)
            curs.append(cur)
        runs = []
        seq = {"sales": 0, "marketing": 0, "support": 0}
        for seed in range(args.runs):
            rnd = random.Random(seed)
            gen = Gen(rnd)
            gen.seq = seq  # one stream per source across the runs
            # what the run meets: a run before it about the same customers
            pre = [gen.one() for _ in range(seed % 7 * 3)]
            run = [gen.one() for _ in range(1 + seed % 40)]
            if rnd.random() < 0.2:
                run.append(run[rnd.randrange(len(run))])  # one event twice
            # a replay under way for part of the runs (nothing published)
            replay = args.runs // 2 <= seed < args.runs // 2 + args.runs // 8
            for r in (pre, run):
                if not r:
                    continue
                evs = [{"s": s, "q": q, "e": e} for s, q, e in r]
                if seed % 2 == 0:
                    for e in evs:
                        e["m"] = member(e["e"])
                runs.append((evs, replay))
        # (their sequences after the generator's: an event at a position
        # applied before is skipped, and the runs would compare nothing)
        live = Events("same")
        live.seq = seq["sales"] + seq["sales"] % 2  # (even: a person first)
        for n in (1, 5, 45, 250, 3, 1):
            runs.append((live.take(n), False))
        # the catch-up's: three sources' runs about the same customers
        mix = MixEvents("same")
        mix.seq = {s: q + 1000 for s, q in seq.items()}
        for k, n in enumerate((250, 250, 250, 45, 45, 45, 250, 250, 250, 1, 5, 7)):
            runs.append((mix.take(n), "all" if k < 6 else False))
        events = 0
        for k, (evs, replay) in enumerate(runs):
            got = []
            for cur in curs:
                cur.execute("DELETE FROM an_replay_until")
                if replay:
                    # ("all": every event of the run replayed)
                    until = seq if replay is True else {s: 10 ** 9 for s in seq}
                    cur.execute("INSERT INTO an_replay_until VALUES ('sales', %s),"
                                " ('marketing', %s), ('support', %s)",
                                (until["sales"], until["marketing"], until["support"]))
                got.append(fold(cur, evs))
            if got[0] != got[1]:
                print("run %d: the rows differ:\n%s\n%s" % (k, got[0], got[1]), file=sys.stderr)
                return 1
            events += len(evs)
        a, b = dump(curs[0]), dump(curs[1])
        rows = sum(len(v) for v in a.values())
        for t in a:
            if a[t] != b.get(t):
                print("table %s differs" % t, file=sys.stderr)
                return 1
        print("same: %d runs, %d events, %d tables, %d rows" % (len(runs), events, len(a), rows))
        return 0
    finally:
        cl.destroy()


if __name__ == "__main__":
    sys.exit(main())
