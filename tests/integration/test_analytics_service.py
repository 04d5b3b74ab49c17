"""Analytics: a fixed sequence of events from probes named sales, marketing
and support (each emits any event with probe.emit) reaches crm-analytics,
and every projection, KPI and report is compared with figures worked out by
hand below. Then: the as-of view of a customer on a past date, bad input,
data-quality findings published once, a rebuild equal to the live results,
and exactly-once projections across a kill -9 in the middle of a stream.

Also the helpers test_analytics_collab.py shares: an AnalyticsSystem is a
bus, the peers (probes, or real services the caller starts) and
crm-analytics, on one throwaway PostgreSQL cluster.

Time: payloads carry past instants (ordered_at_us, completed_at_us, ...),
relative to AT, a Monday 12:00 UTC two weeks after the test starts; every
report is asked at AT. Events that carry no instant of their own (a ticket
opened, a campaign response, a send decision) happen now, which is 7 to 14
days before AT."""
import json
import os
import time
import unittest
import uuid

import psycopg2

from crmtest import (CallError, System, event_pb2, free_port, keyring, rpc_pb2, run_crmctl,
                     subscribe,
                     testing_pb2, wait_for)
# The crm.v1 path is set up by crmtest.
from crm.v1 import analytics_pb2, marketing_pb2, person_pb2, sales_pb2, support_pb2  # noqa: E402

OK = rpc_pb2.STATUS_CODE_OK
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
NOT_FOUND = rpc_pb2.STATUS_CODE_NOT_FOUND
CRM_CUSTOMER_NAMESPACE = "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10"
US = 1000000
DAY = 86400 * US
HOUR = 3600 * US


def customer_id(email):
    """The identity rule, computed the way any service would."""
    return str(uuid.uuid5(uuid.UUID(CRM_CUSTOMER_NAMESPACE), email.strip().lower()))


def week_start(us):
    """Monday 00:00 UTC of the week containing us."""
    days = us // DAY
    return (days - (days + 3) % 7) * DAY


class AnalyticsSystem:
    """Bus + peers + crm-analytics. `probes` are started as probes; other
    peers (real services) the caller adds to sys before calling start()."""

    def __init__(self, env=None, probes=("sales", "marketing", "support"), sys=None):
        self.sys = sys or System()
        if sys is None:
            self.sys.start_bus()
        for p in probes:
            self.sys.add_probe(p)
        self.env = env or {}
        for name in ("sales", "marketing", "support", "analytics"):
            self.sys.endpoints.setdefault(name, "tcp://127.0.0.1:%d" % free_port())
        self.proc = None
        self.c = None

    def add(self, name, binary, peers, env):
        return self.sys.add_service(name, binary, peers, env)

    def start(self):
        # The periodic scan is left to a later test; these ask for scans.
        env = {"ANALYTICS_SCAN_MS": "3600000"}
        env.update(self.env)
        self.proc = self.add("analytics", "crm-analytics", ("sales", "marketing", "support"), env)
        self.proc.start()
        self.c = self.sys.client("analytics")
        return self

    def close(self):
        if self.c:
            self.c.close()
        self.sys.close()

    # ---- commands ---------------------------------------------------------
    def raw(self, command, msg=None, key=None):
        return self.c.call_raw(command, msg.SerializeToString() if msg is not None else b"",
                               key=key)

    def report(self, command, **q):
        rep = self.raw(command, analytics_pb2.AnalyticsQuery(**q))
        if rep.status.code != OK:
            raise CallError(rep.status)
        return json.loads(analytics_pb2.AnalyticsReportReply.FromString(rep.body).json)

    def status(self):
        rep = self.raw("analytics.status", analytics_pb2.AnalyticsStatusRequest())
        assert rep.status.code == OK, rep.status
        return analytics_pb2.AnalyticsStatusReply.FromString(rep.body)

    # ---- databases --------------------------------------------------------
    def q(self, sql, *args, db="analytics"):
        return self.sys.cluster.query(self.sys.dbs[db], sql, *args)

    def head(self, source):
        return self.q("SELECT head_seq FROM crm_stream", db=source)[0][0]

    def wait_applied(self, sources=("sales", "marketing", "support"), timeout=30):
        for source in sources:
            head = self.head(source)

            def done():
                rows = self.q("SELECT seq FROM crm_consumer_position WHERE consumer = %s",
                              "analytics." + source)
                return rows and rows[0][0] >= head
            wait_for(done, timeout, "analytics.%s to apply up to %d" % (source, head))

    def emit(self, source, type_, subject, **payload):
        self.sys.emit(source, type_, subject, **payload)

    def derived(self, type_prefix="crm.analytics."):
        """Events analytics published, decoded, oldest first."""
        out = []
        for (data,) in self.q("SELECT event FROM crm_outbox WHERE type LIKE %s ORDER BY seq",
                              type_prefix + "%"):
            out.append(event_pb2.Event.FromString(bytes(data)))
        return out


# ---- the fixed scenario -------------------------------------------------------
NOW = int(time.time() * US)
AT = week_start(NOW) + 14 * DAY + 12 * HOUR          # a Monday, 12:00 UTC
REPORT_WEEK_START = week_start(AT - 7 * DAY)          # the week before AT's
ANN, BOB, DAN = customer_id("ann@example.com"), customer_id("bob@example.com"), str(uuid.uuid4())
CARA = customer_id("cara-no-contact@example.com")     # registered with no email or phone
CAMPAIGN = str(uuid.uuid4())
SEGMENT = str(uuid.uuid4())
D1, D2, D3, D4 = (str(uuid.uuid4()) for _ in range(4))
PIPE = str(uuid.uuid4())
SALES = "crm.sales.%s.v1"
MKT = "crm.marketing.%s.v1"
SUP = "crm.support.%s.v1"


def person(pid, name, emails=(), phones=(), created=0, updated=0, by="sales", **kw):
    return person_pb2.Person(id=pid, name=name, emails=list(emails), phones=list(phones),
                            created_at_us=created, updated_at_us=updated, registered_by=by, **kw)


def deal(did, pid, title, stage, amount, prob, owner, created, status=sales_pb2.DEAL_STATUS_OPEN,
         closed=0, next_step="", close_date="", updated=0):
    return sales_pb2.Deal(id=did, person_id=pid, title=title, stage=stage, amount_minor=amount,
                          currency="EUR", probability=prob, owner=owner, created_at_us=created,
                          status=status, closed_at_us=closed, next_step=next_step,
                          expected_close_date=close_date, pipeline_id=PIPE,
                          updated_at_us=updated or created)


def activity(aid, pid, kind, owner, subject, done_at=0, due=0, created=0):
    return sales_pb2.Activity(
        id=aid, person_id=pid, kind=kind, owner=owner, subject=subject,
        status=sales_pb2.ACTIVITY_STATUS_DONE if done_at else sales_pb2.ACTIVITY_STATUS_SCHEDULED,
        completed_at_us=done_at, due_at_us=due, created_at_us=created or done_at or AT - 20 * DAY)


def ticket(tid, cid, ttype, status, created, resolved=0, subject="issue"):
    return support_pb2.Ticket(id=tid, customer_id=cid, type=ttype, status=status,
                              created_at_us=created, resolved_at_us=resolved, subject=subject,
                              updated_at_us=resolved or created)


CLOSE_DATE = time.strftime("%Y-%m-%d", time.gmtime((AT + 20 * DAY) // US))
OVERDUE_DUE = NOW - DAY            # overdue both now (for the scan) and at AT


def feed(a):
    """The fixed sequence of events, from all three sources."""
    e = a.emit
    # Sales: people. Ann registered 400 days before AT and updated 50 days
    # before it (a new surname and a phone); Cara with neither email nor
    # phone (data quality: unreachable).
    e("sales", SALES % "person.registered", ANN, person_registered=sales_pb2.PersonRegistered(
        person=person(ANN, "Ann Smith", ["ann@example.com"], created=AT - 400 * DAY,
                      kind=person_pb2.PERSON_KIND_CUSTOMER, owner="rita")))
    e("sales", SALES % "person.updated", ANN, person_updated=sales_pb2.PersonUpdated(
        person=person(ANN, "Ann Smith-Jones", ["ann@example.com"], ["+441234567"],
                      created=AT - 400 * DAY, updated=AT - 50 * DAY),
        changed_fields=["name", "phones"]))
    e("sales", SALES % "person.registered", CARA, person_registered=sales_pb2.PersonRegistered(
        person=person(CARA, "Cara Diaz", created=AT - 30 * DAY)))
    # Orders: Ann every 100 days (cadence 100, last 100 days ago); Bob once,
    # 200 days ago.
    for i, (days, total) in enumerate(((300, 10000), (200, 20000), (100, 30000))):
        e("sales", SALES % "order.placed", ANN, order_placed=sales_pb2.OrderPlaced(
            order=sales_pb2.Order(id=str(uuid.uuid4()), person_id=ANN, total_minor=total,
                                  currency="EUR", ordered_at_us=AT - days * DAY)))
    # The pipeline the deals are in, by name.
    e("sales", SALES % "pipeline.created", "", pipeline_created=sales_pb2.PipelineCreated(
        pipeline=sales_pb2.Pipeline(id=PIPE, name="Sales", stages=[
            sales_pb2.Stage(name="Qualification", probability=20),
            sales_pb2.Stage(name="Proposal", probability=60)])))
    bob_order = str(uuid.uuid4())
    e("sales", SALES % "order.placed", BOB, order_placed=sales_pb2.OrderPlaced(
        order=sales_pb2.Order(id=bob_order, person_id=BOB, total_minor=5000, currency="EUR",
                              ordered_at_us=AT - 200 * DAY)))
    # Deals: D1 (Ann, open, Proposal 60%, next step) moved 4 days before
    # AT; D2 (Cara, open, Qualification 20%, no next step); D3 (Bob) won 6
    # days before AT after 30 days; D4 (Dan) lost 2 days before AT, "price".
    e("sales", SALES % "deal.created", ANN, deal_created=sales_pb2.DealCreated(
        deal=deal(D1, ANN, "Ann renewal", "Qualification", 50000, 20, "rita", AT - 30 * DAY,
                  next_step="send proposal", close_date=CLOSE_DATE)))
    e("sales", SALES % "deal.stage_changed", ANN, deal_stage_changed=sales_pb2.DealStageChanged(
        deal=deal(D1, ANN, "Ann renewal", "Proposal", 50000, 60, "rita", AT - 30 * DAY,
                  next_step="send proposal", close_date=CLOSE_DATE, updated=AT - 4 * DAY),
        from_stage="Qualification", to_stage="Proposal"))
    e("sales", SALES % "deal.created", CARA, deal_created=sales_pb2.DealCreated(
        deal=deal(D2, CARA, "Cara pilot", "Qualification", 10000, 20, "sam", AT - 20 * DAY,
                  close_date=CLOSE_DATE)))
    e("sales", SALES % "deal.created", BOB, deal_created=sales_pb2.DealCreated(
        deal=deal(D3, BOB, "Bob upgrade", "Qualification", 20000, 20, "rita", AT - 36 * DAY)))
    e("sales", SALES % "deal.won", BOB, deal_won=sales_pb2.DealWon(
        deal=deal(D3, BOB, "Bob upgrade", "Won", 20000, 100, "rita", AT - 36 * DAY,
                  status=sales_pb2.DEAL_STATUS_WON, closed=AT - 6 * DAY)))
    e("sales", SALES % "deal.created", DAN, deal_created=sales_pb2.DealCreated(
        deal=deal(D4, DAN, "Dan trial", "Qualification", 8000, 20, "sam", AT - 12 * DAY)))
    e("sales", SALES % "deal.lost", DAN, deal_lost=sales_pb2.DealLost(
        deal=deal(D4, DAN, "Dan trial", "Qualification", 8000, 20, "sam", AT - 12 * DAY,
                  status=sales_pb2.DEAL_STATUS_LOST, closed=AT - 2 * DAY), reason="price"))
    # Activities: rita called Ann 5 days and met her 3 days before AT (both
    # in the report week); sam did a task for Cara 2 days before AT; rita
    # has a call with Ann scheduled a day after AT (next week); sam's task
    # for Bob is overdue.
    ev_done = SALES % "activity.completed"
    e("sales", ev_done, ANN, activity_completed=sales_pb2.ActivityCompleted(activity=activity(
        str(uuid.uuid4()), ANN, sales_pb2.ACTIVITY_KIND_CALL, "rita", "check-in",
        done_at=AT - 5 * DAY)))
    e("sales", ev_done, ANN, activity_completed=sales_pb2.ActivityCompleted(activity=activity(
        str(uuid.uuid4()), ANN, sales_pb2.ACTIVITY_KIND_MEETING, "rita", "review",
        done_at=AT - 3 * DAY)))
    e("sales", ev_done, CARA, activity_completed=sales_pb2.ActivityCompleted(activity=activity(
        str(uuid.uuid4()), CARA, sales_pb2.ACTIVITY_KIND_TASK, "sam", "send deck",
        done_at=AT - 2 * DAY)))
    next_call = str(uuid.uuid4())
    e("sales", SALES % "activity.scheduled", ANN, activity_scheduled=sales_pb2.ActivityScheduled(
        activity=activity(next_call, ANN, sales_pb2.ACTIVITY_KIND_CALL, "rita", "follow-up",
                          due=AT + DAY)))
    overdue = str(uuid.uuid4())
    e("sales", SALES % "activity.scheduled", BOB, activity_scheduled=sales_pb2.ActivityScheduled(
        activity=activity(overdue, BOB, sales_pb2.ACTIVITY_KIND_TASK, "sam", "call back",
                          due=OVERDUE_DUE)))

    # Marketing: Bob and Dan registered by marketing (Dan with Ann's email
    # in upper case: a likely duplicate); campaign C1 with two expenses
    # (3000 + 7000); sends: Ann and Cara SENT, Bob SUPPRESSED, Dan
    # DEFERRED; responses: Ann INTERESTED and OPENED, Bob CONVERTED (2000
    # EUR), Dan BOUNCED; Bob's order attributed to C1 (5000).
    e("marketing", MKT % "person.registered", BOB, person_registered=sales_pb2.PersonRegistered(
        person=person(BOB, "Bob Brown", ["bob@example.com"], created=AT - 500 * DAY, by="marketing",
                      kind=person_pb2.PERSON_KIND_PROSPECT)))
    e("marketing", MKT % "person.registered", DAN, person_registered=sales_pb2.PersonRegistered(
        person=person(DAN, "Dan Smith", ["ANN@example.com"], created=AT - 60 * DAY, by="marketing")))
    e("marketing", MKT % "campaign.created", "", campaign_created=marketing_pb2.CampaignCreated(
        campaign=marketing_pb2.Campaign(id=CAMPAIGN, name="Spring", currency="EUR",
                                        status=marketing_pb2.CAMPAIGN_STATUS_RUNNING,
                                        channels=[marketing_pb2.CHANNEL_EMAIL], budget_minor=50000)))
    for amount in (3000, 7000):
        e("marketing", MKT % "expense.recorded", "", expense_recorded=marketing_pb2.ExpenseRecorded(
            expense=marketing_pb2.Expense(id=str(uuid.uuid4()), campaign_id=CAMPAIGN,
                                          amount_minor=amount, created_at_us=AT - 40 * DAY)))
    for cid, st in ((ANN, marketing_pb2.SEND_STATUS_SENT), (CARA, marketing_pb2.SEND_STATUS_SENT),
                    (BOB, marketing_pb2.SEND_STATUS_SUPPRESSED),
                    (DAN, marketing_pb2.SEND_STATUS_DEFERRED)):
        e("marketing", MKT % "send.decided", cid, send_decided=marketing_pb2.SendDecided(
            campaign_id=CAMPAIGN, customer_id=cid, status=st, channel=marketing_pb2.CHANNEL_EMAIL))
    for cid, resp, rev in ((ANN, marketing_pb2.RESPONSE_TYPE_INTERESTED, 0),
                           (ANN, marketing_pb2.RESPONSE_TYPE_OPENED, 0),
                           (BOB, marketing_pb2.RESPONSE_TYPE_CONVERTED, 2000),
                           (DAN, marketing_pb2.RESPONSE_TYPE_BOUNCED, 0)):
        e("marketing", MKT % "response.recorded", cid,
          campaign_response_recorded=marketing_pb2.CampaignResponseRecorded(
              campaign_id=CAMPAIGN, customer_id=cid, response=resp, channel="email",
              revenue_minor=rev, currency="EUR" if rev else ""))
    e("marketing", MKT % "conversion.attributed", BOB,
      conversion_attributed=marketing_pb2.ConversionAttributed(
          campaign_id=CAMPAIGN, customer_id=BOB, order_id=bob_order, revenue_minor=5000,
          currency="EUR", ordered_at_us=AT - 200 * DAY))
    # Bob and Cara joined segment S (Bob responded and was won; Cara not).
    for cid in (BOB, CARA):
        e("marketing", MKT % "segment.membership_changed", cid,
          segment_membership_changed=marketing_pb2.SegmentMembershipChanged(
              segment_id=SEGMENT, customer_id=cid, member=True))
    e("marketing", MKT % "preferences.changed", ANN,
      preferences_changed=marketing_pb2.PreferencesChanged(
          preferences=marketing_pb2.ContactPreferences(
              customer_id=ANN, preferred_channel=marketing_pb2.CHANNEL_PHONE,
              opted_out=[marketing_pb2.CHANNEL_SMS], updated_at_us=AT - 20 * DAY),
          cause="command"))

    # Support: Ann's open complaint (opened now), Ann's question resolved
    # in 4 hours 20 days before AT and rated 5; Bob's problem with a
    # breached SLA (now) and Bob's open complaint.
    t1, t2, t3, t4 = (str(uuid.uuid4()) for _ in range(4))
    e("support", SUP % "ticket.opened", ANN, ticket_opened=support_pb2.TicketOpened(
        ticket_id=t1, customer_id=ANN, type=support_pb2.TICKET_TYPE_COMPLAINT, subject="late",
        priority="high"))
    e("support", SUP % "ticket.opened", ANN, ticket_opened=support_pb2.TicketOpened(
        ticket_id=t2, customer_id=ANN, type=support_pb2.TICKET_TYPE_QUESTION, subject="how to",
        priority="normal"))
    t2_res = ticket(t2, ANN, support_pb2.TICKET_TYPE_QUESTION, support_pb2.TICKET_STATUS_RESOLVED,
                    AT - 20 * DAY, AT - 20 * DAY + 4 * HOUR, "how to")
    e("support", SUP % "ticket.resolved", ANN, ticket_resolved=support_pb2.TicketResolved(ticket=t2_res))
    t2_res.satisfaction.rating = 5
    t2_res.satisfaction.rated_at_us = AT - 19 * DAY
    e("support", SUP % "ticket.rated", ANN, ticket_rated=support_pb2.TicketRated(
        ticket=t2_res, rating=5, comment="great"))
    e("support", SUP % "ticket.opened", BOB, ticket_opened=support_pb2.TicketOpened(
        ticket_id=t3, customer_id=BOB, type=support_pb2.TICKET_TYPE_PROBLEM, subject="broken",
        priority="urgent"))
    e("support", SUP % "sla.breached", BOB, sla_breached=support_pb2.SlaBreached(
        ticket=ticket(t3, BOB, support_pb2.TICKET_TYPE_PROBLEM, support_pb2.TICKET_STATUS_OPEN, 0,
                      subject="broken"),
        target=support_pb2.SLA_TARGET_FIRST_RESPONSE, due_us=NOW - HOUR))
    e("support", SUP % "ticket.opened", BOB, ticket_opened=support_pb2.TicketOpened(
        ticket_id=t4, customer_id=BOB, type=support_pb2.TICKET_TYPE_COMPLAINT, subject="rude",
        priority="normal"))
    return {"overdue": overdue, "next_call": next_call}


# Event counts of the scenario, per source.
EVENTS = {"sales": 20, "marketing": 17, "support": 7}
# Customers with events: Ann, Bob, Cara, Dan.
CUSTOMERS = 4


class AnalyticsTest(unittest.TestCase):
    """One system for every scenario: the figures are checked first, then
    the same data is rebuilt and then fed across a kill -9."""

    @classmethod
    def setUpClass(cls):
        cls.a = AnalyticsSystem(env={"ANALYTICS_POTENTIAL_LTV": "EUR=500"}).start()
        cls.ids = feed(cls.a)
        cls.a.wait_applied()

    @classmethod
    def tearDownClass(cls):
        cls.a.close()

    def snapshot(self):
        """Every report at AT, for comparing live and rebuilt results."""
        a = self.a
        out = {r: a.report("analytics.report." + r, at_us=AT)
               for r in ("kpis", "health", "potential", "pipeline", "forecast", "campaigns",
                         "data_quality")}
        out["weekly"] = a.report("analytics.report.weekly_activity", at_us=AT, week="")
        for c in (ANN, BOB, CARA, DAN):
            out[c] = a.report("analytics.customer.show", customer_id=c, at_us=AT)
            out[c + "@past"] = a.report("analytics.customer.show", customer_id=c, at_us=AT,
                                        as_of_us=AT - 250 * DAY) if c in (ANN, BOB) else None
        return out

    def scan(self):
        rep = self.a.raw("analytics.data_quality.scan", analytics_pb2.DataQualityScanRequest())
        self.assertEqual(rep.status.code, OK, rep.status)
        return analytics_pb2.DataQualityScanReply.FromString(rep.body).published

    def test_1_projections_and_status(self):
        a = self.a
        # Every event is in the log exactly once, per source.
        for source, n in EVENTS.items():
            self.assertEqual(a.q("SELECT count(*), count(DISTINCT seq) FROM customer_event"
                                 " WHERE source = %s", source)[0], (n, n), source)
        self.assertEqual(a.q("SELECT count(*) FROM customer WHERE known")[0][0], CUSTOMERS)
        st = a.status()
        self.assertFalse(st.rebuild_in_progress)
        self.assertEqual(st.events, sum(EVENTS.values()))
        self.assertEqual(st.customers, CUSTOMERS)
        by = {s.source: s for s in st.sources}
        self.assertEqual(sorted(by), ["marketing", "sales", "support"])
        for source, n in EVENTS.items():
            self.assertEqual(by[source].applied, n)
            self.assertEqual(by[source].consumer, "analytics." + source)
            self.assertEqual(by[source].lag, 0)

    def test_2_customer_360_and_as_of(self):
        a = self.a
        ann = a.report("analytics.customer.show", customer_id=ANN, at_us=AT)
        p = ann["profile"]
        # The update 50 days before AT won over the registration.
        self.assertEqual(p["name"], "Ann Smith-Jones")
        self.assertEqual(p["phones"], ["+441234567"])
        self.assertEqual(p["emails"], ["ann@example.com"])
        self.assertEqual(p["kind"], "customer")
        self.assertEqual(p["registered_by"], "sales")
        self.assertIn("sales", p["contributions"])
        self.assertEqual(ann["preferences"], {"preferred_channel": "phone", "opted_out": ["sms"]})
        self.assertEqual([d["id"] for d in ann["open_deals"]], [D1])
        self.assertEqual(ann["open_deals"][0]["stage"], "Proposal")
        self.assertEqual([t["subject"] for t in ann["open_tickets"]], ["late"])
        f = ann["figures"]
        # 3 orders: 10000 + 20000 + 30000; 2 activities done; 1 campaign;
        # 2 responses; 2 tickets; 1 + 1 + 3 orders + 1 deal created + 1
        # moved + 3 activities + 1 send + 2 responses + 1 preferences + 4
        # ticket events = 18 events.
        self.assertEqual((f["orders"], f["revenue_minor"], f["activities_done"],
                          f["campaigns_reached"], f["responses"], f["tickets"], f["events"]),
                         (3, 60000, 2, 1, 2, 2, 18))
        self.assertEqual(f["last_order_us"], AT - 100 * DAY)
        self.assertEqual(len(ann["timeline"]), 18)
        # The whole cross-team timeline, oldest first.
        tl = ann["timeline"]
        self.assertEqual(tl[0]["type"], "crm.sales.person.registered.v1")
        self.assertEqual(tl[0]["at_us"], AT - 400 * DAY)
        self.assertEqual({e["source"] for e in tl}, {"sales", "marketing", "support"})
        self.assertEqual([e["at_us"] for e in tl], sorted(e["at_us"] for e in tl))
        self.assertIn("ticket \"how to\" rated 5", [e["summary"] for e in tl])
        timeline = a.report("analytics.customer.timeline", customer_id=ANN, at_us=AT)
        self.assertEqual(timeline["events"], tl)

        # As of 250 days before AT: registered, no update yet (old name, no
        # phone), one order (the one 300 days before AT), nothing else.
        past = a.report("analytics.customer.show", customer_id=ANN, at_us=AT,
                        as_of_us=AT - 250 * DAY)
        self.assertEqual(past["profile"]["name"], "Ann Smith")
        self.assertNotIn("phones", past["profile"])
        self.assertEqual(past["profile"]["first_seen_us"], AT - 400 * DAY)
        self.assertEqual((past["figures"]["orders"], past["figures"]["revenue_minor"]), (1, 10000))
        self.assertEqual([e["type"] for e in past["timeline"]],
                         ["crm.sales.person.registered.v1", "crm.sales.order.placed.v1"])
        self.assertEqual(past["open_deals"], [])
        self.assertEqual(past["open_tickets"], [])
        self.assertIsNone(past["preferences"])
        # Before the customer existed: unknown then.
        rep = a.raw("analytics.customer.show", analytics_pb2.AnalyticsQuery(
            customer_id=ANN, as_of_us=AT - 401 * DAY))
        self.assertEqual(rep.status.code, NOT_FOUND)

    def test_3_kpis_health_potential(self):
        a = self.a
        k = {c["customer_id"]: c for c in a.report("analytics.report.kpis", at_us=AT)["customers"]}
        self.assertEqual(set(k), {ANN, BOB, CARA, DAN})
        # LTV: the orders. CAC: C1 cost 10000 and won one customer (Bob: a
        # conversion and a CONVERTED response). Cost to support: 2000 per
        # ticket + 3000 per hour to resolution: Ann 2 tickets and 4 hours
        # = 16000; Bob 2 tickets, none resolved = 4000.
        self.assertEqual((k[ANN]["ltv_minor"], k[ANN]["cac_minor"], k[ANN]["cost_to_support_minor"]),
                         (60000, 0, 16000))
        self.assertEqual((k[BOB]["ltv_minor"], k[BOB]["cac_minor"], k[BOB]["cost_to_support_minor"]),
                         (5000, 10000, 4000))
        self.assertEqual((k[CARA]["ltv_minor"], k[CARA]["cost_to_support_minor"]), (0, 0))
        # Health at AT, from 50:
        # Ann: last order 100 days ago within her 100-day cadence +20;
        #      engagement 2 activities + 2 responses = 4 -> min(20, 4*5) +20;
        #      1 open complaint -15; average rating 5 -> (5-3)*10 = +20 -> 95.
        # Bob: one order 200 days ago -10; engagement 1 (CONVERTED) +5;
        #      1 open complaint -15; 1 SLA breach -10 -> 20.
        # Cara: no order; 1 task done +5 -> 55.
        # Dan: no order; only a bounce: no engagement -10 -> 40.
        h = {c["customer_id"]: c for c in a.report("analytics.report.health", at_us=AT)["customers"]}
        self.assertEqual({c: h[c]["health"] for c in h}, {ANN: 95, BOB: 20, CARA: 55, DAN: 40})
        self.assertEqual({c: h[c]["churn_risk"] for c in h}, {ANN: 5, BOB: 80, CARA: 45, DAN: 60})
        # Lowest score first.
        self.assertEqual([c["customer_id"] for c in a.report("analytics.report.health", at_us=AT)
                          ["customers"]], [BOB, DAN, CARA, ANN])
        self.assertEqual(h[ANN]["health_components"], {
            "orders": 3, "since_tenths": 1000, "cadence_tenths": 1000, "engagement": 4,
            "open_complaints": 1, "ratings": 1, "rating_sum": 5, "breaches": 0})
        self.assertEqual(h[ANN]["health_reasons"], [
            "purchase recency within own cadence of 100.0 days (+20)",
            "engagement: 4 interactions in 90 days (+20)",
            "1 open complaint(s) (-15)",
            "average rating 5.0 (+20)"])
        self.assertEqual(h[BOB]["health_reasons"], [
            "only purchase 200.0 days ago (-10)",
            "engagement: 1 interactions in 90 days (+5)",
            "1 open complaint(s) (-15)",
            "1 SLA breach(es) in 90 days (-10)"])
        self.assertEqual(k[BOB]["health"], 20)
        # High potential (LTV at least 500.00 EUR here, interest, a late-stage
        # deal, health >= 70): only Ann, with all four reasons.
        pot = a.report("analytics.report.potential", at_us=AT)["customers"]
        self.assertEqual([c["customer_id"] for c in pot], [ANN])
        self.assertEqual(pot[0]["reasons"], [
            "lifetime value 600.00 EUR of at least 500.00 EUR",
            "1 interested campaign response(s) in 90 days",
            "open deal \"Ann renewal\" at stage Proposal (60%)",
            "health score 95"])

    def test_4_derived_events(self):
        a = self.a
        # Bob's churn risk crossed the threshold (70) upwards: published
        # with his id as subject, once per upward crossing (the fold may
        # cross more than once while the sources interleave). Ann ends
        # low, Bob high.
        churn = a.derived("crm.analytics.customer.churn_risk_raised.")
        subjects = [e.subject for e in churn]
        self.assertIn(BOB, subjects)
        self.assertEqual(a.q("SELECT customer_id, churn_high FROM health WHERE customer_id IN"
                             " (%s, %s) ORDER BY customer_id = %s", ANN, BOB, BOB),
                         [(ANN, False), (BOB, True)])
        bob = [e for e in churn if e.subject == BOB][-1]
        self.assertEqual(bob.churn_risk_raised.customer_id, BOB)
        self.assertGreaterEqual(bob.churn_risk_raised.score, 70)
        self.assertTrue(bob.churn_risk_raised.reasons)
        # Every score change of a customer already scored is published.
        changed = a.derived("crm.analytics.customer.health_changed.")
        self.assertTrue(changed)
        for e in changed:
            self.assertNotEqual(e.health_changed.old_score, e.health_changed.new_score)
        # The last change published for each customer is the stored score.
        last = {}
        for e in changed:
            last[e.subject] = e.health_changed.new_score
        for cid, score in last.items():
            self.assertEqual(a.q("SELECT score FROM health WHERE customer_id = %s", cid)[0][0], score)

    def test_5_sales_reports(self):
        a = self.a
        pipe = a.report("analytics.report.pipeline", at_us=AT)
        # Open: D1 Proposal 50000 at 60% -> 30000; D2 Qualification 10000
        # at 20% -> 2000. Won 1 (D3, 30 days), lost 1 (D4, "price").
        self.assertEqual(pipe["stages"], [
            {"pipeline_id": PIPE, "pipeline": "Sales", "stage": "Proposal", "currency": "EUR",
             "deals": 1, "amount_minor": 50000, "weighted_minor": 30000},
            {"pipeline_id": PIPE, "pipeline": "Sales", "stage": "Qualification", "currency": "EUR",
             "deals": 1, "amount_minor": 10000, "weighted_minor": 2000}])
        self.assertEqual((pipe["won"], pipe["lost"], pipe["win_rate_bp"]), (1, 1, 5000))
        self.assertEqual(pipe["avg_days_to_close"], 30.0)
        self.assertEqual(pipe["lost_reasons"], [{"reason": "price", "deals": 1}])
        fc = a.report("analytics.report.forecast", at_us=AT)
        self.assertEqual(fc["months"], [{"month": CLOSE_DATE[:7], "currency": "EUR", "deals": 2,
                                         "amount_minor": 60000, "weighted_minor": 32000}])
        # The week before AT's: rita 1 call, 1 meeting, D1 advanced, D3
        # won, next week the follow-up call; sam 1 task, D4 lost.
        week = time.strftime("%G-W%V", time.gmtime(REPORT_WEEK_START // US))
        w = a.report("analytics.report.weekly_activity", at_us=AT, week=week)
        self.assertEqual(w["week_start_us"], REPORT_WEEK_START)
        reps = {r["rep"]: r for r in w["reps"]}
        self.assertEqual(sorted(reps), ["rita", "sam"])
        rita = reps["rita"]
        self.assertEqual((rita["calls"], rita["meetings"], rita["emails"], rita["tasks_done"],
                          rita["deals_advanced"], rita["deals_won"], rita["deals_lost"]),
                         (1, 1, 0, 0, 1, 1, 0))
        self.assertEqual([x["id"] for x in rita["next_week"]], [self.ids["next_call"]])
        self.assertEqual(rita["next_week"][0]["due_at_us"], AT + DAY)
        # The customer's name beside the id, for people to read.
        self.assertEqual(rita["next_week"][0]["customer"], "Ann Smith-Jones")
        sam = reps["sam"]
        self.assertEqual((sam["calls"], sam["tasks_done"], sam["deals_won"], sam["deals_lost"],
                          sam["next_week"]), (0, 1, 0, 1, []))
        only = a.report("analytics.report.weekly_activity", at_us=AT, week=week, rep="sam")
        self.assertEqual([r["rep"] for r in only["reps"]], ["sam"])
        # Default: the week containing at_us (AT's own week: nothing done yet).
        self.assertEqual(a.report("analytics.report.weekly_activity", at_us=AT)["week_start_us"],
                         week_start(AT))

    def test_5b_sales_reports_at_the_reader_level(self):
        """A rep sees their own weekly activity and pipeline, a manager their
        team's (issue 12); an analyst every rep's."""
        keys = keyring()
        keys.key("rita", "staff", teams="east", roles="sales-rep")
        keys.key("sam", "staff", teams="west", roles="sales-rep")
        keys.key("west-lead", "staff", teams="west", roles="sales-manager")
        week = time.strftime("%G-W%V", time.gmtime(REPORT_WEEK_START // US))

        def report(who, command, **q):
            c = self.a.sys.client("analytics", who)
            try:
                rep = c.call_raw(command, analytics_pb2.AnalyticsQuery(**q).SerializeToString())
            finally:
                c.close()
            self.assertEqual(rep.status.code, OK, rep.status)
            return json.loads(analytics_pb2.AnalyticsReportReply.FromString(rep.body).json)
        weekly = "analytics.report.weekly_activity"
        self.assertEqual([r["rep"] for r in report("rita", weekly, at_us=AT, week=week)["reps"]],
                         ["rita"])
        self.assertEqual([r["rep"] for r in report("sam", weekly, at_us=AT, week=week)["reps"]],
                         ["sam"])
        self.assertEqual([r["rep"] for r in report("west-lead", weekly, at_us=AT,
                                                     week=week)["reps"]], ["sam"])
        # Asking for another rep by name gives nothing out of reach.
        self.assertEqual(report("rita", weekly, at_us=AT, week=week, rep="sam")["reps"], [])
        # Pipeline: rita's deals are D1 (open, Proposal) and D3 (won).
        pipe = report("rita", "analytics.report.pipeline", at_us=AT)
        self.assertEqual([(s["stage"], s["deals"]) for s in pipe["stages"]], [("Proposal", 1)])
        self.assertEqual((pipe["won"], pipe["lost"]), (1, 0))
        whole = self.a.report("analytics.report.pipeline", at_us=AT)
        self.assertEqual((whole["won"], whole["lost"]), (1, 1))

    def test_6_campaign_report(self):
        a = self.a
        cs = a.report("analytics.report.campaigns", at_us=AT)["campaigns"]
        self.assertEqual(len(cs), 1)
        c = cs[0]
        # Recipients: the four customers with a decision; sent 2 (Ann,
        # Cara), suppressed 1, deferred 1; responders: Ann and Bob (Dan's
        # bounce does not count); conversions: 1 CONVERTED response + 1
        # attributed order; revenue 2000 + 5000; cost 3000 + 7000; ROI
        # (7000 - 10000) / 10000 = -30.00% = -3000 bp; won 1 customer ->
        # 10000 each.
        self.assertEqual((c["campaign_id"], c["name"], c["status"], c["recipients"], c["sent"],
                          c["suppressed"], c["deferred"], c["responders"], c["conversions"],
                          c["revenue_minor"], c["cost_minor"], c["roi_bp"], c["customers_won"],
                          c["acquisition_cost_per_customer_minor"]),
                         (CAMPAIGN, "Spring", "running", 4, 2, 1, 1, 2, 2, 7000, 10000, -3000, 1,
                          10000))
        self.assertEqual(c["responses"], {"interested": 1, "opened": 1, "converted": 1, "bounced": 1})
        self.assertEqual(c["by_channel"], [{"channel": "email", "sent": 2, "responses": 4}])
        # Segment S: Bob and Cara, both recipients; Bob responded and was won.
        self.assertEqual(c["by_segment"], [{"segment_id": SEGMENT, "recipients": 2,
                                            "responders": 1, "won": 1}])
        # Notes are not activities done, nor engagement.
        a.emit("sales", SALES % "note.added", CARA, note_added=sales_pb2.NoteAdded(
            activity=sales_pb2.Activity(id=str(uuid.uuid4()), person_id=CARA, owner="sam",
                                        kind=sales_pb2.ACTIVITY_KIND_NOTE, subject="likes blue",
                                        status=sales_pb2.ACTIVITY_STATUS_DONE,
                                        created_at_us=AT - DAY, completed_at_us=AT - DAY)))
        EVENTS["sales"] += 1
        a.wait_applied(("sales",))
        cara = a.report("analytics.customer.show", customer_id=CARA, at_us=AT)
        self.assertEqual((cara["figures"]["activities_done"], cara["figures"]["notes"],
                          cara["kpis"]["health"]), (1, 1, 55))
        self.assertEqual(cara["timeline"][-1]["summary"], "note added: likes blue")

    def test_7_data_quality(self):
        a = self.a
        found = a.report("analytics.report.data_quality", at_us=AT)["findings"]
        # The suspect is the later record: Dan (first seen 60 days before
        # AT), not Ann, the customer of 400 days with the orders.
        dup = DAN
        expected = sorted([("deal_without_next_step", D2, "sales"),
                           ("duplicate", dup, "sales"),
                           ("not_contacted", BOB, "sales"),
                           ("overdue_activity", self.ids["overdue"], "sales"),
                           ("unreachable", CARA, "sales")])
        self.assertEqual([(f["kind"], f["record_id"], f["team"]) for f in found], expected)
        # A scan publishes each finding once (at the real now, when the
        # same five hold: the overdue activity fell due a day ago).
        self.assertEqual(self.scan(), len(expected))
        ev = a.derived("crm.analytics.data_quality.")
        self.assertEqual(sorted((e.data_quality_issue_found.kind, e.data_quality_issue_found.record_id,
                                 e.data_quality_issue_found.owning_team) for e in ev), expected)
        # A new finding (a second overdue activity) is published in a later
        # scan; the old ones are not published again.
        late = str(uuid.uuid4())
        a.emit("sales", SALES % "activity.scheduled", CARA,
               activity_scheduled=sales_pb2.ActivityScheduled(activity=activity(
                   late, CARA, sales_pb2.ACTIVITY_KIND_CALL, "sam", "late", due=NOW - 2 * DAY)))
        EVENTS["sales"] += 1
        a.wait_applied(("sales",))
        self.assertEqual(self.scan(), 1)
        self.assertEqual(self.scan(), 0)
        again = a.derived("crm.analytics.data_quality.")
        keys = [(e.data_quality_issue_found.kind, e.data_quality_issue_found.record_id) for e in again]
        self.assertEqual(len(keys), len(set(keys)))
        self.assertEqual(len(keys), len(expected) + 1)
        self.assertEqual(a.q("SELECT count(*) FROM an_dq_emitted")[0][0], len(expected) + 1)

    def test_8_bad_input(self):
        a = self.a
        cases = [
            ("analytics.customer.show", analytics_pb2.AnalyticsQuery(), INVALID, "customer_id"),
            ("analytics.customer.show", analytics_pb2.AnalyticsQuery(customer_id="x y"), INVALID,
             "customer_id"),
            # Malformed, not unknown: INVALID_ARGUMENT as the docs say.
            ("analytics.customer.show", analytics_pb2.AnalyticsQuery(customer_id="not-a-uuid"),
             INVALID, "customer_id"),
            ("analytics.customer.timeline", analytics_pb2.AnalyticsQuery(customer_id="not-a-uuid"),
             INVALID, "customer_id"),
            ("analytics.customer.show", analytics_pb2.AnalyticsQuery(customer_id=str(uuid.uuid4())),
             NOT_FOUND, "customer_id"),
            ("analytics.customer.timeline", analytics_pb2.AnalyticsQuery(customer_id=str(uuid.uuid4())),
             NOT_FOUND, "customer_id"),
            ("analytics.customer.show", analytics_pb2.AnalyticsQuery(customer_id=ANN, as_of_us=-1),
             INVALID, "as_of_us"),
            ("analytics.report.kpis", analytics_pb2.AnalyticsQuery(at_us=-5), INVALID, "at_us"),
            ("analytics.report.weekly_activity", analytics_pb2.AnalyticsQuery(week="2026-47"),
             INVALID, "week"),
            ("analytics.report.weekly_activity", analytics_pb2.AnalyticsQuery(week="2025-W53"),
             INVALID, "week"),
        ]
        before = a.q("SELECT count(*) FROM crm_outbox")[0][0]
        for cmd, msg, code, field in cases:
            rep = a.raw(cmd, msg)
            self.assertEqual((rep.status.code, rep.status.field), (code, field), (cmd, rep.status))
            self.assertTrue(rep.status.message)
        rep = a.c.call_raw("analytics.report.kpis", b"\xff\xff\xff")
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_MALFORMED)
        self.assertEqual(a.q("SELECT count(*) FROM crm_outbox")[0][0], before)
        # A malformed event (a deal without an id, an unparseable date)
        # becomes a dead letter and changes nothing; the next one applies.
        a.emit("sales", SALES % "deal.created", DAN, deal_created=sales_pb2.DealCreated(
            deal=sales_pb2.Deal(title="no id", person_id=DAN)))
        a.emit("sales", SALES % "deal.created", DAN, deal_created=sales_pb2.DealCreated(
            deal=deal(str(uuid.uuid4()), DAN, "bad date", "Qualification", 1, 20, "sam",
                      AT - DAY, close_date="someday")))
        EVENTS["sales"] += 2
        a.wait_applied(("sales",))
        self.assertEqual(a.q("SELECT count(*) FROM crm_dead_letter WHERE consumer = 'analytics.sales'"
                             " AND NOT resolved")[0][0], 2)
        self.assertEqual(a.q("SELECT count(*) FROM deal WHERE title IN ('no id', 'bad date')")[0][0], 0)
        EVENTS["sales"] -= 2  # dead letters are not in the event log
        self.assertEqual(a.q("SELECT count(*) FROM customer_event WHERE source = 'sales'")[0][0],
                         EVENTS["sales"])
        self.assertTrue(a.proc.alive())

    def test_8c_health_store_fails(self):
        """The health is stored as the transaction's last write, sent with
        its closing statements without waiting for its answer
        (crm_work_exec_last). When it fails, nothing of the transaction is
        kept: the events are applied again one by one, and only the one
        whose health cannot be stored becomes a dead letter. (The refusal
        stays to the end: the rebuild of test_9 meets it again.)"""
        a = self.a
        good, bad, good2 = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        a.q("CREATE FUNCTION test_refuse_health() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.customer_id = '%s' THEN RAISE EXCEPTION 'refused'; END IF;"
            " RETURN NEW; END $$" % bad)
        a.q("CREATE TRIGGER test_refuse_health BEFORE INSERT OR UPDATE ON health"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_health()")
        dead = a.q("SELECT count(*) FROM crm_dead_letter WHERE consumer = 'analytics.sales'")[0][0]
        for pid, name in ((good, "Gus"), (bad, "Bea"), (good2, "Gil")):
            a.emit("sales", SALES % "person.registered", pid,
                   person_registered=sales_pb2.PersonRegistered(person=person(
                       pid, name, created=AT - 10 * DAY, updated=AT - 10 * DAY)))
        EVENTS["sales"] += 2  # the refused one is a dead letter, not in the event log
        a.wait_applied(("sales",))
        rows = a.q("SELECT seq, error FROM crm_dead_letter WHERE consumer = 'analytics.sales'"
                   " ORDER BY id")
        self.assertEqual(len(rows), dead + 1, rows)
        self.assertEqual(a.q("SELECT customer_id FROM customer_event WHERE customer_id IN (%s, %s, %s)"
                             " ORDER BY seq", good, bad, good2), [(good,), (good2,)])
        self.assertEqual(a.q("SELECT count(*) FROM health WHERE customer_id IN (%s, %s, %s)",
                             good, bad, good2)[0][0], 2)
        self.assertEqual(a.q("SELECT count(*) FROM customer WHERE id = %s", bad)[0][0], 0)
        self.assertTrue(a.proc.alive())

    def crmctl(self, *args, rc=0):
        env = dict(os.environ, CRM_SERVICES="analytics=%s" % self.a.sys.endpoints["analytics"])
        return run_crmctl(self, env, args, rc, timeout=30)

    def test_8b_crmctl(self):
        a = self.a
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(AT // US))
        # -o json prints the service's document as it is.
        for verb, command in (("kpis", "kpis"), ("health", "health"), ("potential", "potential"),
                              ("data-quality", "data_quality")):
            out = json.loads(self.crmctl("report", verb, "--at", at, "-o", "json").stdout)
            self.assertEqual(out, a.report("analytics.report." + command, at_us=AT), verb)
        week = time.strftime("%G-W%V", time.gmtime(REPORT_WEEK_START // US))
        out = json.loads(self.crmctl("report", "weekly-activity", "--week", week, "--rep", "rita",
                                     "-o", "json").stdout)
        self.assertEqual([r["rep"] for r in out["reps"]], ["rita"])
        past = time.strftime("%Y-%m-%d", time.gmtime((AT - 250 * DAY) // US))
        out = json.loads(self.crmctl("customer", "show", ANN, "--as-of", past, "-o", "json").stdout)
        self.assertEqual(out["profile"]["name"], "Ann Smith")
        # Readable output.
        text = self.crmctl("customer", "show", ANN, "--at", at).stdout
        self.assertIn("Ann Smith-Jones", text)
        self.assertIn("Ann renewal", text)
        self.assertIn("600.00", text)  # lifetime value 60000 minor units
        text = self.crmctl("report", "weekly-activity", "--week", week).stdout
        self.assertIn("rita", text)
        self.assertIn("follow-up", text)
        text = self.crmctl("report", "campaigns").stdout
        self.assertIn("Spring", text)
        self.assertIn("-30.00%", text)
        self.assertIn("analytics.sales", self.crmctl("analytics", "status").stdout)
        self.assertIn("rebuild not running", self.crmctl("analytics", "status").stdout)
        # Bad input: the service's error, exit 1; a bad option, exit 2.
        p = self.crmctl("report", "weekly-activity", "--week", "2026-W99", rc=1)
        self.assertIn("invalid ISO week", p.stderr)
        p = self.crmctl("customer", "show", str(uuid.uuid4()), rc=1)
        self.assertIn("customer not found", p.stderr)
        self.crmctl("report", "kpis", "--at", "yesterday-ish", rc=2)
        self.crmctl("report", "kpis", "--week", week, rc=2)

    def test_9_rebuild_then_kill(self):
        a = self.a
        a.wait_applied()
        live = self.snapshot()
        derived_before = len(a.derived())
        rep = a.raw("analytics.rebuild", analytics_pb2.RebuildRequest())
        self.assertEqual(rep.status.code, OK, rep.status)
        dropped = analytics_pb2.RebuildReply.FromString(rep.body).events_dropped
        self.assertEqual(dropped, sum(EVENTS.values()))
        wait_for(lambda: not a.status().rebuild_in_progress, 30, "the rebuild to finish")
        a.wait_applied()
        self.assertEqual(self.snapshot(), live)
        # The replay published nothing again (no churn, health or finding).
        self.assertEqual(len(a.derived()), derived_before)
        st = a.status()
        self.assertGreater(st.rebuilt_at_us, 0)
        self.assertEqual(st.events, sum(EVENTS.values()))

        # Exactly once across kill -9: 300 activities for Dan while
        # analytics is killed after applying some of them, then restarted.
        n = 300
        base = a.q("SELECT seq FROM crm_consumer_position WHERE consumer = 'analytics.sales'")[0][0]
        c = a.sys.client("sales")
        try:
            for i in range(n):
                ev = event_pb2.Event(activity_completed=sales_pb2.ActivityCompleted(activity=activity(
                    str(uuid.uuid4()), DAN, sales_pb2.ACTIVITY_KIND_EMAIL, "sam", "mail %d" % i,
                    done_at=AT - 400 * DAY)))
                r = c.call_raw("probe.emit", testing_pb2.ProbeEmitRequest(
                    type=SALES % "activity.completed", subject=DAN,
                    event=ev.SerializeToString()).SerializeToString())
                self.assertEqual(r.status.code, OK)
                if i == n // 3:
                    # Killed while the stream is flowing, once it applied some.
                    wait_for(lambda: a.q("SELECT seq FROM crm_consumer_position"
                                         " WHERE consumer = 'analytics.sales'")[0][0] > base,
                             20, "some events applied")
                    a.proc.kill()
        finally:
            c.close()
        a.proc.start()
        EVENTS["sales"] += n
        a.wait_applied()
        self.assertEqual(a.q("SELECT count(*), count(DISTINCT seq) FROM customer_event"
                             " WHERE source = 'sales'")[0], (EVENTS["sales"], EVENTS["sales"]))
        self.assertEqual(a.q("SELECT count(*) FROM activity WHERE customer_id = %s AND kind = 'email'",
                             DAN)[0][0], n)
        dan = a.report("analytics.customer.show", customer_id=DAN, at_us=AT)
        self.assertEqual(dan["figures"]["activities_done"], n)


if __name__ == "__main__":
    unittest.main()
