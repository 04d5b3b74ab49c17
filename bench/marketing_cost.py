#!/usr/bin/env python3
"""Where a marketing send decision's cost goes, per statement.

Runs what `bench/run.sh --only marketing` runs (bench/services.py,
bench_marketing) on a cluster with pg_stat_statements (nested statements,
planning) and track_functions, resets the statistics at the launch and
prints, after the last decision, each statement's calls, execution and
planning time, buffers and WAL per decision, beside the bench's own
figures (CPU of PostgreSQL and crm-marketing, WAL by relation) and the
cluster's CPU by process (each database's backends, walwriter,
autovacuum...: user and system time, context switches). With --perf FILE
it also records crm-marketing with perf over the scan and prints its leaf
symbols; --perf-pg FILE does the same for the marketing database's
backends. The statistics cost CPU of their own: compare runs of this
script with each other, not with bench/run.sh.

    bench/marketing_cost.py [--bin build/bin] [--marketing-recipients 100000]
        [--marketing-send-scans N] [--overlap] [--perf-pg FILE]

--marketing-send-scans sets MARKETING_SEND_SCANS; --overlap samples
pg_stat_activity every 5 ms and prints how often one, and two or more, of
the scan's statements were executing at once, and what the marketing
database's busy backends waited on (its own queries cost PostgreSQL CPU,
and its connection's CPU counts in the by-process figures: compare such
runs with each other).

Needs what bench.py needs (and perf for --perf, --perf-pg)."""
import os, sys, json, argparse, tempfile, shutil, subprocess, signal, threading, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench
bench.sys.modules.setdefault("bench", bench)
import services

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(os.path.dirname(HERE), "build", "bin"))
ap.add_argument("--marketing-recipients", type=int, default=100000)
ap.add_argument("--marketing-scan-ms", type=int, default=1000)
ap.add_argument("--marketing-timeout", type=int, default=600)
ap.add_argument("--rows", type=int, default=0, help="long mode (preloaded people)")
ap.add_argument("--perf", default="", help="perf record crm-marketing into this file")
ap.add_argument("--no-pgss", action="store_true", help="the bench's own settings")
ap.add_argument("--marketing-send-scans", type=int, default=0,
                help="MARKETING_SEND_SCANS (0: crm-marketing's default)")
ap.add_argument("--overlap", action="store_true",
                help="sample pg_stat_activity every 5 ms: how often two decision statements run,"
                " and what the marketing database's busy backends wait on")
ap.add_argument("--perf-pg", default="",
                help="perf record the marketing database's backends into this file")
args = ap.parse_args()
args.log_level = "info"
if args.rows:
    args.marketing_recipients = args.rows

if not args.no_pgss:
    bench.PG_SETTINGS["shared_preload_libraries"] = "'pg_stat_statements'"
    bench.PG_SETTINGS["track_functions"] = "'all'"
    bench.PG_SETTINGS["pg_stat_statements.track"] = "'all'"
    bench.PG_SETTINGS["pg_stat_statements.track_planning"] = "on"

PGSS = ("SELECT calls, round(total_exec_time::numeric, 1), round(total_plan_time::numeric, 1),"
        " rows, shared_blks_hit + shared_blks_read, shared_blks_dirtied, wal_records, wal_bytes,"
        " left(regexp_replace(query, '\\s+', ' ', 'g'), 110) FROM pg_stat_statements"
        " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " ORDER BY total_exec_time + total_plan_time DESC LIMIT 14")
FUNCS = ("SELECT funcname, calls, round(total_time::numeric, 1), round(self_time::numeric, 1)"
         " FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 8")
seen = {"calls": 0}
report = {}
perf = [None]
orig_cpu = services.Stack.cpu_seconds


# The scan's statements: candidates, recording, the backbone's crm_finish.
SCAN_SQL = ("WITH c AS MATERIALIZED", "WITH x AS (SELECT * FROM unnest", "WITH i AS (INSERT")
overlap = {"samples": 0, "busy": 0, "two": 0, "waits": {}, "stop": threading.Event()}
perf_pg = [None]
pg_kinds = {"start": {}, "delta": {}}


def sample_overlap(conn):
    """Counts samples with one, and with two or more, scan statements
    executing (active and not waiting on a lock), from the launch on."""
    with conn.cursor() as cur:
        while not overlap["stop"].is_set():
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                        " AND wait_event_type IS DISTINCT FROM 'Lock'"
                        " AND (" + " OR ".join("query LIKE %s" for _ in SCAN_SQL) + ")",
                        [q + "%" for q in SCAN_SQL])
            n = cur.fetchone()[0]
            cur.execute("SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU')"
                        " FROM pg_stat_activity WHERE state = 'active'"
                        " AND datname = current_database() AND pid <> pg_backend_pid()")
            for (w,) in cur.fetchall():
                overlap["waits"][w] = overlap["waits"].get(w, 0) + 1
            overlap["samples"] += 1
            overlap["busy"] += n >= 1
            overlap["two"] += n >= 2
            time.sleep(0.005)


def pg_by_kind(self):
    """The cluster's processes' user and system CPU seconds and context
    switches (voluntary, involuntary) so far, by pid and database (client
    backends: "db <name>") or kind (walwriter, checkpointer...), from their
    process titles. Without --overlap (whose sampling connection would
    count here) the sums are the bench's PostgreSQL CPU."""
    out = {}
    for pid in bench.CpuMeter(self.cluster, [])._pg_pids():
        try:
            with open("/proc/%d/cmdline" % pid) as f:
                title = f.read().replace("\0", " ").split()
        except OSError:
            continue
        kind = "postmaster" if len(title) < 2 or title[0] != "postgres:" else title[1]
        if kind not in ("walwriter", "checkpointer", "background", "autovacuum", "logical",
                        "postmaster", "stats", "archiver") and len(title) > 2:
            kind = "db " + title[2]
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%d/status" % pid) as f:
                sw = [int(l.split()[1]) for l in f if "ctxt_switches:" in l]
        except (OSError, IndexError, ValueError):
            continue
        tck = os.sysconf("SC_CLK_TCK")
        out[(pid, kind)] = (int(st[11]) / tck, int(st[12]) / tck) + tuple(sw)
    return out


def cpu_seconds(self):
    """Called at the launch and after the last decision (bench_marketing)."""
    seen["calls"] += 1
    snap = pg_by_kind(self)
    if seen["calls"] == 1:
        pg_kinds["start"] = snap
    else:
        for key, v in snap.items():
            v0 = pg_kinds["start"].get(key, (0, 0, 0, 0))
            d = pg_kinds["delta"].setdefault(key[1], [0, 0, 0, 0])
            for i in range(min(len(v), len(v0), 4)):
                d[i] += v[i] - v0[i]
    if args.overlap and "marketing" in self.dbs:
        if seen["calls"] == 1:
            conn = self.db("marketing")
            conn.autocommit = True
            overlap["thread"] = threading.Thread(target=sample_overlap, args=(conn,))
            overlap["thread"].start()
        elif "thread" in overlap:
            overlap["stop"].set()
            overlap["thread"].join()
    if not args.no_pgss and "marketing" in self.dbs:
        conn = self.db("marketing")
        with conn.cursor() as cur:
            if seen["calls"] == 1:
                cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                cur.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()")
            else:
                cur.execute(PGSS)
                report["pgss"] = cur.fetchall()
                cur.execute(FUNCS)
                report["funcs"] = cur.fetchall()
    if args.perf_pg and "marketing" in self.dbs:
        if seen["calls"] == 1:
            with self.db("marketing").cursor() as cur:
                cur.execute("SELECT string_agg(pid::text, ',') FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()")
                pids = cur.fetchone()[0]
            perf_pg[0] = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-o",
                                           args.perf_pg, "-p", pids],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif perf_pg[0]:
            perf_pg[0].send_signal(signal.SIGINT)
            perf_pg[0].wait()
    if args.perf and "marketing" in self.procs:
        if seen["calls"] == 1:
            perf[0] = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-o", args.perf,
                                        "-p", str(self.procs["marketing"].p.pid)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif perf[0]:
            perf[0].send_signal(signal.SIGINT)
            perf[0].wait()
    return orig_cpu(self)


services.Stack.cpu_seconds = cpu_seconds
workdir = tempfile.mkdtemp(prefix="mktcost-")
bench.KEYS = bench.Keys(args.bin, workdir)
try:
    out = services.bench_marketing(args.bin, workdir, args)
finally:
    shutil.rmtree(workdir, ignore_errors=True)
n = out["recipients"]
print(json.dumps({k: out[k] for k in ("recipients", "send_scans",
                                      "seconds_launch_to_all_decided",
                                      "seconds_launch_to_first_decision",
                                      "decided_per_s_after_first", "postgres_cpu_ms_per_decision",
                                      "marketing_cpu_ms_per_decision", "wal_bytes_per_decision",
                                      "cpu_seconds")}))
print("WAL by relation, bytes a decision: " + ", ".join(
    "%s %d" % (k, v["bytes"]) for k, v in out.get("wal_by_relation", {}).items()
    if isinstance(v, dict)))
print("PostgreSQL CPU a decision by process (ms user + system; context switches voluntary,"
      " involuntary): " + ", ".join(
          "%s %.4f + %.4f; %.2f, %.2f" % (k, v[0] * 1000 / n, v[1] * 1000 / n, v[2] / n, v[3] / n)
          for k, v in sorted(pg_kinds["delta"].items(), key=lambda kv: -kv[1][0] - kv[1][1])
          if v[0] + v[1] > 0))
if overlap["samples"]:
    print("scan statements executing, share of %d samples: one or more %.2f, two or more %.2f"
          % (overlap["samples"], overlap["busy"] / overlap["samples"],
             overlap["two"] / overlap["samples"]))
    print("busy marketing backends, samples by wait event: " + ", ".join(
        "%s %d" % kv for kv in sorted(overlap["waits"].items(), key=lambda kv: -kv[1])))
if report:
    print("per decision: calls | exec us | plan us | rows | buffers | dirtied | WAL records |"
          " WAL bytes | statement")
    for calls, ex, pl, rows, blks, dirt, wrec, wbytes, q in report["pgss"]:
        print("  %6d %7.2f %6.2f %6.3f %6.2f %5.3f %5.2f %7.1f  %s" % (
            calls, float(ex) * 1000 / n, float(pl) * 1000 / n, rows / n, blks / n, dirt / n,
            wrec / n, float(wbytes) / n, q))
    print("functions: " + ", ".join("%s %d calls %s ms (self %s)" % r for r in report["funcs"]))
for f in (args.perf, args.perf_pg):
    if not f:
        continue
    r = subprocess.run(["perf", "report", "-i", f, "--no-children", "--stdio",
                        "--sort", "dso,symbol", "-g", "none", "--percent-limit", "1"],
                       capture_output=True, text=True)
    print("\n".join(l for l in r.stdout.splitlines() if l and not l.startswith("#"))[:4000])
