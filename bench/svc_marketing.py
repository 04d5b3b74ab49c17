"""The marketing part of the service benchmarks (services.py): send
decisions of an SMS campaign, with PostgreSQL CPU and WAL by relation."""
import time
import uuid

import bench as B
import preload
from svc_common import Rpc, Stack, TARGET_DECISIONS, load_protos, q1


# ---- marketing ----------------------------------------------------------------

# crm-marketing's default MARKETING_SEND_BATCH (recipients decided per
# transaction), given explicitly so that the output says what ran.
MARKETING_SEND_BATCH = 1000

def bench_marketing(bin_dir, workdir, args):
    pb = load_protos(bin_dir)
    M = pb["marketing_pb2"]
    n = args.marketing_recipients
    st = Stack(bin_dir, workdir, args.log_level)
    try:
        for p in ("sales", "support", "analytics"):
            st.start(p, "crm-probe")
        # SMS opt-out, as before the consent ledger: the figure is sends
        # decided, and these people have recorded no consent.
        env = {"MARKETING_SEND_SCAN_MS": str(args.marketing_scan_ms),
               "MARKETING_SEND_BATCH": str(MARKETING_SEND_BATCH),
               "MARKETING_CHANNEL_POLICY": "sms=opt-out"}
        # bench/marketing_cost.py --marketing-send-scans N; else the default.
        scans = getattr(args, "marketing_send_scans", 0)
        if scans:
            env["MARKETING_SEND_SCANS"] = str(scans)
        st.start("marketing", "crm-marketing", ("sales", "support"), env)
        sales = Rpc(st.ctx, st.endpoints["sales"], pb, "sales")
        mk = Rpc(st.ctx, st.endpoints["marketing"], pb, "marketing")
        mdb = st.db("marketing")
        # The people and the campaign's recipients are written set-based in
        # marketing's own tables (the first three through the events and the
        # command, the rest in SQL, compared with those): the figure is the
        # send scan's, and at 100,000 recipients registering everyone
        # through probe sales took minutes of the bench (issue 15, twelfth
        # session). The tables are analysed, as autovacuum does with tables
        # that grew so much before a launch.
        ids = preload.marketing_people(st, sales, pb, n)
        c = mk.call("marketing.campaign.create", M.CreateCampaignRequest(campaign=M.Campaign(
            name="Bench %s" % uuid.uuid4().hex[:8], channels=[M.CHANNEL_SMS],
            budget_minor=100000, currency="EUR", owner="Amy")), M.CampaignReply).campaign
        mk.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=M.CHANNEL_SMS, body="Hi {{name}}, news from {{owner}}")))
        preload.marketing_recipients(st, mk, pb, c.id, ids)
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
               "send_scans": scans or "default",
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
