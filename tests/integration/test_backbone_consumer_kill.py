"""10,000 events produced while the consumer is killed with SIGKILL at random
moments three times and restarted: exactly 10,000 applied, in sequence order,
none applied twice."""
import random
import threading
import unittest

from crmtest import System, wait_for

TOTAL = 10000
PER_COMMAND = 50


class ConsumerKillTest(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.sys.start_bus()
        self.sys.add_probe("probe")
        self.sink = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])

    def tearDown(self):
        self.sys.close()

    def test_exactly_once_across_kills(self):
        rng = random.Random()
        commands = TOTAL // PER_COMMAND
        kill_at = sorted(rng.sample(range(5, commands - 5), 3))
        done = threading.Event()
        errors = []

        def produce():
            c = self.sys.client("probe")
            try:
                for i in range(commands):
                    self.sys.record("probe", PER_COMMAND, label="n%d" % i, client=c)
                    if i in kill_at:
                        produced_kill.append(i)
                        kill_now.set()
                        restarted.wait(60)
                        restarted.clear()
            except Exception as e:  # surfaced by the main thread
                errors.append(e)
            finally:
                c.close()
                done.set()

        produced_kill = []
        kill_now, restarted = threading.Event(), threading.Event()
        t = threading.Thread(target=produce)
        t.start()
        kills = 0
        while kills < 3:
            self.assertTrue(kill_now.wait(120), "producer stalled")
            kill_now.clear()
            # Kill at a random point: sometimes at once, sometimes once the
            # consumer has applied something more.
            if rng.random() < 0.5:
                before = self.sys.applied("sink", "probe").applied
                wait_for(lambda: self.sys.applied("sink", "probe").applied > before, 60,
                         "sink to apply more before the kill")
            self.sink.kill()
            kills += 1
            self.sink.start()
            restarted.set()
        t.join(300)
        self.assertFalse(errors, errors)
        self.assertEqual(kills, 3)

        def all_applied():
            r = self.sys.applied("sink", "probe")
            return r if r.applied >= TOTAL else None
        r = wait_for(all_applied, 120, "all %d events applied" % TOTAL)
        self.assertEqual(r.applied, TOTAL)
        self.assertEqual(r.last_sequence, TOTAL)
        self.assertEqual(r.duplicates, 0)
        self.assertEqual(r.out_of_order, 0)
        rows = self.sys.cluster.query(self.sys.dbs["sink"],
                                      "SELECT min(seq), max(seq), count(DISTINCT seq) FROM probe_applied")
        self.assertEqual(rows[0], (1, TOTAL, TOTAL))
        pos = self.sys.cluster.query(self.sys.dbs["sink"],
                                     "SELECT seq FROM crm_consumer_position WHERE consumer = 'probe-sink'")
        self.assertEqual(pos[0][0], TOTAL)
        dead = self.sys.cluster.query(self.sys.dbs["sink"], "SELECT count(*) FROM crm_dead_letter")
        self.assertEqual(dead[0][0], 0)


if __name__ == "__main__":
    unittest.main()
