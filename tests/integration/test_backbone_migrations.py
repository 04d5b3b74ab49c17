"""Migrations (common/src/migrate.c): numbered ones are applied once;
a repeatable one (R_*.sql) is applied again when its text changed, which
the test stands for by making the recorded checksum stale. crm-analytics is
the service here because its SQL functions live in repeatable migrations,
with probes standing in for the sources it consumes."""
import unittest

from crmtest import System


class MigrationTest(unittest.TestCase):
    def test_repeatable_applied_again_when_changed(self):
        sys = System()
        try:
            sys.start_bus()
            for src in ("sales", "marketing", "support"):
                sys.add_probe(src)
            a = sys.add_service("analytics", "crm-analytics", peers=("sales", "marketing", "support"),
                                start=True)
            db = sys.dbs["analytics"]

            def q(sql, *args):
                return sys.cluster.query(db, sql, *args)
            rows = q("SELECT name, checksum IS NOT NULL FROM crm_schema_migrations"
                     " WHERE scope = 'analytics' ORDER BY name")
            names = [r[0] for r in rows]
            self.assertIn("R_apply.sql", names)
            self.assertIn("R_data_quality.sql", names)
            self.assertLess(names.index("0006_campaign_reasons.sql"), names.index("R_apply.sql"))
            self.assertTrue(all(r[1] for r in rows))
            # A restart with nothing changed applies nothing.
            a.stop()
            a.start()
            self.assertNotIn("applied migration", a.read_log())
            # The function is gone and its checksum is stale (as after an
            # upgrade that changed the file): the next start applies the
            # file again, and only that file.
            a.stop()
            q("DROP FUNCTION an_report_data_quality(timestamptz)")
            q("UPDATE crm_schema_migrations SET checksum = 'stale'"
              " WHERE scope = 'analytics' AND name = 'R_data_quality.sql'")
            a.start()
            log = a.read_log()
            self.assertIn("applied migration analytics/R_data_quality.sql", log)
            self.assertEqual(log.count("applied migration"), 1, log)
            self.assertEqual(q("SELECT count(*) FROM pg_proc WHERE proname = 'an_report_data_quality'"),
                             [(1,)])
            self.assertNotEqual(q("SELECT checksum FROM crm_schema_migrations WHERE scope ="
                                  " 'analytics' AND name = 'R_data_quality.sql'"), [("stale",)])
        finally:
            sys.close()


if __name__ == "__main__":
    unittest.main()
