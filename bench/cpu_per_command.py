#!/usr/bin/env python3
"""CPU per command of the durable-commands run, by process and thread.

Starts what `bench/run.sh --only commands` starts (a throwaway cluster,
crm-bus, crm-probe; CURVE, then plaintext), runs crm-bench-commands with
--clients clients and reads every thread's CPU time from
/proc/<pid>/task/<tid>/schedstat at the start and the end of the window:
divided by the commands the probe counted meanwhile (crm_commands_total),
that is microseconds of CPU per command by process (bench/README, "Issue
15: where the probe's CPU goes"). Options: --env K=V,... for the probe and
the bus (e.g. CRM_WRITERS=1), --perf FILE (perf record -a over the window,
then the leaf symbols of each process), --strace FILE (strace -c -f of the
probe), --strace-client FILE (the same of the client), --pgss (pg_stat_statements of the probe's database).

    bench/cpu_per_command.py [--bin build/bin] [--seconds 10] [--modes curve,plain]

Needs what bench.py needs; --perf needs perf, --strace strace."""
import os, sys, time, json, subprocess, signal, tempfile, shutil, re, argparse, collections
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(os.path.dirname(HERE), "build", "bin"))
ap.add_argument("--seconds", type=int, default=6)
ap.add_argument("--clients", type=int, default=32)
ap.add_argument("--modes", default="curve,plain")
ap.add_argument("--perf", default="")
ap.add_argument("--strace", default="")
ap.add_argument("--strace-client", default="")
ap.add_argument("--client-bin", default="")
ap.add_argument("--env", default="")
ap.add_argument("--pgss", action="store_true")
ap.add_argument("--perfp", default="")
ap.add_argument("--perfp-event", default="")
args = ap.parse_args()
TCK = os.sysconf("SC_CLK_TCK")

def stat(path):
    with open(path) as f:
        r = f.read().rsplit(")", 1)
    name = r[0].split("(", 1)[1]
    fl = r[1].split()
    with open(path.replace("/stat", "/schedstat")) as f:
        ns = int(f.read().split()[0])
    return name, ns / 1e9, int(fl[11]) / TCK, int(fl[12]) / TCK

def threads(pid):
    out = {}
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                out[int(t)] = stat("/proc/%d/task/%s/stat" % (pid, t))
            except OSError:
                pass
    except OSError:
        pass
    return out

def pg_pids(cluster):
    with open(os.path.join(cluster.data, "postmaster.pid")) as f:
        master = int(f.readline())
    res = {master: "postmaster"}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        with open("/proc/%s/cmdline" % d) as g:
                            cmd = g.read().replace("\0", " ").strip()
                        role = cmd.replace("postgres: ", "")
                        if "bench_probe" in role: role = "backend " + role.split()[1]
                        res[int(d)] = role
            except (OSError, ValueError, IndexError):
                pass
    return res

def sample(groups):
    s = {}
    for gname, pid in groups:
        for tid, (tname, tot, u, sy) in threads(pid).items():
            s[(gname, tid, tname)] = (tot, u, sy)
    return s

def perf_report(data, groups, ncmds):
    """Leaf symbols of each process's samples in `data`."""
    pid2g = {}
    for g, pid in groups:
        pid2g[pid] = "pg:backends" if g.startswith("pg:backend") else ("pg:other" if g.startswith("pg:") else g)
    p = subprocess.Popen(["perf", "script", "-i", data, "-F", "pid,tid,comm,period,ip,sym,dso"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    cnt = collections.defaultdict(collections.Counter)
    dso = collections.defaultdict(collections.Counter)
    thr = collections.defaultdict(collections.Counter)
    chains = collections.defaultdict(collections.Counter)
    hdr = None; chain = []
    def flush():
        if hdr is None or not chain: return
        g, comm = hdr
        fr = chain[0]
        cnt[g][fr] += 1
        dso[g][fr[0]] += 1
        thr[g][comm] += 1
        # first non-kernel frame for kernel leafs
        if fr[0] == "[kernel.kallsyms]":
            user = next((f for f in chain if f[0] != "[kernel.kallsyms]"), ("?", "?"))
            syscall = next((f[1] for f in chain if f[1].startswith("__x64_sys_") or f[1].startswith("__do_sys")), "")
            chains[g]["%s <- %s" % (syscall or fr[1], user[1] + "@" + user[0].split("/")[-1])] += 1
    for line in p.stdout:
        if not line.strip():
            flush(); hdr = None; chain = []; continue
        if not line.startswith((" ", "\t")):
            m = re.match(r"\s*(\S.*?)\s+(\d+)/(\d+)\s", line)
            if not m:
                hdr = None; continue
            pid = int(m.group(2))
            hdr = (pid2g[pid], m.group(1)) if pid in pid2g else None
            chain = []
        else:
            parts = line.strip().split(None, 1)
            if len(parts) < 2: continue
            rest = parts[1]
            m = re.match(r"(.*) \((.*)\)$", rest)
            sym, d = (m.group(1), m.group(2)) if m else (rest, "?")
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            chain.append((d.split("/")[-1], sym))
    flush()
    hz = 999.0
    for g in sorted(cnt, key=lambda g: -sum(cnt[g].values())):
        n = sum(cnt[g].values())
        print("===== %s: %d samples (%.2f core-s)%s" % (g, n, n / hz, ("  %.1f us/cmd" % (n / hz / ncmds * 1e6)) if ncmds else ""))
        print("  threads: " + ", ".join("%s %d" % kv for kv in thr[g].most_common(6)))
        print("  dso: " + ", ".join("%s %.0f%%" % (k, 100.0 * v / n) for k, v in dso[g].most_common(8)))
        for (d, s), v in cnt[g].most_common(22):
            print("   %5.1f%%  %-22s %s" % (100.0 * v / n, d[:22], s[:90]))
        if chains[g]:
            print("  kernel leaf by syscall <- user frame:")
            for k, v in chains[g].most_common(14):
                print("   %5.1f%%  %s" % (100.0 * v / n, k[:120]))


bench.sys.modules.setdefault("bench", bench)
workdir = tempfile.mkdtemp(prefix="prof15-")
bench.KEYS = bench.Keys(args.bin, workdir)
if args.pgss:
    bench.PG_SETTINGS["shared_preload_libraries"] = "'pg_stat_statements'"
    bench.PG_SETTINGS["track_functions"] = "'all'"
    bench.PG_SETTINGS["pg_stat_statements.track"] = "'all'"
cluster = bench.Cluster(bench.pg_bindir())
results = {}
class A: log_level = "info"
try:
    for mode in args.modes.split(","):
        procs = []
        extra = dict(bench.PLAINTEXT) if mode == "plain" else {}
        for kv in args.env.split(","):
            if "=" in kv: extra[kv.split("=")[0]] = kv.split("=", 1)[1]
        probe, xpub = bench.start_backbone(args.bin, cluster, workdir, A, procs, "-" + mode, extra)
        if args.pgss:
            cluster.sql("bench_probe-" + mode, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        env = dict(os.environ, **bench.KEYS.env("bench"), **(extra or {}))
        cb = args.client_bin or os.path.join(args.bin, "crm-bench-commands")
        argv = [cb, "--endpoint", probe.endpoint, "--clients", str(args.clients),
                "--seconds", str(args.seconds), "--warmup", "1", "--count", "1",
                "--metrics-port", str(probe.http_port)]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, text=True)
        time.sleep(1.5)
        pgs = pg_pids(cluster)
        groups = [("client", p.pid)] + [(pr.name, pr.p.pid) for pr in procs] + \
                 [("pg:" + role, pid) for pid, role in pgs.items()]
        perf_groups = groups
        m0 = bench.scrape(probe.http_port) if hasattr(bench, "scrape") else None
        perf = st = None
        if args.perf and mode == "curve":
            perf = subprocess.Popen(["perf", "record", "-a", "-F", "999", "-g", "-o", args.perf],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if args.perfp and mode == "curve":
            ev = ["-e", args.perfp_event] if args.perfp_event else ["-F", "499"]
            perf = subprocess.Popen(["perf", "record"] + ev + ["--call-graph", "dwarf,16384", "-o", args.perfp, "-p", str(procs[-1].p.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if args.strace and mode == "curve":
            st = subprocess.Popen(["strace", "-c", "-f", "-o", args.strace, "-p",
                                   str(procs[-1].p.pid)], stderr=subprocess.DEVNULL)
        stc = None
        if args.strace_client and mode == "curve":
            stc = subprocess.Popen(["strace", "-c", "-f", "-o", args.strace_client, "-p",
                                    str(p.pid)], stderr=subprocess.DEVNULL)
        if args.pgss:
            cluster.sql("bench_probe-" + mode, "SELECT pg_stat_statements_reset()")
        t0, s0 = time.monotonic(), sample(groups)
        c0 = bench.scrape(probe.http_port)
        time.sleep(args.seconds - 1.0)
        t1, s1 = time.monotonic(), sample(groups)
        c1 = bench.scrape(probe.http_port)
        if args.pgss:
            pgss = cluster.sql("bench_probe-" + mode, "SELECT calls, round(total_exec_time::numeric,1), round(total_plan_time::numeric,1), rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 150) FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 25")
        for x in (perf, st, stc):
            if x:
                x.send_signal(signal.SIGINT); x.wait()
        out, _ = p.communicate(timeout=120)
        res = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
        def metric(d, name):
            return d.get(name, 0.0)
        cmds = metric(c1, "crm_commands_total") - metric(c0, "crm_commands_total")
        wall = t1 - t0
        rows = {}
        for k, v in s1.items():
            d = [v[i] - s0.get(k, (0, 0, 0))[i] for i in range(3)]
            g, tid, tname = k
            if g.startswith("pg:backend"): g = "pg:backends"
            tn = re.sub(r"\d+$", "", tname) if g == "client" else tname
            key = (g, tn if not g.startswith("pg:") else "")
            r = rows.setdefault(key, [0, 0, 0])
            for i in range(3): r[i] += d[i]
        print("== %s: %.0f cmds/s (client says %s), window %.1fs, %d cmds, %.2f per txn" % (
            mode, cmds / wall, res["cmds_per_s"], wall, cmds,
            res.get("service", {}).get("mean_commands_per_transaction", 0)))
        tot = 0
        for key in sorted(rows, key=lambda k: -rows[k][0]):
            r = rows[key]
            if r[0] <= 0: continue
            tot += r[0]
            print("  %-28s %-20s %7.1f us/cmd (user %6.1f sys %6.1f)  %.2f cores" % (
                key[0], key[1], r[0] / cmds * 1e6, r[1] / cmds * 1e6, r[2] / cmds * 1e6, r[0] / wall))
        print("  total %.1f us/cmd, %.2f cores" % (tot / cmds * 1e6, tot / wall))
        if args.pgss:
            print("  pg_stat_statements (calls | exec ms | plan ms | rows | query):")
            print("\n".join("    " + l for l in pgss.splitlines()))
        sys.stdout.flush()
        if args.perf and mode == "curve":
            perf_report(args.perf, perf_groups, cmds)
        for pr in reversed(procs):
            pr.stop()
finally:
    cluster.destroy()
    shutil.rmtree(workdir, ignore_errors=True)
