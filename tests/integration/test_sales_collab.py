"""Sales reacting to the other services: marketing responses that show
buying intent become one lead each, attributed to the campaign and
assigned round-robin to SALES_LEAD_OWNERS; complaints (support) and churn
risk (analytics) about a customer with an open deal become one follow-up
task for the deal's owner, due SALES_FOLLOWUP_HOURS later; data-quality
findings (analytics) owned by sales become one task each for the record's
owner."""
import time
import unittest

from test_sales_service import SalesSystem, customer_id, sales_pb2, unique
# The crm.v1 path is set up by crmtest (imported by test_sales_service).
from crm.v1 import analytics_pb2, marketing_pb2, person_pb2, support_pb2  # noqa: E402

HOURS = 2


class CollabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem({"SALES_LEAD_OWNERS": " amy, bob ,", "SALES_FOLLOWUP_HOURS": str(HOURS)})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def respond(self, campaign, email, response, name="", customer=None):
        cid = customer if customer is not None else customer_id(email)
        r = marketing_pb2.CampaignResponseRecorded(campaign_id=campaign, customer_id=cid,
                                                  response=response, email=email, name=name,
                                                  channel="email", note="asked for pricing")
        self.s.emit("marketing", "crm.marketing.response.recorded.v1", cid,
                    campaign_response_recorded=r)

    def campaign_leads(self, campaign):
        return self.s.q("SELECT id::text, email, owner, person_id::text, status, notes FROM lead"
                        " WHERE campaign_id = %s ORDER BY created_at, id", campaign)

    def test_intent_creates_one_attributed_lead(self):
        s = self.s
        campaign = unique("spring")
        email = "%s@intent.io" % unique("lea")
        owners = ["amy", "bob"]
        first = owners[s.count("lead", "source = 3") % 2]
        head = s.head()
        self.respond(campaign, email.upper(), marketing_pb2.RESPONSE_TYPE_INTERESTED, name="Lea")
        s.wait_applied("sales.intent", "marketing")
        leads = self.campaign_leads(campaign)
        self.assertEqual(len(leads), 1)
        lid, lemail, owner, person, status, notes = leads[0]
        self.assertEqual((lemail, owner, person, status), (email, first, customer_id(email), 1))
        self.assertIn("INTERESTED", notes)
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.sales.lead.created.v1"])
        lead = evs[0].lead_created.lead
        self.assertEqual((lead.id, lead.source, lead.campaign_id, lead.name),
                         (lid, sales_pb2.LEAD_SOURCE_CAMPAIGN, campaign, "Lea"))
        self.assertEqual(evs[0].subject, customer_id(email))
        # More intent from the same person for the same campaign: no second
        # lead while the first is open. No intent (opened): nothing.
        self.respond(campaign, email, marketing_pb2.RESPONSE_TYPE_DEMO_REQUESTED)
        self.respond(campaign, "%s@intent.io" % unique("o"), marketing_pb2.RESPONSE_TYPE_OPENED)
        s.wait_applied("sales.intent", "marketing")
        self.assertEqual(len(self.campaign_leads(campaign)), 1)
        # Someone else: the next owner in turn.
        other = "%s@intent.io" % unique("max")
        self.respond(campaign, other, marketing_pb2.RESPONSE_TYPE_CONVERTED)
        s.wait_applied("sales.intent", "marketing")
        leads = self.campaign_leads(campaign)
        self.assertEqual([(l[1], l[2]) for l in leads],
                         [(email, first), (other, owners[(owners.index(first) + 1) % 2])])
        # Once the first lead is closed, new intent opens a new lead.
        s.call("sales.lead.disqualify", sales_pb2.DisqualifyLeadRequest(id=lid, reason="later"),
               sales_pb2.LeadReply)
        self.respond(campaign, email, marketing_pb2.RESPONSE_TYPE_INTERESTED)
        s.wait_applied("sales.intent", "marketing")
        self.assertEqual(len(self.campaign_leads(campaign)), 3)
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)

    def open_deal(self, owner):
        s = self.s
        email = "%s@risk.io" % unique("c")
        p = s.register("Risky Customer", [email]).person
        d = s.call("sales.deal.create", sales_pb2.CreateDealRequest(deal=sales_pb2.Deal(
            title="Renewal", person_id=p.id, owner=owner)), sales_pb2.DealReply).deal
        return p, d

    def tasks(self, person_id):
        return self.s.q("SELECT kind, status, owner, deal_id::text, subject, sales_us(due_at),"
                        " sales_us(created_at) FROM activity WHERE person_id = %s", person_id)

    def test_complaint_on_open_deal_creates_one_follow_up(self):
        s = self.s
        p, d = self.open_deal("rep-x")
        head = s.head()
        t0 = int(time.time() * 1e6)
        ticket = support_pb2.TicketOpened(ticket_id="T-42", customer_id=p.id,
                                          type=support_pb2.TICKET_TYPE_COMPLAINT,
                                          subject="Invoice wrong twice", priority="high")
        s.emit("support", "crm.support.ticket.opened.v1", p.id, ticket_opened=ticket)
        question = support_pb2.TicketOpened(ticket_id="T-43", customer_id=p.id,
                                            type=support_pb2.TICKET_TYPE_QUESTION, subject="How?")
        s.emit("support", "crm.support.ticket.opened.v1", p.id, ticket_opened=question)
        s.wait_applied("sales.risk", "support")
        t1 = int(time.time() * 1e6)
        tasks = self.tasks(p.id)
        self.assertEqual(len(tasks), 1)
        kind, status, owner, deal_id, subject, due, created = tasks[0]
        self.assertEqual((kind, status, owner, deal_id), (4, 1, "rep-x", d.id))
        self.assertIn("T-42", subject)
        self.assertIn("complaint", subject)
        self.assertEqual(due - created, HOURS * 3600 * 10**6)
        self.assertTrue(t0 - 10**6 <= created <= t1 + 10**6)
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.sales.activity.scheduled.v1"])
        a = evs[0].activity_scheduled.activity
        self.assertEqual((a.person_id, a.deal_id, a.owner, a.kind),
                         (p.id, d.id, "rep-x", sales_pb2.ACTIVITY_KIND_TASK))
        self.assertEqual(evs[0].subject, p.id)

    def test_complaint_and_churn_risk_make_one_task(self):
        """One complaint makes a complaint ticket and then a churn risk: one
        task for the owner that day, saying why the second is in it."""
        s = self.s
        p, d = self.open_deal("rep-c")
        head = s.head()
        s.emit("support", "crm.support.ticket.opened.v1", p.id,
               ticket_opened=support_pb2.TicketOpened(ticket_id="T-77", customer_id=p.id,
                                                      type=support_pb2.TICKET_TYPE_COMPLAINT,
                                                      subject="Broken on arrival"))
        s.wait_applied("sales.risk", "support")
        s.emit("analytics", "crm.analytics.customer.churn_risk_raised.v1", p.id,
               churn_risk_raised=analytics_pb2.ChurnRiskRaised(customer_id=p.id, score=75,
                                                               reasons=["1 open complaint(s)"]))
        s.wait_applied("sales.risk", "analytics")
        tasks = self.tasks(p.id)
        self.assertEqual(len(tasks), 1)
        self.assertIn("T-77", tasks[0][4])
        body = s.q("SELECT body FROM activity WHERE person_id = %s", p.id)[0][0]
        self.assertIn("Further complaints and churn risks of this customer for rep-c within 24"
                      " hours are added to this task.", body)
        self.assertIn("Follow up: churn risk raised (score 75)", body)
        self.assertIn("Added to this task instead of a second one", body)
        # One activity.scheduled event: the one task.
        self.assertEqual([e.type for e in s.events(head)], ["crm.sales.activity.scheduled.v1"])
        # Another owner's customer still gets a task of their own.
        q, _ = self.open_deal("rep-d")
        s.emit("analytics", "crm.analytics.customer.churn_risk_raised.v1", q.id,
               churn_risk_raised=analytics_pb2.ChurnRiskRaised(customer_id=q.id, score=75))
        s.wait_applied("sales.risk", "analytics")
        self.assertEqual(len(self.tasks(q.id)), 1)

    def test_churn_risk_and_customers_without_open_deals(self):
        s = self.s
        p, d = self.open_deal("rep-y")
        lonely = s.register("No Deal", ["%s@risk.io" % unique("n")]).person
        won_p, won_d = self.open_deal("rep-z")
        s.call("sales.deal.win", sales_pb2.WinDealRequest(id=won_d.id), sales_pb2.DealReply)
        for who in (p, lonely, won_p):
            s.emit("analytics", "crm.analytics.customer.churn_risk_raised.v1", who.id,
                   churn_risk_raised=analytics_pb2.ChurnRiskRaised(
                       customer_id=who.id, score=87, reasons=["no logins", "downgrade"]))
        s.emit("support", "crm.support.ticket.opened.v1", lonely.id,
               ticket_opened=support_pb2.TicketOpened(ticket_id="T-1", customer_id=lonely.id,
                                                      type=support_pb2.TICKET_TYPE_COMPLAINT))
        # The customer id may come as the subject only.
        s.emit("analytics", "crm.analytics.customer.churn_risk_raised.v1", p.id,
               churn_risk_raised=analytics_pb2.ChurnRiskRaised(score=90))
        s.wait_applied("sales.risk", "analytics")
        s.wait_applied("sales.risk", "support")
        # Two churn risks of one customer for one owner within a day: one
        # task, the second signal added to it with the reason.
        tasks = self.tasks(p.id)
        self.assertEqual(len(tasks), 1)
        self.assertTrue(all(t[2] == "rep-y" and t[3] == d.id for t in tasks))
        self.assertIn("churn risk", tasks[0][4])
        body = s.q("SELECT body FROM activity WHERE person_id = %s ORDER BY created_at LIMIT 1",
                   p.id)[0][0]
        self.assertIn("no logins", body)
        self.assertIn("churn risk raised (score 90)", body)
        self.assertIn("Added to this task instead of a second one: a follow-up for this customer"
                      " and rep-y was opened within 24 hours", body)
        self.assertEqual(self.tasks(lonely.id), [])
        self.assertEqual(self.tasks(won_p.id), [])
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)

    def test_data_quality_findings_become_one_task_each(self):
        s = self.s
        org = s.call("sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name=unique("Org"), owner="oz")),
            sales_pb2.OrganizationReply).organization
        pia = s.register("Pia", owner="pia").person
        orgp = s.register("Org Person", organization_id=org.id).person
        nobody = s.register("Nobody").person
        other = s.register("Marketing's").person
        p, d = self.open_deal("rep-q")
        won_p, won = self.open_deal("rep-w")
        s.call("sales.deal.win", sales_pb2.WinDealRequest(id=won.id), sales_pb2.DealReply)
        head = s.head()

        def finding(kind, record, team="sales", detail="found"):
            s.emit("analytics", "crm.analytics.data_quality.issue_found.v1", "",
                   data_quality_issue_found=analytics_pb2.DataQualityIssueFound(
                       kind=kind, record_id=record, owning_team=team, detail=detail))
        finding("unreachable", pia.id, detail="no email address and no phone number")
        finding("duplicate", orgp.id)
        finding("not_contacted", nobody.id)
        finding("deal_without_next_step", d.id, detail='open deal "Renewal" has no next step')
        # The same finding again (a new event), another team's, records
        # sales does not know, kinds it does not know: no task, no dead
        # letter.
        finding("deal_without_next_step", d.id)
        finding("unreachable", other.id, team="marketing")
        finding("overdue_activity", "00000000-0000-4000-8000-000000000001")
        finding("spelling", pia.id)
        finding("deal_without_next_step", won.id)  # won since: the finding no longer holds
        finding("unreachable", "not-a-uuid")
        s.wait_applied("sales.quality", "analytics")
        rows = s.q("SELECT q.kind, q.record_id::text, a.owner, a.person_id::text,"
                   " COALESCE(a.deal_id::text, ''), a.kind, a.status,"
                   " sales_us(a.due_at) - sales_us(a.created_at)"
                   " FROM dq_task q JOIN activity a ON a.id = q.activity_id ORDER BY 1, 2")
        due = HOURS * 3600 * 10**6
        self.assertEqual(rows, sorted([
            ("unreachable", pia.id, "pia", pia.id, "", 4, 1, due),
            ("duplicate", orgp.id, "oz", orgp.id, "", 4, 1, due),
            ("not_contacted", nobody.id, "data-quality", nobody.id, "", 4, 1, due),
            ("deal_without_next_step", d.id, "rep-q", p.id, d.id, 4, 1, due)]))
        body = s.q("SELECT a.body FROM dq_task q JOIN activity a ON a.id = q.activity_id"
                   " WHERE q.record_id = %s", d.id)[0][0]
        self.assertIn('open deal "Renewal" has no next step', body)
        self.assertEqual(self.tasks(other.id), [])
        self.assertEqual(self.tasks(won_p.id), [])
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.sales.activity.scheduled.v1"] * 4)
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter")[0][0], 0)


class IntentCrashTest(unittest.TestCase):
    def setUp(self):
        self.s = SalesSystem({"SALES_LEAD_OWNERS": "a,b,c"})

    def tearDown(self):
        self.s.close()

    def test_killed_while_consuming_applies_each_response_once(self):
        s = self.s
        campaign = unique("crash")
        emails = ["%s-%02d@crash.io" % (campaign, i) for i in range(30)]
        for i, email in enumerate(emails):
            if i == 10:
                s.proc.kill()  # SIGKILL: no clean shutdown
            r = marketing_pb2.CampaignResponseRecorded(
                campaign_id=campaign, customer_id=customer_id(email), email=email,
                response=marketing_pb2.RESPONSE_TYPE_DEMO_REQUESTED)
            s.emit("marketing", "crm.marketing.response.recorded.v1", customer_id(email),
                   campaign_response_recorded=r)
        s.proc.start()
        s.wait_applied("sales.intent", "marketing", timeout=30)
        leads = dict(s.q("SELECT email, owner FROM lead WHERE campaign_id = %s", campaign))
        self.assertEqual(s.count("lead", "campaign_id = %s", campaign), 30)
        self.assertEqual(sorted(leads), emails)
        # Applied once each, in stream order (the order of the emails): the
        # k-th response's lead has owner k mod 3, as without the crash.
        self.assertEqual([leads[e] for e in emails], [("a", "b", "c")[k % 3] for k in range(30)])
        self.assertEqual(len(s.events(0, "crm.sales.lead.created.")), 30)


if __name__ == "__main__":
    unittest.main()
