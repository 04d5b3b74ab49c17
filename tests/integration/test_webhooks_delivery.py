"""Webhooks (issue #16): crm-webhooks POSTs every event of a subscription's
types to a real receiver process (webhook_receiver.py) that verifies every
Standard Webhooks signature with its own implementation of the
specification and refuses bad ones.

- the receiver is down (refusing connections), then answers 503, then
  comes back: every event arrives, in stream order, none missing;
- crm-webhooks is killed with kill -9 while a delivery is in flight and
  events keep coming while it is dead: after a restart nothing is lost, and
  the only duplicates are the at-least-once kind, with the same webhook-id;
- failed deliveries are visible (webhooks.delivery.list) and retryable;
- bad input and a principal without the right get a clear error and
  change nothing.

Events come from probes named after the four services (probe.record emits
crm.<name>.probe.recorded.v1 with a serial number)."""
import json
import os
import time
import unittest

from crmtest import Receiver, System, rpc_pb2, run_crmctl, wait_for
from crm.v1 import webhooks_pb2 as wh  # noqa: E402

OK = rpc_pb2.STATUS_CODE_OK
INVALID = rpc_pb2.STATUS_CODE_INVALID_ARGUMENT
NOT_FOUND = rpc_pb2.STATUS_CODE_NOT_FOUND
PRECONDITION = rpc_pb2.STATUS_CODE_FAILED_PRECONDITION
DENIED = rpc_pb2.STATUS_CODE_PERMISSION_DENIED
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
FAST_RETRIES = {"CRM_WEBHOOK_BACKOFF_BASE_MS": "50", "CRM_WEBHOOK_BACKOFF_CAP_MS": "400",
                "CRM_WEBHOOK_POLL_MS": "100"}


def call(c, command, msg, reply_type, code=OK):
    rep = c.call(command, msg)
    assert rep.status.code == code, (command, rep.status)
    if code != OK:
        return rep.status
    out = reply_type()
    out.ParseFromString(rep.body)
    return out


def in_stream_order(accepted, source):
    """The first arrival of each event of `source`, as sequence numbers."""
    seen, order = set(), []
    for e in accepted:
        if e["source"] == source and e["id"] not in seen:
            seen.add(e["id"])
            order.append(int(e["sequence"]))
    return order


class WebhooksDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sys = System()
        cls.sys.start_bus()
        for name in ("sales", "marketing", "support", "analytics"):
            cls.sys.add_probe(name)
        cls.proc = cls.sys.add_webhooks(env=FAST_RETRIES)
        cls.c = cls.sys.client("webhooks")

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.sys.close()

    def subscribe(self, receiver, types, secret=SECRET):
        rq = wh.CreateWebhookSubscriptionRequest(url=receiver.url, event_types=types,
                                                 secret=secret, description="test")
        return call(self.c, "webhooks.subscription.create", rq,
                    wh.WebhookSubscriptionReply).subscription

    def deliveries(self, sub, status=0):
        return call(self.c, "webhooks.delivery.list",
                    wh.ListWebhookDeliveriesRequest(subscription_id=sub.id, status=status,
                                                    page_size=500),
                    wh.ListWebhookDeliveriesReply).deliveries

    def count(self, sql, *args):
        return self.sys.cluster.query(self.sys.dbs["webhooks"], sql, *args)[0][0]

    def test_outage_then_every_event_in_order(self):
        r = Receiver(SECRET, self.sys.dir).start()
        # The receiver's verification is real: a forged signature is refused.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
        conn.request("POST", "/hooks", body=b'{"specversion":"1.0","id":"x"}',
                     headers={"webhook-id": "x", "webhook-timestamp": str(int(time.time())),
                              "webhook-signature": "v1,AAAA",
                              "Content-Type": "application/cloudevents+json"})
        self.assertEqual(conn.getresponse().status, 401)
        conn.close()
        self.assertEqual(len(r.rejected()), 1)
        sub = self.subscribe(r, ["crm.sales.probe."])
        self.assertTrue(sub.enabled)
        self.assertEqual(sub.secret, SECRET)
        self.sys.record("sales", 5, "before")
        wait_for(lambda: len(r.accepted()) >= 5, 30, "the first five events")
        # Down: connections refused. Events keep coming.
        r.stop()
        self.sys.record("sales", 10, "during")
        wait_for(lambda: any(d.status == wh.WEBHOOK_DELIVERY_STATUS_FAILED and d.attempts >= 2
                             for d in self.deliveries(sub)), 30, "a failed, retried delivery")
        failed = self.deliveries(sub, wh.WEBHOOK_DELIVERY_STATUS_FAILED)
        self.assertEqual(len(failed), 1, "head of line: only the oldest one is attempted")
        self.assertEqual(failed[0].last_http_status, 0)
        self.assertIn("onnect", failed[0].last_error)
        self.assertGreater(self.deliveries(sub)[0].delivered_at_us, 0)
        # Back, answering 503 for a while: still failing, still in order.
        r.start()
        r.mode("503")
        wait_for(lambda: len([e for e in r.entries() if e.get("refused")]) >= 2, 30,
                 "two attempts answered 503")
        self.assertEqual(self.deliveries(sub, wh.WEBHOOK_DELIVERY_STATUS_FAILED)[0].last_http_status,
                         503)
        r.mode("ok")
        wait_for(lambda: len({e["id"] for e in r.accepted()}) >= 15, 60, "all 15 events")
        accepted = r.accepted()
        order = in_stream_order(accepted, "sales")
        self.assertEqual(len(order), 15)
        self.assertEqual(order, sorted(order), "in stream order")
        self.assertEqual(order[-1] - order[0], 14, "none missing")
        self.assertEqual(max(e["concurrent"] for e in accepted), 1,
                         "one request at a time per subscription")
        self.assertEqual([e["reason"] for e in r.rejected()], ["no signature matches"],
                         "every delivery of the service verified")
        wait_for(lambda: all(d.status == wh.WEBHOOK_DELIVERY_STATUS_DELIVERED
                             for d in self.deliveries(sub)), 30, "all marked delivered")
        got = call(self.c, "webhooks.subscription.get", wh.WebhookSubscriptionIdRequest(id=sub.id),
                   wh.WebhookSubscriptionReply).subscription
        self.assertEqual(got.undelivered, 0)
        self.assertEqual(got.failing_since_us, 0)
        self.assertEqual(got.secret, "", "the secret is shown once")
        r.stop()

    def test_kill9_mid_delivery(self):
        r = Receiver(SECRET, self.sys.dir).start()
        sub = self.subscribe(r, ["crm.marketing."])
        r.mode("hang")
        self.sys.record("marketing", 10, "k")
        wait_for(lambda: any(e.get("hung") for e in r.entries()), 30, "a delivery in flight")
        self.proc.kill()  # SIGKILL, mid-delivery
        self.sys.record("marketing", 10, "while-dead")
        r.mode("ok")
        self.proc.start()
        wait_for(lambda: len({e["id"] for e in r.accepted()}) >= 20, 60, "all 20 events")
        accepted = r.accepted()
        order = in_stream_order(accepted, "marketing")
        self.assertEqual(len(order), 20)
        self.assertEqual(order, sorted(order))
        self.assertEqual(order[-1] - order[0], 19, "none missing")
        # At least once: a duplicate is a repeat with the same webhook-id.
        self.assertLessEqual(len(accepted) - 20, 2)
        wait_for(lambda: len(self.deliveries(sub, wh.WEBHOOK_DELIVERY_STATUS_DELIVERED)) == 20,
                 30, "all marked delivered")
        self.assertEqual(self.count("SELECT count(*) FROM wh_delivery WHERE subscription_id = %s",
                                    sub.id), 20, "each event enqueued once")
        self.assertEqual(r.rejected(), [])
        r.stop()

    def test_retry_and_update(self):
        r = Receiver(SECRET, self.sys.dir).start()
        r.mode("503")
        sub = self.subscribe(r, ["crm.support."])
        self.sys.record("support", 2, "r")
        wait_for(lambda: self.deliveries(sub, wh.WEBHOOK_DELIVERY_STATUS_FAILED), 30,
                 "a failed delivery")
        head = self.deliveries(sub, wh.WEBHOOK_DELIVERY_STATUS_FAILED)[0]
        pending = self.deliveries(sub, wh.WEBHOOK_DELIVERY_STATUS_PENDING)
        self.assertEqual(len(pending), 1)
        st = call(self.c, "webhooks.delivery.retry", wh.RetryWebhookDeliveryRequest(
            id=pending[0].id), None, PRECONDITION)
        self.assertIn("not failed", st.message)
        # Disabled: nothing is sent, retry says why.
        call(self.c, "webhooks.subscription.update", wh.UpdateWebhookSubscriptionRequest(
            id=sub.id, enabled=False), wh.WebhookSubscriptionReply)
        st = call(self.c, "webhooks.delivery.retry", wh.RetryWebhookDeliveryRequest(id=head.id),
                  None, PRECONDITION)
        self.assertIn("disabled", st.message)
        r.mode("ok")
        call(self.c, "webhooks.subscription.update", wh.UpdateWebhookSubscriptionRequest(
            id=sub.id, enabled=True), wh.WebhookSubscriptionReply)
        wait_for(lambda: len(r.accepted()) >= 2, 30, "both after enabling")
        rep = call(self.c, "webhooks.delivery.retry", wh.RetryWebhookDeliveryRequest(
            subscription_id=sub.id), wh.RetryWebhookDeliveryReply)
        self.assertEqual(rep.retried, 0)
        # Delete: the subscription and its deliveries.
        rep = call(self.c, "webhooks.subscription.delete", wh.WebhookSubscriptionIdRequest(
            id=sub.id), wh.DeleteWebhookSubscriptionReply)
        self.assertEqual(rep.deliveries_dropped, 2)
        call(self.c, "webhooks.subscription.get", wh.WebhookSubscriptionIdRequest(id=sub.id),
             None, NOT_FOUND)
        r.stop()

    def test_list_pages(self):
        r = Receiver(SECRET, self.sys.dir)
        r.port = 1  # never contacted: no event matches
        made = {self.subscribe(r, ["crm.analytics.nothing.%d." % i]).id for i in range(3)}
        seen, token = [], ""
        while True:
            rep = call(self.c, "webhooks.subscription.list", wh.ListWebhookSubscriptionsRequest(
                page_size=2, page_token=token), wh.ListWebhookSubscriptionsReply)
            seen += [s.id for s in rep.subscriptions]
            self.assertTrue(all(s.secret == "" for s in rep.subscriptions))
            token = rep.next_page_token
            if not token:
                break
        self.assertTrue(made <= set(seen))
        self.assertEqual(len(seen), len(set(seen)))

    def test_bad_input_changes_nothing(self):
        before = self.count("SELECT count(*) FROM wh_subscription")
        bad = [
            (dict(url="ftp://example.com/x", event_types=["crm.sales."]), "url"),
            (dict(url="not a url", event_types=["crm.sales."]), "url"),
            (dict(url="http://", event_types=["crm.sales."]), "url"),
            (dict(url="http://127.0.0.1/x", event_types=[]), "event_types"),
            (dict(url="http://127.0.0.1/x", event_types=["sales."]), "event_types"),
            (dict(url="http://127.0.0.1/x", event_types=["crm.sales."], secret="whsec_short"),
             "secret"),
            (dict(url="http://127.0.0.1/x", event_types=["crm.sales."], secret="plain"), "secret"),
        ]
        for fields, field in bad:
            st = call(self.c, "webhooks.subscription.create",
                      wh.CreateWebhookSubscriptionRequest(**fields), None, INVALID)
            self.assertEqual(st.field, field, fields)
            self.assertTrue(st.message and st.hint, st)
        unknown = "00000000-0000-4000-8000-000000000000"
        call(self.c, "webhooks.subscription.get", wh.WebhookSubscriptionIdRequest(id=unknown),
             None, NOT_FOUND)
        call(self.c, "webhooks.subscription.update", wh.UpdateWebhookSubscriptionRequest(
            id=unknown, enabled=False), None, NOT_FOUND)
        call(self.c, "webhooks.subscription.delete", wh.WebhookSubscriptionIdRequest(id=unknown),
             None, NOT_FOUND)
        call(self.c, "webhooks.delivery.retry", wh.RetryWebhookDeliveryRequest(id=unknown),
             None, NOT_FOUND)
        call(self.c, "webhooks.delivery.retry", wh.RetryWebhookDeliveryRequest(), None, INVALID)
        call(self.c, "webhooks.subscription.get", wh.WebhookSubscriptionIdRequest(id="nope"),
             None, INVALID)
        call(self.c, "webhooks.delivery.list", wh.ListWebhookDeliveriesRequest(page_token="x"),
             None, INVALID)
        # A principal without the right: a sales manager reads everything
        # else, but webhooks are for admins.
        self.sys.keys.key("manager", kind="staff", roles="sales-manager")
        self.sys.keys.write()
        m = self.sys.client("webhooks", principal="manager")
        try:
            st = call(m, "webhooks.subscription.create", wh.CreateWebhookSubscriptionRequest(
                url="http://127.0.0.1/x", event_types=["crm.sales."]), None, DENIED)
            self.assertIn("webhook", st.message + st.detail)
            call(m, "webhooks.subscription.list", wh.ListWebhookSubscriptionsRequest(), None,
                 DENIED)
        finally:
            m.close()
        self.assertEqual(self.count("SELECT count(*) FROM wh_subscription"), before)

    def test_crmctl_verbs(self):
        env = dict(os.environ, CRM_SERVICES="webhooks=" + self.sys.endpoints["webhooks"])

        def crmctl(*args, rc=0):
            return run_crmctl(self, env, args, rc, timeout=60)

        r = Receiver(SECRET, self.sys.dir).start()
        out = crmctl("webhook", "create", r.url, "--types", "crm.analytics.probe.",
                     "--description", "from crmctl").stdout
        self.assertIn("subscription", out)
        self.assertIn("secret:", out)
        secret = [ln.split()[-1] for ln in out.splitlines() if ln.startswith("secret:")][0]
        self.assertTrue(secret.startswith("whsec_"))
        sub = json.loads(crmctl("-o", "json", "webhook", "list", "--all").stdout)
        mine = [x for x in sub["subscriptions"] if x["url"] == r.url][0]
        self.assertNotIn("secret", mine)
        r.stop()
        r.secret = secret
        r.start()
        self.sys.record("analytics", 2, "cli")
        wait_for(lambda: len(r.accepted()) >= 2, 30, "deliveries signed with the made secret")
        self.assertEqual(r.rejected(), [])
        out = crmctl("webhook", "deliveries", "--subscription", mine["id"], "--status",
                     "delivered").stdout
        self.assertIn("crm.analytics.probe.recorded.v1", out)
        self.assertIn("delivered", out)
        self.assertIn("disabled", crmctl("webhook", "disable", mine["id"]).stdout)
        shown = json.loads(crmctl("-o", "json", "webhook", "show", mine["id"]).stdout)
        self.assertFalse(shown["subscription"].get("enabled", False))
        crmctl("webhook", "enable", mine["id"])
        err = crmctl("webhook", "retry", "00000000-0000-4000-8000-000000000000", rc=1).stderr
        self.assertIn("does not exist", err)
        crmctl("webhook", "create", "ftp://x", "--types", "crm.sales.", rc=1)
        crmctl("webhook", "retry", rc=2)
        self.assertIn("deleted", crmctl("webhook", "delete", mine["id"]).stdout)
        r.stop()


if __name__ == "__main__":
    unittest.main()
