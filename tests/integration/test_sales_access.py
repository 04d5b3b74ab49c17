"""Record-level access in sales (issue 12): a sales-rep at "own" level
cannot read or change another rep's person, deal or activity and is
answered NOT_FOUND, as if it did not exist; the manager of their team, at
"team" level, can, and a manager of another team cannot; a marketer cannot
win a deal (PERMISSION_DENIED before the handler runs); lists show only
reachable records; roles changed or defined in the directory take effect
on SIGHUP, without a restart. Real processes, CURVE keys, the directory
of principals."""
import json
import os
import time
import unittest

from crmtest import CallError, keyring, rpc_pb2, run_crmctl
from test_sales_service import NOT_FOUND, OK, SalesSystem, person_pb2, sales_pb2, unique

DENIED = rpc_pb2.STATUS_CODE_PERMISSION_DENIED


class AccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        keys = keyring()
        staff = {"ada": ("north", "sales-rep"), "bo": ("north", "sales-rep"),
                 "mia": ("north", "sales-manager"), "zed": ("south", "sales-manager"),
                 "mark": ("north", "marketer"), "nobody": ("north", "-")}
        for name, (teams, roles) in staff.items():
            keys.key("acc-" + name, "staff", teams=teams, roles=roles)
        cls.s = SalesSystem()
        cls.c = {n: cls.s.sys.client("sales", "acc-" + n) for n in staff}
        # ada's records; owner left empty, so it defaults to her.
        cls.person = cls.call("ada", "sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Ada's customer",
                                     emails=["%s@access.io" % unique("a")])),
            sales_pb2.PersonReply).person
        cls.deal = cls.call("ada", "sales.deal.create", sales_pb2.CreateDealRequest(
            deal=sales_pb2.Deal(title="Ada's deal", person_id=cls.person.id)),
            sales_pb2.DealReply).deal
        cls.task = cls.call("ada", "sales.activity.schedule", sales_pb2.LogActivityRequest(
            activity=sales_pb2.Activity(kind=sales_pb2.ACTIVITY_KIND_TASK, subject="Call back",
                                        person_id=cls.person.id,
                                        due_at_us=int(time.time() * 1e6) + 3600 * 10**6)),
            sales_pb2.ActivityReply).activity

    @classmethod
    def tearDownClass(cls):
        for c in cls.c.values():
            c.close()
        cls.s.close()

    @classmethod
    def call(cls, who, command, msg, reply_type):
        rep = cls.c[who].call_raw(command, msg.SerializeToString())
        if rep.status.code != OK:
            raise CallError(rep.status)
        out = reply_type()
        out.ParseFromString(rep.body)
        return out

    def status(self, who, command, msg):
        rep = self.c[who].call_raw(command, msg.SerializeToString())
        if rep.status.code != OK:
            self.assertEqual(rep.body, b"")
        return rep.status

    def assertRefused(self, who, command, msg, code):
        st = self.status(who, command, msg)
        self.assertEqual(st.code, code, "%s as %s: %r" % (command, who, st))
        return st

    def test_owner_defaults_to_the_creating_rep(self):
        self.assertEqual(self.person.owner, "acc-ada")
        self.assertEqual(self.deal.owner, "acc-ada")
        self.assertEqual(self.task.owner, "acc-ada")
        # Ada may read and change her own.
        self.call("ada", "sales.person.show", sales_pb2.ShowPersonRequest(id=self.person.id),
                  sales_pb2.PersonReply)
        self.call("ada", "sales.deal.show", sales_pb2.ShowDealRequest(id=self.deal.id),
                  sales_pb2.DealReply)

    def test_another_rep_gets_not_found(self):
        p, d, a = self.person.id, self.deal.id, self.task.id
        for command, msg in (
                ("sales.person.show", sales_pb2.ShowPersonRequest(id=p)),
                ("sales.person.update", sales_pb2.UpdatePersonRequest(
                    id=p, person=person_pb2.Person(title="Boss"), update_mask=["title"])),
                ("sales.deal.show", sales_pb2.ShowDealRequest(id=d)),
                ("sales.deal.stage", sales_pb2.MoveDealRequest(id=d, stage="Proposal")),
                ("sales.deal.win", sales_pb2.WinDealRequest(id=d)),
                ("sales.activity.complete", sales_pb2.CompleteActivityRequest(id=a))):
            st = self.assertRefused("bo", command, msg, NOT_FOUND)
            self.assertEqual(st.field, "id")
        # The same answer as for an id that does not exist.
        st = self.assertRefused("bo", "sales.deal.show", sales_pb2.ShowDealRequest(
            id="0c0c0c0c-3c0b-4c55-9d3e-2a8f7c9e5b10"), NOT_FOUND)
        self.assertEqual(st.message, self.status(
            "bo", "sales.deal.show", sales_pb2.ShowDealRequest(id=d)).message)
        # Nothing changed.
        d2 = self.call("ada", "sales.deal.show", sales_pb2.ShowDealRequest(id=d),
                       sales_pb2.DealReply).deal
        self.assertEqual((d2.status, d2.stage), (self.deal.status, self.deal.stage))
        # A rep cannot hand a new record to another rep either.
        st = self.assertRefused("bo", "sales.deal.create", sales_pb2.CreateDealRequest(
            deal=sales_pb2.Deal(title="Gift", person_id=p, owner="acc-ada")), DENIED)
        self.assertEqual(st.field, "deal.owner")

    def test_manager_of_the_team_reaches_the_rep_records(self):
        p = self.call("mia", "sales.person.show", sales_pb2.ShowPersonRequest(id=self.person.id),
                      sales_pb2.PersonReply).person
        self.assertEqual(p.owner, "acc-ada")
        self.call("mia", "sales.person.update", sales_pb2.UpdatePersonRequest(
            id=self.person.id, person=person_pb2.Person(title="CTO"), update_mask=["title"]),
            sales_pb2.PersonReply)
        self.call("mia", "sales.deal.show", sales_pb2.ShowDealRequest(id=self.deal.id),
                  sales_pb2.DealReply)
        # Another team's manager does not.
        self.assertRefused("zed", "sales.person.show",
                           sales_pb2.ShowPersonRequest(id=self.person.id), NOT_FOUND)
        self.assertRefused("zed", "sales.deal.win", sales_pb2.WinDealRequest(id=self.deal.id),
                           NOT_FOUND)

    def test_manager_completes_the_rep_activity_and_wins_a_deal(self):
        deal = self.call("ada", "sales.deal.create", sales_pb2.CreateDealRequest(
            deal=sales_pb2.Deal(title="To win", person_id=self.person.id)),
            sales_pb2.DealReply).deal
        won = self.call("mia", "sales.deal.win", sales_pb2.WinDealRequest(id=deal.id),
                        sales_pb2.DealReply).deal
        self.assertEqual(won.status, sales_pb2.DEAL_STATUS_WON)
        task = self.call("ada", "sales.activity.schedule", sales_pb2.LogActivityRequest(
            activity=sales_pb2.Activity(kind=sales_pb2.ACTIVITY_KIND_TASK, subject="Demo",
                                        person_id=self.person.id,
                                        due_at_us=int(time.time() * 1e6) + 3600 * 10**6)),
            sales_pb2.ActivityReply).activity
        done = self.call("mia", "sales.activity.complete", sales_pb2.CompleteActivityRequest(
            id=task.id, outcome="done by the manager"), sales_pb2.ActivityReply).activity
        self.assertEqual(done.status, sales_pb2.ACTIVITY_STATUS_DONE)

    def test_marketer_cannot_win_a_deal(self):
        st = self.assertRefused("mark", "sales.deal.win", sales_pb2.WinDealRequest(id=self.deal.id),
                                DENIED)
        self.assertEqual(st.field, "command")
        self.assertIn("deal.edit", st.detail)
        # A marketer reads deals (level all), and the deal is still open.
        d = self.call("mark", "sales.deal.show", sales_pb2.ShowDealRequest(id=self.deal.id),
                      sales_pb2.DealReply).deal
        self.assertEqual(d.status, sales_pb2.DEAL_STATUS_OPEN)
        # No roles at all: refused for everything typed.
        self.assertRefused("nobody", "sales.person.list", sales_pb2.ListPeopleRequest(), DENIED)

    def test_dead_letters_are_an_operators_to_list(self):
        # They hold whole events: a rep (who reads every type) is refused,
        # the manager (config.edit, as for deadletter.retry) lists them.
        st = self.assertRefused("ada", "deadletter.list", rpc_pb2.DeadLetterListRequest(), DENIED)
        self.assertIn("config.edit", st.detail)
        self.assertEqual(self.status("mia", "deadletter.list", rpc_pb2.DeadLetterListRequest()).code,
                         OK)

    def ids(self, who, command, rq, reply, field):
        out = set()
        while True:
            r = self.call(who, command, rq, reply)
            out |= {x.id for x in getattr(r, field)}
            if not r.next_page_token:
                return out
            rq.page_token = r.next_page_token

    def test_lists_show_only_reachable_records(self):
        bos = self.call("bo", "sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Bo's customer",
                                     emails=["%s@access.io" % unique("b")])),
            sales_pb2.PersonReply).person
        # One without an owner, as the records before roles were: level all only.
        orphan = self.s.register("Nobody's", ["%s@access.io" % unique("o")]).person
        self.assertEqual(orphan.owner, "")
        people = lambda who: self.ids(who, "sales.person.list", sales_pb2.ListPeopleRequest(
            page_size=100), sales_pb2.ListPeopleReply, "people")
        self.assertEqual(people("bo"), {bos.id})
        self.assertEqual(people("ada") & {bos.id, orphan.id, self.person.id}, {self.person.id})
        self.assertEqual(people("mia") & {bos.id, orphan.id, self.person.id},
                         {bos.id, self.person.id})
        self.assertFalse(people("zed") & {bos.id, orphan.id, self.person.id})
        self.assertTrue({bos.id, orphan.id, self.person.id} <= people("mark"))
        deals = lambda who: self.ids(who, "sales.deal.list", sales_pb2.ListDealsRequest(
            page_size=100), sales_pb2.ListDealsReply, "deals")
        self.assertNotIn(self.deal.id, deals("bo"))
        self.assertIn(self.deal.id, deals("ada"))
        self.assertIn(self.deal.id, deals("mia"))
        acts = lambda who: self.ids(who, "sales.activity.list", sales_pb2.ListActivitiesRequest(
            page_size=100), sales_pb2.ListActivitiesReply, "activities")
        self.assertNotIn(self.task.id, acts("bo"))
        self.assertIn(self.task.id, acts("ada"))
        self.assertIn(self.task.id, acts("mia"))

    def test_leads_and_organisations(self):
        lead = self.call("ada", "sales.lead.create", sales_pb2.CreateLeadRequest(
            lead=sales_pb2.Lead(name="Ada's lead", email="%s@access.io" % unique("l"))),
            sales_pb2.LeadReply).lead
        self.assertEqual(lead.owner, "acc-ada")
        self.assertRefused("bo", "sales.lead.qualify", sales_pb2.QualifyLeadRequest(
            id=lead.id, qualification="budget"), NOT_FOUND)
        self.assertRefused("bo", "sales.lead.convert", sales_pb2.ConvertLeadRequest(id=lead.id),
                           NOT_FOUND)
        leads = lambda who: self.ids(who, "sales.lead.list", sales_pb2.ListLeadsRequest(
            page_size=100), sales_pb2.ListLeadsReply, "leads")
        self.assertNotIn(lead.id, leads("bo"))
        self.assertIn(lead.id, leads("mia"))
        self.call("mia", "sales.lead.qualify", sales_pb2.QualifyLeadRequest(
            id=lead.id, qualification="budget"), sales_pb2.LeadReply)
        org = self.call("ada", "sales.org.create", sales_pb2.CreateOrganizationRequest(
            organization=person_pb2.Organization(name=unique("Ada Org"))),
            sales_pb2.OrganizationReply).organization
        self.assertEqual(org.owner, "acc-ada")
        self.assertRefused("bo", "sales.org.show", sales_pb2.ShowOrganizationRequest(id=org.id),
                           NOT_FOUND)
        self.call("mia", "sales.org.show", sales_pb2.ShowOrganizationRequest(id=org.id),
                  sales_pb2.OrganizationReply)
        orgs = lambda who: self.ids(who, "sales.org.list", sales_pb2.ListOrganizationsRequest(
            page_size=100), sales_pb2.ListOrganizationsReply, "organizations")
        self.assertNotIn(org.id, orgs("bo"))
        self.assertIn(org.id, orgs("ada"))

    def test_whoami_shows_roles_and_levels(self):
        env = dict(os.environ, CRM_KEY_FILE=keyring().key_file("acc-mia"))
        doc = json.loads(run_crmctl(self, env, ["whoami", "-o", "json"]).stdout)
        self.assertEqual((doc["name"], doc["roles"], doc["teams"]),
                         ("acc-mia", ["sales-manager"], ["north"]))
        self.assertEqual(doc["access"]["deal"], {"read": "team", "create": "all",
                                                 "edit": "team", "delete": "team"})
        self.assertEqual(doc["access"]["campaign"]["edit"], "none")
        text = run_crmctl(self, env, ["whoami"]).stdout
        self.assertRegex(text, r"deal +team +all +team +team")

    def test_role_changes_take_effect_on_sighup(self):
        keys = keyring()
        keys.key("acc-cy", "staff", teams="east", roles="sales-rep")
        cy = self.s.sys.client("sales", "acc-cy")
        self.addCleanup(cy.close)
        show = sales_pb2.ShowPersonRequest(id=self.person.id).SerializeToString()
        self.assertEqual(cy.call_raw("sales.person.show", show).status.code, NOT_FOUND)
        # Into ada's team as a manager: the same connection, no restart.
        keys.set_access("acc-cy", teams="north", roles="sales-manager")
        self.assertEqual(cy.call_raw("sales.person.show", show).status.code, OK)
        # A role the operator defines in the directory: reads everything,
        # changes nothing.
        keys.define_role("auditor", "*.read=all")
        keys.set_access("acc-cy", teams="east", roles="auditor")
        self.assertEqual(cy.call_raw("sales.person.show", show).status.code, OK)
        win = sales_pb2.WinDealRequest(id=self.deal.id).SerializeToString()
        self.assertEqual(cy.call_raw("sales.deal.win", win).status.code, DENIED)
        keys.define_role("auditor", "*.read=none")
        self.assertEqual(cy.call_raw("sales.person.show", show).status.code, DENIED)


if __name__ == "__main__":
    unittest.main()
