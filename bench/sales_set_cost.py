#!/usr/bin/env python3
"""The PostgreSQL cost of sales' set-based statements (issue 15, ninth
session), apart from the rest of a command and from the machine's load.

Starts crm-sales once on a throwaway cluster (for its schema), stops it,
and then sends the statements its handlers send for sales.person.register,
sales.order.create and sales.activity.log straight from one connection,
prepared like the service's: transactions of --run commands, each either
one call per command (SALES_SET=0) or one call over arrays for all of
them (the set-based forms, sql/0021, 0022). The two alternate, --rounds
times, each round --commands commands of each. Per command: the backend's
CPU time (/proc/<pid>/schedstat: user and system, which the load does not
inflate as it does wall time), WAL bytes, and statements.

    bench/sales_set_cost.py [--bin build/bin] [--rounds 4] [--commands 480] [--run 16]

Needs /usr/bin/python3 with python3-psycopg2 and python3-zmq (bench.py's)."""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402
B.sys.modules.setdefault("bench", B)
import services as S  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(os.path.dirname(HERE), "build", "bin"))
ap.add_argument("--rounds", type=int, default=4)
ap.add_argument("--commands", type=int, default=480)
ap.add_argument("--run", type=int, default=16)
args = ap.parse_args()

PREPARE = {
    "register1": "PREPARE register1 AS SELECT o_found, o_org_ok, o_person, o_created, o_now_us"
                 " FROM sales_person_register($1::uuid, $2::smallint, $3::text, $4::text[],"
                 " $5::text[], $6::uuid, $7::text, $8::text, $9::text, $10::text, $11::text[],"
                 " $12::text, $13::jsonb, $14::text[], $15::bigint, $16::text, $17::text)",
    "registerN": "PREPARE registerN AS SELECT o_ord, o_found, o_org_ok, o_person, o_created,"
                 " o_now_us FROM sales_person_register_run($1::uuid[], $2::smallint[],"
                 " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
                 " $9::text[], $10::text[], $11::text[], $12::text[], $13::jsonb, $14::text[],"
                 " $15::bigint[], $16::text, $17::text[])",
    "order1": "PREPARE order1 AS SELECT o_person_ok, o_org_ok, o_deal_ok, o_person_id, o_org_id,"
              " o_deal_id, o_ordered_at_us FROM sales_order_create($1::uuid, $2::uuid, $3::uuid,"
              " $4::uuid, $5::bigint, $6::text, $7::bigint, $8::jsonb)",
    "orderN": "PREPARE orderN AS SELECT o_ord, o_person_ok, o_org_ok, o_deal_ok, o_person_id,"
              " o_org_id, o_deal_id, o_ordered_at_us FROM sales_order_create_run($1::uuid[],"
              " $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[],"
              " $8::jsonb)",
    "log1": "PREPARE log1 AS SELECT o_person_ok, o_deal_ok, o_person_id, o_deal_id, o_due_at_us,"
            " o_completed_at_us, o_next_action_due_us, o_created_at_us FROM sales_activity_log("
            "$1::uuid, $2::smallint, $3::text, $4::text, $5::uuid, $6::uuid, $7::text,"
            " $8::smallint, $9::bigint, $10::bigint, $11::text, $12::text, $13::bigint, $14::text)",
    "logN": "PREPARE logN AS SELECT o_ord, o_person_ok, o_deal_ok, o_person_id, o_deal_id,"
            " o_due_at_us, o_completed_at_us, o_next_action_due_us, o_created_at_us"
            " FROM sales_activity_log_run($1::uuid[], $2::smallint[], $3::text[], $4::text[],"
            " $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])",
}
ITEMS = '[{"product_code": "SKU-1", "name": "Widget", "quantity": 1, "unit_price_minor": 990}]'
FIELDS = ["kind", "name", "emails", "phones", "country", "owner"]


def lit(v):
    """A text[] literal, as crm_params_textv writes it."""
    return "{" + ",".join('"%s"' % x.replace("\\", "\\\\").replace('"', '\\"') for x in v) + "}"


def one(cur, command, k, people, seq):
    """One command of the one-call-each form."""
    if command == "register":
        e = "set%d@cost.example" % seq
        cur.execute("EXECUTE register1 (%s, 2, %s, %s, %s, NULL, '', '', 'DE', '', '{}',"
                    " 'bench', '[]', %s, %s, 'sales', '')",
                    (str(uuid.uuid5(uuid.NAMESPACE_DNS, e)), "Set %d" % seq, lit([e]),
                     lit(["+4930%09d" % seq]), lit(FIELDS), 1765000000000000 + seq))
    elif command == "order":
        cur.execute("EXECUTE order1 (%s, %s, NULL, NULL, 990, 'EUR', NULL, %s)",
                    (str(uuid.uuid4()), people[k], ITEMS))
    else:
        cur.execute("EXECUTE log1 (%s, 1, 'Call', '', %s, NULL, 'bench', 2, NULL, 0, 'ok', '',"
                    " NULL, '')", (str(uuid.uuid4()), people[k]))
    cur.fetchall()


def many(cur, command, ks, people, seq0):
    """len(ks) commands in one call of the set-based form."""
    n = len(ks)
    if command == "register":
        es = ["set%d@cost.example" % (seq0 + i) for i in range(n)]
        cur.execute("EXECUTE registerN (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                    " %s, 'sales', %s)",
                    (lit([str(uuid.uuid5(uuid.NAMESPACE_DNS, e)) for e in es]),
                     "{" + ",".join(["2"] * n) + "}", lit(["Set %d" % (seq0 + i) for i in range(n)]),
                     lit([lit([e]) for e in es]),
                     lit([lit(["+4930%09d" % (seq0 + i)]) for i in range(n)]), lit([""] * n),
                     lit([""] * n), lit([""] * n), lit(["DE"] * n), lit([""] * n),
                     lit(["{}"] * n), lit(["bench"] * n), "[" + ",".join(["[]"] * n) + "]",
                     lit([lit(FIELDS)] * n),
                     "{" + ",".join(str(1765000000000000 + seq0 + i) for i in range(n)) + "}",
                     lit([""] * n)))
    elif command == "order":
        cur.execute("EXECUTE orderN (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (lit([str(uuid.uuid4()) for _ in ks]), lit([people[k] for k in ks]),
                     lit([""] * n), lit([""] * n), "{" + ",".join(["990"] * n) + "}",
                     lit(["EUR"] * n), "{" + ",".join(["0"] * n) + "}",
                     "[" + ",".join([ITEMS] * n) + "]"))
    else:
        cur.execute("EXECUTE logN (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (lit([str(uuid.uuid4()) for _ in ks]), "{" + ",".join(["1"] * n) + "}",
                     lit(["Call"] * n), lit([""] * n), lit([people[k] for k in ks]),
                     lit([""] * n), lit(["bench"] * n), lit(["ok"] * n), lit([""] * n),
                     "{" + ",".join(["0"] * n) + "}"))
    rows = cur.fetchall()
    assert len(rows) == n, rows


def cpu_s(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def main():
    workdir = tempfile.mkdtemp(prefix="salesset-")
    B.KEYS = B.Keys(args.bin, workdir)
    st = S.Stack(args.bin, workdir, "info")
    out = {"run": args.run, "commands_per_round": args.commands, "rounds": []}
    seq = 0
    try:
        for p in ("marketing", "support", "analytics"):
            st.start(p, "crm-probe")
        st.start("sales", "crm-sales", ("marketing", "support", "analytics"))
        st.procs.pop("sales").stop()
        conn = st.db("sales")
        conn.autocommit = False
        cur = conn.cursor()
        for sql in PREPARE.values():
            cur.execute(sql)
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        # the people the orders and activities are for
        people = []
        for i in range(0, args.commands, args.run):
            ks = list(range(i, min(args.commands, i + args.run)))
            many(cur, "register", ks, people, 10**6 + i)
            conn.commit()
        cur.execute("SELECT id::text FROM person ORDER BY id")
        people = [r[0] for r in cur.fetchall()]
        conn.commit()
        for rnd in range(args.rounds):
            for form in (("one", "set") if rnd % 2 == 0 else ("set", "one")):
                for command in ("register", "order", "activity"):
                    cur.execute("SELECT pg_current_wal_lsn()::text")
                    lsn0 = cur.fetchone()[0]
                    conn.commit()
                    c0 = cpu_s(pid)
                    for i in range(0, args.commands, args.run):
                        ks = list(range(i, min(args.commands, i + args.run)))
                        if form == "one":
                            for k in ks:
                                one(cur, command, k, people, seq + k)
                        else:
                            many(cur, command, ks, people, seq + i)
                        conn.commit()
                    c1 = cpu_s(pid)
                    cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)",
                                (lsn0,))
                    wal = float(cur.fetchone()[0])
                    conn.commit()
                    seq += args.commands
                    r = {"round": rnd, "form": form, "command": command,
                         "backend_cpu_us_per_cmd": round((c1 - c0) * 1e6 / args.commands, 1),
                         "wal_bytes_per_cmd": round(wal / args.commands),
                         "statements_per_cmd": 1.0 if form == "one" else round(1.0 / args.run, 3)}
                    out["rounds"].append(r)
                    B.log("round %d %-8s %-3s: %6.1f us backend CPU, %5d WAL bytes a command" % (
                        rnd, command, form, r["backend_cpu_us_per_cmd"], r["wal_bytes_per_cmd"]))
        cur.execute("SELECT count(*) FROM person")
        out["people"] = cur.fetchone()[0]
        conn.close()
    finally:
        st.close()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = {}
    for command in ("register", "order", "activity"):
        for form in ("one", "set"):
            v = [r["backend_cpu_us_per_cmd"] for r in out["rounds"]
                 if r["command"] == command and r["form"] == form]
            w = [r["wal_bytes_per_cmd"] for r in out["rounds"]
                 if r["command"] == command and r["form"] == form]
            summary["%s_%s" % (command, form)] = {"cpu_us_median": statistics.median(v),
                                                  "cpu_us_all": v,
                                                  "wal_bytes_median": statistics.median(w)}
    out["summary"] = summary
    print(json.dumps(out, indent=1))


main()
