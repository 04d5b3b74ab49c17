"""Forged events: anyone who can publish on the bus can write an event with
the next sequence number of a source. Consumers apply only what the source
hands out by replay, so a forgery is dropped and counted and the genuine
event is applied; an applied event the source does not have (a conflict) stops
that source for that consumer, loudly, until an operator resolves it."""
import os
import re
import unittest
import urllib.request
import uuid

import zmq

from crmtest import (SharedClusterTest, System, event_pb2, rpc_pb2, run_crmctl, subscribe,
                     testing_pb2, wait_for)

TYPE = "crm.probe.probe.recorded.v1"


def metrics(proc):
    port = int(proc.env["CRM_HTTP_PORT"])
    return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()


def metric(proc, name, **labels):
    """The value of series `name` whose labels include `labels` (0 if absent)."""
    for line in metrics(proc).splitlines():
        m = re.match(r"^%s\{([^}]*)\} (\S+)$" % re.escape(name), line)
        if m and all('%s="%s"' % kv in m.group(1) for kv in labels.items()):
            return float(m.group(2))
    return 0.0


class ForgedTest(SharedClusterTest):
    def setUp(self):
        self.sys = System(self.cluster)
        self.sys.start_bus()
        self.probe = self.sys.add_probe("probe")
        self.sinks = [self.sys.add_probe(n, consume="crm.probe.", peers=["probe"])
                      for n in ("sink1", "sink2")]

    def tearDown(self):
        self.sys.close()

    def restart_source(self):
        self.probe.stop()
        self.probe.start()

    def wait_applied(self, n, sinks=("sink1", "sink2")):
        for s in sinks:
            wait_for(lambda: self.sys.applied(s, "probe").applied == n, 30,
                     "%s to apply %d events" % (s, n))

    def epoch(self):
        c = self.sys.client("probe")
        try:
            return c.call("stream.info", rpc_pb2.StreamInfoRequest(), rpc_pb2.StreamInfoReply).epoch
        finally:
            c.close()

    def forged(self, seq, source="probe", type_=TYPE):
        ev = event_pb2.Event(id=str(uuid.uuid4()), source=source, type=type_, sequence=seq,
                             epoch=self.epoch(), time_us=1,
                             probe_recorded=testing_pb2.ProbeRecorded(serial=999999, label="forged"))
        return [type_.encode(), ev.SerializeToString()]

    def publisher(self):
        pub = self.sys.ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        # The source's own key (stolen, or a compromised source): the bus
        # lets it publish as "probe", so the consumers' own check is what
        # is tested here.
        self.sys.secure(pub, "probe", "bus")
        pub.connect("tcp://127.0.0.1:%d" % self.sys.pub_port)
        return pub

    def status(self):
        env = dict(os.environ, CRM_SERVICES=",".join(
            "%s=%s" % (n, self.sys.endpoints[n]) for n in ("probe", "sink1", "sink2")))
        return run_crmctl(self, env, ["status"]).stdout

    def test_forged_next_sequence_is_dropped_and_the_genuine_event_applied(self):
        self.sys.record("probe", 3)
        self.wait_applied(3)
        pub = self.publisher()
        frames = self.forged(4)
        base = [metric(s, "crm_consumer_replays_total", source="probe") for s in self.sinks]

        def seen():
            # PUB drops until the subscriptions reach it: resend until every
            # sink has asked the source about sequence 4.
            pub.send_multipart(frames)
            return all(metric(s, "crm_consumer_replays_total", source="probe") > b
                       for s, b in zip(self.sinks, base))
        wait_for(seen, 30, "the forged event to reach every sink", interval=0.05)
        # Nothing applied yet: the source has no sequence 4.
        for s in ("sink1", "sink2"):
            self.assertEqual(self.sys.applied(s, "probe").applied, 3)
        # The genuine sequence 4 is applied by every sink, and the forgery
        # is counted when the replay shows the source's own event.
        self.sys.record("probe", 1, label="genuine")
        self.wait_applied(4)
        for s in self.sinks:
            wait_for(lambda: metric(s, "crm_consumer_forged_total", source="probe") >= 1, 30,
                     "%s to count the forgery" % s.name)
            s.wait_log('"event":"consumer.forged"')
        for s in ("sink1", "sink2"):
            rows = self.sys.cluster.query(self.sys.dbs[s],
                                          "SELECT seq, serial FROM probe_applied ORDER BY seq")
            self.assertEqual([r[0] for r in rows], [1, 2, 3, 4])
            self.assertNotIn(999999, [r[1] for r in rows])
            r = self.sys.applied(s, "probe")
            self.assertEqual((r.duplicates, r.out_of_order), (0, 0))
        # The same forgery again, now behind the sinks: dropped and counted.
        before = metric(self.sinks[0], "crm_consumer_forged_total", source="probe")
        wait_for(lambda: pub.send_multipart(frames) or
                 metric(self.sinks[0], "crm_consumer_forged_total", source="probe") > before,
                 30, "the late forgery to be counted", interval=0.05)
        out = self.status()
        self.assertRegex(out, r"sink1\s+probe-sink\s+probe\s+4\s+.*\s[1-9]\d*\s+ok")
        pub.close()

    def test_bus_drops_events_whose_topic_does_not_name_their_source(self):
        pub = self.publisher()
        sales_as_probe = self.forged(1, source="sales")  # topic crm.probe..., source sales
        wrong_type = self.forged(1, type_="crm.probe.other.v1")
        wrong_type[0] = TYPE.encode()  # topic differs from the event's type

        def refused():
            pub.send_multipart(sales_as_probe)
            pub.send_multipart(wrong_type)
            pub.send_multipart([b"crm.probe.x", b"\xff\xff\xff"])
            return '"event":"bus.refused"' in self.sys.procs["bus"].read_log() and \
                '"event":"bus.malformed"' in self.sys.procs["bus"].read_log()
        wait_for(refused, 30, "the bus to refuse and drop", interval=0.05)
        self.sys.record("probe", 2)
        self.wait_applied(2)
        for s in self.sinks:
            self.assertEqual(metric(s, "crm_frames_dropped_total"), 0)
        pub.close()

    def test_event_with_a_bad_text_field_is_dead_lettered_not_applied(self):
        # protobuf-c takes a string that is not UTF-8 (crm/pbcheck.h). Here
        # the source itself hands one out, as a buggy source would:
        # probe.emit passes the payload through as bytes, so only the
        # request's own strings are checked on the way in.
        self.sys.record("probe", 3)
        self.wait_applied(3)
        label = "12345678"
        ev = event_pb2.Event(probe_recorded=testing_pb2.ProbeRecorded(serial=7, label=label))
        raw = ev.SerializeToString().replace(label.encode(), b"bad\xff\xfeok!")
        self.assertIn(b"\xff\xfe", raw)
        c = self.sys.client("probe")
        try:
            rep = c.call_raw("probe.emit", testing_pb2.ProbeEmitRequest(
                type=TYPE, subject="s", event=raw).SerializeToString())
        finally:
            c.close()
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_OK, rep.status)
        self.sys.record("probe", 1, label="after")
        # Every sink dead-letters it as a malformed event naming the field,
        # drops its live copy as a malformed frame, and goes on.
        for name, sink in zip(("sink1", "sink2"), self.sinks):
            db = self.sys.dbs[name]
            wait_for(lambda: self.sys.cluster.query(
                db, "SELECT seq FROM crm_consumer_position WHERE source = 'probe'")[0][0] == 5,
                30, "%s to pass the bad event" % name)
            rows = self.sys.cluster.query(db, "SELECT seq FROM probe_applied ORDER BY seq")
            self.assertEqual([r[0] for r in rows], [1, 2, 3, 5])
            dead = self.sys.cluster.query(db, "SELECT seq, error FROM crm_dead_letter")
            self.assertEqual([d[0] for d in dead], [4])
            self.assertIn("malformed event", dead[0][1])
            self.assertIn("label", dead[0][1])
            self.assertEqual(metric(sink, "crm_consumer_dead_letters_total",
                                    consumer="probe-sink"), 1)
            wait_for(lambda: metric(sink, "crm_frames_dropped_total") >= 1, 30,
                     "%s to drop the live copy" % name)
            sink.wait_log('"event":"consumer.malformed"')

    def test_bus_metrics_count_forwarded_and_dropped(self):
        bus = self.sys.procs["bus"]
        before = {r: metric(bus, "crm_bus_dropped_total", reason=r)
                  for r in ("mismatch", "unauthorised", "malformed", "topic_too_long")}
        forwarded = metric(bus, "crm_bus_forwarded_total")
        self.sys.record("probe", 2)
        self.wait_applied(2)
        self.assertGreaterEqual(metric(bus, "crm_bus_forwarded_total"), forwarded + 2)
        # The "probe" key may publish as probe only: an event of sink1 from
        # it is unauthorised (and an auth refusal with reason "topic").
        topic = b"crm.sink1.probe.recorded.v1"
        sink1_event = event_pb2.Event(id=str(uuid.uuid4()), source="sink1", type=topic.decode(),
                                      sequence=1, time_us=1).SerializeToString()
        # A subscription longer than CRM_BUS_MAX_TOPIC (128), short of the
        # 1024 bytes that would drop the subscriber's connection.
        sub = subscribe(self.sys.ctx, self.sys.sub_port, prefix=b"crm.probe." + b"x" * 200)

        # A PUB sends only what someone subscribed to: someone reads sink1.
        sink1_reader = subscribe(self.sys.ctx, self.sys.sub_port, prefix=b"crm.sink1.")
        pub = self.publisher()
        last = {}

        def counted():
            pub.send_multipart(self.forged(1, source="sales"))
            pub.send_multipart([b"crm.probe.x", b"\xff\xff\xff"])
            pub.send_multipart([topic, sink1_event])
            last.update({r: metric(bus, "crm_bus_dropped_total", reason=r) for r in before})
            return all(last[r] > before[r] for r in before)
        try:
            wait_for(counted, 30, "the bus's drop counters to move", interval=0.05)
        except AssertionError as e:
            raise AssertionError("%s: from %s to %s" % (e, before, last))
        self.assertGreater(metric(bus, "crm_auth_refused_total", reason="topic"), 0)
        self.assertEqual(metric(bus, "crm_bus_dropped_total", reason="subscription_cap"), 0)
        pub.close()
        sub.close()
        sink1_reader.close()

    def test_conflict_stops_the_source_until_resolved(self):
        self.sys.record("probe", 3)
        self.wait_applied(3)
        sink1 = self.sinks[0]
        sink1.stop()
        # The source's event 3 is now another event than the one sink1
        # applied (as after a forged event was applied, or a restore
        # without a new epoch).
        db = self.sys.dbs["probe"]
        raw = bytes(self.sys.cluster.query(db, "SELECT event FROM crm_outbox WHERE seq = 3")[0][0])
        ev = event_pb2.Event()
        ev.ParseFromString(raw)
        ev.id = str(uuid.uuid4())
        self.sys.cluster.query(db, "UPDATE crm_outbox SET event = %s WHERE seq = 3",
                               ev.SerializeToString())
        # A running source answers a replay of the events it published
        # lately from memory (the relay's ring, docs/architecture.md "The
        # relay"), which still holds what it committed; restarted, as after
        # a restore, it answers from its database.
        self.restart_source()
        sink1.start()
        sink1.wait_log('"event":"consumer.conflict"')
        self.assertIn('"level":"error"', [l for l in sink1.read_log().splitlines()
                                          if "consumer.conflict" in l][0])
        self.assertEqual(metric(sink1, "crm_consumer_conflicts_total", source="probe"), 1)
        self.assertRegex(self.status(), r"sink1\s+probe-sink\s+probe\s+3\s+.*\sconflict")
        # sink1 applies nothing more from the source; sink2 goes on.
        self.sys.record("probe", 2)
        self.wait_applied(5, sinks=("sink2",))
        self.assertEqual(self.sys.applied("sink1", "probe").applied, 3)
        # The operator's resolution: accept the source's event at the
        # position (forget the recorded id), then restart the consumer.
        sink1.stop()
        self.sys.cluster.query(self.sys.dbs["sink1"],
                               "UPDATE crm_consumer_position SET event_id = NULL"
                               " WHERE consumer = 'probe-sink' AND source = 'probe'")
        sink1.start()
        self.wait_applied(5, sinks=("sink1",))
        self.assertEqual(metric(sink1, "crm_consumer_conflicts_total", source="probe"), 0)

    def test_unreadable_replayed_event_stops_the_source_and_loses_nothing(self):
        # An event in the source's own outbox that does not decode (a
        # corrupted row): the consumer must neither skip it nor the events
        # after it in the same replay reply.
        self.sys.record("probe", 3)
        self.wait_applied(3)
        sink1 = self.sinks[0]
        sink1.stop()
        self.sys.record("probe", 3)
        self.wait_applied(6, sinks=("sink2",))
        db = self.sys.dbs["probe"]
        raw = bytes(self.sys.cluster.query(db, "SELECT event FROM crm_outbox WHERE seq = 5")[0][0])
        self.sys.cluster.query(db, "UPDATE crm_outbox SET event = %s WHERE seq = 5",
                               b"\xff\xff\xff")
        self.restart_source()  # its memory holds the row as written
        sink1.start()
        sink1.wait_log('"event":"consumer.unreadable"')
        self.assertEqual(metric(sink1, "crm_consumer_conflicts_total", source="probe"), 1)
        self.assertRegex(self.status(), r"sink1\s+probe-sink\s+probe\s+4\s+.*\sconflict")
        self.assertEqual(self.sys.applied("sink1", "probe").applied, 4)
        pos = self.sys.cluster.query(self.sys.dbs["sink1"],
                                     "SELECT seq FROM crm_consumer_position WHERE source = 'probe'")
        self.assertEqual(pos[0][0], 4)
        # The row repaired (here: put back as the source wrote it), a
        # restart applies 5 and 6, each once.
        sink1.stop()
        self.sys.cluster.query(db, "UPDATE crm_outbox SET event = %s WHERE seq = 5", raw)
        sink1.start()
        self.wait_applied(6, sinks=("sink1",))


if __name__ == "__main__":
    unittest.main()
