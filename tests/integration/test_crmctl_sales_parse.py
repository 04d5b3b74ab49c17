"""crmctl's sales verbs without a service: how the command line becomes a
request. --dry-run prints the request crmctl would send (as JSON, in the
names of sales.proto), so money, dates, enums, lists and --json are checked
exactly, and a usage error is shown to send nothing: CRM_SERVICES points at
a port where nothing listens, so a request that was sent would end in exit
3, not 2."""
import json
import os
import subprocess
import time
import unittest

from crmtest import BIN, free_port

CRMCTL = os.path.join(BIN, "crmctl")
NOBODY = "sales=tcp://127.0.0.1:%d" % free_port()


def crmctl(*args, timeout=30):
    env = dict(os.environ, CRM_SERVICES=NOBODY)
    p = subprocess.run([CRMCTL] + list(args), env=env, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def day_us(y, m, d):
    import calendar
    return calendar.timegm((y, m, d, 0, 0, 0)) * 1000000


class SalesParseTest(unittest.TestCase):
    def dry(self, *args):
        rc, out, err = crmctl(*(list(args) + ["--dry-run"]))
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        return doc["request"]

    def usage(self, *args, names=None):
        """The command is refused with exit 2 before anything is sent; the
        message names `names` (the flag)."""
        rc, out, err = crmctl(*args)
        self.assertEqual(rc, 2, "exit %d; stdout %r stderr %r" % (rc, out, err))
        self.assertEqual(out, "")
        if names:
            self.assertIn(names, err)
        return err

    def test_money_is_exact(self):
        cases = {"1234.50": "123450", "1234.5": "123450", "1234": "123400", "0.1": "10",
                 "0.07": "7", "0": None, "92233720368547.75": "9223372036854775",
                 "19.99": "1999"}
        for text, minor in cases.items():
            deal = self.dry("deal", "create", "--title", "T", "--person", "P", "--amount",
                            text)["deal"]
            self.assertEqual(deal.get("amount_minor"), minor, text)

    def test_bad_money_is_a_usage_error(self):
        for text in ("-5", "-0.01", "1.234", "1,50", "1e3", "12.", ".5", "", "abc", "1 000",
                     "99999999999999999999"):
            err = self.usage("deal", "create", "--title", "T", "--person", "P", "--amount", text,
                             names="--amount")
            self.assertIn('invalid value "%s"' % text, err)
        err = self.usage("deal", "create", "--title", "T", "--person", "P", "--amount", "-5")
        self.assertIn("negative", err)
        err = self.usage("lead", "convert", "L", "--amount", "1.999", names="--amount")
        self.assertIn("2 decimals", err)
        self.usage("order", "create", "--person", "P", "--item", "A:a:1:-3", names="--item")

    def test_dates(self):
        self.assertEqual(self.dry("deal", "create", "--title", "T", "--person", "P", "--close",
                                  "2028-02-29")["deal"]["expected_close_date"], "2028-02-29")
        for bad in ("2026-02-29", "2026-13-01", "2026-04-31", "26-01-01", "2026-1-1", "tomorrow"):
            self.usage("deal", "create", "--title", "T", "--person", "P", "--close", bad,
                       names="--close")
            self.usage("deal", "list", "--close-from", bad, names="--close-from")
        rq = self.dry("person", "list", "--since", "2026-01-01", "--until", "2026-01-31")
        self.assertEqual(int(rq["created_from_us"]), day_us(2026, 1, 1))
        self.assertEqual(int(rq["created_to_us"]), day_us(2026, 2, 1) - 1)
        rq = self.dry("order", "list", "--since", "2026-01-01T10:00:00Z")
        self.assertEqual(int(rq["from_us"]), day_us(2026, 1, 1) + 10 * 3600 * 1000000)

    def test_datetimes(self):
        base = ["activity", "schedule", "--kind", "call", "--person", "P", "--subject", "S"]
        nine = day_us(2026, 11, 23) + 9 * 3600 * 1000000
        for text, us in (("2026-11-23T09:00:00Z", nine), ("2026-11-23T10:00:00+01:00", nine),
                         ("2026-11-23T04:30:00-04:30", nine), ("2026-11-23t09:00z", nine),
                         ("2026-11-23T09:00:00.250Z", nine + 250000),
                         ("2026-11-23", day_us(2026, 11, 23))):
            act = self.dry(*(base + ["--due", text]))["activity"]
            self.assertEqual(int(act["due_at_us"]), us, text)
        for text, delta in (("+2h", 7200), ("+30m", 1800), ("+1d", 86400), ("-1d", -86400),
                            ("+1w", 7 * 86400)):
            before = time.time()
            due = int(self.dry(*(base + ["--due", text]))["activity"]["due_at_us"]) / 1e6
            self.assertTrue(before + delta - 1 <= due <= time.time() + delta + 1, text)
        for bad in ("2026-11-23T25:00:00Z", "2026-11-23T09:00:00+1", "+2x", "+h", "soon",
                    "2026-11-31T09:00:00Z"):
            self.usage(*(base + ["--due", bad]), names="--due")
        self.usage("activity", "complete", "A", "--next-due", "later", names="--next-due")

    def test_enums(self):
        self.assertEqual(self.dry("person", "register", "--name", "N", "--kind",
                                  "service-provider")["person"]["kind"],
                         "PERSON_KIND_SERVICE_PROVIDER")
        self.assertEqual(self.dry("lead", "list", "--source", "cold-call", "--status",
                                  "qualified"),
                         {"status": "LEAD_STATUS_QUALIFIED", "source": "LEAD_SOURCE_COLD_CALL"})
        self.assertEqual(self.dry("deal", "list", "--status", "won")["status"], "DEAL_STATUS_WON")
        err = self.usage("person", "register", "--name", "N", "--kind", "friend", names="--kind")
        self.assertIn("service-provider", err)
        self.assertIn("job-seeker", err)
        self.assertNotIn("unspecified", err)
        self.usage("person", "register", "--kind", "unspecified", names="--kind")
        self.usage("activity", "log", "--kind", "fax", "--person", "P", "--subject", "S",
                   names="--kind")

    def test_lists_fields_stages_items(self):
        p = self.dry("person", "register", "--email", "a@example.com", "--email",
                     "b@example.com", "--tag", "vip, north", "--field", "source=fair",
                     "--field", "size=a=b")["person"]
        self.assertEqual(p["emails"], ["a@example.com", "b@example.com"])
        self.assertEqual(p["tags"], ["vip", "north"])
        self.assertEqual(p["custom_fields"], [{"key": "source", "value": "fair"},
                                              {"key": "size", "value": "a=b"}])
        self.usage("person", "register", "--field", "novalue", names="--field")
        pl = self.dry("pipeline", "create", "--name", "Renewals", "--stage", "Up for renewal:40",
                      "--stage", "Quote sent:60")["pipeline"]
        self.assertEqual(pl["stages"], [{"name": "Up for renewal", "probability": 40},
                                        {"name": "Quote sent", "probability": 60}])
        self.usage("pipeline", "create", "--name", "R", "--stage", "Won:120", names="--stage")
        self.usage("pipeline", "create", "--name", "R", names="--stage")
        order = self.dry("order", "create", "--person", "P", "--item",
                         "LMP-100:Lamp: brass:2:89.90", "--item", "BLB:Bulb:10:2.5",
                         "--currency", "EUR", "--at", "2026-03-01")["order"]
        self.assertEqual(order["items"], [
            {"product_code": "LMP-100", "name": "Lamp: brass", "quantity": 2,
             "unit_price_minor": "8990"},
            {"product_code": "BLB", "name": "Bulb", "quantity": 10, "unit_price_minor": "250"}])
        self.assertEqual(int(order["ordered_at_us"]), day_us(2026, 3, 1))
        for bad in ("A:a:0:1", "A:a:x:1", "A:1", ":a:1:1"):
            self.usage("order", "create", "--person", "P", "--item", bad, names="--item")

    def test_json_input(self):
        body = {"order": {"person_id": "P", "currency": "EUR",
                          "items": [{"product_code": "A", "name": "Chair, oak", "quantity": 2,
                                     "unit_price_minor": 12000}]}}
        rq = self.dry("order", "create", "--json", json.dumps(body))
        self.assertEqual(rq["order"]["items"][0]["name"], "Chair, oak")
        self.assertEqual(rq["order"]["items"][0]["unit_price_minor"], "12000")
        # Options apply on top of --json.
        rq = self.dry("order", "create", "--json", json.dumps(body), "--currency", "GBP")
        self.assertEqual(rq["order"]["currency"], "GBP")
        self.usage("order", "create", "--json", "{not json", names="--json")
        self.usage("order", "create", "--json", "[1]", names="--json")
        err = self.usage("order", "create", "--json", '{"order": {"person_id": "P", "colour": 1}}')
        self.assertIn("order.colour", err)

    def test_update_mask(self):
        rq = self.dry("person", "update", "ID", "--title", "CTO", "--email", "x@example.com",
                      "--clear", "org", "--clear", "tags")
        self.assertEqual(rq["id"], "ID")
        self.assertEqual(rq["person"], {"title": "CTO", "emails": ["x@example.com"]})
        self.assertEqual(rq["update_mask"], ["emails", "title", "organization_id", "tags"])
        self.usage("person", "update", "ID", names="nothing to update")
        self.usage("person", "update", "ID", "--clear", "shoe_size", names="--clear")
        self.usage("person", "update", "ID", "--title", "A", "--clear", "title")
        self.usage("person", "update", "--title", "A", names="id")

    def test_required_and_arguments(self):
        self.usage("deal", "create", "--person", "P", names="--title")
        self.usage("deal", "create", "--title", "T", names="--person")
        self.usage("deal", "lose", "D", names="--reason")
        self.usage("lead", "disqualify", "L", names="--reason")
        self.usage("org", "create", "--domain", "x.example", names="--name")
        self.usage("activity", "schedule", "--kind", "call", "--person", "P", "--subject", "S",
                   names="--due")
        self.usage("deal", "stage", "D", names="stage")
        self.usage("deal", "win", "D", "E", names="unexpected argument")
        self.usage("person", "show", names="--email")
        self.usage("person", "register", "--kind", "customer", names="--name or --email")
        self.usage("person", "list", "--limit", "0", names="--limit")
        self.usage("deal", "stage", "D", "Won", "--probability", "101", names="--probability")
        self.assertEqual(self.dry("deal", "stage", "D", "Proposal", "--probability", "35"),
                         {"id": "D", "stage": "Proposal", "probability": 35})

    def test_utc_offset_is_one_parser(self):
        """--utc-offset of the SLA calendar (support) and of the contact
        preferences (marketing) accept the same forms, the union of what
        each accepted before they shared one parser, and refuse the same."""
        def offsets(text):
            cal = self.dry("sla", "calendar", "set", "--hours", "mon=09:00-17:00",
                           "--utc-offset", text)["calendar"]
            pref = self.dry("preference", "set", "C1", "--utc-offset", text)["preferences"]
            return cal.get("utc_offset_minutes", 0), pref.get("utc_offset_minutes", 0)

        cases = {"+01:00": 60, "-05:30": -330, "+2": 120, "-11": -660, "0": 0, "-0": 0,
                 "+0": 0, "02:00": 120, "5:45": 345, "+14:00": 840, "-12:00": -720}
        for text, minutes in cases.items():
            self.assertEqual(offsets(text), (minutes, minutes), text)
        for text in ("", "+", "+25:00", "+15", "+01:60", "+1:5", "+01:00x", "+001", "UTC",
                     "+01:00:00", "1.5"):
            for verb in (("sla", "calendar", "set", "--hours", "mon=09:00-17:00"),
                         ("preference", "set", "C1")):
                err = self.usage(*(verb + ("--utc-offset", text)), names="--utc-offset")
                self.assertIn("+HH:MM", err)

    def test_idempotency_key_is_shown(self):
        rc, out, err = crmctl("deal", "win", "D", "--idempotency-key", "k-1", "--dry-run")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"command": "sales.deal.win", "request": {"id": "D"},
                                           "idempotency_key": "k-1"})

    def test_help_lists_the_verbs(self):
        rc, out, _ = crmctl("--help")
        self.assertEqual(rc, 0)
        for verb in ("person register", "org show", "lead convert", "pipeline create",
                     "deal stage", "order create", "activity schedule", "demo load"):
            self.assertIn(verb, out)
        rc, out, _ = crmctl("deal", "create", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("--amount AMOUNT", out)
        rc, _, err = crmctl("deal")
        self.assertEqual(rc, 2)
        self.assertIn("deal win", err)


if __name__ == "__main__":
    unittest.main()
