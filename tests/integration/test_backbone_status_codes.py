"""Every status code docs/events.md documents ("Status codes"), produced by
a real crm-sales over real CURVE sockets and a real PostgreSQL, each the way
the table says it is used; and the table and crm.v1.StatusCode agree (every
code of the enum is documented, every documented code exists). A code the
table says no service sends (DEADLINE_EXCEEDED) is checked to be sent by
no service source."""
import glob
import os
import re
import unittest
import uuid

import zmq

from crmtest import keyring, rpc_pb2, wait_for
from test_sales_service import SalesSystem, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

SRC = os.environ.get("CRM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def documented_codes():
    """(name, number, 'used when') rows of the table in docs/events.md."""
    with open(os.path.join(SRC, "docs", "events.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("### Status codes", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in section.splitlines():
        m = re.match(r"\| `([A-Z_]+)` \| (\d+) \| (.*) \|$", line)
        if m:
            rows.append((m.group(1), int(m.group(2)), m.group(3)))
    return rows


class StatusCodeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        keyring().key("codes-marketer", "staff", roles="marketer")
        keyring().key("codes-revoked", "staff", roles="admin")
        cls.s = SalesSystem(env={"CRM_MAX_FRAME_BYTES": "4096"})
        cls.seen = {}

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def code(self, rep):
        return rpc_pb2.StatusCode.Name(rep.status.code)[len("STATUS_CODE_"):]

    def call(self, command, msg, client=None, **kw):
        c = client or self.s.c
        return c.call_raw(command, msg.SerializeToString() if msg is not None else b"", **kw)

    def expect(self, name, rep, field=None):
        self.assertEqual(self.code(rep), name, rep.status)
        if field is not None:
            self.assertEqual(rep.status.field, field, rep.status)
        self.seen[name] = rep.status

    def raw_frame(self, frame):
        """One frame to sales over CURVE; the reply."""
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        keyring().secure(s, "test", "sales")
        s.connect(self.s.sys.endpoints["sales"])
        try:
            s.send(frame)
            self.assertTrue(s.poll(10000), "no reply")
            return rpc_pb2.CommandReply.FromString(s.recv())
        finally:
            s.close()

    def test_table_matches_the_enum(self):
        rows = documented_codes()
        enum = {v.name[len("STATUS_CODE_"):]: v.number
                for v in rpc_pb2.StatusCode.DESCRIPTOR.values}
        self.assertEqual({n: k for n, k, _ in rows}, enum)

    def test_every_documented_code(self):
        s = self.s
        person = s.register("Codes", ["%s@codes.io" % unique("c")]).person
        register = sales_pb2.RegisterPersonRequest(person=person_pb2.Person(
            name="Other", emails=["%s@codes.io" % unique("o")]))
        for name, _, used_when in documented_codes():
            with self.subTest(code=name):
                getattr(self, "code_" + name.lower())(person, register, used_when)
        self.assertEqual(sorted(self.seen), sorted(n for n, _, _ in documented_codes()))

    # ---- one way to each code, as the table says -------------------------------------
    def code_ok(self, person, register, used_when):
        self.expect("OK", self.call("sales.person.show", sales_pb2.ShowPersonRequest(id=person.id)))

    def code_invalid_argument(self, person, register, used_when):
        # A malformed id is INVALID_ARGUMENT naming the field, not NOT_FOUND.
        self.expect("INVALID_ARGUMENT", self.call("sales.person.show",
                                                  sales_pb2.ShowPersonRequest(id="not-a-uuid")),
                    "id")
        # A change without an idempotency key.
        self.expect("INVALID_ARGUMENT", self.call("sales.person.register", register, key=""))

    def code_not_found(self, person, register, used_when):
        self.expect("NOT_FOUND", self.call("sales.person.show",
                                           sales_pb2.ShowPersonRequest(id=str(uuid.uuid4()))), "id")

    def code_already_exists(self, person, register, used_when):
        name = unique("Pipe")
        rq = sales_pb2.CreatePipelineRequest(pipeline=sales_pb2.Pipeline(
            name=name, stages=[sales_pb2.Stage(name="Lead", probability=10)]))
        self.assertEqual(self.code(self.call("sales.pipeline.create", rq)), "OK")
        self.expect("ALREADY_EXISTS", self.call("sales.pipeline.create", rq), "pipeline.name")

    def code_failed_precondition(self, person, register, used_when):
        o = sales_pb2.OrderReply.FromString(self.call("sales.order.create", sales_pb2.CreateOrderRequest(
            order=sales_pb2.Order(person_id=person.id, items=[sales_pb2.OrderItem(
                name="x", quantity=1, unit_price_minor=100)]))).body).order
        self.expect("FAILED_PRECONDITION", self.call("sales.order.refund", sales_pb2.RefundOrderRequest(
            order_id=o.id, amount_minor=101)), "amount_minor")

    def code_idempotency_conflict(self, person, register, used_when):
        key = str(uuid.uuid4())
        self.assertEqual(self.code(self.call("sales.person.register", register, key=key)), "OK")
        other = sales_pb2.RegisterPersonRequest(person=person_pb2.Person(name="Else"))
        self.expect("IDEMPOTENCY_CONFLICT", self.call("sales.person.register", other, key=key))

    def code_unavailable(self, person, register, used_when):
        # The database is unreachable for 5 s: the command waits, then UNAVAILABLE.
        cluster = self.s.sys.cluster
        cluster.stop()
        try:
            rep = self.call("sales.person.show", sales_pb2.ShowPersonRequest(id=person.id),
                            timeout=30, attempts=1)
        finally:
            cluster.start()
        self.expect("UNAVAILABLE", rep)
        wait_for(lambda: self.code(self.call("sales.person.show", sales_pb2.ShowPersonRequest(
            id=person.id), attempts=1)) == "OK", 60, "sales back on its database")

    def code_internal(self, person, register, used_when):
        # A statement fails: the table it reads is gone for a moment.
        db = self.s.sys.dbs["sales"]
        self.s.sys.cluster.query(db, "ALTER TABLE sales_order RENAME TO sales_order_away")
        try:
            rep = self.call("sales.order.list", sales_pb2.ListOrdersRequest())
        finally:
            self.s.sys.cluster.query(db, "ALTER TABLE sales_order_away RENAME TO sales_order")
        self.expect("INTERNAL", rep)

    def code_unknown_command(self, person, register, used_when):
        self.expect("UNKNOWN_COMMAND", self.call("sales.no.such", None), "command")

    def code_malformed(self, person, register, used_when):
        self.expect("MALFORMED", self.raw_frame(b"\xff\xff not a CommandRequest"))

    def code_too_large(self, person, register, used_when):
        rq = rpc_pb2.CommandRequest(command="sales.person.show", request_id=1,
                                    body=b"x" * 8192, idempotency_key="k")
        self.expect("TOO_LARGE", self.raw_frame(rq.SerializeToString()))

    def code_deadline_exceeded(self, person, register, used_when):
        # Never sent by a service: no service or library source names it.
        self.assertIn("never sent by a service", used_when)
        for path in glob.glob(os.path.join(SRC, "common", "src", "*.c")) + glob.glob(
                os.path.join(SRC, "services", "**", "*.c"), recursive=True):
            # crm-api's table maps every code a service may send to an HTTP
            # status; it names the code, it never sends one.
            if path.endswith(os.path.join("services", "api", "problem.c")):
                continue
            with open(path, encoding="utf-8") as f:
                self.assertNotIn("DEADLINE_EXCEEDED", f.read(), path)
        self.seen["DEADLINE_EXCEEDED"] = None

    def code_permission_denied(self, person, register, used_when):
        c = self.s.sys.client("sales", "codes-marketer")
        try:
            self.expect("PERMISSION_DENIED", self.call(
                "sales.deal.win", sales_pb2.WinDealRequest(id=str(uuid.uuid4())), client=c),
                "command")
        finally:
            c.close()

    def code_unauthenticated(self, person, register, used_when):
        c = self.s.sys.client("sales", "codes-revoked")
        try:
            self.assertEqual(self.code(self.call("sales.person.show", sales_pb2.ShowPersonRequest(
                id=person.id), client=c)), "OK")
            keyring().revoke("codes-revoked")
            try:
                self.expect("UNAUTHENTICATED", self.call("sales.person.show",
                                                         sales_pb2.ShowPersonRequest(id=person.id),
                                                         client=c, attempts=1))
            finally:
                keyring().restore("codes-revoked")
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
