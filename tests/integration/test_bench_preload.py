"""Benchmarks: the long mode's preloads (bench/preload.py) on a small size.
bench/run.sh --rows fills the main tables set-based before measuring; each
preload compares what the service wrote for its first rows with its own
rows for the same data and stops the run when they differ. This runs the
parts whose tables are preloaded at 600 rows and checks that the services
then worked on every preloaded row; it never looks at a timing. The commands
part's baselines run on fresh databases, not preloaded ones, the same as in
test_bench_smoke, which runs them: this test leaves them out."""
import json
import os
import subprocess
import unittest

from crmtest import BUILD, SOURCE


class BenchPreloadTest(unittest.TestCase):
    def test_long_mode_preloads_in_the_services_shape(self):
        argv = [os.path.join(SOURCE, "bench", "run.sh"), "--rows", "600",
                "--only", "commands,analytics,sales,marketing", "--no-commands-baselines",
                "--clients", "4", "--seconds", "1", "--scaling", "",
                "--analytics-rate", "50", "--analytics-live-seconds", "1",
                "--analytics-timeout", "120", "--sales-clients", "1,4", "--sales-seconds", "1",
                "--marketing-scan-ms", "100", "--marketing-timeout", "120"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=540,
                           env=dict(os.environ, CRM_BUILD_DIR=BUILD))
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        out = json.loads(r.stdout)
        self.assertEqual(out["rows"], [600])
        doc = out["by_rows"]["600"]
        self.assertNotIn("error", doc, doc.get("error"))
        self.assertEqual(doc["rows_preloaded"], 600)
        self.assertEqual(doc["durable_commands"]["crm"]["failed"], 0)

        # Analytics replayed every event written into the probes' streams
        # (120 customers, five events each, and the campaign), its own
        # event log holding each once.
        backlog = doc["analytics"]["backlog"]
        self.assertEqual(backlog["events_per_source"],
                         {"sales": 240, "marketing": 241, "support": 120})
        self.assertEqual(backlog["customer_event_rows"], 601)
        self.assertEqual(len(backlog["events_per_s_by_fifth"]), 5)
        self.assertTrue(doc["analytics"]["live"]["sequences_match_sends"])

        # Sales: 600 people with an order each before the runs, which then
        # registered more without an error.
        sales = doc["sales"]
        self.assertEqual(sales["preloaded"]["people"], 600)
        self.assertEqual(sales["preloaded"]["orders"], 600)
        self.assertGreater(sales["people_registered"], 600)
        for run in sales["runs"]:
            self.assertEqual((run["failed"], run["timeouts"]), (0, 0), run.get("first_error"))

        # Marketing decided every preloaded recipient.
        m = doc["marketing"]
        self.assertEqual(m["recipients"], 600)
        self.assertEqual(m["sends_by_status"], {"1": 600})
        self.assertEqual(m["deliveries_recorded"], 600)

        # The summary puts each figure at every size on one row.
        figures = [row["figure"] for row in out["summary_by_rows"]]
        self.assertTrue(any(f.startswith("analytics catch-up") for f in figures), figures)
        self.assertTrue(all(set(row["by_rows"]) == {"600"} for row in out["summary_by_rows"]))


if __name__ == "__main__":
    unittest.main()
