"""Sales: the set-based forms of sales.order.create and sales.activity.log
(a run of consecutive commands of one type in a batch written with one
statement over arrays, sql/0021) answer, write and emit exactly what the
one-command statements do (SALES_SET=0). One mixed batch, pipelined, runs
through each: orders and logged activities, with a bad field in each run
(refused before the statement), a person that does not exist in each run
(refused by the statement, so the batch is retried one command per
transaction), an activity that names only its deal and one with a next
action. Replies, rows and events are compared with ids and instants the
service made up replaced by placeholders; every command sent again with
its key is answered from its record and writes nothing. The writer is held
on a table lock taken by the test, so which commands share a batch is
decided by state, never by timing."""
import re
import time
import unittest

import psycopg2
from google.protobuf import json_format

from crmtest import metric_value, recv_replies, rpc_pb2, wait_for
from test_sales_service import INVALID, NOT_FOUND, OK, SalesSystem, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"
ORDER, LOG, REG = "sales.order.create", "sales.activity.log", "sales.person.register"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def order(person, *items, **kw):
    it = [sales_pb2.OrderItem(product_code=c, name=n, quantity=q, unit_price_minor=p)
          for c, n, q, p in items]
    return sales_pb2.CreateOrderRequest(order=sales_pb2.Order(person_id=person, items=it, **kw))


def reg(name, *emails, **kw):
    return sales_pb2.RegisterPersonRequest(person=person_pb2.Person(
        name=name, emails=list(emails), **kw))


def log(person, subject, **kw):
    kw.setdefault("kind", sales_pb2.ACTIVITY_KIND_CALL)
    return sales_pb2.LogActivityRequest(activity=sales_pb2.Activity(
        person_id=person, subject=subject, **kw))


class SetRunSystem:
    """crm-sales with the forms on or off, its people and a deal, and the
    means to send a batch of commands as one transaction."""

    def __init__(self, set_based):
        # No due scan during the test: its work would queue beside the batch.
        self.s = SalesSystem(env={"CRM_WRITERS": "1", "SALES_SET": "1" if set_based else "0",
                                  "SALES_DUE_SCAN_MS": "3600000"})
        # The same names in both systems: the comparison maps ids to names.
        self.people = [self.s.register("Buyer %d" % i, ["buyer%d@runs.io" % i]).person
                       for i in range(8)]
        self.deal = self.s.call("sales.deal.create", sales_pb2.CreateDealRequest(
            deal=sales_pb2.Deal(title="Run deal", person_id=self.people[7].id, owner="rep-d")),
            sales_pb2.DealReply).deal
        self.names = {p.id: "person%d" % i for i, p in enumerate(self.people)}
        self.names[self.deal.id] = "deal"
        self.names[UNKNOWN] = "unknown"

    def close(self):
        self.s.close()

    def metric(self, name):
        return metric_value(self.s.proc, name)

    def request(self, command, msg, key, rid):
        return rpc_pb2.CommandRequest(command=command, body=msg.SerializeToString(),
                                      idempotency_key=key, request_id=rid,
                                      actor="ignored-by-services").SerializeToString()

    def recv(self, client, n):
        return recv_replies(client, n)

    def one_batch(self, commands):
        """Sends commands [(command, msg, key)] while the writer waits on a
        lock of the order table, so that they queue and then run as one
        batch; returns their replies in order."""
        conn = psycopg2.connect(self.s.sys.cluster.url(self.s.sys.dbs["sales"]))
        conn.cursor().execute("LOCK TABLE sales_order IN ACCESS EXCLUSIVE MODE")
        first = self.s.sys.client("sales")
        first.s.send(self.request(ORDER, order(self.people[7].id, ("F", "first", 1, 1)),
                                  unique("first"), 1))
        wait_for(lambda: self.s.q("SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0] > 0,
                 30, "the sales batch waiting on the lock")
        c = self.s.sys.client("sales")
        for i, (command, msg, key) in enumerate(commands):
            c.s.send(self.request(command, msg, key, 100 + i))
        wait_for(lambda: self.metric("crm_command_queue") == len(commands), 60,
                 "all commands queued")
        conn.rollback()
        conn.close()
        assert self.recv(first, 1)[1].status.code == OK
        replies = self.recv(c, len(commands))
        first.close()
        c.close()
        return [replies[100 + i] for i in range(len(commands))]


class Normal:
    """Ids the service made up become id1, id2... in order of appearance,
    the people's and the deal's their names, and instants within a day of
    now "now", so that two systems' answers compare."""

    def __init__(self, names):
        self.names = dict(names)
        self.now = time.time() * 1e6

    def value(self, v):
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, str):
            if v.isdigit() and abs(int(v) - self.now) < 86400e6:
                return "now"  # int64 fields are strings in JSON
            return UUID_RE.sub(lambda m: self.name(m.group(0)), v)
        return v

    def name(self, id_):
        if id_ not in self.names:
            self.names[id_] = "id%d" % (len(self.names) + 1)
        return self.names[id_]

    def message(self, m):
        return self.value(json_format.MessageToDict(m, preserving_proto_field_name=True))


class SetRunTest(unittest.TestCase):
    def batch(self, sys):
        """The mixed batch: a run of orders, a run of logged activities,
        another run of orders, registrations; each run with a bad field and
        an unknown record inside."""
        p = [x.id for x in sys.people]
        cmds = [
            (ORDER, order(p[0], ("A", "Widget", 3, 1250), ("", "Setup", 1, 0))),
            (ORDER, order(p[1], ("B", "Gadget", 1, 990), currency="usd")),
            (ORDER, order(UNKNOWN, ("C", "Nothing", 1, 1))),
            (ORDER, order(p[2], ("D", "Bolt", 0, 5))),  # quantity 0: refused before
            (ORDER, order(p[3], ("E", "Nut", 2, 7), ordered_at_us=1700000000000000)),
            (ORDER, order(p[7], ("G", "Deal item", 1, 100), deal_id=sys.deal.id)),
            (LOG, log(p[0], "Intro call", outcome="interested", owner="rep1")),
            (LOG, log(p[1], "Demo", next_action="send the deck", owner="rep2",
                      next_action_due_us=int(time.time() * 1e6) + 3600 * 10**6)),
            (LOG, log(UNKNOWN, "Nobody")),
            (LOG, log(p[2], "")),  # neither subject nor body: refused before
            (LOG, log("", "About the deal", deal_id=sys.deal.id,
                      kind=sales_pb2.ACTIVITY_KIND_NOTE)),
            (LOG, log(p[3], "Quote \"q1\" {sent}, \\ done", body="a, b",
                      kind=sales_pb2.ACTIVITY_KIND_EMAIL)),
            (LOG, log(p[4], "Follow-up", deal_id=sys.deal.id)),
            (ORDER, order(p[5], ("H", "Last", 4, 25))),
            (ORDER, order(p[6], ("I", "Other", 1, 1), ("J", "More", 2, 2))),
            (REG, reg("New One", "new1@runs.io", phones=["+49 30 1234567"], tags=["vip", "b2b"],
                      country="de", custom_fields=[person_pb2.CustomField(key="tier",
                                                                          value="gold \"1\"")])),
            (REG, reg("", "NEW2@runs.io", "other2@runs.io")),
            (REG, reg("Bad", "not-an-email")),  # refused before
            (REG, reg("Known", "buyer3@runs.io")),  # the person of that email answers
            (REG, reg("No org", "new3@runs.io", organization_id=UNKNOWN)),
            (REG, reg("Without email", title="CTO")),
            (REG, reg("Twice", "twice@runs.io")),
            (REG, reg("Twice again", "twice@runs.io")),  # a key in common: the next run
        ]
        return [(c, m, "k-%d" % i) for i, (c, m) in enumerate(cmds)]

    def clean_batch(self, sys):
        """Runs without a command the database refuses; a command refused
        before the statement (the last of each run) costs no retry."""
        p = [x.id for x in sys.people]
        cmds = [(ORDER, order(p[i], ("K%d" % i, "Clean", 1 + i, 10))) for i in range(6)]
        cmds += [(ORDER, order(p[6], ("K", "Bad", 1, -1)))]
        cmds += [(LOG, log(p[i], "Clean call %d" % i)) for i in range(6)]
        cmds += [(LOG, log(p[6], "Bad", next_action_due_us=-1))]
        cmds += [(REG, reg("Clean %d" % i, "clean%d@runs.io" % i)) for i in range(4)]
        cmds += [(REG, reg("Bad", "bad@"))]
        return [(c, m, "c-%d" % i) for i, (c, m) in enumerate(cmds)]

    def rows(self, sys, norm):
        orders = sys.s.q(
            "SELECT person_id::text, coalesce(organization_id::text, ''),"
            " coalesce(deal_id::text, ''), total_minor, currency, sales_us(ordered_at)::text,"
            " (SELECT json_agg(json_build_array(position, product_code, name, quantity,"
            "   unit_price_minor) ORDER BY position)::text FROM order_item i"
            "  WHERE i.order_id = o.id)"
            " FROM sales_order o ORDER BY 1, 4, 7")
        acts = sys.s.q(
            "SELECT person_id::text, coalesce(deal_id::text, ''), kind, subject, body, owner,"
            " status, due_at IS NULL, completed_at IS NULL, outcome, next_action,"
            " next_action_due IS NULL, override_reason, due_notified"
            " FROM activity ORDER BY 1, 4, 3")
        people = sys.s.q(
            "SELECT id::text, kind, name, emails, phones, coalesce(organization_id::text, ''),"
            " title, country, tags, owner, custom_fields::text, registered_by,"
            " (SELECT jsonb_object_agg(k, v -> 1) FROM jsonb_each(field_versions) f(k, v))::text,"
            " fax, (SELECT array_agg(e.email ORDER BY e.email) FROM person_email e"
            "  WHERE e.person_id = p.id)"
            " FROM person p")
        # sorted by what they hold once named: the ids differ between systems
        return (sorted(norm.value([[str(v) for v in r] for r in orders])),
                sorted(norm.value([[str(v) for v in r] for r in acts])),
                sorted(norm.value([[str(v) for v in r] for r in people])))

    def run_system(self, set_based):
        sys = SetRunSystem(set_based)
        try:
            head = sys.s.head()
            cmds = self.batch(sys)
            reps = sys.one_batch(cmds)
            bad = {2: (NOT_FOUND, "order.person_id"), 3: (INVALID, "order.items[0].quantity"),
                   8: (NOT_FOUND, "activity.person_id"), 9: (INVALID, "activity.subject"),
                   17: (INVALID, "person.emails[0]"),
                   19: (NOT_FOUND, "person.organization_id")}
            for i, rep in enumerate(reps):
                want = bad.get(i, (OK, ""))
                self.assertEqual((rep.status.code, rep.status.field), want, (i, rep.status))
            # a known email answers its person; one email twice, the first
            known, first, second = (self.reply(REG, reps[i]) for i in (18, 21, 22))
            self.assertEqual((known.created, known.person.id), (False, sys.people[3].id))
            self.assertEqual((first.created, second.created), (True, False))
            self.assertEqual(second.person.id, first.person.id)
            retries = sys.metric("crm_batch_retries_total")
            self.assertGreaterEqual(retries, 1)
            runs = sys.metric("crm_command_run_works_total")
            if set_based:
                # the runs of the first attempt: 6 orders, 7 logs, 2 orders,
                # 7 registrations
                self.assertGreaterEqual(runs, 22)
            else:
                self.assertEqual(runs, 0)
            # Once each: every accepted command wrote its rows, none twice.
            self.assertEqual(sys.s.count("sales_order", "person_id = %s", sys.people[0].id), 1)
            self.assertEqual(sys.s.count("sales_order", "person_id = %s", UNKNOWN), 0)
            self.assertEqual(sys.s.count("sales_order"), 1 + 6)
            self.assertEqual(sys.s.count("activity"), 5 + 1)  # and one next action
            norm = Normal(sys.names)
            replies = [(r.status.code, r.status.field, r.status.message, r.status.detail,
                        norm.message(self.reply(cmds[i][0], r)) if r.body else None)
                       for i, r in enumerate(reps)]
            events = [(e.type, norm.value(e.subject), norm.message(e))
                      for e in sys.s.events(head)]
            for e in events:
                for k in ("id", "time_us", "sequence", "epoch", "correlation_id", "causation_id"):
                    e[2].pop(k, None)
            rows = self.rows(sys, norm)
            # Sent again with its key: answered from its record, nothing new.
            seq = sys.s.head()
            for i, (command, msg, key) in enumerate(cmds):
                again = sys.s.raw(command, msg, key)
                self.assertEqual(again.status.code, reps[i].status.code, i)
                if reps[i].status.code == OK:
                    self.assertEqual(again.body, reps[i].body, i)
            self.assertEqual(sys.s.head(), seq)
            self.assertEqual(self.rows(sys, norm), rows)

            # A clean batch: the runs go through without a retry.
            clean = self.clean_batch(sys)
            creps = sys.one_batch(clean)
            for i, rep in enumerate(creps):
                self.assertEqual(rep.status.code, INVALID if i in (6, 13, 18) else OK,
                                 (i, rep.status))
            self.assertEqual(sys.metric("crm_batch_retries_total"), retries)
            if set_based:
                self.assertGreaterEqual(sys.metric("crm_command_run_works_total") - runs, 19)
            clean_replies = [(r.status.code, r.status.field, r.status.message,
                              norm.message(self.reply(clean[i][0], r)))
                             for i, r in enumerate(creps)]
            return replies, events, rows, clean_replies, self.rows(sys, norm)
        finally:
            sys.close()

    def reply(self, command, rep):
        out = {ORDER: sales_pb2.OrderReply, LOG: sales_pb2.ActivityReply,
               REG: sales_pb2.PersonReply}[command]()
        out.ParseFromString(rep.body)
        return out

    def test_set_based_runs_answer_as_one_command_each(self):
        on = self.run_system(True)
        off = self.run_system(False)
        names = ("replies", "events", "rows", "clean batch replies", "rows after it")
        for name, a, b in zip(names, on, off):
            self.assertEqual(a, b, name)


if __name__ == "__main__":
    unittest.main()
