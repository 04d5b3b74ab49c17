"""Hostile input on every socket gets an error reply or a counted drop, and
the service keeps answering well-formed clients."""
import os
import random
import unittest
import urllib.request

import zmq

from crmtest import SharedClusterTest, System, rpc_pb2, testing_pb2, wait_for

MALFORMED = rpc_pb2.STATUS_CODE_MALFORMED


def metric(port, name):
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    for line in body.splitlines():
        if line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("metric %s not found" % name)


class HostileTest(SharedClusterTest):
    def setUp(self):
        self.sys = System(self.cluster)
        self.sys.start_bus()
        self.probe = self.sys.add_probe("probe", env={"CRM_MAX_FRAME_BYTES": "65536"})
        self.sink = self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        self.http = int(self.probe.env["CRM_HTTP_PORT"])

    def tearDown(self):
        self.sys.close()

    def raw(self):
        s = self.sys.ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        self.sys.secure(s, "test", "probe")
        s.connect(self.sys.endpoints["probe"])
        return s

    def reply(self, s, timeout=5000):
        self.assertTrue(s.poll(timeout), "no reply")
        rep = rpc_pb2.CommandReply()
        rep.ParseFromString(s.recv())
        return rep

    def assert_still_serving(self):
        rep = self.sys.record("probe", 1)
        self.assertEqual(rep.status.code, 0)

    def test_random_bytes(self):
        s = self.raw()
        rng = random.Random(7)
        for _ in range(50):
            s.send(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))))
        replies = [self.reply(s) for _ in range(50)]
        # Random bytes either fail to parse (malformed) or parse as a request
        # for an unknown command; never a crash, never a success.
        for r in replies:
            self.assertNotEqual(r.status.code, 0)
            self.assertIn(r.status.code, (MALFORMED, rpc_pb2.STATUS_CODE_UNKNOWN_COMMAND,
                                          rpc_pb2.STATUS_CODE_INVALID_ARGUMENT))
        self.assert_still_serving()

    def test_truncated_protobuf(self):
        good = rpc_pb2.CommandRequest(command="probe.record", idempotency_key="k1", request_id=9,
                                      body=testing_pb2.ProbeRecordRequest(count=1).SerializeToString())
        data = good.SerializeToString()
        s = self.raw()
        s.send(data[:len(data) - 3])
        r = self.reply(s)
        self.assertEqual(r.status.code, MALFORMED)
        self.assertIn("CommandRequest", r.status.detail)
        # A well-formed envelope whose body is truncated names the body.
        bad_body = rpc_pb2.CommandRequest(command="probe.record", idempotency_key="k2", request_id=10,
                                          body=b"\x08")
        s.send(bad_body.SerializeToString())
        r = self.reply(s)
        self.assertEqual((r.status.code, r.status.field, r.request_id), (MALFORMED, "body", 10))
        self.assert_still_serving()

    def test_text_with_nul_or_bad_utf8(self):
        # protobuf-c would cut "k\0a" and "k\0b" to one idempotency key "k";
        # both are refused before they reach a batch, and nothing is recorded.
        s = self.raw()
        body = testing_pb2.ProbeRecordRequest(count=1).SerializeToString()
        for i, key in enumerate(("k\x00a", "k\x00b")):
            rq = rpc_pb2.CommandRequest(command="probe.record", idempotency_key=key,
                                        request_id=20 + i, body=body)
            s.send(rq.SerializeToString())
            r = self.reply(s)
            self.assertEqual((r.status.code, r.status.field, r.request_id),
                             (MALFORMED, "idempotency_key", 20 + i))
        # Bytes that are not UTF-8 in a string field (field 1, command).
        s.send(b"\x0a\x02\xc3\x28")
        r = self.reply(s)
        self.assertEqual(r.status.code, MALFORMED)
        self.assert_still_serving()

    def test_frame_over_the_limit(self):
        s = self.raw()
        big = rpc_pb2.CommandRequest(command="probe.record", idempotency_key="big", request_id=11,
                                     body=b"\x00" * 70000)
        s.send(big.SerializeToString())
        r = self.reply(s)
        self.assertEqual(r.status.code, rpc_pb2.STATUS_CODE_TOO_LARGE)
        self.assertIn("limit 65536", r.status.detail)
        self.assert_still_serving()

    def test_too_many_frames(self):
        s = self.raw()
        s.send_multipart([b"a", b"b", b"c"])
        r = self.reply(s)
        self.assertEqual(r.status.code, MALFORMED)
        self.assertEqual(r.status.message, "too many frames")
        self.assertGreaterEqual(metric(self.http, "crm_frames_dropped_total"), 1)
        self.assert_still_serving()

    def test_unknown_command_and_missing_key(self):
        c = self.sys.client("probe")
        r = c.call_raw("probe.nonsense", b"")
        self.assertEqual(r.status.code, rpc_pb2.STATUS_CODE_UNKNOWN_COMMAND)
        self.assertEqual(r.status.field, "command")
        r = c.call_raw("probe.record", testing_pb2.ProbeRecordRequest(count=1).SerializeToString(), key="")
        self.assertEqual((r.status.code, r.status.field),
                         (rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, "idempotency_key"))
        r = c.call_raw("probe.record", testing_pb2.ProbeRecordRequest(count=0).SerializeToString())
        self.assertEqual((r.status.code, r.status.field), (rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, "count"))
        self.assertEqual(r.status.message, "count is out of range")
        head = self.sys.cluster.query(self.sys.dbs["probe"], "SELECT head_seq FROM crm_stream")
        self.assertEqual(head[0][0], 0)  # nothing written by any of these
        c.close()
        self.assert_still_serving()

    def test_garbage_on_the_bus(self):
        """Garbage published on the bus under a consumed topic is dropped by
        the bus (consumers check the same, test_backbone_forged.py), and the
        consumer keeps applying real events."""
        pub = self.sys.ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        self.sys.secure(pub, "probe", "bus")  # the probe's own key: its topics pass the bus
        pub.connect("tcp://127.0.0.1:%d" % self.sys.pub_port)

        def dropped():
            # PUB drops until the subscription reaches it: resend until logged.
            pub.send_multipart([b"crm.probe.probe.recorded.v1", os.urandom(64) + b"\xff\xff"])
            pub.send_multipart([b"crm.probe._hb", b"\xff\xff\xff"])
            pub.send_multipart([b"crm.probe.x", b"a", b"b", b"c"])
            return '"event":"bus.malformed"' in self.sys.procs["bus"].read_log()
        wait_for(dropped, 30, "garbage on the bus to be dropped", interval=0.05)
        self.sys.record("probe", 5)
        wait_for(lambda: self.sys.applied("sink", "probe").applied == 5, 30, "real events applied")
        r = self.sys.applied("sink", "probe")
        self.assertEqual((r.duplicates, r.out_of_order), (0, 0))
        pub.close()

    def test_garbage_on_http(self):
        import socket
        s = socket.create_connection(("127.0.0.1", self.http), timeout=5)
        s.sendall(b"\x00\x01garbage\r\n\r\n")
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        s.close()
        body = urllib.request.urlopen("http://127.0.0.1:%d/livez" % self.http, timeout=5).read()
        self.assertEqual(body, b"ok\n")


if __name__ == "__main__":
    unittest.main()
