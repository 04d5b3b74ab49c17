#!/usr/bin/env python3
"""What support.ticket.open costs PostgreSQL a ticket, with its set-based
form on and off (SUPPORT_SET) in alternate rounds of one run.

Starts what the sales part's ticket run starts (a throwaway cluster, here
with pg_stat_statements, track = all, and track_functions = all; crm-bus;
probes named sales and marketing; crm-support, CURVE everywhere), then for
each round a fresh support database and crm-support with the form on or
off, and crm-bench-commands --command support.ticket.open (a new requester
each). Per ticket: the backends' CPU over the measured window (ms), the
statements and their execution time, buffers and WAL bytes
(pg_stat_statements, and pg_current_wal_lsn for all WAL), the WAL by
relation (pg_walinspect: [bytes, of them full-page images]), tickets a
transaction. Not part of the suite (bench/README, "Issue 15: support
ticket.open set-based (ninth session)").

With --against DIR the rounds alternate this build's crm-support and DIR's
(another build's bin directory, e.g. main's), both set-based: a migration
or a change of the service against its baseline in one run.

    bench/ticket_cost.py [--bin build/bin] [--against DIR] [--seconds 6] [--clients 32]
                         [--pairs 3]"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402
import psycopg2  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(os.path.dirname(HERE), "build", "bin"))
ap.add_argument("--seconds", type=int, default=6)
ap.add_argument("--clients", type=int, default=32)
ap.add_argument("--pairs", type=int, default=3)
ap.add_argument("--against", help="another build's bin directory: alternate builds, not forms")
ap.add_argument("--top", type=int, default=6, help="statements shown a round")
args = ap.parse_args()
args.bin = os.path.abspath(args.bin)

B.PG_SETTINGS.update({"shared_preload_libraries": "'pg_stat_statements'",
                      "pg_stat_statements.track": "all", "track_functions": "'all'"})
workdir = tempfile.mkdtemp(prefix="crm-ticket-cost-")
B.KEYS = B.Keys(args.bin, workdir)
sys.modules.setdefault("bench", B)
import services as S  # noqa: E402


def one(conn, sql, *a):
    with conn.cursor() as cur:
        cur.execute(sql, a)
        return cur.fetchone()


def rows(conn, sql, *a):
    with conn.cursor() as cur:
        cur.execute(sql, a)
        return cur.fetchall()


st = S.Stack(args.bin, workdir, "info")
out = []
try:
    for p in ("sales", "marketing"):
        st.start(p, "crm-probe")
    for r in range(2 * args.pairs):
        on = r % 2 == 0 or bool(args.against)
        build = os.path.abspath(args.bin if r % 2 == 0 or not args.against else args.against)
        if "support" in st.procs:
            st.procs.pop("support").stop()
        st.dbs["support"] = st.cluster.create_db("bench_support_%d" % r)
        st.start("support", os.path.join(build, "crm-support"), ("sales", "marketing"),
                 env={"SUPPORT_SET": "1" if on else "0"})
        conn = psycopg2.connect(st.cluster.url(st.dbs["support"]))
        conn.autocommit = True
        conn.cursor().execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        one(conn, "SELECT pg_stat_statements_reset()")
        one(conn, "SELECT pg_stat_reset()")
        lsn0 = one(conn, "SELECT pg_current_wal_lsn()")[0]
        n0 = one(conn, "SELECT count(*) FROM ticket")[0]
        meter = B.CpuMeter(st.cluster, list(st.procs.values()))
        argv = [os.path.join(args.bin, "crm-bench-commands"), "--endpoint",
                st.endpoints["support"], "--server", "support", "--command",
                "support.ticket.open", "--clients", str(args.clients), "--seconds",
                str(args.seconds), "--warmup", "1", "--metrics-port", str(st.http["support"])]
        res, cpu = B.run_json(argv, args.seconds + 120, meter, (1.5, 1 + args.seconds - 0.5))
        n = one(conn, "SELECT count(*) FROM ticket")[0] - n0
        wal = one(conn, "SELECT pg_current_wal_lsn() - %s::pg_lsn", lsn0)[0]
        db = st.dbs["support"]
        stmts = rows(conn, "SELECT s.calls, s.total_exec_time, s.shared_blks_hit + s.shared_blks_read,"
                     " s.shared_blks_dirtied, s.wal_bytes, s.toplevel, left(regexp_replace(s.query,"
                     " '\\s+', ' ', 'g'), 90) FROM pg_stat_statements s JOIN pg_database d"
                     " ON d.oid = s.dbid WHERE d.datname = %s ORDER BY s.total_exec_time DESC", db)
        top = [s for s in stmts if s[5]]
        # Where the WAL went (pg_walinspect): each record's bytes to the
        # relation of its first block (none: commits and the like, by type).
        conn.cursor().execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        names = dict(rows(conn, "SELECT relfilenode::text, relname FROM pg_class"
                                " WHERE relfilenode <> 0"))
        by_rel = {}
        for rm, rtype, length, fpi, ref in rows(
                conn, "SELECT resource_manager, record_type, record_length, fpi_length, block_ref"
                " FROM pg_get_wal_records_info(%s::pg_lsn, pg_current_wal_lsn())", lsn0):
            m = ref and ref.split(" rel ", 1)[1].split()[0].split("/")[-1] if ref and " rel " in ref \
                else None
            k = names.get(m, "rel " + m) if m else "%s/%s" % (rm, rtype)
            a = by_rel.setdefault(k, [0, 0])
            a[0] += length
            a[1] += fpi
        # The functions and triggers (track_functions): self time a ticket.
        funcs = rows(conn, "SELECT funcname, calls, self_time FROM pg_stat_user_functions"
                     " ORDER BY self_time DESC")
        svc = res.get("service") or {}
        row = {"set_based": on, "build": build, "tickets": n, "cmds_per_s": res["cmds_per_s"],
               "postgres_cpu_ms_per_ticket": round(1000.0 * cpu["postgres"] / res["cmds_per_s"], 3),
               "support_cpu_ms_per_ticket": round(1000.0 * cpu.get("support", 0) /
                                                  res["cmds_per_s"], 3),
               "tickets_per_transaction": svc.get("mean_commands_per_transaction"),
               "wal_bytes_per_ticket": round(float(wal) / n, 1),
               "top_statements_per_ticket": round(sum(s[0] for s in top) / n, 2),
               "exec_ms_per_ticket": round(sum(float(s[1]) for s in top) / n, 4),
               "buffers_per_ticket": round(sum(s[2] for s in top) / n, 2),
               "dirtied_per_ticket": round(sum(s[3] for s in top) / n, 3),
               "wal_by_relation_per_ticket": {k: [round(v[0] / n, 1), round(v[1] / n, 1)]
                                              for k, v in sorted(by_rel.items(),
                                                                 key=lambda x: -x[1][0])[:14]},
               "functions_per_ticket": {f: [round(c / n, 2), round(float(t) / n, 4)]
                                        for f, c, t in funcs[:8]},
               "statements": [{"calls_per_ticket": round(s[0] / n, 3),
                               "ms_per_ticket": round(float(s[1]) / n, 4),
                               "buffers_per_call": round(s[2] / max(1, s[0]), 2),
                               "toplevel": s[5], "query": s[6]} for s in stmts[:args.top]]}
        B.log(json.dumps({k: v for k, v in row.items() if k != "statements"}))
        out.append(row)
        conn.close()
finally:
    st.close()
print(json.dumps(out, indent=1))
for key in sorted({(r["build"], r["set_based"]) for r in out}):
    rs = [r for r in out if (r["build"], r["set_based"]) == key]
    if rs:
        B.log("%s, set_based=%s: postgres CPU ms a ticket %s; WAL bytes %s; statements %s"
              % (key[0], key[1], [r["postgres_cpu_ms_per_ticket"] for r in rs],
                 [r["wal_bytes_per_ticket"] for r in rs],
                 [r["top_statements_per_ticket"] for r in rs]))
