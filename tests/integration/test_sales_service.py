"""Sales: the service itself (start-up, settings, migrations, pipelines), and
the helpers the other test_sales_* files share: a SalesSystem is a bus,
probes named marketing, support and analytics standing in for those
services (each can emit any event with probe.emit), and crm-sales with
those three as its CRM_PEERS, all on a throwaway PostgreSQL cluster."""
import os
import subprocess
import time
import unittest
import uuid

from crmtest import BIN, CallError, System, event_pb2, rpc_pb2, wait_for
from crm.v1 import person_pb2, sales_pb2  # noqa: E402  (path set up by crmtest)

CRM_CUSTOMER_NAMESPACE = "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10"
PEERS = ("marketing", "support", "analytics")
OK = rpc_pb2.STATUS_CODE_OK
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
NOT_FOUND = rpc_pb2.STATUS_CODE_NOT_FOUND
ALREADY_EXISTS = rpc_pb2.STATUS_CODE_ALREADY_EXISTS
PRECONDITION = rpc_pb2.STATUS_CODE_FAILED_PRECONDITION
CONFLICT = rpc_pb2.STATUS_CODE_IDEMPOTENCY_CONFLICT


def customer_id(email):
    """The identity rule, computed the way any service would."""
    return str(uuid.uuid5(uuid.UUID(CRM_CUSTOMER_NAMESPACE), email.strip().lower()))


def unique(prefix="x"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class SalesSystem:
    """Bus + peer probes + crm-sales; `env` adds or overrides settings."""

    def __init__(self, env=None, peers=PEERS):
        self.sys = System()
        self.sys.start_bus()
        self.peers = peers
        for p in peers:
            self.sys.add_probe(p)
        self.env = env or {}
        self.proc = self.add_sales()
        self.proc.start()
        self.c = self.sys.client("sales")

    def add_sales(self, env=None, name="sales"):
        e = {"SALES_DUE_SCAN_MS": "200"}
        e.update(self.env)
        e.update(env or {})
        return self.sys.add_service(name, "crm-sales", self.peers, e)

    def close(self):
        self.c.close()
        self.sys.close()

    # ---- commands ---------------------------------------------------------
    def raw(self, command, msg=None, key=None):
        return self.c.call_raw(command, msg.SerializeToString() if msg is not None else b"",
                               key=key)

    def call(self, command, msg, reply_type, key=None):
        """The reply message; raises CallError on a non-OK status."""
        rep = self.raw(command, msg, key)
        if rep.status.code != OK:
            raise CallError(rep.status)
        out = reply_type()
        out.ParseFromString(rep.body)
        return out

    def fails(self, command, msg, code, field=None, key=None):
        """Asserts the command fails with `code` naming `field`; returns the status."""
        rep = self.raw(command, msg, key)
        assert rep.status.code == code, "%s: expected %s, got %s %r" % (
            command, rpc_pb2.StatusCode.Name(code), rpc_pb2.StatusCode.Name(rep.status.code),
            rep.status)
        if field is not None:
            assert rep.status.field == field, "field %r, expected %r (%r)" % (
                rep.status.field, field, rep.status)
        assert rep.status.message and rep.status.message[0].islower(), rep.status.message
        assert not rep.status.message.endswith("."), rep.status.message
        assert rep.body == b""
        return rep.status

    def register(self, name="", emails=(), **kw):
        p = person_pb2.Person(name=name, emails=list(emails), **kw)
        return self.call("sales.person.register", sales_pb2.RegisterPersonRequest(person=p),
                         sales_pb2.PersonReply)

    # ---- events and database ------------------------------------------------
    def q(self, sql, *args):
        return self.sys.cluster.query(self.sys.dbs["sales"], sql, *args)

    def head(self):
        return self.q("SELECT head_seq FROM crm_stream")[0][0]

    def events(self, after=0, type_prefix="crm.sales."):
        """Committed events after sequence `after`, from the outbox, in order."""
        out = []
        for (data,) in self.q("SELECT event FROM crm_outbox WHERE seq > %s ORDER BY seq", after):
            ev = event_pb2.Event()
            ev.ParseFromString(bytes(data))
            if ev.type.startswith(type_prefix):
                out.append(ev)
        return out

    def replay(self, type_prefix="crm.sales."):
        """The stream as a consumer sees it: events of `type_prefix` through
        stream.replay on the service's command socket."""
        out, frm = [], 1
        while True:
            rep = self.c.call_raw("stream.replay", rpc_pb2.ReplayRequest(
                from_sequence=frm, max_events=500, type_prefixes=[type_prefix]).SerializeToString(),
                key="")
            assert rep.status.code == OK, rep.status
            rr = rpc_pb2.ReplayReply()
            rr.ParseFromString(rep.body)
            for data in rr.events:
                ev = event_pb2.Event()
                ev.ParseFromString(data)
                out.append(ev)
            if rr.scanned_to_sequence >= rr.head_sequence:
                return out
            frm = rr.scanned_to_sequence + 1

    def count(self, table, where="true", *args):
        return self.q("SELECT count(*) FROM %s WHERE %s" % (table, where), *args)[0][0]

    def emit(self, source, type_, subject, **payload):
        """Has the probe named `source` publish an event carrying `payload`
        (one Event.payload field), as that service would."""
        self.sys.emit(source, type_, subject, **payload)

    def source_head(self, source):
        return self.sys.cluster.query(self.sys.dbs[source], "SELECT head_seq FROM crm_stream")[0][0]

    def wait_applied(self, consumer, source, timeout=20):
        """Waits until `consumer` of sales has applied every event `source`
        has committed so far (its position reached the source's head)."""
        head = self.source_head(source)

        def done():
            rows = self.q("SELECT seq FROM crm_consumer_position WHERE consumer = %s"
                          " AND source = %s", consumer, source)
            return rows and rows[0][0] >= head
        wait_for(done, timeout, "%s to apply %s up to %d" % (consumer, source, head))

    def default_pipeline(self):
        r = self.call("sales.pipeline.list", sales_pb2.ListPipelinesRequest(),
                      sales_pb2.ListPipelinesReply)
        return [p for p in r.pipelines if p.is_default][0]


class ServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_default_pipeline_after_migration(self):
        p = self.s.default_pipeline()
        self.assertEqual(p.name, "Sales")
        self.assertEqual([(st.name, st.probability) for st in p.stages],
                         [("Qualification", 10), ("Needs analysis", 25), ("Proposal", 50),
                          ("Negotiation", 75)])

    def test_pipelines_named_uniquely_and_one_default(self):
        s = self.s
        name = unique("Partners")
        before = s.head()
        rq = sales_pb2.CreatePipelineRequest(pipeline=sales_pb2.Pipeline(
            name=name, stages=[sales_pb2.Stage(name="Intro", probability=5),
                               sales_pb2.Stage(name="Contract", probability=60)]))
        p = s.call("sales.pipeline.create", rq, sales_pb2.PipelineReply).pipeline
        self.assertTrue(p.id)
        self.assertFalse(p.is_default)
        self.assertEqual([st.name for st in p.stages], ["Intro", "Contract"])
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.sales.pipeline.created.v1"])
        self.assertEqual(evs[0].pipeline_created.pipeline.id, p.id)
        # Same name, other case: refused, nothing written.
        head = s.head()
        rq.pipeline.name = name.upper()
        s.fails("sales.pipeline.create", rq, ALREADY_EXISTS, "pipeline.name")
        # Bad stages.
        bad = sales_pb2.CreatePipelineRequest(pipeline=sales_pb2.Pipeline(
            name=unique("p"), stages=[sales_pb2.Stage(name="A"), sales_pb2.Stage(name=" a ")]))
        s.fails("sales.pipeline.create", bad, INVALID, "pipeline.stages[1].name")
        bad = sales_pb2.CreatePipelineRequest(pipeline=sales_pb2.Pipeline(
            name=unique("p"), stages=[sales_pb2.Stage(name="A", probability=101)]))
        s.fails("sales.pipeline.create", bad, INVALID, "pipeline.stages[0].probability")
        s.fails("sales.pipeline.create", sales_pb2.CreatePipelineRequest(
            pipeline=sales_pb2.Pipeline(name=unique("p"))), INVALID, "pipeline.stages")
        self.assertEqual(s.head(), head)
        # A new default replaces the old one.
        old = s.default_pipeline()
        nd = s.call("sales.pipeline.create", sales_pb2.CreatePipelineRequest(
            pipeline=sales_pb2.Pipeline(name=unique("Main"), is_default=True,
                                        stages=[sales_pb2.Stage(name="Open", probability=20)])),
            sales_pb2.PipelineReply).pipeline
        self.assertTrue(nd.is_default)
        r = s.call("sales.pipeline.list", sales_pb2.ListPipelinesRequest(),
                   sales_pb2.ListPipelinesReply)
        self.assertEqual([p.id for p in r.pipelines if p.is_default], [nd.id])
        self.assertEqual(r.pipelines[0].id, nd.id)
        self.assertIn(old.id, [p.id for p in r.pipelines])
        # Put the original default back for the other tests of this class.
        s.q("UPDATE pipeline SET is_default = false")
        s.q("UPDATE pipeline SET is_default = true WHERE id = %s", old.id)

    def test_read_only_commands_need_no_key_and_writes_do(self):
        rep = self.s.raw("sales.pipeline.list", sales_pb2.ListPipelinesRequest(), key="")
        self.assertEqual(rep.status.code, OK)
        rep = self.s.raw("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="No Key")), key="")
        self.assertEqual(rep.status.code, INVALID)
        self.assertEqual(rep.status.field, "idempotency_key")
        rep = self.s.raw("sales.person.teleport", sales_pb2.RegisterPersonRequest())
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_UNKNOWN_COMMAND)

    def test_malformed_body(self):
        rep = self.s.c.call_raw("sales.deal.create", b"\xff\xff\xff")
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_MALFORMED)

    def test_settings_are_listed_and_checked(self):
        out = subprocess.run([os.path.join(BIN, "crm-sales"), "--help"], capture_output=True,
                             text=True, timeout=10).stdout
        for name in ("SALES_DUE_SCAN_MS", "SALES_LEAD_OWNERS", "SALES_FOLLOWUP_HOURS",
                     "SALES_DEFAULT_CURRENCY"):
            self.assertIn(name, out)
        # A bad default currency stops the start, with the setting named.
        # (The exit status is 0 today: the backbone exits 0 when a start hook
        # fails; the service never becomes ready, which is what matters.)
        p = self.s.add_sales({"SALES_DEFAULT_CURRENCY": "EURO"}, name="sales-bad")
        p.start(wait_line=None)
        p.p.wait(timeout=30)
        log = p.read_log()
        self.assertIn("SALES_DEFAULT_CURRENCY", log)
        self.assertNotIn('"event":"service.ready"', log)
        p.stop()
        # Consumers need their sources in CRM_PEERS.
        p = self.s.add_sales({"CRM_PEERS": ""}, name="sales-nopeers")
        p.start(wait_line=None)
        self.assertNotEqual(p.p.wait(timeout=30), 0)
        p.stop()


if __name__ == "__main__":
    unittest.main()
