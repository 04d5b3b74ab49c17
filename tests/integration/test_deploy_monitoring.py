"""deploy/prometheus and deploy/grafana: the alert rules pass `promtool check
rules` and their unit tests (`promtool test rules`), and the rules and the
Grafana dashboard use only metrics that the services export as documented
in docs/operations.md ("Metrics"), so that a renamed metric or label cannot
leave them silently empty."""
import json
import os
import re
import shutil
import subprocess
import unittest

import yaml

from crmtest import SOURCE

PROMTOOL = shutil.which("promtool")
RULES = os.path.join(SOURCE, "deploy", "prometheus", "crm-alerts.yml")
RULES_TEST = os.path.join(SOURCE, "deploy", "prometheus", "crm-alerts.test.yml")
CONFIG = os.path.join(SOURCE, "deploy", "prometheus", "prometheus.yml")
DASHBOARD = os.path.join(SOURCE, "deploy", "grafana", "crm-dashboard.json")
OPERATIONS = os.path.join(SOURCE, "docs", "operations.md")
# Names PromQL uses that are not metrics.
PROMQL_WORDS = {"sum", "by", "rate", "increase", "delta", "deriv", "and", "or", "on", "count",
                "histogram_quantile", "le", "job", "instance", "schema", "crm_service",
                "group_left", "version", "consumer", "source"}


def documented_metrics():
    with open(OPERATIONS) as f:
        text = f.read()
    names = set(re.findall(r"^\| `((?:crm|process)_[a-z_]+)` \|", text, re.M))
    names |= set(re.findall(r"`(process_[a-z_]+)`", text))
    names |= {"crm_build_info", "up"}
    hist = {n for n in names if n.endswith("_seconds")}
    names |= {n + s for n in hist for s in ("_bucket", "_sum", "_count")}
    return names


def metrics_in(expr):
    expr = re.sub(r"\{[^}]*\}", "", expr)       # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)      # ranges
    expr = re.sub(r'"[^"]*"', "", expr)
    return {w for w in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", expr)
            if w not in PROMQL_WORDS and not w.startswith("__")}


class MonitoringTest(unittest.TestCase):
    def promtool(self, *args):
        self.assertIsNotNone(PROMTOOL, "promtool missing: Debian package prometheus"
                                       " (tools/install-deps.sh)")
        return subprocess.run([PROMTOOL] + list(args), capture_output=True, text=True,
                              timeout=120, cwd=os.path.dirname(RULES))

    def test_promtool_check_rules(self):
        r = self.promtool("check", "rules", RULES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_promtool_check_config(self):
        r = self.promtool("check", "config", CONFIG)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(CONFIG) as f:
            doc = yaml.safe_load(f)
        jobs = {c["job_name"]: c for c in doc["scrape_configs"]}
        self.assertTrue(all(j.startswith("crm") for j in jobs))
        self.assertEqual(jobs["crm-bus"]["static_configs"][0]["targets"], ["bus:9400"])

    def test_promtool_test_rules(self):
        r = self.promtool("test", "rules", RULES_TEST)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_promtool_rejects_a_broken_rule(self):
        # The check above means something only if a mistake fails it.
        with open(RULES) as f:
            doc = yaml.safe_load(f)
        doc["groups"][0]["rules"][0]["expr"] = "crm_db_up =="
        broken = os.path.join(os.path.dirname(RULES), ".broken-test.yml")
        try:
            with open(broken, "w") as f:
                yaml.safe_dump(doc, f)
            self.assertNotEqual(self.promtool("check", "rules", broken).returncode, 0)
        finally:
            os.unlink(broken)

    def test_rules_cover_the_documented_alerts(self):
        with open(RULES) as f:
            doc = yaml.safe_load(f)
        rules = [r for g in doc["groups"] for r in g["rules"]]
        used = set()
        for r in rules:
            self.assertIn(r["labels"]["severity"], ("page", "ticket"), r["alert"])
            self.assertTrue(r["annotations"]["summary"], r["alert"])
            used |= metrics_in(r["expr"])
        known = documented_metrics()
        self.assertLessEqual(used, known, "rules use undocumented metrics")
        # Every metric docs/operations.md says to alert on has a rule.
        with open(OPERATIONS) as f:
            alert_on = set(re.findall(r"^\| `([a-z_]+)` \|[^|]*\|[^|]*\| [^|\s][^|]*\|$",
                                      f.read(), re.M))
        self.assertTrue(alert_on)
        for m in alert_on:
            self.assertTrue(any(m in u for u in used), "no rule for %s" % m)

    def test_dashboard_uses_documented_metrics(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        self.assertEqual(dash["uid"], "crm-backend")
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        self.assertGreaterEqual(len(exprs), 10)
        used = set()
        for e in exprs:
            used |= metrics_in(e.replace("$__rate_interval", "5m"))
        self.assertLessEqual(used, documented_metrics(), "dashboard uses undocumented metrics")
        for e in exprs:
            self.assertNotRegex(e, r"[{,]service=", "the label is crm_service")
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)))


if __name__ == "__main__":
    unittest.main()
