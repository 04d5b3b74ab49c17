"""Two instances of one service on one database: retried commands racing on
the same idempotency key commit once and no client is told OK for a change
that did not commit; two instances of one consumer still apply every event
exactly once (the loser of each race rolls back and replays)."""
import threading
import unittest

from crmtest import System, free_port, testing_pb2, wait_for


class InstancesTest(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.sys.start_bus()

    def tearDown(self):
        self.sys.close()

    def test_same_key_on_two_producer_instances(self):
        a = self.sys.add_probe("probe")
        # A second instance on the same database, its own command endpoint.
        b = self.sys.add_probe("probe", start=False)
        b.name = "probe-2"
        b.log_path = a.log_path.replace("probe.log", "probe-2.log")
        b.env["CRM_BIND"] = "tcp://127.0.0.1:%d" % free_port()
        b.env["CRM_HTTP_PORT"] = str(free_port())
        b.start()
        self.sys.procs["probe-2"] = b
        endpoints = [a.env["CRM_BIND"], b.env["CRM_BIND"]]
        body = testing_pb2.ProbeRecordRequest(count=3, label="race").SerializeToString()
        replies, lock = [], threading.Lock()

        def go(endpoint, key):
            from crmtest import Client
            c = Client(self.sys.ctx, endpoint, "probe")
            for _ in range(5):  # a client retries until it gets an answer
                r = c.call_raw("probe.record", body, key=key)
                if r.status.code == 0:
                    break
            with lock:
                replies.append((key, r))
            c.close()
        threads = []
        for k in range(40):
            for e in endpoints:
                threads.append(threading.Thread(target=go, args=(e, "race-%d" % k)))
        [t.start() for t in threads]
        [t.join() for t in threads]
        db = self.sys.dbs["probe"]
        self.assertEqual(self.sys.cluster.query(db, "SELECT count(*) FROM probe_record")[0][0], 40 * 3)
        self.assertEqual(self.sys.cluster.query(db, "SELECT head_seq FROM crm_stream")[0][0], 40 * 3)
        by_key = {}
        for key, r in replies:
            self.assertEqual(r.status.code, 0, r.status)
            by_key.setdefault(key, set()).add(r.body)
        # Both instances answered each key with the one committed reply.
        self.assertTrue(all(len(v) == 1 for v in by_key.values()))

    def test_two_instances_of_one_consumer(self):
        self.sys.add_probe("probe")
        self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        twin = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"], start=False)
        twin.name = "sink-2"
        twin.log_path = twin.log_path.replace("sink.log", "sink-2.log")
        twin.env["CRM_BIND"] = "tcp://127.0.0.1:%d" % free_port()
        twin.env["CRM_HTTP_PORT"] = str(free_port())
        twin.start()
        self.sys.procs["sink-2"] = twin
        c = self.sys.client("probe")
        for i in range(30):
            self.sys.record("probe", 50, client=c)
        c.close()
        db = self.sys.dbs["sink"]
        wait_for(lambda: self.sys.cluster.query(
            db, "SELECT seq FROM crm_consumer_position")[0][0] == 1500, 60, "position at 1500")
        rows = self.sys.cluster.query(db, "SELECT count(*), count(DISTINCT seq), max(seq) FROM probe_applied")
        self.assertEqual(rows[0], (1500, 1500, 1500))
        self.assertEqual(self.sys.cluster.query(db, "SELECT count(*) FROM crm_dead_letter")[0][0], 0)


if __name__ == "__main__":
    unittest.main()
