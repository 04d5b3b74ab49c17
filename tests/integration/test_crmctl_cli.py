"""crmctl's own command line, without a service: --version, the help of a
verb group, --timeout against a port where nothing answers, named
contexts of a config file, and the shell completion script (sourced in a
real bash, its COMPREPLY checked). Every run gets a config file of its own
(CRM_CONFIG), so the user's ~/.config/crm/config plays no part."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from crmtest import BIN, SOURCE, free_port, keyring

CRMCTL = os.path.join(BIN, "crmctl")


class CrmctlCliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="crmctl-cli-")
        self.config = os.path.join(self.dir, "config")
        # crmctl talks CURVE: it needs its own key and the services' public
        # keys (the Keyring sets CRM_KEY_FILE and CRM_DIRECTORY_FILE).
        keyring().key("sales")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("CRM_SERVICES", "CRM_BUS_SUB_ENDPOINT", "CRM_CONTEXT")}
        self.env["CRM_CONFIG"] = self.config

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_ctl(self, *args, rc=0, env=None, timeout=60):
        p = subprocess.run([CRMCTL] + list(args), env=env or self.env, capture_output=True,
                           text=True, timeout=timeout)
        self.assertEqual(p.returncode, rc, "crmctl %s: exit %d\nstdout: %s\nstderr: %s" %
                         (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    # ---- version and help -------------------------------------------------

    def test_version_is_the_projects(self):
        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            version = re.search(r"project\(crm VERSION ([0-9.]+)", f.read()).group(1)
        for args in (["--version"], ["--version", "status"], ["person", "list", "--version"]):
            self.assertEqual(self.run_ctl(*args).stdout, "crmctl %s\n" % version)

    def test_group_help_is_help_not_an_error(self):
        for args in (["campaign", "--help"], ["campaign", "-h"], ["--help", "campaign"],
                     ["help", "campaign"]):
            p = self.run_ctl(*args)
            self.assertIn("crmctl campaign launch", p.stdout, args)
            self.assertIn("crmctl campaign create", p.stdout, args)
            self.assertNotIn("ticket", p.stdout, args)
            self.assertEqual(p.stderr, "", args)
        p = self.run_ctl("sla", "policy", "--help")
        self.assertIn("sla policy set", p.stdout)
        self.assertNotIn("sla calendar", p.stdout)
        # Without --help a group is still a usage error.
        p = self.run_ctl("campaign", rc=2)
        self.assertIn('"campaign" needs a subcommand', p.stderr)
        p = self.run_ctl("sla", "policy", rc=2)
        self.assertIn('"sla policy" needs a subcommand', p.stderr)
        self.assertIn("--version", self.run_ctl("--help").stdout)

    def test_json_help_names_the_verbs_proto_file(self):
        protos = {"campaign": "marketing", "segment": "marketing", "preference": "marketing",
                  "response": "marketing", "ticket": "support", "sla": "support",
                  "person": "sales", "org": "sales", "lead": "sales", "pipeline": "sales",
                  "deal": "sales", "order": "sales", "activity": "sales"}
        verbs = [line.strip().split("  ")[0]
                 for line in self.run_ctl("--help").stdout.split("Verbs:\n", 1)[1]
                 .split("\n\n", 1)[0].splitlines()]
        checked = 0
        for verb in verbs:
            group = verb.split()[0]
            if group not in protos:
                continue
            out = self.run_ctl(*(verb.split() + ["--help"])).stdout
            line = [l for l in out.splitlines() if l.strip().startswith("--json")]
            if not line:
                continue  # a verb without --json (ticket email)
            self.assertIn("(as in %s.proto)" % protos[group], line[0], verb)
            checked += 1
        self.assertGreater(checked, 60)

    # ---- --timeout ----------------------------------------------------------

    def test_timeout_bounds_the_wait_for_a_dead_service(self):
        env = dict(self.env, CRM_SERVICES="sales=tcp://127.0.0.1:%d" % free_port())
        start = time.monotonic()
        p = self.run_ctl("--timeout", "300ms", "person", "list", rc=3, env=env)
        self.assertLess(time.monotonic() - start, 5.0)
        self.assertIn("could not reach sales", p.stderr)
        self.assertIn("within 0.300 s", p.stderr)
        self.assertIn("--timeout", p.stderr)
        # After the verb too, and in a context.
        self.run_ctl("person", "list", "--timeout", "1", rc=3, env=env)
        for bad in ("0", "fast", "-1s", "2h", "10x"):
            p = self.run_ctl("--timeout", bad, "person", "list", rc=2, env=env)
            self.assertIn('invalid value "%s" for --timeout' % bad, p.stderr)

    # ---- contexts -----------------------------------------------------------

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def test_contexts_switch_the_services(self):
        dead_a, dead_b = free_port(), free_port()
        self.write_config("# two deployments\n"
                          "current-context = local\n\n"
                          "[local]\n"
                          "services = sales=tcp://127.0.0.1:%d\n"
                          "timeout = 200ms\n\n"
                          "[compose]\n"
                          "services = sales=tcp://127.0.0.1:%d\n"
                          "bus = tcp://127.0.0.1:7401\n"
                          "timeout = 250ms\n" % (dead_a, dead_b))
        # The current context's services and timeout apply.
        p = self.run_ctl("person", "list", rc=3)
        self.assertIn(":%d" % dead_a, p.stderr)
        self.assertIn("within 0.200 s", p.stderr)
        # --context names another; CRM_CONTEXT too.
        p = self.run_ctl("--context", "compose", "person", "list", rc=3)
        self.assertIn(":%d" % dead_b, p.stderr)
        p = self.run_ctl("person", "list", rc=3, env=dict(self.env, CRM_CONTEXT="compose"))
        self.assertIn(":%d" % dead_b, p.stderr)
        # CRM_SERVICES beats the current context, a named context beats it.
        env = dict(self.env, CRM_SERVICES="sales=tcp://127.0.0.1:1")
        self.assertIn(":1 ", self.run_ctl("person", "list", rc=3, env=env).stderr)
        p = self.run_ctl("--context", "compose", "person", "list", rc=3, env=env)
        self.assertIn(":%d" % dead_b, p.stderr)
        # --services beats everything.
        p = self.run_ctl("--context", "compose", "--services", "sales=tcp://127.0.0.1:2",
                         "person", "list", rc=3)
        self.assertIn(":2 ", p.stderr)

        listed = self.run_ctl("context", "list").stdout.splitlines()
        self.assertEqual(listed[0].split(), ["CURRENT", "NAME", "SERVICES", "BUS", "TIMEOUT"])
        self.assertTrue(listed[1].startswith("*"), listed)
        self.assertIn("local", listed[1])
        bare = self.run_ctl("context", "list", "--no-headers").stdout.splitlines()
        self.assertEqual(len(bare), 2)
        self.assertTrue(bare[0].startswith("*"), bare)
        self.assertNotIn("CURRENT", "\n".join(bare))
        doc = json.loads(self.run_ctl("context", "list", "-o", "json").stdout)
        self.assertEqual(doc["current"], "local")
        self.assertEqual([c["name"] for c in doc["contexts"]], ["local", "compose"])

        p = self.run_ctl("context", "use", "compose")
        self.assertIn("compose", p.stdout)
        with open(self.config) as f:
            text = f.read()
        self.assertIn("current-context = compose\n", text)
        self.assertIn("# two deployments\n", text)  # the rest of the file is kept
        self.assertNotIn("current-context = local", text)
        p = self.run_ctl("person", "list", rc=3)
        self.assertIn(":%d" % dead_b, p.stderr)

    def test_bad_contexts_are_clear_errors(self):
        self.write_config("[local]\nservices = sales=tcp://127.0.0.1:1\n")
        p = self.run_ctl("--context", "nope", "person", "list", rc=2)
        self.assertIn('unknown context "nope"', p.stderr)
        self.assertIn("local", p.stderr)
        p = self.run_ctl("context", "use", "nope", rc=2)
        self.assertIn('unknown context "nope"', p.stderr)
        with open(self.config) as f:
            self.assertNotIn("current-context", f.read())  # nothing changed
        # use adds the line when the file had none.
        self.run_ctl("context", "use", "local")
        with open(self.config) as f:
            self.assertTrue(f.read().startswith("current-context = local\n"))
        self.write_config("[local]\ncolour = blue\n")
        p = self.run_ctl("person", "list", rc=2)
        self.assertIn("unknown setting", p.stderr)
        self.assertIn("line 2", p.stderr)
        # A broken current context does not stand in the way of fixing it.
        self.write_config("current-context = gone\n[local]\nservices = sales=tcp://127.0.0.1:1\n")
        self.run_ctl("context", "list")
        self.run_ctl("context", "use", "local")
        # No file at all: no contexts, and the defaults apply.
        os.unlink(self.config)
        self.assertIn("no contexts", self.run_ctl("context", "list").stdout)

    # ---- completion ---------------------------------------------------------

    def complete(self, shell_words):
        """COMPREPLY of the bash completion for the words typed so far (the
        last one is the word being completed)."""
        script = self.run_ctl("completion", "bash").stdout
        path = os.path.join(self.dir, "crmctl.bash")
        with open(path, "w") as f:
            f.write(script)
        words = " ".join("'%s'" % w for w in [CRMCTL] + shell_words)
        cmd = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _crmctl; printf "%%s\\n" "${COMPREPLY[@]}"'
               % (path, words, len(shell_words)))
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", cmd], env=self.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return sorted(w for w in p.stdout.split("\n") if w)

    def test_bash_completion_follows_the_verb_table(self):
        self.assertEqual(self.complete(["camp"]), ["campaign"])
        self.assertEqual(self.complete(["campaign", "l"]), ["launch", "list"])
        self.assertEqual(self.complete(["sla", ""]), ["calendar", "figures", "policy"])
        self.assertEqual(self.complete(["sla", "policy", ""]), ["list", "set"])
        self.assertEqual(self.complete(["-o", "json", "deadletter", "r"]), ["retry"])
        self.assertEqual(self.complete(["-o", "j"]), ["json"])
        self.assertIn("--breached", self.complete(["ticket", "list", "--b"]))
        self.assertIn("--version", self.complete(["--v"]))
        self.assertEqual(self.complete(["completion", ""]), ["bash", "zsh"])
        self.assertIn("status", self.complete([""]))
        self.write_config("[local]\n[compose]\n")
        self.assertEqual(self.complete(["--context", "co"]), ["compose"])

    def test_zsh_completion_loads(self):
        script = self.run_ctl("completion", "zsh").stdout
        self.assertTrue(script.startswith("#compdef crmctl\n"))
        self.assertIn("bashcompinit", script)
        self.assertIn("complete -F _crmctl crmctl", script)
        zsh = shutil.which("zsh")
        if zsh:
            path = os.path.join(self.dir, "crmctl.zsh")
            with open(path, "w") as f:
                f.write(script)
            p = subprocess.run([zsh, "-f", "-c", "source %s && whence -w _crmctl" % path],
                               env=self.env, capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("function", p.stdout)
        self.run_ctl("completion", "fish", rc=2)


if __name__ == "__main__":
    unittest.main()
