"""Sales: subscriptions, what plan a customer is on (issue 20). A real
crm-sales (on its test clock) records plans with an amount per month or
year in an ISO 4217 currency; each keeps a task for the customer's owner
that falls due SALES_RENEWAL_NOTICE_DAYS (14) before the renewal; renewals,
changes and cancellations move or close that task. A real crm-analytics
follows the events and puts the renewals into the forecast, by month and
currency; the figures are worked out by hand in the comments. Bad input (an
unknown customer or currency, an amount of 0 or less, a renewal not after
the start) gets a clear error and changes nothing."""
import datetime
import json
import os
import time
import unittest

from crmtest import rpc_pb2, run_crmctl, testing_pb2, wait_for
from test_analytics_service import AnalyticsSystem
from crm.v1 import event_pb2, person_pb2, sales_pb2  # noqa: E402

OK = rpc_pb2.STATUS_CODE_OK
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
NOT_FOUND = rpc_pb2.STATUS_CODE_NOT_FOUND
PRECONDITION = rpc_pb2.STATUS_CODE_FAILED_PRECONDITION
UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"
US = 1000000
DAY = 86400 * US
MONTH = sales_pb2.SUBSCRIPTION_PERIOD_MONTH
YEAR = sales_pb2.SUBSCRIPTION_PERIOD_YEAR
# Next year: every renewal and every reminder below is in the future.
Y = datetime.date.today().year + 1


def d(year, month, day):
    return "%04d-%02d-%02d" % (year, month, day)


def midnight_us(date):
    return int(datetime.datetime.strptime(date, "%Y-%m-%d").replace(
        tzinfo=datetime.timezone.utc).timestamp()) * US


class SubscriptionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        a = cls.a = AnalyticsSystem(probes=("marketing", "support"))
        cls.sales = a.add("sales", "crm-sales", ("marketing", "support", "analytics"),
                          {"CRM_TEST_CLOCK": "0", "SALES_DUE_SCAN_MS": "200"})
        cls.sales.start()
        a.start()
        cls.s = a.sys.client("sales")
        cls.ann = cls.register("Ann Plan", "ann@plan.example", "rep-ann")
        cls.bob = cls.register("Bob Plan", "bob@plan.example", "rep-bob")

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.a.close()

    @classmethod
    def register(cls, name, email, owner):
        rep = cls.s.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name=name, emails=[email], owner=owner)),
            sales_pb2.PersonReply)
        return rep.person.id

    def call(self, command, msg, reply):
        rep = self.s.call_raw(command, msg.SerializeToString())
        self.assertEqual(rep.status.code, OK, rep.status)
        return reply.FromString(rep.body)

    def fails(self, command, msg, code, field):
        rep = self.s.call_raw(command, msg.SerializeToString())
        self.assertEqual(rep.status.code, code, rep.status)
        self.assertEqual(rep.status.field, field, rep.status)
        self.assertTrue(rep.status.message and rep.status.message[0].islower(), rep.status)
        return rep.status

    def sq(self, sql, *args):
        return self.a.q(sql, *args, db="sales")

    def head(self):
        return self.a.head("sales")

    def events(self, after, prefix="crm.sales."):
        out = []
        for (data,) in self.sq("SELECT event FROM crm_outbox WHERE seq > %s ORDER BY seq", after):
            ev = event_pb2.Event()
            ev.ParseFromString(bytes(data))
            if ev.type.startswith(prefix):
                out.append(ev)
        return out

    def create(self, **kw):
        return self.call("sales.subscription.create", sales_pb2.CreateSubscriptionRequest(
            subscription=sales_pb2.Subscription(**kw)), sales_pb2.SubscriptionReply).subscription

    def task(self, activity_id):
        return self.sq("SELECT owner, kind, status, sales_us(due_at), subject, person_id::text"
                       " FROM activity WHERE id = %s", activity_id)[0]

    def state(self):
        return (self.head(), self.sq("SELECT count(*) FROM subscription")[0][0],
                self.sq("SELECT count(*) FROM activity")[0][0])

    def crmctl(self, *args, rc=0):
        env = dict(os.environ, CRM_SERVICES="analytics=%s,sales=%s" % (
            self.a.sys.endpoints["analytics"], self.a.sys.endpoints["sales"]))
        return run_crmctl(self, env, args, rc, timeout=30)

    def test_subscriptions_renewals_and_forecast(self):
        a = self.a
        # ---- bad input: a clear error, nothing changes -------------------------
        before = self.state()
        bad = [
            (dict(person_id=UNKNOWN, plan="P", amount_minor=100, currency="EUR"), NOT_FOUND,
             "subscription.person_id"),
            (dict(person_id=self.ann, plan="P", amount_minor=100, currency="XYZ"), INVALID,
             "subscription.currency"),
            (dict(person_id=self.ann, plan="P", amount_minor=0, currency="EUR"), INVALID,
             "subscription.amount_minor"),
            (dict(person_id=self.ann, plan="P", amount_minor=-5, currency="EUR"), INVALID,
             "subscription.amount_minor"),
            (dict(person_id=self.ann, plan="P", amount_minor=100, start_date=d(Y, 3, 1),
                  renewal_date=d(Y, 2, 1)), INVALID, "subscription.renewal_date"),
            (dict(person_id=self.ann, plan="P", amount_minor=100, start_date=d(Y, 3, 1),
                  renewal_date=d(Y, 3, 1)), INVALID, "subscription.renewal_date"),
            (dict(person_id=self.ann, plan=" ", amount_minor=100), INVALID, "subscription.plan"),
        ]
        for sub, code, field in bad:
            st = self.fails("sales.subscription.create", sales_pb2.CreateSubscriptionRequest(
                subscription=sales_pb2.Subscription(**sub)), code, field)
            if field == "subscription.currency":
                self.assertIn("ISO 4217", st.message)
        self.assertEqual(self.state(), before)

        # ---- A: Ann's Team plan, 49.00 EUR a month from 15 December -------------
        head = self.head()
        sa = self.create(person_id=self.ann, plan="Team plan", amount_minor=4900, currency="eur",
                         start_date=d(Y - 1, 12, 15))
        # The renewal defaults to one period after the start; the owner is
        # the customer's.
        self.assertEqual((sa.renewal_date, sa.currency, sa.period, sa.status, sa.owner),
                         (d(Y, 1, 15), "EUR", MONTH, sales_pb2.SUBSCRIPTION_STATUS_ACTIVE,
                          "rep-ann"))
        # Its reminder: a task for rep-ann, due 14 days before 15 January.
        owner, kind, status, due, subject, pid = self.task(sa.renewal_task_id)
        self.assertEqual((owner, kind, status, due, pid),
                         ("rep-ann", sales_pb2.ACTIVITY_KIND_TASK,
                          sales_pb2.ACTIVITY_STATUS_SCHEDULED, midnight_us(d(Y, 1, 1)), self.ann))
        self.assertEqual(subject, "Renewal on %s: Team plan" % d(Y, 1, 15))
        self.assertEqual([e.type for e in self.events(head)],
                         ["crm.sales.activity.scheduled.v1", "crm.sales.subscription.created.v1"])
        ev = self.events(head)[1]
        self.assertEqual((ev.subject, ev.subscription_created.subscription.id), (self.ann, sa.id))

        # ---- B: Ann's Enterprise plan, 1200.00 EUR a year, renews 1 March ----
        sb = self.create(person_id=self.ann, plan="Enterprise", amount_minor=120000,
                         currency="EUR", period=YEAR, start_date=d(Y - 1, 3, 1))
        self.assertEqual(sb.renewal_date, d(Y, 3, 1))
        # ---- C: Bob's Matcha club, 5000 JPY a month (JPY has no minor unit) -
        sc = self.create(person_id=self.bob, plan="Matcha club", amount_minor=5000,
                         currency="JPY", start_date=d(Y - 1, 12, 1))
        self.assertEqual((sc.renewal_date, sc.owner), (d(Y, 1, 1), "rep-bob"))
        # ---- D: Bob's Old plan, 10.00 GBP a month, cancelled ------------------
        sd = self.create(person_id=self.bob, plan="Old plan", amount_minor=1000, currency="GBP",
                         start_date=d(Y - 1, 12, 10))

        # Change B's amount to 1100.00 EUR: the renewal date stays, so the task
        # stays too.
        head = self.head()
        ch = self.call("sales.subscription.change", sales_pb2.ChangeSubscriptionRequest(
            id=sb.id, subscription=sales_pb2.Subscription(amount_minor=110000),
            update_mask=["amount_minor"]), sales_pb2.SubscriptionReply).subscription
        self.assertEqual((ch.amount_minor, ch.renewal_task_id), (110000, sb.renewal_task_id))
        evs = self.events(head)
        self.assertEqual([e.type for e in evs], ["crm.sales.subscription.changed.v1"])
        self.assertEqual(list(evs[0].subscription_changed.changed), ["amount_minor"])
        # Bad changes: nothing changes.
        before = self.state()
        self.fails("sales.subscription.change", sales_pb2.ChangeSubscriptionRequest(
            id=sb.id, subscription=sales_pb2.Subscription(amount_minor=0),
            update_mask=["amount_minor"]), INVALID, "subscription.amount_minor")
        self.fails("sales.subscription.change", sales_pb2.ChangeSubscriptionRequest(
            id=sb.id, subscription=sales_pb2.Subscription(currency="XYZ"),
            update_mask=["currency"]), INVALID, "subscription.currency")
        self.fails("sales.subscription.change", sales_pb2.ChangeSubscriptionRequest(
            id=sb.id, subscription=sales_pb2.Subscription(renewal_date=d(Y - 1, 2, 1)),
            update_mask=["renewal_date"]), INVALID, "subscription.renewal_date")
        self.fails("sales.subscription.change", sales_pb2.ChangeSubscriptionRequest(
            id=sb.id, subscription=sales_pb2.Subscription(owner="x"), update_mask=["owner"]),
            INVALID, "update_mask")
        self.fails("sales.subscription.renew", sales_pb2.RenewSubscriptionRequest(id=UNKNOWN),
                   NOT_FOUND, "id")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.sq("SELECT amount_minor FROM subscription WHERE id = %s",
                                 sb.id)[0][0], 110000)

        # C renews: 1 January -> 1 February; the old task is closed and a new
        # one falls due 14 days before 1 February, on 18 January.
        head = self.head()
        rc = self.call("sales.subscription.renew", sales_pb2.RenewSubscriptionRequest(id=sc.id),
                       sales_pb2.SubscriptionReply).subscription
        self.assertEqual(rc.renewal_date, d(Y, 2, 1))
        self.assertNotEqual(rc.renewal_task_id, sc.renewal_task_id)
        self.assertEqual(self.task(sc.renewal_task_id)[2], sales_pb2.ACTIVITY_STATUS_DONE)
        self.assertEqual(self.task(rc.renewal_task_id)[:4],
                         ("rep-bob", sales_pb2.ACTIVITY_KIND_TASK,
                          sales_pb2.ACTIVITY_STATUS_SCHEDULED, midnight_us(d(Y, 1, 18))))
        evs = self.events(head)
        self.assertEqual([e.type for e in evs],
                         ["crm.sales.activity.completed.v1", "crm.sales.activity.scheduled.v1",
                          "crm.sales.subscription.renewed.v1"])
        self.assertEqual(evs[2].subscription_renewed.from_date, d(Y, 1, 1))

        # D is cancelled (through crmctl): its task is closed; a second
        # cancellation is refused and changes nothing.
        out = self.crmctl("subscription", "cancel", sd.id, "--reason", "moved to a rival").stdout
        self.assertIn("cancelled", out)
        row = self.sq("SELECT status, cancel_reason, cancelled_at IS NOT NULL FROM subscription"
                      " WHERE id = %s", sd.id)[0]
        self.assertEqual(row, (sales_pb2.SUBSCRIPTION_STATUS_CANCELLED, "moved to a rival", True))
        self.assertEqual(self.task(sd.renewal_task_id)[2], sales_pb2.ACTIVITY_STATUS_DONE)
        before = self.state()
        self.fails("sales.subscription.cancel", sales_pb2.CancelSubscriptionRequest(id=sd.id),
                   PRECONDITION, "id")
        self.fails("sales.subscription.renew", sales_pb2.RenewSubscriptionRequest(id=sd.id),
                   PRECONDITION, "id")
        self.assertEqual(self.state(), before)

        # ---- show and list -------------------------------------------------------
        shown = self.call("sales.subscription.show", sales_pb2.ShowSubscriptionRequest(id=sb.id),
                          sales_pb2.SubscriptionReply).subscription
        self.assertEqual((shown.plan, shown.amount_minor), ("Enterprise", 110000))
        lst = self.call("sales.subscription.list", sales_pb2.ListSubscriptionsRequest(
            person_id=self.bob, status=sales_pb2.SUBSCRIPTION_STATUS_ACTIVE),
            sales_pb2.ListSubscriptionsReply)
        self.assertEqual([x.id for x in lst.subscriptions], [sc.id])

        # What sales keeps about Bob (sales.person.export) holds his plans.
        exp = json.loads(self.call("sales.person.export", person_pb2.ExportPersonRequest(
            id=self.bob), person_pb2.ExportPersonReply).json)
        self.assertEqual(sorted(x["plan"] for x in exp["records"]["subscriptions"]),
                         ["Matcha club", "Old plan"])

        # ---- the reminder falls due on the service's clock --------------------------
        # A's task is due at midnight on 1 January: move sales' clock past it.
        due = midnight_us(d(Y, 1, 1))
        offset = due - int(time.time() * US) + 5 * US
        r = self.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=offset),
                      testing_pb2.ClockSetReply)
        self.assertGreater(r.now_us, due)

        def due_event():
            return [e for e in self.events(0, "crm.sales.activity.due.")
                    if e.activity_due.activity.id == sa.renewal_task_id]
        ev = wait_for(due_event, 15, "activity.due of A's renewal task")[0]
        self.assertEqual((ev.activity_due.activity.owner, ev.subject), ("rep-ann", self.ann))

        # ---- the forecast: renewals per month and currency -----------------------
        a.wait_applied(sources=("sales",))
        at = midnight_us(d(Y, 1, 1))
        f = a.report("analytics.report.forecast", at_us=at)
        self.assertEqual(f["renewals_from"], "%04d-01" % Y)
        got = [(x["month"], x["currency"], x["renewals"], x["amount_minor"])
               for x in f["renewals"]]
        # Twelve months from January: A renews on the 15th of each month
        # (49.00 EUR); B on 1 March (1100.00 EUR after the change); C, renewed
        # once already, on the 1st of February to December (5000 JPY; its
        # January renewal is past); D is cancelled. March EUR: 49.00 +
        # 1100.00 = 1149.00.
        want = [("%04d-01" % Y, "EUR", 1, 4900)]
        for m in range(2, 13):
            eur = (2, 4900 + 110000) if m == 3 else (1, 4900)
            want += [("%04d-%02d" % (Y, m), "EUR") + eur, ("%04d-%02d" % (Y, m), "JPY", 1, 5000)]
        self.assertEqual(got, want)
        # A year's renewals: 12 x 49.00 + 1100.00 = 1688.00 EUR; 11 x 5000 JPY.
        self.assertEqual(sum(x[3] for x in got if x[1] == "EUR"), 168800)
        self.assertEqual(sum(x[3] for x in got if x[1] == "JPY"), 55000)

        # The timeline says what happened.
        tl = [e["summary"] for e in a.report("analytics.customer.timeline", customer_id=self.bob)
              ["events"]]
        self.assertIn('subscription "Matcha club" (5000 JPY a month) renewed, next on %s'
                      % d(Y, 2, 1), tl)

        # ---- crmctl: readable tables, a clear error ---------------------------------
        out = self.crmctl("subscription", "list", "--person", self.ann).stdout
        self.assertIn("Team plan", out)
        self.assertIn("49.00 EUR", out)
        self.assertIn("1100.00 EUR", out)
        self.assertIn("month", out)
        out = self.crmctl("subscription", "show", sc.id).stdout
        self.assertIn("5000 JPY", out)
        p = self.crmctl("subscription", "add", "--person", self.ann, "--plan", "X", "--amount",
                        "10", "--currency", "XYZ", rc=1)
        self.assertIn("ISO 4217", p.stderr)
        out = self.crmctl("subscription", "add", "--person", self.bob, "--plan", "Gold",
                          "--amount", "9.50", "--currency", "GBP", "--period", "year",
                          "--start", d(Y, 2, 1)).stdout
        self.assertIn("9.50 GBP", out)
        self.assertIn(d(Y + 1, 2, 1), out)
        out = self.crmctl("report", "forecast", "--at", d(Y, 1, 1)).stdout
        self.assertIn("subscription renewals", out)
        # The amount column is in the row's currency (CUR), as the deals' is.
        self.assertRegex(out, r"%04d-03 +EUR +2 +1149\.00\n" % Y)
        self.assertRegex(out, r"%04d-03 +JPY +1 +5000\n" % Y)


if __name__ == "__main__":
    unittest.main()
