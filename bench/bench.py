"""Benchmark driver: sets up what each benchmark needs, runs the C programs
and prints one JSON document with every figure beside its baseline.

Run it through bench/run.sh. Progress goes to stderr, the document to
stdout. Nothing here judges a figure: each target is reported with whether
it was met, and the exit status only says whether the suite could run.

The backbone parts (bus, commands, latency) need only the Python standard
library, the PostgreSQL 15 server programs (initdb, pg_ctl, pgbench, psql)
and the binaries of the build; the service parts (analytics, sales,
marketing: services.py, imported only when asked for) also need
python3-zmq, python3-psycopg2 and the build's Python protos. The peers
(pgbench's 100-row ceiling, NATS JetStream) are in peers.py, the final
summary of every figure with its target in summary.py, the latency and
overload parts in latency.py. With --rows (or
--long) the suite runs once per table size, each part's function getting
the size as args.rows."""
import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import pgtemplate  # noqa: E402  (tools/pgtemplate.py)

# What the brief asks of each figure; reported, never asserted.
TARGET_BUS_RATIO = 0.8
TARGET_COMMANDS_RATIO = 4.0
TARGET_P99_MS = 20.0

# Same settings as the integration tests' cluster (tests/integration/crmtest.py),
# so the durable figures are measured under the settings the tests run with.
PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "fsync": "on",
    "synchronous_commit": "on",
    "shared_buffers": "64MB",
}

# How the services, pgbench and the bench's own clients reach the throwaway
# cluster (--pg-transport): "tcp" on 127.0.0.1, or "unix", the socket in the
# cluster's directory. Both ends of every ratio use the same one.
PG_TRANSPORT = "tcp"


def log(msg):
    print("[bench] %s" % msg, file=sys.stderr, flush=True)


_PORTS_GIVEN = set()


def free_port():
    """A port free a moment ago, for a part that must know another's port
    before it starts. It is picked at random below the kernel's ephemeral
    range: a port the kernel handed out for port 0 lies inside that range,
    where any outgoing connection on the machine may take it before the
    part binds it ("Address already in use" in test_bench_smoke while
    other tests ran beside it). No port is given twice by one run."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    pick = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(500):
        port = pick.randint(10000, max(10001, ephemeral - 1))
        if port in _PORTS_GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        return port
    raise RuntimeError("no free port below %d" % ephemeral)


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError("timed out after %ss waiting for %s" % (timeout, what))


def pg_bindir():
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    except OSError:
        out = ""
    for d in (out, "/usr/lib/postgresql/15/bin"):
        if d and os.path.exists(os.path.join(d, "initdb")):
            return d
    raise RuntimeError("PostgreSQL server programs (initdb) not found; install postgresql-15")


def find_program(bindir, name):
    p = os.path.join(bindir, name)
    if os.path.exists(p):
        return p
    p = shutil.which(name)
    if not p:
        raise RuntimeError("%s not found (in %s or on PATH)" % (name, bindir))
    return p


class Keys:
    """Every link is CURVE, as in production: a keypair per process (made
    by crm-keys) and the directory of principals listing them. "bench" is
    the staff principal the benchmark clients act as; the bus benchmark's
    publisher holds "sales", whose topics it sends on."""

    NAMES = (("bus", "service"), ("sales", "service"), ("marketing", "service"),
             ("support", "service"), ("analytics", "service"), ("probe", "service"),
             ("bridge", "service"), ("bench", "staff"), ("webhooks", "service"),
             ("api", "gateway"))

    def __init__(self, bin_dir, workdir):
        self.dir = os.path.join(workdir, "keys")
        os.mkdir(self.dir, 0o700)
        self.directory = os.path.join(self.dir, "directory")
        lines = []
        for name, kind in self.NAMES:
            pub = subprocess.run([os.path.join(bin_dir, "crm-keys"), "new", name, "--dir", self.dir],
                                 check=True, capture_output=True, text=True).stdout.strip()
            lines.append("%s %s %s - %s\n" % (pub, name, kind, "admin" if kind == "staff" else
                                                        "gateway" if kind == "gateway" else "-"))
        with open(self.directory, "w") as f:
            f.writelines(lines)

    def key_file(self, name):
        return os.path.join(self.dir, name + ".key")

    def env(self, name):
        """The settings of a process holding `name`'s key."""
        return {"CRM_KEY_FILE": self.key_file(name), "CRM_DIRECTORY_FILE": self.directory}


KEYS = None  # made by main() in the work directory
BUILD_DIR = None  # the build tree (main()): where the initdb template is kept
latency = peers = summary = None  # the driver's other modules, imported by main()


class Proc:
    """A process of ours whose output goes to a log file we can wait on."""

    def __init__(self, name, argv, env, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, "%s.log" % name)
        self.log = open(self.log_path, "ab")
        self.offset = self.log.tell()
        self.p = subprocess.Popen(argv, env=dict(os.environ, **env), stdout=self.log,
                                  stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    def wait_line(self, line, timeout=30):
        def seen():
            if self.p.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.p.returncode,
                                                                 self.text()[-2000:]))
            return line in self.text()
        wait_for(seen, timeout, "%s to log %s" % (self.name, line))
        return self

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


class Cluster:
    """A throwaway PostgreSQL cluster on a free port (initdb refuses root:
    as root it runs as the postgres user, like the integration tests)."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="crm-bench-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.run_as = "postgres" if os.geteuid() == 0 else None
        if self.run_as:
            shutil.chown(self.dir, self.run_as)
        # A copy of a per-build initdb template (tools/pgtemplate.py): the
        # same files initdb writes, without its seconds per part.
        pgtemplate.new_data_dir(bindir, self.run_as, BUILD_DIR, self.data)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            for k, v in PG_SETTINGS.items():
                f.write("%s = %s\n" % (k, v))
            f.write("port = %d\nunix_socket_directories = '%s'\n" % (self.port, self.dir))
        self._run([os.path.join(bindir, "pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.dir, "pg.log"), "-w", "start"])
        self.psql = find_program(bindir, "psql")

    def _run(self, cmd, check=True):
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
        return r

    @property
    def host(self):
        """libpq's host for PG_TRANSPORT: 127.0.0.1, or the socket's
        directory (mkdtemp's short path, far below the 107-byte limit)."""
        return self.dir if PG_TRANSPORT == "unix" else "127.0.0.1"

    def url(self, db="postgres"):
        return "host=%s port=%d user=crm dbname=%s" % (self.host, self.port, db)

    def sql(self, db, statement):
        r = subprocess.run([self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                            self.url(db), "-c", statement], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.strip())
        return r.stdout.strip()

    def create_db(self, name):
        self.sql("postgres", 'CREATE DATABASE "%s"' % name)
        return name

    def fdatasync_per_s(self, seconds=1.0):
        """8 kB write + fdatasync per operation, as a WAL flush does, on the
        cluster's file system: the ceiling of one-commit-per-flush."""
        path = os.path.join(self.dir, "fsync-probe")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        buf = b"\0" * 8192
        n, t0 = 0, time.monotonic()
        try:
            while time.monotonic() - t0 < seconds:
                os.pwrite(fd, buf, 0)
                os.fdatasync(fd)
                n += 1
        finally:
            os.close(fd)
            os.unlink(path)
        return round(n / (time.monotonic() - t0))

    def destroy(self):
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                   "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def proc_cpu_seconds(pid):
    """utime + stime of a process, or 0 when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def pg_cpu_seconds(pids):
    """CPU seconds a cluster has used so far: its live processes (`pids`,
    the postmaster first, as CpuMeter._pg_pids lists them) and the children
    that have ended, which the postmaster has reaped (its cutime + cstime).
    A difference of two readings thus counts a backend, a parallel worker or
    an autovacuum worker that ended inside the window, whose time a sum over
    the live processes alone lost: the marketing part at 100,000 recipients
    showed half the cluster's CPU as "others" that way (twelfth session)."""
    total = sum(proc_cpu_seconds(pid) for pid in pids)
    if pids:
        try:
            with open("/proc/%d/stat" % pids[0]) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


class CpuMeter:
    """CPU time used in a window of a run, in cores busy: the services, the
    cluster's backends (children of its postmaster only, so other clusters
    on the machine do not count) and the client program. Sampled from /proc
    while everything is still running, so backends that end with the client
    are counted too."""

    def __init__(self, cluster, procs):
        self.cluster, self.procs = cluster, procs

    def _pg_pids(self):
        try:
            with open(os.path.join(self.cluster.data, "postmaster.pid")) as f:
                master = int(f.readline())
        except (OSError, ValueError):
            return []
        pids = [master]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                            pids.append(int(d))
                except (OSError, IndexError, ValueError):
                    pass
        return pids

    @staticmethod
    def _machine_busy_seconds():
        """CPU time the whole machine spent busy (all CPUs, not idle/iowait)."""
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return 0.0
        return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")

    def _sample(self, client_pid):
        s = {p.name: proc_cpu_seconds(p.p.pid) for p in self.procs}
        s["machine"] = self._machine_busy_seconds()
        s["client"] = proc_cpu_seconds(client_pid)
        s[("pg",)] = pg_cpu_seconds(self._pg_pids())
        return s

    def measure(self, popen, start_s, end_s):
        """Samples `popen`'s run between start_s and end_s after now."""
        t = time.monotonic()
        time.sleep(start_s)
        t0, s0 = time.monotonic(), self._sample(popen.pid)
        time.sleep(max(0.1, end_s - (time.monotonic() - t)))
        t1, s1 = time.monotonic(), self._sample(popen.pid)
        wall = t1 - t0
        out = {"postgres": 0.0}
        for k, v in s1.items():
            used = (v - s0.get(k, 0.0)) / wall
            if isinstance(k, tuple):
                out["postgres"] += used
            else:
                out[k] = round(used, 2)
        out["postgres"] = round(out["postgres"], 2)
        machine = out.pop("machine")
        out["total"] = round(sum(out.values()), 2)
        # Whatever else ran on the machine meanwhile (builds, other tests):
        # a large figure here means the run was disturbed.
        out["others"] = round(max(0.0, machine - out["total"]), 2)
        out["window_s"] = round(wall, 1)
        return out


def run_json(argv, timeout, meter=None, window=None, env=None):
    """Runs a benchmark program; its stderr passes through, its stdout is
    JSON. With a CpuMeter, CPU use is sampled in `window` (seconds after the
    start) and returned beside the result. `env` (default: the "bench"
    staff key's settings) is laid over the environment."""
    log("$ " + " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv)))
    if env is None and KEYS is not None:
        env = KEYS.env("bench")
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=None, text=True,
                         env=dict(os.environ, **(env or {})))
    cpu = None
    try:
        if meter:
            cpu = meter.measure(p, *window)
        out, _ = p.communicate(timeout=timeout)
    except BaseException:
        p.kill()
        p.wait()
        raise
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError("%s failed (exit %s): %s" % (argv[0], p.returncode, out[-500:]))
    res = json.loads(lines[-1])
    return (res, cpu) if meter else res


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name = re.split(r"[{ ]", line, 1)[0]
        out[name] = out.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def scrape_hist(port, name):
    """The cumulative buckets of histogram `name` on /metrics, summed over
    its other labels: [(upper bound, count)], +Inf last."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line.startswith(name + "_bucket{"):
            continue
        le = re.search(r'le="([^"]+)"', line).group(1)
        b = float("inf") if le == "+Inf" else float(le)
        out[b] = out.get(b, 0.0) + float(line.rsplit(" ", 1)[1])
    return sorted(out.items())


def hist_quantile(h0, h1, q):
    """The q-quantile in ms of what histogram h1 (scrape_hist) counted
    since h0, interpolated within its bucket as Prometheus does; None
    without observations. Past the last finite bound: that bound."""
    before = dict(h0)
    d = [(b, c - before.get(b, 0.0)) for b, c in h1]
    if not d or d[-1][1] <= 0:
        return None
    rank, lo, prev = q * d[-1][1], 0.0, 0.0
    for b, c in d:
        if c >= rank:
            if b == float("inf"):
                return round(1000 * lo, 1)
            return round(1000 * (lo + (b - lo) * (rank - prev) / max(c - prev, 1e-9)), 1)
        lo, prev = b, c
    return None


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": platform.release(), "arch": platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            if m:
                info["cpu"] = m.group(1).strip()
        with open("/proc/meminfo") as f:
            m = re.search(r"^MemTotal:\s*(\d+)", f.read(), re.M)
            if m:
                info["mem_gib"] = round(int(m.group(1)) / 1048576, 1)
        info["loadavg_at_start"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return info


# ---- 1. bus throughput --------------------------------------------------------

def bench_bus(bin_dir, workdir, args):
    hwm = "100000"  # crm-bus's default CRM_BUS_HWM, given to both proxies
    runs = {"crm-bus": [], "raw": []}
    for rep in range(args.bus_runs):
        for which in ("crm-bus", "raw"):
            xsub, xpub = "tcp://127.0.0.1:%d" % free_port(), "tcp://127.0.0.1:%d" % free_port()
            if which == "crm-bus":
                proc = Proc("bus-%d" % rep, [os.path.join(bin_dir, "crm-bus")],
                            dict(KEYS.env("bus"), CRM_BUS_XSUB_BIND=xsub, CRM_BUS_XPUB_BIND=xpub,
                                 CRM_HTTP_PORT="0", CRM_BUS_HWM=hwm, CRM_LOG_LEVEL="info"), workdir)
                proc.wait_line('"event":"bus.ready"')
            else:
                proc = Proc("rawproxy-%d" % rep, [os.path.join(bin_dir, "crm-bench-proxy"),
                                                  "--xsub", xsub, "--xpub", xpub, "--hwm", hwm],
                            KEYS.env("bus"), workdir)  # CURVE with the bus's key, no ZAP
                proc.wait_line('"event":"proxy.ready"')
            try:
                runs[which].append(run_json(
                    [os.path.join(bin_dir, "crm-bench-bus"), "--pub", xsub, "--sub", xpub,
                     "--count", str(args.bus_count), "--seconds", str(args.bus_seconds),
                     "--size", "200", "--name", which], timeout=args.bus_seconds + 60,
                    env=KEYS.env("sales")))
            finally:
                proc.stop()

    def median(which):
        return statistics.median(r["msgs_per_s"] for r in runs[which])

    crm, raw = median("crm-bus"), median("raw")
    ratio = crm / raw if raw else 0
    log("bus, CURVE on both: crm-bus %.0f msgs/s, raw zmq_proxy %.0f msgs/s: ratio %.2f"
        " (target %.1f)" % (crm, raw, ratio, TARGET_BUS_RATIO))
    return {
        "event_bytes": 200,
        "topic": runs["raw"][0]["topic"],
        "transport": "tcp on loopback; each proxy in its own process",
        "security": "CURVE on both proxies' sides (crm-bus also runs its ZAP handler and "
                    "publisher checks; the raw proxy has the bus's key and no ZAP)",
        "runs_each": args.bus_runs,
        "libzmq": runs["raw"][0].get("libzmq"),
        "crm_bus_msgs_per_s": round(crm),
        "raw_libzmq_proxy_msgs_per_s": round(raw),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_BUS_RATIO,
        "target_met": ratio >= TARGET_BUS_RATIO,
        "drops": {w: sum(r["drops"] + r["gaps"] for r in runs[w]) for w in runs},
        "runs_msgs_per_s": {w: [r["msgs_per_s"] for r in runs[w]] for w in runs},
    }


# ---- 2. durable commands --------------------------------------------------------

PGBENCH_TABLE = """CREATE TABLE bench_single (
    serial     bigserial   PRIMARY KEY,
    label      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())"""


def bench_pgbench(cluster, pgbench, meter, workdir, clients, seconds):
    db = cluster.create_db("bench_pgbench")
    cluster.sql(db, PGBENCH_TABLE)  # the shape of the probe's own table
    script = os.path.join(workdir, "single_row.sql")
    with open(script, "w") as f:
        f.write("INSERT INTO bench_single (label) VALUES ('bench');\n")
    argv = [pgbench, "-h", cluster.host, "-p", str(cluster.port), "-U", "crm", "-n",
            "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", script, db]
    log("$ pgbench " + " ".join(argv[1:]))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cpu = meter.measure(p, 1.0, seconds - 0.5)
        out, err = p.communicate(timeout=seconds + 120)
    except BaseException:
        p.kill()
        p.wait()
        raise
    if p.returncode != 0:
        raise RuntimeError("pgbench failed: %s" % err.strip()[-1000:])
    tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", out, re.M)
    lat = re.search(r"^latency average = ([\d.]+) ms", out, re.M)
    n = re.search(r"^number of transactions actually processed: (\d+)", out, re.M)
    if not tps:
        raise RuntimeError("could not read pgbench's output:\n%s" % out)
    rows = int(cluster.sql(db, "SELECT count(*) FROM bench_single"))
    return {"tps": round(float(tps.group(1))),
            "latency_avg_ms": float(lat.group(1)) if lat else None,
            "transactions": int(n.group(1)) if n else None, "rows_in_table": rows,
            "cpu_cores_busy": cpu,
            "transport": PG_TRANSPORT,
            "argv": "pgbench -n -c %d -j 2 -T %d -f single_row.sql" % (clients, seconds)}


def run_commands(bin_dir, probe, meter, clients, seconds, env=None):
    argv = [os.path.join(bin_dir, "crm-bench-commands"), "--endpoint", probe.endpoint,
            "--clients", str(clients), "--seconds", str(seconds), "--warmup", "1",
            "--count", "1", "--metrics-port", str(probe.http_port)]
    if not meter:
        return run_json(argv, timeout=seconds + 120, env=env)
    res, cpu = run_json(argv, seconds + 120, meter, (1.5, 1 + seconds - 0.5))
    res["cpu_cores_busy"] = cpu
    return res


def s_point(res):
    """(commands per transaction, ms per transaction) of a run: the service
    has one command transaction in flight at a time, so the time of one is
    the inverse of the transaction rate."""
    svc = res.get("service") or {}
    if not svc.get("transactions_per_s"):
        return None
    return (svc["mean_commands_per_transaction"], 1000.0 / svc["transactions_per_s"])


def bench_commands(bin_dir, cluster, probe, pgbench, meter, workdir, args):
    try:
        pg = bench_pgbench(cluster, pgbench, meter, workdir, args.clients, args.seconds)
        log("pgbench single-row INSERT: %.0f tps" % pg["tps"])
    except RuntimeError as e:  # e.g. no transaction in a short run on a busy machine
        log("pgbench single-row failed: %s" % str(e)[:300])
        pg = {"tps": None, "error": str(e)[:1000]}
    crm = run_commands(bin_dir, probe, meter, args.clients, args.seconds)
    ratio = crm["cmds_per_s"] / pg["tps"] if pg["tps"] else 0
    out = {
        "clients": args.clients,
        "command": "probe.record count=1 (1 row + 1 event + 1 idempotency record, durable)",
        "crm_cmds_per_s": crm["cmds_per_s"],
        "pgbench_single_row_tps": pg["tps"],
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_COMMANDS_RATIO,
        "target_met": ratio >= TARGET_COMMANDS_RATIO,
    }
    svc = crm.get("service")
    if svc:
        out["mean_commands_per_transaction"] = svc["mean_commands_per_transaction"]
        out["service_transactions_per_s"] = svc["transactions_per_s"]
    if crm.get("client_cpu_us_per_command") is not None:
        # The client's own CPU a command (its loop and libzmq's I/O thread):
        # the client shares the 2 cores with what it measures.
        out["client_cpu_us_per_command"] = crm["client_cpu_us_per_command"]
        log("crm-bench-commands' own CPU: %.1f us a command" % crm["client_cpu_us_per_command"])
    out["crm"] = crm
    out["pgbench"] = pg
    # Where the time goes: the same load at other concurrencies. The time of
    # a transaction against its size separates what each transaction costs
    # (BEGIN .. COMMIT and its flush) from what each command in it costs.
    if args.scaling:
        points, runs = [], []
        main = s_point(crm)
        if main:
            points.append(main)
        for n in args.scaling:
            r = run_commands(bin_dir, probe, None, n, args.scaling_seconds)
            runs.append({"clients": n, "cmds_per_s": r["cmds_per_s"],
                         "mean_commands_per_transaction":
                             (r.get("service") or {}).get("mean_commands_per_transaction"),
                         "client_rtt_p50_ms": r["client_rtt_ms"]["p50"]})
            if s_point(r):
                points.append(s_point(r))
        scaling = {"runs": runs}
        if len(points) >= 3:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            mx, my = statistics.fmean(xs), statistics.fmean(ys)
            sxx = sum((x - mx) ** 2 for x in xs)
            if sxx > 0:
                slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
                scaling["fit_ms_per_transaction"] = round(my - slope * mx, 3)
                scaling["fit_ms_per_command_in_transaction"] = round(slope, 4)
                scaling["implied_ceiling_cmds_per_s"] = round(1000 / slope) if slope > 0 else None
        out["scaling"] = scaling
    return out


def preload_probe(cluster, db, rows):
    """Long mode: the probe's table and the idempotency records (looked up by
    every command) hold `rows` rows before the measuring starts, written
    set-based in one statement each (uuid-shaped keys, like the clients',
    that no command will send)."""
    t0 = time.monotonic()
    cluster.sql(db, "INSERT INTO probe_record (label) SELECT 'preload' FROM"
                    " generate_series(1, %d)" % rows)
    cluster.sql(db, "INSERT INTO crm_idempotency (key, command, request_hash, reply) SELECT"
                    " md5('preload-' || g)::uuid::text, 'probe.record', 0, ''::bytea"
                    " FROM generate_series(1, %d) g"
                    % rows)
    cluster.sql(db, "ANALYZE probe_record; ANALYZE crm_idempotency")
    log("preloaded %d rows into probe_record and crm_idempotency in %.1f s"
        % (rows, time.monotonic() - t0))


class Probe:
    def __init__(self, proc, source, endpoint, http_port):
        self.proc, self.source, self.endpoint, self.http_port = proc, source, endpoint, http_port


# The development switch that turns CURVE off on every link of a process
# (docs/operations.md); the bus, the probe and the benchmark client all
# need it, or their handshakes fail.
PLAINTEXT = {"CRM_INSECURE_PLAINTEXT": "1"}


def start_backbone(bin_dir, cluster, workdir, args, procs, suffix, extra=None):
    """crm-bus and a crm-probe on a new database of `cluster`, both added to
    `procs`; with extra=PLAINTEXT, without CURVE. Returns (Probe, the bus's
    XPUB endpoint)."""
    extra = extra or {}
    xsub, xpub = "tcp://127.0.0.1:%d" % free_port(), "tcp://127.0.0.1:%d" % free_port()
    bus = Proc("bus" + suffix, [os.path.join(bin_dir, "crm-bus")],
               dict(KEYS.env("bus"), CRM_BUS_XSUB_BIND=xsub, CRM_BUS_XPUB_BIND=xpub,
                    CRM_HTTP_PORT="0", **extra),
               workdir)
    procs.append(bus)
    bus.wait_line('"event":"bus.ready"')
    db = cluster.create_db("bench_probe" + suffix)
    endpoint, http_port = "tcp://127.0.0.1:%d" % free_port(), free_port()
    p = Proc("probe" + suffix, [os.path.join(bin_dir, "crm-probe")],
             {**KEYS.env("probe"),
              "PROBE_NAME": "probe", "CRM_PG_URL": cluster.url(db), "CRM_BIND": endpoint,
              "CRM_BUS_PUB_ENDPOINT": xsub, "CRM_BUS_SUB_ENDPOINT": xpub,
              "CRM_HTTP_PORT": str(http_port), "CRM_HEARTBEAT_MS": "200",
              "CRM_LOG_LEVEL": args.log_level, **extra}, workdir)
    procs.append(p)
    p.wait_line('"event":"service.ready"')
    return Probe(p, "probe", endpoint, http_port), xpub


def bench_encryption(bin_dir, cluster, workdir, args, curve):
    """The durable-commands run again on a second bus and probe, with every
    link plaintext, beside the CURVE run `curve`: the cost of encryption
    (the ZAP handshake once per client, then CurveZMQ's per-message box on
    each request, reply and event)."""
    procs = []
    try:
        probe, _ = start_backbone(bin_dir, cluster, workdir, args, procs, "-plain", PLAINTEXT)
        plain = run_commands(bin_dir, probe, None, args.clients, args.seconds,
                             env=dict(KEYS.env("bench"), **PLAINTEXT))
    finally:
        for p in reversed(procs):
            p.stop()
    c, n = curve["cmds_per_s"], plain["cmds_per_s"]
    cost = 100.0 * (1 - c / n) if n else None
    log("durable commands, %d clients: CURVE %.0f/s, plaintext %.0f/s: CURVE costs %s"
        % (args.clients, c, n, "%.1f%%" % cost if cost is not None else "?"))
    return {"clients": args.clients, "seconds": args.seconds,
            "curve_cmds_per_s": c, "plaintext_cmds_per_s": n,
            "curve_cost_pct": round(cost, 1) if cost is not None else None,
            "plaintext_acknowledged": plain["acknowledged"], "plaintext_failed": plain["failed"]}


SERIAL = {"PROBE_SERIAL": "1", "CRM_WRITERS": "1"}


def bench_serial(bin_dir, cluster, workdir, args, now):
    """The durable-commands run again on a second bus and probe whose works
    run one after another on one writer (PROBE_SERIAL=1, CRM_WRITERS=1: the
    backbone before issue 15's pipelining and extra writers), beside the
    run `now`: what the pipelining and the writers moved, in the same run."""
    procs = []
    try:
        probe, _ = start_backbone(bin_dir, cluster, workdir, args, procs, "-serial", SERIAL)
        before = run_commands(bin_dir, probe, None, args.clients, args.seconds)
    finally:
        for p in reversed(procs):
            p.stop()
    c, b = now["cmds_per_s"], before["cmds_per_s"]
    log("durable commands, %d clients: pipelined on CRM_WRITERS writers %.0f/s, works one after"
        " another on one writer %.0f/s: x%.2f" % (args.clients, c, b, c / b if b else 0))
    return {"clients": args.clients, "seconds": args.seconds, "settings": SERIAL,
            "serial_cmds_per_s": b, "pipelined_cmds_per_s": c,
            "speedup": round(c / b, 2) if b else None,
            "serial_client_rtt_ms": before["client_rtt_ms"],
            "serial_mean_commands_per_transaction":
                (before.get("service") or {}).get("mean_commands_per_transaction")}


ONE_BY_ONE = {"PROBE_SET": "0"}


def bench_set(bin_dir, cluster, workdir, args, now, main_probe):
    """The durable-commands run again on a second bus and probe whose
    probe.record runs one INSERT per command (PROBE_SET=0: without its
    set-based form, crm_command_batch_fn), beside the run `now`, with the
    PostgreSQL CPU per command of each: what the set-based form moved. The
    main probe's counters give how many commands a set-based statement
    held."""
    procs = []
    try:
        probe, _ = start_backbone(bin_dir, cluster, workdir, args, procs, "-one", ONE_BY_ONE)
        before = run_commands(bin_dir, probe, CpuMeter(cluster, procs), args.clients,
                              args.seconds)
    finally:
        for p in reversed(procs):
            p.stop()
    m = scrape(main_probe.http_port)
    runs, works = m.get("crm_command_runs_total", 0), m.get("crm_command_run_works_total", 0)

    def pg_ms(r):
        cpu = (r.get("cpu_cores_busy") or {}).get("postgres")
        return round(1000.0 * cpu / r["cmds_per_s"], 4) if cpu and r["cmds_per_s"] else None

    c, b = now["cmds_per_s"], before["cmds_per_s"]
    out = {"clients": args.clients, "seconds": args.seconds, "settings": ONE_BY_ONE,
           "set_cmds_per_s": c, "one_by_one_cmds_per_s": b,
           "speedup": round(c / b, 2) if b else None,
           "set_postgres_cpu_ms_per_cmd": pg_ms(now),
           "one_by_one_postgres_cpu_ms_per_cmd": pg_ms(before),
           "commands_per_set_statement": round(works / runs, 2) if runs else None,
           "one_by_one_mean_commands_per_transaction":
               (before.get("service") or {}).get("mean_commands_per_transaction")}
    log("durable commands, %d clients: probe.record set-based %.0f/s (PostgreSQL CPU %s ms a"
        " command, %s commands a statement), one INSERT per command %.0f/s (%s ms): x%.2f"
        % (args.clients, c, out["set_postgres_cpu_ms_per_cmd"],
           out["commands_per_set_statement"], b, out["one_by_one_postgres_cpu_ms_per_cmd"],
           c / b if b else 0))
    return out


def main():
    # The other modules of the driver import this file as "bench": let them
    # see this module (and KEYS), not a second copy.
    sys.modules.setdefault("bench", sys.modules[__name__])
    global latency, peers, summary, PG_TRANSPORT
    import latency
    import peers
    import summary
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", required=True, help="directory of crm-bus, crm-probe, crm-bench-*")
    ap.add_argument("--only",
                    default="bus,commands,latency,overload,jetstream,analytics,sales,marketing,"
                            "bridge,webhooks,api",
                    help="comma-separated subset of: bus, commands, latency, overload (the"
                         " backbone, with crm-probe; overload offers twice the ceiling the"
                         " commands part measured), jetstream (the NATS JetStream peer),"
                         " analytics, sales, marketing (the services),"
                         " bridge (crm-bridge-nats into JetStream), webhooks (crm-webhooks"
                         " to a local receiver), api (POST /v1/people through crm-api"
                         " against sales.person.register)")
    ap.add_argument("--bus-runs", type=int, default=3)
    ap.add_argument("--bus-count", type=int, default=2000000)
    ap.add_argument("--bus-seconds", type=int, default=8)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--scaling", default="1,8,128",
                    help="client counts of the durable-commands scaling runs ('' = none);"
                         " with --clients they make the 1, 8, 32 and 128 of issue 15")
    ap.add_argument("--scaling-seconds", type=int, default=3)
    ap.add_argument("--low-rate", type=int, default=500,
                    help="rate of the reference latency run (0 = none)")
    ap.add_argument("--low-rate-seconds", type=int, default=5)
    ap.add_argument("--overload-seconds", type=int, default=5,
                    help="seconds of the overload run (twice the measured ceiling)")
    ap.add_argument("--overload-repeat", type=int, default=0,
                    help="after the overload runs, this many pairs of runs on fresh probes:"
                         " the seventh session's deadline (the queue wait alone) and this one's"
                         " (the wait and a batch), alternately")
    ap.add_argument("--no-overload-before", dest="overload_before", action="store_false",
                    help="skip the second overload run with the sixth session's settings"
                         " (CRM_COMMAND_QUEUE_WAIT_MS 250, CRM_COMMAND_DEADLINE_MS 10000,"
                         " batches up to CRM_BATCH_MAX)")
    ap.add_argument("--no-commands-baselines", dest="commands_baselines", action="store_false",
                    help="skip the commands part's baselines, each on a fresh database beside"
                         " the main run (pgbench's 100-row transactions, every link plaintext,"
                         " works one after another, one INSERT per command): the long mode's"
                         " preload fills only the main probe's tables (test_bench_preload"
                         " leaves them to test_bench_smoke, which runs them)")
    ap.add_argument("--rows", default="",
                    help="long mode: run the suite once per row count (e.g."
                         " 10000,100000,1000000), each part's main tables preloaded to it;"
                         " each part's function gets it as args.rows (0: no preload)")
    ap.add_argument("--long", action="store_true",
                    help="the long mode of issue 15: --rows 10000,100000,1000000 unless given")
    ap.add_argument("--analytics-events", type=int, default=20000,
                    help="backlog crm-analytics catches up on (sales, marketing, support)")
    ap.add_argument("--analytics-rate", type=int, default=1000,
                    help="live events per second to crm-analytics (issue 15's target is"
                         " judged at 1,000)")
    ap.add_argument("--analytics-live-seconds", type=int, default=10,
                    help="seconds of the live figure (0: skip it)")
    ap.add_argument("--analytics-timeout", type=int, default=600)
    ap.add_argument("--analytics-rebuild-max", type=int, default=0,
                    help="largest backlog whose rebuild is run (0: any); the catch-up from"
                         " empty replays the same events")
    ap.add_argument("--analytics-one-at-a-time-max", type=int, default=200000,
                    help="largest backlog whose rebuild is also run one event at a time"
                         " (the baseline; at the long mode's 1,000,000 it would take a"
                         " quarter hour)")
    ap.add_argument("--sales-clients", default="1,8,32,128",
                    help="concurrencies of the sales.person.register runs")
    ap.add_argument("--sales-seconds", type=int, default=5)
    ap.add_argument("--sales-set-pairs", type=int, default=1,
                    help="sales: pairs of register, order.create and activity.log runs with"
                         " the set-based forms off then on (SALES_SET), each on a restarted"
                         " crm-sales")
    ap.add_argument("--sales-preload", default="",
                    help="table sizes (people, e.g. 10000,100000,1000000) to pre-load in turn"
                         " and register at, 32 clients")
    ap.add_argument("--api-clients", type=int, default=32,
                    help="concurrency of the HTTP API against the native protocol")
    ap.add_argument("--api-seconds", type=int, default=5)
    ap.add_argument("--api-rounds", type=int, default=2,
                    help="native and HTTP runs of --api-seconds each, alternating A B B A")
    ap.add_argument("--marketing-recipients", type=int, default=100000,
                    help="recipients of the SMS campaign whose send decisions are timed")
    ap.add_argument("--marketing-scan-ms", type=int, default=1000,
                    help="MARKETING_SEND_SCAN_MS of crm-marketing (its default)")
    ap.add_argument("--marketing-timeout", type=int, default=600)
    ap.add_argument("--bridge-events", type=int, default=20000,
                    help="backlog crm-bridge-nats publishes into JetStream (four sources)")
    ap.add_argument("--bridge-timeout", type=int, default=600)
    ap.add_argument("--webhooks-events", type=int, default=2000,
                    help="backlog of events crm-webhooks delivers to each subscription")
    ap.add_argument("--webhooks-subscriptions", type=int, default=16,
                    help="subscriptions to the same local receiver (one request in flight each)")
    ap.add_argument("--webhooks-timeout", type=int, default=600)
    ap.add_argument("--pg-transport", choices=("tcp", "unix"), default=PG_TRANSPORT,
                    help="how the services, pgbench and the bench reach PostgreSQL: tcp"
                         " (127.0.0.1) or unix (the cluster's socket directory)")
    ap.add_argument("--log-level", default=os.environ.get("CRM_BENCH_LOG_LEVEL", "info"),
                    help="CRM_LOG_LEVEL of crm-probe (debug shows each batch)")
    ap.add_argument("--keep", action="store_true", help="keep the logs' directory")
    ap.add_argument("--partial", default="",
                    help="long mode: the document so far is written to this file after each"
                         " pass (a run cut short keeps its finished passes)")
    args = ap.parse_args()
    PG_TRANSPORT = args.pg_transport
    log("PostgreSQL transport: %s" % PG_TRANSPORT)
    args.analytics_timeout_given = "--analytics-timeout" in sys.argv
    args.scaling = [int(x) for x in args.scaling.split(",") if x.strip()]
    args.sales_clients = [int(x) for x in args.sales_clients.split(",") if x.strip()]
    args.sales_preload = sorted(int(x) for x in args.sales_preload.split(",") if x.strip())
    if args.long and not args.rows:
        args.rows = "10000,100000,1000000"
    args.rows_list = [int(x) for x in args.rows.split(",") if x.strip()]
    args.rows = 0
    if not args.rows_list:
        doc = run_suite(args)
        doc["summary"] = summary.table(doc)
        summary.show(doc["summary"], "summary (the figures of issue 15, this run; PostgreSQL"
                                     " over %s)" % PG_TRANSPORT)
        print(json.dumps(doc, indent=2))
        return
    # Long mode: the whole suite once per table size; the parts whose figure
    # does not depend on a table (bus, jetstream) run in the first pass only.
    t_start = time.monotonic()
    out = {"rows": args.rows_list, "pg_transport": PG_TRANSPORT, "by_rows": {}, "summary": {}}
    only = args.only
    for i, rows in enumerate(args.rows_list):
        args.rows = rows
        args.only = ",".join(p for p in only.split(",")
                             if i == 0 or p not in ("bus", "jetstream"))
        args.analytics_events, args.marketing_recipients = rows, rows
        if not args.analytics_timeout_given:
            args.analytics_timeout = max(args.analytics_timeout, rows // 200)
        args.marketing_timeout = max(args.marketing_timeout, rows // 200)
        log("long mode: %d rows in the main tables (%d of %d)" % (rows, i + 1,
                                                                  len(args.rows_list)))
        t_pass = time.monotonic()
        try:
            doc = run_suite(args)
        except RuntimeError as e:  # the passes before still count: say so, go on
            log("long mode: the pass at %d rows failed: %s" % (rows, e))
            doc = {"error": str(e)[:2000]}
        log("long mode: the pass at %d rows took %.0f s" % (rows, time.monotonic() - t_pass))
        out["by_rows"][str(rows)] = doc
        out["summary"][str(rows)] = summary.table(doc, out["by_rows"][str(args.rows_list[0])])
        if args.partial:
            with open(args.partial, "w") as f:
                json.dump(out, f, indent=2)
    for rows in args.rows_list:
        summary.show(out["summary"][str(rows)], "summary at %d rows (PostgreSQL over %s)"
                     % (rows, PG_TRANSPORT))
    out["summary_by_rows"] = summary.by_rows(out["summary"])
    summary.show_by_rows(out["summary_by_rows"], "summary, each figure at every table size")
    out["suite_seconds"] = round(time.monotonic() - t_start, 1)
    print(json.dumps(out, indent=2))


def run_suite(args):
    """One pass of the parts in args.only; returns the document."""
    only = set(args.only.split(","))
    bin_dir = args.bin
    for b in ("crm-bus", "crm-probe", "crm-bench-bus", "crm-bench-proxy", "crm-bench-commands",
              "crm-bench-latency", "crm-sales", "crm-marketing", "crm-analytics", "crm-webhooks",
              "crm-bench-http", "crm-api"):
        if not os.access(os.path.join(bin_dir, b), os.X_OK):
            raise SystemExit("bench: %s/%s is missing: build first (cmake --build build)"
                             % (bin_dir, b))

    t_start = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="crm-bench-")
    global KEYS, BUILD_DIR
    BUILD_DIR = os.path.dirname(os.path.abspath(bin_dir))
    KEYS = Keys(bin_dir, workdir)
    # services.py imports this file as "bench": let it see this module (and
    # KEYS), not a second copy.
    sys.modules.setdefault("bench", sys.modules[__name__])
    doc = {"machine": machine_info(), "pg_transport": PG_TRANSPORT}
    procs, cluster = [], None
    try:
        if "bus" in only:
            log("1/3 bus throughput: %d x (crm-bus, raw zmq_proxy), %d messages of 200 bytes"
                % (args.bus_runs, args.bus_count))
            doc["bus_throughput"] = bench_bus(bin_dir, workdir, args)
            doc["machine"]["libzmq"] = doc["bus_throughput"]["libzmq"]
        if only & {"commands", "latency", "overload"}:
            bindir = pg_bindir()
            pgbench = find_program(bindir, "pgbench")
            log("starting a throwaway PostgreSQL cluster")
            cluster = Cluster(bindir)
            doc["machine"]["postgres"] = cluster.sql("postgres", "SHOW server_version")
            doc["machine"]["fdatasync_8k_per_s"] = cluster.fdatasync_per_s()
            doc["postgres_settings"] = dict(PG_SETTINGS, wal_sync_method=cluster.sql(
                "postgres", "SHOW wal_sync_method"), commit_delay=cluster.sql(
                "postgres", "SHOW commit_delay"))
            probe, xpub = start_backbone(bin_dir, cluster, workdir, args, procs, "")
            if args.rows:
                preload_probe(cluster, "bench_probe", args.rows)
            meter = CpuMeter(cluster, procs)
            if "commands" in only:
                log("2/3 durable commands: %d clients, %d s, against pgbench" % (args.clients,
                                                                                   args.seconds))
                doc["durable_commands"] = bench_commands(bin_dir, cluster, probe, pgbench,
                                                         meter, workdir, args)
                # The durable ceiling of PostgreSQL itself: 100 rows a transaction.
                try:
                    if args.commands_baselines:
                        doc["durable_commands"]["pgbench_batch_100"] = \
                            peers.bench_pgbench_batch(cluster, pgbench, workdir, args.clients,
                                                      args.seconds)
                except RuntimeError as e:  # a peer: the part's own figures still count
                    log("pgbench 100-row batches failed: %s" % str(e)[:300])
                    doc["durable_commands"]["pgbench_batch_100"] = {"error": str(e)[:1000]}
            if "latency" in only:
                log("3/3 latency: %d commands/s for %d s" % (args.rate, args.seconds))
                doc["latency"] = latency.bench_latency(bin_dir, probe, xpub, args)
            if "overload" in only:
                ceiling = max([r["cmds_per_s"] for r in doc.get("durable_commands", {}).get(
                    "scaling", {}).get("runs", [])] + [doc.get("durable_commands", {}).get(
                        "crm_cmds_per_s", 0)])
                if not ceiling:
                    ceiling = run_commands(bin_dir, probe, None, args.clients, 3)["cmds_per_s"]
                log("overload: twice the measured ceiling (%.0f commands/s) for %d s"
                    % (ceiling, args.overload_seconds))
                doc["overload"] = latency.bench_overload(bin_dir, probe, xpub, args, ceiling)
                if args.overload_before:
                    log("overload again on a fresh probe with the sixth session's settings"
                        " (%s), for the accepted p99 before and after in one run"
                        % ", ".join("%s=%s" % kv for kv in latency.OVERLOAD_BEFORE.items()))
                    bprobe, bxpub = start_backbone(bin_dir, cluster, workdir, args, procs,
                                                   "_before", extra=latency.OVERLOAD_BEFORE)
                    before = latency.bench_overload(bin_dir, bprobe, bxpub, args, ceiling,
                                            settings=latency.OVERLOAD_BEFORE)
                    before.pop("detail", None)
                    doc["overload"]["before"] = before
                # The seventh session's rule and this one alternately, each
                # on a fresh probe, for their accepted p99, its parts and
                # their throughput from one run.
                alt = []
                for i in range(args.overload_repeat):
                    for rule, env in (("seventh", latency.OVERLOAD_SEVENTH), ("eighth", latency.OVERLOAD_DEFAULTS)):
                        log("overload, alternating %d/%d: the %s session's rule (%s)"
                            % (i + 1, args.overload_repeat, rule, ", ".join(
                                "%s=%s" % kv for kv in env.items())))
                        aprobe, axpub = start_backbone(bin_dir, cluster, workdir, args, procs,
                                                       "_%s%d" % (rule, i), extra=env)
                        a = latency.bench_overload(bin_dir, aprobe, axpub, args, ceiling, settings=env)
                        a.pop("detail", None)
                        alt.append({"rule": rule, "run": i + 1, **{k: a[k] for k in (
                            "offered_per_s", "achieved_rate_per_s", "accepted",
                            "accepted_rtt_p50_ms", "accepted_rtt_p99_ms", "service_parts_ms",
                            "shed_total", "expired_total", "client_timeouts", "queue_peak",
                            "drain_rate_per_s", "batch_estimate_peak_ms", "target_met")}})
                        aprobe.proc.stop()
                if alt:
                    doc["overload"]["alternating"] = alt
            if "commands" in only and args.commands_baselines:
                log("2/3 durable commands again, every link plaintext (CRM_INSECURE_PLAINTEXT=1),"
                    " for the cost of CURVE")
                doc["durable_commands"]["encryption"] = bench_encryption(
                    bin_dir, cluster, workdir, args, doc["durable_commands"]["crm"])
                log("2/3 durable commands again, works one after another on one writer"
                    " (PROBE_SERIAL=1, CRM_WRITERS=1), for what pipelining moved")
                doc["durable_commands"]["serial"] = bench_serial(
                    bin_dir, cluster, workdir, args, doc["durable_commands"]["crm"])
                log("2/3 durable commands again, probe.record one INSERT per command"
                    " (PROBE_SET=0), for what its set-based form moved")
                doc["durable_commands"]["set_based"] = bench_set(
                    bin_dir, cluster, workdir, args, doc["durable_commands"]["crm"], probe)
        for p in reversed(procs):
            p.stop()
        procs = []
        if cluster:
            cluster.destroy()
            cluster = None
        if "jetstream" in only:
            log("the NATS JetStream peer: %d publishers, then %d/s to a consumer" % (
                args.clients, args.rate))
            doc["jetstream"] = peers.bench_jetstream(bin_dir, workdir, args)
        # The services, each part on its own cluster and bus (services.py).
        parts = [p for p in ("analytics", "sales", "marketing", "bridge", "webhooks", "api")
                 if p in only]
        if args.rows and "analytics" in parts:
            # long mode: the longest part last, so a pass cut short by
            # time has the others' figures
            parts = [p for p in parts if p != "analytics"] + ["analytics"]
        if parts:
            import services
            for i, part in enumerate(parts):
                log("services %d/%d: %s" % (i + 1, len(parts), part))
                try:
                    doc[part] = getattr(services, "bench_" + part)(bin_dir, workdir, args)
                except RuntimeError as e:
                    if not args.rows:
                        raise
                    # long mode: the pass's other parts still count
                    log("%s failed: %s" % (part, str(e)[:500]))
                    doc[part] = {"error": str(e)[:2000]}
        if "bridge" in doc and "events_per_s" in doc["bridge"]:
            # Beside the bus: what one JetStream round trip per event and
            # source costs against the bus's fire-and-forget proxying.
            doc["bridge"]["bus_msgs_per_s"] = doc.get("bus_throughput", {}).get(
                "crm_bus_msgs_per_s")
    finally:
        for p in reversed(procs):
            p.stop()
        if cluster:
            cluster.destroy()
        if args.keep:
            log("logs kept in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    doc["suite_seconds"] = round(time.monotonic() - t_start, 1)
    doc["machine"]["loadavg_at_end"] = round(os.getloadavg()[0], 2)
    if args.rows:
        doc["rows_preloaded"] = args.rows
    return doc


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log("error: %s" % e)
        sys.exit(1)
