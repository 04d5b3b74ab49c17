"""The final summary of `make bench`: every figure of issue 15 on one line,
with its baseline or peer from the same run, its target and whether the
target was met. bench.py puts the rows in the JSON document ("summary")
and prints them as a table on stderr at the end.

A row's `met` is true or false when the run judged it, and null when the
part did not run or the target cannot be judged from this run (for
example a rebuild target of 1,000,000 events on a smaller backlog).
Nothing here asserts: a benchmark reports."""
import re

import bench as B

TARGET_SALES_RATIO = 1.0
TARGET_ACCEPTED_P99_MS = 100.0
TARGET_CATCH_UP = 20000
TARGET_REBUILD_S = 60.0
TARGET_LIVE_RATE = 1000
TARGET_DECISIONS = 50000
TARGET_RSS_MB = 32.0


def _g(doc, *path):
    """doc[path[0]][path[1]]..., or None when any step is missing."""
    for k in path:
        if not isinstance(doc, dict) or k not in doc:
            return None
        doc = doc[k]
    return doc


def _n(x, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float) and x < 100:
        return "%.2f%s" % (x, unit)
    return "{:,}{}".format(int(round(x)), unit)


def _ms(x):
    return "-" if x is None else "%.3f" % x


def _row(rows, figure, measured, baseline, target, met):
    rows.append({"figure": figure, "measured": measured, "baseline": baseline,
                 "target": target, "met": met})


def table(doc, first=None):
    """The summary rows of one run's document. `first`: in long mode, the
    first pass, whose rows-independent parts (bus, jetstream) are reused."""
    first = first or doc
    rows = []
    # In long mode the bus and JetStream run in the first pass only.
    bus = doc.get("bus_throughput") or first.get("bus_throughput")
    if bus:
        _row(rows, "bus: crm-bus msgs/s (200 B, CURVE)", _n(bus["crm_bus_msgs_per_s"]),
             "raw zmq_proxy %s" % _n(bus["raw_libzmq_proxy_msgs_per_s"]),
             ">= %.1fx raw (now %.2fx)" % (B.TARGET_BUS_RATIO, bus["ratio"]), bus["target_met"])
    dc = doc.get("durable_commands")
    pg_tps = _g(dc, "pgbench_single_row_tps")
    if dc:
        _row(rows, "backbone: probe.record cmds/s, %d clients" % dc["clients"],
             _n(dc["crm_cmds_per_s"]), "pgbench single-row %s tps" % _n(pg_tps),
             ">= %.0fx pgbench (now %.2fx)" % (B.TARGET_COMMANDS_RATIO, dc["ratio"]),
             dc["target_met"])
        runs = {r["clients"]: r["cmds_per_s"] for r in _g(dc, "scaling", "runs") or []}
        runs[dc["clients"]] = dc["crm_cmds_per_s"]
        _row(rows, "backbone: cmds/s at %s clients" % " / ".join(str(c) for c in sorted(runs)),
             " / ".join(_n(runs[c]) for c in sorted(runs)),
             "implied ceiling %s" % _n(_g(dc, "scaling", "implied_ceiling_cmds_per_s")),
             "(scale)", None)
        cpu = _g(dc, "crm", "cpu_cores_busy", "postgres")
        if cpu is not None and dc["crm_cmds_per_s"]:
            _row(rows, "backbone: PostgreSQL CPU ms per command, %d clients" % dc["clients"],
                 "%.3f" % (1000.0 * cpu / dc["crm_cmds_per_s"]),
                 "pgbench %s" % ("%.3f" % (1000.0 * _g(dc, "pgbench", "cpu_cores_busy",
                                                         "postgres") / pg_tps)
                                 if pg_tps and _g(dc, "pgbench", "cpu_cores_busy", "postgres")
                                 is not None else "-"), "(cost per unit)", None)
        sb = dc.get("set_based")
        if sb:
            _row(rows, "backbone: probe.record set-based / one INSERT per command, %d clients:"
                 " cmds/s (PostgreSQL CPU ms per command)" % sb["clients"],
                 "%s (%s) / %s (%s)" % (_n(sb["set_cmds_per_s"]),
                                        _ms(sb["set_postgres_cpu_ms_per_cmd"]),
                                        _n(sb["one_by_one_cmds_per_s"]),
                                        _ms(sb["one_by_one_postgres_cpu_ms_per_cmd"])),
                 "%s commands a set statement" % _n(sb["commands_per_set_statement"]),
                 "(what the set-based form moved)", None)
        batch = dc.get("pgbench_batch_100")
        if batch and "rows_per_s" in batch:
            _row(rows, "pgbench, 100-row transactions, %d clients: rows/s" % batch["clients"],
                 _n(batch["rows_per_s"]), "(the durable ceiling)", "(peer)", None)
    sales = doc.get("sales")
    # without the commands part, the pgbench sales ran beside its own runs
    pg_tps = pg_tps or _g(sales, "pgbench_single_row_tps")
    if sales and sales.get("runs"):
        runs = sorted(sales["runs"], key=lambda r: r["clients"])
        at32 = next((r for r in runs if r["clients"] == 32), runs[-1])
        ratio = at32["cmds_per_s"] / pg_tps if pg_tps else None
        _row(rows, "sales.person.register cmds/s, %d clients" % at32["clients"],
             _n(at32["cmds_per_s"]), "pgbench single-row %s tps" % _n(pg_tps)
             if pg_tps else "pgbench not run (part commands)",
             ">= %.0fx pgbench%s" % (TARGET_SALES_RATIO, " (now %.2fx)" % ratio
                                      if ratio is not None else ""),
             ratio >= TARGET_SALES_RATIO if ratio is not None else None)
        _row(rows, "sales.person.register cmds/s at %s clients"
             % " / ".join(str(r["clients"]) for r in runs),
             " / ".join(_n(r["cmds_per_s"]) for r in runs), "", "(scale)", None)
        _row(rows, "sales.person.register PostgreSQL CPU ms per command at %s clients"
             % " / ".join(str(r["clients"]) for r in runs),
             " / ".join(_n(r.get("postgres_cpu_ms_per_cmd")) for r in runs), "",
             "(cost per unit)", None)
        # the other hot commands, held to the registration's target (issue
        # 15: "apply the same treatment"), each beside the same pgbench
        others = list(sales.get("other_commands") or [])
        if sales.get("support_ticket_open") and "cmds_per_s" in sales["support_ticket_open"]:
            others.append(sales["support_ticket_open"])
        for r in others:
            r_ratio = r["cmds_per_s"] / pg_tps if pg_tps else None
            _row(rows, "%s cmds/s, %d clients" % (r["command"], r["clients"]),
                 _n(r["cmds_per_s"]), "PostgreSQL CPU %s ms/command; pgbench %s tps"
                 % (_n(r.get("postgres_cpu_ms_per_cmd")), _n(pg_tps)),
                 ">= %.0fx pgbench%s" % (TARGET_SALES_RATIO, " (now %.2fx)" % r_ratio
                                          if r_ratio is not None else ""),
                 r_ratio >= TARGET_SALES_RATIO if r_ratio is not None else None)
        # the set-based forms off / on, alternated (ninth session): means of
        # each command's PostgreSQL CPU per command over the pairs
        pairs = sales.get("set_based_pairs") or []
        for command in sorted({r["command"] for r in pairs}):
            cpu = {m: [r["postgres_cpu_ms_per_cmd"] for r in pairs if r["command"] == command
                       and r["set_based"] == m and r.get("postgres_cpu_ms_per_cmd")]
                   for m in (True, False)}
            held = [r["commands_per_set_statement"] for r in pairs if r["command"] == command
                    and r.get("commands_per_set_statement")]
            if cpu[True] and cpu[False]:
                _row(rows, "%s PostgreSQL CPU ms per command, set-based / one by one"
                     % command, "%s / %s" % (_ms(sum(cpu[True]) / len(cpu[True])),
                                             _ms(sum(cpu[False]) / len(cpu[False]))),
                     "%d pairs, %s commands a set statement" % (
                         len(cpu[True]), _n(sum(held) / len(held)) if held else "-"),
                     "(what the set-based form moved)", None)
        one = _g(sales, "support_ticket_open", "one_at_a_time")
        if one and one.get("cmds_per_s"):
            _row(rows, "support.ticket.open one at a time (SUPPORT_SET=0), 32 clients",
                 _n(one["cmds_per_s"]), "PostgreSQL CPU %s ms/command (set-based: above)"
                 % _n(one.get("postgres_cpu_ms_per_cmd")), "(cost per unit)", None)
        lookup = _g(sales, "preloaded", "lookup")
        if lookup:
            _row(rows, "sales email lookup, known / new email (EXPLAIN ANALYZE)",
                 "%s / %s ms" % (_n(lookup["known_ms"]), _n(lookup["new_ms"])),
                 "%s people" % _n(_g(sales, "preloaded", "people")), "flat with size", None)
        # p99 at half the ceiling: the run offered half the best rate
        # (32 clients, open loop) when the part made one; else the busiest
        # closed-loop run at or under half the best rate.
        ceiling = max([r["cmds_per_s"] for r in runs] or [0])
        h, how = sales.get("at_half_ceiling"), "32 clients, %s/s of %s/s (half offered, open loop)"
        if h and "error" in h:  # the open-loop run measured nothing: say so
            h, how = None, "the run at half the ceiling failed: " + h["error"][:80]
        elif not h:
            half = [r for r in runs if r["cmds_per_s"] <= ceiling / 2 and "error" not in r]
            h = max(half, key=lambda r: r["cmds_per_s"]) if half else None
            how = "%d clients, %%s/s of %%s/s (closed loop)" % h["clients"] if h else how
        _row(rows, "sales.person.register p99 at half its ceiling",
             _n(h["p99_ms"], " ms") if h else "-",
             how % (_n(h["cmds_per_s"]), _n(ceiling)) if h else
             how if sales.get("at_half_ceiling") else "no run at or under half the ceiling",
             "< %.0f ms" % B.TARGET_P99_MS, h["p99_ms"] < B.TARGET_P99_MS if h else None)
    lat = doc.get("latency")
    js = doc.get("jetstream") or first.get("jetstream")
    js_run = _g(js, "runs", "default")
    if lat:
        _row(rows, "command to event p50 / p99 at %d/s" % lat["rate_per_s"],
             "%s / %s" % (_n(lat["p50_ms"], " ms"), _n(lat["p99_ms"], " ms")),
             "JetStream publish to consumer %s / %s" % (
                 _n(js_run["latency_p50_ms"], " ms"), _n(js_run["latency_p99_ms"], " ms"))
             if js_run else "", "p99 < %.0f ms" % B.TARGET_P99_MS, lat["target_met"])
    ov = doc.get("overload")
    if ov:
        _row(rows, "overload at 2x ceiling (%s/s offered)" % _n(ov["offered_per_s"]),
             "%s refused (%s with hint), accepted p99 %s, %d timeouts, queue peak %s" % (
                 _n(ov["refused_unavailable"]), _n(ov["refused_with_retry_hint"]),
                 _n(ov["accepted_rtt_p99_ms"], " ms"), ov["client_timeouts"],
                 _n(ov["queue_peak"])),
             "ceiling %s/s, queue bound %s%s" % (
                 _n(ov["ceiling_cmds_per_s"]), _n(ov["queue_max"]),
                 "; wait bound 250 ms, deadline 10 s (before): accepted p99 %s" % _n(
                     ov["before"]["accepted_rtt_p99_ms"], " ms") if ov.get("before") else ""),
             "bounded, UNAVAILABLE + hint, p99 < %.0f ms, no timeouts" % TARGET_ACCEPTED_P99_MS,
             ov["target_met"])
    if js and "runs" in js:
        fs = js.get("fsync", {})
        before = fs.get("before_ack")
        for name, r in js["runs"].items():
            label = ("fsync before ack: %s" % ("yes" if before is True else "no"
                                                if before is False else before)
                     if name == "default" else "sync_interval: always (fsync per write)")
            _row(rows, "JetStream acked publishes/s, %d publishers (%s)"
                 % (js["publishers"], label), _n(r["acked_per_s"]),
                 "ours: %s durable cmds/s" % _n(_g(dc, "crm_cmds_per_s")) if dc else "",
                 "(peer)", None)
    elif js:
        _row(rows, "JetStream peer", js.get("skipped", "-"), "", "(peer)", None)
    an = doc.get("analytics")
    if an:
        b = an.get("backlog", {})
        _row(rows, "analytics catch-up events/s (%s events)" % _n(b.get("events")),
             _n(b.get("events_per_s")), "PostgreSQL CPU %s ms/event" % b.get(
                 "postgres_cpu_ms_per_event"), ">= %s/s" % _n(TARGET_CATCH_UP),
             b.get("events_per_s", 0) >= TARGET_CATCH_UP if b else None)
        if b.get("postgres_cpu_ms_per_event") is not None:
            _row(rows, "analytics catch-up PostgreSQL CPU ms per event",
                 "%.3f" % b["postgres_cpu_ms_per_event"], "", "(cost per unit)", None)
        if b.get("events_per_s_by_fifth"):
            _row(rows, "analytics catch-up events/s in each fifth of the backlog",
                 " / ".join(_n(x) for x in b["events_per_s_by_fifth"]), "first to last",
                 "flat as the tables fill", None)
        r = an.get("rebuild", {})
        runs = r.get("runs", {})
        if runs:
            met = r.get("target_met")
            _row(rows, "analytics rebuild (%s events)" % _n(runs.get("events")),
                 "%s events/s, %s s" % (_n(runs.get("events_per_s")), runs.get("seconds")),
                 "one at a time %s/s; 1M at this rate %s s" % (
                     _n(_g(r, "one_at_a_time", "events_per_s")),
                     r.get("seconds_for_1m_at_this_rate")),
                 "1M events < %.0f s" % TARGET_REBUILD_S, met if isinstance(met, bool) else None)
        lv = an.get("live", {})
        if lv:
            p99 = _g(lv, "emit_to_projection_ms", "p99")
            judged = lv.get("rate_per_s", 0) >= TARGET_LIVE_RATE
            _row(rows, "analytics live p99 at %s/s" % _n(lv.get("rate_per_s")), _n(p99, " ms"),
                 "", "p99 < %.0f ms at %s/s" % (B.TARGET_P99_MS, _n(TARGET_LIVE_RATE)),
                 (p99 is not None and p99 < B.TARGET_P99_MS) if judged else None)
    mk = doc.get("marketing")
    if mk and "recipients_decided_per_s" in mk:
        _row(rows, "marketing send decisions/s (%s recipients)" % _n(mk["recipients"]),
             _n(mk["recipients_decided_per_s"]), "", ">= %s/s" % _n(TARGET_DECISIONS),
             mk["recipients_decided_per_s"] >= TARGET_DECISIONS)
        if mk.get("postgres_cpu_ms_per_decision") is not None:
            _row(rows, "marketing PostgreSQL CPU ms per decision",
                 "%.4f" % mk["postgres_cpu_ms_per_decision"], "", "(cost per unit)", None)
    rss = {}
    for part in ("analytics", "sales", "marketing", "api"):
        for name, mib in (_g(doc, part, "rss_peak", "mib") or {}).items():
            rss[name] = max(rss.get(name, 0), mib)
    if rss:
        worst = max(rss, key=rss.get)
        _row(rows, "peak RSS per service, MiB", "max %s (%s)" % (rss[worst], worst),
             ", ".join("%s %s" % kv for kv in sorted(rss.items())), "< %.0f MB" % TARGET_RSS_MB,
             all(v < TARGET_RSS_MB for v in rss.values()))
    return rows


def show(rows, title):
    """The rows as a text table on stderr."""
    if not rows:
        return
    head = ("figure", "measured", "baseline / peer (same run)", "target", "met")
    cells = [head] + [(r["figure"], r["measured"], r["baseline"], r["target"],
                       "yes" if r["met"] is True else "no" if r["met"] is False else "-")
                      for r in rows]
    widths = [min(60, max(len(str(c[i])) for c in cells)) for i in range(len(head))]
    B.log(title + ":")
    for i, c in enumerate(cells):
        B.log("  " + " | ".join(str(x).ljust(w) for x, w in zip(c, widths)))
        if i == 0:
            B.log("  " + "-+-".join("-" * w for w in widths))


def by_rows(summaries):
    """Long mode: one row per figure with its measured value at each table
    size ("a / b / c", in the order of `summaries`, a dict of size -> rows),
    so that a cost growing with the tables shows on one line. Figures are
    matched by their label without its parentheses (which name sizes)."""
    def key(figure):
        return re.sub(r" \([^)]*\)", "", figure)
    sizes = list(summaries)
    order, cells = [], {}
    for size in sizes:
        for r in summaries[size]:
            k = key(r["figure"])
            if k not in cells:
                order.append(k)
                cells[k] = {"target": key(r["target"]), "met": {}, "measured": {}}
            cells[k]["measured"][size] = r["measured"]
            cells[k]["met"][size] = r["met"]
    rows = []
    for k in order:
        c = cells[k]
        mets = [c["met"].get(s) for s in sizes]
        _row(rows, k, " / ".join(str(c["measured"].get(s, "-")) for s in sizes),
             "at %s rows" % " / ".join("{:,}".format(int(s)) for s in sizes), c["target"],
             None if any(m is None for m in mets) else all(mets))
        rows[-1]["by_rows"] = {s: c["measured"].get(s) for s in sizes}
    return rows


def show_by_rows(rows, title):
    """by_rows' rows as a text table on stderr, one column per table size
    side by side, so that a figure growing with the tables reads along its
    line."""
    if not rows:
        return
    sizes = list(rows[0]["by_rows"])
    head = (("figure",) + tuple("{:,} rows".format(int(s)) for s in sizes) + ("target", "met"))
    cells = [head] + [(r["figure"],) + tuple(str(r["by_rows"].get(s) or "-") for s in sizes)
                      + (r["target"], "yes" if r["met"] is True else "no"
                         if r["met"] is False else "-") for r in rows]
    widths = [min(62 if i == 0 else 40, max(len(str(c[i])) for c in cells))
              for i in range(len(head))]
    B.log(title + ":")
    for i, c in enumerate(cells):
        B.log("  " + " | ".join(str(x).ljust(w) for x, w in zip(c, widths)))
        if i == 0:
            B.log("  " + "-+-".join("-" * w for w in widths))
