"""Database roles (issue 12): each service's database is owned by an owner
role that applies the migrations (CRM_PG_MIGRATE_USER) and worked on by a
runtime role (CRM_PG_URL) that may read and write the rows of its tables
but not change the schema; neither is a superuser nor may create roles or
databases, and neither can connect to another service's database. Shown
with psql as each role, the way an operator would check it, on the set-up
the harness shares with `make run` and compose (crmtest.Cluster.
create_service_db), with crm-sales doing real work as its runtime role."""
import os
import subprocess
import unittest

from crmtest import pg_bindir, wait_for
from test_sales_service import SalesSystem


class DatabaseRolesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = SalesSystem()
        cls.cluster = cls.s.sys.cluster
        cls.db = cls.s.sys.dbs["sales"]
        cls.other = cls.s.sys.dbs["marketing"]  # another service's database
        cls.app, cls.owner = cls.db + "_app", cls.db + "_owner"
        cls.psql_bin = os.path.join(pg_bindir(), "psql")

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def psql(self, role, db, sql):
        """psql as `role` on `db`: (exit status, stdout, stderr)."""
        out = subprocess.run([self.psql_bin, "-X", "-At", "-v", "ON_ERROR_STOP=1",
                              "-d", self.cluster.url(db, role), "-c", sql],
                             capture_output=True, text=True, timeout=30)
        return out.returncode, out.stdout.strip(), out.stderr

    def refused(self, role, db, sql, message):
        rc, out, err = self.psql(role, db, sql)
        self.assertNotEqual(rc, 0, "%s could run %r: %s" % (role, sql, out))
        self.assertIn(message, err)

    def test_the_service_works_as_its_runtime_role(self):
        self.assertEqual(self.s.proc.env["CRM_PG_URL"], self.cluster.url(self.db, self.app))
        log = self.s.proc.read_log(since_start=False)
        self.assertIn("schema migrated as role %s; the service runs as role %s"
                      % (self.owner, self.app), log)
        r = self.s.register("Rosalind Franklin", ["rosalind@example.org"])
        self.assertTrue(r.created)
        self.assertEqual(self.psql(self.app, self.db,
                                   "SELECT count(*) FROM person WHERE id = '%s'" % r.person.id),
                         (0, "1", ""))
        # Every connection the service holds is the runtime role's.
        rows = self.cluster.query("postgres", "SELECT DISTINCT usename FROM pg_stat_activity"
                                  " WHERE datname = %s AND pid <> pg_backend_pid()", self.db)
        self.assertEqual(rows, [(self.app,)])

    def test_the_runtime_role_cannot_change_the_schema(self):
        for sql in ("DROP TABLE person", "DROP TABLE crm_outbox CASCADE",
                    "ALTER TABLE person ADD COLUMN x int", "ALTER TABLE person OWNER TO CURRENT_USER",
                    "CREATE INDEX ON person (name)"):
            self.refused(self.app, self.db, sql, "must be owner of table")
        self.refused(self.app, self.db, "CREATE TRIGGER t BEFORE INSERT ON person FOR EACH ROW"
                     " EXECUTE FUNCTION suppress_redundant_updates_trigger()",
                     "permission denied for table person")
        self.refused(self.app, self.db, "CREATE TABLE x (a int)",
                     "permission denied for schema public")
        self.refused(self.app, self.db, "CREATE TEMP TABLE x (a int)",
                     "permission denied to create temporary tables")
        # Rows: yes.
        self.assertEqual(self.psql(self.app, self.db, "BEGIN; DELETE FROM person; ROLLBACK")[0], 0)
        # Everything in the schema belongs to the owner role; the runtime
        # role owns nothing.
        rc, out, _ = self.psql(self.owner, self.db,
                               "SELECT count(*) FILTER (WHERE tableowner = current_user),"
                               " count(*) FILTER (WHERE tableowner <> current_user)"
                               " FROM pg_tables WHERE schemaname = 'public'")
        owned, others = (int(x) for x in out.split("|"))
        self.assertEqual((rc, others), (0, 0))
        self.assertGreater(owned, 10)
        self.assertEqual(self.psql(self.owner, self.db,
                                   "BEGIN; ALTER TABLE person ADD COLUMN x int; ROLLBACK")[0], 0)

    def test_neither_role_is_privileged(self):
        for role in (self.app, self.owner):
            self.assertEqual(self.psql(role, self.db,
                                       "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication,"
                                       " rolbypassrls FROM pg_roles WHERE rolname = current_user"),
                             (0, "f|f|f|f|f", ""), role)
            self.refused(role, self.db, "CREATE ROLE crm_intruder LOGIN",
                         "permission denied to create role")
            self.refused(role, self.db, "CREATE DATABASE crm_intruder",
                         "permission denied to create database")

    def test_no_role_reaches_another_services_database(self):
        for role in (self.app, self.owner):
            for db in (self.other, "postgres", "template1"):
                self.refused(role, db, "SELECT 1", "permission denied for database")
        # Nor the other way round.
        other_app = self.other + "_app"
        self.refused(other_app, self.db, "SELECT 1", "permission denied for database")
        self.assertEqual(self.psql(other_app, self.other, "SELECT 1"), (0, "1", ""))

    def test_make_run_sets_up_the_same(self):
        """tools/run-local.sh's provisioning (its s_provision function, run
        here on this cluster as `make run` runs it on its own), twice: the
        same roles and rights, and a database of the one-role layout
        (owned by crm_<svc>, as `make run` made it before) handed over to
        the owner role."""
        self.cluster.query("postgres", "CREATE ROLE crm_sales LOGIN")
        self.cluster.query("postgres", "CREATE DATABASE crm_sales OWNER crm_sales")
        rc, _, err = self.psql("crm_sales", "crm_sales", "CREATE TABLE person (id int)")
        self.assertEqual(rc, 0, err)
        root = os.environ.get("CRM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
        with open(os.path.join(root, "tools", "run-local.sh")) as f:
            script = f.read()
        start = script.index("s_provision() {")
        body = script[start:script.index("\n}\n", start) + 3]
        bash = ("set -euo pipefail\nSERVICES=(sales marketing)\n"
                "die() { echo \"$1\" >&2; exit 1; }\nPSQL=%s\n"
                "ADMIN=(-h 127.0.0.1 -p %d -U crm -d postgres)\n%s\ns_provision\ns_provision\n"
                % (self.psql_bin, self.cluster.port, body))
        out = subprocess.run(["bash", "-c", bash], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        for svc in ("sales", "marketing"):
            db, app, owner = "crm_" + svc, "crm_" + svc, "crm_%s_owner" % svc
            for role in (app, owner):
                self.assertEqual(self.psql(role, db, "SELECT rolsuper, rolcreatedb, rolcreaterole"
                                           " FROM pg_roles WHERE rolname = current_user"),
                                 (0, "f|f|f", ""))
            self.assertEqual(self.psql(owner, db, "SELECT pg_get_userbyid(datdba) FROM pg_database"
                                       " WHERE datname = current_database()"), (0, owner, ""))
        self.assertEqual(self.psql("crm_sales_owner", "crm_sales",
                                   "SELECT tableowner FROM pg_tables WHERE tablename = 'person'"),
                         (0, "crm_sales_owner", ""))
        self.refused("crm_sales", "crm_sales", "DROP TABLE person", "must be owner of table")
        for role in ("crm_sales", "crm_sales_owner"):
            self.refused(role, "crm_marketing", "SELECT 1", "permission denied for database")

    def test_runtime_role_alone(self):
        """Without CRM_PG_MIGRATE_USER the runtime role starts on a database
        whose migrations are all applied, changing nothing; on a new one it
        cannot migrate, and says what to set."""
        proc = self.s.proc
        proc.stop()
        proc.env["CRM_PG_MIGRATE_USER"] = ""
        try:
            proc.start()
            self.assertNotIn("applied migration", proc.read_log())
            self.s.c.close()
            self.s.c = self.s.sys.client("sales")
            self.assertTrue(self.s.register("Chien-Shiung Wu").created)
            proc.stop()
            fresh = self.cluster.create_service_db()
            proc.env.update(CRM_PG_URL=self.cluster.url(fresh, fresh + "_app"))
            proc.start(wait_line=None)
            wait_for(lambda: proc.p.poll() is not None, 30, "crm-sales to exit")
            self.assertNotEqual(proc.p.returncode, 0)
            log = proc.read_log()
            self.assertIn('"event":"db.migrate"', log)
            self.assertIn("permission denied for schema public", log)
            self.assertIn("set CRM_PG_MIGRATE_USER", log)
            self.assertEqual(self.cluster.query(fresh, "SELECT count(*) FROM pg_tables"
                                                " WHERE schemaname = 'public'"), [(0,)])
            proc.kill()
        finally:
            proc.env.update(self.cluster.service_env(self.db))
            proc.start()
            self.s.c.close()
            self.s.c = self.s.sys.client("sales")


if __name__ == "__main__":
    unittest.main()
