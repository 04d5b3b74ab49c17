"""`make run` (tools/run-local.sh) restarts a service that died, as
compose's `restart: unless-stopped` does, and gives up, saying why, after
repeated failures.

The script runs for real: its own embedded PostgreSQL cluster, crm-bus and
crm-sales, in a temporary directory (CRM_LOCAL_DIR) on ports of their own
(CRM_RUN_PORT_BASE). crm-sales is killed with SIGKILL; the test waits for
the script to say so and for the new process to log service.ready (no
sleeps), then checks that the new one answers commands. Killed again within
60 s of its start, with CRM_RESTART_MAX=2, it is left stopped with the
reason, while the bus keeps running; SIGTERM then stops everything."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest

from crmtest import BUILD, SOURCE, free_port, run_crmctl, wait_for


def _port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _port_base():
    """A base whose bus, sales and HTTP ports are free (run-local.sh's layout)."""
    for _ in range(50):
        base = free_port()
        if base > 60000:
            continue
        if all(_port_free(base + d) for d in (0, 1, 10, 2000, 2010)):
            return base
    raise RuntimeError("no free port range")


class RunLocalTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="crm-run-")
        os.chmod(self.dir, 0o755)  # the postgres user (when root) reaches the cluster under it
        self.base = _port_base()
        # Nothing of the test harness's own settings (crmtest exports its
        # keys and directory): the script makes and uses its own.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        self.env.update(CRM_BUILD_DIR=BUILD, CRM_LOCAL_DIR=os.path.join(self.dir, "local"),
                        CRM_LOCAL_PG_PORT=str(free_port()), CRM_RUN_PORT_BASE=str(self.base),
                        CRM_RUN_ONLY="sales", CRM_DEMO="0", CRM_RESTART_MAX="2",
                        CRM_RESTART_DELAY="1", XDG_CONFIG_HOME=os.path.join(self.dir, "config"),
                        HOME=self.dir)
        self.lines = []
        self.cond = threading.Condition()
        script = os.path.join(SOURCE, "tools", "run-local.sh")
        # The script finds build/bin beside itself: run a copy of tools/
        # inside a root whose build is ours.
        root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(root, "tools"))
        shutil.copy(script, os.path.join(root, "tools", "run-local.sh"))
        os.symlink(os.path.abspath(BUILD), os.path.join(root, "build"))
        self.proc = subprocess.Popen([os.path.join(root, "tools", "run-local.sh")], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def tearDown(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(timeout=10)
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def expect(self, pattern, after=0, timeout=180):
        """The index and match of the first output line from `after` on
        that matches pattern; fails if the script ends or the time runs out."""
        rx = re.compile(pattern)
        found = {}

        def seen():
            for i in range(after, len(self.lines)):
                line = self.lines[i]
                if line is None:
                    raise AssertionError("run-local.sh ended before %r:\n%s"
                                         % (pattern, "\n".join(l for l in self.lines if l)))
                m = rx.search(line)
                if m:
                    found["at"] = (i, m)
                    return True
            return False

        with self.cond:
            if not self.cond.wait_for(seen, timeout=timeout):
                raise AssertionError("no %r within %d s:\n%s" % (
                    pattern, timeout, "\n".join(l for l in self.lines if l)))
        return found["at"]

    def crmctl(self, *args, rc=0):
        env = dict(self.env, CRM_SERVICES="sales=tcp://127.0.0.1:%d" % (self.base + 10),
                   CRM_CONFIG="/nonexistent/crm-config")
        return run_crmctl(self, env, args, rc, timeout=60)

    def test_a_killed_service_comes_back_then_is_given_up(self):
        i, m = self.expect(r"^\[run-local\] sales started \(pid (\d+)\)$")
        first = int(m.group(1))
        i, _ = self.expect(r'^\[sales\] .*"event":"service.ready"', i)
        self.expect(r"^\[run-local\] Ctrl-C stops everything", 0)
        self.assertIn("Ada", self.crmctl("person", "register", "--name", "Ada",
                                         "--email", "ada@run.example").stdout)

        os.kill(first, signal.SIGKILL)
        i, _ = self.expect(r"^\[run-local\] sales exited unexpectedly \(killed by signal 9; log: "
                           r".*sales\.log\); restarting it in 1 s \(failure 1 of 2 in a row\)$", i)
        i, m = self.expect(r"^\[run-local\] sales started \(pid (\d+)\)$", i)
        second = int(m.group(1))
        self.assertNotEqual(first, second)
        i, _ = self.expect(r'^\[sales\] .*"event":"service.ready"', i)
        # The new process has the data of the first.
        self.assertIn("Ada", self.crmctl("person", "list").stdout)

        # Killed again within 60 s of its start: the second failure in a
        # row of CRM_RESTART_MAX=2, so it stays down, and the script says why.
        os.kill(second, signal.SIGKILL)
        i, _ = self.expect(r"^\[run-local\] sales exited unexpectedly \(killed by signal 9\) and "
                           r"has failed 2 times in a row, each within 60 s of starting: not "
                           r"restarting it; see .*sales\.log", i)
        i, _ = self.expect(r"^\[run-local\] the others keep running", i)
        self.assertIsNone(self.proc.poll())
        self.assertNotIn("restarting sales", "\n".join(l for l in self.lines[i:] if l))
        bus = subprocess.run([os.path.join(BUILD, "bin", "crm-bus"), "healthcheck"],
                             env=dict(self.env, CRM_HTTP_PORT=str(self.base + 2000)),
                             capture_output=True, timeout=30)
        self.assertEqual(bus.returncode, 0, bus.stderr)

        # SIGTERM stops the bus and the cluster; the script exits 0.
        os.kill(self.proc.pid, signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=60), 0)
        self.expect(r"^\[run-local\] stopping PostgreSQL", i)
        pg = os.path.join(self.env["CRM_LOCAL_DIR"], "pg", "data", "postmaster.pid")
        wait_for(lambda: not os.path.exists(pg), 30, "the cluster to stop")


if __name__ == "__main__":
    unittest.main()
