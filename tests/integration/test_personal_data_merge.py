"""Merge of two records of one person (issue 14) across the real crm-sales,
crm-marketing, crm-support and crm-analytics: `sales.person.merge` (crmctl
person merge KEEP DROP) keeps one id with both records' emails and phones,
moves the dropped record's orders, activities, consent, campaign
responses and tickets to the survivor in every service (support applies
person.merged after a restart, since it was stopped during the merge),
and keeps an alias so that what names the dropped id later (an order, a
ticket from its email, a registration with its email) lands on the
survivor. Analytics agrees, a rebuild equals live, the duplicate pair is
resolved as merged, and the survivor's export holds the merged-in data.
Bad input (one id twice, unknown ids, an erased person, a merged id, no
right) changes nothing."""
import json
import time
import unittest
import uuid

from apitest import ApiCase
from crmtest import rpc_pb2, wait_for  # noqa: I100
from personaltest import OFFICER, REP, SOURCES, PersonalDataCase
from test_analytics_service import OK
from test_support_service import customer_id
from crm.v1 import analytics_pb2, marketing_pb2 as M, person_pb2, sales_pb2, support_pb2  # noqa: E402



class PersonalDataMergeTest(PersonalDataCase):
    def merge(self, keep, drop, who=OFFICER, reason="DQ-7"):
        return self.raw("sales.person.merge", sales_pb2.MergePersonRequest(
            keep_id=keep, drop_id=drop, reason=reason), who=who)

    def person(self, tag, title="", amount=2500, purpose=M.CONSENT_PURPOSE_EMAIL_MARKETING):
        """A customer with an order, an activity, a campaign response,
        consent and a ticket: data in every service."""
        hexid = uuid.uuid4().hex[:8]
        d = {"name": "Mira %s %s" % (tag, hexid), "email": "mira.%s.%s@merge.example" % (tag, hexid),
             "phone": "+3120%s" % str(int(hexid, 16))[:7].rjust(7, "5")}
        p = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name=d["name"], emails=[d["email"]], phones=[d["phone"]],
                                     title=title)), sales_pb2.PersonReply).person
        d["id"] = cid = p.id
        self.assertEqual(cid, customer_id(d["email"]))
        wait_for(lambda: self.q("SELECT count(*) FROM person WHERE id = %s", cid,
                                db="marketing")[0][0] == 1, 20, "marketing to know them")
        wait_for(lambda: self.q("SELECT count(*) FROM person WHERE id = %s", cid,
                                db="support")[0][0] == 1, 20, "support to know them")
        self.business(d, tag, amount, purpose)
        return d

    def business(self, d, tag, amount, purpose):
        cid = d["id"]
        self.call("sales.order.create", sales_pb2.CreateOrderRequest(order=sales_pb2.Order(
            person_id=cid, currency="EUR", items=[sales_pb2.OrderItem(
                name="Widget", quantity=1, unit_price_minor=amount)])), sales_pb2.OrderReply)
        self.call("sales.activity.log", sales_pb2.LogActivityRequest(activity=sales_pb2.Activity(
            person_id=cid, kind=sales_pb2.ACTIVITY_KIND_CALL, subject="Call %s" % tag)),
            sales_pb2.ActivityReply)
        self.call("marketing.response.record", M.RecordResponseRequest(
            response=M.CampaignResponseRecorded(
                campaign_id=self.campaign, customer_id=cid, response=M.RESPONSE_TYPE_REPLIED)),
            M.ResponseReply)
        self.call("marketing.consent.grant", M.RecordConsentRequest(
            customer_id=cid, purpose=purpose, source=M.CONSENT_SOURCE_FORM, proof="form %s" % tag),
            M.ConsentReply)
        # Both records with a preference: the merge keeps the survivor's
        # (a merge of two such records broke the preference's key before
        # crm_alias_repoint took `col` among its keys as "unique by col").
        self.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=cid, preferred_channel=M.CHANNEL_EMAIL)),
            M.PreferencesReply)
        t = self.call("support.ticket.open", support_pb2.OpenTicketRequest(
            ticket=support_pb2.Ticket(requester_email=d["email"], requester_name=d["name"],
                                      subject="Question %s" % tag,
                                      type=support_pb2.TICKET_TYPE_QUESTION)),
            support_pb2.TicketReply).ticket
        self.assertEqual(t.customer_id, cid)

    def count(self, sql, cid, db):
        return self.q(sql, cid, db=db)[0][0]

    def test_merge_everywhere(self):
        a = self.a
        self.campaign = self.call("marketing.campaign.create", M.CreateCampaignRequest(
            campaign=M.Campaign(name="Merge spring %s" % uuid.uuid4().hex[:6],
                                channels=[M.CHANNEL_EMAIL], budget_minor=100000,
                                currency="EUR")), M.CampaignReply).campaign.id
        k = self.person("keep", amount=2500, purpose=M.CONSENT_PURPOSE_EMAIL_MARKETING)
        d = self.person("drop", title="Buyer", amount=4000, purpose=M.CONSENT_PURPOSE_SMS_MARKETING)
        # The control: one record that had all of it all along.
        c = self.person("ctrl", amount=2500, purpose=M.CONSENT_PURPOSE_EMAIL_MARKETING)
        self.business(c, "ctrl2", 4000, M.CONSENT_PURPOSE_SMS_MARKETING)
        a.wait_applied(("sales", "marketing", "support"))
        wait_for(lambda: self.count("SELECT count(*) FROM ticket WHERE customer_id = %s", d["id"],
                                    "analytics") == 1, 20, "analytics to see the tickets")

        # Bad input changes nothing: one id twice, unknown ids, no right.
        heads = self.heads()
        rep = self.merge(k["id"], k["id"])
        self.assertEqual((rep.status.code, rep.status.field),
                         (rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, "drop_id"), rep.status)
        rep = self.merge(k["id"], str(uuid.uuid4()))
        self.assertEqual((rep.status.code, rep.status.field),
                         (rpc_pb2.STATUS_CODE_NOT_FOUND, "drop_id"), rep.status)
        rep = self.merge(str(uuid.uuid4()), d["id"])
        self.assertEqual((rep.status.code, rep.status.field),
                         (rpc_pb2.STATUS_CODE_NOT_FOUND, "keep_id"), rep.status)
        rep = self.merge(k["id"], d["id"], who=REP)
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_PERMISSION_DENIED, rep.status)
        self.assertIn("personal_data.edit", rep.status.detail)
        p = self.crmctl("person", "merge", k["id"], d["id"], who=REP, rc=1)
        self.assertIn("personal_data.edit", p.stderr)
        self.assertEqual(self.heads(), heads)
        self.assertEqual(self.count("SELECT count(*) FROM person WHERE id = %s", d["id"], "sales"), 1)

        # Support is down while the officer merges.
        self.svc["support"].stop()
        out = self.crmctl("person", "merge", k["id"], d["id"], "--reason", "DQ-7",
                          who=OFFICER).stdout
        self.assertIn("person %s merged into %s" % (d["id"], k["id"]), out)

        # Sales: one survivor with both emails and phones, the dropped
        # record's title filling the empty one, every record re-pointed.
        (emails, phones, title, name), = self.q(
            "SELECT emails, phones, title, name FROM person WHERE id = %s", k["id"], db="sales")
        self.assertEqual((emails, phones, title, name),
                         ([k["email"], d["email"]], [k["phone"], d["phone"]], "Buyer", k["name"]))
        self.assertEqual(self.count("SELECT count(*) FROM person WHERE id = %s", d["id"], "sales"), 0)
        self.assertEqual(self.count("SELECT count(*) FROM sales_order WHERE person_id = %s",
                                    k["id"], "sales"), 2)
        self.assertEqual(self.count("SELECT count(*) FROM activity WHERE person_id = %s",
                                    k["id"], "sales"), 2)
        (ev,) = [e for e in self.outbox("sales") if e.type == "crm.sales.person.merged.v1"]
        self.assertEqual((ev.subject, ev.actor, ev.person_merged.survivor_id,
                          ev.person_merged.dropped_id, ev.person_merged.reason),
                         (k["id"], OFFICER, k["id"], d["id"], "DQ-7"))
        self.assertIn(d["id"], ev.person_merged.alias_ids)
        # A command naming the dropped id acts on the survivor.
        shown = self.call("sales.person.show", sales_pb2.ShowPersonRequest(id=d["id"]),
                          sales_pb2.PersonReply).person
        self.assertEqual(shown.id, k["id"])
        # Merging the dropped id again: a clear error, nothing changes.
        heads = self.heads()
        rep = self.merge(k["id"], d["id"])
        self.assertEqual((rep.status.code, rep.status.message),
                         (rpc_pb2.STATUS_CODE_NOT_FOUND, "person was merged into another"))
        self.assertEqual(self.heads(), heads)

        # Marketing: responses and consent follow; the ledger keeps both
        # entries, now the survivor's.
        wait_for(lambda: self.count("SELECT count(*) FROM response WHERE customer_id = %s",
                                    k["id"], "marketing") == 2, 20, "marketing to merge")
        self.assertEqual(self.count("SELECT count(*) FROM response WHERE customer_id = %s",
                                    d["id"], "marketing"), 0)
        self.assertEqual(sorted(r[0] for r in self.q(
            "SELECT purpose FROM consent WHERE customer_id = %s", k["id"], db="marketing")),
            [M.CONSENT_PURPOSE_EMAIL_MARKETING, M.CONSENT_PURPOSE_SMS_MARKETING])
        self.assertEqual(self.count("SELECT count(*) FROM person WHERE id = %s", d["id"],
                                    "marketing"), 0)
        self.assertEqual([self.count("SELECT count(*) FROM preference WHERE customer_id = %s",
                                     x["id"], "marketing") for x in (k, d)], [1, 0])

        # A late event for the dropped id: an order sent with the old id.
        self.call("sales.order.create", sales_pb2.CreateOrderRequest(order=sales_pb2.Order(
            person_id=d["id"], currency="EUR", items=[sales_pb2.OrderItem(
                name="Late", quantity=1, unit_price_minor=1000)])), sales_pb2.OrderReply)
        self.assertEqual(self.count("SELECT count(*) FROM sales_order WHERE person_id = %s",
                                    k["id"], "sales"), 3)
        self.call("sales.order.create", sales_pb2.CreateOrderRequest(order=sales_pb2.Order(
            person_id=c["id"], currency="EUR", items=[sales_pb2.OrderItem(
                name="Late", quantity=1, unit_price_minor=1000)])), sales_pb2.OrderReply)

        # Support applies the merge on restart; a ticket from the dropped
        # email afterwards lands on the survivor too.
        self.svc["support"].start()
        wait_for(lambda: self.count("SELECT count(*) FROM ticket WHERE customer_id = %s",
                                    k["id"], "support") == 2, 30, "support to merge")
        self.assertEqual(self.count("SELECT count(*) FROM person WHERE id = %s", d["id"],
                                    "support"), 0)
        self.call("support.ticket.open", support_pb2.OpenTicketRequest(
            ticket=support_pb2.Ticket(requester_email=d["email"], requester_name=d["name"],
                                      subject="After the merge",
                                      type=support_pb2.TICKET_TYPE_QUESTION)),
            support_pb2.TicketReply)
        self.assertEqual(self.count("SELECT count(*) FROM ticket WHERE customer_id = %s",
                                    k["id"], "support"), 3)
        self.call("support.ticket.open", support_pb2.OpenTicketRequest(
            ticket=support_pb2.Ticket(requester_email=c["email"], requester_name=c["name"],
                                      subject="After the merge",
                                      type=support_pb2.TICKET_TYPE_QUESTION)),
            support_pb2.TicketReply)
        (sup_emails,), = self.q("SELECT emails FROM person WHERE id = %s", k["id"], db="support")
        self.assertEqual(sorted(sup_emails), sorted([k["email"], d["email"]]))

        # A later registration with the dropped email finds the survivor.
        rep = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Mira Again", emails=[d["email"].upper()])),
            sales_pb2.PersonReply)
        self.assertEqual(rep.person.id, k["id"])

        # Analytics: everything on the survivor, as if one record all along.
        a.wait_applied(("sales", "marketing", "support"))
        for s in SOURCES:  # every service keeps the alias, once
            self.assertEqual(self.q("SELECT survivor_id FROM crm_alias WHERE dropped_id = %s",
                                    d["id"], db=s), [(k["id"],)], s)
        for table, n in (("sale_order", 3), ("ticket", 3), ("campaign_response", 2),
                         ("activity", 2)):
            self.assertEqual(self.count("SELECT count(*) FROM %s WHERE customer_id = %%s" % table,
                                        k["id"], "analytics"), n, table)
            self.assertEqual(self.count("SELECT count(*) FROM %s WHERE customer_id = %%s" % table,
                                        d["id"], "analytics"), 0, table)
        self.assertEqual(self.count("SELECT count(*) FROM customer WHERE id = %s", d["id"],
                                    "analytics"), 0)
        self.assertEqual(self.count("SELECT count(*) FROM health WHERE customer_id = %s", d["id"],
                                    "analytics"), 0)
        self.assertEqual([self.count("SELECT count(*) FROM preference WHERE customer_id = %s",
                                     x["id"], "analytics") for x in (k, d)], [1, 0])
        (an_emails,), = self.q("SELECT emails FROM customer WHERE id = %s", k["id"], db="analytics")
        self.assertEqual(set(an_emails), {k["email"], d["email"]})
        self.assertEqual(self.q("SELECT resolution FROM an_dq_resolution WHERE record_id = %s"
                                " AND original_id = %s", d["id"], k["id"], db="analytics"), [(1,)])
        # The survivor's figures, KPIs and health equal the control's, one
        # record all along (ids, names and the count of events aside).
        at_us = int(time.time() * 1e6)
        mine = a.report("analytics.customer.show", customer_id=k["id"], at_us=at_us)
        ctrl = a.report("analytics.customer.show", customer_id=c["id"], at_us=at_us)
        self.assertEqual(mine["figures"]["orders"], 3)
        for x in (mine, ctrl):
            for f in ("last_order_us", "events"):
                x["figures"].pop(f)
            for f in ("customer_id", "name"):
                x["kpis"].pop(f)
        self.assertEqual(mine["figures"], ctrl["figures"])
        self.assertEqual(json.dumps(mine["kpis"], sort_keys=True, indent=1),
                         json.dumps(ctrl["kpis"], sort_keys=True, indent=1))
        health = {h["customer_id"]: h for h in a.report("analytics.report.health",
                                                        at_us=at_us).get("customers", [])}
        for x in (health[k["id"]], health[c["id"]]):
            x.pop("customer_id")
            x.pop("name")
        self.assertEqual(health[k["id"]], health[c["id"]])
        self.assertEqual(self.q("SELECT score, reasons FROM health WHERE customer_id = %s",
                                k["id"], db="analytics"),
                         self.q("SELECT score, reasons FROM health WHERE customer_id = %s",
                                c["id"], db="analytics"))

        # Rebuild equals live.
        at_us = int(time.time() * 1e6)
        live = self.snapshot([k["id"]], at_us)
        rep = a.raw("analytics.rebuild", analytics_pb2.RebuildRequest())
        self.assertEqual(rep.status.code, OK, rep.status)
        wait_for(lambda: not a.status().rebuild_in_progress, 60, "the rebuild to finish")
        a.wait_applied(("sales", "marketing", "support"))
        self.maxDiff = None
        got = self.snapshot([k["id"]], at_us)
        for key in live:
            self.assertEqual(json.dumps(got[key], sort_keys=True, indent=1),
                             json.dumps(live[key], sort_keys=True, indent=1), key)

        # The survivor's export holds the merged-in data.
        doc = json.loads(self.crmctl("person", "export", k["id"], who=OFFICER).stdout)
        sales = doc["services"]["sales"]["records"]
        self.assertEqual(sorted(o["total_minor"] for o in sales["orders"]), [1000, 2500, 4000])
        self.assertEqual(len(doc["services"]["support"]["records"]["tickets"]), 3)
        self.assertEqual(len(doc["services"]["marketing"]["records"]["responses"]), 2)
        # ... and the events about the dropped id, in every service.
        for svc, t in (("sales", "crm.sales.person.registered.v1"),
                       ("support", "crm.support.ticket.opened.v1"),
                       ("marketing", "crm.marketing.response.recorded.v1")):
            self.assertIn((t, d["id"]), [(e["type"], e.get("subject"))
                                         for e in doc["services"][svc]["events"]], svc)

        # An erased person cannot be merged.
        e = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Erin Gone", emails=["erin.%s@merge.example" %
                                                               uuid.uuid4().hex[:6]])),
            sales_pb2.PersonReply).person
        self.call("sales.person.erase", sales_pb2.ErasePersonRequest(id=e.id, reason="DSR-1"),
                  sales_pb2.ErasePersonReply, who=OFFICER)
        heads = self.heads()
        rep = self.merge(k["id"], e.id)
        self.assertEqual((rep.status.code, rep.status.field, rep.status.message),
                         (rpc_pb2.STATUS_CODE_FAILED_PRECONDITION, "drop_id", "person is erased"))
        rep = self.merge(e.id, k["id"])
        self.assertEqual((rep.status.code, rep.status.field),
                         (rpc_pb2.STATUS_CODE_FAILED_PRECONDITION, "keep_id"))
        self.assertEqual(self.heads(), heads)

    def outbox(self, source):
        from crmtest import event_pb2
        return [event_pb2.Event.FromString(bytes(x)) for (x,) in
                self.q("SELECT event FROM crm_outbox ORDER BY seq", db=source)]

    def snapshot(self, ids, at_us):
        a = self.a
        out = {"kpis": a.report("analytics.report.kpis", at_us=at_us),
               "health": a.report("analytics.report.health", at_us=at_us)}
        for i in ids:
            out[i] = a.report("analytics.customer.show", customer_id=i, at_us=at_us)
            out[i + "/timeline"] = a.report("analytics.customer.timeline", customer_id=i,
                                            at_us=at_us)
        return out


class ApiMergeTest(ApiCase):
    """POST /v1/people/{keep_id}/merge through real crm-api and crm-sales."""

    def test_merge_route(self):
        ids = []
        for n in ("one", "two"):
            p, _ = self.ok("POST", "/v1/people", {"name": "Api %s" % n, "emails": [
                "api.%s.%s@merge.example" % (n, uuid.uuid4().hex[:6])]}, status=201)
            ids.append(p["person"]["id"])
        keep, drop = ids
        st, hd, out = self.request("POST", "/v1/people/%s/merge" % keep,
                                   {"drop_id": keep, "reason": "API-1"})
        self.problem(st, hd, out, 422, "invalid_argument")
        out, _ = self.ok("POST", "/v1/people/%s/merge" % keep, {"drop_id": drop, "reason": "API-1"})
        self.assertEqual((out["person"]["id"], out["dropped_id"]), (keep, drop))
        self.assertEqual(len(out["person"]["emails"]), 2)
        got, _ = self.ok("GET", "/v1/people/" + drop)  # the dropped id shows the survivor
        self.assertEqual(got["person"]["id"], keep)
        st, hd, out = self.request("POST", "/v1/people/%s/merge" % keep,
                                   {"drop_id": drop, "reason": "API-1"})
        self.problem(st, hd, out, 404, "not_found")


if __name__ == "__main__":
    unittest.main()
