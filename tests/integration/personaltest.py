"""The system the personal-data tests run against (issue 14): the real
crm-sales, crm-marketing, crm-support and crm-analytics with their peers,
a privacy officer and a sales rep in the key ring, and the calls the tests
make (commands as a principal, SQL in a service's database, crmctl)."""
import os
import unittest
import uuid

from crmtest import CallError, keyring, run_crmctl
from test_analytics_service import OK, AnalyticsSystem

OFFICER, REP = "olga-privacy", "rick-rep"
SOURCES = ("sales", "marketing", "support", "analytics")


class PersonalDataCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        keys = cls.keys = keyring()
        keys.key(OFFICER, "staff", roles="privacy-officer")
        keys.key(REP, "staff", teams="north", roles="sales-rep")
        a = cls.a = AnalyticsSystem(probes=())
        sys = a.sys
        cls.svc = {
            "sales": sys.add_service("sales", "crm-sales", ("marketing", "support", "analytics")),
            "marketing": sys.add_service("marketing", "crm-marketing", ("sales", "support"),
                                         {"MARKETING_SEND_SCAN_MS": "3600000"}),
            "support": sys.add_service("support", "crm-support", ("sales", "marketing"),
                                       {"SUPPORT_SLA_SCAN_MS": "3600000"}),
        }
        for p in cls.svc.values():
            p.start()
        a.start()
        cls.clients = {}

    @classmethod
    def tearDownClass(cls):
        for c in cls.clients.values():
            c.close()
        cls.a.close()

    def client(self, svc, who="test"):
        if (svc, who) not in self.clients:
            self.clients[(svc, who)] = self.a.sys.client(svc, who)
        return self.clients[(svc, who)]

    def raw(self, command, msg, who="test"):
        return self.client(command.split(".", 1)[0], who).call_raw(
            command, msg.SerializeToString(), key=str(uuid.uuid4()))

    def call(self, command, msg, reply_type, who="test"):
        rep = self.raw(command, msg, who)
        if rep.status.code != OK:
            raise CallError(rep.status)
        return reply_type.FromString(rep.body)

    def q(self, sql, *args, db):
        return self.a.q(sql, *args, db=db)

    def heads(self):
        return {s: self.q("SELECT head_seq FROM crm_stream", db=s)[0][0] for s in SOURCES}

    def crmctl(self, *args, rc=0, who=None):
        env = dict(os.environ, CRM_SERVICES=",".join(
            "%s=%s" % (s, self.a.sys.endpoints[s]) for s in SOURCES))
        if who:
            env.update(self.keys.env(who))
        return run_crmctl(self, env, list(args), rc=rc, timeout=60)


class PersonEmailChecks:
    """The checks of a service's person_email (common/sql/0011): mixed into
    a PersonalDataCase whose DB names the service's database."""
    DB = None

    def sq(self, sql, *args):
        return self.q(sql, *args, db=self.DB)

    def assertConsistent(self):
        """person_email is exactly the (email, id) pairs of person.emails,
        erased values left out."""
        rows = set(self.sq("SELECT email, person_id::text FROM person_email"))
        want = set(self.sq("SELECT DISTINCT e, p.id::text FROM person p, unnest(p.emails) e"
                           " WHERE e <> '[erased]'"))
        self.assertEqual(rows - want, set(), "rows of no person's email")
        self.assertEqual(want - rows, set(), "emails missing from person_email")

    def emails_of(self, pid):
        return sorted(r[0] for r in self.sq(
            "SELECT email FROM person_email WHERE person_id = %s", pid))
