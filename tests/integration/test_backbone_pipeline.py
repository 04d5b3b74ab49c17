"""Pipelined batches and overload: the works of a batch run interleaved
(their statements pipelined), a failing one still costs only itself, and a
full command queue answers UNAVAILABLE at once while nothing accepted is
lost. The writer is held on a table lock taken by the test, so which
commands share a batch and when the queue is full is decided by state,
never by timing."""
import threading
import unittest
import urllib.request

import psycopg2

from crmtest import System, event_pb2, recv_replies, rpc_pb2, testing_pb2, wait_for


def rec(count, label="x"):
    return testing_pb2.ProbeRecordRequest(count=count, label=label).SerializeToString()


def request(command, body, key, rid):
    return rpc_pb2.CommandRequest(command=command, body=body, idempotency_key=key,
                                  request_id=rid).SerializeToString()


class PipelineTest(unittest.TestCase):
    def start(self, env=None):
        self.sys = System()
        self.sys.start_bus()
        self.probe = self.sys.add_probe("probe", env=env)
        self.db = self.sys.dbs["probe"]

    def tearDown(self):
        self.sys.close()

    def q(self, sql):
        return self.sys.cluster.query(self.db, sql)

    def hold_writer(self):
        """Locks probe_record until release(): the batch that inserts into it
        waits in the database, with its transaction open."""
        conn = psycopg2.connect(self.sys.cluster.url(self.db))
        cur = conn.cursor()
        cur.execute("LOCK TABLE probe_record IN ACCESS EXCLUSIVE MODE")
        return conn

    def wait_blocked(self):
        wait_for(lambda: self.q("SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0] > 0,
                 30, "the probe's batch waiting on the lock")

    def recv(self, client, n):
        return recv_replies(client, n)

    def assert_dense(self, n):
        self.assertEqual(self.q("SELECT head_seq FROM crm_stream")[0][0], n)
        self.assertEqual(self.q("SELECT count(*), min(seq), max(seq) FROM crm_outbox")[0],
                         (n, 1 if n else None, n if n else None))

    def test_failing_work_in_pipelined_batch_retries_the_rest(self):
        """One batch of claims (a unique key) and records, interleaved, two
        claims of each label: the batch aborts on the clash and runs again
        one command per transaction, so the first claim of each label wins,
        the second is ALREADY_EXISTS, and every record commits once. One
        writer: with two, the claims (not held by the lock) would commit in
        a batch of their own beside the held one."""
        self.start(env={"CRM_WRITERS": "1"})
        lock = self.hold_writer()
        first = self.sys.client("probe")
        first.s.send(request("probe.record", rec(1, "first"), "first", 1))
        self.wait_blocked()
        c = self.sys.client("probe")
        sent = {}
        rid = 100
        for i in range(5):
            for dup in range(2):
                rid += 1
                c.s.send(request("probe.claim", rec(1, "seat-%d" % i), "claim-%d-%d" % (i, dup),
                                 rid))
                sent[rid] = ("claim", i, dup)
                rid += 1
                c.s.send(request("probe.record", rec(1, "r%d-%d" % (i, dup)), "rec-%d-%d" % (i, dup),
                                 rid))
                sent[rid] = ("record", i, dup)
        # The same key twice in the batch: one effect, one answer for both.
        for k in range(2):
            rid += 1
            c.s.send(request("probe.record", rec(2, "twice"), "same-key", rid))
            sent[rid] = ("same", 0, k)
        wait_for(lambda: self.probe_queue() == len(sent), 30, "all commands queued")
        lock.rollback()
        lock.close()
        self.assertEqual(self.recv(first, 1)[1].status.code, 0)
        replies = self.recv(c, len(sent))
        for r, (kind, i, dup) in sent.items():
            code = replies[r].status.code
            if kind == "claim" and dup == 1:
                self.assertEqual(code, rpc_pb2.STATUS_CODE_ALREADY_EXISTS, replies[r].status)
            else:
                self.assertEqual(code, 0, (kind, i, dup, replies[r].status))
        same = [replies[r].body for r, s in sent.items() if s[0] == "same"]
        self.assertEqual(same[0], same[1])
        self.assertEqual(self.q("SELECT count(*) FROM probe_claim")[0][0], 5)
        self.assertEqual(self.q("SELECT count(*) FROM probe_record")[0][0], 1 + 10 + 2)
        self.assert_dense(1 + 10 + 2)
        first.close()
        c.close()

    def test_retried_keys_in_a_pipelined_batch_answer_from_their_records(self):
        """Commands sent again with the keys of applied ones, in one batch
        with new commands: the batch runs without the idempotency lookup, so
        the retried keys clash on their records at the end; it runs again
        one by one, and the retries answer with the stored replies while
        the new commands apply once."""
        self.start(env={"CRM_WRITERS": "1"})
        c = self.sys.client("probe")
        before = {}
        for i in range(3):
            r = c.call_raw("probe.record", rec(1, "old-%d" % i), key="old-%d" % i)
            self.assertEqual(r.status.code, 0, r.status)
            before[i] = r.body
        lock = self.hold_writer()
        first = self.sys.client("probe")
        first.s.send(request("probe.record", rec(1, "first"), "first", 1))
        self.wait_blocked()
        sent, rid = {}, 100
        for i in range(3):
            rid += 1
            c.s.send(request("probe.record", rec(1, "old-%d" % i), "old-%d" % i, rid))
            sent[rid] = ("old", i)
            rid += 1
            c.s.send(request("probe.record", rec(1, "new-%d" % i), "new-%d" % i, rid))
            sent[rid] = ("new", i)
        wait_for(lambda: self.probe_queue() == len(sent), 30, "all commands queued")
        lock.rollback()
        lock.close()
        self.assertEqual(self.recv(first, 1)[1].status.code, 0)
        replies = self.recv(c, len(sent))
        for r, (kind, i) in sent.items():
            self.assertEqual(replies[r].status.code, 0, (kind, i, replies[r].status))
            if kind == "old":
                self.assertEqual(replies[r].body, before[i])
        rows = dict(self.q("SELECT label, count(*) FROM probe_record GROUP BY label"))
        self.assertEqual(rows, dict([("first", 1)] + [("old-%d" % i, 1) for i in range(3)] +
                                    [("new-%d" % i, 1) for i in range(3)]))
        self.assert_dense(7)
        first.close()
        c.close()

    def test_outbox_holds_the_bytes_the_relay_published(self):
        """The outbox rows take their sequence and epoch in the database
        (crm_seal) while the relay seals its copy in memory: both must be
        the same bytes, or a replay would differ from the live stream.
        Sequences past one varint byte (>127) and padded events included."""
        self.start()
        sub = self.sys.subscribe(b"crm.probe.probe.")
        wait_for(lambda: (self.sys.record("probe", 1, label="warm") and False) or
                 sub.poll(200), 30, "the subscription up")
        warm = self.q("SELECT head_seq FROM crm_stream")[0][0]
        self.sys.record("probe", 150, label="many")
        self.sys.record("probe", 2, label="big", padding=20000)
        head = self.q("SELECT head_seq FROM crm_stream")[0][0]
        got = {}
        while len([s for s in got if s > warm]) < head - warm:
            self.assertTrue(sub.poll(30000), "no event within 30 s")
            topic, body = sub.recv_multipart()
            ev = event_pb2.Event()
            ev.ParseFromString(body)
            got[ev.sequence] = body
        rows = dict((seq, bytes(ev)) for seq, ev in self.q("SELECT seq, event FROM crm_outbox"))
        self.assertEqual(sorted(s for s in got if s > warm), list(range(warm + 1, head + 1)))
        for seq, body in got.items():
            self.assertEqual(rows[seq], body, seq)
        sub.close()

    def probe_queue(self):
        port = int(self.probe.env["CRM_HTTP_PORT"])
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read()
        for line in text.decode().splitlines():
            if line.startswith("crm_command_queue{"):
                return int(float(line.split()[1]))
        return -1

    def test_overload_answers_unavailable_and_loses_nothing(self):
        """Past CRM_COMMAND_QUEUE_MAX a command is answered UNAVAILABLE at
        once with a retry hint; stream.info answers throughout; every
        accepted command commits, and the refused ones apply once when sent
        again with their keys."""
        # One writer: all 40 wait in the queue behind the held batch.
        self.start(env={"CRM_COMMAND_QUEUE_MAX": "8", "CRM_WRITERS": "1"})
        lock = self.hold_writer()
        c = self.sys.client("probe")
        c.s.send(request("probe.record", rec(1), "k-0", 1))
        self.wait_blocked()
        n = 40
        for i in range(1, n + 1):
            c.s.send(request("probe.record", rec(1), "k-%d" % i, i + 1))
        # The writer is stuck: only refusals can come back now.
        shed = self.recv(c, n - 8)
        for rep in shed.values():
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_UNAVAILABLE, rep.status)
            self.assertGreater(rep.status.retry_after_ms, 0)
            self.assertIn("CRM_COMMAND_QUEUE_MAX", rep.status.detail)
        info = self.sys.client("probe").call_raw("stream.info", b"", key="")
        self.assertEqual(info.status.code, 0, info.status)
        lock.rollback()
        lock.close()
        accepted = self.recv(c, 1 + 8)
        self.assertTrue(all(r.status.code == 0 for r in accepted.values()),
                        [r.status for r in accepted.values()])
        self.assertEqual(set(accepted) | set(shed), set(range(1, n + 2)))
        self.assert_dense(9)
        # Sent again with the same keys: each applies once.
        for rid in sorted(shed):
            rep = c.call_raw("probe.record", rec(1), key="k-%d" % (rid - 1))
            self.assertEqual(rep.status.code, 0, rep.status)
        self.assert_dense(n + 1)
        self.assertEqual(self.q("SELECT count(*) FROM crm_idempotency")[0][0], n + 1)
        c.close()

    def probe_metric(self, name):
        port = int(self.probe.env["CRM_HTTP_PORT"])
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read()
        for line in text.decode().splitlines():
            if line.startswith(name + "{"):
                return float(line.split()[1])
        raise AssertionError("metric %s not found" % name)

    def test_a_command_queued_past_the_deadline_is_refused_at_dequeue(self):
        """A command that waited in the queue past CRM_COMMAND_DEADLINE_MS
        is answered UNAVAILABLE with a retry hint when a batch would take
        it, not executed late. It was never acknowledged and its key never
        recorded: sent again with its key it applies, once."""
        # One writer: the three wait in the queue behind the held batch.
        self.start(env={"CRM_COMMAND_DEADLINE_MS": "100", "CRM_WRITERS": "1"})
        lock = self.hold_writer()
        c = self.sys.client("probe")
        c.s.send(request("probe.record", rec(1), "d-0", 1))
        self.wait_blocked()
        for i in range(1, 4):
            c.s.send(request("probe.record", rec(1), "d-%d" % i, i + 1))
        # The service's own clock says when they are past the deadline (or
        # the housekeeping timer already answered them).
        wait_for(lambda: self.probe_metric("crm_command_queue_oldest_seconds") > 0.1 or
                 self.probe_metric("crm_commands_expired_total") >= 3, 30,
                 "the queued commands past the deadline")
        info = self.sys.client("probe").call_raw("stream.info", b"", key="")
        self.assertEqual(info.status.code, 0, info.status)
        lock.rollback()
        lock.close()
        reps = self.recv(c, 4)
        self.assertEqual(reps[1].status.code, 0, reps[1].status)
        for rid in (2, 3, 4):
            st = reps[rid].status
            self.assertEqual(st.code, rpc_pb2.STATUS_CODE_UNAVAILABLE, st)
            self.assertGreater(st.retry_after_ms, 0)
            self.assertIn("CRM_COMMAND_DEADLINE_MS", st.detail)
            self.assertIn("same idempotency key", st.hint)
        self.assertEqual(self.probe_metric("crm_commands_expired_total"), 3)
        # Nothing of the refused ones was applied or recorded.
        self.assert_dense(1)
        self.assertEqual(self.q("SELECT count(*) FROM crm_idempotency")[0][0], 1)
        # Sent again with their keys: each applies once; a second retry is
        # answered from its record.
        for i in (1, 2, 3, 1):
            rep = c.call_raw("probe.record", rec(1), key="d-%d" % i)
            self.assertEqual(rep.status.code, 0, rep.status)
        self.assert_dense(4)
        self.assertEqual(self.q("SELECT count(*) FROM crm_idempotency")[0][0], 4)
        c.close()

    def test_the_deadline_leaves_room_for_a_batch(self):
        """The deadline at dequeue bounds a command's wait and its batch
        together (CRM_COMMAND_DEADLINE_BATCH, on by default): after a batch
        that took long, a command queued past what the next batch takes is
        refused once its wait and that batch's time pass
        CRM_COMMAND_DEADLINE_MS, before its wait alone does; one the next
        batch takes waits the whole deadline. Refused, it was never
        recorded: its retry applies once."""
        # One writer, one command a batch: the second queued command is past
        # what the next batch takes.
        self.start(env={"CRM_COMMAND_DEADLINE_MS": "6000", "CRM_WRITERS": "1",
                        "CRM_BATCH_MAX": "1"})
        c = self.sys.client("probe")
        # A batch held on the lock for 3 s by the database's clock.
        lock = self.hold_writer()
        c.s.send(request("probe.record", rec(1), "b-0", 1))
        self.wait_blocked()
        wait_for(lambda: self.q("SELECT coalesce(max(extract(epoch FROM now() - query_start)), 0)"
                                " FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0][0]
                 > 3, 30, "the batch held for 3 s")
        lock.rollback()
        lock.close()
        self.assertEqual(self.recv(c, 1)[1].status.code, 0)
        self.assertGreater(self.probe_metric("crm_command_batch_estimate_seconds"), 3)
        # Nothing queued: the whole deadline.
        self.assertEqual(self.probe_metric("crm_command_queue_deadline_seconds"), 6)
        # Held again, two queued behind it: the first is refused at the
        # deadline less that batch's time; the second, which the next batch
        # takes, is not.
        lock = self.hold_writer()
        c.s.send(request("probe.record", rec(1), "b-1", 2))
        self.wait_blocked()
        c.s.send(request("probe.record", rec(1), "b-2", 3))
        c.s.send(request("probe.record", rec(1), "b-3", 4))
        wait_for(lambda: self.probe_metric("crm_commands_expired_total") >= 1, 30,
                 "the queued command past the queue's deadline")
        lock.rollback()
        lock.close()
        reps = self.recv(c, 3)
        self.assertEqual(reps[2].status.code, 0, reps[2].status)
        self.assertEqual(reps[4].status.code, 0, reps[4].status)
        st = reps[3].status
        self.assertEqual(st.code, rpc_pb2.STATUS_CODE_UNAVAILABLE, st)
        self.assertGreater(st.retry_after_ms, 0)
        self.assertIn("less a batch's recent time", st.detail)
        waited = int(st.detail.split("waited ", 1)[1].split(" ms", 1)[0])
        self.assertLess(waited, 6000, st.detail)
        self.assertEqual(self.probe_metric("crm_commands_expired_total"), 1)
        self.assert_dense(3)
        rep = c.call_raw("probe.record", rec(1), key="b-2")
        self.assertEqual(rep.status.code, 0, rep.status)
        self.assert_dense(4)
        self.assertEqual(self.q("SELECT count(*) FROM crm_idempotency")[0][0], 4)
        c.close()

    def test_two_writers_keep_sequences_dense_and_in_order(self):
        """Many clients at once on several writer connections (CRM_WRITERS,
        2 by default): every acknowledged event is in the outbox once, the
        sequences are dense, and a consumer sees them in order."""
        self.start()
        sink = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        wait_for(lambda: self.q("SELECT count(*) FROM pg_stat_activity"
                                " WHERE application_name = 'probe-writer2'")[0][0] == 1,
                 30, "the second writer connected")
        ok, lock = [], threading.Lock()

        def go(i):
            c = self.sys.client("probe")
            for j in range(25):
                r = c.call_raw("probe.record", rec(2, "w%d-%d" % (i, j)))
                with lock:
                    ok.append(r.status.code == 0)
            c.close()
        ts = [threading.Thread(target=go, args=(i,)) for i in range(16)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        self.assertTrue(all(ok) and len(ok) == 400)
        self.assert_dense(800)
        r = wait_for(lambda: (lambda a: a if a.applied >= 800 else None)(
            self.sys.applied("sink", "probe")), 60, "800 events applied")
        self.assertEqual((r.applied, r.last_sequence, r.duplicates, r.out_of_order),
                         (800, 800, 0, 0))
        sink.stop()

    def test_kill_9_mid_pipelined_batches_loses_nothing(self):
        """kill -9 while clients keep several writers busy: after the restart
        every acknowledged command is there once, the sequences are dense,
        and every command sent again with its key applies once."""
        self.start()
        acked, sent, lock = set(), [], threading.Lock()
        stop = threading.Event()

        def go(i):
            c = self.sys.client("probe")
            j = 0
            while not stop.is_set():
                key = "t%d-%d" % (i, j)
                j += 1
                with lock:
                    sent.append(key)
                try:
                    r = c.call_raw("probe.record", rec(1, key), key=key, timeout=3.0, attempts=1)
                except AssertionError:
                    break  # no reply: the service is gone
                if r.status.code == 0:
                    with lock:
                        acked.add(key)
            c.close()
        ts = [threading.Thread(target=go, args=(i,)) for i in range(8)]
        [t.start() for t in ts]
        wait_for(lambda: len(acked) >= 300, 120, "300 commands acknowledged")
        self.probe.kill()
        stop.set()
        [t.join() for t in ts]
        self.probe.start()
        self.assert_dense(self.q("SELECT head_seq FROM crm_stream")[0][0])
        rows = dict(self.q("SELECT label, count(*) FROM probe_record GROUP BY label"))
        for key in acked:
            self.assertEqual(rows.get(key), 1, key)
        c = self.sys.client("probe")
        for key in sent:
            r = c.call_raw("probe.record", rec(1, key), key=key)
            self.assertEqual(r.status.code, 0, (key, r.status))
        c.close()
        rows = dict(self.q("SELECT label, count(*) FROM probe_record GROUP BY label"))
        self.assertEqual({k: rows.get(k) for k in sent}, {k: 1 for k in sent})
        self.assertEqual(sum(rows.values()), len(sent))
        self.assert_dense(len(sent))


if __name__ == "__main__":
    unittest.main()
