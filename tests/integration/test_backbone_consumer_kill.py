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
        produced = [0]
        errors = []

        def produce():
            c = self.sys.client("probe")
            try:
                for i in range(commands):
                    self.sys.record("probe", PER_COMMAND, label="n%d" % i, client=c)
                    produced[0] += PER_COMMAND
            except Exception as e:  # surfaced by the main thread
                errors.append(e)
            finally:
                c.close()

        t = threading.Thread(target=produce)
        t.start()
        # Three kills at random points of the production; production never
        # waits for them. Half the time the kill also waits until the sink
        # has applied a random share of what exists, to hit it mid-batch.
        for threshold in sorted(rng.sample(range(500, TOTAL - 1000), 3)):
            wait_for(lambda: produced[0] >= threshold or errors, 120, "production to reach %d" % threshold)
            if rng.random() < 0.5:
                target = rng.randint(1, threshold)
                wait_for(lambda: self.sys.applied("sink", "probe").applied >= target, 120,
                         "sink to apply %d before the kill" % target)
            self.sink.kill()
            self.sink.start()
        t.join(300)
        self.assertFalse(errors, errors)
        self.assertEqual(self.sink.starts, 4)

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
