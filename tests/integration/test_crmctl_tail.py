"""crmctl against real services: `tail` (replay, live, filters, limits,
signals), `status`, `deadletter list|retry` and `stream rotate-epoch`.

crmctl runs as a subprocess with CRM_SERVICES and CRM_BUS_SUB_ENDPOINT
pointing at the test system. Tests synchronise on crmctl's own output lines
(read by a thread into a queue) and on replies, never on sleeps."""
import json
import os
import queue
import re
import signal
import subprocess
import threading
import unittest

from crmtest import BIN, TEST_PRINCIPAL, Cluster, System, free_port, wait_for, keyring

CRMCTL = os.path.join(BIN, "crmctl")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Running:
    """crmctl as a child process whose stdout lines arrive on a queue."""

    def __init__(self, args, env):
        self.p = subprocess.Popen([CRMCTL] + args, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def line(self, timeout=30):
        """The next stdout line; None once stdout is closed."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("crmctl printed no line within %ss" % timeout)

    def json_line(self, timeout=30):
        line = self.line(timeout)
        if line is None:
            raise AssertionError("crmctl exited (%s) instead of printing: %s" %
                                 (self.p.wait(), self.p.stderr.read()))
        return json.loads(line)

    def wait(self, timeout=30):
        rc = self.p.wait(timeout=timeout)
        self.reader.join(timeout)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()


class CrmctlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.destroy()

    def setUp(self):
        self.sys = System(self.cluster)
        self.sys.start_bus()
        self.sys.add_probe("probe")
        self.running = []

    def tearDown(self):
        for r in self.running:
            r.kill()
        self.sys.close()

    # ---- helpers -------------------------------------------------------

    def env(self, services=None):
        spec = services or ",".join("%s=%s" % kv for kv in sorted(self.sys.endpoints.items()))
        return dict(os.environ, CRM_SERVICES=spec,
                    CRM_BUS_SUB_ENDPOINT="tcp://127.0.0.1:%d" % self.sys.sub_port)

    def crmctl(self, *args, services=None, timeout=60):
        return subprocess.run([CRMCTL] + list(args), env=self.env(services), capture_output=True,
                              text=True, timeout=timeout)

    def crmctl_json(self, *args, **kw):
        r = self.crmctl(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def start(self, *args, services=None):
        r = Running(list(args), self.env(services))
        self.running.append(r)
        return r

    def record(self, count, label="x", name="probe"):
        self.sys.record(name, count, label=label)

    def status(self, **kw):
        doc = self.crmctl_json("status", "-o", "json", **kw)
        self.assertEqual(len(doc), 1)
        return {s["service"]: s for s in doc[0]["services"]}

    # ---- tail ------------------------------------------------------------

    def test_tail_from_beginning_prints_every_event_once_in_order(self):
        # More than one replay batch (500), in two commands with two labels.
        self.record(700, "first")
        self.record(500, "second")
        evs = self.crmctl_json("tail", "--from", "beginning", "-e", "-o", "json",
                               "--source", "probe")
        self.assertEqual([int(e["sequence"]) for e in evs], list(range(1, 1201)))
        self.assertEqual([int(e["data"]["serial"]) for e in evs], list(range(1, 1201)))
        self.assertEqual([e["data"]["label"] for e in evs], ["first"] * 700 + ["second"] * 500)
        e = evs[0]
        # CloudEvents 1.0 structured JSON (docs/events.md); a probe event has
        # no subject, so the attribute is left out rather than empty.
        self.assertEqual(list(e.keys()), ["specversion", "id", "source", "type", "time",
                                          "sequence", "epoch", "correlationid", "causationid",
                                          "actor", "datacontenttype", "dataschema", "data"])
        self.assertEqual(e["specversion"], "1.0")
        self.assertEqual(e["datacontenttype"], "application/json")
        self.assertEqual(e["dataschema"], "proto:crm.v1.ProbeRecorded")
        self.assertEqual(e["correlationid"], e["causationid"])
        # The principal whose command recorded them, carried through replay.
        self.assertEqual({x["actor"] for x in evs}, {TEST_PRINCIPAL})
        self.assertEqual(e["source"], "probe")
        self.assertEqual(e["type"], "crm.probe.probe.recorded.v1")
        self.assertRegex(e["id"], UUID_RE)
        self.assertRegex(e["epoch"], UUID_RE)
        self.assertRegex(e["time"], TIME_RE)
        self.assertNotIn("padding", e["data"])
        self.assertEqual(len({x["id"] for x in evs}), 1200)
        # The same through the readable format: one line per event.
        r = self.crmctl("tail", "--from", "beginning", "-e", "--source", "probe")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1200)
        self.assertIn("  probe  1  crm.probe.probe.recorded.v1  ", lines[0])
        self.assertIn('"label":"first"', lines[0])

    def test_tail_count_includes_live_events(self):
        self.record(3, "old")
        t = self.start("tail", "--from", "beginning", "-n", "8", "-o", "json",
                       "--source", "probe")
        first = t.json_line()
        self.assertEqual(int(first["sequence"]), 1)
        # tail has subscribed and is replaying: what comes now is live.
        self.record(5, "live")
        evs = [first] + [t.json_line() for _ in range(7)]
        self.assertEqual(t.line(), None)  # exits after COUNT events
        self.assertEqual(t.wait(), 0)
        self.assertEqual([int(e["sequence"]) for e in evs], list(range(1, 9)))
        self.assertEqual([e["data"]["label"] for e in evs], ["old"] * 3 + ["live"] * 5)

    def test_tail_follows_live_stream_across_many_commands(self):
        t = self.start("tail", "--from", "now", "-o", "json", "--source", "probe")
        # --from now prints nothing older than the head it found: produce
        # until the first event shows up, then a known tail of events.
        got = []

        def first_event():
            self.record(1, "probe")
            try:
                got.append(t.lines.get(timeout=0.5))
                return True
            except queue.Empty:
                return False
        wait_for(first_event, 30, "tail --from now to print a new event", interval=0)
        start = int(json.loads(got[0])["sequence"])
        for i in range(20):
            self.record(10, "burst")
        evs = [t.json_line() for _ in range(200)]
        seqs = [int(e["sequence"]) for e in evs]
        # Whatever was in flight, the output continues without gap or duplicate.
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 200)))
        self.assertGreater(seqs[0], start)
        self.assertEqual(evs[-1]["data"]["label"], "burst")
        t.p.send_signal(signal.SIGINT)
        self.assertEqual(t.wait(10), 0)

    def test_tail_from_sequence(self):
        self.record(10)
        evs = self.crmctl_json("tail", "--from", "5", "-e", "-o", "json", "--source", "probe")
        self.assertEqual([int(e["sequence"]) for e in evs], list(range(5, 11)))
        # Past the head: nothing, and -e still ends.
        self.assertEqual(self.crmctl_json("tail", "--from", "99", "-e", "-o", "json"), [])

    def test_tail_from_now_with_exit_prints_nothing(self):
        self.record(4)
        self.assertEqual(self.crmctl_json("tail", "-e", "-o", "json"), [])

    def test_tail_type_filter(self):
        self.sys.add_probe("other")
        self.record(4, "p")
        self.record(3, "o", name="other")
        self.record(2, "p2")
        evs = self.crmctl_json("tail", "--from", "beginning", "-e", "-o", "json",
                               "--type", "crm.other.")
        self.assertEqual([(e["source"], int(e["sequence"])) for e in evs],
                         [("other", 1), ("other", 2), ("other", 3)])
        evs = self.crmctl_json("tail", "--from", "beginning", "-e", "-o", "json",
                               "--type", "crm.probe.probe.recorded")
        self.assertEqual([(e["source"], int(e["sequence"])) for e in evs],
                         [("probe", s) for s in range(1, 7)])
        # Both sources, each in order.
        evs = self.crmctl_json("tail", "--from", "beginning", "-e", "-o", "json", "--type",
                               "crm.probe.", "--type", "crm.other.")
        self.assertEqual(sorted((e["source"], int(e["sequence"])) for e in evs),
                         [("other", s) for s in range(1, 4)] + [("probe", s) for s in range(1, 7)])
        self.assertEqual(self.crmctl_json("tail", "--from", "beginning", "-e", "-o", "json",
                                          "--type", "crm.probe.nothing."), [])
        # Live events pass the same filter.
        t = self.start("tail", "--from", "beginning", "-n", "5", "-o", "json",
                       "--type", "crm.other.")
        self.assertEqual(int(t.json_line()["sequence"]), 1)
        self.record(3, "p-live")
        self.record(2, "o-live", name="other")
        evs = [t.json_line() for _ in range(4)]
        self.assertEqual(t.wait(), 0)
        self.assertEqual([(e["source"], int(e["sequence"])) for e in evs],
                         [("other", s) for s in range(2, 6)])

    def test_tail_usage_errors_exit_2(self):
        for args, text in [
            (["--source", "nope"], 'unknown source "nope"'),
            (["--source", "probe,nope"], 'unknown source "nope"'),
            (["--from", "yesterday"], "--from"),
            (["--from", "0"], "--from"),
            (["-n", "0"], "-n"),
            (["--type", ""], "--type"),
            (["--type", "crm.nobody."], "no configured service"),
            (["--bogus"], 'unknown option "--bogus"'),
            (["-o", "yaml"], "output format"),
        ]:
            r = self.crmctl("tail", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(text, r.stderr, args)
            self.assertTrue(r.stderr.startswith("crmctl: "), r.stderr)
        r = self.crmctl("tail", "--source", "nope")
        self.assertIn("DETAIL:  Configured services: probe.", r.stderr)

    def test_tail_stops_on_sigint_and_sigterm(self):
        self.record(1)
        for sig in (signal.SIGINT, signal.SIGTERM):
            t = self.start("tail", "--from", "beginning", "-o", "json", "--source", "probe")
            self.assertEqual(int(t.json_line()["sequence"]), 1)
            t.p.send_signal(sig)
            self.assertEqual(t.wait(5), 0)

    def test_tail_repairs_a_lost_bus(self):
        # The bus dies while tail follows: events committed meanwhile reach
        # tail by replay (heartbeats stop, so tail asks the source itself).
        self.record(2)
        t = self.start("tail", "--from", "beginning", "-o", "json", "--source", "probe")
        self.assertEqual([int(t.json_line()["sequence"]) for _ in range(2)], [1, 2])
        self.sys.procs["bus"].kill()
        self.record(3)
        self.assertEqual([int(t.json_line(30)["sequence"]) for _ in range(3)], [3, 4, 5])
        self.sys.procs["bus"].start('"event":"bus.ready"')
        self.record(2)
        self.assertEqual([int(t.json_line(30)["sequence"]) for _ in range(2)], [6, 7])

    # ---- status, dead letters, epochs -------------------------------------

    def test_status_shows_head_and_down_services(self):
        self.record(4)
        st = self.status()
        p = st["probe"]
        self.assertEqual(p["state"], "up")
        self.assertEqual(p["head_sequence"], 4)
        self.assertRegex(p["epoch"], UUID_RE)
        self.assertIn("published_sequence", p)
        self.assertIn("first_retained_sequence", p)
        self.assertEqual(p["consumers"], [])
        # A service that does not answer is "down", not a failure...
        dead = "dead=tcp://127.0.0.1:%d" % free_port()
        st = self.status(services="probe=%s,%s" % (self.sys.endpoints["probe"], dead))
        self.assertEqual(st["dead"]["state"], "down")
        self.assertEqual(st["probe"]["head_sequence"], 4)
        # ...unless every one is down.
        r = self.crmctl("status", services=dead)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("could not reach any service", r.stderr)
        # The readable table.
        r = self.crmctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^SERVICE\s+STATE\s+READY\s+EPOCH\s+HEAD")
        self.assertRegex(r.stdout, r"(?m)^probe\s+up\s+yes\s+[0-9a-f-]{36}\s+4\s")

    def test_status_shows_consumers(self):
        self.record(5)
        self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        wait_for(lambda: self.sys.applied("sink", "probe").applied == 5, 30, "sink applied 5")

        def caught_up():
            c = self.status()["sink"]["consumers"]
            return c if c and c[0]["position"] == 5 else None
        c = wait_for(caught_up, 30, "status to show the sink at position 5")
        self.assertEqual((c[0]["consumer"], c[0]["source"], c[0]["lag"], c[0]["dead_letters"]),
                         ("probe-sink", "probe", 0, 0))

    def test_deadletter_list_and_retry(self):
        self.assertEqual(self.crmctl_json("deadletter", "list", "-o", "json"), [[]])
        r = self.crmctl("deadletter", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("(0 dead letters)", r.stdout)
        # A poison probe ends in the sink's dead letters.
        self.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        self.record(1, "poison")

        def listed():
            d = self.crmctl_json("deadletter", "list", "--service", "sink", "-o", "json")[0]
            return d or None
        d = wait_for(listed, 30, "a dead letter in sink")
        self.assertEqual(len(d), 1)
        self.assertEqual((d[0]["service"], d[0]["consumer"], d[0]["source"], d[0]["sequence"],
                          d[0]["type"]),
                         ("sink", "probe-sink", "probe", 1, "crm.probe.probe.recorded.v1"))
        self.assertIn("poison", d[0]["error"])
        r = self.crmctl_json("deadletter", "retry", "--service", "sink", "-o", "json",
                             str(d[0]["id"]))
        self.assertEqual(r, [{"service": "sink", "queued": 1}])
        r = self.crmctl("deadletter", "retry", "--service", "sink", "--consumer", "nobody")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("queued 0 dead letters of sink", r.stdout)
        for args in (["retry"], ["retry", "--service", "nope"], ["retry", "--service", "sink", "x"],
                     ["list", "--limit", "0"], []):
            r = self.crmctl("deadletter", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))

    def test_rotate_epoch_changes_the_epoch_seen_by_status_and_tail(self):
        self.record(3)
        before = self.status()["probe"]["epoch"]
        rot = self.crmctl_json("stream", "rotate-epoch", "--service", "probe", "-o", "json")
        self.assertEqual(len(rot), 1)
        self.assertNotEqual(rot[0]["epoch"], before)
        self.assertEqual(rot[0]["epoch_start_sequence"], 3)
        after = self.status()["probe"]
        self.assertEqual(after["epoch"], rot[0]["epoch"])
        self.assertEqual(after["epoch_start_sequence"], 3)
        # The stream goes on: old events keep their epoch, new ones get the new one.
        self.record(2)
        evs = self.crmctl_json("tail", "--from", "beginning", "-e", "-o", "json")
        self.assertEqual([(int(e["sequence"]), e["epoch"]) for e in evs],
                         [(1, before), (2, before), (3, before), (4, after["epoch"]),
                          (5, after["epoch"])])
        r = self.crmctl("stream", "rotate-epoch", "--service", "probe")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^probe: new stream epoch [0-9a-f-]{36}; it starts after"
                                   r" sequence 5\n$")
        self.assertEqual(self.crmctl("stream", "rotate-epoch").returncode, 2)

    def test_unreachable_service_exits_3(self):
        dead = "tcp://127.0.0.1:%d" % free_port()
        keyring().key("dead")  # listed, so crmctl knows its key, but not running
        r = self.crmctl("tail", "--from", "beginning", "-e", services="dead=" + dead)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("crmctl: could not reach dead at %s: timeout" % dead, r.stderr)

    def test_help(self):
        r = self.crmctl("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for verb in ("status", "tail", "deadletter list", "deadletter retry",
                     "stream rotate-epoch"):
            self.assertIn(verb, r.stdout)
        self.assertIn("CRM_SERVICES", r.stdout)
        r = self.crmctl("tail", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--from", r.stdout)
        r = self.crmctl("help", "deadletter", "retry")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--consumer", r.stdout)
        for args in ([], ["frobnicate"], ["stream"], ["status", "extra"]):
            r = self.crmctl(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("crmctl: "), r.stderr)


if __name__ == "__main__":
    unittest.main()
