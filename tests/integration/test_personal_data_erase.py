"""Erasure of a person (issue 14, GDPR article 17) across the real crm-sales,
crm-marketing, crm-support and crm-analytics: `sales.person.erase` (crmctl
person erase) blanks the person in sales and rewrites, in place, every
stored event about them; person.erased makes every other service do the
same on applying it, support after a restart since it was stopped during
the erasure. Afterwards a pg_dump of the four databases holds none of the
person's name, email, phone or address in any form (text, JSON, the bytes
of protobuf payloads in outboxes, idempotency records and dead letters),
every stream is still dense from sequence 1, `crmctl tail --from
beginning` shows the events with the fields erased, analytics' rebuild
equals live, and another customer is untouched. Bad input (no right,
unknown id, no reason, erased already, an update of the erased person)
changes nothing. `crmctl person export` gathers one document from the four
services, checked field by field; an erased person's shows only the
erasure."""
import json
import os
import subprocess
import time
import unittest
import uuid

from crmtest import event_pb2, pg_bindir, rpc_pb2, wait_for
from personaltest import OFFICER, REP, SOURCES, PersonalDataCase
from test_analytics_service import OK
from test_support_service import customer_id
from crm.v1 import analytics_pb2, marketing_pb2 as M, person_pb2, sales_pb2, support_pb2  # noqa: E402

ERASED = "[erased]"


class PersonalDataEraseTest(PersonalDataCase):
    def dump(self, source):
        """pg_dump of one service's database, as plain SQL text."""
        return subprocess.run(
            [os.path.join(pg_bindir(), "pg_dump"), "--no-owner",
             self.a.sys.cluster.url(self.a.sys.dbs[source])],
            check=True, capture_output=True, text=True).stdout

    def person(self, tag):
        """A customer with data in all four services; returns its strings."""
        hexid = uuid.uuid4().hex[:8]
        d = {
            "name": "Zelda Quixotic%s" % hexid,
            "email": "zelda.%s@erase.example" % hexid,
            "phone": "+44207%s" % str(int(hexid, 16))[:7].rjust(7, "7"),
            "address": "%s Quince Lane, Lowtown" % hexid,
        }
        p = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name=d["name"], emails=[d["email"]], phones=[d["phone"]],
                                     address=d["address"], title="Chief Tester",
                                     custom_fields=[person_pb2.CustomField(
                                         key="hobby", value="quilting %s" % tag)])),
            sales_pb2.PersonReply).person
        d["id"] = cid = p.id
        self.assertEqual(cid, customer_id(d["email"]))
        self.call("sales.order.create", sales_pb2.CreateOrderRequest(order=sales_pb2.Order(
            person_id=cid, currency="EUR", items=[sales_pb2.OrderItem(
                name="Widget", quantity=2, unit_price_minor=2500)])), sales_pb2.OrderReply)
        self.call("sales.activity.log", sales_pb2.LogActivityRequest(activity=sales_pb2.Activity(
            person_id=cid, kind=sales_pb2.ACTIVITY_KIND_CALL, subject="Renewal call",
            body="Spoke with %s about the renewal" % d["name"])), sales_pb2.ActivityReply)
        wait_for(lambda: self.q("SELECT count(*) FROM person WHERE id = %s", cid,
                                db="marketing")[0][0] == 1, 20, "marketing to know them")
        wait_for(lambda: self.q("SELECT count(*) FROM person WHERE id = %s", cid,
                                db="support")[0][0] == 1, 20, "support to know them")
        self.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=cid, preferred_channel=M.CHANNEL_EMAIL)),
            M.PreferencesReply)
        self.call("marketing.response.record", M.RecordResponseRequest(
            response=M.CampaignResponseRecorded(
                campaign_id=self.campaign, customer_id=cid, response=M.RESPONSE_TYPE_REPLIED,
                note="%s wrote back" % d["name"])), M.ResponseReply)
        t = self.call("support.ticket.open", support_pb2.OpenTicketRequest(
            ticket=support_pb2.Ticket(requester_email=d["email"], requester_name=d["name"],
                                      subject="Parcel late", description="Call me on %s" % d["phone"],
                                      type=support_pb2.TICKET_TYPE_QUESTION)),
            support_pb2.TicketReply).ticket
        self.assertEqual(t.customer_id, cid)
        self.call("support.ticket.reply", support_pb2.AddTicketMessageRequest(
            id=t.id, body="Dear %s, it is on its way" % d["name"]), support_pb2.TicketReply)
        return d

    def strings(self, d):
        return [d["name"], d["email"], d["phone"], d["address"]]

    def make_campaign(self):
        self.campaign = self.call("marketing.campaign.create", M.CreateCampaignRequest(
            campaign=M.Campaign(name="Erasure spring %s" % uuid.uuid4().hex[:6],
                                channels=[M.CHANNEL_EMAIL], budget_minor=100000,
                                currency="EUR")), M.CampaignReply).campaign.id

    def export(self, cid, who=OFFICER, rc=0):
        p = self.crmctl("person", "export", cid, who=who, rc=rc)
        return json.loads(p.stdout) if rc == 0 else p

    def test_export_field_by_field(self):
        """One document with each piece every service keeps, checked field
        by field; a role without personal_data.read gets nothing."""
        self.make_campaign()
        x = self.person("export")
        self.a.wait_applied(("sales", "marketing", "support"))
        wait_for(lambda: self.q("SELECT count(*) FROM ticket WHERE customer_id = %s", x["id"],
                                db="analytics")[0][0]
                 == 1, 20, "analytics to see the ticket")
        doc = self.export(x["id"])
        self.assertEqual(doc["person_id"], x["id"])
        self.assertEqual(sorted(doc["services"]), sorted(SOURCES))
        sales = doc["services"]["sales"]["records"]
        p = sales["person"]
        self.assertEqual((p["name"], p["emails"], p["phones"], p["address"], p["title"]),
                         (x["name"], [x["email"]], [x["phone"]], x["address"], "Chief Tester"))
        self.assertEqual(p["custom_fields"], [{"key": "hobby", "value": "quilting export"}])
        self.assertEqual([(o["total_minor"], o["currency"], [(i["name"], i["quantity"])
                           for i in o["items"]]) for o in sales["orders"]],
                         [(5000, "EUR", [("Widget", 2)])])
        self.assertEqual([(a["subject"], a["body"]) for a in sales["activities"]],
                         [("Renewal call", "Spoke with %s about the renewal" % x["name"])])
        self.assertEqual((sales["leads"], sales["deals"]), ([], []))
        types = [e["type"] for e in doc["services"]["sales"]["events"]]
        for t in ("crm.sales.person.registered.v1", "crm.sales.order.placed.v1",
                  "crm.sales.activity.completed.v1"):
            self.assertIn(t, types)
        mkt = doc["services"]["marketing"]["records"]
        self.assertEqual((mkt["person"]["name"], mkt["person"]["email"]), (x["name"], x["email"]))
        self.assertEqual(mkt["preferences"]["preferred_channel"], M.CHANNEL_EMAIL)
        self.assertEqual([(r["campaign_id"], r["response"], r["note"]) for r in mkt["responses"]],
                         [(self.campaign, M.RESPONSE_TYPE_REPLIED, "%s wrote back" % x["name"])])
        types = [e["type"] for e in doc["services"]["marketing"]["events"]]
        self.assertIn("crm.marketing.preferences.changed.v1", types)  # the consent history
        self.assertIn("crm.marketing.response.recorded.v1", types)
        sup = doc["services"]["support"]["records"]
        self.assertEqual(sup["person"]["emails"], [x["email"]])
        (t,) = sup["tickets"]
        self.assertEqual((t["subject"], t["description"], t["requester_email"],
                          t["requester_name"]),
                         ("Parcel late", "Call me on %s" % x["phone"], x["email"], x["name"]))
        self.assertIn("Dear %s, it is on its way" % x["name"], [m["body"] for m in t["messages"]])
        self.assertIn("crm.support.ticket.opened.v1",
                      [e["type"] for e in doc["services"]["support"]["events"]])
        ana = doc["services"]["analytics"]["records"]
        self.assertEqual((ana["customer"]["name"], ana["customer"]["emails"]),
                         (x["name"], [x["email"]]))
        self.assertEqual(len(ana["orders"]), 1)
        self.assertEqual(len(ana["tickets"]), 1)
        self.assertIn("score", ana["health"])
        self.assertIn("reasons", ana["health"])
        # No right, no export; an unknown person is an error.
        p = self.export(x["id"], who=REP, rc=1)
        self.assertIn("personal_data.read", p.stderr)
        p = self.export(str(uuid.uuid4()), rc=1)
        self.assertIn("person does not exist", p.stderr)

    def test_erase_everywhere(self):
        a = self.a
        self.make_campaign()
        z = self.person("z")
        other = self.person("other")
        a.wait_applied(("sales", "marketing", "support"))
        for s in SOURCES:  # the strings are there before, in every database
            if s != "analytics":
                self.assertIn(z["email"], self.dump(s), s)
        self.assertIn(z["name"], self.dump("analytics"))

        # Bad input changes nothing: a role without personal_data.delete,
        # an unknown id, no reason.
        before = self.heads()
        rep = self.raw("sales.person.erase", sales_pb2.ErasePersonRequest(
            id=z["id"], reason="ticket 1"), who=REP)
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_PERMISSION_DENIED, rep.status)
        self.assertIn("personal_data.delete", rep.status.detail)
        rep = self.raw("sales.person.erase", sales_pb2.ErasePersonRequest(
            id=str(uuid.uuid4()), reason="ticket 1"), who=OFFICER)
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_NOT_FOUND, rep.status)
        self.assertEqual(rep.status.field, "id")
        rep = self.raw("sales.person.erase", sales_pb2.ErasePersonRequest(id=z["id"]),
                       who=OFFICER)
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, rep.status)
        self.assertEqual(rep.status.field, "reason")
        p = self.crmctl("person", "erase", z["id"], "--reason", "x", who=REP, rc=1)
        self.assertIn("personal_data.delete", p.stderr)
        self.assertEqual(self.heads(), before)
        self.assertIn(z["email"], self.dump("sales"))

        # A dead letter about the person in marketing (as a consumer that
        # failed on sales' event would leave it): its bytes must be erased
        # too. Inserted as a fixture; the failure path is tested elsewhere.
        (reg_bytes, reg_seq), = self.q(
            "SELECT event, seq FROM crm_outbox WHERE subject = %s AND type ="
            " 'crm.sales.person.registered.v1'", z["id"], db="sales")
        self.q("INSERT INTO crm_dead_letter (consumer, source, seq, type, event, error)"
               " VALUES ('marketing.fixture', 'sales', %s, 'crm.sales.person.registered.v1', %s,"
               " 'fixture') RETURNING id", reg_seq, bytes(reg_bytes), db="marketing")
        # Support is down while the officer erases the person.
        self.svc["support"].stop()
        out = self.crmctl("person", "erase", z["id"], "--reason", "DSR-2026-0042",
                          who=OFFICER).stdout
        self.assertIn("person %s erased" % z["id"], out)
        erased_ev = [e for e in self.outbox("sales") if e.type == "crm.sales.person.erased.v1"]
        self.assertEqual(len(erased_ev), 1)
        ev = erased_ev[0]
        self.assertEqual((ev.subject, ev.actor, ev.person_erased.person_id,
                          ev.person_erased.reason), (z["id"], OFFICER, z["id"], "DSR-2026-0042"))
        self.wait_erased("marketing", z["id"])
        a.wait_applied(("sales", "marketing"))
        # Erasing again: a clear error, and nothing changes.
        before = self.heads()
        p = self.crmctl("person", "erase", z["id"], "--reason", "again", who=OFFICER, rc=1)
        self.assertIn("already erased", p.stderr)
        self.assertEqual(self.heads(), before)
        # Erasure is final: an update is refused too.
        rep = self.raw("sales.person.update", sales_pb2.UpdatePersonRequest(
            id=z["id"], person=person_pb2.Person(name="Back Again"), update_mask=["name"]))
        self.assertEqual((rep.status.code, rep.status.message),
                         (rpc_pb2.STATUS_CODE_FAILED_PRECONDITION, "person is erased"))
        self.assertEqual(self.heads(), before)
        # Support applies the erasure on restart, as any event it missed.
        self.svc["support"].start()
        self.wait_erased("support", z["id"])
        a.wait_applied(("sales", "marketing", "support"))

        # No database holds any of the person's strings in any form: text,
        # JSON, or protobuf bytes (pg_dump writes bytea as hex).
        dumps = {s: self.dump(s) for s in SOURCES}
        for s, text in dumps.items():
            low = text.lower()
            for v in self.strings(z):
                self.assertFalse(v.lower() in low, "%s holds %r: %s" % (
                    s, v, low[max(0, low.find(v.lower()) - 300):low.find(v.lower()) + 100]))
                h = v.encode().hex()
                self.assertFalse(h in low, "%s holds %r as bytes: %s" % (
                    s, v, low[max(0, low.find(h) - 300):low.find(h) + 100]))
        (dead,), = self.q("SELECT event FROM crm_dead_letter WHERE consumer = 'marketing.fixture'",
                          db="marketing")
        dead = event_pb2.Event.FromString(bytes(dead)).person_registered.person
        self.assertEqual((dead.name, list(dead.emails)), (ERASED, [ERASED]))
        # The other customer is untouched.
        self.assertIn(other["email"], dumps["sales"])
        self.assertEqual(self.q("SELECT name FROM person WHERE id = %s", other["id"],
                                db="sales")[0][0], other["name"])
        # Business facts stay, anonymous: the order's amount, the ticket.
        self.assertEqual(self.q("SELECT total_minor, currency FROM sales_order WHERE person_id = %s",
                                z["id"], db="sales"), [(5000, "EUR")])
        self.assertEqual(self.q("SELECT count(*) FROM ticket_message m JOIN ticket t ON"
                                " t.id = m.ticket_id WHERE t.customer_id = %s", z["id"],
                                db="support")[0][0] >= 1, True)
        self.assertEqual(self.q("SELECT name, emails, phones, address FROM person WHERE id = %s",
                                z["id"], db="sales"),
                         [(ERASED, [ERASED], [ERASED], ERASED)])

        # Every stream is dense from 1 and every stored event still decodes;
        # the person's events carry the marker in their personal fields.
        for s in SOURCES:
            evs = self.outbox(s)
            self.assertEqual([e.sequence for e in evs], list(range(1, len(evs) + 1)), s)
        reg = [e for e in self.outbox("sales") if e.subject == z["id"]
               and e.type == "crm.sales.person.registered.v1"][0].person_registered.person
        self.assertEqual((reg.name, list(reg.emails), list(reg.phones), reg.address, reg.title),
                         (ERASED, [ERASED], [ERASED], ERASED, ERASED))
        self.assertEqual([(f.key, f.value) for f in reg.custom_fields], [("hobby", ERASED)])
        opened = [e for e in self.outbox("support") if e.subject == z["id"]
                  and e.type == "crm.support.ticket.opened.v1"]
        self.assertTrue(opened)
        tail = self.crmctl("tail", "--from", "beginning", "-e", "-o", "json").stdout
        evs = [json.loads(l) for l in tail.splitlines() if l.strip()]
        self.assertEqual(sorted({e["source"] for e in evs}), sorted(SOURCES))
        for s in SOURCES:
            seqs = [int(e["sequence"]) for e in evs if e["source"] == s]
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)), s)
        mine = [e for e in evs if e.get("subject") == z["id"]]
        self.assertTrue(any(e["type"] == "crm.sales.person.registered.v1" for e in mine))
        self.assertIn(ERASED, json.dumps(mine))
        for v in self.strings(z):
            self.assertNotIn(v, tail)
        self.assertIn(other["email"], tail)

        # Analytics: the 360 shows the erasure, and a rebuild equals live.
        show = a.report("analytics.customer.show", customer_id=z["id"])
        self.assertNotIn(z["email"], json.dumps(show))
        at_us = int(time.time() * 1e6)
        live = self.snapshot([z["id"], other["id"]], at_us)
        rep = a.raw("analytics.rebuild", analytics_pb2.RebuildRequest())
        self.assertEqual(rep.status.code, OK, rep.status)
        wait_for(lambda: not a.status().rebuild_in_progress, 60, "the rebuild to finish")
        a.wait_applied(("sales", "marketing", "support"))
        self.maxDiff = None
        self.assertSameReports(self.snapshot([z["id"], other["id"]], at_us), live)
        for v in self.strings(z):
            self.assertNotIn(v.lower(), self.dump("analytics").lower())
        # The export of an erased person: only that it happened, when, by
        # whom and why.
        doc = self.export(z["id"])
        self.assertEqual(sorted(doc), ["erasure", "exported_at_us", "person_id"])
        self.assertEqual((doc["erasure"]["by"], doc["erasure"]["reason"]),
                         (OFFICER, "DSR-2026-0042"))

    def wait_erased(self, db, cid):
        try:
            wait_for(lambda: self.q("SELECT count(*) FROM person_erasure WHERE id = %s", cid,
                                    db=db)[0][0] == 1, 30, db + " to apply the erasure")
        except AssertionError as e:
            raise AssertionError("%s; dead letters: %r" % (e, self.q(
                "SELECT consumer, type, error FROM crm_dead_letter", db=db)) + "\n".join(
                l for l in self.svc[db].read_log().splitlines() if "rror" in l or "fail" in l)[-3000:]) from None

    def outbox(self, source):
        return [event_pb2.Event.FromString(bytes(d)) for (d,) in
                self.q("SELECT event FROM crm_outbox ORDER BY seq", db=source)]

    def snapshot(self, ids, at_us):
        """Reports at one instant, for comparing live and rebuilt results."""
        a = self.a
        out = {"kpis": a.report("analytics.report.kpis", at_us=at_us),
               "health": a.report("analytics.report.health", at_us=at_us)}
        for i in ids:
            out[i] = a.report("analytics.customer.show", customer_id=i, at_us=at_us)
            out[i + "/timeline"] = a.report("analytics.customer.timeline", customer_id=i,
                                            at_us=at_us)
        return out

    def assertSameReports(self, got, want):
        for k in want:
            self.assertEqual(json.dumps(got[k], sort_keys=True, indent=1),
                             json.dumps(want[k], sort_keys=True, indent=1), k)

if __name__ == "__main__":
    unittest.main()
