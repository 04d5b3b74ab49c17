"""What the service benchmarks' parts (services.py) share: the protos, the
RPC client with retry hints, the stack of cluster, bus and services, and
the issue's targets.

Unlike bench.py this needs what the integration tests need: Debian's
python3 with python3-zmq, python3-protobuf and python3-psycopg2, and the
Python protos the build generates (build/gen/py). It reuses bench.py's
cluster, processes and helpers; nothing here asserts a timing."""
import heapq
import os
import sys
import time
import uuid

import bench as B

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
        out = {"postgres": B.pg_cpu_seconds(meter._pg_pids())}
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


# ---- status codes and the targets ------------------------------------

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


def positions(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT consumer, seq FROM crm_consumer_position")
        return dict(cur.fetchall())
