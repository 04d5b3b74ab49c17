"""crmctl's sales verbs against a real crm-sales: people, deals, leads,
activities and the demo data set, through the real command socket.

One system for the class: a bus, crm-sales on its own database, and three
probes standing in for marketing, support and analytics (sales' peers).
Each test works on records of its own (unique emails), except the demo
test, which compares the whole data set before and after a second load.
crmctl runs as a subprocess; tests synchronise on its exit, never on
sleeps."""
import json
import os
import re
import unittest
import uuid

from crmtest import System, run_crmctl

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

DEMO_EMAILS = ("ada.quickfern@northwind-lamps.example", "cleo.marchbank@bluefjord.example",
               "ines.copperfield@quillon.example", "quinn.sparrowhawk@mailbox.example",
               "pia@copperkettle.example")


class CrmctlSalesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        try:
            cls.sys.start_bus()
            for peer in ("marketing", "support", "analytics"):
                cls.sys.add_probe(peer)
            cls.sys.add_service("sales", "crm-sales", ("marketing", "support", "analytics"),
                                start=True)
            cls.endpoint = cls.sys.endpoints["sales"]
        except Exception:
            cls.sys.close()
            raise
        cls.env = dict(os.environ, CRM_SERVICES="sales=" + cls.endpoint,
                       CRM_BUS_SUB_ENDPOINT="tcp://127.0.0.1:%d" % cls.sys.sub_port)

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()

    # ---- helpers -------------------------------------------------------------

    def crmctl(self, *args, rc=0):
        return run_crmctl(self, self.env, args, rc, timeout=120)

    def json(self, *args):
        return json.loads(self.crmctl(*(list(args) + ["-o", "json"])).stdout)

    def person(self, name="Test Person"):
        email = "%s.%s@example.com" % (name.split()[0].lower(), uuid.uuid4().hex[:8])
        return self.json("person", "register", "--name", name, "--email", email)["person"]["id"]

    def ids(self, *args):
        """Ids of every item of a list verb, through all its pages."""
        reply = self.json(*(list(args) + ["--all"]))
        self.assertNotIn("next_page_token", reply)
        (items,) = [v for v in reply.values() if isinstance(v, list)] or [[]]
        return [x["id"] for x in items]

    # ---- people ----------------------------------------------------------------

    def test_person_register_show_list(self):
        tag = uuid.uuid4().hex[:8]
        email = "ada.%s@example.com" % tag
        r = self.json("person", "register", "--name", "Ada Quickfern", "--email",
                      "  Ada.%s@Example.COM " % tag, "--kind", "customer", "--tag", "vip",
                      "--field", "source=fair", "--country", "gb")
        self.assertTrue(r["created"])
        p = r["person"]
        pid = p["id"]
        self.assertRegex(pid, "^%s$" % UUID)
        self.assertEqual(p["emails"], [email])
        self.assertEqual(p["kind"], "PERSON_KIND_CUSTOMER")
        self.assertEqual(p["custom_fields"], [{"key": "source", "value": "fair"}])

        # The same email again: the same person, said readably.
        out = self.crmctl("person", "register", "--email", email).stdout
        self.assertIn("person %s already known" % pid, out)
        self.assertEqual(self.json("person", "show", pid)["person"]["id"], pid)
        self.assertEqual(self.json("person", "show", "--email", email)["person"]["id"], pid)
        out = self.crmctl("person", "show", pid).stdout
        self.assertRegex(out, r"(?m)^name: +Ada Quickfern$")
        self.assertRegex(out, r"(?m)^kind: +customer$")

        # Paging: four people match the query.
        for i in range(3):
            self.crmctl("person", "register", "--name", "Page %d %s" % (i, tag), "--email",
                        "page%d.%s@example.com" % (i, tag))
        first = self.json("person", "list", "--query", tag, "--limit", "2")
        self.assertEqual(len(first["people"]), 2)
        self.assertTrue(first.get("next_page_token"))
        rest = self.json("person", "list", "--query", tag, "--limit", "2", "--page-token",
                         first["next_page_token"])
        paged = [x["id"] for x in first["people"] + rest["people"]]
        every = self.ids("person", "list", "--query", tag, "--limit", "3")
        self.assertEqual(len(every), 4)
        self.assertEqual(sorted(paged), sorted(every))
        self.assertIn(pid, every)
        out = self.crmctl("person", "list", "--query", tag, "--limit", "2").stdout
        self.assertIn("(2 people)", out)
        self.assertIn("more: add --page-token", out)
        self.assertIn("(4 people)", self.crmctl("person", "list", "--query", tag, "--all").stdout)
        self.assertEqual(self.ids("person", "list", "--query", tag, "--kind", "customer"), [pid])

        # update: only the fields given (and cleared) change.
        u = self.json("person", "update", pid, "--title", "Head of Facilities", "--clear", "tags")
        self.assertEqual(u["person"]["title"], "Head of Facilities")
        self.assertNotIn("tags", u["person"])
        self.assertEqual(u["person"]["name"], "Ada Quickfern")

        p = self.crmctl("person", "show", str(uuid.uuid4()), rc=1)
        self.assertIn("sales.person.show on sales failed", p.stderr)
        self.assertEqual(p.stdout, "")

    # ---- deals -----------------------------------------------------------------

    def test_deal_flow(self):
        pid = self.person("Bram Oakhollow")
        pipelines = self.json("pipeline", "list")["pipelines"]
        (default,) = [p for p in pipelines if p.get("is_default")]
        stages = [s["name"] for s in default["stages"]]
        self.assertGreaterEqual(len(stages), 2)

        deal = self.json("deal", "create", "--title", "Showroom refit", "--person", pid,
                         "--amount", "1234.50", "--currency", "EUR", "--close", "2026-12-24",
                         "--owner", "dana")["deal"]
        did = deal["id"]
        self.assertEqual(deal["amount_minor"], "123450")
        self.assertEqual(deal["status"], "DEAL_STATUS_OPEN")
        self.assertEqual(deal["stage"], stages[0])
        self.assertEqual(deal["pipeline_id"], default["id"])
        self.assertRegex(self.crmctl("deal", "show", did).stdout, r"(?m)^amount: +1234\.50 EUR$")

        out = self.crmctl("deal", "stage", did, stages[1], "--next-step", "Send the quote").stdout
        self.assertIn("deal %s moved" % did, out)
        shown = self.json("deal", "show", did)
        self.assertEqual(shown["deal"]["stage"], stages[1])
        self.assertEqual(shown["deal"]["next_step"], "Send the quote")
        self.assertEqual([h["to_stage"] for h in shown["history"]][-1], stages[1])
        self.assertIn("stage history:", self.crmctl("deal", "show", did).stdout)

        p = self.crmctl("deal", "stage", did, "No such stage", rc=1)
        self.assertIn("sales.deal.stage on sales failed", p.stderr)
        self.assertIn("deal %s won" % did, self.crmctl("deal", "win", did).stdout)
        self.assertEqual(self.json("deal", "show", did)["deal"]["status"], "DEAL_STATUS_WON")
        self.crmctl("deal", "stage", did, stages[0], rc=1)  # closed deals do not move

        other = self.json("deal", "create", "--title", "Spare parts", "--person", pid)["deal"]
        self.crmctl("deal", "lose", other["id"], rc=2)  # --reason is required
        lost = self.json("deal", "lose", other["id"], "--reason", "Went with a competitor")
        self.assertEqual(lost["deal"]["status"], "DEAL_STATUS_LOST")
        self.assertEqual(lost["deal"]["lost_reason"], "Went with a competitor")
        self.assertEqual(self.ids("deal", "list", "--person", pid, "--status", "won"), [did])
        self.assertEqual(sorted(self.ids("deal", "list", "--person", pid)),
                         sorted([did, other["id"]]))

    def test_bad_money_is_exit_2_and_sends_nothing(self):
        pid = self.person("Cleo Marchbank")
        for amount, why in (("-5", "negative"), ("1.234", "2 decimals"), ("12,50", "")):
            p = self.crmctl("deal", "create", "--title", "Bad", "--person", pid, "--amount",
                            amount, rc=2)
            self.assertIn("--amount", p.stderr)
            self.assertIn(why, p.stderr)
            self.assertEqual(p.stdout, "")
        p = self.crmctl("order", "create", "--person", pid, "--item", "A:Lamp:1:9.999", rc=2)
        self.assertIn("--item", p.stderr)
        self.assertEqual(self.ids("deal", "list", "--person", pid), [])
        self.assertEqual(self.ids("order", "list", "--person", pid), [])

    def test_orders(self):
        pid = self.person("Greta Plumtree")
        o = self.json("order", "create", "--person", pid, "--item", "LMP-100:Brass desk lamp:2:89.90",
                      "--item", "BLB-E27:LED bulb:10:2.45", "--currency", "EUR", "--at",
                      "2026-03-01")["order"]
        self.assertEqual(o["total_minor"], str(2 * 8990 + 10 * 245))
        body = {"order": {"person_id": pid, "currency": "EUR",
                          "items": [{"product_code": "CHR-1", "name": "Chair, oak",
                                     "quantity": 1, "unit_price_minor": "12000"}]}}
        out = self.crmctl("order", "create", "--json", json.dumps(body)).stdout
        self.assertRegex(out, r"order %s placed" % UUID)
        self.assertIn("Chair, oak", out)
        self.assertRegex(out, r"(?m)^total: +120\.00 EUR$")
        self.assertEqual(len(self.ids("order", "list", "--person", pid)), 2)
        self.assertEqual(self.ids("order", "list", "--person", pid, "--until", "2026-03-31"),
                         [o["id"]])

    # ---- leads -----------------------------------------------------------------

    def test_lead_convert(self):
        tag = uuid.uuid4().hex[:8]
        email = "pia.%s@example.com" % tag
        lead = self.json("lead", "create", "--name", "Pia Lanternfield", "--email", email,
                         "--company", "Copper Kettle %s" % tag, "--source", "event")["lead"]
        lid = lead["id"]
        self.assertEqual(lead["status"], "LEAD_STATUS_NEW")
        self.assertIn("lead %s qualified" % lid,
                      self.crmctl("lead", "qualify", lid, "--note", "Budget approved").stdout)
        key = "convert-" + tag
        out = self.crmctl("lead", "convert", lid, "--title", "Tearoom lighting", "--amount",
                          "6200", "--currency", "EUR", "--idempotency-key", key).stdout
        self.assertIn("lead %s converted" % lid, out)
        made = dict(re.findall(r"(?m)^(person|organisation|deal): +(%s)" % UUID, out))
        self.assertEqual(set(made), {"person", "organisation", "deal"}, out)
        # A retry with the same key is the same conversion.
        self.assertEqual(self.crmctl("lead", "convert", lid, "--title", "Tearoom lighting",
                                     "--amount", "6200", "--currency", "EUR",
                                     "--idempotency-key", key).stdout, out)
        self.assertEqual(self.json("person", "show", "--email", email)["person"]["id"],
                         made["person"])
        deal = self.json("deal", "show", made["deal"])["deal"]
        self.assertEqual(deal["amount_minor"], "620000")
        self.assertEqual(deal["person_id"], made["person"])
        self.assertIn(lid, self.ids("lead", "list", "--status", "converted"))

        other = self.json("lead", "create", "--name", "Otto Grumblewick")["lead"]["id"]
        self.crmctl("lead", "disqualify", other, rc=2)
        d = self.json("lead", "disqualify", other, "--reason", "No budget")["lead"]
        self.assertEqual(d["status"], "LEAD_STATUS_DISQUALIFIED")
        self.assertEqual(d["disqualify_reason"], "No budget")

    # ---- activities --------------------------------------------------------------

    def test_activity_schedule_and_overdue(self):
        pid = self.person("Kaja Mistlethorn")
        past = self.json("activity", "schedule", "--kind", "call", "--person", pid, "--subject",
                         "Follow up on the pilot", "--due", "-1h")["activity"]
        self.assertEqual(past["status"], "ACTIVITY_STATUS_SCHEDULED")
        future = self.json("activity", "schedule", "--kind", "meeting", "--person", pid,
                           "--subject", "Depot visit", "--due", "+2d")["activity"]
        self.assertEqual(self.ids("activity", "list", "--person", pid, "--overdue"), [past["id"]])
        self.assertEqual(self.ids("activity", "list", "--person", pid, "--due", "+1d"),
                         [past["id"]])
        self.assertEqual(sorted(self.ids("activity", "list", "--person", pid, "--status",
                                         "scheduled")), sorted([past["id"], future["id"]]))
        out = self.crmctl("activity", "list", "--person", pid, "--overdue").stdout
        self.assertIn("Follow up on the pilot", out)
        self.assertIn("(1 activity)", out)

        done = self.json("activity", "complete", past["id"], "--outcome", "Reached voicemail",
                         "--next-action", "Call again", "--next-due", "+1d")["activity"]
        self.assertEqual(done["status"], "ACTIVITY_STATUS_DONE")
        self.assertEqual(done["outcome"], "Reached voicemail")
        self.assertEqual(self.ids("activity", "list", "--person", pid, "--overdue"), [])
        note = self.json("activity", "log", "--kind", "note", "--person", pid, "--subject",
                         "Prefers mornings")["activity"]
        self.assertEqual(note["status"], "ACTIVITY_STATUS_DONE")
        self.assertIn(note["id"], self.ids("activity", "list", "--person", pid, "--status",
                                           "done"))

    # ---- the demo data set -------------------------------------------------------

    def snapshot(self):
        return {verb: sorted(self.ids(verb, "list")) for verb in
                ("person", "org", "deal", "order", "activity", "lead")}

    def test_demo_load_is_idempotent(self):
        first = self.crmctl("demo", "load").stdout
        self.assertRegex(first, r"^demo data in sales: 21 people, 7 organisations, 2 pipelines, "
                                r"11 deals \(3 won, 1 lost\), 15 orders, 20 activities")
        before = self.snapshot()
        pipelines = self.json("pipeline", "list")["pipelines"]
        self.assertEqual(self.crmctl("demo", "load").stdout, first)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.json("pipeline", "list")["pipelines"], pipelines)
        self.assertIn("Renewals", [p["name"] for p in pipelines])

        people = self.json("person", "list", "--all")["people"]
        emails = {e for p in people for e in p.get("emails", [])}
        for e in DEMO_EMAILS:
            self.assertIn(e, emails)
        demo = [p for p in people if any(e.endswith(".example") for e in p.get("emails", []))]
        self.assertGreaterEqual(len(demo), 21)
        self.assertGreaterEqual(len({p.get("kind") for p in demo}), 8)
        lost = self.json("deal", "list", "--status", "lost", "--all")["deals"]
        self.assertIn("Chose a local provider with same-day call-outs",
                      [d.get("lost_reason") for d in lost])
        self.assertGreaterEqual(len(self.ids("deal", "list", "--status", "won")), 3)
        self.assertGreaterEqual(len(self.ids("activity", "list", "--overdue")), 2)
        self.assertGreaterEqual(len(self.ids("order", "list")), 15)
        statuses = {l["status"] for l in self.json("lead", "list", "--all")["leads"]}
        self.assertTrue({"LEAD_STATUS_NEW", "LEAD_STATUS_QUALIFIED", "LEAD_STATUS_CONVERTED",
                         "LEAD_STATUS_DISQUALIFIED"} <= statuses, statuses)
        summary = self.json("demo", "load")
        self.assertEqual((summary["people"], summary["deals"], summary["orders"]), (21, 11, 15))


if __name__ == "__main__":
    unittest.main()
