"""`crmctl tail -o json` speaks CloudEvents 1.0: every line of a session over
a scenario that touches all four real services (the demo data set in sales
and support, a campaign in marketing, data-quality findings in analytics)
validates against the CloudEvents JSON schema of the specification
(tests/schemas/cloudevents.json, its source in tests/schemas/README.md),
with the pinned ajv. The schema leaves extensions open, so the rules it
cannot express are checked here: attribute names in [a-z0-9], no empty
attributes, `sequence` as a decimal string, `dataschema` naming the
payload message."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

from crmtest import BIN, SOURCE, System, free_port, wait_for
from crm.v1 import analytics_pb2, marketing_pb2, rpc_pb2  # noqa: E402  (path set up by crmtest)

CRMCTL = os.path.join(BIN, "crmctl")
AJV = os.path.join(SOURCE, "node_modules", ".bin", "ajv")
SCHEMA = os.path.join(SOURCE, "tests", "schemas", "cloudevents.json")
NAME_RE = re.compile(r"^[a-z0-9]{1,20}$")
OK = rpc_pb2.STATUS_CODE_OK
SERVICES = ("sales", "marketing", "support", "analytics")


def ajv(docs):
    """Validates each document (a file each) against the CloudEvents schema;
    returns the CompletedProcess."""
    with tempfile.TemporaryDirectory() as d:
        for i, doc in enumerate(docs):
            with open(os.path.join(d, "ce-%05d.json" % i), "w") as f:
                f.write(doc)
        return subprocess.run([AJV, "validate", "--spec=draft7", "-c", "ajv-formats",
                               "--strict=false", "--errors=text", "-s", SCHEMA,
                               "-d", os.path.join(d, "ce-*.json")],
                              capture_output=True, text=True, timeout=300)


class TailCloudEventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sys = cls.sys = System()
        sys.start_bus()
        for name in SERVICES:
            sys.endpoints[name] = "tcp://127.0.0.1:%d" % free_port()
        sys.add_service("sales", "crm-sales", ("marketing", "support", "analytics"), start=True)
        sys.add_service("marketing", "crm-marketing", ("sales", "support"), start=True)
        sys.add_service("support", "crm-support", ("sales", "marketing"), start=True)
        sys.add_service("analytics", "crm-analytics", ("sales", "marketing", "support"),
                        {"ANALYTICS_SCAN_MS": "3600000"}, start=True)
        cls.env = dict(os.environ, CRM_SERVICES=",".join(
            "%s=%s" % (n, sys.endpoints[n]) for n in SERVICES),
            CRM_BUS_SUB_ENDPOINT="tcp://127.0.0.1:%d" % sys.sub_port)

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()

    def head(self, name):
        return self.sys.cluster.query(self.sys.dbs[name], "SELECT head_seq FROM crm_stream")[0][0]

    def call(self, name, command, msg):
        c = self.sys.client(name)
        try:
            rep = c.call_raw(command, msg.SerializeToString())
        finally:
            c.close()
        self.assertEqual(rep.status.code, OK, rep.status)
        return rep

    def scenario(self):
        r = subprocess.run([CRMCTL, "demo", "load"], env=self.env, capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.call("marketing", "marketing.campaign.create", marketing_pb2.CreateCampaignRequest(
            campaign=marketing_pb2.Campaign(name="Spring", channels=[marketing_pb2.CHANNEL_EMAIL],
                                            budget_minor=50000, currency="EUR")))

        # The demo has overdue activities: once analytics has applied sales,
        # a scan publishes findings.
        def found():
            self.call("analytics", "analytics.data_quality.scan",
                      analytics_pb2.DataQualityScanRequest())
            return self.head("analytics") > 0
        wait_for(found, 60, "analytics to publish a data-quality finding", interval=0.2)

    def test_every_line_is_a_valid_cloudevent(self):
        self.scenario()
        # The services go on publishing meanwhile (analytics applying the
        # demo's events, marketing reacting to them), so the tail's end lies
        # between the heads read before and after it.
        before = {name: self.head(name) for name in SERVICES}
        r = subprocess.run([CRMCTL, "tail", "--from", "beginning", "-e", "-o", "json"],
                           env=self.env, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        after = {name: self.head(name) for name in SERVICES}
        lines = r.stdout.splitlines()
        evs = [json.loads(line) for line in lines]
        self.assertEqual({e["source"] for e in evs}, set(SERVICES))
        for name in SERVICES:
            seqs = [int(e["sequence"]) for e in evs if e["source"] == name]
            # Every event from the first, in order, none missing or twice.
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)), name)
            self.assertGreaterEqual(len(seqs), before[name], name)
            self.assertLessEqual(len(seqs), after[name], name)

        out = ajv(lines)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual((out.stdout + out.stderr).count(" valid"), len(lines))

        for e in evs:
            self.assertEqual(e["specversion"], "1.0")
            for k, v in e.items():
                self.assertRegex(k, NAME_RE, e)
                if k != "data":
                    self.assertIsInstance(v, str, (k, e))
                    self.assertNotEqual(v, "", (k, e))
            self.assertRegex(e["sequence"], r"^[1-9][0-9]*$")
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            self.assertNotIn("correlation_id", e)
            self.assertEqual(e["datacontenttype"], "application/json", e)
            self.assertRegex(e["dataschema"], r"^proto:crm\.v1\.[A-Z][A-Za-z]+$")
            self.assertIsInstance(e["data"], dict)
        # Events of a command carry no subject when they concern no customer
        # (a campaign): the attribute is left out rather than empty.
        camp = [e for e in evs if e["type"] == "crm.marketing.campaign.created.v1"]
        self.assertEqual(len(camp), 1)
        self.assertNotIn("subject", camp[0])
        self.assertEqual(camp[0]["dataschema"], "proto:crm.v1.CampaignCreated")
        self.assertEqual(camp[0]["data"]["campaign"]["name"], "Spring")
        # The demo's commands carry idempotency keys "demo-<n>": the chain
        # attributes of their events name them.
        demo = [e for e in evs if e.get("causationid", "").startswith("demo-")]
        self.assertTrue(demo)
        self.assertTrue(all(e["correlationid"] == e["causationid"] for e in demo))

    def test_promtool_accepts_every_services_metrics(self):
        # Issue 18: `promtool check metrics` on the bus and on every service,
        # each with its own metrics beside the framework's.
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool missing: Debian package prometheus"
                                       " (tools/install-deps.sh)")
        for name in ("bus",) + tuple(SERVICES):
            port = int(self.sys.procs[name].env["CRM_HTTP_PORT"])
            text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                          timeout=10).read().decode()
            self.assertIn("crm_build_info", text, name)
            r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (name, r.stdout, r.stderr))

    def test_the_validation_rejects_a_broken_event(self):
        # The check above means something only if a mistake fails it.
        good = {"specversion": "1.0", "id": "x", "source": "sales", "type": "crm.sales.t.v1"}
        out = ajv([json.dumps(good)])
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        for broken in ({k: v for k, v in good.items() if k != "specversion"},
                       dict(good, subject=""),
                       dict(good, dataschema="crm.v1.DealWon")):
            out = ajv([json.dumps(broken)])
            self.assertNotEqual(out.returncode, 0, broken)


if __name__ == "__main__":
    unittest.main()
