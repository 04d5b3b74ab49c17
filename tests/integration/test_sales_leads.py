"""Sales: leads from creation to conversion. Conversion is one command that
finds or registers the person (identity rule), finds or creates the
organisation, opens a deal and links it all on the lead; a converted lead
yields exactly one person whether the convert is retried with the same key
(same reply) or re-sent with a new one (FAILED_PRECONDITION)."""
import unittest

from test_sales_service import (INVALID, NOT_FOUND, PRECONDITION, SalesSystem, customer_id,
                                sales_pb2, unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)

UNKNOWN = "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"


class LeadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def lead(self, **kw):
        return self.s.call("sales.lead.create", sales_pb2.CreateLeadRequest(
            lead=sales_pb2.Lead(**kw)), sales_pb2.LeadReply).lead

    def test_convert_is_one_step_and_happens_once(self):
        s = self.s
        email = "%s@Engines.io" % unique("ada")
        company = unique("Analytical Engines")
        l = self.lead(name="Ada", email=email, phone="+44 20 7946 0958", company=company,
                      source=sales_pb2.LEAD_SOURCE_WEB, owner="rep-a")
        self.assertEqual(l.status, sales_pb2.LEAD_STATUS_NEW)
        q = s.call("sales.lead.qualify", sales_pb2.QualifyLeadRequest(id=l.id, qualification="budget ok"),
                   sales_pb2.LeadReply).lead
        self.assertEqual((q.status, q.qualification), (sales_pb2.LEAD_STATUS_QUALIFIED, "budget ok"))
        before = s.head()
        key = unique("convert")
        rq = sales_pb2.ConvertLeadRequest(id=l.id, amount_minor=50000, currency="usd")
        r1 = s.raw("sales.lead.convert", rq, key=key)
        self.assertEqual(r1.status.code, 0, r1.status)
        rep = sales_pb2.ConvertLeadReply()
        rep.ParseFromString(r1.body)
        pid = customer_id(email)
        self.assertEqual(rep.person.id, pid)
        self.assertEqual(list(rep.person.emails), [email.lower()])
        self.assertEqual(list(rep.person.phones), ["+442079460958"])
        self.assertEqual(rep.person.organization_id, rep.organization.id)
        self.assertEqual(rep.organization.name, company)
        self.assertEqual(rep.deal.person_id, pid)
        self.assertEqual(rep.deal.organization_id, rep.organization.id)
        self.assertEqual((rep.deal.stage, rep.deal.probability), ("Qualification", 10))
        self.assertEqual((rep.deal.amount_minor, rep.deal.currency), (50000, "USD"))
        self.assertEqual(rep.deal.lead_id, l.id)
        self.assertEqual(rep.deal.owner, "rep-a")
        self.assertEqual(rep.deal.title, company)
        self.assertEqual(rep.lead.status, sales_pb2.LEAD_STATUS_CONVERTED)
        self.assertEqual((rep.lead.person_id, rep.lead.organization_id, rep.lead.deal_id),
                         (pid, rep.organization.id, rep.deal.id))
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.sales.person.registered.v1",
                                                 "crm.sales.organization.created.v1",
                                                 "crm.sales.deal.created.v1",
                                                 "crm.sales.lead.converted.v1"])
        self.assertEqual([e.subject for e in evs], [pid, "", pid, pid])
        lc = evs[3].lead_converted
        self.assertEqual((lc.person_id, lc.organization_id, lc.deal_id),
                         (pid, rep.organization.id, rep.deal.id))
        head = s.head()
        # The same command again with the same key: the same reply, nothing new.
        r2 = s.raw("sales.lead.convert", rq, key=key)
        self.assertEqual(r2.status.code, 0)
        self.assertEqual(r2.body, r1.body)
        # A new convert of the converted lead: refused.
        st = s.fails("sales.lead.convert", rq, PRECONDITION, "id")
        self.assertIn(pid, st.detail)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("person", "emails @> ARRAY[%s]", email.lower()), 1)
        self.assertEqual(s.count("deal", "lead_id = %s", l.id), 1)
        self.assertEqual(s.count("organization", "lower(name) = lower(%s)", company), 1)
        # Nor can it be qualified or disqualified any more.
        s.fails("sales.lead.qualify", sales_pb2.QualifyLeadRequest(id=l.id), PRECONDITION, "id")
        s.fails("sales.lead.disqualify", sales_pb2.DisqualifyLeadRequest(id=l.id, reason="x"),
                PRECONDITION, "id")

    def test_convert_reuses_known_person_and_organization(self):
        s = self.s
        email = "%s@known.io" % unique("k")
        person = s.register("Known Person", [email]).person
        company = unique("Known Co")
        org = s.call("sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name=company)), sales_pb2.OrganizationReply).organization
        l = self.lead(email=email.upper(), company=" %s " % company.lower())
        self.assertEqual(l.person_id, person.id)  # linked at creation by email
        before = s.head()
        r = s.call("sales.lead.convert", sales_pb2.ConvertLeadRequest(
            id=l.id, deal_title="Renewal", stage="proposal"), sales_pb2.ConvertLeadReply)
        self.assertEqual(r.person.id, person.id)
        self.assertEqual(r.organization.id, org.id)
        self.assertEqual((r.deal.title, r.deal.stage, r.deal.probability), ("Renewal", "Proposal", 50))
        self.assertEqual(r.deal.currency, "EUR")
        self.assertEqual([e.type for e in s.events(before)], ["crm.sales.deal.created.v1",
                                                            "crm.sales.lead.converted.v1"])

    def test_convert_without_deal_or_company(self):
        s = self.s
        l = self.lead(name="Only A Name", source=sales_pb2.LEAD_SOURCE_COLD_CALL)
        before = s.head()
        r = s.call("sales.lead.convert", sales_pb2.ConvertLeadRequest(id=l.id, no_deal=True),
                   sales_pb2.ConvertLeadReply)
        self.assertEqual(r.person.name, "Only A Name")
        self.assertFalse(r.HasField("organization"))
        self.assertFalse(r.HasField("deal"))
        self.assertEqual(r.lead.deal_id, "")
        self.assertEqual([e.type for e in s.events(before)], ["crm.sales.person.registered.v1",
                                                            "crm.sales.lead.converted.v1"])

    def test_bad_conversions_write_nothing(self):
        s = self.s
        l = self.lead(name="Bad Convert", email="%s@bad.io" % unique("b"), company=unique("Bad Co"))
        head = s.head()
        counts = [s.count(t) for t in ("person", "organization", "deal", "lead")]
        C = sales_pb2.ConvertLeadRequest
        s.fails("sales.lead.convert", C(id=l.id, stage="Won"), INVALID, "stage")
        s.fails("sales.lead.convert", C(id=l.id, pipeline_id=UNKNOWN), NOT_FOUND, "pipeline_id")
        s.fails("sales.lead.convert", C(id=l.id, amount_minor=-10), INVALID, "amount_minor")
        s.fails("sales.lead.convert", C(id=l.id, currency="dollars"), INVALID, "currency")
        s.fails("sales.lead.convert", C(id=UNKNOWN), NOT_FOUND, "id")
        s.fails("sales.lead.convert", C(id="nope"), INVALID, "id")
        self.assertEqual(s.head(), head)
        self.assertEqual([s.count(t) for t in ("person", "organization", "deal", "lead")], counts)
        self.assertEqual(s.q("SELECT status FROM lead WHERE id = %s", l.id)[0][0], 1)
        # Disqualified leads are final.
        d = s.call("sales.lead.disqualify", sales_pb2.DisqualifyLeadRequest(
            id=l.id, reason="no budget"), sales_pb2.LeadReply).lead
        self.assertEqual((d.status, d.disqualify_reason), (sales_pb2.LEAD_STATUS_DISQUALIFIED,
                                                           "no budget"))
        ev = s.events(s.head() - 1)[0]
        self.assertEqual(ev.lead_disqualified.reason, "no budget")
        s.fails("sales.lead.convert", C(id=l.id), PRECONDITION, "id")

    def test_create_and_list(self):
        s = self.s
        L = sales_pb2.Lead
        CR = sales_pb2.CreateLeadRequest
        head = s.head()
        s.fails("sales.lead.create", CR(lead=L(company="No Contact")), INVALID, "lead.name")
        s.fails("sales.lead.create", CR(lead=L(name="x", email="x@")), INVALID, "lead.email")
        s.fails("sales.lead.create", CR(lead=L(name="x", phone="abc")), INVALID, "lead.phone")
        s.fails("sales.lead.create", CR(lead=L(name="x", source=99)), INVALID, "lead.source")
        s.fails("sales.lead.create", CR(lead=L(name="x", source=sales_pb2.LEAD_SOURCE_CAMPAIGN)),
                INVALID, "lead.campaign_id")
        s.fails("sales.lead.create", CR(), INVALID, "lead")
        s.fails("sales.lead.disqualify", sales_pb2.DisqualifyLeadRequest(id=UNKNOWN, reason="r"),
                NOT_FOUND, "id")
        s.fails("sales.lead.qualify", sales_pb2.QualifyLeadRequest(id=UNKNOWN), NOT_FOUND, "id")
        self.assertEqual(s.head(), head)
        campaign = unique("camp")
        owner = unique("rep")
        a = self.lead(name="A", source=sales_pb2.LEAD_SOURCE_CAMPAIGN, campaign_id=campaign,
                      owner=owner)
        b = self.lead(name="B", owner=owner)
        self.assertEqual(b.source, sales_pb2.LEAD_SOURCE_OTHER)
        c = self.lead(name="C", source=sales_pb2.LEAD_SOURCE_CAMPAIGN, campaign_id=campaign,
                      owner=owner)
        s.call("sales.lead.qualify", sales_pb2.QualifyLeadRequest(id=c.id), sales_pb2.LeadReply)
        evs = s.events(head)
        self.assertEqual([e.type for e in evs], ["crm.sales.lead.created.v1"] * 3 +
                         ["crm.sales.lead.qualified.v1"])
        self.assertEqual(evs[0].lead_created.lead, a)

        def ids(**kw):
            r = s.call("sales.lead.list", sales_pb2.ListLeadsRequest(**kw),
                       sales_pb2.ListLeadsReply, key="")
            return [x.id for x in r.leads]
        self.assertEqual(ids(owner=owner), [a.id, b.id, c.id])
        self.assertEqual(ids(campaign_id=campaign), [a.id, c.id])
        self.assertEqual(ids(owner=owner, status=sales_pb2.LEAD_STATUS_QUALIFIED), [c.id])
        self.assertEqual(ids(owner=owner, source=sales_pb2.LEAD_SOURCE_OTHER), [b.id])
        r = s.call("sales.lead.list", sales_pb2.ListLeadsRequest(owner=owner, page_size=2),
                   sales_pb2.ListLeadsReply, key="")
        self.assertTrue(r.next_page_token)
        r = s.call("sales.lead.list", sales_pb2.ListLeadsRequest(
            owner=owner, page_size=2, page_token=r.next_page_token), sales_pb2.ListLeadsReply,
            key="")
        self.assertEqual([x.id for x in r.leads], [c.id])


if __name__ == "__main__":
    unittest.main()
