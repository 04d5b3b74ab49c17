"""The peers of issue 15, run by bench.py beside our own figures: what a team
would pick instead, measured in the same run on the same machine.

- pgbench with 100-row transactions at 32 clients: the durable ceiling of
  PostgreSQL itself on this machine, in rows per second (the single-row
  pgbench, the baseline of the backbone's ratio, stays in bench.py);
- NATS JetStream (nats-server with file storage, crm-bench-nats on the C
  client): acknowledged publishes per second with 32 publishers, beside our
  durable commands per second, and publish-to-consumer at 5,000/s, beside
  our command-to-event. Whether this nats-server fsyncs before it
  acknowledges is found out, not assumed: its configuration is asked for
  `sync_interval` (nats-server 2.10 and later; `always` syncs every write
  before the acknowledgement), and the server's fsync calls are counted
  during a short run (strace), so the output says which it was.

Standard library only, like bench.py."""
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile

import bench as B


# ---- pgbench, 100 rows a transaction ------------------------------------------

def bench_pgbench_batch(cluster, pgbench, workdir, clients, seconds, rows=100):
    """pgbench -c clients, each transaction one INSERT of `rows` rows into a
    table of the probe's shape: rows per second, the durable ceiling."""
    db = cluster.create_db("bench_pgbench_batch")
    cluster.sql(db, B.PGBENCH_TABLE)
    script = os.path.join(workdir, "batch_rows.sql")
    with open(script, "w") as f:
        f.write("INSERT INTO bench_single (label) SELECT 'bench' FROM generate_series(1, %d);\n"
                % rows)
    argv = [pgbench, "-h", cluster.host, "-p", str(cluster.port), "-U", "crm", "-n",
            "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", script, db]
    B.log("$ pgbench " + " ".join(argv[1:]))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    if r.returncode != 0:
        raise RuntimeError("pgbench failed: %s" % r.stderr.strip()[-1000:])
    tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", r.stdout, re.M)
    if not tps:
        raise RuntimeError("could not read pgbench's output:\n%s" % r.stdout)
    tps = float(tps.group(1))
    B.log("pgbench %d-row INSERT, %d clients: %.0f tps = %.0f rows/s" % (
        rows, clients, tps, tps * rows))
    return {"clients": clients, "rows_per_transaction": rows, "tps": round(tps),
            "rows_per_s": round(tps * rows),
            "argv": "pgbench -n -c %d -j 2 -T %d -f batch_rows.sql" % (clients, seconds)}


# ---- NATS JetStream -----------------------------------------------------------

SYNC_ALWAYS = "sync_interval: always"


class Nats:
    """A nats-server with JetStream on file storage in its own directory, on
    a free loopback port; `extra` lines go into its jetstream block.
    With `trace`, it runs under strace counting its fsync-family calls."""

    def __init__(self, nats, workdir, name, extra=None, trace=None):
        self.dir = tempfile.mkdtemp(prefix="nats-", dir=workdir)
        self.port = B.free_port()
        self.conf = os.path.join(self.dir, "nats.conf")
        with open(self.conf, "w") as f:
            f.write('listen: "127.0.0.1:%d"\njetstream {\n  store_dir: "%s"\n%s}\n' % (
                self.port, os.path.join(self.dir, "store"), "".join(
                    "  %s\n" % x for x in (extra or []))))
        argv = [nats, "-c", self.conf]
        self.trace = trace
        if trace:
            # --seccomp-bpf: only the traced calls stop the server.
            argv = [trace, "-f", "--seccomp-bpf", "-qq", "-e", "signal=none", "-o",
                    os.path.join(self.dir, "strace.txt"),
                    "-e", "trace=fsync,fdatasync,sync_file_range,msync"] + argv
        self.proc = B.Proc(name, argv, {}, workdir)
        try:
            self.proc.wait_line("Server is ready", timeout=30)
        except RuntimeError:
            self.proc.stop()
            raise
        self.url = "nats://127.0.0.1:%d" % self.port

    def stop(self):
        if self.trace and self.proc.p.poll() is None:
            # The server, not strace, gets the signal, so that strace sees
            # it exit and writes out every call.
            for f in glob.glob("/proc/%d/task/*/children" % self.proc.p.pid):
                with open(f) as fh:
                    for pid in fh.read().split():
                        os.kill(int(pid), signal.SIGTERM)
            try:
                self.proc.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.proc.stop()

    def syncs(self):
        """fsync-family calls the server made, from strace's log (after stop)."""
        try:
            with open(os.path.join(self.dir, "strace.txt")) as f:
                text = f.read()
        except OSError:
            return None
        return len(re.findall(r"\b(?:fsync|fdatasync|sync_file_range|msync)\(", text))


def nats_accepts(nats, workdir, line):
    """Whether this nats-server accepts `line` in its jetstream block
    (nats-server -t only checks the configuration)."""
    d = tempfile.mkdtemp(prefix="nats-conf-", dir=workdir)
    conf = os.path.join(d, "nats.conf")
    with open(conf, "w") as f:
        f.write('jetstream {\n  store_dir: "%s"\n  %s\n}\n' % (os.path.join(d, "store"), line))
    r = subprocess.run([nats, "-c", conf, "-t"], capture_output=True, text=True, timeout=30)
    return r.returncode == 0, (r.stdout + r.stderr).strip()[-300:]


def nats_version(nats):
    r = subprocess.run([nats, "--version"], capture_output=True, text=True, timeout=30)
    return r.stdout.strip() or r.stderr.strip()


def bench_jetstream(bin_dir, workdir, args):
    """Acknowledged publishes/s (args.clients publishers, 200 bytes) and
    publish-to-consumer at args.rate, per server setting: the default and,
    where this nats-server has it, sync_interval: always. Then, for the
    default, whether the server fsynced before acknowledging, counted."""
    nats = shutil.which("nats-server")
    prog = os.path.join(bin_dir, "crm-bench-nats")
    if not nats:
        return {"skipped": "nats-server is not installed (tools/install-deps.sh)"}
    if not os.access(prog, os.X_OK):
        return {"skipped": "crm-bench-nats was not built (libnats-dev missing)"}
    out = {"nats_server": nats_version(nats), "storage": "file, one server on loopback,"
           " replicas 1", "event_bytes": 200, "publishers": args.clients,
           "rate_per_s": args.rate, "runs": {}}
    has_sync, why = nats_accepts(nats, workdir, SYNC_ALWAYS)
    settings = [("default", [])]
    if has_sync:
        settings.append(("sync_always", [SYNC_ALWAYS]))
    else:
        out["sync_interval_setting"] = "not in this nats-server (its configuration check: %s)" % (
            why.splitlines()[-1].rsplit(": ", 1)[-1])
    for name, extra in settings:
        srv = Nats(nats, workdir, "nats-" + name, extra)
        try:
            r = B.run_json([prog, "--url", srv.url, "--publishers", str(args.clients),
                            "--seconds", str(args.seconds), "--warmup", "1", "--size", "200",
                            "--rate", str(args.rate), "--rate-seconds", str(args.seconds)],
                           timeout=2 * args.seconds + 120, env={})
        finally:
            srv.stop()
        t, lat = r["throughput"], r.get("latency", {})
        ev = lat.get("publish_to_consumer_ms", {})
        out["runs"][name] = {
            "settings": extra or ["(none: the server's defaults)"],
            "acked_per_s": t["acked_per_s"], "acknowledged": t["acknowledged"],
            "failed": t["failed"], "publish_rtt_ms": t["publish_rtt_ms"],
            "latency_p50_ms": ev.get("p50"), "latency_p99_ms": ev.get("p99"),
            "latency_max_ms": ev.get("max"), "latency_missing": lat.get("missing"),
            "achieved_rate_per_s": lat.get("achieved_rate_per_s"),
            "messages_in_stream": r.get("messages_in_stream"), "detail": r}
        B.log("JetStream (%s): %.0f acknowledged publishes/s with %d publishers; publish to"
              " consumer at %d/s p50 %s ms, p99 %s ms" % (
                  name, t["acked_per_s"], args.clients, args.rate, ev.get("p50"),
                  ev.get("p99")))
    out["fsync"] = fsync_check(nats, prog, workdir, args, has_sync)
    return out


def fsync_check(nats, prog, workdir, args, has_sync):
    """Counts the fsync-family calls of a nats-server with its defaults
    during a short run of acknowledged publishes: far fewer calls than
    acknowledgements means it acknowledges before the data is on disk."""
    strace = shutil.which("strace")
    known = ("nats-server before 2.10 has no sync_interval setting: its file store syncs"
             " on its own timer, not per message" if not has_sync else
             "with sync_interval unset the file store fsyncs on a timer (2 minutes by"
             " default), not before acknowledging; sync_interval: always fsyncs each write")
    if not strace:
        return {"before_ack": "not measured (strace not installed)", "documented": known}
    srv = None
    try:
        srv = Nats(nats, workdir, "nats-strace", None, strace)
        r = B.run_json([prog, "--url", srv.url, "--publishers", str(args.clients),
                        "--seconds", "2", "--warmup", "0", "--size", "200", "--rate", "0"],
                       timeout=120, env={})
    except RuntimeError as e:
        return {"before_ack": "not measured (%s)" % str(e)[-200:], "documented": known}
    finally:
        if srv:
            srv.stop()
    acked = r["throughput"]["acknowledged"]
    syncs = srv.syncs()
    if syncs is None:
        return {"before_ack": "not measured (no strace output)", "documented": known}
    before = syncs >= acked
    B.log("JetStream with its defaults: %d fsync-family calls for %d acknowledged publishes"
          " in 2 s: %s" % (syncs, acked, "fsyncs before it acknowledges" if before else
                           "acknowledges before the data is on disk (not durable against a"
                           " power loss at the moment of the ack)"))
    return {"settings": "the server's defaults", "acknowledged_in_check": acked,
            "fsync_calls_in_check": syncs, "before_ack": before,
            "note": "no fsync per acknowledgement: an acknowledged message may not be on disk"
                    " yet (lost on a power failure)" if not before else
                    "at least one fsync per acknowledgement",
            "documented": known}
