"""crmctl's marketing verbs against a real crm-marketing: a campaign from
creation to ROI (offers, budget, expenses, message, preview, targeting,
launch, responses, results, comparison, pause/resume/cancel), segments
(create, preview, members, list) and contact preferences, through the
real crmctl binary and the real command socket.

One MarketingSystem for the class (bus, probes for sales and support,
crm-marketing); people arrive as sales' person events from the probe.
Figures are checked against values worked out by hand. crmctl runs as a
subprocess; tests synchronise on its exit or poll with a deadline."""
import json
import os
import unittest
import uuid

from crmtest import run_crmctl, wait_for
from test_marketing_service import MarketingSystem, sales_pb2, unique
from crm.v1 import person_pb2  # noqa: E402  (path set up by crmtest)



class CrmctlMarketingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = MarketingSystem(env={"MARKETING_SEND_SCAN_MS": "100"})
        cls.env = dict(os.environ, CRM_SERVICES="marketing=" + cls.s.sys.endpoints["marketing"])

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    # ---- helpers -------------------------------------------------------------

    def crmctl(self, *args, rc=0):
        return run_crmctl(self, self.env, args, rc, timeout=120)

    def json(self, *args):
        return json.loads(self.crmctl(*(list(args) + ["-o", "json"])).stdout)

    def person(self, name, country="", tags=()):
        pid = str(uuid.uuid4())
        self.s.emit("sales", "crm.sales.person.registered.v1", pid,
                    person_registered=sales_pb2.PersonRegistered(person=person_pb2.Person(
                        id=pid, name=name, emails=["%s@ctl.example" % unique(name.lower())],
                        country=country, tags=list(tags))))
        return pid

    def wait_people(self, *ids):
        wait_for(lambda: self.s.q("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])",
                                  list(ids))[0][0] == len(ids), 20, "people")

    def campaign(self, name, *extra):
        return self.json("campaign", "create", "--name", name, "--channel", "email",
                         "--currency", "eur", *extra)["campaign"]["id"]

    # ---- a campaign from creation to ROI ------------------------------------------

    def test_campaign_to_roi(self):
        s = self.s
        ann, ben = self.person("Ann"), self.person("Ben")
        self.wait_people(ann, ben)
        r = self.json("campaign", "create", "--name", "Spring", "--channel", "email",
                      "--channel", "sms", "--currency", "eur", "--budget", "1000",
                      "--owner", "amy", "--attribution-days", "14")
        cid = r["campaign"]["id"]
        self.assertEqual(r["campaign"]["status"], "CAMPAIGN_STATUS_DRAFT")
        self.assertEqual(r["campaign"]["channels"], ["CHANNEL_EMAIL", "CHANNEL_SMS"])
        self.assertEqual(r["campaign"]["attribution_window_days"], 14)
        self.assertEqual(r["budget"]["budget_minor"], "100000")
        # Text output reads as people write it: channels, not enum names.
        out = self.crmctl("campaign", "show", cid).stdout
        self.assertRegex(out, r"(?m)^channels: +email, sms$")
        self.assertRegex(out, r"(?m)^status: +draft$")
        self.assertNotIn("CHANNEL_", out)
        # Usage errors: nothing sent.
        head = s.head()
        err = self.crmctl("campaign", "create", "--name", "X", "--currency", "eur", rc=2).stderr
        self.assertIn("--channel is required", err)
        err = self.crmctl("campaign", "create", "--name", "X", "--currency", "eur",
                          "--channel", "pigeon", rc=2).stderr
        self.assertIn('invalid value "pigeon" for --channel', err)
        self.crmctl("campaign", "offer", cid, rc=2)
        err = self.crmctl("campaign", "expense", cid, "--amount", "-5", rc=2).stderr
        self.assertIn("amounts cannot be negative", err)
        self.assertEqual(s.head(), head)

        # Offers and budget: each change published.
        r = self.json("campaign", "offer", cid, "--product", "SKU-1", "--discount", "10",
                      "--text", "10% off lamps")
        self.assertEqual(r["campaign"]["offers"],
                         [{"product_code": "SKU-1", "discount_percent": 10,
                           "text": "10% off lamps"}])
        r = self.json("campaign", "budget", cid, "--amount", "500.00", "--overspend", "flag")
        self.assertEqual((r["budget"]["budget_minor"], r["campaign"]["overspend_policy"]),
                         ("50000", "OVERSPEND_POLICY_FLAG"))
        self.assertEqual([e.type for e in s.events(head)],
                         ["crm.marketing.campaign.updated.v1"] * 2)
        self.assertEqual([e.campaign_updated.change for e in s.events(head)],
                         ["offer", "budget"])
        err = self.crmctl("campaign", "budget", cid, "--amount", "1", "--currency", "usd",
                          rc=1).stderr
        self.assertIn("currency cannot change", err)

        # The ledger: 200 + 400 = 600 against 500, the second flagged.
        r = self.json("campaign", "expense", cid, "--amount", "200", "--category", "ads")
        self.assertEqual((r["budget"]["remaining_minor"], r["expense"].get("flagged", False)),
                         ("30000", False))
        out = self.crmctl("campaign", "expense", cid, "--amount", "400", "--note", "print").stdout
        self.assertIn("flagged", out)
        self.assertRegex(out, r"(?m)^remaining: +-100\.00 EUR$")

        # Message: an unknown field and launching without a message are refused.
        head = s.head()
        err = self.crmctl("campaign", "message", cid, "--channel", "email", "--body",
                          "Hi {{nmae}}", rc=1).stderr
        self.assertIn("FIELD:  template.body", err)
        err = self.crmctl("campaign", "launch", cid, rc=1).stderr
        self.assertIn("campaign has no message", err)
        err = self.crmctl("campaign", "schedule", cid, "--at", "-1h", rc=1).stderr
        self.assertIn("start time is in the past", err)
        self.assertEqual(s.head(), head)
        self.assertEqual(s.q("SELECT count(*) FROM message_template WHERE campaign_id = %s",
                             cid)[0][0], 0)
        self.json("campaign", "message", cid, "--channel", "email", "--subject",
                  "Hello {{name}}", "--body", "Dear {{name}}: {{offer}}, from {{owner}}")
        out = self.crmctl("campaign", "preview", cid, "--channel", "email", "--customer",
                          ann).stdout
        self.assertEqual(out, "Subject: Hello Ann\n\nDear Ann: 10% off lamps, from amy\n")

        # Target, launch, and the send scan decides both recipients.
        r = self.json("campaign", "target", cid, "--customer", ann, "--customer", ben)
        self.assertEqual((r["added"], r["recipients"]), ("2", "2"))
        r = self.json("campaign", "launch", cid)
        self.assertEqual(r["campaign"]["status"], "CAMPAIGN_STATUS_RUNNING")
        self.crmctl("campaign", "launch", cid, rc=1)
        wait_for(lambda: self.json("campaign", "results", cid)["results"].get("sent") == "2",
                 20, "both recipients sent")

        # Responses: a conversion of 900.00 by Ann, an open by someone new.
        self.json("response", "record", "--campaign", cid, "--customer", ann, "--type",
                  "converted", "--revenue", "900", "--currency", "eur")
        r = self.json("response", "record", "--campaign", cid, "--email",
                      "%s@ctl.example" % unique("new"), "--type", "opened")
        self.assertTrue(r["person_registered"])
        self.crmctl("response", "record", "--campaign", cid, "--type", "opened", rc=2)

        # By hand: the new person was never targeted, so their open is
        # unsolicited and enrols nobody: 2 recipients, 1 responder (Ann),
        # 1 conversion, revenue 900.00, cost 600.00; ROI (900 - 600) / 600
        # = 50%; per response 600.00, per conversion 600.00; response rate
        # 1/2 = 50.00%.
        res = self.json("campaign", "results", cid)["results"]
        self.assertEqual((res["recipients"], res["responders"], res["conversions"],
                          res["revenue_minor"], res["cost_minor"], res["roi_bp"],
                          res["cost_per_response_minor"], res["cost_per_conversion_minor"],
                          res["response_rate_bp"], res["unsolicited_responses"]),
                         ("2", "1", "1", "90000", "60000", "5000", "60000", "60000", "5000",
                          "1"))
        out = self.crmctl("campaign", "results", cid).stdout
        self.assertRegex(out, r"(?m)^roi: +50\.00%$")
        self.assertRegex(out, r"(?m)^response rate: +50\.00%$")
        self.assertRegex(out, r"(?m)^unsolicited responses: +1$")
        self.assertRegex(out, r"(?m)^cost per conversion: +600\.00 EUR$")

        # Compare with a campaign that has no cost: its ROI is undefined.
        other = self.campaign("Autumn")
        r = self.json("campaign", "compare", cid, other)
        self.assertEqual([x["campaign_id"] for x in r["results"]], [cid, other])
        self.assertFalse(r["results"][1].get("roi_defined", False))
        out = self.crmctl("campaign", "compare", cid, other).stdout
        self.assertRegex(out, r"Spring .* 50\.00%")
        self.assertRegex(out, r"Autumn .* -\s*$")
        self.crmctl("campaign", "compare", cid, rc=2)

        # Pause, resume, cancel; a cancelled campaign's budget is fixed.
        self.assertEqual(self.json("campaign", "pause", cid)["campaign"]["status"],
                         "CAMPAIGN_STATUS_PAUSED")
        self.assertEqual(self.json("campaign", "resume", cid)["campaign"]["status"],
                         "CAMPAIGN_STATUS_RUNNING")
        self.assertEqual(self.json("campaign", "cancel", cid)["campaign"]["status"],
                         "CAMPAIGN_STATUS_CANCELLED")
        err = self.crmctl("campaign", "budget", cid, "--amount", "1", rc=1).stderr
        self.assertIn("budget of a campaign that is over cannot change", err)
        listed = self.json("campaign", "list", "--status", "cancelled")["campaigns"]
        self.assertIn(cid, [c["id"] for c in listed])
        out = self.crmctl("campaign", "show", cid).stdout
        self.assertRegex(out, r"(?m)^status: +cancelled$")
        self.assertRegex(out, r"(?m)^spent: +600\.00 EUR$")
        err = self.crmctl("campaign", "show", str(uuid.uuid4()), rc=1).stderr
        self.assertIn("campaign does not exist", err)

        # campaign complete (the service's hints name it): a draft cannot be
        # completed; a running campaign can, and then sends nothing more.
        done = self.campaign("Done")
        self.assertIn("campaign cannot be completed",
                      self.crmctl("campaign", "complete", done, rc=1).stderr)
        self.json("campaign", "message", done, "--channel", "email", "--subject", "Hi",
                  "--body", "Hello {{name}}")
        self.json("campaign", "launch", done)
        r = self.json("campaign", "complete", done)
        self.assertEqual(r["campaign"]["status"], "CAMPAIGN_STATUS_COMPLETED")

    # ---- segments and preferences ---------------------------------------------------

    def test_segments_and_preferences(self):
        tag = unique("vip")
        ann, ben, cal = (self.person("Ann", "FR", [tag]), self.person("Ben", "FR", [tag]),
                         self.person("Cal", "DE", [tag]))
        self.wait_people(ann, ben, cal)
        r = self.json("segment", "preview", "--rule", "country=fr", "--rule", "tag=" + tag)
        self.assertEqual((r["count"], sorted(r["customer_ids"])), ("2", sorted([ann, ben])))
        r = self.json("segment", "preview", "--rule", "!country=fr", "--rule", "tag=" + tag)
        self.assertEqual(r["customer_ids"], [cal])
        err = self.crmctl("segment", "create", "--name", "x", "--rule", "shoe-size=44",
                          rc=2).stderr
        self.assertIn("unknown rule kind", err)
        err = self.crmctl("segment", "create", "--name", "x", "--rule", "country=FRA",
                          rc=1).stderr
        self.assertIn("FIELD:  segment.rules[0].value", err)
        seg = self.json("segment", "create", "--name", "French " + tag, "--rule", "country=FR",
                        "--rule", "tag=" + tag)["segment"]
        self.assertEqual(len(seg["rules"]), 2)
        self.assertEqual(self.json("segment", "preview", seg["id"])["count"], "2")
        self.assertIn(seg["id"], [g["id"] for g in self.json("segment", "list")["segments"]])
        wait_for(lambda: sorted(self.json("segment", "members", seg["id"]).get(
            "customer_ids", [])) == sorted([ann, ben]), 20, "stored members")
        out = self.crmctl("segment", "members", seg["id"]).stdout
        self.assertTrue(out.startswith("2 members\n"), out)

        # A campaign excludes the segment; unknown segments and exclusions
        # given on create are refused.
        cid = self.campaign("Excluding " + tag)
        r = self.json("campaign", "exclude", cid, "--segment", seg["id"])
        self.assertEqual(r["campaign"]["exclude_segment_ids"], [seg["id"]])
        err = self.crmctl("campaign", "exclude", cid, "--segment", str(uuid.uuid4()),
                          rc=1).stderr
        self.assertIn("segment does not exist", err)
        err = self.crmctl("campaign", "create", "--json", json.dumps(
            {"campaign": {"exclude_segment_ids": [seg["id"]]}}), "--name", "X", "--channel",
            "email", "--currency", "eur", rc=1).stderr
        self.assertIn("exclusions are not set on create", err)

        # Always-on targeting: the flag needs --segment (usage, exit 2); the
        # campaign shows its always-on segment.
        err = self.crmctl("campaign", "target", cid, "--customer", ann, "--always-on",
                          rc=2).stderr
        self.assertIn("--always-on needs --segment", err)
        r = self.json("campaign", "target", cid, "--segment", seg["id"], "--always-on")
        self.assertEqual((r["added"], r["recipients"]), ("2", "2"))
        self.assertEqual(self.json("campaign", "show", cid)["campaign"]["always_on_segment_id"],
                         seg["id"])
        self.assertIn("always-on segment:   " + seg["id"],
                      self.crmctl("campaign", "show", cid).stdout)

        # Preferences: set whole, shown back; an unknown zone changes nothing.
        r = self.json("preference", "set", ann, "--opt-out", "email", "--opt-out", "sms",
                      "--preferred", "phone", "--window", "09:00-17:30", "--time-zone",
                      "Europe/Paris")
        p = self.json("preference", "show", ann)["preferences"]
        self.assertEqual(p, r["preferences"])
        self.assertEqual((p["opted_out"], p["preferred_channel"], p["window_start_minute"],
                          p["window_end_minute"]),
                         (["CHANNEL_EMAIL", "CHANNEL_SMS"], "CHANNEL_PHONE", 540, 1050))
        # Again with one option: only that one changes (the opt-outs stay);
        # --window 00:00-00:00 is "any time" again; --clear-opt-out is the
        # one way to remove an opt-out.
        q = self.json("preference", "set", ann, "--preferred", "email", "--window",
                      "00:00-00:00")["preferences"]
        self.assertEqual((q["opted_out"], q["preferred_channel"], q.get("window_start_minute", 0),
                          q.get("window_end_minute", 0), q["time_zone"]),
                         (["CHANNEL_EMAIL", "CHANNEL_SMS"], "CHANNEL_EMAIL", 0, 0,
                          "Europe/Paris"))
        q = self.json("preference", "set", ann, "--clear-opt-out", "sms")["preferences"]
        self.assertEqual(q["opted_out"], ["CHANNEL_EMAIL"])
        p = self.json("preference", "set", ann, "--opt-out", "sms", "--preferred", "phone",
                      "--window", "09:00-17:30")["preferences"]
        self.assertEqual(p, self.json("preference", "show", ann)["preferences"])
        err = self.crmctl("preference", "set", ann, "--time-zone", "Mars/Olympus", rc=1).stderr
        self.assertIn("time zone is unknown", err)
        self.assertEqual(self.json("preference", "show", ann)["preferences"], p)
        self.crmctl("preference", "set", ann, "--window", "9-5", rc=2)
        out = self.crmctl("preference", "show", ben).stdout
        self.assertRegex(out, r"(?m)^customer: +%s$" % ben)
        out = self.crmctl("preference", "show", ann).stdout
        self.assertRegex(out, r"(?m)^opted out: +email, sms$")
        self.assertRegex(out, r"(?m)^preferred: +phone$")
        self.assertRegex(out, r"(?m)^window from: +09:00$")
        self.assertRegex(out, r"(?m)^window to: +17:30$")
        self.assertNotIn("CHANNEL_", out)
        self.crmctl("preference", "set", ben, "--window", "08:00-12:00", "--utc-offset", "+03:30")
        out = self.crmctl("preference", "show", ben).stdout
        self.assertRegex(out, r"(?m)^utc offset: +\+03:30$")

        # Segment rules read as they are written for --rule, amounts in
        # their currency's minor units.
        out = self.crmctl("segment", "create", "--name", "Rich " + tag, "--rule",
                          "person-kind=customer", "--rule", "total-spent-at-least=1000.00 EUR",
                          "--rule", "total-spent-at-least=1500 JPY", "--rule",
                          "!last-order-within-days=30", "--rule", "low-satisfaction=2:any",
                          "--rule", "country=FR").stdout
        rules = out.split("rules:\n", 1)[1].splitlines()
        self.assertEqual([r.strip() for r in rules],
                         ["RULE", "person-kind=customer", "total-spent-at-least=1000.00 EUR",
                          "total-spent-at-least=1500 JPY", "!last-order-within-days=30",
                          "low-satisfaction=2:any", "country=FR"])


if __name__ == "__main__":
    unittest.main()
