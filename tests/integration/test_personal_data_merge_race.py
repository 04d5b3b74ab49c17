"""A merge applied beside a write about the dropped person (issue 14's
leftover; docs/architecture.md, "Merge"): marketing and support apply
crm.sales.person.merged.v1 in their people consumer while their commands
and other consumers write in transactions of their own. A write about the
dropped id whose transaction began before the merge committed used to miss
both the alias and the re-pointing and stay on the dropped id (a consent
entry in marketing), or be overwritten by the merge's older copy (an
opt-out in support). The merge guard (common/sql/0008_merge_guard.sql) makes
the merge wait for such a transaction, so the write ends on the survivor.

Each test holds the write in the middle of its transaction with a lock of
its own (the command's idempotency record, the consumer's position), merges
while it is held, waits until the merge has committed or waits on a lock
itself, and lets go: synchronised on the database's lock state, never on
time. A late profile event about the dropped id then follows the conflict
rule (the survivor's set fields win) instead of overwriting the survivor."""
import threading
import unittest
import uuid

import psycopg2

from crmtest import wait_for  # noqa: I100
from personaltest import OFFICER, PersonalDataCase
from test_analytics_service import OK
from crm.v1 import marketing_pb2 as M, person_pb2, sales_pb2  # noqa: E402


class PersonalDataMergeRaceTest(PersonalDataCase):
    def register(self, tag):
        hexid = uuid.uuid4().hex[:8]
        email = "rafa.%s.%s@race.example" % (tag, hexid)
        p = self.call("sales.person.register", sales_pb2.RegisterPersonRequest(
            person=person_pb2.Person(name="Rafa %s %s" % (tag, hexid), emails=[email])),
            sales_pb2.PersonReply).person
        for db in ("marketing", "support"):
            wait_for(lambda: self.q("SELECT count(*) FROM person WHERE id = %s", p.id,
                                    db=db)[0][0] == 1, 20, "%s to know %s" % (db, tag))
        return p.id, email

    def merge(self, keep, drop):
        rep = self.raw("sales.person.merge", sales_pb2.MergePersonRequest(
            keep_id=keep, drop_id=drop, reason="race"), who=OFFICER)
        self.assertEqual(rep.status.code, OK, rep.status)

    def blocker(self, db, sql, *args):
        """A transaction of the test's own on `db` that holds what `sql`
        locks until it is rolled back."""
        c = psycopg2.connect(self.a.sys.cluster.url(self.a.sys.dbs[db]))
        c.cursor().execute(sql, args)
        self.addCleanup(c.close)
        return c

    def waiting(self, db, statement):
        """Whether a backend of `db` running a statement that holds
        `statement` waits on a lock."""
        return self.q("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND wait_event_type = 'Lock' AND strpos(query, %s) > 0", statement,
                      db=db)[0][0] > 0

    def merged(self, db, drop):
        return self.q("SELECT count(*) FROM crm_alias WHERE dropped_id = %s", drop,
                      db=db)[0][0] == 1

    def call_in_thread(self, command, msg):
        """Sends `command` on a client of its own in a thread; join() the
        thread, then read the reply from the returned dict."""
        out = {}

        def run():
            c = self.a.sys.client(command.split(".", 1)[0])
            try:
                out["rep"] = c.call_raw(command, msg.SerializeToString(), timeout=60, attempts=1)
            finally:
                c.close()
        t = threading.Thread(target=run)
        t.start()
        return t, out

    def race(self, db, drop, held, write):
        """Merges while the write (its statement holds `write`) is held in
        its transaction, and lets it go once the merge has committed or
        waits on a lock too."""
        wait_for(lambda: self.waiting(db, write), 20, "the write to wait on the test's lock")
        self.merge(self.keep, drop)
        wait_for(lambda: self.merged(db, drop) or self.waiting(db, "_merge_person("), 20,
                 "%s's merge to commit or wait" % db)
        held.rollback()
        wait_for(lambda: self.merged(db, drop), 20, "%s to apply the merge" % db)

    def test_marketing_consent_beside_the_merge(self):
        self.keep, _ = self.register("keep")
        drop, _ = self.register("drop")
        # The consent grant's transaction has written its entry for the
        # dropped id and waits to write its idempotency record.
        held = self.blocker("marketing", "LOCK TABLE crm_idempotency IN EXCLUSIVE MODE")
        t, out = self.call_in_thread("marketing.consent.grant", M.RecordConsentRequest(
            customer_id=drop, purpose=M.CONSENT_PURPOSE_SMS_MARKETING,
            source=M.CONSENT_SOURCE_FORM, proof="race form"))
        self.race("marketing", drop, held, "crm_idempotency")
        t.join(60)
        self.assertEqual(out["rep"].status.code, OK, out["rep"].status)
        # The entry is the survivor's, as if it had been granted after the merge.
        self.assertEqual(self.q("SELECT count(*) FROM consent WHERE customer_id = %s", drop,
                                db="marketing")[0][0], 0)
        self.assertEqual(self.q("SELECT count(*) FROM consent WHERE customer_id = %s"
                                " AND proof = 'race form'", self.keep, db="marketing")[0][0], 1)
        self.assertEqual(self.q("SELECT count(*) FROM crm_dead_letter", db="marketing")[0][0], 0)

    def test_support_opt_out_beside_the_merge(self):
        self.keep, _ = self.register("keep")
        drop, _ = self.register("drop")
        # Support's preferences consumer has a position row to hold.
        self.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=self.keep,
                                             preferred_channel=M.CHANNEL_EMAIL)),
            M.PreferencesReply)
        wait_for(lambda: self.q("SELECT preferred_channel FROM person WHERE id = %s", self.keep,
                                db="support")[0][0] == "email", 20, "support to apply preferences")
        # The opt-out of the dropped id is applied by support's preferences
        # consumer, which then waits to move its position.
        held = self.blocker("support", "SELECT 1 FROM crm_consumer_position"
                                       " WHERE consumer = 'support.preferences'"
                                       " AND source = 'marketing' FOR UPDATE")
        self.call("marketing.preference.set", M.SetPreferencesRequest(
            preferences=M.ContactPreferences(customer_id=drop, opted_out=[M.CHANNEL_SMS])),
            M.PreferencesReply)
        (opt_out,), = self.q("SELECT max(seq) FROM crm_outbox WHERE subject = %s"
                             " AND type LIKE 'crm.marketing.preferences.%%'", drop, db="marketing")
        self.race("support", drop, held, "crm_position_move(")
        wait_for(lambda: self.q("SELECT seq FROM crm_consumer_position WHERE consumer ="
                                " 'support.preferences'", db="support")[0][0] >= opt_out, 20,
                 "support to apply the opt-out")
        # The survivor keeps the dropped record's opt-out (the union).
        (dnc,), = self.q("SELECT do_not_contact FROM person WHERE id = %s", self.keep,
                         db="support")
        self.assertIn("sms", dnc)
        self.assertEqual(self.q("SELECT count(*) FROM person WHERE id = %s", drop,
                                db="support")[0][0], 0)
        self.assertEqual(self.q("SELECT count(*) FROM crm_dead_letter", db="support")[0][0], 0)

    def test_late_profile_event_follows_the_conflict_rule(self):
        self.keep, k_email = self.register("keep")
        drop, d_email = self.register("drop")
        self.merge(self.keep, drop)
        for db in ("marketing", "support"):
            wait_for(lambda: self.merged(db, drop), 20, "%s to apply the merge" % db)
        mkt = "SELECT name, email FROM person WHERE id = %s"
        sup = "SELECT name, emails FROM person WHERE id = %s"
        kept = {"marketing": self.q(mkt, self.keep, db="marketing"),
                "support": self.q(sup, self.keep, db="support")}
        self.assertEqual(kept["support"][0][1], [k_email, d_email])
        # Marketing and support replay sales' stream from the dropped
        # record's registration (as after a restore): that event, about the
        # dropped id, now comes after the merge and lands on the survivor.
        (registered,), = self.q("SELECT min(seq) FROM crm_outbox WHERE subject = %s", drop,
                                db="sales")
        head = self.q("SELECT head_seq FROM crm_stream", db="sales")[0][0]
        for db in ("marketing", "support"):
            self.svc[db].stop()
            self.q("UPDATE crm_consumer_position SET seq = %s, event_id = NULL"
                   " WHERE consumer = %s AND source = 'sales'", registered - 1, db + ".people",
                   db=db)
            self.svc[db].start()
        for db in ("marketing", "support"):
            wait_for(lambda: self.q("SELECT seq FROM crm_consumer_position WHERE consumer = %s"
                                    " AND source = 'sales'", db + ".people", db=db)[0][0] >= head,
                     30, "%s to replay sales' stream" % db)
        # The survivor's set fields won; the dropped record is not back.
        self.assertEqual(self.q(mkt, self.keep, db="marketing"), kept["marketing"])
        self.assertEqual(self.q(sup, self.keep, db="support"), kept["support"])
        for db in ("marketing", "support"):
            self.assertEqual(self.q("SELECT count(*) FROM person WHERE id = %s", drop,
                                    db=db)[0][0], 0)


if __name__ == "__main__":
    unittest.main()
