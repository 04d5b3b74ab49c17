"""Sales: people and organisations through the real command socket: register
(a name or an email is enough; one person per email), show, update, list
with filters and paging; bad input is refused naming the field, and nothing
is written."""
import unittest

from test_sales_service import (ALREADY_EXISTS, CONFLICT, INVALID, NOT_FOUND, SalesSystem,
                                customer_id, sales_pb2, unique)
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)


class PeopleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_register_by_email_gets_the_identity_id_once(self):
        s = self.s
        email = "%s@Example.COM" % unique("ada")
        before = s.head()
        r = s.register("Ada Lovelace", [" %s " % email], phones=["+44 20 7946 0958"],
                       country="gb", tags=["vip", "VIP", "math"], owner="rep1",
                       custom_fields=[person_pb2.CustomField(key="source", value="fair")])
        self.assertTrue(r.created)
        p = r.person
        self.assertEqual(p.id, customer_id(email))
        self.assertEqual(list(p.emails), [email.lower()])
        self.assertEqual(list(p.phones), ["+442079460958"])
        self.assertEqual(p.country, "GB")
        self.assertEqual(list(p.tags), ["vip", "math"])
        self.assertEqual(p.kind, person_pb2.PERSON_KIND_PROSPECT)
        self.assertEqual(p.registered_by, "sales")
        self.assertEqual(p.custom_fields[0].value, "fair")
        self.assertGreater(p.created_at_us, 0)
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.sales.person.registered.v1"])
        self.assertEqual(evs[0].subject, p.id)
        self.assertEqual(evs[0].person_registered.person, p)
        # The same email again (other case, other name): the same person,
        # created = false, no new event, nothing changed.
        head = s.head()
        r2 = s.register("Someone Else", [email.upper()])
        self.assertFalse(r2.created)
        self.assertEqual(r2.person.id, p.id)
        self.assertEqual(r2.person.name, "Ada Lovelace")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("person", "emails @> ARRAY[%s]", email.lower()), 1)

    def test_name_only_registration(self):
        s = self.s
        r = s.register("Grace Hopper")
        self.assertTrue(r.created)
        self.assertEqual(len(r.person.id), 36)
        self.assertEqual(r.person.id[14], "7")  # a new (v7) id: no email to derive it from
        self.assertEqual(list(r.person.emails), [])
        # Two people may share a name.
        r2 = s.register("Grace Hopper")
        self.assertTrue(r2.created)
        self.assertNotEqual(r2.person.id, r.person.id)

    def test_malformed_email_writes_nothing(self):
        s = self.s
        head, people = s.head(), s.count("person")
        st = s.fails("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Bad Mail", emails=["ok@x.io", "ada@"])),
            INVALID, "person.emails[1]")
        self.assertEqual(st.message, "email is malformed")
        self.assertIn('"ada@"', st.detail)
        self.assertTrue(st.hint)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("person"), people)
        # The key of a failed command is not used up.
        key = unique("k")
        s.fails("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(emails=["nope"])), INVALID, "person.emails[0]", key=key)
        r = s.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Fixed")), sales_pb2.PersonReply, key=key)
        self.assertTrue(r.created)

    def test_other_bad_input(self):
        s = self.s
        head, people = s.head(), s.count("person")
        reg = "sales.person.register"
        R, P = sales_pb2.RegisterPersonRequest, person_pb2.Person
        s.fails(reg, R(), INVALID, "person")
        s.fails(reg, R(person=P(owner="rep1")), INVALID, "person.name")
        s.fails(reg, R(person=P(name="X", country="Narnia")), INVALID, "person.country")
        s.fails(reg, R(person=P(name="X", phones=["12"])), INVALID, "person.phones[0]")
        s.fails(reg, R(person=P(name="X", kind=42)), INVALID, "person.kind")
        s.fails(reg, R(person=P(name="X" * 300)), INVALID, "person.name")
        s.fails(reg, R(person=P(name="X", tags=[" "])), INVALID, "person.tags[0]")
        s.fails(reg, R(person=P(name="X", custom_fields=[person_pb2.CustomField(key="a"),
                                                          person_pb2.CustomField(key="a")])),
                INVALID, "person.custom_fields[1].key")
        s.fails(reg, R(person=P(name="X", organization_id="nope")), INVALID,
                "person.organization_id")
        s.fails(reg, R(person=P(name="X", organization_id="6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10")),
                NOT_FOUND, "person.organization_id")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("person"), people)

    def test_idempotency(self):
        s = self.s
        key = unique("reg")
        rq = sales_pb2.RegisterPersonRequest(person=person_pb2.Person(name="Once Only"))
        r1 = s.raw("sales.person.register", rq, key=key)
        head = s.head()
        r2 = s.raw("sales.person.register", rq, key=key)
        self.assertEqual(r1.body, r2.body)
        self.assertEqual(s.head(), head)
        rq.person.name = "Twice"
        s.fails("sales.person.register", rq, CONFLICT, "idempotency_key", key=key)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.count("person", "name = 'Twice'"), 0)

    def test_show_by_id_and_email(self):
        s = self.s
        email = "%s@x.io" % unique("show")
        p = s.register("Show Me", [email]).person
        show = "sales.person.show"
        by_id = s.call(show, sales_pb2.ShowPersonRequest(id=p.id), sales_pb2.PersonReply, key="")
        self.assertEqual(by_id.person, p)
        by_mail = s.call(show, sales_pb2.ShowPersonRequest(email=email.upper()),
                         sales_pb2.PersonReply, key="")
        self.assertEqual(by_mail.person.id, p.id)
        s.fails(show, sales_pb2.ShowPersonRequest(id="0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"),
                NOT_FOUND, "id")
        s.fails(show, sales_pb2.ShowPersonRequest(email="nobody@x.io"), NOT_FOUND, "email")
        s.fails(show, sales_pb2.ShowPersonRequest(), INVALID, "id")
        s.fails(show, sales_pb2.ShowPersonRequest(id="42"), INVALID, "id")

    def test_update(self):
        s = self.s
        email = "%s@x.io" % unique("upd")
        p = s.register("Old Name", [email], owner="rep1", title="CTO").person
        before = s.head()
        rq = sales_pb2.UpdatePersonRequest(
            id=p.id, person=person_pb2.Person(name="New Name", owner="", title="ignored",
                                             phones=["0049 30 1234567"]),
            update_mask=["name", "owner", "phones"])
        u = s.call("sales.person.update", rq, sales_pb2.PersonReply).person
        self.assertEqual(u.name, "New Name")
        self.assertEqual(u.owner, "")
        self.assertEqual(u.title, "CTO")  # not in the mask: kept
        self.assertEqual(list(u.phones), ["+49301234567"])
        self.assertEqual(u.id, p.id)
        self.assertGreaterEqual(u.updated_at_us, p.updated_at_us)
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.sales.person.updated.v1"])
        self.assertEqual(sorted(evs[0].person_updated.changed_fields), ["name", "owner", "phones"])
        self.assertEqual(evs[0].person_updated.person, u)
        versions = s.q("SELECT field_versions FROM person WHERE id = %s", p.id)[0][0]
        self.assertEqual(versions["name"][1], "sales")
        self.assertGreater(versions["name"][0], versions["emails"][0])
        # Refused updates write nothing.
        head = s.head()
        other = s.register("Other", ["%s@x.io" % unique("other")]).person
        head = s.head()
        upd = "sales.person.update"
        s.fails(upd, sales_pb2.UpdatePersonRequest(id=p.id, person=person_pb2.Person(
            emails=[other.emails[0]]), update_mask=["emails"]), ALREADY_EXISTS, "person.emails")
        s.fails(upd, sales_pb2.UpdatePersonRequest(id=p.id, person=person_pb2.Person(name="x")),
                INVALID, "update_mask")
        s.fails(upd, sales_pb2.UpdatePersonRequest(id=p.id, update_mask=["registered_by"]),
                INVALID, "update_mask[0]")
        s.fails(upd, sales_pb2.UpdatePersonRequest(id=p.id, update_mask=["name", "emails"]),
                INVALID, "person")
        s.fails(upd, sales_pb2.UpdatePersonRequest(id=other.id.replace(other.id[:8], "00000000"),
                                                   update_mask=["name"],
                                                   person=person_pb2.Person(name="n")),
                NOT_FOUND, "id")
        s.fails(upd, sales_pb2.UpdatePersonRequest(id=p.id, update_mask=["country"],
                                                   person=person_pb2.Person(country="ZZ")),
                INVALID, "person.country")
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT name FROM person WHERE id = %s", p.id)[0][0], "New Name")

    def test_list_filters_and_paging(self):
        s = self.s
        owner = unique("owner")
        tag = unique("tag")
        ids = []
        for i in range(7):
            kind = person_pb2.PERSON_KIND_CUSTOMER if i % 2 else person_pb2.PERSON_KIND_PARTNER
            r = s.register("Pager %d %s" % (i, owner), ["%s-%d@paging.io" % (owner, i)],
                           owner=owner, kind=kind, tags=[tag] if i < 5 else [])
            ids.append(r.person.id)
        lst = "sales.person.list"
        # Pages of 3 by the owner: 3 + 3 + 1, in creation order, no overlap.
        seen, token = [], ""
        pages = 0
        while True:
            r = s.call(lst, sales_pb2.ListPeopleRequest(owner=owner, page_size=3, page_token=token),
                       sales_pb2.ListPeopleReply, key="")
            pages += 1
            seen += [p.id for p in r.people]
            token = r.next_page_token
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(seen, ids)
        r = s.call(lst, sales_pb2.ListPeopleRequest(owner=owner, kind=person_pb2.PERSON_KIND_CUSTOMER),
                   sales_pb2.ListPeopleReply, key="")
        self.assertEqual([p.id for p in r.people], ids[1::2])
        r = s.call(lst, sales_pb2.ListPeopleRequest(tag=tag), sales_pb2.ListPeopleReply, key="")
        self.assertEqual([p.id for p in r.people], ids[:5])
        r = s.call(lst, sales_pb2.ListPeopleRequest(query="%s-3@PAGING" % owner.upper()),
                   sales_pb2.ListPeopleReply, key="")
        self.assertEqual([p.id for p in r.people], [ids[3]])
        r = s.call(lst, sales_pb2.ListPeopleRequest(query="pager 6 " + owner),
                   sales_pb2.ListPeopleReply, key="")
        self.assertEqual([p.id for p in r.people], [ids[6]])
        # A LIKE wildcard in the query is a plain character.
        r = s.call(lst, sales_pb2.ListPeopleRequest(query="%", owner=owner),
                   sales_pb2.ListPeopleReply, key="")
        self.assertEqual(len(r.people), 0)
        # Created range.
        mid = s.call("sales.person.show", sales_pb2.ShowPersonRequest(id=ids[3]),
                     sales_pb2.PersonReply, key="").person.created_at_us
        r = s.call(lst, sales_pb2.ListPeopleRequest(owner=owner, created_from_us=mid),
                   sales_pb2.ListPeopleReply, key="")
        self.assertEqual([p.id for p in r.people], ids[3:])
        r = s.call(lst, sales_pb2.ListPeopleRequest(owner=owner, created_to_us=mid),
                   sales_pb2.ListPeopleReply, key="")
        self.assertEqual([p.id for p in r.people], ids[:4])
        s.fails(lst, sales_pb2.ListPeopleRequest(page_size=501), INVALID, "page_size")
        s.fails(lst, sales_pb2.ListPeopleRequest(page_token="garbage"), INVALID, "page_token")
        s.fails(lst, sales_pb2.ListPeopleRequest(organization_id="x"), INVALID, "organization_id")

    def test_organizations(self):
        s = self.s
        name = unique("Analytical Engines")
        before = s.head()
        o = s.call("sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name=name, domain="Engines.IO", country="gb",
                                                owner="rep2", tags=["key"])),
            sales_pb2.OrganizationReply).organization
        self.assertEqual(o.domain, "engines.io")
        self.assertEqual(o.country, "GB")
        evs = s.events(before)
        self.assertEqual([e.type for e in evs], ["crm.sales.organization.created.v1"])
        self.assertEqual(evs[0].organization_created.organization, o)
        head = s.head()
        s.fails("sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name=name.upper())), ALREADY_EXISTS,
            "organization.name")
        s.fails("sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name=" ")), INVALID, "organization.name")
        s.fails("sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name="x", country="QQ")), INVALID,
            "organization.country")
        self.assertEqual(s.head(), head)
        a = s.register("Member A", organization_id=o.id).person
        b = s.register("Member B", organization_id=o.id).person
        show = s.call("sales.org.show", sales_pb2.ShowOrganizationRequest(id=o.id),
                      sales_pb2.OrganizationReply, key="")
        self.assertEqual(show.organization, o)
        self.assertEqual([p.id for p in show.people], [a.id, b.id])
        s.fails("sales.org.show", sales_pb2.ShowOrganizationRequest(
            id="0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"), NOT_FOUND, "id")
        r = s.call("sales.org.list", sales_pb2.ListOrganizationsRequest(query=name[5:].lower()),
                   sales_pb2.ListOrganizationsReply, key="")
        self.assertEqual([x.id for x in r.organizations], [o.id])
        r = s.call("sales.org.list", sales_pb2.ListOrganizationsRequest(owner="rep2", page_size=1),
                   sales_pb2.ListOrganizationsReply, key="")
        self.assertEqual(len(r.organizations), 1)
        r = s.call("sales.person.list", sales_pb2.ListPeopleRequest(organization_id=o.id),
                   sales_pb2.ListPeopleReply, key="")
        self.assertEqual({p.id for p in r.people}, {a.id, b.id})


if __name__ == "__main__":
    unittest.main()
