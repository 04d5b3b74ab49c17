"""Webhooks (issue #16): a subscription whose receiver keeps failing is
disabled once it has failed without a success for CRM_WEBHOOK_DISABLE_AFTER
(three days by default; the test clock is moved instead of waiting), and
crm.webhooks.subscription.disabled.v1 is published through the outbox.
Enabling it again delivers what waited, in order."""
import unittest
import urllib.request

from crmtest import Receiver, System, event_pb2, rpc_pb2, testing_pb2, wait_for
from crm.v1 import webhooks_pb2 as wh  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DAY_US = 86400 * 1000000


class WebhooksDisable(unittest.TestCase):
    def setUp(self):
        self.sys = System()
        self.sys.start_bus()
        for name in ("sales", "marketing", "support", "analytics"):
            self.sys.add_probe(name)
        self.proc = self.sys.add_webhooks(env={
            "CRM_TEST_CLOCK": "0", "CRM_WEBHOOK_BACKOFF_BASE_MS": "50",
            "CRM_WEBHOOK_BACKOFF_CAP_MS": "200", "CRM_WEBHOOK_POLL_MS": "100"})
        self.c = self.sys.client("webhooks")
        # Timestamps follow the moved clock: the receiver does not judge them.
        self.r = Receiver(SECRET, self.sys.dir, tolerance=0).start()

    def tearDown(self):
        self.r.stop()
        self.c.close()
        self.sys.close()

    def call(self, command, msg, reply_type):
        rep = self.c.call(command, msg)
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_OK, rep.status)
        out = reply_type()
        out.ParseFromString(rep.body)
        return out

    def get(self, sub_id):
        return self.call("webhooks.subscription.get", wh.WebhookSubscriptionIdRequest(id=sub_id),
                         wh.WebhookSubscriptionReply).subscription

    def position(self, source):
        """The webhooks consumer's last applied sequence of `source`."""
        port = int(self.proc.env["CRM_HTTP_PORT"])
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
        for line in body.decode().splitlines():
            if line.startswith("crm_consumer_position{") and 'source="%s"' % source in line:
                return int(float(line.rsplit(" ", 1)[1]))
        return -1

    def test_failing_past_the_limit_is_disabled_and_said(self):
        bus = self.sys.subscribe(b"crm.webhooks.subscription.")
        self.addCleanup(bus.close)
        self.r.mode("503")
        sub = self.call("webhooks.subscription.create", wh.CreateWebhookSubscriptionRequest(
            url=self.r.url + "?token=kept-out-of-events", event_types=["crm.sales."],
            secret=SECRET), wh.WebhookSubscriptionReply).subscription
        self.sys.record("sales", 3, "d")
        wait_for(lambda: self.get(sub.id).failing_since_us > 0, 30, "a failure")
        # Two days later: failing, but not for long enough.
        self.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=2 * DAY_US),
                  testing_pb2.ClockSetReply)
        wait_for(lambda: len([e for e in self.r.entries() if e.get("refused")]) >= 3, 30,
                 "more attempts")
        self.assertTrue(self.get(sub.id).enabled)
        # Four days: disabled, and an event says so.
        self.call("crm.clock.set", testing_pb2.ClockSetRequest(offset_us=4 * DAY_US),
                  testing_pb2.ClockSetReply)
        wait_for(lambda: not self.get(sub.id).enabled, 30, "the subscription disabled")
        got = self.get(sub.id)
        self.assertIn("CRM_WEBHOOK_DISABLE_AFTER", got.disabled_reason)
        self.assertEqual(got.undelivered, 3)
        self.assertTrue(bus.poll(10000), "no disabled event on the bus")
        topic, body = bus.recv_multipart()
        self.assertEqual(topic, b"crm.webhooks.subscription.disabled.v1")
        ev = event_pb2.Event()
        ev.ParseFromString(body)
        self.assertEqual(ev.source, "webhooks")
        self.assertEqual(ev.webhook_subscription_disabled.subscription_id, sub.id)
        self.assertEqual(ev.webhook_subscription_disabled.url, self.r.url)
        self.assertEqual(ev.webhook_subscription_disabled.failing_since_us, got.failing_since_us)
        # Disabled: new events are not enqueued, nothing is sent.
        refused = len([e for e in self.r.entries() if e.get("refused")])
        before = self.position("sales")
        self.sys.record("sales", 1, "while-disabled")
        # Applied by the consumer while disabled, before it is enabled again.
        wait_for(lambda: self.position("sales") > before, 30, "the event while disabled")
        self.assertEqual(self.get(sub.id).undelivered, 3)
        # Enabled again: the three that waited arrive, in order.
        self.r.mode("ok")
        self.call("webhooks.subscription.update", wh.UpdateWebhookSubscriptionRequest(
            id=sub.id, enabled=True), wh.WebhookSubscriptionReply)
        wait_for(lambda: len(self.r.accepted()) >= 3, 30, "the waiting deliveries")
        seqs = [int(e["sequence"]) for e in self.r.accepted()]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), 3)
        self.assertGreaterEqual(len([e for e in self.r.entries() if e.get("refused")]), refused)
        self.assertEqual(self.r.rejected(), [])
        self.assertEqual(self.get(sub.id).failing_since_us, 0)


if __name__ == "__main__":
    unittest.main()
