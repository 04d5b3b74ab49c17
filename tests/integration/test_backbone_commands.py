"""Commands: idempotency, group commit that isolates a bad command, dead
letters and their retry, readiness and graceful shutdown."""
import threading
import unittest
import urllib.error
import urllib.request

from crmtest import SharedClusterTest, System, event_pb2, rpc_pb2, testing_pb2, wait_for


def rec(count, label="x"):
    return testing_pb2.ProbeRecordRequest(count=count, label=label).SerializeToString()


class CommandTest(SharedClusterTest):
    def setUp(self):
        self.sys = System(self.cluster)
        self.sys.start_bus()
        self.probe = self.sys.add_probe("probe")

    def tearDown(self):
        self.sys.close()

    def head(self):
        return self.sys.cluster.query(self.sys.dbs["probe"], "SELECT head_seq FROM crm_stream")[0][0]

    def test_retry_with_same_key_applies_once(self):
        c = self.sys.client("probe")
        r1 = c.call_raw("probe.record", rec(3), key="order-42")
        r2 = c.call_raw("probe.record", rec(3), key="order-42")
        self.assertEqual(r1.status.code, 0)
        self.assertEqual(r2.status.code, 0)
        self.assertEqual(r1.body, r2.body)  # the same answer, from the record
        self.assertEqual(self.head(), 3)
        r3 = c.call_raw("probe.record", rec(4), key="order-42")
        self.assertEqual(r3.status.code, rpc_pb2.STATUS_CODE_IDEMPOTENCY_CONFLICT)
        self.assertEqual(r3.status.field, "idempotency_key")
        self.assertEqual(self.head(), 3)
        c.close()

    def test_key_of_an_applied_command_on_a_failing_request_is_a_conflict(self):
        """A batch runs without looking its keys up first: a work that fails
        without writing has its key checked at the end, so a key applied
        before still answers IDEMPOTENCY_CONFLICT for a different request,
        not the request's own error."""
        c = self.sys.client("probe")
        self.assertEqual(c.call_raw("probe.record", rec(1), key="k-1").status.code, 0)
        r = c.call_raw("probe.record", rec(0), key="k-1")
        self.assertEqual(r.status.code, rpc_pb2.STATUS_CODE_IDEMPOTENCY_CONFLICT, r.status)
        r = c.call_raw("probe.record", rec(0), key="k-2")
        self.assertEqual(r.status.code, rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, r.status)
        self.assertEqual(self.head(), 1)
        c.close()

    def test_unique_violation_is_already_exists_without_sql(self):
        """A statement failing on a unique key answers ALREADY_EXISTS; the
        server's text (table, constraint) goes to the log, not the reply."""
        c = self.sys.client("probe")
        r1 = c.call_raw("probe.claim", rec(1, "seat-7"), key="claim-1")
        self.assertEqual(r1.status.code, 0)
        r2 = c.call_raw("probe.claim", rec(1, "seat-7"), key="claim-2")
        self.assertEqual(r2.status.code, rpc_pb2.STATUS_CODE_ALREADY_EXISTS, r2.status)
        reply = str(r2.status).lower()
        for leak in ("probe_claim", "pkey", "duplicate key", "insert", "seat-7", "23505"):
            self.assertNotIn(leak, reply)
        self.assertEqual(self.sys.cluster.query(self.sys.dbs["probe"],
                                                "SELECT count(*) FROM probe_claim")[0][0], 1)
        self.probe.wait_log("probe_claim_pkey")
        log = self.probe.read_log()
        self.assertIn("23505", log)
        self.assertNotIn("seat-7", log)  # never a parameter value in the log
        c.close()

    def test_http_port_taken_fails_cleanly(self):
        """A start that cannot listen on its HTTP port says so and exits 1
        (it used to abort on closing handles that were never opened)."""
        import socket
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        try:
            p = self.sys.add_probe("clash", start=False,
                                   env={"CRM_HTTP_PORT": str(held.getsockname()[1])})
            p.start(wait_line=None)
            self.assertEqual(p.p.wait(timeout=30), 1, p.read_log())
            self.assertIn('"event":"http.listen"', p.read_log())
        finally:
            held.close()

    def test_concurrent_duplicates_in_one_batch(self):
        """The same key sent by many clients at once: applied once, every
        client gets the same reply."""
        replies, lock = [], threading.Lock()

        def go():
            c = self.sys.client("probe")
            r = c.call_raw("probe.record", rec(2), key="dup-key")
            with lock:
                replies.append(r)
            c.close()
        ts = [threading.Thread(target=go) for _ in range(16)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        self.assertEqual(len(replies), 16)
        self.assertTrue(all(r.status.code == 0 for r in replies), [r.status for r in replies])
        self.assertEqual(len({r.body for r in replies}), 1)
        self.assertEqual(self.head(), 2)

    def test_group_commit_isolates_bad_commands(self):
        """Many clients at once, some invalid: the valid ones all commit, the
        invalid ones change nothing, sequences stay dense."""
        results, lock = [], threading.Lock()

        def go(i):
            c = self.sys.client("probe")
            for j in range(20):
                n = 0 if (i + j) % 7 == 0 else 2
                r = c.call_raw("probe.record", rec(n, "c%d-%d" % (i, j)))
                with lock:
                    results.append((n, r.status.code))
            c.close()
        ts = [threading.Thread(target=go, args=(i,)) for i in range(16)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        ok = sum(n for n, code in results if code == 0)
        self.assertTrue(all((code == 0) == (n > 0) for n, code in results))
        self.assertEqual(self.head(), ok)
        rows = self.sys.cluster.query(self.sys.dbs["probe"],
                                      "SELECT count(*), min(seq), max(seq) FROM crm_outbox")
        self.assertEqual(rows[0], (ok, 1, ok))
        n_rec = self.sys.cluster.query(self.sys.dbs["probe"], "SELECT count(*) FROM probe_record")
        self.assertEqual(n_rec[0][0], ok)

    def test_dead_letter_and_retry(self):
        sink = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        self.sys.record("probe", 2, label="fine")
        self.sys.record("probe", 1, label="poison")
        self.sys.record("probe", 2, label="fine")
        wait_for(lambda: self.sys.applied("sink", "probe").applied == 4, 30, "4 good events applied")
        pos = lambda: self.sys.cluster.query(  # noqa: E731
            self.sys.dbs["sink"], "SELECT seq FROM crm_consumer_position")[0][0]
        wait_for(lambda: pos() == 5, 30, "position past the poison event")
        c = self.sys.client("sink")
        lst = c.call("deadletter.list", rpc_pb2.DeadLetterListRequest(), rpc_pb2.DeadLetterListReply)
        self.assertEqual(len(lst.dead_letters), 1)
        d = lst.dead_letters[0]
        self.assertEqual((d.consumer, d.source, d.sequence, d.type),
                         ("probe-sink", "probe", 3, "crm.probe.probe.recorded.v1"))
        self.assertIn("poison probe rejected", d.error)
        # Retrying a still-poisonous event fails again: attempts go up.
        r = c.call("deadletter.retry", rpc_pb2.DeadLetterRetryRequest(consumer="probe-sink"),
                   rpc_pb2.DeadLetterRetryReply)
        self.assertEqual(r.queued, 1)
        wait_for(lambda: c.call("deadletter.list", rpc_pb2.DeadLetterListRequest(),
                                rpc_pb2.DeadLetterListReply).dead_letters[0].attempts == 2,
                 30, "retry attempt recorded")
        self.assertEqual(self.sys.applied("sink", "probe").applied, 4)
        # Fix the cause (here: the data) and retry: applied once, resolved.
        self.sys.cluster.query(self.sys.dbs["sink"],
                               "UPDATE crm_dead_letter SET event = overlay(event PLACING 'cured!'::bytea"
                               " FROM position('poison'::bytea IN event) FOR 6)")
        c.call("deadletter.retry", rpc_pb2.DeadLetterRetryRequest(), rpc_pb2.DeadLetterRetryReply)
        wait_for(lambda: self.sys.applied("sink", "probe").applied == 5, 30, "retried event applied")
        lst = c.call("deadletter.list", rpc_pb2.DeadLetterListRequest(), rpc_pb2.DeadLetterListReply)
        self.assertEqual(len(lst.dead_letters), 0)
        # A second retry of a resolved dead letter applies nothing.
        r = c.call("deadletter.retry", rpc_pb2.DeadLetterRetryRequest(), rpc_pb2.DeadLetterRetryReply)
        self.assertEqual(r.queued, 0)
        self.assertEqual(self.sys.applied("sink", "probe").duplicates, 0)
        c.close()
        sink.stop()

    def test_readiness_and_graceful_shutdown(self):
        port = int(self.probe.env["CRM_HTTP_PORT"])
        url = "http://127.0.0.1:%d" % port
        wait_for(lambda: urllib.request.urlopen(url + "/readyz", timeout=5).status == 200, 30, "ready")
        self.assertEqual(urllib.request.urlopen(url + "/livez", timeout=5).read(), b"ok\n")
        metrics = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
        for name in ("crm_commands_total", "crm_events_published_total", "crm_command_latency_seconds_bucket",
                     "crm_stream_head_sequence", "crm_bus_connected"):
            self.assertIn(name, metrics)
        # Load in flight while SIGTERM arrives: every acknowledged command is
        # committed, and the process exits 0 once its in-flight work is
        # done, not when CRM_SHUTDOWN_TIMEOUT_MS abandons it (its log says
        # which; a bound on the wall time would measure the machine's load).
        acked, stop = [], threading.Event()

        def load():
            c = self.sys.client("probe")
            while not stop.is_set():
                try:
                    r = c.call_raw("probe.record", rec(1), timeout=2, attempts=1)
                except AssertionError:
                    break
                if r.status.code == 0:
                    acked.append(r)
                elif r.status.code == rpc_pb2.STATUS_CODE_UNAVAILABLE:
                    break
            c.close()
        t = threading.Thread(target=load)
        t.start()
        wait_for(lambda: len(acked) > 20, 30, "some commands acknowledged")
        rc = self.probe.stop(timeout=10)
        stop.set()
        t.join()
        self.assertEqual(rc, 0)
        self.assertNotIn("shutdown timeout", self.probe.read_log())
        self.assertGreaterEqual(self.head(), len(acked))
        with self.assertRaises(Exception):
            urllib.request.urlopen(url + "/livez", timeout=2)


    def test_filtered_consumer_is_not_shown_lagging(self):
        """A consumer of some event types only: the events its filter skips
        are not lag once it has passed them (stream.info and the metric)."""
        sink = self.sys.add_probe("sink", consume="crm.probe.probe.recorded.", peers=["probe"])
        c = self.sys.client("probe")
        other = event_pb2.Event(probe_recorded=testing_pb2.ProbeRecorded(label="skip me"))
        for i in range(3):
            rep = c.call_raw("probe.emit", testing_pb2.ProbeEmitRequest(
                type="crm.probe.other.noticed.v1", subject="s%d" % i,
                event=other.SerializeToString()).SerializeToString())
            self.assertEqual(rep.status.code, 0, rep.status)
        self.sys.record("probe", 1, client=c)
        for i in range(4):
            rep = c.call_raw("probe.emit", testing_pb2.ProbeEmitRequest(
                type="crm.probe.other.noticed.v1", subject="t%d" % i,
                event=other.SerializeToString()).SerializeToString())
            self.assertEqual(rep.status.code, 0, rep.status)
        c.close()
        self.assertEqual(self.head(), 8)
        sc = self.sys.client("sink")

        def info():
            r = sc.call("stream.info", rpc_pb2.StreamInfoRequest(), rpc_pb2.StreamInfoReply)
            return next(x for x in r.consumers if x.source == "probe")
        wait_for(lambda: info().source_head == 8 and info().lag == 0, 30,
                 "sink past every probe event, lag 0")
        ci = info()
        self.assertEqual(ci.position, 4)  # the one event it applied
        self.assertEqual(self.sys.applied("sink", "probe").applied, 1)
        port = int(sink.env["CRM_HTTP_PORT"])
        metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
        lag = [ln for ln in metrics.decode().splitlines()
               if ln.startswith("crm_consumer_lag{") and 'source="probe"' in ln]
        self.assertEqual(len(lag), 1, lag)
        self.assertEqual(lag[0].rsplit(" ", 1)[1], "0")
        sc.close()

if __name__ == "__main__":
    unittest.main()
