#!/usr/bin/python3
"""Where an analytics live event's time goes, stage by stage.

Runs the live part of the analytics benchmark (probe sales publishing at a
steady rate, crm-analytics caught up and applying) with every process at
log level debug, then joins the debug lines the runtime writes on the path
(`relay.publish`, `consumer.live`, `consumer.replay.sent`,
`consumer.replay.reply`, `replay.served`, `consumer.batch.start`,
`consumer.batch.done`; all stamped with CLOCK_MONOTONIC, as is this
driver's time.monotonic()) per event sequence and prints each stage's
p50 / p99 / mean in ms, and what each event cost: replay requests, replays
served from memory and from the database, transactions.

    build/bin must be built; run as /usr/bin/python3 bench/live_trace.py
        [--bin build/bin] [--rate 1000] [--seconds 5] [--no-flush]
    or, on the logs a run kept, /usr/bin/python3 bench/live_trace.py --again DIR

"tail_ms" says what the slowest events are made of: each stage's mean over
the events at or above the total's p90 and p99. --no-flush is a diagnostic
(analytics' database with synchronous_commit off): what its COMMIT's WAL
flush weighs, never how the services run.

A measuring tool, not a benchmark figure: the debug lines cost a little
themselves. bench/README ("analytics live (seventh session)") has its
output before and after the in-memory replay."""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402
import services as S  # noqa: E402
import svc_analytics as A  # noqa: E402

NUM = re.compile(r"(\d+)")


def lines(path, event):
    out = []
    with open(path, "rb") as f:
        for raw in f:
            if b'"' + event.encode() + b'"' not in raw:
                continue
            try:
                o = json.loads(raw)
            except ValueError:
                continue
            if o.get("event") == event:
                out.append(o["msg"])
    return out


def nums(msg):
    return [int(x) for x in NUM.findall(msg.split(": ", 1)[-1])]


def stats(xs):
    if not xs:
        return None
    xs = sorted(xs)
    n = len(xs)
    return {"p50": round(xs[n // 2], 2), "p99": round(xs[min(n - 1, int(n * 0.99))], 2),
            "mean": round(statistics.fmean(xs), 2)}


def run(args):
    pb = S.load_protos(args.bin)
    work = tempfile.mkdtemp(prefix="live_trace.")
    B.KEYS = B.Keys(args.bin, work)
    st = S.Stack(args.bin, work, "debug")
    try:
        for p in ("sales", "marketing", "support"):
            st.start(p, "crm-probe")
        clients = {p: S.Rpc(st.ctx, st.endpoints[p], pb, p)
                   for p in ("sales", "marketing", "support")}
        campaign = str(uuid.uuid4())
        clients["marketing"].call("probe.emit", pb["testing_pb2"].ProbeEmitRequest.FromString(
            S.campaign_created(pb, campaign)))
        if args.no_flush:
            st.dbs["analytics"] = st.cluster.create_db("bench_analytics")
            st.cluster.sql("postgres",
                           "ALTER DATABASE bench_analytics SET synchronous_commit = off")
        st.start("analytics", "crm-analytics", ("sales", "marketing", "support"),
                 {"ANALYTICS_SCAN_MS": "3600000"})
        sdb, adb = st.db("sales"), st.db("analytics")
        n = args.rate * args.seconds
        events = [e for e in S.analytics_events(pb, 5 * (n + 200), "t", campaign)
                  if e[0] == "sales"]
        bodies = S.emit_bodies(pb, events)["sales"]
        warm, bodies = bodies[:200], bodies[200:200 + n]
        clients["sales"].pipeline("probe.emit", warm)
        head = S.q1(sdb, "SELECT head_seq FROM crm_stream")[0]
        B.wait_for(lambda: S.positions(adb).get("analytics.sales", 0) >= head, 60, "warm-up")
        base = head
        cpu0 = A.live_cpu_seconds(st)
        sent, seen = S.emit_watched(st, clients["sales"], bodies, args.rate, base)
        cpu1 = A.live_cpu_seconds(st)
        cpu = {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1}
        assert S.q1(sdb, "SELECT head_seq FROM crm_stream")[0] == base + n
        for cl in clients.values():
            cl.close()
    finally:
        st.close()
    with open(os.path.join(work, "sent_seen.json"), "w") as f:
        json.dump({"base": base, "n": n, "sent": sent, "seen": seen, "cpu": cpu}, f)
    print("logs and sends kept in %s (--again reads them)" % work, file=sys.stderr)
    return analyse(work, base, n, sent, seen, cpu)


def again(work):
    with open(os.path.join(work, "sent_seen.json")) as f:
        d = json.load(f)
    return analyse(work, d["base"], d["n"], d["sent"], d["seen"], d.get("cpu"))


def analyse(work, base, n, sent, seen, cpu=None):
    slog, alog = os.path.join(work, "sales.log"), os.path.join(work, "analytics.log")
    pub = {}
    for m in lines(slog, "relay.publish"):
        seq, us = nums(m)[:2]
        pub[seq] = us / 1e6
    served = [nums(m) for m in lines(slog, "replay.served")]
    live = {}
    for m in lines(alog, "consumer.live"):
        if ": sales " not in m:
            continue
        seq, us = nums(m)[-2:]
        live.setdefault(seq, us / 1e6)
    # Replies of the sales source: (received, sent, first, last).
    replies = []
    for m in lines(alog, "consumer.replay.reply"):
        if ": sales " not in m:
            continue
        k, to, head, at, req = nums(m)[-5:]
        replies.append((at / 1e6, req / 1e6, to))
    sends = [nums(m)[-2:] for m in lines(alog, "consumer.replay.sent") if ": sales " in m]
    starts = [nums(m)[-4:] for m in lines(alog, "consumer.batch.start")]
    dones = [nums(m)[-4:] for m in lines(alog, "consumer.batch.done")]
    # Sequence -> the first reply whose scanned range reached it.
    replies.sort()
    rep_of = {}
    lo = base
    for at, req, to in replies:
        for s in range(max(lo, base) + 1, to + 1):
            rep_of.setdefault(s, (at, req))
        lo = max(lo, to)
    bstart, bdone = {}, {}
    for k, first, last, us in starts:
        for s in range(first, last + 1):
            bstart.setdefault(s, (us / 1e6, k))
    for k, first, last, us in dones:
        for s in range(first, last + 1):
            bdone.setdefault(s, us / 1e6)
    st = {k: [] for k in ("emit_to_publish", "publish_to_live", "live_to_request",
                          "request_to_reply", "reply_to_batch_start", "batch", "commit_to_seen",
                          "total")}
    sizes = []
    rows = []
    for i in range(n):
        s = base + i + 1
        if s not in pub or s not in live or s not in rep_of or s not in bstart or s not in bdone:
            continue
        at, req = rep_of[s]
        b0, k = bstart[s]
        ms = 1000.0
        st["emit_to_publish"].append((pub[s] - sent[i]) * ms)
        st["publish_to_live"].append((live[s] - pub[s]) * ms)
        st["live_to_request"].append(max(0.0, req - live[s]) * ms)
        st["request_to_reply"].append((at - max(req, live[s])) * ms)
        st["reply_to_batch_start"].append((b0 - at) * ms)
        st["batch"].append((bdone[s] - b0) * ms)
        st["commit_to_seen"].append((seen[i] - bdone[s]) * ms)
        st["total"].append((seen[i] - sent[i]) * ms)
        sizes.append(k)
        rows.append({name: v[-1] for name, v in st.items()})
        rows[-1]["events_per_transaction"] = k
    window = [x for x in sends if base < x[0] <= base + n]
    live_served = [x for x in served if base < x[0] <= base + n]
    out = {"events": n, "traced": len(st["total"]),
           "stages_ms": {k: stats(v) for k, v in st.items()},
           "per_event": {
               "replay_requests": round(len(window) / n, 3),
               "replays_served": round(len(live_served) / n, 3),
               "replays_served_from_memory": round(
                   sum(1 for x in live_served if len(x) > 5 and x[5] == 1) / n, 3),
               "transactions": round(len({bstart[base + i + 1][0] for i in range(n)
                                          if base + i + 1 in bstart}) / n, 3)},
           "mean_events_per_transaction": round(statistics.fmean(sizes), 1) if sizes else None,
           "source_replay_service_ms": stats([(x[4] - x[3]) / 1000.0 for x in live_served]),
           "tail_ms": tail(rows)}
    if cpu:
        # At log level debug: the lines cost a little of each process's.
        # pg_analytics holds the poller's backend too (about a thousand
        # reads a second whatever the rate): at low rates it is most of it.
        tx = len({bstart[base + i + 1][0] for i in range(n) if base + i + 1 in bstart})
        out["cpu_ms_per_event"] = {k: round(v * 1000 / n, 4) for k, v in sorted(cpu.items())
                                   if v > 0}
        if tx:
            out["analytics_cpu_ms_per_transaction"] = {
                k: round(cpu.get(k, 0.0) * 1000 / tx, 3) for k in ("analytics", "pg_analytics")}
    return out


def tail(rows):
    """The mean of each stage over the events whose total is at or above
    the total's p90 and p99: what the tail is made of."""
    if not rows:
        return None
    tot = sorted(r["total"] for r in rows)
    out = {}
    for name, q in (("p90", 0.90), ("p99", 0.99)):
        cut = tot[min(len(tot) - 1, int(len(tot) * q))]
        sel = [r for r in rows if r["total"] >= cut]
        out["at_or_above_" + name] = {k: round(statistics.fmean(r[k] for r in sel), 2)
                                      for k in sel[0]}
        out["at_or_above_" + name]["events"] = len(sel)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))), "build", "bin"))
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--no-flush", action="store_true",
                    help="diagnostic: analytics' database with synchronous_commit off, to see"
                    " what its COMMIT's WAL flush weighs (not a setting the services use)")
    ap.add_argument("--again", metavar="DIR",
                    help="analyse the logs a run kept in DIR again instead of running")
    args = ap.parse_args()
    print(json.dumps(again(args.again) if args.again else run(args), indent=1))


if __name__ == "__main__":
    main()
