"""Set-based runs (crm_command_batch_fn): probe.record's commands of one
batch go to the database as one statement over arrays. The guarantees are
those of one statement per command: a command refused by the database, or
failing after the run's statement wrote its rows, costs only itself (the
batch is retried one command per transaction) and changes nothing; the
same idempotency key twice in a run has one effect and one answer; every
command gets its own serials and events, and sequences stay dense. Each
test runs with the set-based form and without it (PROBE_SET=0), which must
answer alike. The writer is held on a table lock taken by the test, so
which commands share a batch is decided by state, never by timing."""
import unittest

import psycopg2

from crmtest import System, metric_value, recv_replies, rpc_pb2, testing_pb2, wait_for


def rec(count, label, padding=0):
    return testing_pb2.ProbeRecordRequest(count=count, label=label,
                                          padding_bytes=padding).SerializeToString()


def request(body, key, rid):
    return rpc_pb2.CommandRequest(command="probe.record", body=body, idempotency_key=key,
                                  request_id=rid).SerializeToString()


class SetRunTest(unittest.TestCase):
    def start(self, set_based, env=None):
        self.sys = System()
        self.sys.start_bus()
        e = {"CRM_WRITERS": "1", "PROBE_SET": "1" if set_based else "0"}
        e.update(env or {})
        self.probe = self.sys.add_probe("probe", env=e)
        self.db = self.sys.dbs["probe"]

    def tearDown(self):
        if getattr(self, "sys", None):
            self.sys.close()
            self.sys = None

    def q(self, sql):
        return self.sys.cluster.query(self.db, sql)

    def metric(self, name):
        return metric_value(self.probe, name)

    def recv(self, client, n):
        return recv_replies(client, n)

    def one_batch(self, commands):
        """Sends commands [(body, key)] while the writer is held, so that
        they queue and then run as one batch; returns their replies in
        order."""
        conn = psycopg2.connect(self.sys.cluster.url(self.db))
        conn.cursor().execute("LOCK TABLE probe_record IN ACCESS EXCLUSIVE MODE")
        first = self.sys.client("probe")
        first.s.send(request(rec(1, "first"), "first", 1))
        wait_for(lambda: self.q("SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0] > 0, 30,
                 "the probe's batch waiting on the lock")
        c = self.sys.client("probe")
        for i, (body, key) in enumerate(commands):
            c.s.send(request(body, key, 100 + i))
        wait_for(lambda: self.metric("crm_command_queue") == len(commands), 30,
                 "all commands queued")
        conn.rollback()
        conn.close()
        self.assertEqual(self.recv(first, 1)[1].status.code, 0)
        replies = self.recv(c, len(commands))
        first.close()
        c.close()
        return [replies[100 + i] for i in range(len(commands))]

    def assert_serials(self, rep, label, count):
        """The reply names the command's own rows: count serials, all of
        its label, each with its event in the outbox."""
        r = testing_pb2.ProbeRecordReply()
        r.ParseFromString(rep.body)
        rows = self.q("SELECT serial, label FROM probe_record WHERE serial BETWEEN %d AND %d"
                      " ORDER BY serial" % (r.first_serial, r.last_serial))
        self.assertEqual([l for _, l in rows], [label] * count, (label, r))

    def assert_dense(self, n):
        self.assertEqual(self.q("SELECT head_seq FROM crm_stream")[0][0], n)
        self.assertEqual(self.q("SELECT count(*), min(seq), max(seq) FROM crm_outbox")[0],
                         (n, 1, n))

    def check_refused_row(self, set_based):
        """A run of records with one the database refuses (CHECK on label
        'reject'), one refused before any statement (count 0), and one key
        twice: the batch retries one by one; only the two bad ones fail."""
        self.start(set_based)
        cmds = [(rec(1 + i % 3, "r%d" % i), "k-%d" % i) for i in range(8)]
        cmds.insert(3, (rec(2, "reject"), "bad-db"))
        cmds.insert(5, (rec(0, "zero"), "bad-count"))
        cmds.append((rec(2, "twice"), "same-key"))
        cmds.append((rec(2, "twice"), "same-key"))
        reps = self.one_batch(cmds)
        self.assertEqual(reps[3].status.code, rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, reps[3].status)
        self.assertEqual(reps[5].status.code, rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, reps[5].status)
        self.assertEqual(reps[5].status.field, "count")
        ok = [i for i in range(len(cmds)) if i not in (3, 5)]
        for i in ok:
            self.assertEqual(reps[i].status.code, 0, (i, reps[i].status))
        self.assertEqual(reps[-1].body, reps[-2].body)
        for i in ok[:-1]:
            body = testing_pb2.ProbeRecordRequest()
            body.ParseFromString(cmds[i][0])
            self.assert_serials(reps[i], body.label, body.count)
        labels = dict(self.q("SELECT label, count(*) FROM probe_record GROUP BY label"))
        want = {"first": 1, "twice": 2}
        want.update({"r%d" % i: 1 + i % 3 for i in range(8)})
        self.assertEqual(labels, want)
        n = sum(want.values())
        self.assert_dense(n)
        self.assertGreaterEqual(self.metric("crm_batch_retries_total"), 1)
        if set_based:
            self.assertGreaterEqual(self.metric("crm_command_run_works_total"), len(cmds) - 1)
        else:
            self.assertEqual(self.metric("crm_command_runs_total"), 0)
        # Each command again with its key: answered from its record, no
        # new rows; the refused ones apply nothing again either.
        c = self.sys.client("probe")
        for i, (body, key) in enumerate(cmds):
            again = c.call_raw("probe.record", body, key=key)
            self.assertEqual(again.status.code, reps[i].status.code, (i, again.status))
            if i in ok:
                self.assertEqual(again.body, reps[i].body, i)
        c.close()
        self.assert_dense(n)

    def test_refused_row_in_a_run(self):
        self.check_refused_row(True)

    def test_refused_row_one_statement_each(self):
        self.check_refused_row(False)

    def check_failure_after_the_statement(self, set_based):
        """A command whose event is too large fails after the run's
        statement wrote its rows: the batch rolls back and retries one by
        one, so its rows are gone and the others commit once."""
        self.start(set_based, env={"CRM_MAX_EVENT_BYTES": "4096"})
        cmds = [(rec(1, "a%d" % i), "a-%d" % i) for i in range(4)]
        cmds.insert(2, (rec(1, "huge", padding=8000), "huge"))
        reps = self.one_batch(cmds)
        self.assertEqual(reps[2].status.code, rpc_pb2.STATUS_CODE_TOO_LARGE, reps[2].status)
        for i in (0, 1, 3, 4):
            self.assertEqual(reps[i].status.code, 0, (i, reps[i].status))
        labels = dict(self.q("SELECT label, count(*) FROM probe_record GROUP BY label"))
        self.assertEqual(labels, dict([("first", 1)] + [("a%d" % i, 1) for i in range(4)]))
        self.assert_dense(5)
        self.assertGreaterEqual(self.metric("crm_batch_retries_total"), 1)

    def test_failure_after_the_statement_in_a_run(self):
        self.check_failure_after_the_statement(True)

    def test_failure_after_the_statement_one_statement_each(self):
        self.check_failure_after_the_statement(False)


if __name__ == "__main__":
    unittest.main()
