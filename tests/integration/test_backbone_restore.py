"""A producer's database restored from a backup: the stream comes back
intact (restore of a current backup), and a restore of an OLDER backup,
which rewinds the stream below what consumers applied, starts a new epoch
so that the events written after it are applied, not dropped as
duplicates of old sequence numbers."""
import os
import subprocess
import unittest

from crmtest import System, pg_bindir, wait_for


class RestoreTest(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.sys.start_bus()
        self.probe = self.sys.add_probe("probe")
        self.sink = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])

    def tearDown(self):
        self.sys.close()

    def dump(self, db):
        path = os.path.join(self.sys.dir, "%s.dump" % db)
        subprocess.run([os.path.join(pg_bindir(), "pg_dump"), "-Fc", "-f", path,
                        "-d", self.sys.cluster.url(db)], check=True)
        return path

    def restore_into_new_db(self, path):
        # As an operator restores (docs/operations.md): into a new database,
        # as its owner role, without the old roles' grants; the service's
        # start grants its runtime role again.
        db = self.sys.cluster.create_service_db()
        subprocess.run([os.path.join(pg_bindir(), "pg_restore"), "--no-owner", "--no-acl", "-d",
                        self.sys.cluster.url(db, db + "_owner"), path], check=True)
        return db

    def switch_probe_to(self, db):
        self.probe.stop()
        self.sys.dbs["probe"] = db
        self.probe.env.update(self.sys.cluster.service_env(db))
        self.probe.start()

    def applied(self, n):
        return wait_for(lambda: (lambda a: a if a.applied >= n else None)(
            self.sys.applied("sink", "probe")), 60, "%d applied" % n)

    def epoch(self, db):
        return self.sys.cluster.query(db, "SELECT epoch::text, epoch_start_seq, head_seq FROM crm_stream")[0]

    def test_current_backup_restores_the_stream(self):
        self.sys.record("probe", 40, label="a")
        self.applied(40)
        path = self.dump(self.sys.dbs["probe"])
        self.switch_probe_to(self.restore_into_new_db(path))
        self.sys.record("probe", 10, label="b")
        r = self.applied(50)
        self.assertEqual((r.applied, r.last_sequence, r.duplicates, r.out_of_order), (50, 50, 0, 0))
        # A late consumer replays the restored stream from sequence 1.
        self.sys.add_probe("late", consume="crm.probe.", peers=["probe"])
        r = wait_for(lambda: (lambda a: a if a.applied >= 50 else None)(
            self.sys.applied("late", "probe")), 60, "late consumer caught up")
        self.assertEqual((r.applied, r.last_sequence, r.duplicates), (50, 50, 0))

    def test_older_backup_starts_a_new_epoch(self):
        self.sys.record("probe", 30, label="old")
        self.applied(30)
        path = self.dump(self.sys.dbs["probe"])           # backup at sequence 30
        old_epoch = self.epoch(self.sys.dbs["probe"])[0]
        self.sys.record("probe", 20, label="lost")         # 31..50: applied, then lost
        self.applied(50)
        self.switch_probe_to(self.restore_into_new_db(path))
        self.probe.wait_log('"event":"stream.epoch"')
        epoch, start, head = self.epoch(self.sys.dbs["probe"])
        self.assertNotEqual(epoch, old_epoch)
        self.assertEqual((start, head), (30, 30))
        self.sys.record("probe", 25, label="new")          # 31..55 of the new epoch
        # The consumer applies all 25 new events although 31..50 reuse
        # sequence numbers it had applied in the old epoch.
        wait_for(lambda: self.sys.cluster.query(
            self.sys.dbs["sink"], "SELECT count(*) FROM probe_applied")[0][0] >= 75,
            60, "the new epoch's events applied")
        rows = self.sys.cluster.query(self.sys.dbs["sink"],
                                      "SELECT seq FROM probe_applied ORDER BY id")
        seqs = [r[0] for r in rows]
        self.assertEqual(seqs, list(range(1, 51)) + list(range(31, 56)))
        labels = self.sys.cluster.query(
            self.sys.dbs["sink"], "SELECT count(*) FROM probe_applied a WHERE a.id > 50"
            " AND a.serial BETWEEN 31 AND 55")
        self.assertEqual(labels[0][0], 25)
        pos = self.sys.cluster.query(self.sys.dbs["sink"],
                                     "SELECT seq, epoch::text FROM crm_consumer_position")[0]
        self.assertEqual(pos, (55, epoch))
        self.assertIn("changed epoch", self.sink.read_log())


if __name__ == "__main__":
    unittest.main()
