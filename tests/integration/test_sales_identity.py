"""Sales: one customer id across services. Two services that register the
same email compute the same id (UUIDv5 of the normalised email) and their
records meet; profile fields converge last-writer-wins per field by (event
time, source), whatever order the events arrive in; people registered
elsewhere appear in sales' records without sales emitting anything."""
import time
import unittest

from crmtest import event_pb2, wait_for
from test_sales_service import SalesSystem, customer_id, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)


def person_event(kind, person, changed=None):
    if kind == "registered":
        return {"person_registered": sales_pb2.PersonRegistered(person=person)}
    return {"person_updated": sales_pb2.PersonUpdated(person=person, changed_fields=changed)}


class IdentityTest(unittest.TestCase):
    def setUp(self):
        self.s = SalesSystem()

    def tearDown(self):
        self.s.close()

    def person(self, pid):
        return self.s.call("sales.person.show", sales_pb2.ShowPersonRequest(id=pid),
                           sales_pb2.PersonReply, key="").person

    def test_same_email_from_two_sources_is_one_customer(self):
        s = self.s
        local = unique("ada")
        email = "%s@x.io" % local
        mine = s.register("Ada Lovelace", [email], owner="rep1").person
        self.assertEqual(mine.id, customer_id(email))
        head = s.head()
        # Marketing meets " ADA@x.io" on its own, computes the id the same
        # way, and publishes its registration later, with another name.
        theirs = person_pb2.Person(id=customer_id(" %s@X.IO" % local.upper()),
                                  emails=[" %s@X.io" % local.upper()], name="Ada King",
                                  kind=person_pb2.PERSON_KIND_CUSTOMER, registered_by="marketing")
        s.emit("marketing", "crm.marketing.person.registered.v1", theirs.id,
               **person_event("registered", theirs))
        wait_for(lambda: self.person(mine.id).name == "Ada King", 20, "the later name")
        p = self.person(mine.id)
        self.assertEqual(list(p.emails), [email])
        self.assertEqual(p.kind, person_pb2.PERSON_KIND_CUSTOMER)
        self.assertEqual(p.owner, "rep1")  # not set by marketing: kept
        self.assertEqual(p.registered_by, "sales")
        self.assertEqual(s.count("person", "emails @> ARRAY[%s]", email), 1)
        self.assertEqual(s.count("person", "id = %s", mine.id), 1)
        s.wait_applied("sales.people", "marketing")
        self.assertEqual(s.head(), head)  # no echo: sales emitted nothing
        versions = s.q("SELECT field_versions FROM person WHERE id = %s", mine.id)[0][0]
        self.assertEqual(versions["name"][1], "marketing")
        self.assertEqual(versions["owner"][1], "sales")

    def test_person_registered_elsewhere_appears(self):
        s = self.s
        email = "%s@support.io" % unique("grace")
        pid = customer_id(email)
        head = s.head()
        p = person_pb2.Person(id=pid, emails=[email], name="Grace", phones=["+1 555 0100"],
                             country="us", created_at_us=1700000000000000)
        s.emit("support", "crm.support.person.registered.v1", pid, **person_event("registered", p))
        wait_for(lambda: s.count("person", "id = %s", pid) == 1, 20, "the person in sales")
        got = self.person(pid)
        self.assertEqual((got.name, list(got.emails), list(got.phones), got.country),
                         ("Grace", [email], ["+15550100"], "US"))
        self.assertEqual(got.registered_by, "support")
        self.assertEqual(got.created_at_us, 1700000000000000)
        # Registering the email in sales now finds that person.
        r = s.register("Grace Hopper", [email.upper()])
        self.assertFalse(r.created)
        self.assertEqual(r.person.id, pid)
        self.assertEqual(s.head(), head)
        # A partial update from analytics changes only what it names.
        upd = person_pb2.Person(id=pid, name="ignored", title="Rear Admiral")
        s.emit("analytics", "crm.analytics.person.updated.v1", pid,
               **person_event("updated", upd, ["title"]))
        wait_for(lambda: self.person(pid).title == "Rear Admiral", 20, "the title")
        self.assertEqual(self.person(pid).name, "Grace")
        # A field with a malformed value from a peer is ignored (the stored
        # value stays); the rest of the change applies.
        upd = person_pb2.Person(id=pid, phones=["+1 555 0199", "not a phone"], industry="Navy")
        s.emit("analytics", "crm.analytics.person.updated.v1", pid,
               **person_event("updated", upd, ["phones", "industry"]))
        wait_for(lambda: self.person(pid).industry == "Navy", 20, "the industry")
        self.assertEqual(list(self.person(pid).phones), ["+15550100"])
        # An event without a valid id is a dead letter, not a crash.
        s.emit("support", "crm.support.person.updated.v1", "",
               **person_event("updated", person_pb2.Person(id="nope", name="x"), ["name"]))
        s.wait_applied("sales.people", "support")
        self.assertEqual(s.q("SELECT count(*) FROM crm_dead_letter WHERE consumer = 'sales.people'"
                             " AND NOT resolved")[0][0], 1)
        self.assertEqual(s.head(), head)

    def test_older_change_arriving_late_loses(self):
        """Marketing renames a person while sales is down; marketing goes
        down too; sales comes back and renames the person itself; then
        marketing's older change arrives and must not win."""
        s = self.s
        email = "%s@lww.io" % unique("lin")
        pid = s.register("Original", [email]).person.id
        s.wait_applied("sales.people", "marketing")
        s.proc.stop()
        stale = person_pb2.Person(id=pid, name="Stale Name", title="Marketing Title")
        s.emit("marketing", "crm.marketing.person.updated.v1", pid,
               **person_event("updated", stale, ["name", "title"]))
        t_stale = time.time()
        s.sys.procs["marketing"].stop()
        s.proc.start()
        wait_for(lambda: time.time() > t_stale + 0.01, 5, "the clock to move on")
        s.call("sales.person.update", sales_pb2.UpdatePersonRequest(
            id=pid, person=person_pb2.Person(name="Fresh Name"), update_mask=["name"]),
            sales_pb2.PersonReply)
        s.sys.procs["marketing"].start()
        s.wait_applied("sales.people", "marketing", timeout=30)
        p = self.person(pid)
        self.assertEqual(p.name, "Fresh Name")       # newer, from sales
        self.assertEqual(p.title, "Marketing Title")  # only marketing set it


if __name__ == "__main__":
    unittest.main()
