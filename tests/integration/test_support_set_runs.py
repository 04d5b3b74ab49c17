"""Support: support.ticket.open's set-based form (handlers/ticket_run.c;
issue 15, ninth session). The opens of one batch go to the database as
two statements over arrays, the context read and the insert, instead of
two a ticket. Its guarantees are those of one ticket at a time: each
test runs the same pipelined batches with the form on and with it off
(SUPPORT_SET=0), which must give the same replies, rows and events.

In the batches: new requesters (registered with their ticket), a known
customer by id and by email, tags, a malformed email and an unknown
customer (refused alone, before the insert), a ticket the database
refuses (a CHECK the test adds: the batch is rolled back and retried one
command per transaction), a ticket whose event is too large (it fails
after the run's insert wrote its row: the same), and one idempotency key
twice. Every command sent again with its key is answered as before and
adds nothing. The writer is held on a table lock taken by the test, so
which commands share a batch is decided by state, never by timing."""
import unittest

import psycopg2
from google.protobuf import json_format

from crmtest import event_pb2, metric_value, recv_replies, rpc_pb2, wait_for
from test_support_service import OK, SupportSystem, customer_id
from crm.v1 import support_pb2  # noqa: E402

NOT_FOUND = rpc_pb2.STATUS_CODE_NOT_FOUND
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
TOO_LARGE = rpc_pb2.STATUS_CODE_TOO_LARGE
KNOWN = "known.customer@set.example"
UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"
# 20 tags of 60 bytes: their feedback.tagged event is over CRM_MAX_EVENT_BYTES.
HUGE_TAGS = ["t%02d-%s" % (i, "x" * 56) for i in range(20)]


def ticket(**kw):
    kw.setdefault("type", support_pb2.TICKET_TYPE_QUESTION)
    return support_pb2.OpenTicketRequest(ticket=support_pb2.Ticket(**kw)).SerializeToString()


def request(body, key, rid):
    return rpc_pb2.CommandRequest(command="support.ticket.open", body=body, idempotency_key=key,
                                  request_id=rid, actor="ignored-by-services").SerializeToString()


def scrub(d):
    """A message as a dict without what differs from one run to another:
    ticket ids and instants."""
    if isinstance(d, dict):
        return {k: scrub(v) for k, v in d.items()
                if not k.endswith("_us") and k not in ("ticket_id", "time_us")}
    if isinstance(d, list):
        return [scrub(v) for v in d]
    return d


class SupportSetRunTest(unittest.TestCase):
    def tearDown(self):
        if getattr(self, "s", None):
            self.s.close()
            self.s = None

    def start(self, set_based):
        self.s = SupportSystem(env={"CRM_WRITERS": "1", "SUPPORT_SET": "1" if set_based else "0",
                                    "CRM_MAX_EVENT_BYTES": "1024",
                                    # no scan work in the held batches
                                    "SUPPORT_SLA_SCAN_MS": "3600000"})
        self.sys = self.s.sys
        self.db = self.sys.dbs["support"]
        self.proc = self.s.proc

    def q(self, sql):
        return self.sys.cluster.query(self.db, sql)

    def metric(self, name):
        return metric_value(self.proc, name)

    def recv(self, client, n):
        return recv_replies(client, n)

    def one_batch(self, commands):
        """Sends commands [(body, key)] pipelined while the writer is held,
        so that they queue and then run as one batch; their replies in
        order."""
        conn = psycopg2.connect(self.sys.cluster.url(self.db))
        conn.cursor().execute("LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE")
        first = self.sys.client("support")
        first.s.send(request(ticket(requester_email="first@set.example",
                                    subject="first-%d" % len(commands)),
                             "first-%d" % len(commands), 1))
        wait_for(lambda: self.q("SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0] > 0, 30,
                 "support's batch waiting on the lock")
        c = self.sys.client("support")
        for i, (body, key) in enumerate(commands):
            c.s.send(request(body, key, 100 + i))
        wait_for(lambda: self.metric("crm_command_queue") == len(commands), 30,
                 "all commands queued")
        conn.rollback()
        conn.close()
        self.assertEqual(self.recv(first, 1)[1].status.code, OK)
        replies = self.recv(c, len(commands))
        first.close()
        c.close()
        return [replies[100 + i] for i in range(len(commands))]

    def reply(self, rep):
        if rep.status.code != OK:
            return (rep.status.code, rep.status.field)
        r = support_pb2.TicketReply()
        r.ParseFromString(rep.body)
        self.assertTrue(r.ticket.id)
        r.ticket.id = ""
        return scrub(json_format.MessageToDict(r, preserving_proto_field_name=True))

    def state(self):
        """The rows and events, without what differs from run to run."""
        tickets = self.q(
            "SELECT subject, customer_id::text, requester_email, requester_name, channel, type,"
            " priority, status, assignee, team, tags, description, fr_target_min, res_target_min,"
            " fr_due_us > created_us, res_due_us > created_us, fr_risk_us > 0, updated_us ="
            " created_us, sla_next_us IS NOT NULL FROM ticket ORDER BY subject")
        people = self.q("SELECT id::text, name, emails, registered_by, created_us = updated_us"
                        " FROM person ORDER BY id")
        emails = self.q("SELECT email, person_id::text FROM person_email ORDER BY 1, 2")
        events = []
        for seq, typ, subject, raw in self.q(
                "SELECT seq, type, subject, event FROM crm_outbox ORDER BY seq"):
            ev = event_pb2.Event()
            ev.ParseFromString(bytes(raw))
            d = scrub(json_format.MessageToDict(ev, preserving_proto_field_name=True))
            d.pop("id", None)
            d.pop("epoch", None)  # the stream's incarnation, one per database
            events.append((seq, typ, subject, d))
        return {"tickets": tickets, "people": people, "emails": emails, "events": events,
                "head": self.q("SELECT head_seq FROM crm_stream")[0][0]}

    def check(self, rows, events):
        """Each subject once, every event in the outbox, dense sequences."""
        subjects = [t[0] for t in self.q("SELECT subject FROM ticket")]
        self.assertEqual(sorted(subjects), sorted(set(subjects)))
        self.assertEqual(len(subjects), rows)
        n = self.q("SELECT head_seq FROM crm_stream")[0][0]
        self.assertEqual(n, events)
        self.assertEqual(self.q("SELECT count(*), min(seq), max(seq) FROM crm_outbox")[0],
                         (n, 1, n))

    def run_batches(self, set_based):
        self.start(set_based)
        known = self.s.call("support.ticket.open", support_pb2.OpenTicketRequest(
            ticket=support_pb2.Ticket(requester_email=KNOWN, requester_name="Known",
                                      subject="known first")), key="known").ticket
        self.assertEqual(known.customer_id, customer_id(KNOWN))
        self.q("ALTER TABLE ticket ADD CONSTRAINT test_reject CHECK (subject <> 'reject me')")
        a = [
            (ticket(requester_email="n0@set.example", requester_name="N Zero", subject="a0",
                    tags=["billing", "product:x"]), "a0"),
            (ticket(requester_email="N1@Set.Example", subject="a1", assignee="ann", team="t1",
                    priority=support_pb2.TICKET_PRIORITY_URGENT,
                    channel=support_pb2.TICKET_CHANNEL_EMAIL, description="help"), "a1"),
            (ticket(customer_id=known.customer_id, subject="a2"), "a2"),
            (ticket(requester_email="not an email", subject="a3"), "a3"),
            (ticket(customer_id=UNKNOWN, subject="a4"), "a4"),
            (ticket(requester_email="n5@set.example", subject="reject me"), "a5"),
            (ticket(requester_email=KNOWN.upper(), subject="a6"), "a6"),
            (ticket(requester_email="n7@set.example", requester_name="Seven", subject="a7",
                    priority=support_pb2.TICKET_PRIORITY_LOW), "a7"),
            (ticket(requester_email="n8@set.example", subject="a8"), "same-key"),
            (ticket(requester_email="n8@set.example", subject="a8"), "same-key"),
        ]
        reps_a = self.one_batch(a)
        codes = [r.status.code for r in reps_a]
        self.assertEqual(codes, [OK, OK, OK, INVALID, NOT_FOUND, INVALID, OK, OK, OK, OK],
                         [r.status for r in reps_a])
        self.assertEqual(reps_a[-1].body, reps_a[-2].body)
        self.assertGreaterEqual(self.metric("crm_batch_retries_total"), 1)
        # 1 + first + a0 a1 a2 a6 a7 a8; events: registered (known, first,
        # n0, n1, n7, n8), opened for each, tagged for a0.
        self.check(8, 6 + 8 + 1)
        b = [
            (ticket(requester_email="b%d@set.example" % i, subject="b%d" % i), "b%d" % i)
            for i in range(4)]
        b.insert(2, (ticket(requester_email="huge@set.example", subject="huge",
                            tags=HUGE_TAGS), "huge"))
        reps_b = self.one_batch(b)
        self.assertEqual([r.status.code for r in reps_b], [OK, OK, TOO_LARGE, OK, OK],
                         [r.status for r in reps_b])
        # first again (known now: opened only), b0 to b3 registered and opened.
        self.check(8 + 5, 15 + 1 + 4 * 2)
        self.assertEqual(self.q("SELECT count(*) FROM person WHERE emails = '{huge@set.example}'")
                         [0][0], 0)
        if set_based:
            self.assertGreaterEqual(self.metric("crm_command_run_works_total"), 8)
        else:
            self.assertEqual(self.metric("crm_command_runs_total"), 0)
        before = self.state()
        # Each command again with its key: answered from its record (or
        # refused again), nothing added.
        c = self.sys.client("support")
        for cmds, reps in ((a, reps_a), (b, reps_b)):
            for i, (body, key) in enumerate(cmds):
                again = c.call_raw("support.ticket.open", body, key=key)
                self.assertEqual(again.status.code, reps[i].status.code, (key, again.status))
                if reps[i].status.code == OK:
                    self.assertEqual(again.body, reps[i].body, key)
        c.close()
        self.assertEqual(self.state(), before)
        replies = [self.reply(r) for r in reps_a + reps_b]
        self.s.close()
        self.s = None
        return replies, before

    def test_set_based_answers_as_one_at_a_time(self):
        on_replies, on_state = self.run_batches(True)
        off_replies, off_state = self.run_batches(False)
        self.assertEqual(on_replies, off_replies)
        for k in ("tickets", "people", "emails", "head"):
            self.assertEqual(on_state[k], off_state[k], k)
        self.assertEqual(len(on_state["events"]), len(off_state["events"]))
        for x, y in zip(on_state["events"], off_state["events"]):
            self.assertEqual(x, y)


if __name__ == "__main__":
    unittest.main()
