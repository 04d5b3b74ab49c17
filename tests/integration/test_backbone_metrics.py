"""What every service's (and crm-bus's) /metrics and stream.info say about the program:
crm_build_info{version,schema} (the CMake project version and the SHA-256
of the installed descriptor set crm.binpb), the standard process_* family,
no `service` label (Prometheus Operator adds its own; ours is
`crm_service`), and an exposition that `promtool check metrics` accepts."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import unittest
import urllib.request

from crmtest import BUILD, SOURCE, System, rpc_pb2

PROMTOOL = shutil.which("promtool")


def project_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(crm VERSION (\d+\.\d+\.\d+)", f.read()).group(1)


def schema_hash():
    with open(os.path.join(BUILD, "crm.binpb"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def samples(text):
    """{name: [(labels, value)]} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        assert m, "not a sample line: %r" % line
        out.setdefault(m.group(1), []).append((m.group(2) or "", float(m.group(3))))
    return out


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        cls.sys.start_bus()
        cls.probe = cls.sys.add_probe("probe")
        cls.sys.add_probe("sink", consume="crm.probe.", peers=["probe"])
        cls.sys.record("probe", 3)

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()

    def scrape(self, name="sink"):
        port = int(self.sys.procs[name].env["CRM_HTTP_PORT"])
        return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                      timeout=5).read().decode()

    def test_build_info(self):
        m = samples(self.scrape())
        self.assertEqual(m["crm_build_info"], [('{version="%s",schema="%s"}' % (
            project_version(), schema_hash()), 1.0)])

    def test_process_metrics(self):
        m = samples(self.scrape())
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                     "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                     "process_start_time_seconds"):
            self.assertEqual(len(m[name]), 1, name)
            self.assertEqual(m[name][0][0], "", name)
        self.assertGreater(m["process_resident_memory_bytes"][0][1], 1 << 20)
        self.assertGreater(m["process_open_fds"][0][1], 3)
        self.assertGreaterEqual(m["process_max_fds"][0][1], m["process_open_fds"][0][1])
        # Started by this test class, a few seconds ago at most.
        self.assertLess(abs(m["process_start_time_seconds"][0][1] - time.time()), 600)
        self.assertGreaterEqual(m["process_cpu_seconds_total"][0][1], 0)

    def test_bus_exports_build_and_process_metrics(self):
        m = samples(self.scrape("bus"))
        self.assertEqual(m["crm_build_info"], [('{version="%s",schema="%s"}' % (
            project_version(), schema_hash()), 1.0)])
        self.assertEqual(len(m["process_resident_memory_bytes"]), 1)
        # The three events of setUpClass, and heartbeats, were passed on.
        self.assertGreaterEqual(m["crm_bus_forwarded_total"][0][1], 3)
        self.assertIn(('{crm_service="bus"}', 1.0), m["crm_bus_subscriptions"])

    def test_no_service_label(self):
        text = self.scrape()
        self.assertNotRegex(text, r"[{,]service=")
        m = samples(text)
        self.assertIn(('{crm_service="sink"}', 0.0), m["crm_commands_failed_total"])
        self.assertTrue(any('crm_service="sink",consumer="probe-sink",source="probe"' in labels
                            for labels, _ in m["crm_consumer_position"]))

    def test_stream_info_reports_version_and_schema(self):
        c = self.sys.client("probe")
        try:
            r = c.call("stream.info", rpc_pb2.StreamInfoRequest(), rpc_pb2.StreamInfoReply)
        finally:
            c.close()
        self.assertEqual((r.service, r.version, r.schema),
                         ("probe", project_version(), schema_hash()))
        env = dict(os.environ, CRM_SERVICES="probe=%s" % self.sys.endpoints["probe"])
        out = subprocess.run([os.path.join(BUILD, "bin", "crmctl"), "status", "-o", "json"],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        st = json.loads(out.stdout)["services"][0]
        self.assertEqual((st["version"], st["schema"]), (project_version(), schema_hash()))

    def test_promtool_check_metrics(self):
        self.assertIsNotNone(PROMTOOL, "promtool missing: Debian package prometheus"
                                       " (tools/install-deps.sh)")
        for name in ("probe", "sink", "bus"):
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=self.scrape(name),
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (name, r.stdout, r.stderr))


if __name__ == "__main__":
    unittest.main()
