"""A consumer's transaction whose position moved under it (another instance
of the consumer, an operator) commits nothing: the position moves in the
same round trip as COMMIT (common/sql/0016_position_move.sql), so the
server, not the service, refuses the move and rolls the events back. The
consumer then starts over from the position in the database, applies
nothing twice, and keeps consuming."""
import unittest

import psycopg2

from crmtest import System, wait_for


class PositionMovedTest(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.sys.start_bus()
        self.sys.add_probe("probe")
        self.sink = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])

    def tearDown(self):
        self.sys.close()

    def q(self, sql, *args):
        return self.sys.cluster.query(self.sys.dbs["sink"], sql, *args)

    def applied_seqs(self):
        return [r[0] for r in self.q("SELECT seq FROM probe_applied ORDER BY seq")]

    def position(self):
        return self.q("SELECT seq FROM crm_consumer_position WHERE consumer = 'probe-sink'"
                      " AND source = 'probe'")[0][0]

    def test_a_moved_position_rolls_the_transaction_back(self):
        self.sys.record("probe", 1, label="first")
        wait_for(lambda: self.position() == 1, 20, "the sink to apply event 1")
        # The test holds the sink's position row, so the sink's next
        # transaction applies event 2, then waits to move its position.
        held = psycopg2.connect(self.sys.cluster.url(self.sys.dbs["sink"]))
        self.addCleanup(held.close)
        held.cursor().execute("SELECT 1 FROM crm_consumer_position WHERE consumer = 'probe-sink'"
                              " AND source = 'probe' FOR UPDATE")
        self.sys.record("probe", 1, label="second")
        wait_for(lambda: self.q("SELECT count(*) FROM pg_stat_activity"
                                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                                " AND strpos(query, 'crm_position_move(') > 0")[0][0] == 1,
                 20, "the sink's position move to wait on the test's lock")
        # Another instance moved the position past event 2 meanwhile.
        held.cursor().execute("UPDATE crm_consumer_position SET seq = 2, event_id = NULL"
                              " WHERE consumer = 'probe-sink' AND source = 'probe'")
        held.commit()
        self.sink.wait_log("position moved under its transaction", 20)
        # The sink's transaction rolled back: event 2 is the other
        # instance's, not applied here as well.
        self.assertEqual(self.applied_seqs(), [1])
        self.assertEqual(self.position(), 2)
        # The sink started over from the database and goes on, alone.
        self.sys.record("probe", 1, label="third")
        wait_for(lambda: self.position() == 3, 20, "the sink to apply event 3")
        self.assertEqual(self.applied_seqs(), [1, 3])
        self.assertEqual(self.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)
        self.assertTrue(self.sink.alive())
        self.assertEqual(self.sink.starts, 1)


if __name__ == "__main__":
    unittest.main()
