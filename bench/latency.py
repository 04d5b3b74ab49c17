"""The latency and overload parts of the benchmark (bench.py's parts 3
and 3b): command to event on a bus subscriber at a fixed rate, and twice
the measured ceiling offered with the overload settings before and after.
bench.py imports this once it is itself the module "bench"."""
import os
import statistics
import threading
import time

import bench as B

# ---- 3. latency ------------------------------------------------------------------

def wait_idle(probe, timeout=120):
    """Waits until the service has answered everything it was sent (an
    overloaded run leaves commands queued behind it), so that a run never
    measures the backlog of the one before. Returns the seconds waited."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        m = B.scrape(probe.http_port)
        now = (m.get("crm_commands_total"), m.get("crm_events_published_total"))
        if m.get("crm_command_queue", 0) == 0 and now == last:
            return round(time.monotonic() - t0, 1)
        last = now
        time.sleep(0.3)
    raise RuntimeError("the service still had work queued after %ds" % timeout)


def run_latency(bin_dir, probe, bus_xpub, rate, seconds):
    waited = wait_idle(probe)
    if waited > 1:
        B.log("waited %.1f s for the service to finish the previous run's backlog" % waited)
    m0 = B.scrape(probe.http_port)
    r = B.run_json([os.path.join(bin_dir, "crm-bench-latency"), "--endpoint", probe.endpoint,
                  "--bus", bus_xpub, "--source", probe.source, "--rate", str(rate),
                  "--seconds", str(seconds), "--warmup", "1", "--dealers", "8"],
                 timeout=seconds + 120)
    m1 = B.scrape(probe.http_port)
    cmds = m1.get("crm_commands_total", 0) - m0.get("crm_commands_total", 0)
    tx = m1.get("crm_batches_total", 0) - m0.get("crm_batches_total", 0)
    r["mean_commands_per_transaction"] = round(cmds / tx, 2) if tx else None
    return r


def bench_latency(bin_dir, probe, bus_xpub, args):
    r = run_latency(bin_dir, probe, bus_xpub, args.rate, args.seconds)
    ev, rtt = r["command_to_event_ms"], r["command_rtt_ms"]
    out = {
        "rate_per_s": args.rate,
        "achieved_rate_per_s": r["achieved_rate_per_s"],
        "consumer": "raw SUB on crm-bus XPUB",
        "p50_ms": ev["p50"],
        "p99_ms": ev["p99"],
        "max_ms": ev["max"],
        "target_p99_ms": B.TARGET_P99_MS,
        # Refused commands have no event: a p99 over the rest alone would flatter.
        "target_met": ev["count"] > 0 and ev["p99"] <= B.TARGET_P99_MS and r["events_missing"] == 0
        and r["unavailable"] == 0 and r["failed_other"] == 0,
        "command_rtt_p50_ms": rtt["p50"],
        "command_rtt_p99_ms": rtt["p99"],
        "events_missing": r["events_missing"],
        "refused": r["unavailable"],
        "mean_commands_per_transaction": r["mean_commands_per_transaction"],
        "detail": r,
    }
    # Reference: the same path far from saturation, i.e. the latency floor.
    if args.low_rate:
        lo = run_latency(bin_dir, probe, bus_xpub, args.low_rate, args.low_rate_seconds)
        out["at_low_rate"] = {
            "rate_per_s": args.low_rate,
            "p50_ms": lo["command_to_event_ms"]["p50"],
            "p99_ms": lo["command_to_event_ms"]["p99"],
            "max_ms": lo["command_to_event_ms"]["max"],
            "command_rtt_p50_ms": lo["command_rtt_ms"]["p50"],
            "command_rtt_p99_ms": lo["command_rtt_ms"]["p99"],
            "events_missing": lo["events_missing"],
            "mean_commands_per_transaction": lo["mean_commands_per_transaction"],
        }
    return out


# The admission bound and the deadline at dequeue (docs/operations.md) of
# the overload run, and the sixth session's, run after it on a fresh probe
# for the accepted p99 before and after in the same run.
OVERLOAD_DEFAULTS = {"CRM_COMMAND_QUEUE_WAIT_MS": "50", "CRM_COMMAND_DEADLINE_MS": "80",
                     "CRM_COMMAND_BATCH_MS": "20", "CRM_COMMAND_DEADLINE_BATCH": "1"}
# The seventh session's rule: the deadline bounds the queue wait alone, a
# batch's time comes on top (--overload-repeat alternates it with the
# defaults on fresh probes).
OVERLOAD_SEVENTH = dict(OVERLOAD_DEFAULTS, CRM_COMMAND_DEADLINE_BATCH="0")
# CRM_COMMAND_BATCH_MS this long: every batch up to CRM_BATCH_MAX, as then.
OVERLOAD_BEFORE = {"CRM_COMMAND_QUEUE_WAIT_MS": "250", "CRM_COMMAND_DEADLINE_MS": "10000",
                   "CRM_COMMAND_BATCH_MS": "3600000", "CRM_COMMAND_DEADLINE_BATCH": "0"}


def bench_overload(bin_dir, probe, bus_xpub, args, ceiling, settings=None):
    """Issue 15's overload figure: twice the measured ceiling offered open
    loop (crm-bench-latency) to the probe. The queue must stay bounded
    (its peak, sampled from /metrics, against CRM_COMMAND_QUEUE_MAX), what
    is past it answered UNAVAILABLE at once with a retry hint, the
    accepted commands' p99 under 100 ms, and no client left without a
    reply (a timeout). Also sampled: the queue's expected wait (its
    length over the drain rate, what admission compares with
    CRM_COMMAND_QUEUE_WAIT_MS), the oldest queued command's wait (what
    the deadline at dequeue compares with CRM_COMMAND_DEADLINE_MS) and
    the drain rate."""
    settings = settings or {k: os.environ.get(k, v) for k, v in OVERLOAD_DEFAULTS.items()}
    rate = max(1, int(round(2 * ceiling)))
    waited = wait_idle(probe)
    if waited > 1:
        B.log("waited %.1f s for the service to finish the previous run's backlog" % waited)
    m0 = B.scrape(probe.http_port)
    parts = ("crm_command_queued_seconds", "crm_command_batch_seconds",
             "crm_command_accepted_seconds", "crm_command_batch_work_seconds",
             "crm_command_batch_commit_seconds")
    h0 = {k: B.scrape_hist(probe.http_port, k) for k in parts}
    peak, stop = [0.0], threading.Event()
    peaks = {"crm_command_queue_wait_seconds": 0.0, "crm_command_queue_oldest_seconds": 0.0,
             "crm_command_drain_rate": 0.0, "crm_command_batch_estimate_seconds": 0.0}
    rates = []

    t0 = time.monotonic()

    def sample():
        while not stop.is_set():
            try:
                # The parts from where the client's measuring starts (its
                # warm-up is 1 s), so both count the same commands.
                if h0.get("warm") is None and time.monotonic() - t0 >= 1.0:
                    h0.update({k: B.scrape_hist(probe.http_port, k) for k in parts}, warm=1)
                m = B.scrape(probe.http_port)
                peak[0] = max(peak[0], m.get("crm_command_queue", 0))
                for k in peaks:
                    peaks[k] = max(peaks[k], m.get(k, 0))
                if m.get("crm_command_queue", 0) > 0:
                    rates.append(m.get("crm_command_drain_rate", 0))
            except OSError:
                pass
            stop.wait(0.05)
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        r = B.run_json([os.path.join(bin_dir, "crm-bench-latency"), "--endpoint", probe.endpoint,
                      "--bus", bus_xpub, "--source", probe.source, "--rate", str(rate),
                      "--seconds", str(args.overload_seconds), "--warmup", "1",
                      "--dealers", "8"], timeout=args.overload_seconds + 120)
    finally:
        stop.set()
        sampler.join()
    m1 = B.scrape(probe.http_port)
    h1 = {k: B.scrape_hist(probe.http_port, k) for k in parts}
    acc = r.get("accepted_rtt_ms", {})
    queue_max = int(os.environ.get("CRM_COMMAND_QUEUE_MAX", "4096"))
    refused, hinted = r.get("unavailable", 0), r.get("unavailable_with_retry_hint", 0)
    out = {
        "ceiling_cmds_per_s": round(ceiling), "offered_per_s": rate,
        "achieved_rate_per_s": r["achieved_rate_per_s"], "seconds": args.overload_seconds,
        "measured_commands": r["measured_commands"],
        "refused_unavailable": refused, "refused_with_retry_hint": hinted,
        "accepted": acc.get("count", 0),
        "other_failures": r.get("failed_other", 0),
        "accepted_rtt_p50_ms": acc.get("p50"), "accepted_rtt_p99_ms": acc.get("p99"),
        "accepted_command_to_event_p99_ms": r["command_to_event_ms"]["p99"],
        "client_timeouts": r["replies_missing"],
        "queue_peak": round(peak[0]), "queue_max": queue_max,
        "shed_total": m1.get("crm_commands_shed_total", 0) - m0.get("crm_commands_shed_total", 0),
        "expired_total": m1.get("crm_commands_expired_total", 0)
        - m0.get("crm_commands_expired_total", 0),
        "settings": settings,
        "queue_wait_peak_ms": round(1000 * peaks["crm_command_queue_wait_seconds"]),
        "oldest_wait_peak_ms": round(1000 * peaks["crm_command_queue_oldest_seconds"]),
        "drain_rate_per_s": {"median_while_queued": round(statistics.median(rates))
                             if rates else None,
                             "peak": round(peaks["crm_command_drain_rate"])},
        # An accepted command's latency in the service's own clock, in its
        # parts (histograms; the p99s of the parts do not add up): receive
        # to its batch's start, the batch to the reply, and the two
        # together. The client's round trip less the last is what the
        # service does not see: the ROUTER's socket and the client.
        "service_parts_ms": {
            short: {"p50": B.hist_quantile(h0[k], h1[k], 0.5),
                    "p99": B.hist_quantile(h0[k], h1[k], 0.99)}
            for short, k in (("queued", parts[0]), ("batch", parts[1]),
                             ("receive_to_reply", parts[2]),
                             # per batch, not per command: its statements, and
                             # its COMMIT (the other writer's, then the flush)
                             ("batch_statements", parts[3]), ("batch_commit", parts[4]))},
        "batch_estimate_peak_ms": round(1000 * peaks["crm_command_batch_estimate_seconds"]),
        "target": "queue bounded, refusals UNAVAILABLE with a retry hint, accepted p99 < 100 ms,"
                  " no client timeouts",
    }
    out["checks"] = {"queue_bounded": out["queue_peak"] <= queue_max + 8,
                     "refusals_with_retry_hint": refused == hinted,
                     "accepted_p99_under_100_ms": acc.get("count", 0) > 0
                     and acc.get("p99", 1e9) < 100,
                     "no_client_timeouts": r["replies_missing"] == 0}
    out["target_met"] = all(out["checks"].values())
    B.log("overload, %d/s offered (2 x ceiling %d/s): %d refused (%d with a retry hint), accepted"
        " p99 %s ms, %d timeouts, queue peak %d (bound %d): %s" % (
            rate, ceiling, refused, hinted, acc.get("p99"), r["replies_missing"],
            out["queue_peak"], queue_max, "met" if out["target_met"] else "not met"))
    B.log("overload, wait bound %s ms, deadline %s ms (less a batch: %s), batch %s ms: %d refused"
        " at admission, %d at dequeue; expected wait peak %d ms, oldest queued %d ms, drain rate"
        " %s/s (median while queued)"
        % (settings["CRM_COMMAND_QUEUE_WAIT_MS"], settings["CRM_COMMAND_DEADLINE_MS"],
           settings.get("CRM_COMMAND_DEADLINE_BATCH", "1"), settings["CRM_COMMAND_BATCH_MS"],
           out["shed_total"], out["expired_total"], out["queue_wait_peak_ms"],
           out["oldest_wait_peak_ms"], out["drain_rate_per_s"]["median_while_queued"]))
    sp = out["service_parts_ms"]
    B.log("overload, accepted in the service (p50 / p99 ms): queued %s / %s, batch %s / %s"
        " (a batch's statements %s / %s, its COMMIT %s / %s), receive to reply %s / %s; client"
        " round trip %s / %s; batch estimate peak %d ms"
        % (sp["queued"]["p50"], sp["queued"]["p99"], sp["batch"]["p50"], sp["batch"]["p99"],
           sp["batch_statements"]["p50"], sp["batch_statements"]["p99"],
           sp["batch_commit"]["p50"], sp["batch_commit"]["p99"],
           sp["receive_to_reply"]["p50"], sp["receive_to_reply"]["p99"], acc.get("p50"),
           acc.get("p99"), out["batch_estimate_peak_ms"]))
    out["detail"] = r
    return out
