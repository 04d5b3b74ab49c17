"""crmctl's support verbs (ticket ..., sla ...) against a real crm-support
through its command socket: a ticket's whole life, the list filters, the
SLA policies and calendars, customers' mails (through real SMTP: aiosmtpd
as the help desk's mail server piping each message to `crmctl ticket
email`), and bad input, which gets a clear error, an exit code and no
change.

One system for the class (test_support_service.SupportSystem: a bus, probes
for sales and marketing, crm-support with two agents). crmctl runs as a
subprocess; tests synchronise on its exit, never on sleeps."""
import json
import os
import re
import smtplib
import subprocess
import unittest
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from crmtest import BIN, free_port, run_crmctl
from test_support_service import SupportSystem, customer_id, marketing_pb2, unique

CRMCTL = os.path.join(BIN, "crmctl")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class PipeToCrmctl:
    """The help desk's mail server: each message it accepts is piped to
    `crmctl ticket email -`, as a pipe transport (postfix, exim) would, and
    crmctl's exit status becomes the SMTP answer: 0 accepted, 1 refused for
    good (550), anything else to be retried (451)."""

    def __init__(self, env):
        self.env = env
        self.runs = []

    async def handle_DATA(self, server, session, envelope):
        p = subprocess.run([CRMCTL, "ticket", "email", "-", "-o", "json"], env=self.env,
                           input=envelope.content, capture_output=True, timeout=60)
        self.runs.append(p)
        if p.returncode == 0:
            return "250 OK"
        return "550 refused" if p.returncode == 1 else "451 try again later"


class CrmctlSupportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SupportSystem({"SUPPORT_AGENTS": "ana,ben"})
        cls.env = dict(os.environ, CRM_SERVICES="support=" + cls.s.sys.endpoints["support"])
        cls.mx = PipeToCrmctl(cls.env)
        cls.mx_port = free_port()
        cls.smtp = Controller(cls.mx, hostname="127.0.0.1", port=cls.mx_port)
        cls.smtp.start()

    @classmethod
    def tearDownClass(cls):
        cls.smtp.stop()
        cls.s.close()

    def mail(self, sender, subject, text, html=None, msgid=None):
        """Sends a mail to the help desk through real SMTP; the server's
        answer (250, or an SMTPDataError) and the JSON crmctl printed."""
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = sender, "help@crm.example", subject
        if msgid:
            m["Message-ID"] = msgid
        m.set_content(text)
        if html:
            m.add_alternative(html, subtype="html")
        with smtplib.SMTP("127.0.0.1", self.mx_port, timeout=30) as c:
            c.send_message(m)
        return json.loads(self.mx.runs[-1].stdout)

    def crmctl(self, *args, rc=0):
        return run_crmctl(self, self.env, args, rc, timeout=60)

    def json(self, *args):
        return json.loads(self.crmctl(*(list(args) + ["-o", "json"])).stdout)

    def refused(self, *args, rc=1, says=()):
        """The verb fails with exit `rc`, its stderr says each of `says`, and
        the service's tables and outbox are unchanged."""
        s = self.s
        before = (s.head(), s.q("SELECT * FROM ticket ORDER BY id"),
                  s.q("SELECT * FROM sla_policy ORDER BY priority"),
                  s.q("SELECT * FROM sla_calendar"), s.count("ticket_message"))
        p = self.crmctl(*args, rc=rc)
        for text in says:
            self.assertIn(text, p.stderr)
        self.assertEqual(before, (s.head(), s.q("SELECT * FROM ticket ORDER BY id"),
                                  s.q("SELECT * FROM sla_policy ORDER BY priority"),
                                  s.q("SELECT * FROM sla_calendar"), s.count("ticket_message")))
        return p

    def status(self, ticket_id):
        return self.json("ticket", "show", ticket_id)["ticket"]["status"]

    def test_ticket_life(self):
        email = "%s@verbs.io" % unique("lee")
        t = self.json("ticket", "open", "--email", email, "--name", "Lee Park", "--subject",
                      "Invoice is wrong", "--type", "complaint", "--channel", "email",
                      "--priority", "high", "--tag", "product:billing", "--tag", "topic:invoice")
        t = t["ticket"]
        tid = t["id"]
        self.assertEqual((t["customer_id"], t["type"], t["priority"], t["status"], t["tags"]),
                         (customer_id(email), "TICKET_TYPE_COMPLAINT", "TICKET_PRIORITY_HIGH",
                          "TICKET_STATUS_NEW", ["product:billing", "topic:invoice"]))
        # Readable output: the verb's word, then the record.
        p = self.crmctl("ticket", "assign", tid, "ana", "--team", "billing")
        self.assertRegex(p.stdout, r"^ticket %s assigned\n" % tid)
        self.assertRegex(p.stdout, r"status: +open\n")
        self.assertRegex(p.stdout, r"assignee: +ana\n")
        # An agent who is not in SUPPORT_AGENTS: the service's error, exit 1.
        self.refused("ticket", "assign", tid, "zed", says=(
            "support.ticket.assign on support failed", "agent does not exist", "assignee"))
        self.crmctl("ticket", "note", tid, "customer is upset", "--author", "ana")
        r = self.json("ticket", "reply", tid, "--body", "We are checking the invoice")
        self.assertEqual(r["messages"][0]["kind"], "TICKET_MESSAGE_KIND_PUBLIC_REPLY")
        self.assertEqual(self.json("ticket", "pend", tid, "--reason", "asked for the invoice")
                         ["ticket"]["status"], "TICKET_STATUS_PENDING")
        r = self.json("ticket", "reply", tid, "here it is", "--from-customer")
        self.assertEqual((r["ticket"]["status"], r["messages"][0]["kind"],
                          r["messages"][0]["author"]),
                         ("TICKET_STATUS_OPEN", "TICKET_MESSAGE_KIND_CUSTOMER_MESSAGE", "Lee Park"))
        self.assertEqual(self.json("ticket", "hold", tid)["ticket"]["status"],
                         "TICKET_STATUS_ON_HOLD")
        self.assertEqual(self.json("ticket", "reopen", tid)["ticket"]["status"],
                         "TICKET_STATUS_OPEN")
        u = self.json("ticket", "priority", tid, "--priority", "urgent", "--reason", "escalated")
        self.assertEqual((u["ticket"]["priority"], u["ticket"]["resolution_target_minutes"]),
                         ("TICKET_PRIORITY_URGENT", 240))
        # Closing a ticket that was never resolved, rating an open one.
        self.refused("ticket", "close", tid, says=("cannot close a ticket that is open",
                                                   "failed_precondition"))
        self.refused("ticket", "rate", tid, "--rating", "4", says=("cannot rate",))
        r = self.json("ticket", "resolve", tid, "--category", "fixed", "--text",
                      "credit note sent", "--tag", "interest:e-invoicing")
        self.assertEqual((r["ticket"]["status"], r["ticket"]["resolution"]["category"]),
                         ("TICKET_STATUS_RESOLVED", "fixed"))
        self.assertIn("interest:e-invoicing", r["ticket"]["tags"])
        # A rating outside 1..5 is the service's call: exit 1, nothing changed.
        self.refused("ticket", "rate", tid, "--rating", "7", says=("rating",))
        r = self.json("ticket", "rate", tid, "--rating", "2", "--comment", "slow")
        self.assertEqual(r["ticket"]["satisfaction"]["rating"], 2)
        self.json("ticket", "reopen", tid, "--reason", "still wrong")
        self.json("ticket", "resolve", tid, "--category", "fixed")
        self.assertEqual(self.json("ticket", "close", tid)["ticket"]["status"],
                         "TICKET_STATUS_CLOSED")
        # show: the record, what marketing says about contacting the
        # customer, the conversation, oldest first.
        prefs = marketing_pb2.ContactPreferences(
            customer_id=t["customer_id"], preferred_channel=marketing_pb2.CHANNEL_PHONE,
            opted_out=[marketing_pb2.CHANNEL_EMAIL])
        self.s.emit("marketing", "crm.marketing.preferences.changed.v1", t["customer_id"],
                    preferences_changed=marketing_pb2.PreferencesChanged(preferences=prefs))
        self.s.wait_applied("support.preferences", "marketing")
        p = self.crmctl("ticket", "show", tid)
        self.assertRegex(p.stdout, r"do not contact: +email\n")
        self.assertRegex(p.stdout, r"preferred channel: +phone\n")
        self.assertRegex(p.stdout, r"subject: +Invoice is wrong\n")
        self.assertRegex(p.stdout, r"status: +closed\n")
        self.assertRegex(p.stdout, r"resolution: +fixed\n")
        self.assertRegex(p.stdout, r"rating: +2\n")
        conv = p.stdout.split("conversation:\n", 1)[1]
        self.assertLess(conv.index("customer is upset"), conv.index("here it is"))
        self.assertIn("internal-note", conv)
        self.assertIn("customer-message", conv)
        shown = self.json("ticket", "show", tid)
        self.assertEqual([m["body"] for m in shown["messages"]],
                         ["customer is upset", "We are checking the invoice", "here it is"])
        # Unknown ticket and unknown customer.
        self.refused("ticket", "show", "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10",
                     says=("ticket does not exist",))
        self.refused("ticket", "open", "--customer", "0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10",
                     "--subject", "x", says=("customer does not exist", "ticket.customer_id"))

    def test_list_filters(self):
        tag = unique("f")
        a = self.json("ticket", "open", "--email", "%s-a@list.io" % tag, "--subject", "a",
                      "--priority", "urgent", "--assignee", "ben")["ticket"]
        b = self.json("ticket", "open", "--email", "%s-b@list.io" % tag, "--subject", "b",
                      "--priority", "low")["ticket"]
        self.json("ticket", "pend", b["id"])

        def ids(*args):
            r = self.json("ticket", "list", "--all", *args)
            self.assertNotIn("next_page_token", r)
            return {t["id"] for t in r["tickets"]} & {a["id"], b["id"]}
        self.assertEqual(ids(), {a["id"], b["id"]})
        self.assertEqual(ids("--customer", a["customer_id"]), {a["id"]})
        self.assertEqual(ids("--status", "pending"), {b["id"]})
        self.assertEqual(ids("--priority", "urgent"), {a["id"]})
        self.assertEqual(ids("--assignee", "ben"), {a["id"]})
        self.assertEqual(ids("--status", "pending", "--priority", "urgent"), set())
        # Nothing of these is breached yet (targets are hours away); the
        # breached filter itself is checked with a breached ticket.
        self.assertEqual(ids("--breached"), set())
        self.s.q("UPDATE ticket SET res_breached = true WHERE id = %s", b["id"])
        self.assertEqual(ids("--breached"), {b["id"]})
        # A ticket late only with its first response is breached, and its
        # BREACHED column says which target (it printed "-").
        self.s.q("UPDATE ticket SET fr_breached = true WHERE id = %s", a["id"])
        self.assertEqual(ids("--breached"), {a["id"], b["id"]})
        table = self.crmctl("ticket", "list", "--breached", "--all").stdout.splitlines()
        col = table[0].index("BREACHED")
        rows = {line.split()[0]: line for line in table[1:]}
        self.assertEqual(rows[a["id"]][col:], "first response", table)
        self.assertEqual(rows[b["id"]][col:], "resolution", table)
        self.s.q("UPDATE ticket SET fr_breached = true WHERE id = %s", b["id"])
        table = self.crmctl("ticket", "list", "--breached", "--all").stdout.splitlines()
        rows = {line.split()[0]: line for line in table[1:]}
        self.assertEqual(rows[b["id"]][col:], "first response, resolution", table)
        # Pages: one ticket per page, followed to the end by --all.
        r = self.json("ticket", "list", "--customer", a["customer_id"], "--limit", "1")
        self.assertEqual([t["id"] for t in r["tickets"]], [a["id"]])
        p = self.crmctl("ticket", "list", "--priority", "low", "--status", "pending")
        self.assertIn(b["id"], p.stdout)
        self.assertRegex(p.stdout, r"\(\d+ tickets?\)")
        # Usage errors: exit 2 before anything is sent.
        self.refused("ticket", "list", "--status", "lost", rc=2,
                     says=('invalid value "lost" for --status', "on-hold"))
        self.refused("ticket", "open", "--email", "x@list.io", rc=2,
                     says=("--subject is required",))
        self.refused("ticket", "open", "--email", "x@list.io", "--subject", "s", "--type",
                     "rant", rc=2, says=("feature-request",))

    def test_list_aligns_persian_and_emoji_by_width(self):
        """Subjects in Persian and with emoji: every column of `ticket list`
        starts at the display column of its header (test_crmctl_tables
        holds the golden tables; the ticket list has times that move)."""
        from test_crmctl_tables import width
        email = "%s@list.io" % unique("w")
        for subject in ("سفارش من نرسید", "Broken 🍕 oven", "Zoë's invoice"):
            self.json("ticket", "open", "--email", email, "--subject", subject, "--assignee",
                      "ana")
        cid = self.json("ticket", "list", "--all")["tickets"]
        cid = [t for t in cid if t["requester_email"] == email][0]["customer_id"]
        lines = self.crmctl("ticket", "list", "--customer", cid).stdout.splitlines()
        self.assertEqual(len(lines), 5, lines)
        header = lines[0]
        starts = [i + 2 for i in range(len(header) - 2)
                  if header[i:i + 2] == "  " and header[i + 2] != " "]
        for line in lines[1:4]:
            for col in starts:
                cut, w = 0, 0
                while w < col:
                    w += width(line[cut])
                    cut += 1
                self.assertEqual(w, col, line)
                self.assertTrue(line[:cut].endswith("  ") and line[cut] != " ", (line, col))
        self.assertIn("سفارش من نرسید", "\n".join(lines))

    def test_sla_verbs(self):
        pols = self.json("sla", "policy", "list")["policies"]
        self.assertEqual([(p["priority"], p["first_response_minutes"]) for p in pols],
                         [("TICKET_PRIORITY_LOW", 960), ("TICKET_PRIORITY_NORMAL", 480),
                          ("TICKET_PRIORITY_HIGH", 240), ("TICKET_PRIORITY_URGENT", 60)])
        p = self.crmctl("sla", "policy", "set", "--priority", "high", "--first-response", "120",
                        "--resolution", "720")
        self.assertRegex(p.stdout, r"first response min: +120\n")
        self.assertEqual(self.s.q("SELECT first_response_minutes, resolution_minutes"
                                  " FROM sla_policy WHERE priority = 3"), [(120, 720)])
        p = self.crmctl("sla", "policy", "list")
        self.assertRegex(p.stdout, r"high +120 +720")
        self.refused("sla", "policy", "set", "--priority", "high", "--first-response", "-5",
                     "--resolution", "720", says=("first_response_minutes",))
        self.refused("sla", "policy", "set", "--priority", "high", "--first-response", "0",
                     "--resolution", "720", rc=2, says=("--first-response is required",))
        # Calendars: a zone, then a fixed offset.
        p = self.crmctl("sla", "calendar", "set", "--hours", "mon-fri=09:00-17:00",
                        "--hours", "sat=10:00-13:30", "--holiday", "2026-12-25",
                        "--zone", "Europe/Berlin")
        self.assertRegex(p.stdout, r"zone: +Europe/Berlin\n")
        self.assertRegex(p.stdout, r"tickets: +\d+ running tickets moved to it\n")
        self.assertIn("sat             10:00-13:30", p.stdout)
        cal = self.json("sla", "calendar", "show")["calendar"]
        self.assertEqual((cal["time_zone"], cal["holidays"], len(cal["hours"])),
                         ("Europe/Berlin", ["2026-12-25"], 6))
        self.assertEqual(cal["hours"][5], {"weekday": 6, "open_minute": 600,
                                           "close_minute": 810})
        self.refused("sla", "calendar", "set", "--hours", "mon=09:00-17:00", "--zone",
                     "Atlantis/Capital", says=("time zone does not exist",))
        self.refused("sla", "calendar", "set", "--hours", "mon-fri=9-17", rc=2,
                     says=("DAY[-DAY]=HH:MM-HH:MM",))
        # A range wraps around the week: Iran's Saturday-to-Wednesday week
        # with a short Thursday, as its people write it.
        cal = self.json("sla", "calendar", "set", "--hours",
                        "sat-wed=08:00-16:00,thu=08:00-12:00", "--zone", "Asia/Tehran")
        self.assertEqual([(h["weekday"], h.get("open_minute", 0), h["close_minute"])
                          for h in cal["calendar"]["hours"]],
                         [(6, 480, 960), (7, 480, 960), (1, 480, 960), (2, 480, 960),
                          (3, 480, 960), (4, 480, 720)])
        # Shown in the order given: the week from Saturday.
        p = self.crmctl("sla", "calendar", "show")
        self.assertIn("sat             08:00-16:00\nsun             08:00-16:00\n"
                      "mon             08:00-16:00\n", p.stdout)
        self.assertIn("wed             08:00-16:00\nthu             08:00-12:00\n", p.stdout)
        self.assertNotIn("fri ", p.stdout)
        p = self.crmctl("sla", "calendar", "set", "--hours", "fri-mon=09:00-17:00", "--dry-run")
        self.assertEqual([h["weekday"] for h in
                          json.loads(p.stdout)["request"]["calendar"]["hours"]], [5, 6, 7, 1])
        # A day inside a range given again is refused by the service: nothing changes.
        self.refused("sla", "calendar", "set", "--hours", "sat-wed=08:00-16:00,mon=08:00-12:00",
                     says=("weekday given twice",))
        self.refused("sla", "calendar", "set", "--hours", "mon=09:00-17:00", "--utc-offset",
                     "+25:00", rc=2, says=("+HH:MM",))
        cal = self.json("sla", "calendar", "set", "--hours", "mon-fri=08:00-16:00",
                        "--utc-offset", "-05:30")["calendar"]
        self.assertEqual((cal.get("time_zone", ""), cal["utc_offset_minutes"]), ("", -330))
        # --dry-run prints the request and sends nothing.
        p = self.refused("sla", "calendar", "set", "--hours", "sun=00:00-24:00", "--dry-run",
                         rc=0)
        self.assertEqual(json.loads(p.stdout)["request"]["calendar"]["hours"],
                         [{"weekday": 7, "close_minute": 1440}])


    def test_ticket_list_golden(self):
        """The ticket table with Persian, emoji and accented subjects,
        padded by display width in a C locale; the due instants, which
        follow the clock, replaced by a mark of their width."""
        email = "%s@golden.example" % unique("golden")
        cid = customer_id(email)
        subjects = ("چاپگر کار نمی\u200cکند", "Pizza 🍕 oven broken", "Facture erronée")
        for subject, prio, agent in zip(subjects, ("high", "urgent", "low"), ("ana", "ben", "")):
            self.json("ticket", "open", "--email", email, "--subject", subject, "--priority",
                      prio, "--type", "problem", *(["--assignee", agent] if agent else []))
        env = dict(self.env, LANG="C", LC_ALL="C")
        out = run_crmctl(self, env, ["ticket", "list", "--customer", cid], 0, timeout=60).stdout
        doc = self.json("ticket", "list", "--customer", cid)
        # A due instant shows its seconds when they are not zero (a ticket
        # opened within the calendar's hours, which test_sla_verbs set:
        # weekdays from 13:30 to 21:30 UTC): each is replaced by a mark of
        # its width, and the column is as wide as its widest.
        due = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?Z")
        dw = max([len(m) for m in due.findall(out)] or [17])
        out = due.sub(lambda m: "<due instant>".ljust(len(m.group())), out)
        order = [subjects.index(t["subject"]) for t in doc["tickets"]]
        for t, n in zip(doc["tickets"], order):
            out = out.replace(t["id"], "%-36s" % ("ticket-%d" % n))
        row = {
            0: "چاپگر کار نمی\u200cکند      {st}  high      problem  {e}  ana       {due}  -\n",
            1: "Pizza 🍕 oven broken  {st}  urgent    problem  {e}  ben       {due}  -\n",
            2: "Facture erronée       {st}  low       problem  {e}  -         {due}  -\n"}
        e = email + " " * max(0, 9 - len(email))
        expected = ("ID                                    SUBJECT               STATUS  PRIORITY  "
                    "TYPE     REQUESTER%s  ASSIGNEE  %s  BREACHED\n"
                    % (" " * (len(e) - 9), "DUE".ljust(dw)))
        for t, n in zip(doc["tickets"], order):
            st = "%-6s" % t["status"][len("TICKET_STATUS_"):].lower()
            expected += "%-38s" % ("ticket-%d" % n) + row[n].format(st=st, e=e,
                                                                    due="<due instant>".ljust(dw))
        expected += "(3 tickets)\n"
        self.assertEqual(out, expected, "\n" + out)

    def test_customer_mail(self):
        s = self.s
        email = "%s@mail.io" % unique("kim")
        # A new request by mail: a ticket on the email channel, the sender
        # registered under the identity rule's id.
        r = self.mail("Kim Ode <%s>" % email.upper(), "Printer jams", "It jams on page 2.",
                      html="<p>It jams on page 2.</p>")
        t = r["ticket"]
        self.assertEqual((t["channel"], t["subject"], t["description"], t["requester_name"],
                          t["customer_id"]),
                         ("TICKET_CHANNEL_EMAIL", "Printer jams", "It jams on page 2.", "Kim Ode",
                          customer_id(email)))
        tid = t["id"]
        self.json("ticket", "reply", tid, "Which printer model?")
        self.json("ticket", "pend", tid)
        # The customer answers by mail: quoted lines dropped, the ticket
        # opens again and its SLA clock resumes.
        head = s.head()
        r = self.mail(email, "Re: Printer jams [ticket:%s]" % tid,
                      "A LaserJet 4.\n\nOn Monday, Help Desk wrote:\n> Which printer model?\n",
                      msgid="<m1.%s@mail.io>" % tid)
        self.assertEqual((r["ticket"]["status"], r["ticket"].get("sla_paused_at_us", "0"),
                          r["messages"][0]["kind"], r["messages"][0]["body"],
                          r["messages"][0]["author"]),
                         ("TICKET_STATUS_OPEN", "0", "TICKET_MESSAGE_KIND_CUSTOMER_MESSAGE",
                          "A LaserJet 4.", "Kim Ode"))
        self.assertEqual([e.type for e in s.events(head)], [
            "crm.support.ticket.status_changed.v1", "crm.support.ticket.replied.v1"])
        # The mail server delivers the same mail again: applied once.
        head, messages = s.head(), s.count("ticket_message")
        again = self.mail(email, "Re: Printer jams [ticket:%s]" % tid,
                          "A LaserJet 4.\n\nOn Monday, Help Desk wrote:\n> Which printer model?\n",
                          msgid="<m1.%s@mail.io>" % tid)
        self.assertEqual(again["messages"], r["messages"])
        self.assertEqual((s.head(), s.count("ticket_message")), (head, messages))
        # Someone else writing about the ticket is refused (550), nothing changes.
        before = s.q("SELECT * FROM ticket WHERE id = %s", tid)
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            self.mail("mallory@evil.io", "[ticket:%s] close it" % tid, "close this")
        self.assertEqual(cm.exception.smtp_code, 550)
        self.assertIn("sender is not the ticket's requester", self.mx.runs[-1].stderr.decode())
        with self.assertRaises(smtplib.SMTPDataError):
            self.mail_raw(b"From: %s\r\nSubject: [ticket:%s] x\r\nContent-Type: image/png"
                          b"\r\n\r\nPNG\r\n" % (email.encode(), tid.encode()))
        self.assertIn("email has no text part", self.mx.runs[-1].stderr.decode())
        self.assertEqual((s.head(), s.count("ticket_message")), (head, messages))
        self.assertEqual(s.q("SELECT * FROM ticket WHERE id = %s", tid), before)
        # From a file, readable output.
        path = os.path.join(s.sys.dir, "mail.eml")
        with open(path, "w") as f:
            f.write("From: %s\nSubject: again [ticket:%s]\n\nstill jams\n" % (email, tid))
        p = self.crmctl("ticket", "email", path)
        self.assertRegex(p.stdout, r"^ticket %s answered by the customer\n" % tid)

    def mail_raw(self, raw):
        """Sends raw bytes as a mail (charsets and encodings as written)."""
        with smtplib.SMTP("127.0.0.1", self.mx_port, timeout=30) as c:
            c.sendmail("sender@mail.io", ["help@crm.example"], raw)
        return json.loads(self.mx.runs[-1].stdout)

    def test_customer_mail_in_any_charset(self):
        """Issue 13: mails in windows-1252, ISO-2022-JP and HTML only open
        tickets with the right text (GMime decodes them)."""
        rene = "%s@mail.fr" % unique("renee")
        # windows-1252 in 8 bits: 0x80 is the euro sign, 0x93/0x94 quotes.
        r = self.mail_raw(b"From: =?windows-1252?Q?Ren=E9e_Dupr=E9?= <" + rene.encode() +
                          b">\r\nSubject: =?windows-1252?Q?Facture_=80_fausse?=\r\n"
                          b"Content-Type: text/plain; charset=windows-1252\r\n"
                          b"Content-Transfer-Encoding: 8bit\r\n\r\n"
                          b"La facture \x93TVA\x94 dit 120 \x80, pas 100 \x80.\r\n")
        t = r["ticket"]
        self.assertEqual((t["subject"], t["description"], t["requester_name"]),
                         ("Facture € fausse", "La facture “TVA” dit 120 €,"
                          " pas 100 €.", "Renée Dupré"))
        # ISO-2022-JP: 7-bit with escape sequences, the subject a B word.
        jp = "%s@mail.jp" % unique("yamada")
        subject = "注文について"
        body = "注文した商品がまだ届きません。\n確認をお願いします。"
        r = self.mail_raw(("From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <%s>\r\n" % jp).encode() +
                          b"Subject: =?ISO-2022-JP?B?" +
                          __import__("base64").b64encode(subject.encode("iso2022_jp")) +
                          b"?=\r\nMIME-Version: 1.0\r\n"
                          b"Content-Type: text/plain; charset=ISO-2022-JP\r\n"
                          b"Content-Transfer-Encoding: 7bit\r\n\r\n" +
                          body.replace("\n", "\r\n").encode("iso2022_jp") + b"\r\n")
        t = r["ticket"]
        self.assertEqual((t["subject"], t["description"], t["requester_name"]),
                         (subject, body, "山田"))
        # HTML only (quoted-printable): reduced to text; the attachment noted.
        bo = "%s@mail.io" % unique("bo")
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "Bo <%s>" % bo, "help@crm.example", "App crash"
        m.set_content("<html><head><style>p {color: red}</style></head><body>"
                      "<p>The <b>app</b> crashes &amp; shows&nbsp;&#8220;E42&#8221;.</p>"
                      "<p>Since today.</p></body></html>", subtype="html", cte="quoted-printable")
        m.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\0" * 92, maintype="image", subtype="png",
                         filename="screen.png")
        with smtplib.SMTP("127.0.0.1", self.mx_port, timeout=30) as c:
            c.send_message(m)
        t = json.loads(self.mx.runs[-1].stdout)["ticket"]
        self.assertEqual((t["subject"], t["description"]),
                         ("App crash", "The app crashes & shows “E42”.\n\nSince today."
                          "\n[attachment: screen.png, 100 bytes]"))


if __name__ == "__main__":
    unittest.main()
