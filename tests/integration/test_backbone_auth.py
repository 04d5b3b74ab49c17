"""Trust on every link: CURVE and the ZAP handler on the command port
(replay included) and on both sides of the bus. Unknown keys and plaintext
clients are refused at the handshake, a revoked principal's next command or
publication is refused once the directory is read again (SIGHUP), subscriber
keys read streams and nothing else, and a service publishes only its own
topics. Every outcome is observed on real sockets: the client's socket
monitor reports the handshake, replies and metrics report the rest."""
import itertools
import os
import unittest
import urllib.request

import zmq
from zmq.utils.monitor import recv_monitor_message

from crmtest import Client, System, event_pb2, rpc_pb2, testing_pb2, wait_for


def metric(port, name, **labels):
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in body.splitlines():
        if line.startswith(name + "{") and want in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("metric %s{%s} not found" % (name, want))


def watch(sock):
    """A monitor of sock's handshakes; call before connect. The monitor
    closes when the socket does."""
    # An address of its own: pyzmq's default names the monitor after the
    # socket's fd, which a socket closed a moment ago may have had.
    mon = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
                                  zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                  zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                                  addr="inproc://auth-monitor-%d" % next(_MONITOR_IDS))
    mon.setsockopt(zmq.LINGER, 0)
    _MONITORS.append(mon)
    return mon


_MONITORS = []
_MONITOR_IDS = itertools.count()


def close_monitors():
    while _MONITORS:
        _MONITORS.pop().close()


def handshake(mon, timeout=15):
    """The first handshake outcome the monitor reports: "ok", "auth"
    (refused by the ZAP handler) or "protocol" (no common mechanism)."""
    names = {zmq.EVENT_HANDSHAKE_SUCCEEDED: "ok", zmq.EVENT_HANDSHAKE_FAILED_AUTH: "auth",
             zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "protocol",
             zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "protocol"}
    if not mon.poll(timeout * 1000):
        raise AssertionError("no handshake outcome within %ss" % timeout)
    return names[recv_monitor_message(mon)["event"]]


def stranger_keys(sock, server_public):
    """A well-formed keypair the directory has never heard of."""
    public, secret = zmq.curve_keypair()
    sock.curve_publickey, sock.curve_secretkey = public, secret
    sock.curve_serverkey = server_public.encode()
    return sock


def rec(count):
    return testing_pb2.ProbeRecordRequest(count=count, label="auth").SerializeToString()


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        cls.keys = cls.sys.keys
        cls.keys.key("reader", "subscriber", teams="analysts")
        cls.keys.key("intruder")  # a service key, not the probe's
        cls.sys.start_bus()
        cls.probe = cls.sys.add_probe("probe")
        cls.http = int(cls.probe.env["CRM_HTTP_PORT"])
        cls.endpoint = cls.sys.endpoints["probe"]

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()

    def tearDown(self):
        close_monitors()

    def socket(self, kind):
        s = self.sys.ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        self.addCleanup(s.close)
        return s

    def assertNoReply(self, s):
        """A request on a refused socket is never answered (or cannot even
        be queued, when libzmq dropped the pipe of the failed handshake)."""
        try:
            s.send(rpc_pb2.CommandRequest(command="stream.info", request_id=1).SerializeToString(),
                   zmq.NOBLOCK)
        except zmq.Again:
            return
        self.assertFalse(s.poll(300))

    def refused(self, reason):
        return metric(self.http, "crm_auth_refused_total", reason=reason)

    def bus_log(self):
        return self.sys.procs["bus"].read_log()

    # ---- the command port (and replay, served on it) -------------------

    def test_unknown_key_is_refused_at_the_handshake_and_counted(self):
        before = self.refused("unknown_key")
        s = stranger_keys(self.socket(zmq.DEALER), self.keys.public("probe"))
        mon = watch(s)
        s.connect(self.endpoint)
        self.assertEqual(handshake(mon), "auth")
        wait_for(lambda: self.refused("unknown_key") > before, 10, "the refusal to be counted")
        # Nothing sent on that socket is ever answered, replay included.
        self.assertNoReply(s)

    def test_plaintext_client_is_refused(self):
        s = self.socket(zmq.DEALER)
        mon = watch(s)
        s.connect(self.endpoint)
        self.assertEqual(handshake(mon), "protocol")
        self.assertNoReply(s)

    def test_client_that_does_not_know_the_server_key_gets_nowhere(self):
        """A server holding another key (a man in the middle) is not
        accepted by the client."""
        s = self.socket(zmq.DEALER)
        self.sys.secure(s, "test", "intruder")  # expects the intruder's key
        mon = watch(s)
        s.connect(self.endpoint)
        self.assertNotEqual(handshake(mon), "ok")

    def test_allowed_key_works_and_commands_run_as_its_principal(self):
        c = self.sys.client("probe")
        self.addCleanup(c.close)
        rq = rpc_pb2.CommandRequest(command="probe.record", body=rec(1), idempotency_key="a-1",
                                    actor="somebody-else", request_id=7)
        c.s.send(rq.SerializeToString())
        self.assertTrue(c.s.poll(10000))
        rep = rpc_pb2.CommandReply.FromString(c.s.recv())
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_OK, rep.status)
        # The verified principal, not the request's claim.
        self.assertEqual(testing_pb2.ProbeRecordReply.FromString(rep.body).actor, "test")

    def test_revoked_principal_is_refused_on_its_open_connection(self):
        self.keys.key("temp-staff", "staff", roles="sales-rep")
        c = self.sys.client("probe", "temp-staff")
        self.addCleanup(c.close)
        self.assertEqual(c.call_raw("probe.record", rec(1)).status.code, rpc_pb2.STATUS_CODE_OK)
        before = self.refused("revoked")
        self.keys.revoke("temp-staff")  # SIGHUP to every process, waits for the reload
        try:
            for command, body in (("probe.record", rec(1)), ("stream.replay", b""),
                                  ("stream.info", b"")):
                rep = c.call_raw(command, body, attempts=1)
                self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_UNAUTHENTICATED, command)
            self.assertGreater(self.refused("revoked"), before)
            # A new connection with that key does not get past the handshake.
            s = self.socket(zmq.DEALER)
            self.sys.secure(s, "temp-staff", "probe")
            mon = watch(s)
            s.connect(self.endpoint)
            self.assertEqual(handshake(mon), "auth")
        finally:
            self.keys.restore("temp-staff")
        c2 = self.sys.client("probe", "temp-staff")
        self.addCleanup(c2.close)
        self.assertEqual(c2.call_raw("probe.record", rec(1)).status.code, rpc_pb2.STATUS_CODE_OK)

    def test_subscriber_key_reads_streams_and_changes_nothing(self):
        self.sys.record("probe", 2)
        c = self.sys.client("probe", "reader")
        self.addCleanup(c.close)
        info = c.call_raw("stream.info", b"", key="")
        self.assertEqual(info.status.code, rpc_pb2.STATUS_CODE_OK, info.status)
        replay = c.call_raw("stream.replay",
                            rpc_pb2.ReplayRequest(from_sequence=1, max_events=10).SerializeToString(),
                            key="")
        self.assertEqual(replay.status.code, rpc_pb2.STATUS_CODE_OK, replay.status)
        self.assertGreaterEqual(len(rpc_pb2.ReplayReply.FromString(replay.body).events), 2)
        head = self.sys.cluster.query(self.sys.dbs["probe"], "SELECT head_seq FROM crm_stream")
        before = self.refused("forbidden")
        for command, body in (("probe.record", rec(1)), ("probe.emit", b""),
                              ("stream.rotate_epoch", b""), ("deadletter.retry", b""),
                              ("probe.applied", b"")):
            rep = c.call_raw(command, body)
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_PERMISSION_DENIED, command)
            self.assertEqual(rep.status.field, "command")
        self.assertEqual(self.sys.cluster.query(self.sys.dbs["probe"],
                                                "SELECT head_seq FROM crm_stream"), head)
        self.assertEqual(self.refused("forbidden"), before + 5)

    # ---- the bus: subscribers -------------------------------------------

    def test_bus_subscribe_side(self):
        """Unknown and plaintext subscribers are refused; a subscriber key
        tails; once revoked it is cut off, while others keep receiving."""
        s = stranger_keys(self.socket(zmq.SUB), self.keys.public("bus"))
        mon = watch(s)
        s.connect("tcp://127.0.0.1:%d" % self.sys.sub_port)
        self.assertEqual(handshake(mon), "auth")
        wait_for(lambda: '"refused a connection' in self.bus_log() or
                 'refused a connection' in self.bus_log(), 10, "the bus to log the refusal")

        plain = self.socket(zmq.SUB)
        mon = watch(plain)
        plain.connect("tcp://127.0.0.1:%d" % self.sys.sub_port)
        self.assertEqual(handshake(mon), "protocol")

        self.keys.key("temp-reader", "subscriber")
        tail = self.socket(zmq.SUB)
        self.sys.secure(tail, "temp-reader", "bus")
        tail.setsockopt(zmq.SUBSCRIBE, b"crm.probe.")
        mon = watch(tail)
        tail.connect("tcp://127.0.0.1:%d" % self.sys.sub_port)
        self.assertEqual(handshake(mon), "ok")
        # Heartbeats flow every 200 ms once the subscription is through.
        wait_for(lambda: tail.poll(100) and tail.recv_multipart(), 15, "the stream to flow")
        self.keys.revoke("temp-reader")
        try:
            # The bus made every subscriber pass the handshake again: this one fails.
            self.assertEqual(handshake(mon), "auth")
            while tail.poll(0):
                tail.recv_multipart()
            other = self.sys.subscribe(b"crm.probe.", "reader")
            self.addCleanup(other.close)
            wait_for(lambda: other.poll(100) and other.recv_multipart(), 15,
                     "a listed subscriber to receive again")
            self.sys.record("probe", 1)
            wait_for(lambda: other.poll(100) and b"recorded" in other.recv_multipart()[0], 15,
                     "the new event at the listed subscriber")
            self.assertFalse(tail.poll(0) and b"recorded" in tail.recv_multipart()[0])
        finally:
            self.keys.restore("temp-reader")

    # ---- the bus: publishers ---------------------------------------------

    def test_bus_publish_side_refuses_strangers_plaintext_and_subscribers(self):
        for setup, want in ((lambda s: stranger_keys(s, self.keys.public("bus")), "auth"),
                            (lambda s: s, "protocol"),
                            (lambda s: self.sys.secure(s, "reader", "bus"), "auth")):
            pub = setup(self.socket(zmq.PUB))
            mon = watch(pub)
            pub.connect("tcp://127.0.0.1:%d" % self.sys.pub_port)
            self.assertEqual(handshake(mon), want)
        wait_for(lambda: "a subscriber connection on" in self.bus_log(), 10,
                 "the bus to log the subscriber key refused on its publish side")

    def test_service_cannot_publish_another_services_topic(self):
        sub = self.sys.subscribe(b"crm.probe.")
        self.addCleanup(sub.close)
        pub = self.sys.secure(self.socket(zmq.PUB), "intruder", "bus")
        pub.connect("tcp://127.0.0.1:%d" % self.sys.pub_port)
        forged = envelope(b"crm.probe.probe.recorded.v1", "probe", "forged-by-intruder")[1]

        def dropped():
            pub.send_multipart([b"crm.probe.probe.recorded.v1", forged])
            return 'from \\"intruder\\": topic' in self.bus_log()
        wait_for(dropped, 30, "the bus to drop and count the forged publication", interval=0.05)
        # Its own topics pass.
        own = self.sys.subscribe(b"crm.intruder.")
        self.addCleanup(own.close)

        def own_passes():
            mine = envelope(b"crm.intruder.x.v1", "intruder", "mine")
            pub.send_multipart(mine)
            return own.poll(50) and own.recv_multipart()[1] == mine[1]
        wait_for(own_passes, 30, "the intruder's own topic to pass")
        self.sys.record("probe", 1)
        got = []
        wait_for(lambda: sub.poll(100) and got.append(sub.recv_multipart()) is None and
                 any(b"recorded" in m[0] for m in got), 15, "the probe's real event")
        self.assertFalse(any(m[-1] == forged for m in got))

    def test_revoked_publisher_is_dropped(self):
        self.keys.key("temp-pub")
        own = self.sys.subscribe(b"crm.temp-pub.")
        self.addCleanup(own.close)
        pub = self.sys.secure(self.socket(zmq.PUB), "temp-pub", "bus")
        pub.connect("tcp://127.0.0.1:%d" % self.sys.pub_port)
        before = envelope(b"crm.temp-pub.x.v1", "temp-pub", "before")
        after = envelope(b"crm.temp-pub.x.v1", "temp-pub", "after")

        def passes():
            pub.send_multipart(before)
            return own.poll(50) and own.recv_multipart()[1] == before[1]
        wait_for(passes, 30, "the publisher's topic to pass")
        self.keys.revoke("temp-pub")
        own2 = self.sys.subscribe(b"crm.temp-pub.")
        self.addCleanup(own2.close)
        try:
            def dropped():
                pub.send_multipart(after)
                return 'from \\"temp-pub\\": revoked' in self.bus_log()
            wait_for(dropped, 30, "the bus to drop the revoked publisher's message", interval=0.05)
            for sub in (own, own2):
                while sub.poll(200):
                    self.assertNotEqual(sub.recv_multipart()[1], after[1])
        finally:
            self.keys.restore("temp-pub")


def envelope(topic, source, label):
    """[topic][Event] that passes the bus's envelope check (type = topic,
    naming `source`), so only the publisher check decides."""
    ev = event_pb2.Event(id=label, source=source, type=topic.decode(), sequence=1, time_us=1)
    return [topic, ev.SerializeToString()]


class NoHandlerTest(unittest.TestCase):
    def test_plaintext_switch_warns(self):
        """The development switch is off by default; a process started with
        it says so at warn level."""
        sys_ = System()
        try:
            bus = sys_.start_bus()
            self.assertIn('"event":"auth.ready"', bus.read_log())
            self.assertNotIn("auth.plaintext", bus.read_log())
            p = sys_.add_probe("plain", env={"CRM_INSECURE_PLAINTEXT": "1"}, start=False)
            p.env["CRM_BUS_PUB_ENDPOINT"] = "tcp://127.0.0.1:1"  # it cannot reach a CURVE bus
            p.start()
            log = p.read_log()
            self.assertIn('"level":"warn"', log[log.index("auth.plaintext") - 80:
                                                log.index("auth.plaintext")])
            c = Client(sys_.ctx, sys_.endpoints["plain"])  # plaintext client
            self.assertEqual(c.call_raw("probe.record", rec(1)).status.code, 0)
            c.close()
        finally:
            sys_.close()


if __name__ == "__main__":
    unittest.main()
