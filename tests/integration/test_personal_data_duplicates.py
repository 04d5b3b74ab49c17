"""Duplicate findings (issue 14): the record that arrived later is the
suspect and the one with the longer history the original, whatever their
ids; a finding resolved as "not a duplicate" (or "merged") is never raised
again, not after a rescan nor after a rebuild; bad input to
analytics.data_quality.resolve changes nothing; the resolution is an event
naming who resolved it."""
import time
import unittest
import uuid

from crmtest import rpc_pb2, keyring, wait_for
from test_analytics_service import OK, AnalyticsSystem, CallError
from crm.v1 import analytics_pb2 as A, person_pb2, sales_pb2  # noqa: E402

US, DAY = 1_000_000, 86_400_000_000
NOW = int(time.time() * US)
REP = "rita-dq"


def person(pid, name, emails=(), phones=(), created=0):
    return person_pb2.Person(id=pid, name=name, emails=list(emails), phones=list(phones),
                             created_at_us=created, updated_at_us=created)


class DuplicateFindingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        keyring().key(REP, "staff", teams="north", roles="sales-rep")
        cls.a = AnalyticsSystem().start()

    @classmethod
    def tearDownClass(cls):
        cls.a.close()

    def findings(self):
        return [f for f in self.a.report("analytics.report.data_quality")["findings"]
                if f["kind"] == "duplicate"]

    def resolve(self, record, original, resolution, who=None, note=""):
        rq = A.DataQualityResolveRequest(record_id=record, original_id=original,
                                         resolution=resolution, note=note)
        if who is None:
            return self.a.raw("analytics.data_quality.resolve", rq, key=str(uuid.uuid4()))
        c = self.a.sys.client("analytics", who)
        try:
            return c.call_raw("analytics.data_quality.resolve", rq.SerializeToString(),
                              key=str(uuid.uuid4()))
        finally:
            c.close()

    def test_suspect_is_the_later_record_and_a_dismissed_pair_stays_dismissed(self):
        a = self.a
        # The original: a customer of 400 days with orders, whose id sorts
        # last; the suspect arrives today with the same phone and an id
        # that sorts first (the old rule named the greater id).
        orig = "ffffffff-0000-4000-8000-%012x" % uuid.uuid4().int
        suspect = "00000000-0000-4000-8000-%012x" % uuid.uuid4().int
        phone = "+44207946%04d" % (uuid.uuid4().int % 10000)
        a.emit("sales", "crm.sales.person.registered.v1", orig,
               person_registered=sales_pb2.PersonRegistered(person=person(
                   orig, "Olive Original", ["olive@old.example"], [phone], NOW - 400 * DAY)))
        for days in (300, 100):
            a.emit("sales", "crm.sales.order.placed.v1", orig, order_placed=sales_pb2.OrderPlaced(
                order=sales_pb2.Order(id=str(uuid.uuid4()), person_id=orig, total_minor=9000,
                                      currency="EUR", ordered_at_us=NOW - days * DAY)))
        a.emit("marketing", "crm.marketing.person.registered.v1", suspect,
               person_registered=sales_pb2.PersonRegistered(person=person(
                   suspect, "O. Original", ["olive@new.example"], [phone], NOW - 60 * US)))
        a.wait_applied(("sales", "marketing"))
        dups = self.findings()
        self.assertEqual([(f["record_id"], f["detail"]) for f in dups],
                         [(suspect, "likely duplicate of %s (same phone)" % orig)])

        # Bad input changes nothing.
        for rq, code, field in (
                ((suspect, suspect, A.DATA_QUALITY_RESOLUTION_NOT_DUPLICATE),
                 rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, "original_id"),
                ((suspect, orig, A.DATA_QUALITY_RESOLUTION_UNSPECIFIED),
                 rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, "resolution"),
                ((str(uuid.uuid4()), orig, A.DATA_QUALITY_RESOLUTION_NOT_DUPLICATE),
                 rpc_pb2.STATUS_CODE_NOT_FOUND, "record_id"),
                ((suspect, str(uuid.uuid4()), A.DATA_QUALITY_RESOLUTION_MERGED),
                 rpc_pb2.STATUS_CODE_NOT_FOUND, "original_id")):
            rep = self.resolve(*rq)
            self.assertEqual((rep.status.code, rep.status.field), (code, field), rep.status)
        rep = self.resolve(suspect, orig, A.DATA_QUALITY_RESOLUTION_NOT_DUPLICATE, who=REP)
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_PERMISSION_DENIED, rep.status)
        self.assertEqual(a.q("SELECT count(*) FROM an_dq_resolution")[0][0], 0)
        self.assertEqual(len(self.findings()), 1)

        # Dismissed: gone from the report, not published by a scan, an
        # event names who did it; resolving again is refused.
        rep = self.resolve(suspect, orig, A.DATA_QUALITY_RESOLUTION_NOT_DUPLICATE,
                           note="two people, same office line")
        self.assertEqual(rep.status.code, OK, rep.status)
        self.assertEqual(self.findings(), [])
        scan = a.raw("analytics.data_quality.scan", A.DataQualityScanRequest(),
                     key=str(uuid.uuid4()))
        self.assertEqual(scan.status.code, OK)
        ev = [e for e in a.derived("crm.analytics.data_quality.")
              if e.type == "crm.analytics.data_quality.resolved.v1"]
        self.assertEqual([(e.subject, e.actor, e.data_quality_resolved.original_id,
                           e.data_quality_resolved.resolution) for e in ev],
                         [(suspect, "test", orig, A.DATA_QUALITY_RESOLUTION_NOT_DUPLICATE)])
        self.assertFalse([e for e in a.derived("crm.analytics.data_quality.issue_found")
                          if e.data_quality_issue_found.record_id == suspect])
        rep = self.resolve(suspect, orig, A.DATA_QUALITY_RESOLUTION_MERGED)
        self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_ALREADY_EXISTS, rep.status)

        # Not after a rebuild either.
        rep = a.raw("analytics.rebuild", A.RebuildRequest(), key=str(uuid.uuid4()))
        self.assertEqual(rep.status.code, OK, rep.status)
        wait_for(lambda: not a.status().rebuild_in_progress, 60, "the rebuild to finish")
        a.wait_applied(("sales", "marketing"))
        self.assertEqual(self.findings(), [])


if __name__ == "__main__":
    unittest.main()
