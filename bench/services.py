"""Benchmarks of the real services' hot paths, driven by bench.py:

- analytics: events per second crm-analytics applies, from a backlog
  (replay catch-up) and live (steady rate, event to projection latency);
- sales: sales.person.register through crm-sales at a few concurrencies
  (crm-bench-commands, the program of the durable-commands benchmark)
  against pgbench in the same run, at half its ceiling, order.create and
  activity.log, and with --sales-preload people in the table;
- marketing: recipients decided per second by crm-marketing's send scan for
  an SMS campaign (deliveries are only recorded: no SMTP);
- bridge: events per second crm-bridge-nats puts into NATS JetStream from a
  backlog (skipped when nats-server is not installed);
- api: POST /v1/people requests per second through crm-api (crm-bench-http)
  against sales.person.register over the native protocol
  (crm-bench-commands), at the same concurrency on the same stack, and
  their ratio (target at least 0.8).

Unlike bench.py this module needs what the integration tests need: Debian's
python3 with python3-zmq, python3-protobuf and python3-psycopg2, and the
Python protos the build generates (build/gen/py). It reuses bench.py's
cluster, processes and helpers; nothing here asserts a timing."""
import heapq
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid

import bench as B
import preload

try:
    import psycopg2
    import zmq
    import zmq.auth
except ImportError as e:  # reported by the driver as "cannot run"
    raise RuntimeError("the service benchmarks need python3-zmq and python3-psycopg2 (%s);"
                       " run them with /usr/bin/python3" % e)

CRM_CUSTOMER_NAMESPACE = uuid.UUID("6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10")
US = 1000000
DAY = 86400 * US


def load_protos(bin_dir):
    """The crm.v1 Python classes generated in the build tree (bin/../gen/py)."""
    gen = os.environ.get("CRM_PY_GEN") or os.path.join(os.path.dirname(bin_dir), "gen", "py")
    if not os.path.exists(os.path.join(gen, "crm", "v1", "event_pb2.py")):
        raise RuntimeError("no Python protos in %s: build first (cmake --build build)" % gen)
    if gen not in sys.path:
        sys.path.insert(0, gen)
    from crm.v1 import (analytics_pb2, event_pb2, marketing_pb2, person_pb2, rpc_pb2,
                        sales_pb2, support_pb2, testing_pb2)
    return {"analytics_pb2": analytics_pb2, "event_pb2": event_pb2,
            "marketing_pb2": marketing_pb2, "person_pb2": person_pb2, "rpc_pb2": rpc_pb2,
            "sales_pb2": sales_pb2, "support_pb2": support_pb2, "testing_pb2": testing_pb2}


class Rpc:
    """CommandRequest/CommandReply over one DEALER, with many requests in
    flight (replies are matched by request_id)."""

    def __init__(self, ctx, endpoint, pb, server):
        """`server`: the service's name in the directory (its public key)."""
        self.pb = pb
        self.s = ctx.socket(zmq.DEALER)
        self.s.setsockopt(zmq.LINGER, 0)
        public, secret = zmq.auth.load_certificate(B.KEYS.key_file("bench"))
        self.s.curve_publickey, self.s.curve_secretkey = public, secret
        self.s.curve_serverkey = zmq.auth.load_certificate(B.KEYS.key_file(server))[0]
        self.s.connect(endpoint)
        self.next_id = 1
        self.sent = {}
        self.deferred = []  # (due, request id, (command, body, key)), a heap

    def _send(self, command, body, key=None):
        rq = self.pb["rpc_pb2"].CommandRequest(command=command, body=body, actor="bench",
                                               idempotency_key=key or str(uuid.uuid4()),
                                               request_id=self.next_id)
        self.next_id += 1
        self.s.send(rq.SerializeToString())
        self.sent[rq.request_id] = (command, body, rq.idempotency_key)
        return rq.request_id

    def _recv(self, timeout):
        """The next reply that is not a refusal for overload: those are
        sent again, with the same key, once their hint has passed (the
        bounded queue of issue 15 refuses a client that pipelines past it).
        Each refused request waits for its own hint while the replies to
        the others are read, as a client with many requests in flight
        would: sleeping for each refusal in turn made a refused burst of
        128 wait for the sum of their hints."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            while self.deferred and self.deferred[0][0] <= now:
                self._send(*heapq.heappop(self.deferred)[2])
            wait = deadline - now
            if self.deferred:
                wait = min(wait, self.deferred[0][0] - now)
            if not self.s.poll(max(0, int(wait * 1000)) + 1):
                if time.monotonic() >= deadline:
                    raise RuntimeError("no reply within %ss" % timeout)
                continue
            rep = self.pb["rpc_pb2"].CommandReply()
            rep.ParseFromString(self.s.recv())
            sent = self.sent.pop(rep.request_id, None)
            if rep.status.code == UNAVAILABLE and rep.status.retry_after_ms and sent:
                due = time.monotonic() + min(rep.status.retry_after_ms, 1000) / 1000.0
                heapq.heappush(self.deferred, (due, rep.request_id, sent))
                deadline = max(deadline, due + timeout)
                continue
            if rep.status.code != 0:
                raise RuntimeError("command failed: %s %s: %s" % (
                    rep.status.code, rep.status.field, rep.status.message))
            return rep

    def call(self, command, msg, reply_type=None, timeout=30):
        want = self._send(command, msg.SerializeToString())
        while True:
            rep = self._recv(timeout)
            if rep.request_id >= want:  # the request, or it sent again
                return reply_type.FromString(rep.body) if reply_type else rep

    def pipeline(self, command, bodies, window=128, timeout=60):
        """Sends every body, at most `window` unanswered; returns when all
        are answered ok (in the order sent, but for those refused for
        overload and sent again)."""
        inflight = 0
        for b in bodies:
            if inflight >= window:
                self._recv(timeout)
                inflight -= 1
            self._send(command, b)
            inflight += 1
        while inflight:
            self._recv(timeout)
            inflight -= 1

    def close(self):
        self.s.close()


class Stack:
    """One cluster, crm-bus, and services or probes started by name, each
    with its own database, like the integration tests' System."""

    def __init__(self, bin_dir, workdir, log_level):
        self.bin, self.workdir, self.log_level = bin_dir, workdir, log_level
        self.cluster = B.Cluster(B.pg_bindir())
        self.ctx = zmq.Context()
        self.xsub, self.xpub = ("tcp://127.0.0.1:%d" % B.free_port(),
                                "tcp://127.0.0.1:%d" % B.free_port())
        self.procs, self.endpoints, self.dbs, self.http = {}, {}, {}, {}
        for n in ("sales", "marketing", "support", "analytics", "api"):
            self.endpoints[n] = "tcp://127.0.0.1:%d" % B.free_port()
        bus = B.Proc("bus", [os.path.join(bin_dir, "crm-bus")],
                     dict(B.KEYS.env("bus"), CRM_HTTP_PORT="0", CRM_BUS_XSUB_BIND=self.xsub,
                          CRM_BUS_XPUB_BIND=self.xpub), workdir)
        self.procs["bus"] = bus
        bus.wait_line('"event":"bus.ready"')

    def start(self, name, binary, peers=(), env=None):
        if name not in self.dbs:
            self.dbs[name] = self.cluster.create_db("bench_" + name)
        self.http[name] = B.free_port()
        e = {"CRM_PG_URL": self.cluster.url(self.dbs[name]), "CRM_BIND": self.endpoints[name],
             "CRM_BUS_PUB_ENDPOINT": self.xsub, "CRM_BUS_SUB_ENDPOINT": self.xpub,
             "CRM_HTTP_PORT": str(self.http[name]), "CRM_HEARTBEAT_MS": "200",
             "CRM_LOG_LEVEL": self.log_level,
             "CRM_PEERS": ",".join("%s=%s" % (p, self.endpoints[p]) for p in peers),
             **B.KEYS.env(name)}
        if binary == "crm-probe":
            e["PROBE_NAME"] = name
        e.update(env or {})
        p = B.Proc(name, [os.path.join(self.bin, binary)], e, self.workdir)
        self.procs[name] = p
        p.wait_line('"event":"service.ready"', timeout=60)
        return p

    def cpu_seconds(self):
        """CPU seconds used so far by the cluster's backends (children of
        its postmaster), by each of our processes and by the whole machine
        (busy, all cores)."""
        meter = B.CpuMeter(self.cluster, list(self.procs.values()))
        out = {"postgres": sum(B.proc_cpu_seconds(pid) for pid in meter._pg_pids())}
        out.update({p.name: B.proc_cpu_seconds(p.p.pid) for p in self.procs.values()})
        out["machine"] = meter._machine_busy_seconds()
        return out

    def rss_peak_mb(self):
        """Each running process's peak resident set (VmHWM), in MiB, and
        whether it stayed under issue 15's 32 MB."""
        out = {}
        for name, p in self.procs.items():
            try:
                with open("/proc/%d/status" % p.p.pid) as f:
                    kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
            except (OSError, StopIteration):
                continue
            out[name] = round(kb / 1024, 1)
        B.log("peak RSS (MiB, target < 32 per service): " + ", ".join(
            "%s %.1f" % kv for kv in sorted(out.items())))
        return {"mib": out, "target_mib": TARGET_RSS_MB,
                "target_met": all(v < TARGET_RSS_MB for v in out.values())}

    def db(self, name):
        c = psycopg2.connect(self.cluster.url(self.dbs[name]))
        c.autocommit = True
        return c

    def close(self):
        for p in reversed(list(self.procs.values())):
            p.stop()
        self.ctx.destroy(linger=0)
        self.cluster.destroy()


def q1(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


# ---- analytics ----------------------------------------------------------------

# rpc.proto StatusCode: the bounded queue's refusal, with retry_after_ms.
UNAVAILABLE = 6

# Issue 15: analytics catches a backlog up at this many events/s or more.
TARGET_CATCH_UP = 20000
# ... applies live events at 1,000/s with emit to projection p99 under 20 ms,
TARGET_LIVE_RATE = 1000
TARGET_LIVE_P99_MS = 20
# ... and every service's resident set stays under 32 MB.
TARGET_RSS_MB = 32
# ... and marketing decides 50,000 sends/s or more.
TARGET_DECISIONS = 50000


def customer_id(email):
    return str(uuid.uuid5(CRM_CUSTOMER_NAMESPACE, email))


def analytics_events(pb, n, tag, campaign):
    """n events in sets of five per customer, as the three sources would
    publish them: (source, type, subject, Event). A customer is registered
    by sales, places an order, is sent a campaign message, opens it and
    opens a ticket, so every event touches the event log, a projection and
    the customer's health."""
    S, P, M, T = pb["sales_pb2"], pb["person_pb2"], pb["marketing_pb2"], pb["support_pb2"]
    now = int(time.time() * US)
    out = []
    i = 0
    while len(out) < n:
        email = "c%d.%s@bench.example" % (i, tag)
        cid = customer_id(email)
        ev = [
            ("sales", "crm.sales.person.registered.v1", cid, dict(
                person_registered=S.PersonRegistered(person=P.Person(
                    id=cid, name="Customer %d" % i, emails=[email], phones=["+4930%07d" % i],
                    created_at_us=now - 400 * DAY, updated_at_us=now - 400 * DAY,
                    registered_by="sales", kind=P.PERSON_KIND_CUSTOMER, owner="rita")))),
            ("sales", "crm.sales.order.placed.v1", cid, dict(order_placed=S.OrderPlaced(
                order=S.Order(id=str(uuid.uuid4()), person_id=cid, total_minor=1000 + i,
                              currency="EUR", ordered_at_us=now - (i % 300) * DAY)))),
            ("marketing", "crm.marketing.send.decided.v1", cid, dict(send_decided=M.SendDecided(
                campaign_id=campaign, customer_id=cid, status=M.SEND_STATUS_SENT,
                channel=M.CHANNEL_EMAIL))),
            ("marketing", "crm.marketing.response.recorded.v1", cid, dict(
                campaign_response_recorded=M.CampaignResponseRecorded(
                    campaign_id=campaign, customer_id=cid, response=M.RESPONSE_TYPE_OPENED,
                    channel="email"))),
            ("support", "crm.support.ticket.opened.v1", cid, dict(ticket_opened=T.TicketOpened(
                ticket_id=str(uuid.uuid4()), customer_id=cid, type=T.TICKET_TYPE_COMPLAINT,
                subject="late delivery", priority="normal"))),
        ]
        out.extend(ev)
        i += 1
    return out[:n]


def emit_bodies(pb, events):
    """probe.emit request bodies per source, in order."""
    E, T = pb["event_pb2"], pb["testing_pb2"]
    per = {"sales": [], "marketing": [], "support": []}
    for source, type_, subject, payload in events:
        per[source].append(T.ProbeEmitRequest(type=type_, subject=subject, event=E.Event(
            **payload).SerializeToString()).SerializeToString())
    return per


def campaign_created(pb, campaign):
    M, E, T = pb["marketing_pb2"], pb["event_pb2"], pb["testing_pb2"]
    ev = E.Event(campaign_created=M.CampaignCreated(campaign=M.Campaign(
        id=campaign, name="Bench", currency="EUR", status=M.CAMPAIGN_STATUS_RUNNING,
        channels=[M.CHANNEL_EMAIL], budget_minor=50000)))
    return T.ProbeEmitRequest(type="crm.marketing.campaign.created.v1", subject="",
                              event=ev.SerializeToString()).SerializeToString()


def positions(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT consumer, seq FROM crm_consumer_position")
        return dict(cur.fetchall())


def thread_cpu_seconds(proc):
    """CPU seconds of each thread of a running process so far, summed by
    thread name (/proc/<pid>/task/<tid>/schedstat, nanoseconds: finer than
    the clock ticks of /proc/<pid>/stat); {} when it is not running."""
    out = {}
    pid = proc.p.pid if proc is not None else None
    try:
        tids = os.listdir("/proc/%d/task" % pid) if pid else []
    except OSError:
        tids = []
    for t in tids:
        try:
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                name = f.read().strip()
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        out[name] = out.get(name, 0.0) + ns / 1e9
    return out


def per_event_by_thread(t0, t1, events):
    """crm-analytics' CPU ms an event between two thread_cpu_seconds
    snapshots, by thread name and in all (issue 15: where its CPU goes)."""
    by = {k: round((v - t0.get(k, 0.0)) * 1000 / events, 4) for k, v in sorted(t1.items())}
    return {"total": round(sum(by.values()), 4), "by_thread": by}


def bench_analytics(bin_dir, workdir, args):
    pb = load_protos(bin_dir)
    st = Stack(bin_dir, workdir, args.log_level)
    out = {}
    try:
        for p in ("sales", "marketing", "support"):
            st.start(p, "crm-probe")
        clients = {p: Rpc(st.ctx, st.endpoints[p], pb, p) for p in ("sales", "marketing", "support")}
        campaign = str(uuid.uuid4())
        clients["marketing"].call("probe.emit", pb["testing_pb2"].ProbeEmitRequest.FromString(
            campaign_created(pb, campaign)))
        n = args.analytics_events
        B.log("analytics backlog: pre-loading %d events into probes sales, marketing, support"
              % n)
        t0 = time.monotonic()
        if args.rows:  # long mode: written set-based into the probes' streams
            heads = preload.preload_analytics_sources(st, pb, clients, campaign, n)
        else:
            per = emit_bodies(pb, analytics_events(pb, n, "b", campaign))
            threads = [threading.Thread(target=clients[s].pipeline, args=("probe.emit", per[s]))
                       for s in per]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            heads = {s: q1(st.db(s), "SELECT head_seq FROM crm_stream")[0] for s in per}
        B.log("pre-loaded in %.1f s; heads %s" % (time.monotonic() - t0, heads))
        # Analytics starts on a backlog: replay first, then live.
        env = {"ANALYTICS_SCAN_MS": "3600000"}
        cpu0 = st.cpu_seconds()
        t0 = time.monotonic()
        st.start("analytics", "crm-analytics", ("sales", "marketing", "support"), env)
        t_ready = time.monotonic() - t0
        ac = Rpc(st.ctx, st.endpoints["analytics"], pb, "analytics")
        AS = pb["analytics_pb2"]

        pos_conn = st.db("analytics")
        trace = []  # (time, events applied): the rate along the catch-up

        def caught_up():
            # The positions first: analytics.status counts the event log,
            # and polled every 20 ms that was 7% of the analytics
            # database's statement time in the catch-up (with the rebuild's
            # count(*) polls, 15% of the rebuild's), charged to the events.
            pos = positions(pos_conn)
            # The consumers' positions are the events applied so far (the
            # backlog starts at sequence 1): the trace of the catch-up's rate.
            trace.append((time.monotonic(), sum(pos.get("analytics." + s, 0) for s in heads)))
            if any(pos.get("analytics." + s, 0) < heads[s] for s in heads):
                return False
            r = ac.call("analytics.status", AS.AnalyticsStatusRequest(), AS.AnalyticsStatusReply)
            got = {s.source: s for s in r.sources}
            return all(s in got and got[s].applied >= heads[s] and got[s].lag == 0
                       for s in heads)
        try:
            B.wait_for(caught_up, args.analytics_timeout, "analytics to catch up (lag 0)")
        except RuntimeError:
            if not args.rows or not trace:
                raise
            # Long mode, cut at --analytics-timeout: the catch-up so far.
            out["backlog"] = preload.partial_catch_up(st, trace, t0, cpu0, sum(heads.values()),
                                                      args.analytics_timeout)
            return out
        secs = time.monotonic() - t0
        cpu1 = st.cpu_seconds()
        threads1 = thread_cpu_seconds(st.procs.get("analytics"))
        total = sum(heads.values())
        cpu = {k: round(cpu1.get(k, 0) - cpu0.get(k, 0), 2) for k in cpu1}
        machine = cpu.pop("machine")
        cpu["others"] = round(max(0.0, machine - sum(cpu.values())), 2)
        adb = st.db("analytics")
        # The rows one transaction inserted share its xmin: the number of
        # consumer transactions that applied the backlog, exactly.
        logged, batches = q1(adb, "SELECT count(*), count(DISTINCT xmin::text)"
                                  " FROM customer_event")
        out["backlog"] = {
            "events": total,
            "events_per_source": heads,
            "seconds_from_start_to_lag_0": round(secs, 2),
            "seconds_to_service_ready": round(t_ready, 2),
            "events_per_s": round(total / secs),
            "replay_batch": int(os.environ.get("CRM_REPLAY_BATCH", "500")),
            "consumer_batch_max": int(os.environ.get("CRM_BATCH_MAX", "256")),
            "apply_transactions": batches,
            "mean_events_per_transaction": round(logged / batches, 1) if batches else None,
            "customer_event_rows": logged,
            # CPU time, less sensitive than wall time to a shared machine.
            "cpu_seconds": cpu,
            "postgres_cpu_ms_per_event": round(cpu["postgres"] * 1000 / total, 3),
            # crm-analytics' own, by thread, from its start (schedstat).
            "analytics_cpu_ms_per_event": per_event_by_thread({}, threads1, total),
            # Does the rate fall as the tables fill? Events/s in each fifth.
            "events_per_s_by_fifth": preload.rates_by_part(trace, t0, total, 5),
        }
        B.log("analytics backlog: %d events in %.2f s = %.0f events/s; CPU an event:"
              " PostgreSQL %.3f ms, crm-analytics %.4f ms %s" % (
                  total, secs, total / secs, out["backlog"]["postgres_cpu_ms_per_event"],
                  out["backlog"]["analytics_cpu_ms_per_event"]["total"],
                  out["backlog"]["analytics_cpu_ms_per_event"]["by_thread"]))
        if args.analytics_live_seconds > 0:
            out["live"] = analytics_live(st, pb, clients, campaign, args)
        # The rebuild, with runs (the default) and, as the baseline of the
        # same run, one event at a time (CRM_CONSUMER_RUNS=0): analytics
        # restarted on the same database.
        if not args.analytics_rebuild_max or total <= args.analytics_rebuild_max:
            out["rebuild"] = {"runs": analytics_rebuild(st, pb, ac, heads, caught_up, args)}
        else:  # --analytics-rebuild-max: the catch-up replayed as many from empty
            out["rebuild"] = {"runs": {"events": total, "seconds": out["backlog"][
                "seconds_from_start_to_lag_0"], "events_per_s": out["backlog"]["events_per_s"],
                "skipped": "%d events > --analytics-rebuild-max %d: the catch-up from empty"
                           " instead" % (total, args.analytics_rebuild_max)}}
        ac.close()
        out["rss_peak"] = st.rss_peak_mb()
        r = out["rebuild"]
        if total <= args.analytics_one_at_a_time_max:
            st.procs["analytics"].stop()
            st.start("analytics", "crm-analytics", ("sales", "marketing", "support"),
                     dict(env, CRM_CONSUMER_RUNS="0"))
            ac = Rpc(st.ctx, st.endpoints["analytics"], pb, "analytics")
            r["one_at_a_time"] = analytics_rebuild(st, pb, ac, heads, caught_up, args)
            r["speedup"] = round(r["runs"]["events_per_s"] / r["one_at_a_time"]["events_per_s"],
                                 2)
        else:  # the long mode's million: a quarter hour more, for a known ratio
            r["one_at_a_time"] = {"skipped": "%d events > --analytics-one-at-a-time-max %d"
                                  % (total, args.analytics_one_at_a_time_max)}
            r["speedup"] = None
        # Issue 15's targets. The rebuild's is 1,000,000 events in 60 s:
        # met or not only on a run of that size (--analytics-events
        # 1000000, the long mode in bench/README), else extrapolated.
        b = out["backlog"]
        b["target_events_per_s"] = TARGET_CATCH_UP
        b["target_met"] = b["events_per_s"] >= TARGET_CATCH_UP
        r["target"] = "1,000,000 events in under 60 s"
        r["seconds_for_1m_at_this_rate"] = round(1e6 / r["runs"]["events_per_s"], 1)
        r["target_met"] = (r["runs"]["seconds"] < 60 if total >= 1000000 else
                           "not judged: %d events (extrapolated %.0f s)" % (
                               total, 1e6 / r["runs"]["events_per_s"]))
        B.log("analytics rebuild: %.0f events/s with runs, %s one at a time (x%s);"
              " 1M events would take %.0f s (target 60 s)" % (
                  r["runs"]["events_per_s"], r["one_at_a_time"].get("events_per_s", "-"),
                  r["speedup"], r["seconds_for_1m_at_this_rate"]))
        B.log("analytics catch-up: %d events/s (target %d: %s)" % (
            b["events_per_s"], TARGET_CATCH_UP, "met" if b["target_met"] else "not met"))
        for c in list(clients.values()) + [ac]:
            c.close()
        pos_conn.close()
    finally:
        st.close()
    return out


def analytics_rebuild(st, pb, ac, heads, caught_up, args):
    """analytics.rebuild, timed from the command until every event is in
    the event log again and every source at its head with lag 0."""
    AS = pb["analytics_pb2"]
    adb = st.db("analytics")
    logged = q1(adb, "SELECT count(*) FROM customer_event")[0]
    cpu0 = st.cpu_seconds()
    threads0 = thread_cpu_seconds(st.procs.get("analytics"))
    t0 = time.monotonic()
    ac.call("analytics.rebuild", AS.RebuildRequest(), AS.RebuildReply)
    B.wait_for(lambda: caught_up() and q1(adb, "SELECT count(*) FROM customer_event")[0] >= logged,
               args.analytics_timeout, "the rebuild to reach lag 0")
    secs = time.monotonic() - t0
    cpu1 = st.cpu_seconds()
    threads1 = thread_cpu_seconds(st.procs.get("analytics"))
    pg = cpu1["postgres"] - cpu0["postgres"]
    others = (cpu1["machine"] - cpu0["machine"]) - sum(
        cpu1.get(k, 0) - cpu0.get(k, 0) for k in cpu1 if k != "machine")
    total = sum(heads.values())
    by = per_event_by_thread(threads0, threads1, total)
    B.log("analytics rebuild: %d events in %.2f s = %.0f events/s; CPU an event: PostgreSQL"
          " %.3f ms, crm-analytics %.4f ms %s" % (total, secs, total / secs, pg * 1000 / total,
                                                  by["total"], by["by_thread"]))
    return {"events": total, "seconds": round(secs, 2), "events_per_s": round(total / secs),
            "postgres_cpu_ms_per_event": round(pg * 1000 / total, 3),
            "analytics_cpu_ms_per_event": by,
            "others_cpu_seconds": round(max(0.0, others), 2)}


def emit_watched(st, c, bodies, rate, base):
    """Sends probe.emit of each body through c at `rate` a second (replies
    read while waiting), and watches analytics' position for sales from
    `base` every millisecond or so: the instant each body was sent and the
    instant its event was applied (the position is committed with the
    projections), as two lists."""
    n = len(bodies)
    sent = [0.0] * n
    seen = [0.0] * n
    done = threading.Event()

    def poll():
        pos_conn = st.db("analytics")
        nxt = 0
        while nxt < n and not done.is_set():
            p = positions(pos_conn).get("analytics.sales", 0) - base
            now = time.monotonic()
            while nxt < n and nxt < p:
                seen[nxt] = now
                nxt += 1
            time.sleep(0.001)
        pos_conn.close()

    poller = threading.Thread(target=poll)
    poller.start()
    t0 = time.monotonic()
    inflight = 0
    try:
        for i, b in enumerate(bodies):
            due = t0 + i / rate
            while True:
                d = due - time.monotonic()
                if d <= 0:
                    break
                if inflight and c.s.poll(int(d * 1000) + 1):
                    c._recv(30)
                    inflight -= 1
                else:
                    time.sleep(min(d, 0.001))
            sent[i] = time.monotonic()
            c._send("probe.emit", b)
            inflight += 1
        while inflight:
            c._recv(30)
            inflight -= 1
        B.wait_for(lambda: seen[-1] > 0, 60, "analytics to apply the live events")
    finally:
        done.set()
        poller.join()
    return sent, seen


def analytics_live(st, pb, clients, campaign, args):
    """Events from probe sales at a steady rate while analytics is live; each
    event's latency is from its probe.emit being sent to the moment
    analytics' position for sales (committed in the same transaction as the
    projections) reaches its sequence, polled every millisecond or so."""
    rate, secs = args.analytics_rate, args.analytics_live_seconds
    n = rate * secs
    sdb = st.db("sales")
    base = q1(sdb, "SELECT head_seq FROM crm_stream")[0]
    events = [e for e in analytics_events(pb, 5 * n, "l", campaign) if e[0] == "sales"][:n]
    bodies = emit_bodies(pb, events)["sales"]
    B.log("analytics live: %d events/s from probe sales for %d s" % (rate, secs))
    sent, seen = emit_watched(st, clients["sales"], bodies, rate, base)
    head = q1(sdb, "SELECT head_seq FROM crm_stream")[0]
    lat = sorted((seen[i] - sent[i]) * 1000 for i in range(n))
    achieved = n / (sent[-1] - sent[0]) if n > 1 else 0

    def pct(p):
        return round(lat[min(n - 1, max(0, int(round(p / 100.0 * n)) - 1))], 1)
    r = {"rate_per_s": rate, "achieved_rate_per_s": round(achieved), "events": n,
         "sequences_match_sends": head - base == n,
         "emit_to_projection_ms": {"p50": pct(50), "p99": pct(99), "max": round(lat[-1], 1),
                                   "mean": round(statistics.fmean(lat), 1)},
         "note": "includes the probe's own command transaction, relay and bus hop"}
    # Issue 15: p99 under 20 ms at 1,000 events/s, judged only at that rate
    # or above (--analytics-rate).
    r["target"] = "emit to projection p99 under %d ms at %d events/s" % (
        TARGET_LIVE_P99_MS, TARGET_LIVE_RATE)
    r["target_met"] = (r["emit_to_projection_ms"]["p99"] < TARGET_LIVE_P99_MS
                       if rate >= TARGET_LIVE_RATE else "not judged: %d events/s" % rate)
    B.log("analytics live: p50 %.1f ms, p99 %.1f ms at %d/s (target p99 %d ms at %d/s: %s)" % (
        r["emit_to_projection_ms"]["p50"], r["emit_to_projection_ms"]["p99"], rate,
        TARGET_LIVE_P99_MS, TARGET_LIVE_RATE,
        {True: "met", False: "not met"}.get(r["target_met"], "not judged")))
    return r


# ---- sales --------------------------------------------------------------------

# Issue 15: sales.person.register at 32 clients at pgbench's single-row TPS
# or more (same run), with p99 under 20 ms at half its own ceiling.
TARGET_SALES_RATIO = 1.0
TARGET_SALES_P99_MS = 20.0

# The lookup by email of show, update and leads (store/person.c,
# SALES_PERSON_BY_EMAILS), for EXPLAIN ANALYZE at each table size; a
# registration probes the same key in sales_person_register() (sql/0015).
SALES_LOOKUP = ("WITH pe AS MATERIALIZED (SELECT person_id FROM person_email"
                " WHERE email = ANY (%s::text[]))"
                " SELECT pe_p.id FROM pe JOIN person pe_p ON pe_p.id = pe.person_id"
                " ORDER BY pe_p.created_at, pe_p.id LIMIT 1")


def sales_preload(conn, n):
    """Tops the person table up to n people straight in SQL (with their
    person_email rows; triggers off for the load, like a restore), each
    with a unique email pre<i>@preload.example. Returns the seconds taken."""
    t0 = time.monotonic()
    have = q1(conn, "SELECT count(*) FROM person")[0]
    if have >= n:
        return 0.0
    with conn.cursor() as cur:
        cur.execute("BEGIN; SET LOCAL session_replication_role = replica")
        cur.execute(
            "INSERT INTO person (id, kind, name, emails, phones, country, owner, registered_by,"
            " field_versions, created_at, updated_at)"
            " SELECT md5('pre' || i)::uuid, 2, 'Preloaded ' || i,"
            " ARRAY['pre' || i || '@preload.example'], ARRAY['+4930' || lpad(i::text, 9, '0')],"
            " 'DE', 'bench', 'sales', '{}', now() - interval '1 day', now() - interval '1 day'"
            " FROM generate_series(%s, %s) i ON CONFLICT DO NOTHING", (have + 1, n))
        cur.execute(
            "INSERT INTO person_email (email, person_id)"
            " SELECT 'pre' || i || '@preload.example', md5('pre' || i)::uuid"
            " FROM generate_series(%s, %s) i ON CONFLICT DO NOTHING", (have + 1, n))
        cur.execute("COMMIT")
        cur.execute("VACUUM ANALYZE person")
        cur.execute("VACUUM ANALYZE person_email")
    return round(time.monotonic() - t0, 1)


def sales_lookup_ms(conn):
    """Execution time (ms) of the registration's email lookup, for a known
    email and for a new one (EXPLAIN ANALYZE, the median of 5 each), and the
    plan's first line."""
    out = {}
    with conn.cursor() as cur:
        for what, email in (("known", "pre1@preload.example"), ("new", "nobody@else.example")):
            ts = []
            for _ in range(5):
                cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + SALES_LOOKUP, ([email],))
                plan = cur.fetchone()[0][0]
                ts.append(plan["Execution Time"])
            out[what + "_ms"] = round(statistics.median(ts), 3)
        cur.execute("EXPLAIN " + SALES_LOOKUP, (["nobody@else.example"],))
        out["plan"] = " / ".join(r[0].strip() for r in cur.fetchall()[:4])
    return out


def sales_set_run(st, run, command, mode):
    """One run of `command` at 32 clients on a crm-sales started with
    SALES_SET=mode, with the WAL it wrote and the commands a set statement
    held (crm_command_run_works_total / crm_command_runs_total)."""
    conn = st.db("sales")
    m0, wal0 = B.scrape(st.http["sales"]), q1(conn, "SELECT pg_current_wal_lsn()::text")[0]
    r = run(command, 32)
    m1 = B.scrape(st.http["sales"])
    wal = q1(conn, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", wal0)[0]
    conn.close()

    def delta(name):  # B.scrape sums a metric's labels
        return m1.get(name, 0.0) - m0.get(name, 0.0)
    cmds, runs_ = delta("crm_commands_total"), delta("crm_command_runs_total")
    r["set_based"] = mode != "0"
    r["wal_bytes_per_cmd"] = round(float(wal) / cmds) if cmds else None
    r["commands_per_set_statement"] = (round(delta("crm_command_run_works_total") / runs_, 1)
                                       if runs_ else None)
    B.log("%s, SALES_SET=%s: %s cmds/s, postgres %s ms CPU and %s WAL bytes each, %s commands"
          " a set statement" % (command, mode, r["cmds_per_s"], r["postgres_cpu_ms_per_cmd"],
                                r["wal_bytes_per_cmd"], r["commands_per_set_statement"]))
    return r


def bench_sales(bin_dir, workdir, args):
    st = Stack(bin_dir, workdir, args.log_level)
    runs, others, sizes, set_runs = [], [], [], []
    half = tickets = None

    def run(command, clients, rate=0, service="sales"):
        argv = [os.path.join(bin_dir, "crm-bench-commands"), "--endpoint",
                st.endpoints[service], "--server", service, "--command", command,
                "--clients", str(clients), "--seconds", str(args.sales_seconds),
                "--warmup", "1", "--metrics-port", str(st.http[service])]
        if rate:
            argv += ["--rate", str(rate)]
        try:
            res, cpu = B.run_json(argv, args.sales_seconds + 120, meter,
                                  (1.5, 1 + args.sales_seconds - 0.5))
        except RuntimeError as e:  # e.g. nothing acknowledged: say so, go on
            B.log("%s, %d clients: %s" % (command, clients, str(e)[:300]))
            return {"command": command, "clients": clients, "cmds_per_s": 0,
                    "error": str(e)[:1000]}
        svc = res.get("service") or {}
        r = {"command": command, "clients": clients, "cmds_per_s": res["cmds_per_s"],
             "p50_ms": res["client_rtt_ms"]["p50"], "p99_ms": res["client_rtt_ms"]["p99"],
             "max_ms": res["client_rtt_ms"]["max"], "failed": res["failed"],
             "timeouts": res["timeouts"], "first_error": res.get("first_error"),
             "mean_commands_per_transaction": svc.get("mean_commands_per_transaction"),
             "cpu_cores_busy": cpu,
             # what one command costs the cluster's backends, whatever the load
             "postgres_cpu_ms_per_cmd": round(1000.0 * cpu["postgres"] / res["cmds_per_s"], 3)
             if cpu and cpu.get("postgres") is not None and res["cmds_per_s"] else None}
        if rate:
            r["offered_per_s"] = rate
        B.log("%s, %d clients%s: %s cmds/s, p50 %.2f ms, p99 %.2f ms, postgres %s ms CPU each"
              % (command, clients, " at %d/s offered" % rate if rate else "", res["cmds_per_s"],
                 r["p50_ms"], r["p99_ms"], r["postgres_cpu_ms_per_cmd"]))
        return r

    try:
        for p in ("marketing", "support", "analytics"):
            st.start(p, "crm-probe")
        st.start("sales", "crm-sales", ("marketing", "support", "analytics"))
        preloaded = None
        if args.rows:  # long mode: the tables at that size before anything is measured
            pb = load_protos(bin_dir)
            rpc, conn = Rpc(st.ctx, st.endpoints["sales"], pb, "sales"), st.db("sales")
            preloaded = preload.preload_sales(conn, rpc, pb, args.rows)
            preloaded["lookup"] = sales_lookup_ms(conn)
            rpc.close()
            conn.close()
        meter = B.CpuMeter(st.cluster, list(st.procs.values()))
        pgbench = B.find_program(B.pg_bindir(), "pgbench")
        try:
            pg = B.bench_pgbench(st.cluster, pgbench, meter, workdir, 32,
                                 args.sales_seconds + 2)
            B.log("pgbench single-row INSERT, 32 clients (baseline): %.0f tps" % pg["tps"])
        except RuntimeError as e:  # the sales figures are still worth having
            B.log("pgbench baseline failed: %s" % str(e)[:300])
            pg = {"tps": None, "error": str(e)[:1000]}
        for clients in args.sales_clients:
            runs.append(run("sales.person.register", clients))
        # p99 at half of the ceiling the closed-loop runs reached.
        ceiling = max(r["cmds_per_s"] for r in runs) if runs else 0
        if ceiling:
            parts = {"queued": "crm_command_queued_seconds",
                     "batch": "crm_command_batch_seconds",
                     "receive_to_reply": "crm_command_accepted_seconds",
                     "batch_statements": "crm_command_batch_work_seconds",
                     "batch_commit": "crm_command_batch_commit_seconds"}
            h0 = {k: B.scrape_hist(st.http["sales"], n) for k, n in parts.items()}
            half = run("sales.person.register", 32, rate=max(1, ceiling // 2))
            # The service's own clock, in parts (ovl17): what its tail is made of.
            h1 = {k: B.scrape_hist(st.http["sales"], n) for k, n in parts.items()}
            half["service_parts_ms"] = {k: {"p50": B.hist_quantile(h0[k], h1[k], 0.5),
                                            "p99": B.hist_quantile(h0[k], h1[k], 0.99)}
                                        for k in parts}
            B.log("register at half its ceiling, in the service (p50 / p99 ms): %s" % ", ".join(
                "%s %s / %s" % (k, v["p50"], v["p99"])
                for k, v in half["service_parts_ms"].items()))
            half["ceiling_cmds_per_s"] = ceiling
            half["target_p99_ms"] = TARGET_SALES_P99_MS
            half["target_met"] = ("error" not in half and half["p99_ms"] < TARGET_SALES_P99_MS
                                  and not half["failed"])
        for command in ("sales.order.create", "sales.activity.log"):
            others.append(run(command, 32))
        # Issue 15, ninth session: register, order.create and activity.log
        # with their set-based forms off and on (SALES_SET), alternated on a restarted
        # crm-sales: PostgreSQL CPU, WAL bytes and the commands a set
        # statement held (statements a command), each pair in one run.
        for _ in range(getattr(args, "sales_set_pairs", 0)):
            for mode in ("0", "1"):
                st.procs.pop("sales").stop()
                st.start("sales", "crm-sales", ("marketing", "support", "analytics"),
                         {"SALES_SET": mode})
                meter = B.CpuMeter(st.cluster, list(st.procs.values()))
                for command in ("sales.person.register", "sales.order.create",
                                "sales.activity.log"):
                    set_runs.append(sales_set_run(st, run, command, mode))
        # The lookup must not slow down as people are added.
        conn = st.db("sales")
        for n in args.sales_preload:
            secs = sales_preload(conn, n)
            people = q1(conn, "SELECT count(*) FROM person")[0]
            B.log("sales: %d people in the table (pre-load %.1f s)" % (people, secs))
            size = {"people": people, "preload_s": secs, "lookup": sales_lookup_ms(conn)}
            size["register_32"] = run("sales.person.register", 32)
            B.log("sales at %d people: lookup %.3f ms (known email) / %.3f ms (new), register"
                  " at 32 clients %s/s, postgres %s ms CPU each; plan: %s"
                  % (people, size["lookup"]["known_ms"], size["lookup"]["new_ms"],
                     size["register_32"]["cmds_per_s"],
                     size["register_32"].get("postgres_cpu_ms_per_cmd"), size["lookup"]["plan"]))
            sizes.append(size)
        people = q1(conn, "SELECT count(*) FROM person")[0]
        conn.close()
        rss = st.rss_peak_mb()
        # support.ticket.open (a new requester each: support registers the
        # person with the ticket) through the real crm-support, last and
        # alone: crm-sales and the support probe are stopped first (sales
        # would otherwise apply support's person events in the same
        # cluster; its consumer of people waits for a sales that is gone),
        # and support gets a database of its own.
        for name in ("sales", "support"):
            st.procs.pop(name).stop()
        st.dbs["support"] = st.cluster.create_db("bench_support_tickets")
        st.start("support", "crm-support", ("sales", "marketing"))
        meter = B.CpuMeter(st.cluster, list(st.procs.values()))
        tickets = run("support.ticket.open", 32, service="support")
        # The same without its set-based form (SUPPORT_SET=0), on a fresh
        # database: the two forms' PostgreSQL CPU a ticket in one run.
        st.procs.pop("support").stop()
        st.dbs["support"] = st.cluster.create_db("bench_support_tickets_one")
        st.start("support", "crm-support", ("sales", "marketing"), env={"SUPPORT_SET": "0"})
        meter = B.CpuMeter(st.cluster, list(st.procs.values()))
        one = run("support.ticket.open", 32, service="support")
        tickets["one_at_a_time"] = {k: one.get(k) for k in (
            "cmds_per_s", "postgres_cpu_ms_per_cmd", "mean_commands_per_transaction", "error")}
        B.log("support.ticket.open, 32 clients: set-based %s/s (postgres %s ms CPU a ticket),"
              " one at a time %s/s (%s ms)" % (tickets["cmds_per_s"],
                                               tickets.get("postgres_cpu_ms_per_cmd"),
                                               one["cmds_per_s"], one.get("postgres_cpu_ms_per_cmd")))
    finally:
        st.close()
    at32 = next((r for r in runs if r["clients"] == 32), None)
    ratio = round(at32["cmds_per_s"] / pg["tps"], 3) if at32 and pg.get("tps") else None
    out = {"command": "sales.person.register (name, unique email, phone, country, owner)",
           "seconds_each": args.sales_seconds, "pgbench_single_row_tps": pg["tps"],
           "pgbench": pg, "runs": runs, "ratio_at_32_to_pgbench": ratio,
           "target_ratio": TARGET_SALES_RATIO,
           "target_ratio_met": ratio is not None and ratio >= TARGET_SALES_RATIO,
           "at_half_ceiling": half, "other_commands": others, "support_ticket_open": tickets,
           "set_based_pairs": set_runs,
           "table_sizes": sizes,
           "people_registered": people, "rss_peak": rss}
    if preloaded:
        out["preloaded"] = preloaded
    B.log("sales.person.register at 32 clients: %s/s against pgbench %s tps: ratio %s"
          " (target %.1f: %s)" % (at32 and at32["cmds_per_s"], pg["tps"], ratio,
                                  TARGET_SALES_RATIO,
                                  "met" if out["target_ratio_met"] else "not met"))
    if half and "error" not in half:
        B.log("sales.person.register at half its ceiling (%d of %d/s): p99 %.2f ms"
              " (target < %.0f ms: %s)" % (half["offered_per_s"], half["ceiling_cmds_per_s"],
                                           half["p99_ms"], TARGET_SALES_P99_MS,
                                           "met" if half["target_met"] else "not met"))
    return out


# ---- marketing ----------------------------------------------------------------

# crm-marketing's default MARKETING_SEND_BATCH (recipients decided per
# transaction), given explicitly so that the output says what ran.
MARKETING_SEND_BATCH = 1000

def bench_marketing(bin_dir, workdir, args):
    pb = load_protos(bin_dir)
    S, P, M = pb["sales_pb2"], pb["person_pb2"], pb["marketing_pb2"]
    E, T = pb["event_pb2"], pb["testing_pb2"]
    n = args.marketing_recipients
    st = Stack(bin_dir, workdir, args.log_level)
    try:
        for p in ("sales", "support", "analytics"):
            st.start(p, "crm-probe")
        # SMS opt-out, as before the consent ledger: the figure is sends
        # decided, and these people have recorded no consent.
        st.start("marketing", "crm-marketing", ("sales", "support"),
                 {"MARKETING_SEND_SCAN_MS": str(args.marketing_scan_ms),
                  "MARKETING_SEND_BATCH": str(MARKETING_SEND_BATCH),
                  "MARKETING_CHANNEL_POLICY": "sms=opt-out"})
        sales = Rpc(st.ctx, st.endpoints["sales"], pb, "sales")
        mk = Rpc(st.ctx, st.endpoints["marketing"], pb, "marketing")
        mdb = st.db("marketing")
        if args.rows:  # long mode: set-based in marketing's own tables
            ids = preload.marketing_people(st, sales, pb, n)
        else:
            ids = [str(uuid.uuid4()) for _ in range(n)]
            B.log("marketing: %d people registered through probe sales" % n)
            bodies = [T.ProbeEmitRequest(
                type="crm.sales.person.registered.v1", subject=pid,
                event=E.Event(person_registered=S.PersonRegistered(person=P.Person(
                    id=pid, name="Person %d" % i, phones=["+4915%08d" % i],
                    emails=["m%d@bench.example" % i]))).SerializeToString()).SerializeToString()
                for i, pid in enumerate(ids)]
            sales.pipeline("probe.emit", bodies)
            B.wait_for(lambda: q1(mdb, "SELECT count(*) FROM person")[0] >= n,
                       max(300, args.marketing_timeout), "marketing to know the %d people" % n)
        c = mk.call("marketing.campaign.create", M.CreateCampaignRequest(campaign=M.Campaign(
            name="Bench %s" % uuid.uuid4().hex[:8], channels=[M.CHANNEL_SMS],
            budget_minor=100000, currency="EUR", owner="Amy")), M.CampaignReply).campaign
        mk.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=M.CHANNEL_SMS, body="Hi {{name}}, news from {{owner}}")))
        if args.rows:
            preload.marketing_recipients(st, mk, pb, c.id, ids)
        else:
            for i in range(0, n, 1000):
                mk.call("marketing.campaign.target", M.TargetCampaignRequest(
                    campaign_id=c.id, customer_ids=ids[i:i + 1000]))
        head0 = q1(mdb, "SELECT head_seq FROM crm_stream")[0]
        wal0 = q1(mdb, "SELECT pg_current_wal_lsn()::text")[0]
        B.log("marketing: launching an SMS campaign to %d recipients" % n)
        cpu0 = st.cpu_seconds()
        t0 = time.monotonic()
        mk.call("marketing.campaign.launch", M.CampaignActionRequest(id=c.id))
        first = [0.0]

        # Polled every 20 ms, so cheap whatever the campaign's size: a
        # recipient leaves send_queue in the transaction that records its
        # send, which emits one send.decided. The queue is read only once
        # the stream's head has grown by n events: its index's first
        # entries are the decided recipients' dead ones until a vacuum, and
        # reading past them every 20 ms cost PostgreSQL 17 us a decision
        # at 100,000 recipients, counted in its CPU per decision.
        def decided():
            if not first[0] and q1(mdb, "SELECT EXISTS (SELECT 1 FROM send"
                                        " WHERE campaign_id = %s)", c.id)[0]:
                first[0] = time.monotonic() - t0
            if not first[0] or q1(mdb, "SELECT head_seq FROM crm_stream")[0] - head0 < n:
                return False
            return q1(mdb, "SELECT NOT EXISTS (SELECT 1 FROM send_queue"
                           " WHERE campaign_id = %s)", c.id)[0]
        B.wait_for(decided, args.marketing_timeout, "all %d recipients decided" % n)
        secs = time.monotonic() - t0
        cpu1 = st.cpu_seconds()
        # WAL written by the whole cluster meanwhile, per decision: what
        # each decision writes, whatever the load of the machine.
        wal = q1(mdb, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", wal0)[0]
        wal1 = q1(mdb, "SELECT pg_current_wal_lsn()::text")[0]
        cpu = {k: round(cpu1.get(k, 0) - cpu0.get(k, 0), 2) for k in cpu1}
        machine = cpu.pop("machine")
        cpu["others"] = round(max(0.0, machine - sum(cpu.values())), 2)
        by_status = dict(_rows(mdb, "SELECT status, count(*) FROM send WHERE campaign_id = %s"
                                    " GROUP BY status", c.id))
        deliveries = q1(mdb, "SELECT count(*) FROM delivery WHERE campaign_id = %s", c.id)[0]
        events = q1(mdb, "SELECT head_seq FROM crm_stream")[0] - head0
        scanning = max(secs - first[0], 1e-3)
        out = {"recipients": n, "channel": "sms (recorded for a gateway, no SMTP)",
               "scan_batch": MARKETING_SEND_BATCH, "send_scan_ms": args.marketing_scan_ms,
               "seconds_launch_to_all_decided": round(secs, 2),
               "seconds_launch_to_first_decision": round(first[0], 2),
               "recipients_decided_per_s": round(n / secs),
               # From the first decision on: the scan's own rate, without
               # the wait for the first scan after the launch.
               "decided_per_s_after_first": round(n / scanning),
               "sends_by_status": {str(k): v for k, v in by_status.items()},
               "deliveries_recorded": deliveries, "events_published": events,
               # CPU from the launch until all decided (the relay publishing
               # the events meanwhile included), per decision: what the
               # load of the machine does not change much.
               "cpu_seconds": cpu,
               "postgres_cpu_ms_per_decision": round(cpu["postgres"] * 1000 / n, 4),
               "marketing_cpu_ms_per_decision": round(cpu["marketing"] * 1000 / n, 4),
               "wal_bytes_per_decision": round(float(wal) / n)}
        B.log("marketing: %d decided in %.2f s = %.0f/s, %.0f/s after the first decision;"
              " CPU ms per decision: postgres %.4f, marketing %.4f; WAL %d bytes per decision"
              " (target %d: %s)" % (
                  n, secs, n / secs, n / scanning, out["postgres_cpu_ms_per_decision"],
                  out["marketing_cpu_ms_per_decision"], out["wal_bytes_per_decision"],
                  TARGET_DECISIONS,
                  "met" if n / secs >= TARGET_DECISIONS else "not met"))
        out["wal_by_relation"] = _wal_by_relation(mdb, wal0, wal1, n)
        if "error" not in out["wal_by_relation"]:
            B.log("marketing: WAL bytes per decision by relation: %s" % ", ".join(
                "%s %d" % (k, v["bytes"]) for k, v in out["wal_by_relation"].items()))
        out["target_decided_per_s"] = TARGET_DECISIONS
        out["target_met"] = n / secs >= TARGET_DECISIONS
        out["rss_peak"] = st.rss_peak_mb()
        sales.close()
        mk.close()
    finally:
        st.close()
    return out


def _rows(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _wal_by_relation(conn, lsn0, lsn1, n):
    """Who wrote the WAL between two LSNs, per decision: bytes of records
    (full-page images apart) by the relation of their first block, from
    pg_walinspect (PostgreSQL 15's contrib), read after the clock stopped.
    Records with no block (commits) are named by their resource manager;
    a relation of another database of the cluster is "other database"."""
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        rows = _rows(conn,
                     "SELECT CASE WHEN w.db IS NULL THEN w.resource_manager"
                     "  WHEN w.db::oid <> d.oid THEN 'other database'"
                     "  ELSE COALESCE(c.relname, 'relfilenode ' || w.rel) END,"
                     " count(*), sum(w.record_length), sum(w.fpi_length)"
                     " FROM (SELECT resource_manager, record_length, fpi_length,"
                     "  (regexp_match(block_ref, 'rel \\d+/(\\d+)/(\\d+)'))[1] AS db,"
                     "  (regexp_match(block_ref, 'rel \\d+/(\\d+)/(\\d+)'))[2] AS rel"
                     "  FROM pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn)) w"
                     " CROSS JOIN (SELECT oid FROM pg_database"
                     "  WHERE datname = current_database()) d"
                     " LEFT JOIN pg_class c ON c.relfilenode = w.rel::oid"
                     "  AND w.db::oid = d.oid"
                     " GROUP BY 1 ORDER BY 3 DESC", lsn0, lsn1)
    except Exception as e:  # no pg_walinspect: the figure is optional
        return {"error": str(e).strip()[:200]}
    # The relations that write at least a byte a decision (the catalog's
    # few records of the run are noise).
    return {name: {"records": round(recs / n, 2), "bytes": round(float(b) / n),
                   "fpi_bytes": round(float(f) / n)} for name, recs, b, f in rows
            if float(b) / n >= 1}


def bench_bridge(bin_dir, workdir, args):
    """Events per second crm-bridge-nats puts into JetStream (acknowledged
    and its position committed), from a backlog of the four sources (probes
    named after the services) into a fresh nats-server -js on loopback.
    bench.py prints it beside the bus's messages per second."""
    nats = shutil.which("nats-server")
    if not nats:
        return {"skipped": "nats-server is not installed (tools/install-deps.sh)"}
    pb = load_protos(bin_dir)
    st = Stack(bin_dir, workdir, args.log_level)
    sources = ("sales", "marketing", "support", "analytics")
    out = {}
    try:
        per = max(1, args.bridge_events // len(sources))
        B.log("bridge: pre-loading %d events into each of %s" % (per, ", ".join(sources)))
        for s in sources:
            st.start(s, "crm-probe")
            c = Rpc(st.ctx, st.endpoints[s], pb, s)
            left = per
            while left:
                n = min(left, 5000)
                c.call("probe.record", pb["testing_pb2"].ProbeRecordRequest(count=n, label="b"),
                       timeout=120)
                left -= n
            c.close()
        port = B.free_port()
        store = os.path.join(workdir, "nats-store")
        st.procs["nats"] = B.Proc("nats", [nats, "-js", "-sd", store, "-a", "127.0.0.1",
                                           "-p", str(port)], {}, workdir)
        st.procs["nats"].wait_line("Server is ready")
        url = "nats://127.0.0.1:%d" % port
        st.endpoints["bridge"] = "tcp://127.0.0.1:%d" % B.free_port()
        cpu0 = st.cpu_seconds()
        t0 = time.monotonic()
        st.start("bridge", "crm-bridge-nats", sources, {"CRM_NATS_URL": url})
        conn = st.db("bridge")

        def caught_up():
            pos = positions(conn)
            return all(pos.get("bridge." + s, 0) >= per for s in sources)
        B.wait_for(caught_up, args.bridge_timeout, "the bridge to publish the backlog")
        secs = time.monotonic() - t0
        cpu1 = st.cpu_seconds()
        cpu = {k: round(cpu1.get(k, 0) - cpu0.get(k, 0), 2) for k in cpu1}
        machine = cpu.pop("machine")
        cpu["others"] = round(max(0.0, machine - sum(cpu.values())), 2)
        total = per * len(sources)
        r = subprocess.run([os.path.join(bin_dir, "crm-nats-read"), "dump", url, "CRM"],
                           capture_output=True, text=True, timeout=600)
        last = r.stdout.rstrip().rsplit("\n", 1)[-1] if r.returncode == 0 else ""
        in_stream = int(last.split()[1]) if last.startswith("end ") else None
        out = {
            "events": total,
            "sources": len(sources),
            "seconds_from_start_to_lag_0": round(secs, 2),
            "events_per_s": round(total / secs),
            "messages_in_stream": in_stream,
            "storage": "file, one nats-server on loopback, replicas 1",
            "cpu_seconds": cpu,
        }
        B.log("bridge: %d events into JetStream in %.2f s = %.0f events/s" % (
            total, secs, total / secs))
    finally:
        st.close()
    return out


WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def bench_webhooks(bin_dir, workdir, args):
    """Webhook deliveries per second from crm-webhooks to a local receiver
    (bench/webhook_sink.py, which checks every signature), from a backlog:
    S subscriptions to crm.sales., N events recorded while crm-webhooks is
    down, then the time from its start until all N x S deliveries are
    marked delivered. Beside it, the baseline of the same run: the same
    number of POSTs of the same body to the same receiver by curl's own
    parallel transfers (libcurl multi), S at a time, without the service."""
    pb = load_protos(bin_dir)
    from crm.v1 import webhooks_pb2 as wh
    st = Stack(bin_dir, workdir, args.log_level)
    sources = ("sales", "marketing", "support", "analytics")
    n, subs = args.webhooks_events, args.webhooks_subscriptions
    out = {}
    try:
        for s in sources:
            st.start(s, "crm-probe")
        sink = B.Proc("sink", [sys.executable, os.path.join(os.path.dirname(__file__),
                                                            "webhook_sink.py"), "0",
                               WEBHOOK_SECRET], {}, workdir)
        st.procs["sink"] = sink
        sink.wait_line("listening")
        port = int(sink.text().split("listening ")[1].split()[0])
        url = "http://127.0.0.1:%d/hooks" % port
        st.endpoints["webhooks"] = "tcp://127.0.0.1:%d" % B.free_port()
        env = {"CRM_WEBHOOK_MAX_IN_FLIGHT": str(max(64, subs))}
        p = st.start("webhooks", "crm-webhooks", sources, env)
        c = Rpc(st.ctx, st.endpoints["webhooks"], pb, "webhooks")
        for _ in range(subs):
            c.call("webhooks.subscription.create", wh.CreateWebhookSubscriptionRequest(
                url=url, event_types=["crm.sales."], secret=WEBHOOK_SECRET))
        c.close()
        p.stop()  # the backlog builds up while it is down
        B.log("webhooks: pre-loading %d events for %d subscriptions" % (n, subs))
        c = Rpc(st.ctx, st.endpoints["sales"], pb, "sales")
        left = n
        while left:
            k = min(left, 5000)
            c.call("probe.record", pb["testing_pb2"].ProbeRecordRequest(count=k, label="w"),
                   timeout=120)
            left -= k
        c.close()
        conn = st.db("webhooks")
        cpu0 = st.cpu_seconds()
        t0 = time.monotonic()
        st.start("webhooks", "crm-webhooks", sources, env)

        def delivered():
            return q1(conn, "SELECT count(*) FROM wh_delivery WHERE status = 3")[0]
        B.wait_for(lambda: delivered() >= n * subs, args.webhooks_timeout,
                   "crm-webhooks to deliver the backlog")
        secs = time.monotonic() - t0
        cpu1 = st.cpu_seconds()
        cpu = {k: round(cpu1.get(k, 0) - cpu0.get(k, 0), 2) for k in cpu1}
        machine = cpu.pop("machine")
        cpu["others"] = round(max(0.0, machine - sum(cpu.values())), 2)
        counts = json.loads(subprocess.run(["curl", "-s", "http://127.0.0.1:%d/_count" % port],
                                           capture_output=True, text=True, timeout=30).stdout)
        body = q1(conn, "SELECT body FROM wh_delivery LIMIT 1")[0]
        total = n * subs
        # The baseline: curl's parallel transfers (libcurl multi) of the same
        # POSTs, `subs` at a time, no service, no database, no signing.
        body_path = os.path.join(workdir, "webhook-body.json")
        with open(body_path, "w") as f:
            f.write(body)
        cfg = os.path.join(workdir, "webhook-curl.cfg")
        with open(cfg, "w") as f:
            for i in range(total):
                f.write('url = "%s"\ndata-binary = "@%s"\noutput = "/dev/null"\n'
                        'header = "Content-Type: application/cloudevents+json"\n%s'
                        % (url, body_path, "next\n" if i < total - 1 else ""))
        t1 = time.monotonic()
        r = subprocess.run(["curl", "-s", "--parallel", "--parallel-max", str(subs), "-K", cfg],
                           capture_output=True, text=True, timeout=args.webhooks_timeout)
        base_secs = time.monotonic() - t1
        out = {
            "events": n,
            "subscriptions": subs,
            "deliveries": total,
            "seconds_from_start_to_all_delivered": round(secs, 2),
            "deliveries_per_s": round(total / secs),
            "receiver": {"requests": counts["requests"], "bad_signatures":
                         counts["bad_signatures"]},
            "body_bytes": len(body.encode()),
            "baseline": {
                "what": "curl --parallel (libcurl multi), %d at a time, same receiver and body,"
                        " without the service" % subs,
                "posts": total,
                "exit": r.returncode,
                "posts_per_s": round(total / base_secs),
            },
            "cpu_seconds": cpu,
        }
        out["ratio_to_baseline"] = round(out["deliveries_per_s"] /
                                         max(1, out["baseline"]["posts_per_s"]), 3)
        B.log("webhooks: %d deliveries in %.2f s = %.0f/s (curl multi baseline %.0f/s)" % (
            total, secs, total / secs, total / base_secs))
    finally:
        st.close()
    return out
# ---- api ----------------------------------------------------------------------

def bench_api(bin_dir, workdir, args):
    st = Stack(bin_dir, workdir, args.log_level)
    try:
        for p in ("marketing", "support", "analytics"):
            st.start(p, "crm-probe")
        st.start("sales", "crm-sales", ("marketing", "support", "analytics"))
        api_port = B.free_port()
        st.start("api", "crm-api", ("sales",), {
            "API_PORT": str(api_port), "API_RATE_PER_SECOND": "1000000",
            "API_RATE_BURST": "1000000", "API_SECURE_COOKIE": "false"})
        env = dict(os.environ, **B.KEYS.env("bench"), CRM_SERVICES="api=" + st.endpoints["api"])
        token = subprocess.run([os.path.join(bin_dir, "crmctl"), "token", "create", "bench",
                                "--label", "bench"], env=env, check=True, capture_output=True,
                               text=True, timeout=60).stdout.strip()
        meter = B.CpuMeter(st.cluster, list(st.procs.values()))
        secs = args.api_seconds

        def sales_view(m0, m1):
            """Where the time goes, from crm-sales' /metrics over a run:
            commands per transaction, and receive to reply as sales saw it
            (so the rest of a round trip is outside sales)."""
            d = {k: m1.get(k, 0) - m0.get(k, 0) for k in (
                "crm_commands_total", "crm_batches_total", "crm_command_latency_seconds_sum",
                "crm_command_latency_seconds_count")}
            return {"mean_commands_per_transaction": round(
                d["crm_commands_total"] / d["crm_batches_total"], 1)
                if d["crm_batches_total"] else None,
                "mean_receive_to_reply_ms": round(
                    1000 * d["crm_command_latency_seconds_sum"]
                    / d["crm_command_latency_seconds_count"], 2)
                if d["crm_command_latency_seconds_count"] else None}

        def native_run():
            res, cpu = B.run_json(
                [os.path.join(bin_dir, "crm-bench-commands"), "--endpoint",
                 st.endpoints["sales"], "--server", "sales", "--command", "sales.person.register",
                 "--clients", str(args.api_clients), "--seconds", str(secs), "--warmup", "1"],
                secs + 120, meter, (1.5, 1 + secs - 0.5))
            return {"per_s": res["cmds_per_s"], "p50_ms": res["client_rtt_ms"]["p50"],
                    "p99_ms": res["client_rtt_ms"]["p99"], "failed": res["failed"],
                    "cpu_cores_busy": cpu}

        def http_run():
            res, cpu = B.run_json(
                [os.path.join(bin_dir, "crm-bench-http"), "--port", str(api_port),
                 "--clients", str(args.api_clients), "--seconds", str(secs), "--warmup", "1"],
                secs + 120, meter, (1.5, 1 + secs - 0.5),
                env=dict(B.KEYS.env("bench"), BENCH_API_TOKEN=token))
            return {"per_s": res["requests_per_s"], "p50_ms": res["rtt_ms"]["p50"],
                    "p99_ms": res["rtt_ms"]["p99"], "failed": res["failed"],
                    "first_error": res.get("first_error"), "cpu_cores_busy": cpu}

        # Native and HTTP runs alternate, A B B A ..., so that a machine
        # getting busier or quieter during the part (and the person table
        # growing) weighs on both alike rather than on whichever runs second.
        runs = {"native": [], "http": []}
        rounds = max(1, args.api_rounds)
        for r in range(rounds):
            for kind in (("native", "http") if r % 2 == 0 else ("http", "native")):
                m0 = B.scrape(st.http["sales"])
                out = native_run() if kind == "native" else http_run()
                out["in_sales"] = sales_view(m0, B.scrape(st.http["sales"]))
                out["round"] = r + 1
                runs[kind].append(out)
                B.log("round %d, %s, %d clients: %s/s, p50 %s ms; in sales: %s" % (
                    r + 1, "sales.person.register native" if kind == "native"
                    else "POST /v1/people", args.api_clients, out["per_s"], out["p50_ms"],
                    out["in_sales"]))
        native_rate = statistics.mean(x["per_s"] for x in runs["native"])
        http_rate = statistics.mean(x["per_s"] for x in runs["http"])
        ratio = http_rate / native_rate if native_rate else None
        B.log("POST /v1/people, %d clients: %.1f requests/s against %.1f native cmds/s"
              " (means of %d rounds); ratio %s (target >= 0.8)"
              % (args.api_clients, http_rate, native_rate, rounds,
                 "%.2f" % ratio if ratio is not None else "?"))
    finally:
        st.close()
    first_error = next((x["first_error"] for x in runs["http"] if x["first_error"]), None)
    return {"clients": args.api_clients, "seconds_each": secs, "rounds": rounds,
            "native_cmds_per_s": round(native_rate, 1),
            "native_p50_ms": statistics.median(x["p50_ms"] for x in runs["native"]),
            "native_failed": sum(x["failed"] for x in runs["native"]),
            "native_cpu_cores_busy": runs["native"][0]["cpu_cores_busy"],
            "http_requests_per_s": round(http_rate, 1),
            "http_p50_ms": statistics.median(x["p50_ms"] for x in runs["http"]),
            "http_p99_ms": statistics.median(x["p99_ms"] for x in runs["http"]),
            "http_failed": sum(x["failed"] for x in runs["http"]),
            "http_first_error": first_error,
            "http_cpu_cores_busy": runs["http"][0]["cpu_cores_busy"],
            "runs": runs,
            "ratio": round(ratio, 3) if ratio is not None else None, "target_ratio": 0.8,
            "target_met": ratio is not None and ratio >= 0.8}
