"""Fair queues: commands wait per client and are served in turn, so one
client flooding a service does not starve another; a command that waited
past CRM_COMMAND_DEADLINE_MS is answered UNAVAILABLE instead of run late."""
import threading
import unittest
import urllib.request

import psycopg2
import zmq

from crmtest import TEST_PRINCIPAL, System, rpc_pb2, testing_pb2, wait_for

FLOOD = 10000


def metric(proc, name):
    port = int(proc.env["CRM_HTTP_PORT"])
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    for line in body.splitlines():
        if line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("metric %s not found" % name)


class FairnessTest(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.sys.start_bus()
        # A gateway (like crm-api) and two staff callers it acts for.
        self.sys.keys.key("gw", "gateway", roles="gateway")
        for name in ("alice", "bob"):
            self.sys.keys.key(name, "staff", roles="admin")

    def start_probe(self, deadline_ms):
        # The flooding client reads its replies, but they come in bursts
        # (a batch, or every expired command at once): room for all of them.
        self.probe = self.sys.add_probe("probe", env={"CRM_COMMAND_DEADLINE_MS": str(deadline_ms),
                                                      "CRM_SEND_HWM": "100000"})

    def tearDown(self):
        self.sys.close()

    def test_a_flood_does_not_starve_another_client(self):
        self.start_probe(3000)
        flood = self.sys.ctx.socket(zmq.DEALER)
        flood.setsockopt(zmq.LINGER, 0)
        flood.setsockopt(zmq.SNDHWM, 0)
        self.sys.secure(flood, TEST_PRINCIPAL, "probe")
        flood.connect(self.sys.endpoints["probe"])
        body = testing_pb2.ProbeRecordRequest(count=1, label="flood").SerializeToString()
        for i in range(FLOOD):
            flood.send(rpc_pb2.CommandRequest(command="probe.record", request_id=i + 1,
                                              idempotency_key="flood-%d" % i, actor="test",
                                              body=body).SerializeToString())
        # Read the flood's replies meanwhile, so that only the queue is tested.
        answered = {"ok": 0, "unavailable": 0}
        stop = threading.Event()

        def drain():
            while not stop.is_set() and sum(answered.values()) < FLOOD:
                if flood.poll(100):
                    r = rpc_pb2.CommandReply()
                    r.ParseFromString(flood.recv())
                    answered["ok" if r.status.code == 0 else "unavailable"] += 1
        t = threading.Thread(target=drain)
        t.start()
        # The flood is queued once the service has read it: wait for that.
        wait_for(lambda: metric(self.probe, "crm_command_queue") > 0 or
                 sum(answered.values()) > 0, 30, "the flood to arrive")
        # A second client, one command a second: each answered at its first
        # attempt, within the client's timeout, while the flood is queued.
        c = self.sys.client("probe")
        try:
            for i in range(5):
                rep = c.call_raw("probe.record",
                                 testing_pb2.ProbeRecordRequest(count=1, label="b").SerializeToString(),
                                 timeout=5.0, attempts=1)
                self.assertEqual(rep.status.code, 0, rep.status)
                threading.Event().wait(1.0)  # the client's pace, not synchronisation
        finally:
            c.close()
        t.join(120)
        stop.set()
        print("flood: %(ok)d ok, %(unavailable)d unavailable" % answered)
        self.assertEqual(sum(answered.values()), FLOOD, "every flooded command answered")
        # Refused: expired in the queue, or shed at CRM_COMMAND_QUEUE_MAX.
        self.assertEqual(metric(self.probe, "crm_commands_expired_total") +
                         metric(self.probe, "crm_commands_shed_total"), answered["unavailable"])
        flood.close()

    def test_callers_behind_one_gateway_are_served_in_turn(self):
        """A gateway sends every caller's commands over its one connection.
        Each caller it delegates for (`actor`) is a client of their own for
        the queue: alice flooding through the gateway does not make bob,
        behind the same connection, wait for her flood or be refused as
        part of it."""
        # No command expires here: the queue is held still below.
        self.start_probe(120000)
        gw = self.sys.ctx.socket(zmq.DEALER)
        gw.setsockopt(zmq.LINGER, 0)
        gw.setsockopt(zmq.SNDHWM, 0)
        self.sys.secure(gw, "gw", "probe")
        gw.connect(self.sys.endpoints["probe"])
        # The writers wait on a lock until bob's first command is queued:
        # left running, they may keep up with the reads of alice's flood, so
        # that none of it is queued when bob's command (behind hers on the
        # one connection) arrives, and the test would show nothing.
        db = self.sys.dbs["probe"]
        hold = psycopg2.connect(self.sys.cluster.url(db))
        hold.cursor().execute("LOCK TABLE probe_record IN ACCESS EXCLUSIVE MODE")
        body = testing_pb2.ProbeRecordRequest(count=1, label="flood").SerializeToString()
        for i in range(FLOOD):
            gw.send(rpc_pb2.CommandRequest(command="probe.record", request_id=i + 1,
                                           idempotency_key="gflood-%d" % i, actor="alice",
                                           body=body).SerializeToString())
        answered = {"ok": 0, "unavailable": 0}
        bob, bob_after = {}, {}

        def pump(ms):
            """Reads what has arrived within `ms`: alice's replies counted,
            bob's kept by request id."""
            while gw.poll(ms):
                r = rpc_pb2.CommandReply()
                r.ParseFromString(gw.recv())
                if r.request_id > FLOOD:
                    bob[r.request_id] = r
                    # alice's replies that came before this one on the
                    # socket: the service's order, not when we read them
                    bob_after.setdefault(r.request_id, answered["ok"])
                else:
                    answered["ok" if r.status.code == 0 else "unavailable"] += 1
                ms = 0
            return True
        # Alice's flood is read once some of it is refused past the queue's
        # bound; from then on her queue stays as it is (the writers wait).
        wait_for(lambda: pump(10) and answered["unavailable"] > 0, 60,
                 "the flood to fill the queue")
        queued = metric(self.probe, "crm_command_queue")
        self.assertGreater(queued, 0)
        bbody = testing_pb2.ProbeRecordRequest(count=1, label="bob").SerializeToString()
        ok_at_bob = None
        for i in range(5):
            rid = FLOOD + 1 + i
            gw.send(rpc_pb2.CommandRequest(command="probe.record", request_id=rid,
                                           idempotency_key="bob-%d" % i, actor="bob",
                                           body=bbody).SerializeToString())
            if i == 0:
                # Bob's first command is queued behind alice's; then the
                # writers go on.
                wait_for(lambda: pump(10) and
                         metric(self.probe, "crm_command_queue") > queued, 30,
                         "bob's command to be queued")
                hold.close()
            wait_for(lambda: pump(10) and rid in bob, 5, "bob's command %d" % i)
            self.assertEqual(bob[rid].status.code, 0, bob[rid].status)
            if ok_at_bob is None:
                ok_at_bob = bob_after[rid]
        wait_for(lambda: pump(10) and sum(answered.values()) == FLOOD, 120,
                 "every flooded command answered")
        print("gateway flood: %(ok)d ok, %(unavailable)d unavailable" % answered)
        # Served in turn, not behind her: some of alice's commands, queued
        # before bob's first, ran after it.
        self.assertGreater(answered["ok"], ok_at_bob)
        gw.close()


if __name__ == "__main__":
    unittest.main()
