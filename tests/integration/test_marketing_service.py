"""Marketing: the service itself (start-up, campaigns create/show/list/
schedule, bad input writing nothing) and the helpers the other
test_marketing_* files share. A MarketingSystem is a bus, probes standing
in for the services marketing does not run against (support, analytics,
and sales unless a real crm-sales is asked for), and crm-marketing with
sales and support as its CRM_PEERS, on a throwaway PostgreSQL cluster."""
import time
import unittest
import uuid

from crmtest import CallError, System, event_pb2, free_port, rpc_pb2, wait_for
from crm.v1 import marketing_pb2, sales_pb2  # noqa: E402  (path set up by crmtest)

CRM_CUSTOMER_NAMESPACE = "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10"
OK = rpc_pb2.STATUS_CODE_OK
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
NOT_FOUND = rpc_pb2.STATUS_CODE_NOT_FOUND
PRECONDITION = rpc_pb2.STATUS_CODE_FAILED_PRECONDITION
M = marketing_pb2
EMAIL, SMS, PHONE = M.CHANNEL_EMAIL, M.CHANNEL_SMS, M.CHANNEL_PHONE


def customer_id(email):
    """The identity rule, computed the way any service would."""
    return str(uuid.uuid5(uuid.UUID(CRM_CUSTOMER_NAMESPACE), email.strip().lower()))


def unique(prefix="x"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


# The tests written before the consent ledger test sending, throttles,
# segments and results, not consent: they run every channel opt-out, as if
# the policy were configured so (MARKETING_CHANNEL_POLICY). The consent
# tests (test_marketing_consent*.py) pass their own policy, or None for the
# service's default.
PRE_LEDGER_POLICY = {"MARKETING_CHANNEL_POLICY": "email=opt-out,sms=opt-out,fax=opt-out"}


def schedule_soon(call, campaign_id, lead=0.3):
    """Schedules a draft campaign to start `lead` seconds from now; returns
    the CampaignReply. `call(command, msg, reply_type)` raises CallError.
    A start must lie after the service's now, and on a loaded machine the
    command can reach the service after that instant: the service refuses
    it as a start in the past and changes nothing, so ask again, later."""
    for attempt in range(5):
        try:
            return call("marketing.campaign.schedule", M.ScheduleCampaignRequest(
                id=campaign_id, start_at_us=int((time.time() + lead) * 1e6)), M.CampaignReply)
        except CallError as e:
            if e.status.code != INVALID or e.status.field != "start_at_us" or attempt == 4:
                raise
            lead *= 2


class MarketingSystem:
    """Bus + probes + crm-marketing; with_sales=True runs a real crm-sales
    (peers marketing and the support/analytics probes) instead of a probe."""

    def __init__(self, env=None, with_sales=False):
        self.sys = s = System()
        s.start_bus()
        for name in ("support", "analytics") + (() if with_sales else ("sales",)):
            s.add_probe(name)
        for name in ("marketing", "sales"):
            s.endpoints.setdefault(name, "tcp://127.0.0.1:%d" % free_port())
        env = {k: v for k, v in dict(PRE_LEDGER_POLICY, **(env or {})).items() if v is not None}
        self.proc = self._add("marketing", "crm-marketing", ("sales", "support"), env)
        self.proc.start()
        self.sales = None
        if with_sales:
            self.sales = self._add("sales", "crm-sales", ("marketing", "support", "analytics"),
                                   {"SALES_LEAD_OWNERS": "amy"})
            self.sales.start()
        self.c = s.client("marketing")
        self.sc = s.client("sales") if with_sales else None

    def _add(self, name, binary, peers, env):
        return self.sys.add_service(name, binary, peers, env)

    def close(self):
        self.c.close()
        if self.sc:
            self.sc.close()
        self.sys.close()

    # ---- commands -------------------------------------------------------------
    def raw(self, command, msg=None, key=None, client=None):
        return (client or self.c).call_raw(
            command, msg.SerializeToString() if msg is not None else b"", key=key)

    def call(self, command, msg, reply_type, key=None, client=None):
        rep = self.raw(command, msg, key, client)
        if rep.status.code != OK:
            raise CallError(rep.status)
        out = reply_type()
        out.ParseFromString(rep.body)
        return out

    def fails(self, command, msg, code, field=None):
        """Asserts the command fails with `code` naming `field`; returns the status."""
        rep = self.raw(command, msg)
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

    def campaign(self, name=None, channels=(EMAIL,), budget=100000, currency="EUR", **kw):
        c = M.Campaign(name=name or unique("Spring"), channels=list(channels),
                       budget_minor=budget, currency=currency, **kw)
        return self.call("marketing.campaign.create", M.CreateCampaignRequest(campaign=c),
                         M.CampaignReply)

    def expense(self, campaign_id, amount, **kw):
        return self.call("marketing.expense.record", M.RecordExpenseRequest(
            expense=M.Expense(campaign_id=campaign_id, amount_minor=amount, **kw)),
            M.ExpenseReply)

    def respond(self, campaign_id, response, email="", customer="", **kw):
        r = marketing_pb2.CampaignResponseRecorded(campaign_id=campaign_id, response=response,
                                                  email=email, customer_id=customer, **kw)
        return self.call("marketing.response.record", M.RecordResponseRequest(response=r),
                         M.ResponseReply)

    def results(self, campaign_id):
        return self.call("marketing.campaign.results", M.CampaignResultsRequest(id=campaign_id),
                         M.CampaignResultsReply).results

    # ---- events and database ------------------------------------------------------
    def q(self, sql, *args, db="marketing"):
        return self.sys.cluster.query(self.sys.dbs[db], sql, *args)

    def head(self, db="marketing"):
        return self.q("SELECT head_seq FROM crm_stream", db=db)[0][0]

    def events(self, after=0, type_prefix="crm.marketing.", db="marketing"):
        out = []
        for (data,) in self.q("SELECT event FROM crm_outbox WHERE seq > %s ORDER BY seq", after,
                              db=db):
            ev = event_pb2.Event()
            ev.ParseFromString(bytes(data))
            if ev.type.startswith(type_prefix):
                out.append(ev)
        return out

    def wait_applied(self, consumer, source, db="marketing", timeout=20):
        """Waits until `consumer` (in database `db`) has applied every event
        `source` has committed so far."""
        head = self.head(db=source)

        def done():
            rows = self.q("SELECT seq FROM crm_consumer_position WHERE consumer = %s"
                          " AND source = %s", consumer, source, db=db)
            return rows and rows[0][0] >= head
        wait_for(done, timeout, "%s to apply %s up to %d" % (consumer, source, head))

    def emit(self, source, type_, subject, **payload):
        """Has the probe named `source` publish an event carrying `payload`."""
        self.sys.emit(source, type_, subject, **payload)


class ServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_campaign_create_show_list(self):
        s = self.s
        before = s.head()
        offer = M.Offer(product_code=" SKU-1 ", discount_percent=15, text="15% off widgets")
        r = s.campaign(name="  Spring launch ", channels=(EMAIL, SMS), budget=250000,
                       currency="eur", objective="more widget sales", owner="amy",
                       start_date="2026-03-01", end_date="2026-03-31", offers=[offer],
                       overspend_policy=M.OVERSPEND_POLICY_FLAG, attribution_window_days=14)
        c = r.campaign
        self.assertTrue(c.id)
        self.assertEqual((c.name, c.currency, c.status, list(c.channels)),
                         ("Spring launch", "EUR", M.CAMPAIGN_STATUS_DRAFT, [EMAIL, SMS]))
        self.assertEqual((c.start_date, c.end_date, c.attribution_window_days,
                          c.overspend_policy), ("2026-03-01", "2026-03-31", 14,
                                                M.OVERSPEND_POLICY_FLAG))
        self.assertEqual([(o.product_code, o.discount_percent, o.text) for o in c.offers],
                         [("SKU-1", 15, "15% off widgets")])
        self.assertEqual((r.budget.budget_minor, r.budget.spent_minor, r.budget.remaining_minor),
                         (250000, 0, 250000))
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.marketing.campaign.created.v1"])
        self.assertEqual(evs[0].campaign_created.campaign, c)
        # Defaults: refuse overspending, 30-day attribution window.
        d = s.campaign().campaign
        self.assertEqual((d.overspend_policy, d.attribution_window_days),
                         (M.OVERSPEND_POLICY_REFUSE, 30))
        shown = s.call("marketing.campaign.show", M.ShowCampaignRequest(id=c.id),
                       M.CampaignReply)
        self.assertEqual(shown.campaign, c)
        listed = s.call("marketing.campaign.list", M.ListCampaignsRequest(),
                        M.ListCampaignsReply).campaigns
        self.assertIn(c.id, [x.id for x in listed])
        s.fails("marketing.campaign.show", M.ShowCampaignRequest(id=str(uuid.uuid4())),
                NOT_FOUND, "id")
        s.fails("marketing.campaign.show", M.ShowCampaignRequest(id="nope"), INVALID, "id")

    def test_schedule(self):
        s = self.s
        c = s.campaign().campaign
        now = int(time.time() * 1e6)
        head = s.head()
        s.fails("marketing.campaign.schedule", M.ScheduleCampaignRequest(
            id=c.id, start_at_us=now + 3600 * 10 ** 6), PRECONDITION, "id")  # no message yet
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=EMAIL, subject="Hi", body="Hello")), M.MessageReply)
        head = s.head()
        s.fails("marketing.campaign.schedule", M.ScheduleCampaignRequest(
            id=c.id, start_at_us=now - 1000000), INVALID, "start_at_us")
        self.assertEqual(s.head(), head)
        r = s.call("marketing.campaign.schedule", M.ScheduleCampaignRequest(
            id=c.id, start_at_us=now + 3600 * 10 ** 6), M.CampaignReply)
        self.assertEqual((r.campaign.status, r.campaign.start_at_us),
                         (M.CAMPAIGN_STATUS_SCHEDULED, now + 3600 * 10 ** 6))
        self.assertEqual([e.type for e in s.events(head)], ["crm.marketing.campaign.scheduled.v1"])
        head = s.head()
        s.fails("marketing.campaign.schedule", M.ScheduleCampaignRequest(
            id=c.id, start_at_us=now + 7200 * 10 ** 6), PRECONDITION, "id")
        scheduled = s.call("marketing.campaign.list", M.ListCampaignsRequest(
            status=M.CAMPAIGN_STATUS_SCHEDULED), M.ListCampaignsReply).campaigns
        self.assertEqual([x.id for x in scheduled], [c.id])
        self.assertEqual(s.head(), head)

    def test_pause_resume_cancel_complete(self):
        s = self.s
        c = s.campaign().campaign
        s.call("marketing.message.set", M.SetMessageRequest(template=M.MessageTemplate(
            campaign_id=c.id, channel=EMAIL, subject="Hi", body="Hello {{name}}")),
            M.MessageReply)
        start = int(time.time() * 1e6) + 3600 * 10 ** 6
        s.call("marketing.campaign.schedule", M.ScheduleCampaignRequest(
            id=c.id, start_at_us=start), M.CampaignReply)
        A = M.CampaignActionRequest

        def act(verb):
            return s.call("marketing.campaign." + verb, A(id=c.id), M.CampaignReply).campaign

        head = s.head()
        self.assertEqual(act("pause").status, M.CAMPAIGN_STATUS_PAUSED)
        # Its start is still ahead: resuming schedules it again.
        self.assertEqual(act("resume").status, M.CAMPAIGN_STATUS_SCHEDULED)
        evs = s.events(head)
        self.assertEqual([(e.type, e.campaign_status_changed.campaign.status,
                           e.campaign_status_changed.__getattribute__("from"))
                          for e in evs],
                         [("crm.marketing.campaign.status_changed.v1", M.CAMPAIGN_STATUS_PAUSED,
                           M.CAMPAIGN_STATUS_SCHEDULED),
                          ("crm.marketing.campaign.status_changed.v1",
                           M.CAMPAIGN_STATUS_SCHEDULED, M.CAMPAIGN_STATUS_PAUSED)])
        head = s.head()
        st = s.fails("marketing.campaign.complete", A(id=c.id), PRECONDITION, "id")
        self.assertEqual(st.message, "campaign cannot be completed")
        s.fails("marketing.campaign.resume", A(id=c.id), PRECONDITION, "id")
        s.fails("marketing.campaign.pause", A(id=str(uuid.uuid4())), NOT_FOUND, "id")
        s.fails("marketing.campaign.cancel", A(id="x"), INVALID, "id")
        self.assertEqual(s.head(), head)
        self.assertEqual(act("cancel").status, M.CAMPAIGN_STATUS_CANCELLED)
        s.fails("marketing.campaign.cancel", A(id=c.id), PRECONDITION, "id")

    def test_bad_campaigns_write_nothing(self):
        s = self.s
        head, n = s.head(), s.q("SELECT count(*) FROM campaign")[0][0]
        C = M.CreateCampaignRequest

        def bad(field, **kw):
            base = dict(name="X", channels=[EMAIL], currency="EUR", budget_minor=1)
            base.update(kw)
            s.fails("marketing.campaign.create", C(campaign=M.Campaign(**base)), INVALID, field)
        bad("campaign.name", name=" ")
        bad("campaign.channels", channels=[])
        bad("campaign.channels[1]", channels=[EMAIL, EMAIL])
        bad("campaign.budget_minor", budget_minor=-5)
        bad("campaign.currency", currency="EURO")
        bad("campaign.end_date", start_date="2026-04-02", end_date="2026-04-01")
        bad("campaign.start_date", start_date="2026-13-01")
        bad("campaign.offers[0].discount_percent",
            offers=[M.Offer(product_code="A", discount_percent=120)])
        bad("campaign.attribution_window_days", attribution_window_days=-1)
        bad("campaign.status", status=M.CAMPAIGN_STATUS_RUNNING)
        s.fails("marketing.campaign.create", C(), INVALID, "campaign")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT count(*) FROM campaign")[0][0], n)


if __name__ == "__main__":
    unittest.main()
