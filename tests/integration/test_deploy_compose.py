"""The docker compose deployment (issue #7), checked without a Docker engine.

docker-compose.yml is validated against the Compose JSON schema
(../shared/compose-spec.json) with the project's pinned ajv, then checked for
what the schema cannot see: every program it names is built and in the
image, every depends_on target is healthy before its dependents start, every
service has a health check, restart policy and stop grace period, secrets
and ports agree with the settings, and the image carries the libraries the
programs link.

Then the same scripts and commands run natively: deploy/postgres's init
script creates the roles and databases in a throwaway cluster (one service
cannot connect to another's database), deploy/entrypoint.sh starts crm-bus
and every service of the file with the environment compose would give them
(only hosts and ports adapted to this machine), in the order depends_on
allows, the health checks from the compose file pass once they are ready,
and SIGTERM stops them cleanly within their stop_grace_period. crm-probe,
standing in for sales, also shows that a service whose peers do not resolve
stays up and keeps asking them for replay."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.request

import psycopg2

import crmtest
from crmtest import BIN, SOURCE, free_port, wait_for

COMPOSE = os.path.join(SOURCE, "docker-compose.yml")
DEPLOY = os.path.join(SOURCE, "deploy")
DOCKERFILE = os.path.join(DEPLOY, "Dockerfile")
ENTRYPOINT = os.path.join(DEPLOY, "entrypoint.sh")
INITDB_DIR = os.path.join(DEPLOY, "postgres")
INIT_SCRIPT = os.path.join(INITDB_DIR, "10-crm-databases.sh")
MAKE_KEYS = os.path.join(DEPLOY, "make-keys.sh")
PRINCIPALS = "/etc/crm/principals/"  # where the directory of principals is mounted
SECRETS_DIR = os.path.join(DEPLOY, "secrets")
SCHEMA = os.path.join(SOURCE, "..", "shared", "compose-spec.json")
AJV = os.path.join(SOURCE, "node_modules", ".bin", "ajv")
JS_YAML = os.path.join(SOURCE, "node_modules", ".bin", "js-yaml")
IMAGE_DOCKERFILE = "deploy/Dockerfile"
# A password libpq and psql must quote: quotes, backslash, space, $, =.
NASTY_PASSWORD = "s'a\\l es\"$x=1"
# Services of our image that consume every stream but publish none (the
# bridge to NATS, profile "nats"; the HTTP API, crm-api): no entry in
# CRM_PEERS.
NOT_SOURCES = {"bridge", "api"}


# ---- reading the files -------------------------------------------------------

def load_yaml(path):
    """YAML (with anchors and merge keys) as plain data: python3-yaml, or
    node's js-yaml from node_modules when python3-yaml is not installed."""
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        with open(path) as f:
            return yaml.safe_load(f)
    if not os.access(JS_YAML, os.X_OK):
        raise AssertionError("neither python3-yaml nor node_modules/.bin/js-yaml is installed; "
                             "run `make deps`")
    out = subprocess.run([JS_YAML, path], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("js-yaml could not read %s:\n%s" % (path, out.stderr))
    return json.loads(out.stdout)


def interpolate(value):
    """${NAME:-default}, ${NAME-default} and ${NAME} as compose would
    expand them with nothing set in the environment."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}",
                  lambda m: m.group(1) or "", value)


def environment(svc):
    """A service's environment as a dict (compose allows a list or a dict)."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: interpolate("" if v is None else str(v)) for k, v in env.items()}


def duration_s(text):
    """A compose duration ("1m30s", "10s", "500ms") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        raise AssertionError("not a compose duration: %r" % (text,))
    return sum(float(n) * units[u] for n, u in parts)


def health_argv(svc):
    """The health check command of a service as an argv list."""
    test = svc["healthcheck"]["test"]
    if isinstance(test, str):
        return ["sh", "-c", test]
    if test[0] == "CMD":
        return list(test[1:])
    if test[0] == "CMD-SHELL":
        return ["sh", "-c", test[1]]
    raise AssertionError("unsupported healthcheck test %r" % (test,))


class Dockerfile:
    """What the tests need from deploy/Dockerfile."""

    def __init__(self, path):
        with open(path) as f:
            text = f.read()
        self.text = text
        joined = re.sub(r"\\\n", " ", text)
        m = re.search(r'^ARG CRM_TARGETS="([^"]*)"', joined, re.M)
        if not m:
            raise AssertionError("deploy/Dockerfile has no ARG CRM_TARGETS=\"...\"")
        self.targets = m.group(1).split()
        m = re.search(r"^COPY\s+(?:--\S+\s+)*deploy/entrypoint\.sh\s+(\S+)\s*$", joined, re.M)
        if not m:
            raise AssertionError("deploy/Dockerfile does not COPY deploy/entrypoint.sh")
        self.entrypoint_path = m.group(1)
        self.entrypoint_name = os.path.basename(self.entrypoint_path)
        stages = re.split(r"^FROM\s+", joined, flags=re.M)
        self.runtime = stages[-1]
        self.runtime_base = self.runtime.split()[0]
        m = re.search(r"apt-get install\s+((?:\S+\s+)*?)(?:&&|$)", self.runtime, re.M)
        self.runtime_packages = [w for w in (m.group(1).split() if m else [])
                                 if not w.startswith("-")]
        m = re.search(r"^ENTRYPOINT\s+(.*)$", self.runtime, re.M)
        self.entrypoint = json.loads(m.group(1)) if m else None
        m = re.search(r"^USER\s+(\S+)\s*$", self.runtime, re.M)
        self.user = m.group(1) if m else None


def compose_programs(svc):
    """The programs a service of our image runs: its command and the one its
    health check runs (after the entrypoint, when it goes through it)."""
    cmd = svc.get("command")
    if isinstance(cmd, str):
        cmd = cmd.split()
    return cmd, health_argv(svc)


# ---- static checks --------------------------------------------------------------

class ComposeFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = load_yaml(COMPOSE)
        cls.services = cls.doc.get("services") or {}
        cls.dockerfile = Dockerfile(DOCKERFILE)
        cls.ours = {name: svc for name, svc in cls.services.items()
                    if isinstance(svc.get("build"), dict)
                    and svc["build"].get("dockerfile") == IMAGE_DOCKERFILE}

    def _ajv(self, doc):
        self.assertTrue(os.access(AJV, os.X_OK), "node_modules/.bin/ajv missing: run `make deps`")
        self.assertTrue(os.path.exists(SCHEMA), "%s missing" % SCHEMA)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        try:
            return subprocess.run([AJV, "validate", "--spec=draft7", "-c", "ajv-formats",
                                   "--strict=false", "--errors=text", "-s", SCHEMA, "-d", f.name],
                                  capture_output=True, text=True, timeout=120)
        finally:
            os.unlink(f.name)

    def test_schema(self):
        out = self._ajv(self.doc)
        self.assertEqual(out.returncode, 0, "docker-compose.yml does not match the Compose "
                         "schema:\n%s%s" % (out.stdout, out.stderr))

    def test_schema_rejects_a_broken_file(self):
        # The validation above means something only if a mistake fails it.
        broken = json.loads(json.dumps(self.doc))
        broken["services"]["bus"]["stop_grace_periods"] = "10s"
        out = self._ajv(broken)
        self.assertNotEqual(out.returncode, 0, "ajv accepted an unknown service key")
        self.assertIn("services/bus must NOT have additional properties", out.stdout + out.stderr)

    def test_services_present(self):
        self.assertIn("postgres", self.services)
        self.assertIn("bus", self.ours)
        self.assertTrue(self.ours, "no service builds deploy/Dockerfile")
        for name, svc in self.services.items():
            if name in self.ours:
                continue
            image = svc.get("image", "")
            self.assertRegex(image, r"^[^:]+:(?!latest$)[\w.-]+$",
                             "%s: a third-party image must be pinned to a tag" % name)

    def test_programs_exist(self):
        df = self.dockerfile
        missing = set()
        for name, svc in self.ours.items():
            cmd, health = compose_programs(svc)
            self.assertTrue(cmd, "%s has no command: every service of the image picks one" % name)
            programs = [cmd[0]]
            if health[0] == df.entrypoint_name:
                self.assertGreater(len(health), 1, "%s: healthcheck runs the entrypoint alone" % name)
                programs.append(health[1])
            else:
                programs.append(health[0])
            for prog in programs:
                self.assertNotIn("/", prog, "%s: name programs by their PATH name" % name)
                self.assertIn(prog, df.targets,
                              "%s runs %s, which deploy/Dockerfile does not build (CRM_TARGETS %s)"
                              % (name, prog, df.targets))
                if not os.path.exists(os.path.join(BIN, prog)):
                    missing.add(prog)
        for t in df.targets:
            if not os.path.exists(os.path.join(BIN, t)):
                missing.add(t)
        self.assertTrue(os.access(ENTRYPOINT, os.X_OK), "deploy/entrypoint.sh is not executable")
        if missing:
            self.skipTest("named in docker-compose.yml / deploy/Dockerfile but not built yet: %s "
                          "(no %s); everything else checked" %
                          (", ".join(sorted(missing)),
                           ", ".join("build/bin/" + m for m in sorted(missing))))

    def test_depends_on_healthy(self):
        for name, svc in self.services.items():
            deps = svc.get("depends_on")
            if deps is None:
                continue
            self.assertIsInstance(deps, dict, "%s: depends_on must use the long form with "
                                  "condition: service_healthy" % name)
            for target, opts in deps.items():
                self.assertIn(target, self.services, "%s depends on unknown %s" % (name, target))
                self.assertEqual((opts or {}).get("condition"), "service_healthy",
                                 "%s: depends_on %s must wait for service_healthy" % (name, target))
                hc = self.services[target].get("healthcheck") or {}
                self.assertTrue(hc.get("test") and not hc.get("disable")
                                and hc.get("test") != ["NONE"],
                                "%s depends on %s, which has no health check" % (name, target))

    def test_policies(self):
        for name, svc in self.services.items():
            self.assertIn(svc.get("restart"), ("always", "unless-stopped", "on-failure"),
                          "%s: restart policy" % name)
            self.assertIn("stop_grace_period", svc, "%s: stop_grace_period" % name)
            duration_s(svc["stop_grace_period"])
            hc = svc.get("healthcheck") or {}
            for key in ("test", "interval", "timeout", "retries", "start_period"):
                self.assertIn(key, hc, "%s: healthcheck.%s" % (name, key))
            for key in ("interval", "timeout", "start_period"):
                duration_s(hc[key])
        for name, svc in self.ours.items():
            env = environment(svc)
            if "CRM_SHUTDOWN_TIMEOUT_MS" in env or name != "bus":
                grace_ms = 1000 * duration_s(svc["stop_grace_period"])
                self.assertGreaterEqual(grace_ms, int(env.get("CRM_SHUTDOWN_TIMEOUT_MS", 5000)) + 2000,
                                        "%s: stop_grace_period below CRM_SHUTDOWN_TIMEOUT_MS + 2 s"
                                        % name)

    def test_resource_limits(self):
        """Every container has a CPU and memory limit; ours also a process
        and open-file limit (above what a service's sockets need)."""
        def value(v):
            m = re.fullmatch(r"\$\{[A-Z_]+:-([^}]+)\}", str(v))
            return m.group(1) if m else str(v)
        for name, svc in self.services.items():
            limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
            self.assertGreater(float(value(limits.get("cpus", 0))), 0, "%s: cpus limit" % name)
            mem = value(limits.get("memory", ""))
            self.assertRegex(mem, r"^\d+[MG]$", "%s: memory limit" % name)
            self.assertGreaterEqual(int(mem[:-1]) * (1024 if mem[-1] == "G" else 1), 256,
                                    "%s: memory limit below 256M" % name)
        for name, svc in self.ours.items():
            self.assertGreater(svc.get("pids_limit", 0), 0, "%s: pids_limit" % name)
            self.assertGreaterEqual(svc["ulimits"]["nofile"]["soft"], 4096, name)

    def test_services_settings(self):
        """Ports, peers, roles and secrets agree with each other."""
        pg_env = environment(self.services["postgres"])
        db_services = pg_env.get("CRM_DB_SERVICES", "").split()
        pg_secrets = self.services["postgres"].get("secrets") or []
        peers = {}
        sample = next(iter(s for n, s in self.ours.items() if n != "bus"), None)
        if sample is not None:
            for item in environment(sample).get("CRM_PEERS", "").split(","):
                k, _, v = item.partition("=")
                peers[k] = v
            self.assertEqual(sorted(peers), sorted(set(db_services) - NOT_SOURCES),
                             "CRM_PEERS and the databases should name the same services")
        for svc in db_services:
            self.assertIn("%s_db_password" % svc, pg_secrets,
                          "postgres needs the %s_db_password secret to create crm_%s" % (svc, svc))
            self.assertIn("%s_db_owner_password" % svc, pg_secrets,
                          "postgres needs the %s_db_owner_password secret to create crm_%s_owner"
                          % (svc, svc))
        for name, svc in self.ours.items():
            env = environment(svc)
            binds = set()
            for key in ("CRM_BIND", "CRM_BUS_XSUB_BIND", "CRM_BUS_XPUB_BIND"):
                if key in env:
                    self.assertRegex(env[key], r"^tcp://0\.0\.0\.0:\d+$",
                                     "%s: %s must bind every interface of the container" % (name, key))
                    binds.add(int(env[key].rsplit(":", 1)[1]))
            if "CRM_HTTP_PORT" in env:
                binds.add(int(env["CRM_HTTP_PORT"]))
            if "API_PORT" in env:  # crm-api's HTTP API
                self.assertEqual(env.get("API_HOST"), "0.0.0.0", "%s: API_HOST" % name)
                binds.add(int(env["API_PORT"]))
                self.assertEqual(env.get("CRM_HTTP_HOST"), "0.0.0.0", "%s: CRM_HTTP_HOST" % name)
            for p in svc.get("ports") or []:
                container = int(str(interpolate(str(p))).split("/")[0].rsplit(":", 1)[-1])
                self.assertIn(container, binds, "%s publishes %d, which it does not bind" %
                              (name, container))
            if name == "bus":
                continue
            if name in NOT_SOURCES:
                self.assertNotIn(name, peers, "%s publishes no events: it is nobody's peer" % name)
            else:
                bind_port = env["CRM_BIND"].rsplit(":", 1)[1]
                self.assertEqual(peers.get(name), "tcp://%s:%s" % (name, bind_port),
                                 "CRM_PEERS entry of %s does not match its CRM_BIND" % name)
            self.assertEqual(env.get("CRM_BUS_PUB_ENDPOINT"), "tcp://bus:7400")
            self.assertEqual(env.get("CRM_BUS_SUB_ENDPOINT"), "tcp://bus:7401")
            self.assertIn(name, db_services, "postgres creates no database for %s" % name)
            self.assertEqual(env.get("CRM_PG_USER"), "crm_" + name)
            self.assertEqual(env.get("CRM_PG_DB"), "crm_" + name)
            self.assertEqual(env.get("CRM_PG_PASSWORD_FILE"), "/run/secrets/%s_db_password" % name)
            # Migrations as the owner role; the service runs as crm_<name>.
            self.assertEqual(env.get("CRM_PG_MIGRATE_USER"), "crm_%s_owner" % name)
            self.assertEqual(env.get("CRM_PG_MIGRATE_PASSWORD_FILE"),
                             "/run/secrets/%s_db_owner_password" % name)

            _, health = compose_programs(svc)
            self.assertEqual(health[0], self.dockerfile.entrypoint_name,
                             "%s: the healthcheck loads CRM_PG_URL, so it must go through %s"
                             % (name, self.dockerfile.entrypoint_name))

    def test_curve_settings(self):
        """Every program holds its own keypair as a secret and reads the one
        directory of principals from the mounted folder; none runs in
        plaintext."""
        for name, svc in self.ours.items():
            env = environment(svc)
            self.assertEqual(env.get("CRM_KEY_FILE"), "/run/secrets/%s_key" % name, name)
            self.assertTrue(env.get("CRM_DIRECTORY_FILE", "").startswith(PRINCIPALS), name)
            self.assertNotIn(env.get("CRM_INSECURE_PLAINTEXT", "0"), ("1", "true", "yes", "on"),
                             name)
            self.assertIn("./deploy/principals:%s:ro" % PRINCIPALS.rstrip("/"),
                          svc.get("volumes") or [], name)
        self.assertTrue(os.path.exists(os.path.join(DEPLOY, "principals", "directory.example")))

    def test_secrets(self):
        declared = self.doc.get("secrets") or {}
        for sname, spec in declared.items():
            path = os.path.normpath(os.path.join(SOURCE, spec.get("file", "")))
            self.assertEqual(os.path.dirname(path), os.path.normpath(SECRETS_DIR),
                             "secret %s must be a file in deploy/secrets/" % sname)
            self.assertTrue(os.path.exists(path + ".example"),
                            "secret %s has no %s.example" % (sname, os.path.relpath(path, SOURCE)))
        for name, svc in self.services.items():
            mounted = [s if isinstance(s, str) else s["source"] for s in svc.get("secrets") or []]
            for s in mounted:
                self.assertIn(s, declared, "%s uses undeclared secret %s" % (name, s))
            for key, value in environment(svc).items():
                if value.startswith("/run/secrets/"):
                    self.assertIn(value[len("/run/secrets/"):], mounted,
                                  "%s: %s names a secret the service does not mount" % (name, key))
            for key in environment(svc):
                self.assertFalse(re.search(r"PASSWORD$", key),
                                 "%s: %s in plain text; use a secret file" % (name, key))
        mounts = self.services["postgres"].get("volumes") or []
        self.assertIn("./deploy/postgres:/docker-entrypoint-initdb.d:ro", mounts)

    def test_dockerfile(self):
        df = self.dockerfile
        self.assertEqual(df.runtime_base, "debian:bookworm-slim")
        self.assertRegex(df.text, r"(?m)^FROM debian:bookworm AS build$")
        self.assertIn("-DBUILD_TESTING=OFF", df.text)
        self.assertIsInstance(df.entrypoint, list, "ENTRYPOINT must be in exec form")
        self.assertIn(df.entrypoint[0], ("/usr/bin/tini", "/sbin/tini", "tini"))
        self.assertEqual(df.entrypoint[-1], df.entrypoint_path)
        self.assertIn("tini", df.runtime_packages)
        self.assertRegex(df.user or "", r"^[1-9]\d*(:\d+)?$", "USER must be numeric and not root")
        # The build stage installs a subset of the project's package list.
        with open(os.path.join(SOURCE, "tools", "install-deps.sh")) as f:
            m = re.search(r"^PACKAGES=\((.*?)^\)", f.read(), re.M | re.S)
        self.assertTrue(m, "PACKAGES=(...) not found in tools/install-deps.sh")
        project = set(re.sub(r"#.*", "", m.group(1)).split())
        build = re.split(r"^FROM\s+", re.sub(r"\\\n", " ", df.text), flags=re.M)[1]
        m = re.search(r"apt-get install\s+((?:\S+\s+)*?)(?:&&|$)", build, re.M)
        build_packages = [w for w in m.group(1).split() if not w.startswith("-")]
        self.assertTrue(build_packages)
        self.assertEqual(sorted(set(build_packages) - project), [],
                         "the build stage installs packages tools/install-deps.sh does not list")
        with open(os.path.join(DEPLOY, "Dockerfile.dockerignore")) as f:
            ignored = f.read().split()
        self.assertIn("deploy/secrets", ignored)

    def test_runtime_libraries(self):
        """The runtime stage installs the package of every library the
        programs link (as this machine's Debian 12 packages them)."""
        if not shutil.which("readelf") or not shutil.which("dpkg"):
            self.skipTest("readelf or dpkg not available")
        df = self.dockerfile
        base = {"libc6", "libgcc-s1"}  # in debian:bookworm-slim
        needed = {}
        for t in df.targets:
            path = os.path.join(BIN, t)
            if not os.path.exists(path):
                continue
            dyn = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
            needed[t] = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
        if not needed:
            self.skipTest("no program of CRM_TARGETS is built")
        # Where each library is, and the packages owning each such file: one
        # `dpkg -S` for all of them (each call reads the whole package
        # database: 0.3 CPU seconds, 200 calls when asked per program and
        # library). A path no package owns is left out of its answer.
        where = {lib: [p for p in (os.path.join(d, lib) for d in (
                     "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib",
                     "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu")) if os.path.exists(p)]
                 for libs in needed.values() for lib in libs}
        paths = sorted({p for ps in where.values() for p in ps})
        owned = {p: set() for p in paths}
        if paths:
            out = subprocess.run(["dpkg", "-S"] + paths, capture_output=True, text=True)
            for line in out.stdout.splitlines():
                pkgs, sep, p = line.rpartition(": ")
                if sep and p in owned:  # "pkg:arch[, pkg2:arch]: /path"
                    owned[p] |= {o.strip().split(":")[0] for o in pkgs.split(",")}
        for t, libs in needed.items():
            for lib in libs:
                owners = set().union(*(owned[p] for p in where[lib]))
                self.assertTrue(owners, "%s links %s, which no package owns here" % (t, lib))
                self.assertTrue(owners & (set(df.runtime_packages) | base),
                                "%s links %s (package %s), which the runtime image does not install"
                                % (t, lib, ", ".join(sorted(owners))))

    def test_scripts_lint(self):
        for path in (ENTRYPOINT, INIT_SCRIPT, MAKE_KEYS):
            self.assertTrue(os.access(path, os.X_OK), "%s is not executable" % path)
            out = subprocess.run(["sh", "-n", path], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            if shutil.which("shellcheck"):
                out = subprocess.run(["shellcheck", "-s", "sh", path], capture_output=True, text=True)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


# ---- the same commands, natively ------------------------------------------------

class PortMap:
    """Compose's fixed ports, each mapped to a free port on this machine."""

    def __init__(self):
        self.map = {}

    def __call__(self, port):
        port = int(port)
        if port not in self.map:
            self.map[port] = free_port()
        return self.map[port]


class DeployRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = load_yaml(COMPOSE)
        cls.services = cls.doc["services"]
        cls.ours = {name: svc for name, svc in cls.services.items()
                    if isinstance(svc.get("build"), dict)
                    and svc["build"].get("dockerfile") == IMAGE_DOCKERFILE}
        cls.dockerfile = Dockerfile(DOCKERFILE)
        cls.dir = tempfile.mkdtemp(prefix="crm-deploy-")
        cls.cluster = crmtest.Cluster()
        try:
            cls._prepare()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _prepare(cls):
        # Like the postgres image: trust on the socket, passwords over TCP;
        # the harness's own superuser "crm" keeps trust on loopback.
        cls.cluster.stop()
        with open(os.path.join(cls.cluster.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "host all crm 127.0.0.1/32 trust\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n")
        cls.cluster.start()
        cls.pg_bin = crmtest.pg_bindir()
        cls.secrets = os.path.join(cls.dir, "secrets")
        os.mkdir(cls.secrets)
        cls.db_services = environment(cls.services["postgres"])["CRM_DB_SERVICES"].split()
        # What deploy/make-keys.sh makes: a keypair per program, as the
        # secret <name>_key, and the directory listing them.
        cls.principals = os.path.join(cls.dir, "principals")
        os.mkdir(cls.principals)
        lines = []
        for name in cls.ours:
            subprocess.run([os.path.join(BIN, "crm-keys"), "new", name, "--dir", cls.dir],
                           check=True, capture_output=True)
            os.rename(os.path.join(cls.dir, name + ".key"), os.path.join(cls.secrets, name + "_key"))
            with open(os.path.join(cls.dir, name + ".pub")) as f:
                pub = re.search(r'public-key = "([^"]+)"', f.read()).group(1)
            lines.append("%s %s service - -\n" % (pub, name))
        with open(os.path.join(cls.principals, "directory"), "w") as f:
            f.writelines(lines)
        cls.passwords = {}
        for svc in cls.db_services:
            pw = NASTY_PASSWORD + svc if svc == "sales" else "pw-%s-%s" % (svc, os.urandom(4).hex())
            cls.passwords[svc] = pw
            with open(os.path.join(cls.secrets, "%s_db_password" % svc), "w") as f:
                f.write(pw + "\n")
            cls.passwords[svc + "_owner"] = "pw-%s-owner-%s" % (svc, os.urandom(4).hex())
            with open(os.path.join(cls.secrets, "%s_db_owner_password" % svc), "w") as f:
                f.write(cls.passwords[svc + "_owner"] + "\n")
        # The image's PATH: programs under their own names, the entrypoint
        # under its image name.
        cls.path_dir = os.path.join(cls.dir, "bin")
        os.mkdir(cls.path_dir)
        os.symlink(ENTRYPOINT, os.path.join(cls.path_dir, cls.dockerfile.entrypoint_name))
        cls.init_out = cls.run_init(sourced=False)

    @classmethod
    def tearDownClass(cls):
        cls.cluster.destroy()
        if os.environ.get("CRM_KEEP_LOGS"):
            print("logs kept in", cls.dir)
        else:
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def init_env(cls):
        return dict(os.environ, PATH=cls.pg_bin + os.pathsep + os.environ["PATH"],
                    PGHOST="127.0.0.1", PGPORT=str(cls.cluster.port), POSTGRES_USER="crm",
                    CRM_SECRETS_DIR=cls.secrets,
                    CRM_DB_SERVICES=environment(cls.services["postgres"])["CRM_DB_SERVICES"])

    @classmethod
    def run_init(cls, sourced):
        # Executed when the file is executable, sourced by the image's bash
        # entrypoint (set -Eeo pipefail) otherwise.
        argv = (["bash", "-c", 'set -Eeo pipefail; . "$0"; echo sourced-ok', INIT_SCRIPT]
                if sourced else [INIT_SCRIPT])
        out = subprocess.run(argv, env=cls.init_env(), capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s" % (INIT_SCRIPT, out.returncode, out.stdout,
                                                          out.stderr))
        return out.stdout

    def connect(self, svc, db, password=None):
        return psycopg2.connect(host="127.0.0.1", port=self.cluster.port, user="crm_" + svc,
                                dbname=db, password=self.passwords[svc] if password is None
                                else password, connect_timeout=10)

    # -- the init script --

    def test_init_roles_and_databases(self):
        for svc in self.db_services:
            self.assertIn("database crm_%s ready" % svc, self.init_out)
            rows = self.cluster.query(
                "postgres", "SELECT pg_get_userbyid(datdba), has_database_privilege('public', oid,"
                " 'CONNECT') FROM pg_database WHERE datname = %s", "crm_" + svc)
            self.assertEqual(rows, [("crm_%s_owner" % svc, False)])
            for role in ("crm_" + svc, "crm_%s_owner" % svc):
                rows = self.cluster.query(
                    "postgres", "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin"
                    " FROM pg_roles WHERE rolname = %s", role)
                self.assertEqual(rows, [(False, False, False, True)], role)
            self.connect(svc, "crm_" + svc).close()
            self.connect(svc + "_owner", "crm_" + svc).close()

    def test_init_isolation(self):
        others = [s for s in self.db_services if s != "sales"]
        self.assertTrue(others)
        for db in ["crm_" + s for s in others] + ["postgres", "template1"]:
            for role in ("sales", "sales_owner"):
                with self.assertRaises(psycopg2.OperationalError) as cm:
                    self.connect(role, db).close()
                self.assertIn("permission denied for database", str(cm.exception))
        with self.assertRaises(psycopg2.OperationalError) as cm:
            self.connect("sales", "crm_sales", password="wrong").close()
        self.assertIn("password authentication failed", str(cm.exception))

    def test_init_idempotent_when_sourced(self):
        out = self.run_init(sourced=True)
        self.assertIn("sourced-ok", out)
        self.connect("sales", "crm_sales").close()

    def test_init_fails_without_secret(self):
        env = self.init_env()
        env["CRM_DB_SERVICES"] = "nosuch"
        out = subprocess.run([INIT_SCRIPT], env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("nosuch_db_password", out.stderr)

    def test_postgres_healthcheck(self):
        argv = health_argv(self.services["postgres"])
        env = dict(self.init_env(), PGPORT=str(self.cluster.port))
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, "%s: %s" % (argv, out.stdout + out.stderr))

    # -- the entrypoint --

    def entrypoint(self, env, *argv):
        return subprocess.run([ENTRYPOINT] + list(argv), env=env, capture_output=True, text=True,
                              timeout=30)

    def test_entrypoint_builds_the_url(self):
        env = self.native_env("sales", PortMap())
        out = self.entrypoint(env, "sh", "-c", 'printf %s "$CRM_PG_URL"; '
                              'test -z "${CRM_PG_PASSWORD:-}" || echo " leaked"')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn("leaked", out.stdout)
        # The URL names no password: that stays in the secret file, which
        # the service reads itself.
        self.assertNotIn("password", out.stdout)
        self.assertNotIn(self.passwords["sales"], out.stdout)
        with self.assertRaises(psycopg2.OperationalError):
            psycopg2.connect(out.stdout).close()
        with open(env["CRM_PG_PASSWORD_FILE"]) as f:
            c = psycopg2.connect(out.stdout, password=f.read().rstrip("\n"))
        self.assertEqual(c.get_dsn_parameters()["user"], "crm_sales")
        c.close()
        # The operator's own CRM_PG_URL wins; without CRM_PG_HOST nothing changes.
        out = self.entrypoint(dict(env, CRM_PG_URL="dbname=x"), "sh", "-c", 'printf %s "$CRM_PG_URL"')
        self.assertEqual(out.stdout, "dbname=x")
        bare = {k: v for k, v in env.items() if k != "CRM_PG_HOST"}
        out = self.entrypoint(bare, "sh", "-c", 'printf %s "${CRM_PG_URL-unset}"')
        self.assertEqual(out.stdout, "unset")

    def test_entrypoint_errors(self):
        env = self.native_env("sales", PortMap())
        out = self.entrypoint(dict(env, CRM_PG_PASSWORD_FILE=os.path.join(self.dir, "nope")), "true")
        self.assertEqual(out.returncode, 2)
        self.assertIn("could not read the password file", out.stderr)
        self.assertEqual(out.stdout, "")
        out = self.entrypoint({k: v for k, v in env.items() if k != "CRM_PG_USER"}, "true")
        self.assertEqual(out.returncode, 2)
        self.assertIn("CRM_PG_USER", out.stderr)
        out = self.entrypoint(env)
        self.assertEqual(out.returncode, 2)
        # A password in the environment is refused, with a hint.
        out = self.entrypoint(dict(env, CRM_PG_PASSWORD="x"), "true")
        self.assertEqual(out.returncode, 2)
        self.assertIn("CRM_PG_PASSWORD_FILE", out.stderr)
        self.assertNotIn("x\n", out.stderr)
        out = self.entrypoint(dict(env, CRM_PG_MIGRATE_PASSWORD="x"), "true")
        self.assertEqual(out.returncode, 2)
        self.assertIn("CRM_PG_MIGRATE_PASSWORD_FILE", out.stderr)
        out = self.entrypoint(dict(env, CRM_PG_MIGRATE_PASSWORD_FILE=os.path.join(self.dir, "no")),
                              "true")
        self.assertEqual(out.returncode, 2)
        self.assertIn("could not read the password file", out.stderr)

    def test_service_reads_the_password_file(self):
        """Without the entrypoint: the service adds the password from
        CRM_PG_PASSWORD_FILE to a CRM_PG_URL (URI form here) that has none,
        refuses CRM_PG_PASSWORD in the environment, and warns about a URL
        that carries a password; the password shows in no log line."""
        env = self.native_env("sales", PortMap(), {
            "PROBE_NAME": "sales", "CRM_PG_URL": "postgresql://crm_sales@127.0.0.1:%d/crm_sales"
            % self.cluster.port})
        env.pop("CRM_PG_HOST")
        probe = os.path.join(BIN, "crm-probe")
        out = subprocess.run([probe], env=dict(env, CRM_PG_PASSWORD="pw"), capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("CRM_PG_PASSWORD_FILE", out.stderr)
        p = subprocess.Popen([probe], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        try:
            line = ""
            for line in p.stdout:
                if '"event":"service.ready"' in line or '"event":"service.exit"' in line:
                    break
            self.assertIn('"event":"service.ready"', line)
            self.assert_no_password(p.pid, "sales")
        finally:
            p.terminate()
            log = p.communicate(timeout=30)[0]
        self.assertNotIn(self.passwords["sales"], log)
        self.assertNotIn("holds a password", log)
        # A password inside CRM_PG_URL still works, with a warning.
        url = "host=127.0.0.1 port=%d user=crm_sales dbname=crm_sales password='%s'" % (
            self.cluster.port, self.passwords["sales"].replace("\\", "\\\\").replace("'", "\\'"))
        p = subprocess.Popen([probe], env=dict(env, CRM_PG_URL=url, CRM_PG_PASSWORD_FILE=""),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        try:
            for line in p.stdout:
                seen.append(line)
                if '"event":"service.ready"' in line or '"event":"service.exit"' in line:
                    break
        finally:
            p.terminate()
            log = "".join(seen) + p.communicate(timeout=30)[0]
        self.assertIn('"event":"service.ready"', line)
        self.assertIn("holds a password", log)
        self.assertNotIn(self.passwords["sales"], log)

    def assert_no_password(self, pid, svc):
        """The running process's environment holds no password of any
        service (the file's path is fine)."""
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read().decode(errors="replace").split("\0")
        for pw in self.passwords.values():
            for var in environ:
                self.assertNotIn(pw, var, "%s: a password is in its environment" % svc)
        for var in environ:
            self.assertFalse(var.startswith("CRM_PG_PASSWORD="), svc)
            if var.startswith("CRM_PG_URL="):
                self.assertNotIn("password", var, "%s: CRM_PG_URL names a password" % svc)

    # -- programs under the compose environment --

    def native_env(self, name, ports, extra=None):
        """The environment compose gives service `name`, adapted to this
        machine: secrets from our directory, the database on our cluster,
        compose hosts on loopback and every fixed port on a free one. Hosts
        of services compose does not declare stay as they are: they do not
        resolve, as in compose until those services exist."""
        env = environment(self.services[name])

        def endpoint(m):
            host, port = m.group(1), m.group(2)
            if host in ("0.0.0.0", "*"):
                return "tcp://%s:%d" % (host, ports(port))
            if host in self.services:
                return "tcp://127.0.0.1:%d" % ports(port)
            return m.group(0)

        for k, v in env.items():
            if v.startswith("/run/secrets/"):
                v = os.path.join(self.secrets, v[len("/run/secrets/"):])
            if v.startswith(PRINCIPALS):
                v = os.path.join(self.principals, v[len(PRINCIPALS):])
            env[k] = re.sub(r"tcp://([^:/,=]+):(\d+)", endpoint, v)
        if "CRM_HTTP_PORT" in env:
            env["CRM_HTTP_PORT"] = str(ports(env["CRM_HTTP_PORT"]))
        if "CRM_PG_HOST" in env:
            env["CRM_PG_HOST"] = "127.0.0.1"
            env["CRM_PG_PORT"] = str(self.cluster.port)
        env.update(extra or {})
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "PG", "PROBE_"))}
        base["PATH"] = self.path_dir + os.pathsep + os.environ["PATH"]
        base.update(env)
        return base

    def link(self, name, target):
        path = os.path.join(self.path_dir, name)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)

    def start(self, name, env):
        """Runs the service's compose command through the entrypoint, as
        `tini -- crm-entrypoint <command>` would, with stdout and stderr in
        files."""
        cmd = self.services[name]["command"]
        out = open(os.path.join(self.dir, "%s.out" % name), "wb")
        err = open(os.path.join(self.dir, "%s.err" % name), "wb")
        p = subprocess.Popen([self.dockerfile.entrypoint_name] + cmd, env=env, stdout=out,
                             stderr=err)
        p.files = (out, err)
        p.logname = name
        self.addCleanup(self.kill, p)
        return p

    def kill(self, p):
        if p.poll() is None:
            p.kill()
            p.wait()
        for f in p.files:
            f.close()

    def read(self, p, which="out"):
        with open(os.path.join(self.dir, "%s.%s" % (p.logname, which)), errors="replace") as f:
            return f.read()

    def health(self, name, env):
        argv = health_argv(self.services[name])
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)

    def wait_healthy(self, name, env, p):
        hc = self.services[name]["healthcheck"]
        limit = duration_s(hc["start_period"]) + hc["retries"] * duration_s(hc["interval"])

        def healthy():
            if p.poll() is not None:
                raise AssertionError("%s exited with %s while starting:\n%s\n%s" %
                                     (name, p.returncode, self.read(p)[-3000:],
                                      self.read(p, "err")[-2000:]))
            return self.health(name, env).returncode == 0
        wait_for(healthy, limit, "%s healthcheck %s" % (name, health_argv(self.services[name])),
                 interval=0.2)

    def stop(self, name, p):
        grace = duration_s(self.services[name]["stop_grace_period"])
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not exit within its stop_grace_period (%ss) of SIGTERM"
                                 % (name, grace))
        self.assertEqual(rc, 0, "%s exited %s after SIGTERM:\n%s" % (name, rc, self.read(p)[-3000:]))

    def assert_json_log(self, p):
        lines = self.read(p).splitlines()
        self.assertTrue(lines, "%s wrote nothing to stdout" % p.logname)
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                self.fail("%s: stdout line is not JSON: %r" % (p.logname, line))

    def run_bus_and_service(self, program_for_sales, consumes, extra=None):
        ports = PortMap()
        self.link("crm-bus", os.path.join(BIN, "crm-bus"))
        self.link("crm-sales", program_for_sales)
        bus_env = self.native_env("bus", ports)
        self.assertNotEqual(self.health("bus", bus_env).returncode, 0,
                            "bus healthcheck passes with no bus running")
        bus = self.start("bus", bus_env)
        self.wait_healthy("bus", bus_env, bus)

        env = self.native_env("sales", ports, extra)
        self.assertNotEqual(self.health("sales", env).returncode, 0,
                            "sales healthcheck passes with no service running")
        sales = self.start("sales", env)
        self.wait_healthy("sales", env, sales)
        # exec: the process we started is the program, not a shell around it.
        self.assertEqual(os.path.realpath("/proc/%d/exe" % sales.pid),
                         os.path.realpath(program_for_sales))
        self.assert_no_password(sales.pid, "sales")
        # Peers that do not exist yet (their hosts do not resolve): the
        # service stays up and ready, and asks them again for replay.
        absent = [s for s in ("marketing", "support", "analytics") if s not in self.services]
        # Sources it consumes whose services do not exist yet (their hosts do
        # not resolve): the service stays up and ready, and keeps asking them
        # for replay (every 3 s), as its metrics show.
        absent = [s for s in ("marketing", "support", "analytics") if s not in self.services]
        url = "http://127.0.0.1:%s/metrics" % env["CRM_HTTP_PORT"]

        def replays():
            text = urllib.request.urlopen(url, timeout=5).read().decode()
            return {m.group(1): int(m.group(2)) for m in re.finditer(
                r'^crm_consumer_replays_total\{[^}]*source="(\w+)"\} (\d+)$', text, re.M)
                if m.group(1) in absent}
        consumed = replays()
        if consumes:
            self.assertEqual(sorted(consumed), sorted(absent))
        if consumed:
            wait_for(lambda: all(n >= 2 for n in replays().values()), 30,
                     "replay retries towards %s" % ", ".join(sorted(consumed)), interval=0.2)
            self.assertIsNone(sales.poll())
            self.assertEqual(self.health("sales", env).returncode, 0)

        self.stop("sales", sales)
        self.stop("bus", bus)
        self.assert_json_log(sales)
        self.assert_json_log(bus)
        self.assertEqual(self.read(sales, "err"), "")
        return self.read(sales)

    def test_bus_and_probe_as_sales(self):
        """The entrypoint and health check path with crm-probe standing in
        for crm-sales (same environment; it consumes the three other
        services, which do not resolve)."""
        log = self.run_bus_and_service(
            os.path.join(BIN, "crm-probe"), True,
            {"PROBE_NAME": "sales", "PROBE_CONSUME": "crm.marketing.,crm.support.,crm.analytics."})
        self.assertIn('"event":"db.ready"', log)

    def test_every_service(self):
        """Every program of docker-compose.yml at once, started in the order
        depends_on allows, through the entrypoint with its compose
        environment on one PostgreSQL cluster: each becomes healthy, and each
        stops within its stop_grace_period of SIGTERM with JSON logs only."""
        ports = PortMap()
        names = [n for n in self.services if n in self.ours]
        missing = [n for n in names
                   if not os.path.exists(os.path.join(BIN, self.services[n]["command"][0]))]
        if missing:
            self.skipTest("not built yet: %s" % ", ".join(missing))
        order = []
        while len(order) < len(names):
            ready = [n for n in names if n not in order and
                     all(d in order or d not in self.ours
                         for d in (self.services[n].get("depends_on") or {}))]
            self.assertTrue(ready, "depends_on cycle among %s" % names)
            order += ready
        envs, procs = {}, {}
        for name in order:
            prog = self.services[name]["command"][0]
            self.link(prog, os.path.join(BIN, prog))
            envs[name] = self.native_env(name, ports)
            procs[name] = self.start(name, envs[name])
        for name in order:
            self.wait_healthy(name, envs[name], procs[name])
            self.assertEqual(os.path.realpath("/proc/%d/exe" % procs[name].pid),
                             os.path.realpath(os.path.join(BIN, self.services[name]["command"][0])))
            self.assert_no_password(procs[name].pid, name)
        for name in reversed(order):
            self.stop(name, procs[name])
            self.assert_json_log(procs[name])
            self.assertEqual(self.read(procs[name], "err"), "", "%s wrote to stderr" % name)
            if name != "bus":
                self.assertIn('"event":"db.ready"', self.read(procs[name]))
            for pw in self.passwords.values():
                self.assertNotIn(pw, self.read(procs[name]), "%s logged a password" % name)


if __name__ == "__main__":
    unittest.main()
