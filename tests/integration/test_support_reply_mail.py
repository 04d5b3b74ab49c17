"""Support: an agent's reply reaches the customer as mail at a real SMTP
server (aiosmtpd), threaded with Message-ID, In-Reply-To and References;
the customer's answer (In-Reply-To naming that reply, the subject's ticket
tag removed by their mail program) reopens the ticket. A reply made while
the relay refuses mail is kept and sent once it accepts again."""
import email
import email.policy
import time
import unittest

from aiosmtpd.controller import Controller

from crmtest import free_port, wait_for
from test_support_service import SupportSystem, support_pb2, unique

ST = support_pb2


class Relay:
    """An SMTP server that keeps every message; refuses all while `down`."""

    def __init__(self):
        self.messages = []
        self.down = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.down:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content,
                                                       policy=email.policy.default)))
        return "250 OK"


class ReplyMailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        port = free_port()
        cls.relay = Relay()
        cls.smtp = Controller(cls.relay, hostname="127.0.0.1", port=port)
        cls.smtp.start()
        cls.s = SupportSystem(env={"SUPPORT_SMTP_URL": "smtp://127.0.0.1:%d" % port,
                                   "SUPPORT_MAIL_FROM": "help@desk.example",
                                   "SUPPORT_MAIL_SCAN_MS": "100"})

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.smtp.stop()

    def mails_to(self, addr, n):
        return wait_for(lambda: [m for m in self.relay.messages if m[1] == [addr]][:n]
                        if len([m for m in self.relay.messages if m[1] == [addr]]) >= n else None,
                        20, "%d mail(s) to %s" % (n, addr))

    def test_reply_threaded_and_answer_reopens(self):
        s = self.s
        addr = "%s@customer.example" % unique("mina")
        t = s.open(requester_email=addr, subject="Printer on fire")
        s.do("reply", t.id, author="agent-ana", body="Please unplug it.\nThen call us.")
        (frm, to, m1), = self.mails_to(addr, 1)
        self.assertEqual((frm, to), ("help@desk.example", [addr]))
        self.assertEqual(m1["From"], "help@desk.example")
        self.assertEqual(m1["Subject"], "Re: Printer on fire [ticket:%s]" % t.id)
        root = "<ticket.%s.0@desk.example>" % t.id
        mid1 = m1["Message-ID"]
        self.assertRegex(mid1, r"^<ticket\.%s\.[0-9a-f-]{36}@desk\.example>$" % t.id)
        self.assertEqual((m1["In-Reply-To"], m1["References"]), (root, root))
        self.assertEqual(m1.get_content().replace("\r\n", "\n"), "Please unplug it.\nThen call us.\n")
        # The second reply answers the first: the thread grows.
        s.do("reply", t.id, author="agent-ana", body="Any news?")
        m2 = self.mails_to(addr, 2)[1][2]
        self.assertEqual(m2["In-Reply-To"], mid1)
        self.assertEqual(m2["References"], "%s %s" % (root, mid1))
        mid2 = m2["Message-ID"]
        # Stored as sent, once each.
        self.assertEqual(s.q("SELECT count(*), count(*) FILTER (WHERE sent_us > 0)"
                             " FROM reply_mail WHERE ticket_id = %s", t.id)[0], (2, 2))
        # The ticket is resolved; the customer answers the second mail from a
        # mail program that dropped the tag from the subject: In-Reply-To
        # finds the ticket, and the answer reopens it.
        s.do("resolve", t.id, resolution=ST.TicketResolution(category="fixed", text="unplugged"))
        answer = ("From: Mina <%s>\r\nTo: help@desk.example\r\nSubject: Re: Printer on fire\r\n"
                  "Message-ID: <answer-1@customer.example>\r\nIn-Reply-To: %s\r\n"
                  "References: %s %s %s\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
                  "It is burning again.\r\n\r\n> Any news?\r\n" % (addr, mid2, root, mid1, mid2))
        rep = s.call("support.email.receive", ST.ReceiveEmailRequest(raw=answer.encode()),
                     key="<answer-1@customer.example>")
        self.assertEqual(rep.ticket.id, t.id)
        self.assertEqual(rep.ticket.status, ST.TICKET_STATUS_OPEN)
        last = s.q("SELECT kind, body FROM ticket_message WHERE ticket_id = %s"
                   " ORDER BY created_us DESC, id LIMIT 1", t.id)[0]
        self.assertEqual(last, (ST.TICKET_MESSAGE_KIND_CUSTOMER_MESSAGE, "It is burning again."))
        types = [e.type for e in s.events(0) if e.subject == t.customer_id]
        self.assertIn("crm.support.ticket.reopened.v1", types)
        # The customer's own message is not mailed back to them.
        self.assertEqual(s.q("SELECT count(*) FROM reply_mail WHERE ticket_id = %s", t.id)[0][0], 2)

    def test_reply_kept_while_the_relay_refuses(self):
        s = self.s
        addr = "%s@customer.example" % unique("omid")
        t = s.open(requester_email=addr, subject="سلام")
        self.relay.down = True
        try:
            s.do("reply", t.id, body="در حال بررسی است")
            wait_for(lambda: s.q("SELECT attempts FROM reply_mail WHERE ticket_id = %s",
                                 t.id)[0][0] >= 1, 20, "a refused attempt")
            self.assertEqual(s.q("SELECT sent_us FROM reply_mail WHERE ticket_id = %s",
                                 t.id)[0][0], 0)
        finally:
            self.relay.down = False
        # Tried again (after 2^attempts s) and delivered; the Persian subject
        # is an RFC 2047 encoded word that decodes to the ticket's subject.
        (_, _, m), = self.mails_to(addr, 1)
        self.assertEqual(m["Subject"], "Re: سلام [ticket:%s]" % t.id)
        self.assertEqual(m.get_content().strip(), "در حال بررسی است")


if __name__ == "__main__":
    unittest.main()
