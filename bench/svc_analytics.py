"""The analytics part of the service benchmarks (services.py): catch-up of a
backlog, rebuild, and live emit to projection."""
import os
import statistics
import threading
import time
import uuid

import bench as B
import preload
from svc_common import (
    CRM_CUSTOMER_NAMESPACE, DAY, Rpc, Stack, TARGET_CATCH_UP, TARGET_LIVE_P99_MS,
    TARGET_LIVE_RATE, US, load_protos, positions, q1)


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
            try:
                r["one_at_a_time"] = analytics_rebuild(st, pb, ac, heads, caught_up, args)
                r["speedup"] = round(r["runs"]["events_per_s"]
                                     / r["one_at_a_time"]["events_per_s"], 2)
            except RuntimeError as e:
                # The baseline alone past --analytics-timeout (the long
                # mode's 100,000 one at a time on a loaded machine): the
                # part's own figures above still count.
                if not args.rows:
                    raise
                B.log("analytics rebuild one at a time: %s" % str(e)[:300])
                r["one_at_a_time"] = {"error": str(e)[:1000]}
                r["speedup"] = None
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
        # One prepared single-row read: the poller runs a thousand times a
        # second beside what it measures, on the same two cores, and the
        # whole positions table read as text cost its backend about 30%
        # more CPU a poll (bench/README, "live19").
        cur = pos_conn.cursor()
        cur.execute("PREPARE live_pos AS SELECT seq FROM crm_consumer_position"
                    " WHERE consumer = 'analytics.sales' AND source = 'sales'")
        nxt = 0
        while nxt < n and not done.is_set():
            cur.execute("EXECUTE live_pos")
            row = cur.fetchone()
            p = (row[0] if row else 0) - base
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


def live_cpu_seconds(st):
    """CPU seconds used so far, for the live part's CPU an event: each of
    our processes, the cluster's backends summed by database (from their
    process titles, "postgres: user db ..."), its autovacuum workers, its
    other processes, this bench process (its sender and its position
    poller) and the whole machine."""
    out = {p.name: B.proc_cpu_seconds(p.p.pid) for p in st.procs.values()}
    meter = B.CpuMeter(st.cluster, [])
    for pid in meter._pg_pids():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                title = f.read().split(b"\0")[0].decode(errors="replace").split()
        except OSError:
            continue
        if len(title) > 2 and title[0] == "postgres:" and title[2].startswith("bench_"):
            key = "pg_" + title[2][len("bench_"):]
        elif len(title) > 1 and title[1] == "autovacuum":
            key = "pg_autovacuum"
        else:
            key = "pg_background"  # the postmaster, WAL writer, checkpointer...
        out[key] = out.get(key, 0.0) + B.proc_cpu_seconds(pid)
    out["bench"] = B.proc_cpu_seconds(os.getpid())
    out["machine"] = meter._machine_busy_seconds()
    return out


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
    cpu0 = live_cpu_seconds(st)
    sent, seen = emit_watched(st, clients["sales"], bodies, rate, base)
    cpu1 = live_cpu_seconds(st)
    head = q1(sdb, "SELECT head_seq FROM crm_stream")[0]
    lat = sorted((seen[i] - sent[i]) * 1000 for i in range(n))
    achieved = n / (sent[-1] - sent[0]) if n > 1 else 0

    def pct(p):
        return round(lat[min(n - 1, max(0, int(round(p / 100.0 * n)) - 1))], 1)
    r = {"rate_per_s": rate, "achieved_rate_per_s": round(achieved), "events": n,
         "sequences_match_sends": head - base == n,
         "emit_to_projection_ms": {"p50": pct(50), "p99": pct(99), "max": round(lat[-1], 1),
                                   "mean": round(statistics.fmean(lat), 1)},
         "note": "includes the probe's own command transaction, relay and bus hop",
         # Where the machine's CPU goes at this rate, ms an event: the path's
         # processes and their databases' backends share two cores with the
         # bench's sender and poller (backends that ended in the window are
         # missed, as in every CpuMeter figure).
         "cpu_ms_per_event": {k: round((cpu1[k] - cpu0.get(k, 0.0)) * 1000 / n, 4)
                              for k in sorted(cpu1) if cpu1[k] - cpu0.get(k, 0.0) > 0},
         "wall_s": round(seen[-1] - sent[0], 2)}
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
