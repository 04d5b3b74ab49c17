"""Benchmarks: a smoke run of bench/run.sh with tiny sizes, so the suite
cannot rot unnoticed (a renamed command, a changed table, a program that
no longer builds). It checks that every part ran and counted what it was
given; it never looks at a timing (tests never assert timings)."""
import json
import os
import subprocess
import unittest

from crmtest import BUILD, SOURCE


class BenchSmokeTest(unittest.TestCase):
    def test_every_part_runs_on_tiny_sizes(self):
        argv = [os.path.join(SOURCE, "bench", "run.sh"),
                "--bus-runs", "1", "--bus-count", "20000", "--bus-seconds", "2",
                "--clients", "4", "--seconds", "1", "--scaling", "",
                "--rate", "200", "--low-rate", "0", "--overload-seconds", "1",
                "--analytics-events", "200", "--analytics-rate", "50",
                "--analytics-live-seconds", "1", "--analytics-timeout", "120",
                "--sales-clients", "1,4", "--sales-seconds", "1",
                "--marketing-recipients", "300", "--marketing-scan-ms", "100",
                "--marketing-timeout", "120", "--bridge-events", "200",
                "--webhooks-events", "50", "--webhooks-subscriptions", "4",
                "--api-clients", "4", "--api-seconds", "1", "--api-rounds", "2"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=540,
                           env=dict(os.environ, CRM_BUILD_DIR=BUILD))
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        doc = json.loads(r.stdout)
        # The default transport to PostgreSQL (--pg-transport), named in the document.
        self.assertEqual(doc["pg_transport"], "tcp")

        bus = doc["bus_throughput"]
        self.assertEqual(bus["drops"], {"crm-bus": 0, "raw": 0})
        self.assertGreater(bus["crm_bus_msgs_per_s"], 0)
        self.assertGreater(doc["durable_commands"]["crm"]["acknowledged"], 0)
        self.assertEqual(doc["durable_commands"]["crm"]["failed"], 0)
        # The same commands with every link plaintext, for the cost of CURVE.
        enc = doc["durable_commands"]["encryption"]
        self.assertGreater(enc["plaintext_acknowledged"], 0)
        self.assertEqual(enc["plaintext_failed"], 0)
        self.assertIn("curve_cost_pct", enc)
        self.assertIn("CURVE", bus["security"])
        # Every command not refused has its event; a refusal under a loaded
        # machine is UNAVAILABLE with its hint, never another failure.
        self.assertEqual(doc["latency"]["events_missing"], 0)
        self.assertEqual(doc["latency"]["detail"]["failed_other"], 0)
        # Overload: twice the ceiling the commands part measured, every
        # command answered (accepted, or refused at once with a hint).
        ov = doc["overload"]
        self.assertEqual(ov["offered_per_s"], round(2 * ov["ceiling_cmds_per_s"]), ov)
        self.assertEqual(ov["client_timeouts"], 0, ov)
        self.assertEqual(ov["other_failures"], 0, ov)
        self.assertGreater(ov["accepted"], 0, ov)
        self.assertEqual(set(ov["checks"]), {"queue_bounded", "refusals_with_retry_hint",
                                             "accepted_p99_under_100_ms", "no_client_timeouts"})
        self.assertGreater(doc["durable_commands"]["pgbench_batch_100"]["rows_per_s"], 0)

        # The JetStream peer: publishes acknowledged, every message of the
        # latency run delivered, and the fsync question answered.
        js = doc["jetstream"]
        if "skipped" not in js:
            run = js["runs"]["default"]
            self.assertGreater(run["acknowledged"], 0, run)
            self.assertEqual(run["failed"], 0, run)
            self.assertEqual(run["latency_missing"], 0, run)
            self.assertIn("before_ack", js["fsync"])

        # The summary: one row per figure, each with its target.
        figures = [r["figure"] for r in doc["summary"]]
        for part in ("bus:", "backbone: probe.record", "command to event", "overload",
                     "analytics catch-up", "marketing", "peak RSS"):
            self.assertTrue(any(f.startswith(part) for f in figures), (part, figures))

        # Analytics: every pre-loaded event is in its event log (plus the
        # campaign the marketing probe announces first), then each live
        # event got the sequence its latency is attributed by.
        backlog = doc["analytics"]["backlog"]
        self.assertEqual(backlog["events"], 201)
        self.assertEqual(backlog["events_per_source"],
                         {"sales": 80, "marketing": 81, "support": 40})
        self.assertEqual(backlog["customer_event_rows"], 201)
        live = doc["analytics"]["live"]
        self.assertEqual(live["events"], 50)
        self.assertTrue(live["sequences_match_sends"])

        # Sales: both concurrencies registered people without an error.
        sales = doc["sales"]
        self.assertEqual([r["clients"] for r in sales["runs"]], [1, 4])
        for run in sales["runs"]:
            self.assertGreater(run["cmds_per_s"], 0)
            self.assertEqual((run["failed"], run["timeouts"]), (0, 0), run.get("first_error"))
        self.assertGreater(sales["people_registered"], 0)

        # Marketing: every recipient decided (sent by SMS: nobody opted
        # out), each with a delivery record and a send.decided event.
        # The bridge: every event of the backlog is in JetStream once.
        bridge = doc["bridge"]
        if "skipped" not in bridge:
            self.assertEqual(bridge["events"], 200)
            self.assertEqual(bridge["messages_in_stream"], 200)

        # Webhooks: every event to every subscription, each signature good,
        # and the curl baseline sent as many.
        api = doc["api"]
        self.assertEqual([len(api["runs"]["native"]), len(api["runs"]["http"])], [2, 2])
        # A 503 (the service busy: CI runs tests beside this one) is an
        # answer, counted apart; anything else is a failure.
        self.assertEqual([api["native_failed"], api["http_failed"]], [0, 0], api)
        self.assertIn("http_unavailable", api)
        self.assertGreater(api["http_requests_per_s"], 0)
        wh = doc["webhooks"]
        self.assertEqual(wh["deliveries"], 200)
        self.assertGreaterEqual(wh["receiver"]["requests"], 200)
        self.assertEqual(wh["receiver"]["bad_signatures"], 0)
        self.assertEqual(wh["baseline"]["exit"], 0)
        self.assertGreater(wh["baseline"]["posts_per_s"], 0)

        m = doc["marketing"]
        self.assertEqual(m["recipients"], 300)
        self.assertEqual(m["sends_by_status"], {"1": 300})
        self.assertEqual(m["deliveries_recorded"], 300)
        self.assertGreaterEqual(m["events_published"], 300)


if __name__ == "__main__":
    unittest.main()
