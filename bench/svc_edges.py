"""The parts of the service benchmarks (services.py) at the system's edges:
the NATS bridge, webhooks and the HTTP API."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import bench as B
from svc_common import Rpc, Stack, load_protos, positions, q1


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
                    "unavailable": res["unavailable"],
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
            "http_unavailable": sum(x["unavailable"] for x in runs["http"]),
            "http_first_error": first_error,
            "http_cpu_cores_busy": runs["http"][0]["cpu_cores_busy"],
            "runs": runs,
            "ratio": round(ratio, 3) if ratio is not None else None, "target_ratio": 0.8,
            "target_met": ratio is not None and ratio >= 0.8}
