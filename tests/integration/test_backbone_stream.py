"""The stream survives the failures around it: the bus killed mid-stream, a
subscriber arriving late, a producer dying between commit and publish."""
import unittest

import zmq

from crmtest import System, event_pb2, wait_for


def drain_events(sock, into, timeout_ms=100):
    """Reads what is waiting on a SUB socket into `into` {seq: Event}."""
    while sock.poll(timeout_ms):
        topic, body = sock.recv_multipart()
        if topic.endswith(b"._hb"):
            continue
        ev = event_pb2.Event()
        ev.ParseFromString(body)
        into.setdefault(ev.sequence, ev)
        timeout_ms = 0


class StreamTest(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.bus = self.sys.start_bus()

    def tearDown(self):
        self.sys.close()

    def test_bus_killed_and_restarted_mid_stream(self):
        self.sys.add_probe("probe")
        self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        c = self.sys.client("probe")
        for i in range(20):
            self.sys.record("probe", 100, client=c)
        self.bus.kill()
        # Commands still commit while the bus is gone; their events wait in
        # the outbox and reach the consumer by replay once it notices.
        for i in range(20):
            self.sys.record("probe", 100, client=c)
        self.bus.start('"event":"bus.ready"')
        for i in range(20):
            self.sys.record("probe", 100, client=c)
        c.close()
        r = wait_for(lambda: (lambda a: a if a.applied >= 6000 else None)(
            self.sys.applied("sink", "probe")), 60, "6000 events applied")
        self.assertEqual((r.applied, r.last_sequence, r.duplicates, r.out_of_order),
                         (6000, 6000, 0, 0))

    def test_late_subscriber_gets_everything_from_sequence_1(self):
        self.sys.add_probe("probe")
        c = self.sys.client("probe")
        for i in range(50):
            self.sys.record("probe", 100, client=c)
        c.close()
        sink = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        r = wait_for(lambda: (lambda a: a if a.applied >= 5000 else None)(
            self.sys.applied("sink", "probe")), 60, "5000 events applied")
        self.assertEqual((r.applied, r.last_sequence, r.duplicates, r.out_of_order),
                         (5000, 5000, 0, 0))
        first = self.sys.cluster.query(self.sys.dbs["sink"],
                                       "SELECT seq FROM probe_applied ORDER BY id LIMIT 1")
        self.assertEqual(first[0][0], 1)
        self.assertIn("replaying before going live", sink.read_log())

    def test_producer_killed_between_commit_and_publish(self):
        probe = self.sys.add_probe("probe", env={"CRM_TEST_CRASH_AFTER_COMMIT": "3"})
        sub = self.sys.subscribe(b"crm.probe.")
        # Synchronise with the subscription: heartbeats arrive once it is live.
        wait_for(lambda: sub.poll(100), 30, "first heartbeat on the bus")
        c = self.sys.client("probe")
        self.sys.record("probe", 10, client=c)
        self.sys.record("probe", 10, client=c)
        # The third commit kills the producer after COMMIT, before publishing:
        # the client never hears back, but the events are committed.
        rep = None
        try:
            rep = c.call_raw("probe.record", b"\x08\x0a", timeout=3, attempts=1)
        except AssertionError:
            pass
        self.assertIsNone(rep)
        probe.p.wait(30)
        self.assertEqual(probe.p.returncode, 70)
        self.assertIn("crashing between commit and publish", probe.read_log())
        committed = self.sys.cluster.query(self.sys.dbs["probe"], "SELECT head_seq FROM crm_stream")
        self.assertEqual(committed[0][0], 30)
        seen = {}
        drain_events(sub, seen)
        self.assertEqual(sorted(seen), list(range(1, 21)))  # 21..30 never published
        # After a restart, the relay publishes what was committed but not sent:
        # a plain live subscriber (no replay of its own) receives 21..30.
        probe.env.pop("CRM_TEST_CRASH_AFTER_COMMIT")
        probe.start()
        wait_for(lambda: (drain_events(sub, seen), len(seen) >= 30)[1], 30, "events 21..30 published")
        self.assertEqual(sorted(seen), list(range(1, 31)))
        for seq in range(21, 31):
            self.assertEqual(seen[seq].type, "crm.probe.probe.recorded.v1")
            self.assertEqual(seen[seq].probe_recorded.serial, seq)
        c.close()
        sub.close()


if __name__ == "__main__":
    unittest.main()
