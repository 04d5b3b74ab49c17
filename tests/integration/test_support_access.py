"""Record-level access in support (issue 12): a ticket's owner is its
assignee. With a role that grants tickets at "own" level an agent reaches
the tickets assigned to them and no other: show and every change answer
NOT_FOUND, lists leave them out; the support-lead built-in reaches all; a
marketer's roles grant no ticket level at all (PERMISSION_DENIED). Real
processes, CURVE keys, a role line in the directory."""
import unittest

from crmtest import keyring, rpc_pb2
from test_support_service import NOT_FOUND, OK, SupportSystem, support_pb2, unique

DENIED = rpc_pb2.STATUS_CODE_PERMISSION_DENIED


class SupportAccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        keys = keyring()
        keys.define_role("desk-agent", "*.read=all", "ticket.*=own", "ticket.create=all")
        for name, roles in (("sa-kim", "desk-agent"), ("sa-lee", "desk-agent"),
                            ("sa-mo", "support-lead"), ("sa-mark", "marketer")):
            keys.key(name, "staff", teams="desk", roles=roles)
        cls.s = SupportSystem()
        cls.c = {n: cls.s.sys.client("support", n) for n in ("sa-kim", "sa-lee", "sa-mo",
                                                               "sa-mark")}
        cls.t = cls.s.open(requester_email="%s@tickets.io" % unique("r"))
        cls.s.do("assign", cls.t.id, assignee="sa-kim")

    @classmethod
    def tearDownClass(cls):
        for c in cls.c.values():
            c.close()
        cls.s.close()

    def code(self, who, command, msg):
        rep = self.c[who].call_raw(command, msg.SerializeToString())
        return rep.status.code

    def ticket_ids(self, who):
        rep = self.c[who].call_raw("support.ticket.list", support_pb2.ListTicketsRequest(
            page_size=500).SerializeToString())
        self.assertEqual(rep.status.code, OK, rep.status)
        return {t.id for t in support_pb2.ListTicketsReply.FromString(rep.body).tickets}

    def test_assignee_reaches_the_ticket_and_others_do_not(self):
        show = support_pb2.ShowTicketRequest(id=self.t.id)
        note = support_pb2.AddTicketMessageRequest(id=self.t.id, body="internal")
        self.assertEqual(self.code("sa-kim", "support.ticket.show", show), OK)
        self.assertEqual(self.code("sa-kim", "support.ticket.note", note), OK)
        self.assertEqual(self.code("sa-lee", "support.ticket.show", show), NOT_FOUND)
        self.assertEqual(self.code("sa-lee", "support.ticket.note", note), NOT_FOUND)
        self.assertEqual(self.code("sa-lee", "support.ticket.assign", support_pb2.AssignTicketRequest(
            id=self.t.id, assignee="sa-lee")), NOT_FOUND)
        self.assertEqual(self.code("sa-mo", "support.ticket.show", show), OK)
        self.assertEqual(self.code("sa-mark", "support.ticket.show", show), DENIED)
        self.assertIn(self.t.id, self.ticket_ids("sa-kim"))
        self.assertNotIn(self.t.id, self.ticket_ids("sa-lee"))
        self.assertIn(self.t.id, self.ticket_ids("sa-mo"))
        # The ticket is still kim's.
        self.assertEqual(self.s.call("support.ticket.show", show).ticket.assignee, "sa-kim")


if __name__ == "__main__":
    unittest.main()
