"""stream.replay answered from the relay's memory (docs/architecture.md,
"The relay"): the events a source published lately are served from the
ring its relay keeps, and the answer is what the database would give
(the outbox's sealed bytes, head, epoch, scanned position), across a
restart of the source and a change of epoch; a request outside the ring,
or while the ring's epoch is not the stream's, goes to the database."""
import json
import unittest

from crmtest import System, event_pb2, rpc_pb2, wait_for


class ReplayMemoryTest(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.sys.start_bus()
        # Debug: each replay served says whether memory answered it.
        self.probe = self.sys.add_probe("probe", env={"CRM_LOG_LEVEL": "debug"})
        self.client = self.sys.client("probe")

    def tearDown(self):
        self.client.close()
        self.sys.close()

    def served(self):
        """(from, memory) of every replay the probe served, in order."""
        out = []
        for line in self.probe.read_log().splitlines():
            if '"replay.served"' not in line:
                continue
            words = json.loads(line)["msg"].split()
            out.append((int(words[1]), int(words[-1])))
        return out

    def replay(self, frm, max_events=500, prefixes=(), memory=None):
        n = len(self.served())
        rep = self.client.call("stream.replay",
                               rpc_pb2.ReplayRequest(from_sequence=frm, max_events=max_events,
                                                     type_prefixes=list(prefixes)),
                               rpc_pb2.ReplayReply)
        self.assertIsInstance(rep, rpc_pb2.ReplayReply, rep)
        if memory is not None:
            wait_for(lambda: len(self.served()) > n, 10, "the replay's debug line")
            self.assertEqual(self.served()[n], (frm, memory))
        return rep

    def outbox(self, a, b):
        return [bytes(r[0]) for r in self.sys.cluster.query(
            self.sys.dbs["probe"], "SELECT event FROM crm_outbox WHERE seq BETWEEN %s AND %s"
            " ORDER BY seq", a, b)]

    def stream(self):
        return self.sys.cluster.query(self.sys.dbs["probe"],
                                      "SELECT epoch::text, epoch_start_seq FROM crm_stream")[0]

    def fields(self, rep):
        return (list(rep.events), rep.head_sequence, rep.scanned_to_sequence, rep.epoch,
                rep.epoch_start_sequence, rep.first_retained_sequence)

    def test_memory_answers_what_the_database_would(self):
        self.sys.record("probe", 5)
        epoch, start = self.stream()
        mem = self.replay(1, memory=1)
        self.assertEqual(list(mem.events), self.outbox(1, 5))
        self.assertEqual((mem.head_sequence, mem.scanned_to_sequence, mem.epoch,
                          mem.epoch_start_sequence, mem.first_retained_sequence),
                         (5, 5, epoch, start, 1))
        part = self.replay(2, max_events=2, memory=1)
        self.assertEqual((list(part.events), part.scanned_to_sequence), (self.outbox(2, 3), 3))
        none = self.replay(1, prefixes=["crm.probe.nothing."], memory=1)
        self.assertEqual((len(none.events), none.scanned_to_sequence), (0, 5))
        after = self.replay(6, memory=1)
        self.assertEqual((len(after.events), after.head_sequence, after.scanned_to_sequence),
                         (0, 5, 5))

        # Restarted, the source has nothing in memory: the database answers
        # the same requests, with the same bytes and positions.
        self.probe.stop()
        self.probe.start()
        self.assertEqual(self.fields(self.replay(1, memory=0)), self.fields(mem))
        self.assertEqual(self.fields(self.replay(2, max_events=2, memory=0)), self.fields(part))
        self.assertEqual(self.fields(self.replay(1, prefixes=["crm.probe.nothing."], memory=0)),
                         self.fields(none))

        # New events after the restart are in memory again; older ones,
        # outside the ring, come from the database.
        self.sys.record("probe", 3)
        new = self.replay(6, memory=1)
        self.assertEqual((list(new.events), new.head_sequence, new.scanned_to_sequence),
                         (self.outbox(6, 8), 8, 8))
        old = self.replay(3, memory=0)
        self.assertEqual((list(old.events), old.scanned_to_sequence), (self.outbox(3, 8), 8))
        for raw, seq in zip(new.events, range(6, 9)):
            ev = event_pb2.Event()
            ev.ParseFromString(raw)
            self.assertEqual((ev.sequence, ev.epoch), (seq, new.epoch))

    def test_epoch_change(self):
        self.sys.record("probe", 3)
        old_epoch = self.stream()[0]
        self.assertEqual(self.replay(1, memory=1).epoch, old_epoch)
        rot = self.client.call("stream.rotate_epoch", rpc_pb2.RotateEpochRequest(),
                               rpc_pb2.RotateEpochReply)
        self.assertEqual(rot.epoch_start_sequence, 3)
        # Once the relay has read the new epoch (its heartbeats carry it),
        # memory, whose events have the old one, no longer answers.
        sub = self.sys.subscribe(b"crm.probe._hb")
        try:
            def new_epoch_heard():
                if not sub.poll(200):
                    return False
                hb = event_pb2.Heartbeat()
                hb.ParseFromString(sub.recv_multipart()[1])
                return hb.epoch == rot.epoch
            wait_for(new_epoch_heard, 30, "a heartbeat with the new epoch")
        finally:
            sub.close()
        rep = self.replay(4, memory=0)
        self.assertEqual((rep.epoch, rep.epoch_start_sequence, len(rep.events)),
                         (rot.epoch, 3, 0))
        rep = self.replay(2, memory=0)
        self.assertEqual((list(rep.events), rep.epoch), (self.outbox(2, 3), rot.epoch))

        # Events of the new epoch fill the ring again, and it answers with
        # the new epoch and its start.
        self.sys.record("probe", 2)
        rep = self.replay(4, memory=1)
        self.assertEqual((list(rep.events), rep.epoch, rep.epoch_start_sequence,
                          rep.head_sequence), (self.outbox(4, 5), rot.epoch, 3, 5))
        rep = self.replay(1, memory=0)
        self.assertEqual((list(rep.events), rep.epoch), (self.outbox(1, 5), rot.epoch))


if __name__ == "__main__":
    unittest.main()
