"""Golden output of crmctl's text tables against a real crm-sales: people,
organisations, leads, deals and orders whose names are Persian, accented
or hold emoji, and amounts in currencies with 0, 2 and 3 minor digits.

Columns are padded by display width (what a terminal shows), not by
bytes: a Persian letter takes two bytes and one column, an emoji four
bytes and two columns, a zero-width non-joiner three bytes and none. Each
table is compared with the text expected (ids, which change from run to
run, replaced by names of the same width), and every line is checked to
start each column at the display column of its header.

crmctl runs as a subprocess in a C locale: it must still measure UTF-8."""
import json
import os
import re
import unicodedata
import unittest
import uuid

from crmtest import System, run_crmctl, wait_for

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

PERSIAN = "علی رضایی"          # Ali Rezaei
PERSIAN_ZWNJ = "مهسا نیک\u200cنام"  # Mahsa Niknam, with a zero-width non-joiner
ACCENTED = "Zoë Ångström"
EMOJI = "Chef 🍕 Pizza"


def width(s):
    """Display width as a terminal shows it (as wcwidth counts)."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


class CrmctlTablesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        try:
            cls.sys.start_bus()
            for peer in ("marketing", "support", "analytics"):
                cls.sys.add_probe(peer)
            cls.sys.add_service("sales", "crm-sales", ("marketing", "support", "analytics"),
                                start=True)
        except Exception:
            cls.sys.close()
            raise
        # A C locale: crmctl falls back to UTF-8 to measure text.
        cls.env = dict(os.environ, CRM_SERVICES="sales=" + cls.sys.endpoints["sales"],
                       LANG="C", LC_ALL="C", CRM_CONFIG="/nonexistent/crm-config")

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()

    def crmctl(self, *args, rc=0):
        return run_crmctl(self, self.env, args, rc, timeout=120).stdout

    def id_of(self, *args):
        out = self.crmctl(*args)
        return UUID.search(out).group(0)

    def golden(self, out, ids, expected):
        """out with each id replaced by its name (padded to the id's 36
        columns) equals expected; every column starts under its header."""
        for uid, name in ids.items():
            out = out.replace(uid, "%-36s" % name)
        self.assertEqual(out, expected, "\n" + out)
        lines = out.splitlines()
        header = lines[0]
        starts = [m.start() for m in re.finditer(r"(?:^|  )(\S)", header)]
        starts = [s if header[s] != " " else s + 2 for s in starts]
        for line in lines[1:]:
            if line.startswith("("):
                continue  # the "(3 people)" line
            for col in starts[1:]:
                # The text before a column's start takes exactly `col`
                # columns on screen and ends with the two spaces of the gap.
                cut, w = 0, 0
                while w < col and cut < len(line):
                    w += width(line[cut])
                    cut += 1
                self.assertEqual(w, col, "%r: column %d" % (line, col))
                self.assertTrue(line[:cut].endswith("  "), "%r: column %d" % (line, col))

    def test_people_and_organisations(self):
        owner = "golden-" + uuid.uuid4().hex[:6]
        ids = {}
        for n, (name, country) in enumerate(((PERSIAN, "IR"), (ACCENTED, "SE"), (EMOJI, "IT"),
                                             (PERSIAN_ZWNJ, "IR"), ("Ada Lovelace", "GB")), 1):
            email = "p%d.%s@golden.example" % (n, owner)
            ids[self.id_of("person", "register", "--name", name, "--email", email, "--owner",
                           owner, "--country", country, "--title", "ceo" if n == 3 else "")] \
                = "person-%d" % n
        self.golden(self.crmctl("person", "list", "--owner", owner), ids, (
            "ID                                    NAME           KIND      EMAIL                            TITLE  COUNTRY  OWNER\n"
            "person-1                              علی رضایی      prospect  p1.{o}@golden.example  -      IR       {o}\n"
            "person-2                              Zoë Ångström   prospect  p2.{o}@golden.example  -      SE       {o}\n"
            "person-3                              Chef 🍕 Pizza  prospect  p3.{o}@golden.example  ceo    IT       {o}\n"
            "person-4                              مهسا نیک\u200cنام    prospect  p4.{o}@golden.example  -      IR       {o}\n"
            "person-5                              Ada Lovelace   prospect  p5.{o}@golden.example  -      GB       {o}\n"
            "(5 people)\n").format(o=owner))

        # Persian digits in a phone number are digits.
        pid = self.id_of("person", "register", "--name", PERSIAN, "--phone",
                         "۰۹۱۲ ۳۴۵ ۶۷۸۹", "--email", "phone.%s@golden.example" % owner)
        self.assertIn("09123456789", self.crmctl("person", "show", pid))

        oids = {}
        for n, (name, domain) in enumerate((("شرکت نور", "noor.example"),
                                            ("Café Ünïcode", "cafe.example"),
                                            ("Rocket 🚀 Labs", "rocket.example")), 1):
            oids[self.id_of("org", "create", "--name", name, "--domain", domain, "--owner",
                            owner)] = "org-%d" % n
        self.golden(self.crmctl("org", "list", "--owner", owner), oids, (
            "ID                                    NAME            DOMAIN          INDUSTRY  COUNTRY  OWNER\n"
            "org-1                                 شرکت نور        noor.example    -         -        %s\n"
            "org-2                                 Café Ünïcode    cafe.example    -         -        %s\n"
            "org-3                                 Rocket 🚀 Labs  rocket.example  -         -        %s\n"
            "(3 organisations)\n") % (owner, owner, owner))

    def test_deals_and_orders_in_their_currencies(self):
        owner = "golden-" + uuid.uuid4().hex[:6]
        person = self.id_of("person", "register", "--name", PERSIAN, "--email",
                            "buyer.%s@golden.example" % owner)
        ids = {person: "buyer"}
        for n, (title, amount, cur) in enumerate((("قرارداد سالانه", "1500", "JPY"),
                                                  ("Pizza 🍕 franchise", "1234.50", "EUR"),
                                                  ("Ölfeld", "1.250", "KWD")), 1):
            ids[self.id_of("deal", "create", "--title", title, "--person", person, "--amount",
                           amount, "--currency", cur, "--owner", owner, "--close",
                           "2027-03-2%d" % n)] = "deal-%d" % n
        self.golden(self.crmctl("deal", "list", "--owner", owner), ids, (
            "ID                                    TITLE               STAGE          STATUS  AMOUNT       CLOSE       OWNER\n"
            "deal-1                                قرارداد سالانه      Qualification  open    1500 JPY     2027-03-21  {o}\n"
            "deal-2                                Pizza 🍕 franchise  Qualification  open    1234.50 EUR  2027-03-22  {o}\n"
            "deal-3                                Ölfeld              Qualification  open    1.250 KWD    2027-03-23  {o}\n"
            "(3 deals)\n").format(o=owner))

        for n, (item, cur) in enumerate((("T1:چای:2:980", "JPY"), ("T2:Crème 🍰:3:4.50", "EUR"),
                                         ("T3:Dates:1:2.125", "KWD")), 1):
            ids[self.id_of("order", "create", "--person", person, "--item", item, "--currency",
                           cur, "--at", "2026-11-0%dT10:00:00Z" % n)] = "order-%d" % n
        # The customer by name, not by id (crmctl looks it up in sales).
        self.golden(self.crmctl("order", "list", "--person", person), ids, (
            "ID                                    PERSON     ITEMS  TOTAL      ORDERED\n"
            "order-1                               علی رضایی  1      1960 JPY   2026-11-01T10:00Z\n"
            "order-2                               علی رضایی  1      13.50 EUR  2026-11-02T10:00Z\n"
            "order-3                               علی رضایی  1      2.125 KWD  2026-11-03T10:00Z\n"
            "(3 orders)\n"))
        self.assertNotIn(person, self.crmctl("order", "list", "--person", person))
        # A record shows the name and the id to act on.
        self.assertRegex(self.crmctl("deal", "create", "--title", "x", "--person", person,
                                     "--amount", "1", "--currency", "EUR"),
                         r"(?m)^person: +علی رضایی \(%s\)$" % person)
        # An order's items are priced in the order's currency.
        out = self.crmctl("order", "create", "--person", person, "--item", "T4:سماور:1:2500",
                          "--item", "T5:Tea 🍵:12:15", "--currency", "JPY", "--at",
                          "2026-11-04T10:00:00Z")
        self.assertTrue(out.endswith("items:\n"
                                     "CODE  NAME    QTY  UNIT PRICE\n"
                                     "T4    سماور   1    2500\n"
                                     "T5    Tea 🍵  12   15\n"), out)
        self.assertRegex(out, r"(?m)^total: +2680 JPY$")
        # -o json is as it was: minor units, whatever the currency.
        self.assertIn('"total_minor":"1960"', self.crmctl("order", "list", "--person", person,
                                                         "-o", "json").replace(" ", ""))


    def test_activities_name_their_customers(self):
        owner = "golden-" + uuid.uuid4().hex[:6]
        ids, people = {}, []
        for n, name in enumerate((PERSIAN, EMOJI, PERSIAN_ZWNJ), 1):
            people.append(self.id_of("person", "register", "--name", name, "--email",
                                     "a%d.%s@golden.example" % (n, owner)))
        for n, (kind, subject, who) in enumerate((("call", "تماس پیگیری", 0),
                                                  ("meeting", "Demo 🎬 day", 1),
                                                  ("email", "Angebot für Zoë", 2)), 1):
            ids[self.id_of("activity", "schedule", "--kind", kind, "--person", people[who],
                           "--subject", subject, "--due", "2027-01-0%dT09:00:00Z" % n,
                           "--owner", owner)] = "activity-%d" % n
        self.golden(self.crmctl("activity", "list", "--owner", owner), ids, (
            "ID                                    KIND     STATUS     DUE                SUBJECT          PERSON         OWNER\n"
            "activity-1                            call     scheduled  2027-01-01T09:00Z  تماس پیگیری      علی رضایی      {o}\n"
            "activity-2                            meeting  scheduled  2027-01-02T09:00Z  Demo 🎬 day      Chef 🍕 Pizza  {o}\n"
            "activity-3                            email    scheduled  2027-01-03T09:00Z  Angebot für Zoë  مهسا نیک\u200cنام    {o}\n"
            "(3 activities)\n").format(o=owner))
        # --no-headers: the rows alone, aligned the same.
        bare = self.crmctl("activity", "list", "--owner", owner, "--no-headers")
        self.assertNotIn("SUBJECT", bare)
        self.assertIn("Demo 🎬 day      Chef 🍕 Pizza  " + owner, bare)
        # -o json is as it was: ids, not names.
        doc = json.loads(self.crmctl("activity", "list", "--owner", owner, "-o", "json"))
        self.assertEqual(sorted(a["person_id"] for a in doc["activities"]), sorted(people))


    def test_leads(self):
        owner = "golden-" + uuid.uuid4().hex[:6]
        ids = {}
        for n, (name, company, source) in enumerate(((PERSIAN, "شرکت نور", "web"),
                                                     (EMOJI, "Pizza 🍕 GmbH", "referral"),
                                                     (ACCENTED, "Société Générale", "event")), 1):
            # Arabic-Indic digits in the phone, as people type them.
            ids[self.id_of("lead", "create", "--name", name, "--email",
                           "l%d.%s@golden.example" % (n, owner), "--company", company,
                           "--source", source, "--owner", owner,
                           "--phone", "٠٩١٢ ٣٤٥ ٦٧٨%d" % n)] = "lead-%d" % n
        self.golden(self.crmctl("lead", "list", "--owner", owner), ids, (
            "ID                                    NAME           EMAIL                            COMPANY           SOURCE    STATUS  OWNER\n"
            "lead-1                                علی رضایی      l1.{o}@golden.example  شرکت نور          web       new     {o}\n"
            "lead-2                                Chef 🍕 Pizza  l2.{o}@golden.example  Pizza 🍕 GmbH     referral  new     {o}\n"
            "lead-3                                Zoë Ångström   l3.{o}@golden.example  Société Générale  event     new     {o}\n"
            "(3 leads)\n").format(o=owner))
        doc = json.loads(self.crmctl("lead", "list", "--owner", owner, "-o", "json"))
        self.assertEqual(sorted(l["phone"] for l in doc["leads"]),
                         ["09123456781", "09123456782", "09123456783"])


class CrmctlNamesTest(unittest.TestCase):
    """Tables of marketing and analytics that name customers: segment
    preview and members, the KPI and weekly activity reports, with real
    crm-sales, crm-marketing and crm-analytics (support a probe)."""

    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        try:
            cls.sys.start_bus()
            cls.sys.add_probe("support")
            cls.sys.add_service("sales", "crm-sales", ("marketing", "support", "analytics"))
            cls.sys.add_service("marketing", "crm-marketing", ("sales", "support", "analytics"))
            cls.sys.add_service("analytics", "crm-analytics", ("sales", "marketing", "support"))
            for name in ("sales", "marketing", "analytics"):
                cls.sys.procs[name].start('"event":"service.ready"')
        except Exception:
            cls.sys.close()
            raise
        cls.env = dict(os.environ, LANG="C", LC_ALL="C", CRM_CONFIG="/nonexistent/crm-config",
                       CRM_SERVICES=",".join("%s=%s" % (n, cls.sys.endpoints[n])
                                             for n in ("sales", "marketing", "analytics")))

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()

    def crmctl(self, *args, rc=0, env=None):
        return run_crmctl(self, env or self.env, args, rc, timeout=120).stdout

    def test_segments_and_reports_name_customers(self):
        tag = "golden" + uuid.uuid4().hex[:6]
        people = {}
        for n, name in enumerate((PERSIAN, EMOJI, ACCENTED), 1):
            out = self.crmctl("person", "register", "--name", name, "--tag", tag, "--email",
                              "s%d.%s@golden.example" % (n, tag), "--owner", tag)
            people[UUID.search(out).group(0)] = name

        def preview():
            doc = json.loads(self.crmctl("segment", "preview", "--rule", "tag=" + tag,
                                         "-o", "json"))
            return doc if len(doc.get("customer_ids", [])) == 3 else None
        doc = wait_for(preview, 30, "marketing to know the three people")
        order = doc["customer_ids"]
        rows = "".join("%s  %s\n" % (i, people[i]) for i in order)
        expected = "3 members\nID                                    NAME\n" + rows
        self.assertEqual(self.crmctl("segment", "preview", "--rule", "tag=" + tag), expected)
        seg = json.loads(self.crmctl("segment", "create", "--name", "Golden " + tag, "--rule",
                                     "tag=" + tag, "-o", "json"))["segment"]["id"]
        wait_for(lambda: len(json.loads(self.crmctl("segment", "members", seg, "-o", "json"))
                             .get("customer_ids", [])) == 3, 30, "stored members")
        members = self.crmctl("segment", "members", seg)
        self.assertEqual(sorted(members.splitlines()[2:]), sorted(rows.splitlines()))
        # Without sales to ask, the ids alone (and "-" for the name).
        env = dict(self.env, CRM_SERVICES="marketing=" + self.sys.endpoints["marketing"])
        out = self.crmctl("segment", "members", seg, env=env)
        for i in order:
            self.assertIn("%s  -\n" % i, out)

        # The weekly report: next week's activities name their customer,
        # aligned by width.
        persian = [i for i, n in people.items() if n == PERSIAN][0]
        emoji = [i for i, n in people.items() if n == EMOJI][0]
        for who, subject, due in ((persian, "تماس", "2027-01-05T09:00:00Z"),
                                  (emoji, "Demo 🎬", "2027-01-06T10:30:00Z")):
            self.crmctl("activity", "schedule", "--kind", "call", "--person", who, "--subject",
                        subject, "--due", due, "--owner", tag)

        def weekly():
            out = self.crmctl("report", "weekly-activity", "--at", "2026-12-30T12:00:00Z",
                              "--rep", tag)
            return out if "Chef" in out else None
        # A marketing record names its customer too.
        self.assertRegex(self.crmctl("preference", "show", persian),
                         r"(?m)^customer: +علی رضایی \(%s\)$" % persian)
        # The pipeline report names the default pipeline, which sales made
        # in a migration (no event told analytics its name), by its name.
        deal = json.loads(self.crmctl("deal", "create", "--title", "Golden", "--person", persian,
                                      "--amount", "10", "--currency", "EUR", "--owner", tag,
                                      "-o", "json"))["deal"]
        wait_for(lambda: deal["pipeline_id"] in self.crmctl("report", "pipeline", "-o", "json"),
                 30, "analytics to see the deal")
        out = self.crmctl("report", "pipeline")
        self.assertNotIn(deal["pipeline_id"], out)
        self.assertRegex(out, r"(?m)^Sales +Qualification +EUR +1 +10\.00 +1\.00$")

        out = wait_for(weekly, 30, "analytics to see the activities")
        nx = out.split("next week for %s\n" % tag, 1)[1]
        self.assertEqual(nx, (
            "DUE                KIND  SUBJECT  CUSTOMER\n"
            "2027-01-05T09:00Z  call  تماس     علی رضایی\n"
            "2027-01-06T10:30Z  call  Demo 🎬  Chef 🍕 Pizza\n"), out)


if __name__ == "__main__":
    unittest.main()
